// The chat list: the caller's chats in chats/get order (API.md 2.4: by
// last message, newest first, then chats without messages by creation),
// with unread counts. Live events change the model (this.chats, the
// order) and the entries already rendered; the list is a LazyList, so an
// entry rendered later is made from the model as it is then. Anything this
// module cannot derive (a chat it does not know, a deleted newest message)
// is a reload of chats/get.
import { call, idLess } from './api.js';
import { chatItem } from './views.js';
import { LazyList } from './lazylist.js';

export class ChatList {
  constructor(root, onOpen) {
    this.root = root;
    this.onOpen = onOpen;
    this.chats = new Map();   // id -> chat object of chats/get
    this.partners = new Set();  // ids of the members of private chats
    this.selected = null;
    this.newest = new Map();  // id -> newest message id met in an event
    this.reloadTimer = null;
    this.shown = new WeakMap();  // <li> -> what it shows (see render)
    this.view = new LazyList(root, (id, old) => this.render(id, old), {
      priority: 0,
      onComplete: () => performance.mark('chatd:chat-list-complete', { detail: { chats: this.view.count } }),
    });
  }

  // load() replaces the list with chats/get's answer; the entries that fit
  // in the list's visible area are in the page when it resolves.
  async load() {
    const chats = await call('/chats/get', {});
    this.chats = new Map(chats.map((c) => [c.id, c]));
    this.partners = new Set(chats.filter((c) => c.type === 'private').flatMap((c) => c.users || []));
    this.view.set(chats.map((c) => c.id));
    // The first screenful is in the page (the rest follows, frame by
    // frame, chatd:chat-list-complete when all is): contrib/bench/web
    // times the load by this.
    performance.mark('chatd:chat-list', { detail: { chats: chats.length, rendered: this.view.count } });
  }

  clear() {
    clearTimeout(this.reloadTimer);
    this.chats = new Map();
    this.partners = new Set();
    this.view.clear();
  }

  // render(id, old): old when it still shows the chat as it is now.
  render(id, old) {
    const chat = this.chats.get(id);
    const sig = `${chat.name}\u0000${chat.last_message_at}\u0000${chat.unread}\u0000${id === this.selected}`;
    if (old && this.shown.get(old) === sig) return old;
    const li = chatItem(chat, this.onOpen, id === this.selected);
    this.shown.set(li, sig);
    return li;
  }

  // reloadSoon(): one chats/get for a burst of changes.
  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load().catch(() => {}), 150);
  }

  get(id) { return this.chats.get(id); }

  // isPartner(userId): the caller and the user have a private chat (so
  // the user's presence events reach the caller, API.md 2.13).
  isPartner(userId) { return this.partners.has(userId); }

  update(id, change) {
    const chat = this.chats.get(id);
    if (!chat) return;
    Object.assign(chat, change);
    this.view.refresh(id);
  }

  // message(msg, countsUnread): a new message in a chat of the list: its
  // time, its place at the top, and one more unread when it counts.
  message(msg, countsUnread) {
    const chat = this.chats.get(msg.chat);
    if (!chat) { this.reloadSoon(); return; }
    const n = this.newest.get(msg.chat);
    if (!n || idLess(n, msg.id)) this.newest.set(msg.chat, msg.id);
    this.update(msg.chat, {
      last_message_at: msg.created_at,
      unread: (chat.unread || 0) + (countsUnread ? 1 : 0),
    });
    this.view.moveToFront(msg.chat);
  }

  // read(chatId, marker): the caller's marker moved (here or in another
  // tab): no unread left unless a newer message is known to be there.
  read(chatId, marker) {
    const n = this.newest.get(chatId);
    if (n && idLess(marker, n)) this.reloadSoon();
    else this.update(chatId, { unread: 0 });
  }

  // select(id): mark the open chat's entry (id null: none).
  select(id) {
    const was = this.selected;
    this.selected = id;
    for (const cid of new Set([was, id])) if (cid != null && this.chats.has(cid)) this.view.refresh(cid);
  }
}
