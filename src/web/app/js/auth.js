// The sign-in view: log in or sign up with a username and password
// (API.md 2.7). Success leaves the session in the HttpOnly cookie the
// answer sets; the token in the answer's body is dropped, never stored.
import { call } from './api.js';
import { byTestId, showError } from './views.js';

// wireAuth(onSignedIn): onSignedIn() runs after a login or signup worked.
export function wireAuth(onSignedIn) {
  const form = document.getElementById('auth-form');
  const user = byTestId('auth-username');
  const pass = byTestId('auth-password');
  const error = byTestId('auth-error');
  const go = async (path) => {
    showError(error, null);
    try {
      await call(path, { username: user.value, password: pass.value });
      pass.value = '';
      await onSignedIn();
    } catch (e) {
      showError(error, e);
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); go('/auth/login'); });
  byTestId('auth-signup').addEventListener('click', () => go('/auth/signup'));
}

export function showAuthView(show) {
  document.getElementById('auth-view').hidden = !show;
  document.getElementById('app-view').hidden = show;
  if (show) byTestId('auth-username').focus();
}
