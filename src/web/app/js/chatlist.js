// The chat list: the caller's chats in chats/get order (API.md 2.4: by
// last message, newest first, then chats without messages by creation),
// with unread counts. Live events change single entries in place; anything
// this module cannot derive (a chat it does not know, a deleted newest
// message) is a reload of chats/get.
import { call, idLess } from './api.js';
import { chatItem, fillChatItem } from './views.js';

export class ChatList {
  constructor(root, onOpen) {
    this.root = root;
    this.onOpen = onOpen;
    this.chats = new Map();   // id -> chat object of chats/get
    this.items = new Map();   // id -> its <li>
    this.selected = null;
    this.newest = new Map();  // id -> newest message id met in an event
    this.reloadTimer = null;
  }

  // load() replaces the list with chats/get's answer.
  async load() {
    const chats = await call('/chats/get', {});
    this.chats = new Map(chats.map((c) => [c.id, c]));
    this.items = new Map();
    const frag = document.createDocumentFragment();
    for (const c of chats) {
      const li = chatItem(c, this.onOpen);
      this.items.set(c.id, li);
      frag.append(li);
    }
    this.root.replaceChildren(frag);
    this.select(this.selected);
    // The list is in the page: contrib/bench/web times the load by this.
    performance.mark('chatd:chat-list', { detail: { chats: chats.length } });
  }

  // reloadSoon(): one chats/get for a burst of changes.
  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load().catch(() => {}), 150);
  }

  get(id) { return this.chats.get(id); }

  update(id, change) {
    const chat = this.chats.get(id);
    if (!chat) return;
    Object.assign(chat, change);
    fillChatItem(this.items.get(id), chat, this.onOpen);
    this.select(this.selected);
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
    this.root.prepend(this.items.get(msg.chat));
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
    for (const cid of new Set([this.selected, id])) {
      const li = cid != null && this.items.get(cid);
      if (!li) continue;
      const on = cid === id;
      li.classList.toggle('selected', on);
      const b = li.querySelector('button');
      if (on) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
    }
    this.selected = id;
  }
}
