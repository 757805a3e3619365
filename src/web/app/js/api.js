// The chatd HTTP API as the browser uses it (contrib/doc/API.md).
//
// The session is the HttpOnly chatd_session cookie that /auth/signup and
// /auth/login set (API.md 2.7): this module never sees or stores a token.
// A cookie-authenticated POST must carry Content-Type: application/json,
// which every call here does, uploads included (API.md 2.11).

// ApiError: a non-2xx answer. status is the HTTP status (0: no answer at
// all, the network failed), code the API's "error" field, message its text.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Handlers of a 401 (the session ended elsewhere): set by the app.
let onUnauthorized = null;
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function send(path, init) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin', ...init });
  } catch (e) {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  const text = await res.text();
  let body = null;
  if (text !== '') {
    try { body = JSON.parse(text); } catch (e) {
      // A streamed answer cut short (API.md 1.8) or a front end's page.
      throw new ApiError(res.status || 502, 'bad_response', 'the answer was not valid JSON');
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, body && body.error || 'error',
      body && body.message || `HTTP ${res.status}`);
    if (res.status === 401 && onUnauthorized && !path.startsWith('/auth/log')
        && !path.startsWith('/auth/signup')) onUnauthorized(err);
    throw err;
  }
  return body; // null for 204
}

// call(path, body) resolves to the parsed JSON answer (null for 204) or
// rejects with an ApiError.
export function call(path, body = {}) {
  return send(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

// upload(file) sends the file's raw bytes as the body (not multipart) and
// resolves to the file object {id, name, size, content_type, url, sha256}.
export function upload(file) {
  const name = file.name && file.name.trim() !== '' ? file.name : 'file';
  return send('/files/upload?' + new URLSearchParams({ name }), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: file,
  });
}

// The largest id (2^63 - 1): "before" this is the newest page.
export const MAX_ID = '9223372036854775807';

// idLess(a, b): a < b for decimal id strings of any length.
export function idLess(a, b) {
  return a.length !== b.length ? a.length < b.length : a < b;
}
