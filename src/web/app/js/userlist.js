// The people list: every other user (users/list, paged by "after"), with
// an online dot that presence events keep current. Also the source of
// usernames for message authors.
import { call } from './api.js';
import { userItem } from './views.js';

const PAGE = 1000;
// Past this many users the list shows the first ones only; names of
// others come from the open chat's members.
const MAX_USERS = 5000;

export class UserList {
  constructor(root, onOpen) {
    this.root = root;
    this.onOpen = onOpen;
    this.users = new Map();  // id -> user object
    this.names = new Map();  // id -> username, of anyone met
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
    this.users = new Map(users.map((u) => [u.id, u]));
    for (const u of users) this.names.set(u.id, u.username);
    this.render();
  }

  render() {
    const frag = document.createDocumentFragment();
    for (const u of this.users.values()) frag.append(userItem(u, this.onOpen));
    this.root.replaceChildren(frag);
  }

  presence(userId, online) {
    const u = this.users.get(userId);
    if (!u || u.online === online) return;
    u.online = online;
    const old = this.root.querySelector(`[data-user-id="${userId}"]`);
    if (old) old.replaceWith(userItem(u, this.onOpen));
  }

  name(id) { return this.names.get(id) || `user ${id}`; }
  learn(id, username) { this.names.set(id, username); }
}
