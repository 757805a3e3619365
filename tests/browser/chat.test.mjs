// chatd's web client in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core, which downloads no browser): the scenario of
// issue 13, point 2, against a running stack.
//
//   node tests/browser/chat.test.mjs URL [ARTEFACT_DIR]
//
// URL is the stack's nginx (http://127.0.0.1:PORT). Every step is one
// named check, printed as "[       OK ] name" or "[  FAILED  ] name: why";
// after each step both pages are photographed into ARTEFACT_DIR
// (NN-step-a.png, NN-step-b.png and NN-step.png with the two side by side).
// A step that depends on one that failed is reported failed, not run.
// The page load of a user in 5,000 chats needs the stack's psql: set
// CHATD_STACK (the contrib/stack script) and CHATD_STACK_DIR (its state
// directory); without them that check fails saying so.
//
// Timings are measured and printed, never asserted; every wait is bounded
// (WAIT_MS), so a client that never shows something fails, it never hangs.
// The last line is "browser checks: N passed, N failed"; the exit status
// is 1 when any check failed. The elements are found by the data-testid
// attributes the web client promises (issue 13's DOM contract: auth-*, me,
// logout, connection, chat-list/-item/-name/-time/-unread, user-list/-item/
// -name/-online, chat-title, message-list, message(-author/-text/-time/
// -image/-file/-edit/-delete), composer, send, attach).

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { chatListNow } from './usable.mjs';

const WAIT_MS = 15000;
const BROWSER = process.env.CHATD_CHROMIUM || '/usr/bin/chromium';

const [url, artefacts = path.resolve('tests/browser/artifacts')] = process.argv.slice(2);
if (!url) {
	console.error('usage: node chat.test.mjs URL [ARTEFACT_DIR]');
	process.exit(2);
}
mkdirSync(artefacts, { recursive: true });

// ---------------------------------------------------------------------------
// Results

let passed = 0;
let failed = 0;
const broken = new Set();	// names of steps that failed

function ok(name) {
	console.log(`[       OK ] ${name}`);
	passed++;
}
function fail(name, why) {
	console.log(`[  FAILED  ] ${name}: ${String(why).split('\n')[0]}`);
	failed++;
	broken.add(name);
}
function note(text) {
	console.log(`    ${text}`);
}

// step NAME NEEDS FN — run FN as the check NAME, unless a step of NEEDS
// failed; then photograph both pages. FN throws to fail.
let shotNo = 0;
async function step(name, needs, fn) {
	const missing = needs.filter((n) => broken.has(n));
	if (missing.length) {
		fail(name, `not run: it needs "${missing[0]}", which failed`);
		return;
	}
	try {
		await fn();
		ok(name);
	} catch (e) {
		fail(name, e && e.message ? e.message : e);
	}
	await photograph(name);
}

// ---------------------------------------------------------------------------
// Helpers

function check(cond, message) {
	if (!cond) throw new Error(message);
}

// tid(page, id) — the elements of data-testid ID.
const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

// visible LOCATOR WHAT — wait until LOCATOR shows, or throw saying WHAT.
async function visible(locator, what, timeout = WAIT_MS) {
	try {
		await locator.first().waitFor({ state: 'visible', timeout });
	} catch {
		throw new Error(`${what} did not show within ${timeout / 1000} s`);
	}
}

// until PAGE FN ARG WHAT — wait until FN(ARG), run in PAGE, is truthy; its
// value. Throws saying WHAT on timeout.
async function until(page, fn, arg, what, timeout = WAIT_MS) {
	try {
		const handle = await page.waitForFunction(fn, arg, { timeout, polling: 50 });
		return await handle.jsonValue();
	} catch (e) {
		if (e.name === 'TimeoutError' || /Timeout/.test(e.message))
			throw new Error(`${what} (waited ${timeout / 1000} s)`);
		throw e;
	}
}

// texts PAGE — the message-text of every message of the open chat, in order.
const texts = (page) => tid(page, 'message-list').locator('[data-testid="message-text"]').allInnerTexts()
	.then((a) => a.map((t) => t.trim()));
// messageIds PAGE — the data-message-id of every message, in order.
const messageIds = (page) => tid(page, 'message').evaluateAll((els) => els.map((e) => e.dataset.messageId));

// message PAGE TEXT — the message whose text is TEXT.
const message = (page, text) => tid(page, 'message')
	.filter({ has: page.locator('[data-testid="message-text"]', { hasText: text }) });

// armSeen PAGE KEY SELECTOR TEXT — from now on, record in the page the
// wall-clock time (Date.now()) at which an element matching SELECTOR with
// text TEXT first exists. Read it with seenAt; the page's clock is the
// machine's, as the other page's is.
async function armSeen(page, key, selector, text) {
	await page.evaluate(({ key, selector, text }) => {
		window.__seen = window.__seen || {};
		window.__seen[key] = null;
		const test = () => {
			if (window.__seen[key] != null) return;
			for (const el of document.querySelectorAll(selector)) {
				if (el.textContent.trim() === text) {
					window.__seen[key] = Date.now();
					observer.disconnect();
					return;
				}
			}
		};
		const observer = new MutationObserver(test);
		observer.observe(document.documentElement,
			{ subtree: true, childList: true, characterData: true, attributes: true });
		test();
	}, { key, selector, text });
}
async function seenAt(page, key, what) {
	return until(page, (k) => window.__seen && window.__seen[k], key, what);
}

// armEnter PAGE — record in the page the time of the next Enter keydown.
async function armEnter(page) {
	await page.evaluate(() => {
		window.__enterAt = null;
		window.addEventListener('keydown', (e) => {
			if (e.key === 'Enter' && window.__enterAt == null) window.__enterAt = Date.now();
		}, { capture: true, once: false });
	});
}

// api PAGE PATH BODY — a POST of the API with PAGE's cookie session, as the
// client makes it (Content-Type: application/json); the parsed answer.
async function api(page, p, body = {}) {
	const r = await page.context().request.post(new URL(p, url).href, {
		data: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
	});
	const t = await r.text();
	check(r.ok(), `${p} answered ${r.status()}: ${t}`);
	return t ? JSON.parse(t) : null;
}

// png W H — a PNG of W x H pixels, a diagonal of two colours.
function png(w, h) {
	const crcTable = Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = (buf) => {
		let c = 0xffffffff;
		for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
		const c = Buffer.alloc(4);
		c.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, c]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;	// bit depth
	ihdr[9] = 2;	// RGB
	const raw = Buffer.alloc((w * 3 + 1) * h);
	for (let y = 0; y < h; y++) {
		const row = y * (w * 3 + 1);
		for (let x = 0; x < w; x++) {
			const [r, g, b] = x > y ? [230, 60, 40] : [40, 90, 220];
			raw[row + 1 + x * 3] = r;
			raw[row + 2 + x * 3] = g;
			raw[row + 3 + x * 3] = b;
		}
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
	]);
}

// ---------------------------------------------------------------------------
// The browser

const launchArgs = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
let browser;
try {
	browser = await chromium.launch({ executablePath: BROWSER, args: launchArgs, headless: true });
} catch (e) {
	fail('Chromium starts', e.message);
	console.log(`browser checks: ${passed} passed, ${failed} failed`);
	process.exit(1);
}
console.log(`    Chromium ${browser.version()} (${BROWSER}); screenshots in ${artefacts}`);

// Console errors, page errors and CSP violations of every page, by page
// label; checked at the end.
const problems = [];
const httpErrors = [];
async function newUser(label, viewport = { width: 1100, height: 760 }) {
	const context = await browser.newContext({ viewport });
	context.setDefaultTimeout(WAIT_MS);
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) =>
			console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
	});
	const u = { label, context };
	u.page = await newPage(u);
	return u;
}

// newPage USER — a new page of USER's context, watched as every page is.
async function newPage(u) {
	const page = await u.context.newPage();
	const { label } = u;
	// The browser logs every HTTP error answer as a console error ("Failed
	// to load resource"); a 401 before signing in is how the client learns
	// there is no session. Those are listed, with their URLs, not judged.
	page.on('console', (m) => {
		if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
			problems.push(`${label}: console: ${m.text()}`);
	});
	page.on('response', (r) => {
		if (r.status() >= 400) httpErrors.push(`${label}: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
	});
	page.on('requestfailed', (r) => httpErrors.push(`${label}: ${r.failure()?.errorText} ${r.method()} ${new URL(r.url()).pathname}`));
	page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
	return page;
}

const A = await newUser('A');
const B = await newUser('B');
const shooter = await (await browser.newContext({ viewport: { width: 1600, height: 600 } })).newPage();

// photograph NAME — both pages into NN-name-a.png, NN-name-b.png, and the
// two side by side into NN-name.png.
async function photograph(name) {
	const base = `${String(++shotNo).padStart(2, '0')}-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}`;
	const shots = [];
	for (const [u, suffix] of [[A, 'a'], [B, 'b']]) {
		try {
			const buf = await u.page.screenshot({ timeout: 5000 });
			writeFileSync(path.join(artefacts, `${base}-${suffix}.png`), buf);
			shots.push([u.label, buf]);
		} catch (e) {
			note(`screenshot of ${u.label} failed: ${e.message.split('\n')[0]}`);
		}
	}
	if (shots.length !== 2) return;
	try {
		const img = ([label, buf]) => `<figure><figcaption>${label}</figcaption>` +
			`<img src="data:image/png;base64,${buf.toString('base64')}"></figure>`;
		await shooter.setContent(`<!doctype html><style>body{margin:0;display:flex;gap:8px;` +
			`background:#777;font:14px sans-serif}figure{margin:4px}img{display:block;width:780px;` +
			`border:1px solid #333}figcaption{color:#fff}</style><h1 hidden></h1>` +
			`${shots.map(img).join('')}`);
		writeFileSync(path.join(artefacts, `${base}.png`), await shooter.screenshot({ fullPage: true }));
	} catch (e) {
		note(`side-by-side screenshot failed: ${e.message.split('\n')[0]}`);
	}
}

// signUp USER NAME PASSWORD — through the sign-in view.
async function signUp(u, name, password) {
	const { page } = u;
	const r = await page.goto(url + '/', { waitUntil: 'load' });
	check(r && r.ok(), `GET / answered ${r && r.status()}`);
	u.csp = r.headers()['content-security-policy'] || '';
	await visible(tid(page, 'auth-username'), 'the sign-in view (auth-username)');
	await tid(page, 'auth-username').fill(name);
	await tid(page, 'auth-password').fill(password);
	await tid(page, 'auth-signup').click();
	await visible(tid(page, 'me').filter({ hasText: name }), `"${name}" in the me element after signup`);
	u.name = name;
	u.id = (await api(page, '/users/me')).id;
}

const alice = 'alice';
const bob = 'bob';
const password = 'a browser test password';
let chatId;		// A's and B's private chat
let firstText;		// A's first message
let bEnterToSeen;

// --- the scenario ----------------------------------------------------------

await step('A signs up through the page', [], () => signUp(A, alice, password));
await step('B signs up through the page', [], () => signUp(B, bob, password));

await step('the page is served with a strict Content-Security-Policy', ['A signs up through the page'], async () => {
	const csp = A.csp;
	check(csp, 'GET / has no Content-Security-Policy header');
	note(`Content-Security-Policy: ${csp}`);
	check(/(script-src|default-src)[^;]*'self'/.test(csp), `no script-src 'self' in: ${csp}`);
	check(!/unsafe-inline|unsafe-eval/.test(csp.match(/script-src[^;]*/)?.[0] || csp),
		`scripts may be inline or eval'd: ${csp}`);
});

await step('the session is the HttpOnly cookie, not kept in storage',
	['A signs up through the page'], async () => {
		const cookie = (await A.context.cookies(url)).find((c) => c.name === 'chatd_session');
		check(cookie, 'no chatd_session cookie after signup');
		check(cookie.httpOnly, 'the chatd_session cookie is not HttpOnly');
		const leaked = await A.page.evaluate((token) => {
			const all = [];
			for (const s of [localStorage, sessionStorage])
				for (let i = 0; i < s.length; i++) all.push(s.getItem(s.key(i)));
			return all.some((v) => v && v.includes(token)) || document.cookie.includes(token);
		}, cookie.value);
		check(!leaked, 'the session token is readable from localStorage, sessionStorage or document.cookie');
	});

await step('the event stream is live on both pages',
	['A signs up through the page', 'B signs up through the page'], async () => {
		for (const u of [A, B])
			await visible(tid(u.page, 'connection').filter({ hasText: /^\s*live\s*$/ }),
				`"live" in ${u.label}'s connection element`);
	});

await step('A opens a private chat with B from the user list',
	['A signs up through the page', 'B signs up through the page'], async () => {
		const { page } = A;
		const item = tid(page, 'user-item').and(page.locator(`[data-user-id="${B.id}"]`));
		try {
			await item.waitFor({ state: 'visible', timeout: 5000 });
		} catch {
			// No event announces a new account: a list loaded before B
			// signed up may not have B yet.
			note('B was not in A\'s user list (loaded before B signed up): A reloads');
			await page.reload();
			await visible(item, `B (data-user-id ${B.id}) in A's user list`);
		}
		check((await item.locator('[data-testid="user-name"]').innerText()).trim() === bob,
			'the user-item of B does not say "bob"');
		await visible(item.locator('[data-testid="user-online"]'), 'B\'s online mark in A\'s user list', 5000)
			.catch((e) => note(`(not a failure of this step) ${e.message}`));
		await item.click();
		const chat = await api(page, '/chats/direct', { user: B.id });
		chatId = chat.id;
		await visible(tid(page, 'chat-item').and(page.locator(`[data-chat-id="${chatId}"]`)),
			`the private chat ${chatId} in A's chat list`);
		await visible(tid(page, 'chat-title'), 'the open chat\'s title on A\'s page');
		await visible(tid(page, 'composer'), 'the composer on A\'s page');
		const title = (await tid(page, 'chat-title').innerText()).trim();
		check(title.includes(bob), `the open chat's title "${title}" does not name bob`);
	});

await step('A sends a message with Enter, B sees it without a reload, unread 1',
	['A opens a private chat with B from the user list', 'the event stream is live on both pages'], async () => {
		firstText = `hello bob, it is ${new Date().toISOString()}`;
		const badge = `[data-testid="chat-item"][data-chat-id="${chatId}"] [data-testid="chat-unread"]`;
		await armSeen(B.page, 'badge', badge, '1');
		await armSeen(B.page, 'text', '*', firstText);	// anywhere on B's page (a preview)
		await armEnter(A.page);
		const composer = tid(A.page, 'composer');
		await composer.fill(firstText);
		await composer.press('Enter');
		await visible(message(A.page, firstText), 'the message in A\'s own message list');
		check((await composer.inputValue()) === '', 'the composer was not emptied after sending');
		const seen = await seenAt(B.page, 'badge', `B's chat ${chatId} never showed an unread badge of 1`);
		const enter = await A.page.evaluate(() => window.__enterAt);
		bEnterToSeen = seen - enter;
		note(`A's Enter to B's unread badge of 1: ${bEnterToSeen} ms (no reload of B's page)`);
		const textSeen = await B.page.evaluate(() => window.__seen.text);
		if (textSeen) note(`... and to the text on B's page: ${textSeen - enter} ms`);
		check(B.page.url() === url + '/' || B.page.url().startsWith(url), 'B navigated away');
	});

await step('B opens the chat: the message is there and the badge goes',
	['A sends a message with Enter, B sees it without a reload, unread 1'], async () => {
		const { page } = B;
		const item = tid(page, 'chat-item').and(page.locator(`[data-chat-id="${chatId}"]`));
		await item.click();
		await visible(message(page, firstText), 'A\'s message in B\'s open chat');
		await until(page, (sel) => !document.querySelector(sel),
			`[data-testid="chat-item"][data-chat-id="${chatId}"] [data-testid="chat-unread"]`,
			'the unread badge stayed after B opened the chat');
		const author = (await message(page, firstText).locator('[data-testid="message-author"]').innerText()).trim();
		check(author.includes(alice), `the message's author reads "${author}", not alice`);
		check((await message(page, firstText).locator('[data-testid="message-time"]').innerText()).trim(),
			'the message has no time');
		// The read marker reached the server, not only the page.
		let unread;
		for (let i = 0; i < 50; i++) {
			unread = (await api(page, '/chats/get')).find((c) => c.id === chatId)?.unread;
			if (unread === 0) break;
			await page.waitForTimeout(100);
		}
		check(unread === 0, `chats/get still says ${unread} unread for B: the client never called chats/read`);
	});

const pic = png(24, 16);
let imageId;
await step('B replies with an image and A sees it inline',
	['B opens the chat: the message is there and the badge goes'], async () => {
		const before = new Set(await messageIds(A.page));
		await tid(B.page, 'attach').setInputFiles({ name: 'diagonal.png', mimeType: 'image/png', buffer: pic });
		// Either the client sends the file at once, or it waits in the
		// composer for Send.
		const mine = tid(B.page, 'message-image');
		try {
			await mine.first().waitFor({ state: 'attached', timeout: 3000 });
			note('the image was sent as soon as it was chosen');
		} catch {
			note('the image waited in the composer: B presses Send');
			await tid(B.page, 'send').click();
			await visible(mine, 'the image in B\'s own message list');
		}
		const img = tid(A.page, 'message-image').first();
		await visible(img, 'the image message on A\'s page');
		check(await img.evaluate((e) => e.tagName === 'IMG'), 'message-image is not an <img>');
		const size = await until(A.page, (el) => el.complete && el.naturalWidth > 0 &&
			[el.naturalWidth, el.naturalHeight], await img.elementHandle(),
			'the <img> on A\'s page never loaded (naturalWidth stayed 0)');
		check(size[0] === 24 && size[1] === 16, `the <img> is ${size[0]}x${size[1]}, not the 24x16 PNG B sent`);
		const after = await messageIds(A.page);
		imageId = after.find((id) => !before.has(id));
		check(imageId, 'no new message id on A\'s page');
		note(`the image is message ${imageId}, ${size[0]}x${size[1]} px on A's page`);
	});

let editedText;
await step('A edits a message and B\'s page follows',
	['A sends a message with Enter, B sees it without a reload, unread 1'], async () => {
		const { page } = A;
		editedText = `${firstText} (edited)`;
		const id = await message(page, firstText).getAttribute('data-message-id');
		A.editedId = id;
		await armSeen(B.page, 'edit', `[data-testid="message"][data-message-id="${id}"] [data-testid="message-text"]`, editedText);
		await armEnter(page);
		// The edit is a prompt() or an editor that takes the focus: both
		// are answered with the new text and Enter.
		let dialog = false;
		const onDialog = async (d) => {
			dialog = true;
			await d.accept(d.type() === 'prompt' ? editedText : undefined);
		};
		page.on('dialog', onDialog);
		await message(page, firstText).locator('[data-testid="message-edit"]').click();
		await page.waitForTimeout(300);
		if (!dialog) {
			const editable = await page.evaluate(() => {
				const e = document.activeElement;
				return !!e && (e.tagName === 'TEXTAREA' || e.tagName === 'INPUT' || e.isContentEditable);
			});
			check(editable, 'message-edit opened neither a prompt nor an editor with the focus');
			await page.keyboard.press('ControlOrMeta+A');
			await page.keyboard.insertText(editedText);
			await page.keyboard.press('Enter');
		}
		page.off('dialog', onDialog);
		note(`the edit was made in ${dialog ? 'a prompt() dialog' : 'a focused editor'}`);
		await visible(page.locator(`[data-testid="message"][data-message-id="${id}"] [data-testid="message-text"]`,
			{ hasText: editedText }), 'the edited text on A\'s page');
		const seen = await seenAt(B.page, 'edit', 'B\'s page never showed the edited text');
		const enter = await page.evaluate(() => window.__enterAt);
		if (enter) note(`A's Enter to the edit on B's page: ${seen - enter} ms`);
	});

await step('A deletes a message and B\'s page follows',
	['A edits a message and B\'s page follows'], async () => {
		const { page } = A;
		const id = A.editedId;
		const sel = `[data-testid="message"][data-message-id="${id}"]`;
		check(await B.page.locator(sel).count() === 1, `message ${id} is not on B's page before the delete`);
		const onDialog = (d) => d.accept();
		page.on('dialog', onDialog);
		await page.locator(sel).locator('[data-testid="message-delete"]').click();
		await until(page, (s) => !document.querySelector(s), sel, `message ${id} stayed on A's page`);
		await until(B.page, (s) => !document.querySelector(s), sel, `message ${id} stayed on B's page`);
		page.off('dialog', onDialog);
		const left = (await api(B.page, '/messages/get', { chat: chatId })).map((m) => m.id);
		check(!left.includes(id), `messages/get still has message ${id}`);
		check(JSON.stringify(await messageIds(B.page)) === JSON.stringify(left),
			`B's page shows ${await messageIds(B.page)}, messages/get ${left}`);
	});

const three = [1, 2, 3].map((n) => `while you were away, ${n} of 3`);
await step('A goes offline, B sends three messages, A comes back and shows all three in order',
	['B opens the chat: the message is there and the badge goes'], async () => {
		await A.context.setOffline(true);
		let offline = true;
		try {
			// Chromium's offline emulation fires "offline" and makes
			// navigator.onLine false, but leaves a stream that is open
			// open: a client must drop its stream on "offline" itself.
			await visible(tid(A.page, 'connection').filter({ hasText: /^\s*offline\s*$/ }),
				'"offline" in A\'s connection element with A\'s network cut (the window\'s ' +
				'"offline" event fired; the client must close its stream then)');
			const composer = tid(B.page, 'composer');
			for (const t of three) {
				await composer.fill(t);
				await composer.press('Enter');
				await visible(message(B.page, t), `"${t}" on B's page`);
			}
			// Nothing reaches A while its network is cut: the catch-up
			// below is what brings the three.
			const meanwhile = await texts(A.page);
			check(!three.some((t) => meanwhile.includes(t)),
				'A showed a message sent while its network was cut: the cut did not hold');
			await photograph('A offline, B sent three');
			const catchup = [];
			const onRequest = (r) => {
				const p = new URL(r.url()).pathname;
				if (p === '/events/get' || p === '/messages/get' || p === '/events') catchup.push(p);
			};
			A.page.on('request', onRequest);
			const back = Date.now();
			await A.context.setOffline(false);
			offline = false;
			await until(A.page, (want) => {
				const got = [...document.querySelectorAll('[data-testid="message-list"] [data-testid="message-text"]')]
					.map((e) => e.textContent.trim());
				return want.every((t) => got.includes(t));
			}, three, 'A did not show the three messages after coming back online');
			note(`back online to all three shown on A's page: ${Date.now() - back} ms; ` +
				`A asked ${catchup.join(', ') || 'nothing'}`);
			A.page.off('request', onRequest);
			const got = await texts(A.page);
			const order = three.map((t) => got.indexOf(t));
			check(order[0] < order[1] && order[1] < order[2], `A shows them in the order ${order}`);
			check(got.filter((t) => three.includes(t)).length === 3, 'A shows one of the three twice');
			const ids = await messageIds(A.page);
			check(JSON.stringify(ids) === JSON.stringify(await messageIds(B.page)),
				`A shows messages ${ids}, B ${await messageIds(B.page)}`);
			await visible(tid(A.page, 'connection').filter({ hasText: /^\s*live\s*$/ }),
				'"live" again in A\'s connection element');
		} finally {
			if (offline) await A.context.setOffline(false);
		}
	});

await step('/chat/<id> opens the app with that chat selected',
	['B opens the chat: the message is there and the badge goes'], async () => {
		const page = await B.context.newPage();
		try {
			const r = await page.goto(`${url}/chat/${chatId}`);
			check(r && r.ok(), `GET /chat/${chatId} answered ${r && r.status()}`);
			const newest = (await api(page, '/messages/get', { chat: chatId })).pop();
			await visible(page.locator(`[data-testid="message"][data-message-id="${newest.id}"]`),
				`the chat's newest message (${newest.id}) on /chat/${chatId}`);
			const title = (await tid(page, 'chat-title').innerText()).trim();
			check(title.includes(alice), `the title "${title}" does not name alice`);
		} finally {
			await page.close();
		}
	});

await step('B\'s page is readable 375 px wide', ['B opens the chat: the message is there and the badge goes'], async () => {
	await B.page.setViewportSize({ width: 375, height: 740 });
	await B.page.waitForTimeout(300);
	const width = await B.page.evaluate(() => document.documentElement.scrollWidth);
	check(width <= 375, `the page is ${width} px wide at a 375 px viewport (it scrolls sideways)`);
	await B.page.screenshot({ path: path.join(artefacts, 'phone-b.png'), fullPage: false });
	note(`B's page at 375 px: ${path.join(artefacts, 'phone-b.png')}`);
	await B.page.setViewportSize({ width: 1100, height: 760 });
});

// B's dot in A's people list, live: A and B have a private chat, so B's
// presence events reach A (API.md 2.13). A's users/list is cut off for the
// whole step (the requests fail), so that only the event stream can move
// the dot, never the client's fallback refresh.
await step('B closes its page and opens it again: B\'s dot in A\'s people list follows without a reload',
	['A opens a private chat with B from the user list', 'the event stream is live on both pages'], async () => {
		const { page } = A;
		const item = tid(page, 'user-item').and(page.locator(`[data-user-id="${B.id}"]`));
		const dot = item.locator('[data-testid="user-online"]');
		const label = () => item.locator('button').getAttribute('aria-label');
		await visible(dot, 'B\'s online dot in A\'s people list while B\'s page is open');
		let cut = 0;
		await page.route('**/users/list', (r) => { cut++; return r.abort(); });
		const loads = [];
		const onLoad = () => loads.push(Date.now());
		page.on('load', onLoad);
		try {
			const closed = Date.now();
			for (const p of B.context.pages()) await p.close();
			await until(page, (sel) => !document.querySelector(sel),
				`[data-testid="user-item"][data-user-id="${B.id}"] [data-testid="user-online"]`,
				'B\'s dot in A\'s people list stayed online after B closed its last page', 30000);
			note(`B's last page closed to its dot off on A's page: ${Date.now() - closed} ms`);
			const off = await label();
			check(off && !off.includes('online'), `B's button in A's people list is labelled "${off}" with B offline`);
			await page.screenshot({ path: path.join(artefacts, 'presence-offline-a.png') });

			B.page = await newPage(B);
			const opened = Date.now();
			const r = await B.page.goto(url + '/');
			check(r && r.ok(), `GET / for B answered ${r && r.status()}`);
			await visible(tid(B.page, 'connection').filter({ hasText: /^\s*live\s*$/ }), '"live" on B\'s new page');
			await visible(dot, 'B\'s online dot in A\'s people list after B opened a page again');
			note(`B's page opened to its dot on A's page: ${Date.now() - opened} ms`);
			const on = await label();
			check(on && on.includes('(online)'), `B's button in A's people list is labelled "${on}" with B online`);
			check(!loads.length, 'A\'s page was reloaded during the step');
			note(`A's users/list requests cut off meanwhile: ${cut}`);
		} finally {
			page.off('load', onLoad);
			await page.unroute('**/users/list');
		}
	});

await step('every control has a label', ['A signs up through the page'], async () => {
	const unlabelled = await A.page.evaluate(() => [...document.querySelectorAll('input, textarea, select, button')]
		.filter((e) => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
			!e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()) &&
			!e.getAttribute('title'))
		.map((e) => e.dataset.testid || e.outerHTML.slice(0, 60)));
	check(!unlabelled.length, `unlabelled: ${unlabelled.join(', ')}`);
});

await step('A logs out, a wrong password is refused, A logs in again', ['A signs up through the page'], async () => {
	const { page } = A;
	await tid(page, 'logout').click();
	await visible(tid(page, 'auth-username'), 'the sign-in view after logout');
	await page.reload();
	await visible(tid(page, 'auth-username'), 'the sign-in view after logout and a reload');
	await tid(page, 'auth-username').fill(alice);
	await tid(page, 'auth-password').fill('not the password');
	await tid(page, 'auth-login').click();
	await visible(tid(page, 'auth-error').filter({ hasText: 'wrong password' }),
		'auth-error with the API\'s message ("unknown user or wrong password")');
	await tid(page, 'auth-password').fill(password);
	await tid(page, 'auth-login').click();
	await visible(tid(page, 'me').filter({ hasText: alice }), '"alice" in the me element after login');
});

// --- a user in 5,000 chats --------------------------------------------------

const BIG = 5000;
// carol is in BIG chats; dave, in the two oldest of them, wrote one message
// into the oldest (it stays last in chats/get, with carol's unread 1). The
// list renders what fills its visible area first and the rest after, frame
// by frame: the check is that the first screenful is there, in chats/get
// order, and can be clicked; that the whole list follows in that order;
// and that live changes reach chats wherever they are in the list and
// whether or not they are rendered yet: carol reads the oldest chat on
// another device (its badge goes, in place), dave writes in the second
// oldest (it comes to the top with a badge), then, while carol's keyboard
// focus is on the oldest, into that one (it comes to the top and keeps the
// focus; Enter opens it).
await step(`a page load of a user in ${BIG} chats shows the chat list`, [], async () => {
	const stack = process.env.CHATD_STACK, dir = process.env.CHATD_STACK_DIR;
	check(stack && dir, 'CHATD_STACK and CHATD_STACK_DIR are not set: no psql to make the chats with');
	const C = await newUser('C');
	const D = await browser.newContext();
	try {
		// Signed up by requests of their contexts (which keep the cookies),
		// not pages: no page of carol's is open to hear the 10,000 events
		// of the chats made below.
		for (const [ctx, name, who] of [[C.context, 'carol', C], [D, 'dave', null]]) {
			const r = await ctx.request.post(`${url}/auth/signup`, {
				data: JSON.stringify({ username: name, password }), headers: { 'Content-Type': 'application/json' },
			});
			check(r.status() === 201, `signup of ${name} answered ${r.status()}: ${await r.text()}`);
			if (who) who.id = (await r.json()).id; else D.userId = (await r.json()).id;
		}
		const daveApi = async (p, body) => {
			const r = await D.request.post(new URL(p, url).href, {
				data: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
			});
			check(r.ok(), `dave's ${p} answered ${r.status()}: ${await r.text()}`);
			return r.json();
		};
		const t0 = Date.now();
		// One transaction: BIG group chats owned by carol, with her as their
		// member and one message each, the newest chat last; dave a member
		// of chats 1 and 2, and a message of his in chat 1, half a second
		// after carol's (chat 1 stays the oldest).
		const sql = `
			BEGIN;
			CREATE TEMP TABLE big ON COMMIT DROP AS
			  SELECT g, now() - (${BIG} - g) * interval '1 second' AS at FROM generate_series(1, ${BIG}) g;
			WITH c AS (
			  INSERT INTO chats (name, created_at, type, owner_id)
			  SELECT 'carol''s chat ' || g, at - interval '1 hour', 'group', ${C.id} FROM big ORDER BY g
			  RETURNING id, name)
			INSERT INTO chat_members (chat_id, user_id) SELECT id, ${C.id} FROM c;
			INSERT INTO chat_members (chat_id, user_id)
			  SELECT id, ${D.userId} FROM chats WHERE name IN ('carol''s chat 1', 'carol''s chat 2');
			INSERT INTO messages (chat_id, author_id, text, created_at)
			  SELECT c.id, ${C.id}, 'message ' || g, at FROM big JOIN chats c ON c.name = 'carol''s chat ' || g;
			INSERT INTO messages (chat_id, author_id, text, created_at)
			  SELECT c.id, ${D.userId}, 'dave was here', b.at + interval '0.5 second'
			  FROM big b JOIN chats c ON c.name = 'carol''s chat 1' WHERE b.g = 1;
			UPDATE chats c SET last_message_at = m.created_at, last_message_id = m.id
			  FROM (SELECT DISTINCT ON (chat_id) chat_id, id, created_at FROM messages
			        ORDER BY chat_id, id DESC) m
			  WHERE m.chat_id = c.id AND c.owner_id = ${C.id};
			COMMIT;
			SELECT count(*) FROM chat_members WHERE user_id = ${C.id};`;
		const out = execFileSync(stack, ['psql', dir, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql],
			{ encoding: 'utf8', timeout: 120000 }).trim();
		check(out.split('\n').pop() === String(BIG), `psql made ${out} chats, not ${BIG}`);
		note(`${BIG} chats made through psql in ${Date.now() - t0} ms`);
		// The relay publishes their 10,000 events for a while: a page
		// loaded meanwhile would hear those still to come as new messages
		// (each one moving its chat to the top). Wait until it is idle:
		// nothing in the outbox, everything numbered published.
		const drained = `SELECT NOT EXISTS (SELECT 1 FROM event_outbox) AND published >= last_id FROM relay_state`;
		let idle = false;
		for (const end = Date.now() + 60000; !idle && Date.now() < end;) {
			idle = execFileSync(stack, ['psql', dir, '-XAtq', '-c', drained], { encoding: 'utf8' }).trim() === 't';
			if (!idle) await new Promise((res) => setTimeout(res, 200));
		}
		check(idle, 'the relay had not published the chats\' events after 60 s');
		note(`... and their events published by the relay ${Date.now() - t0} ms after the start`);
		const listed = await api(C.page, '/chats/get');
		check(listed.length === BIG, `chats/get answers ${listed.length} chats`);
		const [oldest, second] = [listed[BIG - 1], listed[BIG - 2]];
		check(oldest.name === 'carol\'s chat 1' && oldest.unread === 1 && second.name === 'carol\'s chat 2',
			`chats/get ends with ${second.name}, ${oldest.name} (unread ${oldest.unread})`);
		const apiStart = Date.now();
		await api(C.page, '/chats/get');
		const apiMs = Date.now() - apiStart;

		let chatsGetAt = null;
		C.page.on('requestfinished', (q) => {
			if (chatsGetAt == null && new URL(q.url()).pathname === '/chats/get') chatsGetAt = Date.now();
		});
		const start = Date.now();
		await C.page.goto(url + '/', { waitUntil: 'commit' });
		const item = (id) => tid(C.page, 'chat-item').and(C.page.locator(`[data-chat-id="${id}"]`));
		await visible(item(listed[0].id), `the newest chat (${listed[0].id}) in carol's chat list`, 30000);
		const shown = Date.now() - start;
		// The first screenful: what is in the DOM then, and whether it fills
		// the list's visible area with items a click lands on.
		const first = await C.page.evaluate(chatListNow);
		check(first, 'no chat list on carol\'s page');
		const nav = await C.page.evaluate(() => {
			const n = performance.getEntriesByType('navigation')[0];
			return n ? { dcl: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) } : {};
		});
		note(`page load to the chat list shown: ${shown} ms (DOMContentLoaded ${nav.dcl} ms, ` +
			`load ${nav.load} ms; the page's chats/get answered at ${chatsGetAt == null ? '?' : chatsGetAt - start} ms; ` +
			`chats/get of ${BIG} alone: ${apiMs} ms); ${first.ids.length} chat-items rendered then, ${first.inSight} in sight`);
		await C.page.screenshot({ path: path.join(artefacts, `chats-${BIG}.png`) });
		note(`carol's page: ${path.join(artefacts, `chats-${BIG}.png`)}`);
		const bad = first.ids.findIndex((id, i) => listed[i].id !== id);
		check(bad < 0, `the first screenful is not in chats/get order: item ${bad} is chat ${first.ids[bad]}, ` +
			`chats/get has ${listed[bad] && listed[bad].id}`);
		check(first.filled || first.ids.length === BIG, 'the first items rendered do not fill the list\'s visible area');
		check(!first.missed, `a click at the middle of ${first.missed} chat item(s) in sight lands on no button of theirs`);

		// Live changes right away, while the rest of the list may still be
		// on its way: the read (in place, far down) and dave's message (to
		// the top).
		const renderedAt = await C.page.locator(`[data-testid="chat-item"][data-chat-id="${oldest.id}"]`).count();
		const daveMsg = (await daveApi('/messages/get', { chat: oldest.id })).pop();
		await api(C.page, '/chats/read', { chat: oldest.id, message: daveMsg.id });
		await daveApi('/messages/add', { chat: second.id, text: 'dave again' });
		await until(C.page, (id) => {
			const top = document.querySelector('[data-testid="chat-list"] [data-testid="chat-item"]');
			return top && top.dataset.chatId === id && top.querySelector('[data-testid="chat-unread"]')?.textContent === '1';
		}, second.id, `chat ${second.id} did not come to the top of carol's list with an unread badge of 1`);
		const done = await until(C.page, (n) => document.querySelectorAll('[data-testid="chat-list"] [data-testid="chat-item"]').length >= n
			&& performance.now(), BIG, `carol's list did not reach ${BIG} items`, 60000);
		note(`the chat of the read was ${renderedAt ? 'already' : 'not yet'} rendered when it was read; ` +
			`all ${BIG} items rendered ${Math.round(done)} ms after the navigation start`);
		const want = [second.id, ...listed.filter((c) => c.id !== second.id).map((c) => c.id)];
		const all = await tid(C.page, 'chat-item').evaluateAll((els) => els.map((e) => e.dataset.chatId));
		const wrong = want.findIndex((id, i) => all[i] !== id);
		check(wrong < 0 && all.length === BIG, `carol's whole list is not chats/get's order with chat ${second.id} first: ` +
			`item ${wrong} is ${all[wrong]}, not ${want[wrong]} (${all.length} items)`);
		await until(C.page, (id) => !document.querySelector(`[data-testid="chat-item"][data-chat-id="${id}"] [data-testid="chat-unread"]`),
			oldest.id, `the oldest chat (${oldest.id}, last in the list) still has its unread badge after carol read it`);
		check((await item(second.id).locator('[data-testid="chat-time"]').innerText()).trim(),
			`chat ${second.id} shows no time of its new message`);

		// Keyboard: the focus on the oldest chat's button, far down; dave
		// writes there; the chat comes to the top with the focus; Enter.
		await item(oldest.id).locator('button').focus();
		await daveApi('/messages/add', { chat: oldest.id, text: 'dave, a third time' });
		await until(C.page, (id) => {
			const top = document.querySelector('[data-testid="chat-list"] [data-testid="chat-item"]');
			return top && top.dataset.chatId === id && top.querySelector('[data-testid="chat-unread"]');
		}, oldest.id, `chat ${oldest.id} did not come to the top of carol's list with an unread badge`);
		const focused = await C.page.evaluate(() => document.activeElement?.closest('[data-testid="chat-item"]')?.dataset.chatId);
		check(focused === oldest.id, `the focus is on ${focused ? `chat ${focused}` : 'no chat'}, not on chat ${oldest.id} it was on`);
		const label = await C.page.evaluate(() => document.activeElement.querySelector('[data-testid="chat-unread"]')?.getAttribute('aria-label'));
		check(label === '1 unread', `the focused chat's badge is labelled "${label}"`);
		await C.page.keyboard.press('Enter');
		await visible(tid(C.page, 'chat-title').filter({ hasText: oldest.name }), `"${oldest.name}" as the open chat's title after Enter`);
		await visible(message(C.page, 'dave, a third time'), 'dave\'s message in the chat opened by Enter');
		await C.page.screenshot({ path: path.join(artefacts, `chats-${BIG}-live.png`) });
		note(`carol's page after the live changes: ${path.join(artefacts, `chats-${BIG}-live.png`)}`);
	} finally {
		await C.context.close();
		await D.close();
	}
});

await step('no console error, page error or CSP violation', [], async () => {
	check(!problems.length, `${problems.length}: ${problems.slice(0, 3).join(' | ')}`);
});
for (const p of problems.slice(0, 20)) note(p);
note(`HTTP errors the pages met (not judged): ${httpErrors.length ? '' : 'none'}`);
for (const e of httpErrors.slice(0, 30)) note(`  ${e}`);

if (bEnterToSeen != null) note(`summary: A's Enter to B's page: ${bEnterToSeen} ms`);
await browser.close();
console.log(`browser checks: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
