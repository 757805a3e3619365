// The open chat: its history (newest page first, older pages as the user
// scrolls up, by messages/get "before": API.md 2.5), the composer (Enter
// sends, Shift+Enter is a new line; editing one's own message reuses it),
// attachments (the attach input or a file dropped on the messages: upload,
// then messages/add with the file, API.md 2.11), and the live events of
// this chat. While the chat is open and the page visible, what it shows is
// marked read (chats/read).
import { call, upload, MAX_ID, idLess } from './api.js';
import { byTestId, messageItem, showError } from './views.js';
import { Members } from './members.js';

const PAGE = 50;
const TYPING_SHOWN_MS = 5000;
const TYPING_SEND_MS = 3000;

export class ChatPane {
  // app: {me, users (UserList), chats (ChatList)}
  constructor(app) {
    this.app = app;
    this.list = byTestId('message-list');
    this.title = byTestId('chat-title');
    this.form = document.getElementById('composer-form');
    this.composer = byTestId('composer');
    this.attach = byTestId('attach');
    this.error = document.getElementById('pane-error');
    this.editingNote = document.getElementById('editing');
    this.typingNode = document.getElementById('typing');
    this.members = new Members(app, () => this.chatId);
    this.reset();
    this.wire();
  }

  reset() {
    this.chatId = null;
    this.nodes = new Map();   // message id -> <li>, in the list
    this.first = null;        // lowest id shown
    this.last = null;         // highest id shown
    this.hasOlder = false;
    this.loadingOlder = false;
    this.editing = null;
    this.readSent = null;
    this.typingSent = 0;
    this.generation = (this.generation || 0) + 1;
  }

  wire() {
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.composer.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
      if (e.key === 'Escape' && this.editing) { e.preventDefault(); this.stopEditing(); }
    });
    this.composer.addEventListener('input', () => this.sendTyping());
    document.getElementById('edit-cancel').addEventListener('click', () => this.stopEditing());
    this.attach.addEventListener('change', () => {
      const files = [...this.attach.files];
      this.attach.value = '';
      this.sendFiles(files);
    });
    this.list.addEventListener('scroll', () => {
      if (this.list.scrollTop < 60) this.loadOlder();
    });
    this.list.addEventListener('dragover', (e) => {
      if (!this.chatId || !e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
      e.preventDefault();
      this.list.classList.add('drop');
    });
    this.list.addEventListener('dragleave', () => this.list.classList.remove('drop'));
    this.list.addEventListener('drop', (e) => {
      this.list.classList.remove('drop');
      if (!this.chatId || !e.dataTransfer) return;
      e.preventDefault();
      this.sendFiles([...e.dataTransfer.files]);
    });
    document.addEventListener('visibilitychange', () => this.markRead());
  }

  // open(chatId): show the chat's newest page. Resolves when it is shown.
  async open(chatId) {
    this.reset();
    const gen = this.generation;
    this.chatId = chatId;
    const chat = this.app.chats.get(chatId);
    this.title.textContent = chat ? chat.name : `Chat ${chatId}`;
    this.list.replaceChildren();
    this.form.hidden = false;
    this.composer.value = '';
    this.stopEditing();
    showError(this.error, null);
    this.typingNode.textContent = '';
    try {
      const [msgs] = await Promise.all([
        call('/messages/get', { chat: chatId, limit: PAGE, before: MAX_ID }),
        this.members.load(chat),
      ]);
      if (gen !== this.generation) return;
      this.hasOlder = msgs.length === PAGE;
      this.insert(msgs);
      this.list.scrollTop = this.list.scrollHeight;
      // The newest page is in the page: contrib/bench/web times by this.
      performance.mark('chatd:newest-page', { detail: { chat: chatId, messages: msgs.length } });
      this.markRead();
      this.fill();
    } catch (e) {
      if (gen !== this.generation) return;
      this.form.hidden = true;
      showError(this.error, e);
    }
  }

  close() {
    this.reset();
    this.title.textContent = 'No chat open';
    this.list.replaceChildren();
    this.form.hidden = true;
    this.members.hide();
  }

  // fill(): older pages until the list can scroll (a short first page
  // leaves nothing to scroll up with).
  async fill() {
    while (this.hasOlder && this.list.scrollHeight <= this.list.clientHeight) {
      if (!(await this.loadOlder())) break;
    }
  }

  // loadOlder() resolves to true when it added a page.
  async loadOlder() {
    if (!this.hasOlder || this.loadingOlder || !this.chatId) return false;
    this.loadingOlder = true;
    const gen = this.generation;
    try {
      const msgs = await call('/messages/get', { chat: this.chatId, limit: PAGE, before: this.first });
      if (gen !== this.generation) return false;
      this.hasOlder = msgs.length === PAGE;
      const before = this.list.scrollHeight;
      this.insert(msgs);
      this.list.scrollTop += this.list.scrollHeight - before;
      return msgs.length > 0;
    } catch (e) {
      showError(this.error, e);
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  // insert(msgs): messages put in id order (oldest at the top); ones
  // already shown are replaced.
  insert(msgs) {
    for (const m of msgs) {
      const node = this.render(m);
      const old = this.nodes.get(m.id);
      if (old) { old.replaceWith(node); this.nodes.set(m.id, node); continue; }
      this.nodes.set(m.id, node);
      if (this.last === null || idLess(this.last, m.id)) {
        this.list.append(node);
        this.last = m.id;
      } else {
        // Older than the newest: before the first shown that is newer.
        let next = this.list.firstElementChild;
        while (next && idLess(next.dataset.messageId, m.id)) next = next.nextElementSibling;
        this.list.insertBefore(node, next);
      }
      if (this.first === null || idLess(m.id, this.first)) this.first = m.id;
    }
  }

  render(m) {
    const own = m.author === this.app.me.id;
    return messageItem(m, this.app.users.name(m.author), own, {
      edit: (msg) => this.startEdit(msg),
      remove: (msg) => this.remove(msg),
    });
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  // A live message of this chat.
  added(m) {
    const stick = this.nearBottom() || m.author === this.app.me.id;
    this.insert([m]);
    if (stick) this.list.scrollTop = this.list.scrollHeight;
    if (m.author !== this.app.me.id) this.clearTyping();
    this.markRead();
  }

  edited(m) { if (this.nodes.has(m.id)) this.insert([m]); }

  deleted(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    node.remove();
    this.nodes.delete(id);
    const ids = [...this.nodes.keys()];
    this.first = ids.length ? ids.reduce((a, b) => (idLess(b, a) ? b : a)) : null;
    this.last = ids.length ? ids.reduce((a, b) => (idLess(a, b) ? b : a)) : null;
  }

  // isVisible(): the user can see this chat now (new messages count as read).
  isVisible() { return this.chatId !== null && document.visibilityState === 'visible'; }

  // markRead(): chats/read of the newest message shown, once per id.
  markRead() {
    if (!this.isVisible() || this.last === null) return;
    if (this.readSent !== null && !idLess(this.readSent, this.last)) return;
    const chat = this.chatId, message = this.last;
    this.readSent = message;
    this.app.chats.update(chat, { unread: 0 });
    call('/chats/read', { chat, message }).catch(() => { this.readSent = null; });
  }

  async submit() {
    if (!this.chatId) return;
    const text = this.composer.value;
    if (text.trim() === '') return;
    const chat = this.chatId;
    showError(this.error, null);
    try {
      if (this.editing) {
        const msg = this.editing;
        await call('/messages/edit', { message: msg.id, text });
        this.stopEditing();
      } else {
        this.composer.value = '';
        await call('/messages/add', { chat, text });
      }
      await this.fetchNewer(chat);
    } catch (e) {
      if (!this.editing && this.composer.value === '') this.composer.value = text;
      showError(this.error, e);
    }
  }

  // fetchNewer(chat): what the event stream may not have brought yet
  // (it is offline, or slower than this answer).
  async fetchNewer(chat) {
    if (chat !== this.chatId) return;
    const gen = this.generation;
    const msgs = await call('/messages/get', { chat, limit: PAGE, after: this.last || '0' });
    if (gen !== this.generation) return;
    for (const m of msgs) this.added(m);
  }

  async sendFiles(files) {
    const chat = this.chatId;
    if (!chat) return;
    showError(this.error, null);
    for (const f of files) {
      try {
        const file = await upload(f);
        await call('/messages/add', { chat, file: file.id });
        await this.fetchNewer(chat);
      } catch (e) {
        showError(this.error, e);
      }
    }
  }

  startEdit(msg) {
    this.editing = msg;
    this.editingNote.hidden = false;
    this.composer.value = msg.text;
    this.composer.focus();
  }

  stopEditing() {
    const was = this.editing;
    this.editing = null;
    this.editingNote.hidden = true;
    if (was) this.composer.value = '';
  }

  async remove(msg) {
    showError(this.error, null);
    try {
      await call('/messages/delete', { message: msg.id });
      this.deleted(msg.id);
    } catch (e) {
      showError(this.error, e);
    }
  }

  sendTyping() {
    const now = Date.now();
    if (!this.chatId || this.editing || now - this.typingSent < TYPING_SEND_MS) return;
    this.typingSent = now;
    call('/chats/typing', { chat: this.chatId }).catch(() => {});
  }

  typing(userId) {
    this.typingNode.textContent = `${this.app.users.name(userId)} is typing…`;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.clearTyping(), TYPING_SHOWN_MS);
  }

  clearTyping() { this.typingNode.textContent = ''; }
}
