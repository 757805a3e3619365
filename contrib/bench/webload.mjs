// contrib/bench/webload.mjs — the web client's page loads in headless
// Chromium against the same API calls alone, for contrib/bench/web (which
// starts the stack, loads the data and makes the sessions).
//
//   node contrib/bench/webload.mjs URL ROUNDS LIST_CHATS CHAT_ID
//
// Environment: WEB_LIST_TOKEN (a session of the user in LIST_CHATS chats),
// WEB_CHAT_TOKEN (a session of a member of chat CHAT_ID), CHATD_CHROMIUM
// (default /usr/bin/chromium), CHATD_SRCDIR (the source tree, whose
// tests/browser/node_modules holds playwright-core).
//
// Each round, for each of the two loads (/ for the list user, /chat/CHAT_ID
// for the member): a new browser context (empty cache, the session cookie
// chatd_session set), the page loaded until the web client's own mark
// (chatd:chat-list: the first screenful of chats is in the DOM, the rest
// comes frame by frame until chatd:chat-list-complete, which is waited for
// too; chatd:newest-page: the newest page of messages is) and the frame
// after it; then, in the same round, the API call the page makes for
// it (chats/get; messages/get of the newest page) alone, from Node's fetch
// with the same cookie, after one untimed call of the same. Times are from
// the navigation start (performance.timeOrigin) for the page and from the
// call to the last byte of the body for the API alone.
//
// Every load is checked: the page must show what the API answers (at the
// list's mark, the first chats in chats/get's order filling the list's
// visible area, each in sight clickable; at its complete mark, every chat
// in that order; the newest page's newest message and its size), or the
// run fails (exit 1); a load that never shows it fails
// within WAIT_MS. Timings are measured and printed, never judged.
//
// Output: Markdown on stdout (the tables, medians over the rounds), one
// line per load on stderr.
import { createRequire } from 'node:module';
import path from 'node:path';

const WAIT_MS = 120000;
const MAX_ID = '9223372036854775807';
const PAGE = 50;   // src/web/app/js/chat.js's page of messages/get

const [url, roundsArg, listChatsArg, chatId] = process.argv.slice(2);
const rounds = Number(roundsArg);
const listChats = Number(listChatsArg);
const listToken = process.env.WEB_LIST_TOKEN;
const chatToken = process.env.WEB_CHAT_TOKEN;
if (!url || !(rounds > 0) || !(listChats > 0) || !/^[0-9]+$/.test(chatId || '') || !listToken || !chatToken) {
	console.error('usage: WEB_LIST_TOKEN=... WEB_CHAT_TOKEN=... node webload.mjs URL ROUNDS LIST_CHATS CHAT_ID');
	process.exit(2);
}
const srcdir = process.env.CHATD_SRCDIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(srcdir, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');
const pwVersion = require('playwright-core/package.json').version;
const { chatListNow } = await import(path.join(srcdir, 'tests/browser/usable.mjs'));

let failures = 0;
function check(cond, what) {
	if (!cond) {
		console.error(`webload: FAILED: ${what}`);
		failures++;
	}
	return cond;
}

// api(token, path, body): [ms from the call to the body's last byte, the
// parsed answer, the body's bytes].
async function api(token, p, body) {
	const t0 = performance.now();
	const res = await fetch(url + p, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Cookie: `chatd_session=${token}` },
		body: JSON.stringify(body),
	});
	const buf = Buffer.from(await res.arrayBuffer());
	const ms = performance.now() - t0;
	if (res.status !== 200) throw new Error(`${p} answered ${res.status}: ${buf.toString().slice(0, 200)}`);
	return [ms, JSON.parse(buf.toString()), buf.length];
}

// Installed before the page's scripts: the time of the first frame after
// each of the page's chatd:* marks (requestAnimationFrame runs before that
// frame is drawn; a message posted from it arrives after), and, once that
// time is taken, what the chat list then shows (__chatdList: chatListNow()
// of tests/browser/usable.mjs, installed as window.__chatdListNow). Long
// tasks (50 ms or more) go to __chatdLong.
function watchMarks() {
	window.__chatdShown = {};
	window.__chatdLong = [];
	new PerformanceObserver((list) => {
		for (const e of list.getEntries()) {
			if (!e.name.startsWith('chatd:') || e.name in window.__chatdShown) continue;
			window.__chatdShown[e.name] = null;
			requestAnimationFrame(() => {
				const ch = new MessageChannel();
				ch.port1.onmessage = () => {
					window.__chatdShown[e.name] = performance.now();
					if (e.name === 'chatd:chat-list') window.__chatdList = window.__chatdListNow();
				};
				ch.port2.postMessage(0);
			});
		}
	}).observe({ type: 'mark', buffered: true });
	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) window.__chatdLong.push({ start: e.startTime, ms: e.duration });
		}).observe({ type: 'longtask', buffered: true });
	} catch (e) { /* no long task timing: none reported */ }
}

const kindOf = (req) => {
	const t = req.resourceType();
	if (t === 'fetch' || t === 'xhr') return 'api';
	return t;   // document, stylesheet, script, eventsource, image, ...
};

// load(browser, token, path, mark, then): one cold page load until MARK's
// frame, then until THEN's (a later mark, or null). Resolves to {shownMs,
// markMs, thenMs (THEN's frame), dclMs, list (__chatdList), long (the
// long tasks), api: {path: {start, end}} of the first call of each path,
// requests: [{kind, path, received, body}], page}.
async function load(browser, token, p, mark, then) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	await context.addCookies([{ name: 'chatd_session', value: token, url }]);
	await context.addInitScript({ content: `window.__chatdListNow = ${chatListNow.toString()};` });
	await context.addInitScript(watchMarks);
	const page = await context.newPage();
	const problems = [];
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
	const pending = new Set();
	const finished = [];
	page.on('request', (q) => { if (kindOf(q) !== 'eventsource') pending.add(q); });
	const done = (q) => { if (pending.delete(q)) finished.push(q); };
	page.on('requestfinished', done);
	page.on('requestfailed', (q) => { pending.delete(q); problems.push(`request failed: ${q.url()}`); });
	await page.goto(url + p, { waitUntil: 'commit' });
	for (const m of [mark, then].filter(Boolean))
		await page.waitForFunction((m) => window.__chatdShown && window.__chatdShown[m] != null, m,
			{ timeout: WAIT_MS, polling: 50 });
	// The requests of the load: every one the page has made by now, ended.
	for (const end = Date.now() + 15000; pending.size && Date.now() < end;)
		await new Promise((r) => setTimeout(r, 50));
	check(pending.size === 0, `${p}: ${pending.size} request(s) still open 15 s after the mark`);
	const t = await page.evaluate(([m, then]) => {
		const nav = performance.getEntriesByType('navigation')[0];
		const api = {};
		const calls = [];
		for (const r of performance.getEntriesByType('resource')) {
			const q = new URL(r.name).pathname;
			if (r.initiatorType !== 'fetch') continue;
			if (!(q in api)) api[q] = { start: r.startTime, end: r.responseEnd };
			calls.push({ path: q, start: r.startTime, end: r.responseEnd, bytes: r.encodedBodySize });
		}
		return {
			shownMs: window.__chatdShown[m],
			markMs: performance.getEntriesByName(m)[0].startTime,
			thenMs: then ? window.__chatdShown[then] : null,
			dclMs: nav.domContentLoadedEventEnd,
			list: window.__chatdList || null,
			long: window.__chatdLong,
			api,
			calls,
		};
	}, [mark, then]);
	t.requests = [];
	for (const q of finished) {
		const s = await q.sizes();
		t.requests.push({ kind: kindOf(q), path: new URL(q.url()).pathname,
			received: s.responseHeadersSize + s.responseBodySize, body: s.responseBodySize });
	}
	t.problems = problems;
	t.page = page;
	t.context = context;
	return t;
}

const median = (xs) => {
	const v = [...xs].sort((a, b) => a - b);
	const n = v.length;
	return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};
const f0 = (x) => (x == null ? '—' : Math.round(x).toLocaleString('en-US'));
const f1 = (x) => (x == null ? '—' : x.toFixed(1));
const f2 = (x) => (x == null ? '—' : x.toFixed(2));

const browser = await chromium.launch({
	executablePath: process.env.CHATD_CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox'],
});
const chromiumVersion = browser.version();

// The two loads: what the page is waited for, and what it must show.
const loads = {
	list: {
		title: `the chat list of a user in ${listChats.toLocaleString('en-US')} chats`,
		token: listToken, path: '/', mark: 'chatd:chat-list', then: 'chatd:chat-list-complete',
		apiPath: '/chats/get', apiBody: {},
		// Usable at the mark's frame: the items then in the DOM are the
		// first of chats/get, in its order, they fill the list's visible
		// area (or are all of it), and a click at the middle of each one in
		// sight lands on its button. Complete at the later mark's frame:
		// every chat, in chats/get's order.
		async verify(t, answer) {
			check(answer.length === listChats, `chats/get answers ${answer.length} chats, not ${listChats}`);
			const u = t.list;
			if (check(u, 'no chat list at the mark\'s frame')) {
				const bad = u.ids.findIndex((id, i) => !answer[i] || answer[i].id !== id);
				check(bad < 0, `at the mark's frame, item ${bad} is chat ${u.ids[bad]}, chats/get's is ${answer[bad] && answer[bad].id}`);
				check(u.filled || u.ids.length === answer.length, `at the mark's frame the ${u.ids.length} items do not fill the list's visible area`);
				check(u.missed === 0, `at the mark's frame a click at the middle of ${u.missed} item(s) in sight lands on no button of theirs`);
			}
			const ids = await t.page.locator('[data-testid="chat-item"]').evaluateAll((els) => els.map((e) => e.dataset.chatId));
			check(ids.length === answer.length, `the complete list shows ${ids.length} chat items, chats/get answers ${answer.length}`);
			const off = answer.findIndex((c, i) => ids[i] !== c.id);
			check(off < 0, `item ${off} of the complete list is chat ${ids[off]}, chats/get's is ${answer[off] && answer[off].id}`);
			return `${u ? u.ids.length : '?'} items (${u ? u.inSight : '?'} in sight) at the mark, ${ids.length} at the end`;
		},
	},
	chat: {
		title: `the newest page of chat ${chatId}`,
		token: chatToken, path: `/chat/${chatId}`, mark: 'chatd:newest-page',
		apiPath: '/messages/get', apiBody: { chat: chatId, limit: PAGE, before: MAX_ID },
		async verify(t, answer) {
			check(answer.length === PAGE, `messages/get answers ${answer.length} messages, not ${PAGE}`);
			const ids = await t.page.locator('[data-testid="message"]').evaluateAll((els) => els.map((e) => e.dataset.messageId));
			check(ids.length >= answer.length, `the page shows ${ids.length} messages, fewer than the ${answer.length} of messages/get`);
			check(ids[ids.length - 1] === answer[answer.length - 1].id,
				`the page's newest message is ${ids[ids.length - 1]}, messages/get's ${answer[answer.length - 1].id}`);
			return `${ids.length} messages`;
		},
	},
};

const res = { list: [], chat: [] };
for (const [name, L] of Object.entries(loads)) await api(L.token, L.apiPath, L.apiBody);   // untimed
for (let r = 1; r <= rounds; r++) {
	for (const [name, L] of Object.entries(loads)) {
		let t;
		try {
			t = await load(browser, L.token, L.path, L.mark, L.then);
		} catch (e) {
			check(false, `round ${r}, ${L.path}: ${String(e.message || e).split('\n')[0]}`);
			continue;
		}
		const [apiMs, answer, apiBytes] = await api(L.token, L.apiPath, L.apiBody);
		const shown = await L.verify(t, answer);
		for (const p of t.problems) check(false, `round ${r}, ${L.path}: ${p}`);
		await t.context.close();
		delete t.page;
		delete t.context;
		t.apiMs = apiMs;
		t.apiBytes = apiBytes;
		res[name].push(t);
		console.error(`webload: round ${r} ${L.path}: shown at ${f0(t.shownMs)} ms (mark ${f0(t.markMs)}), ` +
			`${L.apiPath} alone ${f1(t.apiMs)} ms; ${shown}, ${t.requests.length} requests`);
	}
}
await browser.close();

// --- the tables ------------------------------------------------------------

const out = [];
const row = (...c) => out.push(`| ${c.join(' | ')} |`);
const head = (...c) => { row(...c); row(...c.map(() => '---')); };

out.push(`Chromium ${chromiumVersion} (headless, driven by playwright-core ${pwVersion}), Node.js ${process.version}; ${rounds} round(s), medians.`);
out.push('');
out.push('## Time to a usable page');
out.push('');
out.push('Each round a cold load (a new browser context: empty cache, new connections) of the page, from its navigation start until the first frame after the web client\'s own mark: `chatd:chat-list` when the chat list is usable, `chatd:newest-page` when the newest page of messages/get is in the DOM; against, in the same round, the one API call that page waits for, alone (Node.js fetch, the same cookie, a kept-alive connection). **A usable chat list** is checked at that frame, every round: the items in the DOM are the first of chats/get, in its order; they fill the list\'s visible area (or are the whole list); and a click at the middle of each item in sight lands on that item\'s button. The rest of the list is rendered after it, a slice per frame (next table). "× API" is the median of the rounds\' ratios (page ÷ API alone). The page\'s own call: when it started and ended, from the navigation start (resource timing), so that what the page waits for before its call shows.');
out.push('');
head('load', 'page shown ms', 'mark ms', 'DOMContentLoaded ms', 'API alone ms', '× API', 'the page\'s own call: start – end ms', 'rounds: page / API ms');
for (const [name, L] of Object.entries(loads)) {
	const v = res[name];
	if (!v.length) { row(L.title, '—', '—', '—', '—', '—', '—', 'no round succeeded'); continue; }
	const own = v.map((t) => t.api[L.apiPath]).filter(Boolean);
	row(`${L.title}: \`GET ${L.path}\` against \`${L.apiPath}\``,
		f0(median(v.map((t) => t.shownMs))), f0(median(v.map((t) => t.markMs))), f0(median(v.map((t) => t.dclMs))),
		f1(median(v.map((t) => t.apiMs))), f1(median(v.map((t) => t.shownMs / t.apiMs))),
		own.length ? `${f0(median(own.map((a) => a.start)))} – ${f0(median(own.map((a) => a.end)))}` : '—',
		v.map((t) => `${f0(t.shownMs)} / ${f1(t.apiMs)}`).join(', '));
}
out.push('');
out.push('## The rest of the chat list');
out.push('');
out.push('The same loads of `GET /`: how many chat items were in the DOM at the usable frame (and how many of them in sight), the first frame after `chatd:chat-list-complete` (every chat of chats/get in the DOM, in its order: checked each round), and the main thread\'s long tasks (50 ms or more, Long Tasks API) from the usable frame to the complete one: a task that long delays a click or a key by as much.');
out.push('');
head('load', 'items at the usable frame (in sight)', 'usable ms', 'complete ms', 'long tasks between', 'longest between ms', 'longest before usable ms');
{
	const v = res.list;
	if (v.length) {
		const between = (t) => t.long.filter((x) => x.start >= t.shownMs && x.start < t.thenMs);
		const before = (t) => t.long.filter((x) => x.start < t.shownMs);
		const longest = (xs) => xs.reduce((m, x) => Math.max(m, x.ms), 0);
		row(`\`GET ${loads.list.path}\``,
			`${f0(median(v.map((t) => t.list ? t.list.ids.length : 0)))} (${f0(median(v.map((t) => t.list ? t.list.inSight : 0)))})`,
			f0(median(v.map((t) => t.shownMs))), f0(median(v.map((t) => t.thenMs))),
			f0(median(v.map((t) => between(t).length))), f0(median(v.map((t) => longest(between(t))))),
			f0(median(v.map((t) => longest(before(t))))));
	}
}
out.push('');
out.push('## Transferred bytes');
out.push('');
out.push('Every request of one cold load that had ended when the page was shown or soon after (the page\'s requests are waited for, up to 15 s): bytes received, headers and body as sent on the wire (playwright\'s request sizes; nginx compresses nothing, so body bytes are the files\' and answers\' own sizes). The event stream (`GET /events`, held open) is left out. Against: the body of the same API call alone. The first round\'s load (every round is cold; the counts are the same each round, the API answers nearly so).');
out.push('');
head('load', 'kind', 'requests', 'received bytes', 'of which bodies', 'what');
for (const [name, L] of Object.entries(loads)) {
	const t = res[name][0];
	if (!t) continue;
	const kinds = new Map();
	for (const q of t.requests) {
		const k = kinds.get(q.kind) || { n: 0, received: 0, body: 0, paths: new Map() };
		k.n++;
		k.received += q.received;
		k.body += q.body;
		k.paths.set(q.path, (k.paths.get(q.path) || 0) + 1);
		kinds.set(q.kind, k);
	}
	let total = 0, totalBody = 0, n = 0;
	for (const [kind, k] of [...kinds].sort()) {
		const what = [...k.paths].map(([p, c]) => (c > 1 ? `${p} ×${c}` : p)).join(', ');
		row(`\`GET ${L.path}\``, kind, k.n, f0(k.received), f0(k.body), what);
		total += k.received;
		totalBody += k.body;
		n += k.n;
	}
	row(`\`GET ${L.path}\``, '**all**', n, `**${f0(total)}**`, f0(totalBody),
		`× ${L.apiPath} alone (its body, ${f0(t.apiBytes)} bytes): **${f1(total / t.apiBytes)}**`);
}
out.push('');
out.push('## The page\'s API calls');
out.push('');
out.push('Every fetch of the first round\'s load, in the order it started (resource timing, ms from the navigation start; the event stream is not a fetch), and the mark: what the page waits for before it shows the chat list or the newest page.');
out.push('');
head('load', 'call', 'start ms', 'end ms', 'body bytes');
for (const [name, L] of Object.entries(loads)) {
	const t = res[name][0];
	if (!t) continue;
	for (const c of t.calls) row(`\`GET ${L.path}\``, c.path, f0(c.start), f0(c.end), f0(c.bytes));
	row(`\`GET ${L.path}\``, `*${L.mark}* (then its frame)`, f0(t.markMs), f0(t.shownMs), '');
}
console.log(out.join('\n'));
if (failures) console.error(`webload: ${failures} check(s) failed`);
process.exit(failures ? 1 : 0);
