// The people list: every other user (users/list, paged by "after"), with
// an online dot. Also the source of usernames for message authors.
//
// The dots of the caller's private-chat partners follow their presence
// events live (API.md 2.13: a partner's first event stream opened, their
// last one closed). Nobody else's presence reaches the caller in an event,
// and neither does a new user: for those, users/list is read again now and
// then (app.js). Once a partner's presence was heard in an event, the
// event is what their dot shows, whatever a later users/list says: its
// "online" also counts a request within the presence window (2.8), which
// would bring back the dot of a partner who has just closed their last
// page. Who is a partner no longer (a private chat left) is users/list's
// again.
import { call } from './api.js';
import { userItem } from './views.js';
import { LazyList } from './lazylist.js';

const PAGE = 1000;
// Past this many users the list shows the first ones only; names of
// others come from the open chat's members.
const MAX_USERS = 5000;

export class UserList {
  // isPartner(id): whether the user's presence events reach the caller.
  constructor(root, onOpen, isPartner) {
    this.root = root;
    this.onOpen = onOpen;
    this.isPartner = isPartner;
    this.users = new Map();  // id -> user object
    this.names = new Map();  // id -> username, of anyone met
    this.heard = new Map();  // id -> online, of the presence events heard
    this.shown = new WeakMap();  // <li> -> what it shows (see render)
    this.view = new LazyList(root, (id, old) => this.render(id, old), { priority: 1 });
  }

  async load() {
    const users = [];
    let after = '0';
    while (users.length < MAX_USERS) {
      const page = await call('/users/list', { limit: PAGE, after });
      users.push(...page);
      if (page.length < PAGE) break;
      after = page[page.length - 1].id;
    }
    for (const u of users) {
      if (this.heard.has(u.id) && this.isPartner(u.id)) u.online = this.heard.get(u.id);
      this.names.set(u.id, u.username);
    }
    this.users = new Map(users.map((u) => [u.id, u]));
    this.view.set(users.map((u) => u.id));
  }

  clear() {
    this.users = new Map();
    this.heard = new Map();
    this.view.clear();
  }

  // forget(): the events heard no longer tell the whole story (the feed
  // lost some: 410); the next load() is believed entirely.
  forget() { this.heard = new Map(); }

  // render(id, old): old when it still shows the user as they are now.
  render(id, old) {
    const u = this.users.get(id);
    const sig = `${u.username}\u0000${u.online}`;
    if (old && this.shown.get(old) === sig) return old;
    const li = userItem(u, this.onOpen);
    this.shown.set(li, sig);
    return li;
  }

  presence(userId, online) {
    this.heard.set(userId, online);
    const u = this.users.get(userId);
    if (!u || u.online === online) return;
    u.online = online;
    this.view.refresh(userId);
  }

  name(id) { return this.names.get(id) || `user ${id}`; }
  learn(id, username) { this.names.set(id, username); }
}
