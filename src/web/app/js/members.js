// The members panel of the open chat (API.md 2.9): shown to the owner of a
// group chat, who removes members (member-remove) and adds any other user
// (member-add: a select of the people list and a button). chats/members
// also tells the names of the chat's authors.
import { call } from './api.js';
import { byTestId, el, showError } from './views.js';

export class Members {
  // app: {me, users, chats}; chatId(): the open chat's id.
  constructor(app, chatId) {
    this.app = app;
    this.chatId = chatId;
    this.panel = document.getElementById('members-panel');
    this.list = byTestId('members');
    this.form = byTestId('member-add');
    this.select = document.getElementById('member-add-user');
    this.error = document.getElementById('pane-error');
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.add(); });
  }

  // load(chat): the members of the open chat; the panel when the caller
  // owns it. A chat the list does not know (yet) is treated as a group.
  async load(chat) {
    const id = this.chatId();
    const members = await call('/chats/members', { chat: id });
    if (id !== this.chatId()) return;
    for (const m of members) this.app.users.learn(m.id, m.username);
    const owner = members.some((m) => m.role === 'owner' && m.id === this.app.me.id);
    const group = !chat || chat.type !== 'private';
    this.panel.hidden = !(owner && group);
    if (this.panel.hidden) return;
    this.list.replaceChildren(...members.map((m) => this.item(m)));
    const inChat = new Set(members.map((m) => m.id));
    this.select.replaceChildren(...[...this.app.users.users.values()]
      .filter((u) => !inChat.has(u.id))
      .map((u) => el('option', { value: u.id }, u.username)));
    this.form.querySelector('button').disabled = this.select.options.length === 0;
  }

  item(m) {
    const self = m.id === this.app.me.id;
    return el('li', { testid: 'member-item', class: 'member-item', data: { userId: m.id } },
      el('span', { class: 'name' }, m.username), m.role === 'owner' ? el('span', { class: 'role' }, ' (owner)') : null,
      self ? null : el('button', { type: 'button', testid: 'member-remove', class: 'link',
        'aria-label': `Remove ${m.username}`, on: { click: () => this.change('/chats/members/remove', m.id) } }, 'Remove'));
  }

  hide() { this.panel.hidden = true; }

  add() {
    if (this.select.value) this.change('/chats/members/add', this.select.value);
  }

  async change(path, user) {
    const chat = this.chatId();
    showError(this.error, null);
    try {
      await call(path, { chat, user });
      await this.load(this.app.chats.get(chat));
    } catch (e) {
      showError(this.error, e);
    }
  }
}
