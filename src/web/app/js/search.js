// Search (API.md 2.12, messages/search): Enter in the search box looks in
// all the caller's chats or, with "this chat" chosen, in the open chat
// alone. A result opens its chat.
import { call } from './api.js';
import { byTestId, el, timeEl } from './views.js';

export function wireSearch(app) {
  const form = document.getElementById('search-form');
  const input = byTestId('search');
  const scope = document.getElementById('search-scope');
  const results = byTestId('search-results');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const query = input.value.trim();
    if (query === '') { results.replaceChildren(); return; }
    const body = { query };
    if (scope.value === 'chat' && app.pane.chatId) body.chat = app.pane.chatId;
    try {
      const found = await call('/messages/search', body);
      results.replaceChildren(...(found.length ? found.map((m) => item(app, m))
        : [el('li', { class: 'empty' }, 'Nothing found')]));
    } catch (err) {
      results.replaceChildren(el('li', { class: 'error', role: 'alert' }, err.message));
    }
  });
}

function item(app, m) {
  const chat = app.chats.get(m.chat);
  return el('li', { testid: 'search-item', class: 'search-item', data: { messageId: m.id, chatId: m.chat } },
    el('button', { type: 'button', class: 'item-button', on: { click: () => app.select(m.chat) } },
      el('span', { class: 'name' }, `${chat ? chat.name : 'chat ' + m.chat} · ${app.users.name(m.author)}`),
      timeEl(m.created_at),
      el('span', { class: 'text' }, m.text || (m.file ? m.file.name : ''))));
}
