// New group chats (API.md 2.2 with a session: the caller owns the chat and
// is its first member; members are added afterwards from the members panel).
import { call } from './api.js';
import { byTestId, showError } from './views.js';

export function wireGroupForm(app) {
  const toggle = byTestId('new-group');
  const form = document.getElementById('group-form');
  const name = byTestId('group-name');
  const error = document.getElementById('pane-error');
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    toggle.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) name.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (name.value.trim() === '') return;
    showError(error, null);
    try {
      const { id } = await call('/chats/add', { name: name.value, users: [] });
      name.value = '';
      form.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      await app.chats.load();
      await app.select(id);
    } catch (err) {
      showError(error, err);
    }
  });
}
