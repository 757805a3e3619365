// check.mjs live: one request per endpoint for its success and one or two
// of its errors, against a running stack at url, and each answer's status
// and body validated against the document's schema for that status.
import { request } from 'node:http';
import { ok, responseSchema, schemas } from './check.mjs';

// upgrade(url, headers) -> the status of a WebSocket handshake (101 when
// the server switched protocols); the socket is closed at once.
function upgrade(url, headers = {}) {
	return new Promise((resolve, reject) => {
		const req = request(url, { headers: { Connection: 'Upgrade', Upgrade: 'websocket',
			'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', ...headers } });
		req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
		req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
		req.on('error', reject);
		req.setTimeout(10000, () => req.destroy(new Error('no answer in 10 s')));
		req.end();
	});
}

// The smallest PNG: a 1x1 image (its signature is what chatd sniffs).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

export async function live(doc, url) {
	const ajv = schemas(doc);
	const seen = new Set();
	const run = Date.now().toString(36);

	// call(op, status, path, init) -> the parsed body (or null): sends
	// the request, checks that the status is `status` and documented for
	// the operation op ("POST /users/add"), and validates the body.
	async function call(op, status, path, init = {}) {
		const [method, docPath] = op.split(' ');
		const res = await fetch(url + path, { method, redirect: 'manual', ...init });
		const text = await res.text();
		const name = `${op} ${status}${init.what ? ` (${init.what})` : ''}`;
		if (!ok(`${name}: status`, res.status === status, `got ${res.status}: ${text.slice(0, 200)}`)) return null;
		const responses = doc.paths[docPath]?.[method.toLowerCase()]?.responses;
		if (!ok(`${name}: documented`, responses && String(status) in responses)) return null;
		seen.add(op);
		const id = responseSchema(doc, method, docPath, status);
		if (init.method === 'HEAD') return null;	// the headers alone
		if (id === null) {
			ok(`${name}: no JSON body is documented, none checked`, status !== 204 || text === '', `a 204 with a body: ${text}`);
			return null;
		}
		let body;
		try { body = JSON.parse(text); } catch (e) { return ok(`${name}: body is JSON`, false, text.slice(0, 200)), null; }
		const v = ajv.getSchema(id);
		ok(`${name}: body validates`, v(body), JSON.stringify(v.errors) + ' in ' + text.slice(0, 300));
		return body;
	}
	const post = (token, body, headers = {}) => ({
		headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
		body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
	});
	const P = (op) => `POST ${op}`;

	await call('GET /health', 200, '/health');
	await call('GET /health', 405, '/health', { method: 'POST', what: 'POST' });

	const a = await call(P('/auth/signup'), 201, '/auth/signup', post(null, { username: `alice-${run}`, password: 'password-alice' }));
	const b = await call(P('/auth/signup'), 201, '/auth/signup', post(null, { username: `bob-${run}`, password: 'password-bob' }));
	if (!a || !b) return;
	const A = a.token, B = b.token;
	await call(P('/auth/signup'), 409, '/auth/signup', post(null, { username: `alice-${run}`, password: 'password-alice' }));
	await call(P('/auth/signup'), 400, '/auth/signup', post(null, { username: `carol-${run}`, password: 'short' }));
	await call(P('/auth/login'), 200, '/auth/login', post(null, { username: `alice-${run}`, password: 'password-alice' }));
	await call(P('/auth/login'), 401, '/auth/login', post(null, { username: `alice-${run}`, password: 'wrong-password' }));

	const u = await call(P('/users/add'), 201, '/users/add', post(null, { username: `dave-${run}` }));
	await call(P('/users/add'), 409, '/users/add', post(null, { username: `dave-${run}` }));
	await call(P('/users/add'), 400, '/users/add', post(null, {}));
	await call(P('/users/add'), 413, '/users/add', post(null, JSON.stringify({ username: 'x'.repeat(2 << 20) })));
	await call(P('/users/me'), 200, '/users/me', post(A, {}));
	await call(P('/users/me'), 401, '/users/me', post(null, {}));
	await call(P('/users/me'), 403, '/users/me', post(null, '{}', { Cookie: `chatd_session=${A}`, 'Content-Type': 'text/plain' }));
	await call(P('/users/list'), 200, '/users/list', post(A, {}));
	await call(P('/users/list'), 400, '/users/list', post(A, { status: 'asleep' }));

	const dm = await call(P('/chats/direct'), 201, '/chats/direct', post(A, { user: b.id }));
	await call(P('/chats/direct'), 200, '/chats/direct', post(A, { user: b.id }));
	await call(P('/chats/direct'), 400, '/chats/direct', post(A, { user: a.id }));
	await call(P('/chats/direct'), 404, '/chats/direct', post(A, { user: '999999999' }));
	const g = await call(P('/chats/add'), 201, '/chats/add', post(A, { name: `group-${run}`, users: [b.id] }));
	await call(P('/chats/add'), 409, '/chats/add', post(A, { name: `group-${run}`, users: [] }));
	await call(P('/chats/add'), 404, '/chats/add', post(A, { name: `none-${run}`, users: ['999999999'] }));
	await call(P('/chats/get'), 200, '/chats/get', post(A, {}));
	await call(P('/chats/get'), 403, '/chats/get', post(A, { user: b.id }));
	await call(P('/chats/get'), 404, '/chats/get', post(null, { user: '999999999' }));
	if (!dm || !g || !u) return;

	const m = await call(P('/messages/add'), 201, '/messages/add', post(A, { chat: g.id, text: 'hello openapi' }, { 'Idempotency-Key': `k-${run}` }));
	await call(P('/messages/add'), 422, '/messages/add', post(A, { chat: g.id, text: 'another text' }, { 'Idempotency-Key': `k-${run}` }));
	await call(P('/messages/add'), 404, '/messages/add', post(A, { chat: '999999999', text: 'x' }));
	await call(P('/messages/add'), 403, '/messages/add', post(null, { chat: g.id, author: u.id, text: 'x' }));
	await call(P('/messages/get'), 200, '/messages/get', post(A, { chat: g.id }));
	await call(P('/messages/get'), 400, '/messages/get', post(A, {}));
	await call(P('/chats/members'), 200, '/chats/members', post(A, { chat: g.id }));
	await call(P('/chats/members'), 404, '/chats/members', post(A, { chat: '999999999' }));
	await call(P('/chats/members/add'), 204, '/chats/members/add', post(A, { chat: g.id, user: u.id }));
	await call(P('/chats/members/add'), 409, '/chats/members/add', post(A, { chat: dm.id, user: u.id }));
	await call(P('/chats/members/add'), 403, '/chats/members/add', post(B, { chat: g.id, user: u.id }));
	await call(P('/chats/members/remove'), 204, '/chats/members/remove', post(A, { chat: g.id, user: u.id }));
	await call(P('/chats/members/remove'), 404, '/chats/members/remove', post(A, { chat: g.id, user: u.id }));
	if (!m) return;
	await call(P('/chats/read'), 204, '/chats/read', post(B, { chat: g.id, message: m.id }));
	await call(P('/chats/read'), 400, '/chats/read', post(B, { chat: g.id, message: '999999999' }));
	await call(P('/chats/typing'), 204, '/chats/typing', post(A, { chat: g.id }));
	await call(P('/chats/typing'), 404, '/chats/typing', post(A, { chat: '999999999' }));
	await call(P('/messages/send'), 201, '/messages/send', post(B, { to: a.id, text: 'hi alice' }));
	await call(P('/messages/send'), 400, '/messages/send', post(B, { to: b.id, text: 'me' }));
	await call(P('/messages/broadcast'), 201, '/messages/broadcast', post(A, { text: 'to everyone' }));
	await call(P('/messages/broadcast'), 400, '/messages/broadcast', post(A, {}));

	const f = await call(P('/files/upload'), 201, '/files/upload?name=dot.png', post(A, PNG, { 'Content-Type': 'application/octet-stream' }));
	await call(P('/files/upload'), 400, '/files/upload', post(A, PNG));
	if (f) {
		await call(P('/messages/add'), 201, '/messages/add', { ...post(A, { chat: g.id, file: f.id }), what: 'with a file' });
		await call('GET /files/{id}/{name}', 200, f.url, { headers: { Authorization: `Bearer ${B}` } });
		await call(P('/users/avatar'), 200, '/users/avatar', post(A, { file: f.id }));
	}
	await call('GET /files/{id}/{name}', 404, '/files/999999999/x.png', { headers: { Authorization: `Bearer ${B}` } });
	await call('GET /files/{id}/{name}', 401, '/files/1/x.png');
	await call(P('/users/avatar'), 404, '/users/avatar', post(A, { file: '999999999' }));

	await call(P('/messages/edit'), 204, '/messages/edit', post(A, { message: m.id, text: 'hello, edited' }));
	await call(P('/messages/edit'), 403, '/messages/edit', post(B, { message: m.id, text: 'not mine' }));
	await call(P('/messages/search'), 200, '/messages/search', post(B, { query: 'edited' }));
	await call(P('/messages/search'), 400, '/messages/search', post(B, { query: '!!!' }));
	await call(P('/events/get'), 200, '/events/get', post(B, {}));
	await call(P('/events/get'), 400, '/events/get', post(B, { after: 'abc' }));
	await call(P('/messages/delete'), 204, '/messages/delete', post(A, { message: m.id }));
	await call(P('/messages/delete'), 404, '/messages/delete', post(A, { message: m.id }));

	await call('GET /events', 401, '/events');
	await call('GET /events', 400, '/events', { headers: { Authorization: `Bearer ${A}`, 'If-None-Match': '1' } });
	await call('GET /events', 405, '/events', { method: 'HEAD', headers: { Authorization: `Bearer ${A}` } });
	await call('GET /ws', 400, '/ws');
	// The handshakes: nchan holds these connections; only the status is
	// the document's (101 has no body).
	for (const [op, path, headers] of [['GET /ws', '/ws', {}], ['GET /events', '/events', { Authorization: `Bearer ${A}` }]]) {
		const st = await upgrade(url + path, headers);
		if (ok(`${op} 101 (WebSocket handshake): status`, st === 101, `got ${st}`) &&
		    ok(`${op} 101: documented`, '101' in doc.paths[path].get.responses)) seen.add(op);
	}
	{
		const ac = new AbortController();
		const res = await fetch(url + '/events', { headers: { Authorization: `Bearer ${A}`, Accept: 'text/event-stream' }, signal: ac.signal });
		const type = res.headers.get('content-type') || '';
		ac.abort();
		ok('GET /events 200 (EventSource): status and type', res.status === 200 && type.startsWith('text/event-stream'), `got ${res.status} ${type}`);
		ok('GET /events 200: documented as text/event-stream', 'text/event-stream' in (doc.paths['/events'].get.responses['200'].content || {}));
	}

	await call(P('/auth/sessions'), 200, '/auth/sessions', post(A, {}));
	await call(P('/auth/password'), 401, '/auth/password', post(A, { password: 'not-the-password', new_password: 'password-alice-2' }));
	await call(P('/auth/password'), 204, '/auth/password', post(A, { password: 'password-alice', new_password: 'password-alice-2' }));
	await call(P('/auth/logout'), 204, '/auth/logout', post(B, {}));
	await call(P('/auth/logout'), 401, '/auth/logout', post(B, {}));
	await call(P('/auth/logout_all'), 204, '/auth/logout_all', post(A, {}));

	// Every operation was answered at least once as the document says.
	const all = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
	const missing = all.filter((o) => !seen.has(o));
	ok(`every one of the ${all.length} operations has a sample`, missing.length === 0, `none for ${missing.join(', ')}`);
}
