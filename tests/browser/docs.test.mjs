// The API's docs page (GET /docs, issue 13 point 3) in real headless
// Chromium, against a running stack: swagger-ui renders /openapi.json with
// every operation of it, from files the stack serves and nothing else.
//
//   node tests/browser/docs.test.mjs URL [ARTEFACT_DIR]
//
// URL is the stack's nginx. CHATD_DOCS_RENDERER=absent (run.sh sets it when
// src/web/docs has no swagger-ui-dist: no `npm ci` there) checks instead
// that /docs says how to install it, and reports the page's checks as
// skipped. Output as chat.test.mjs: one "[       OK ]", "[  FAILED  ]" or
// "[  SKIPPED ]" line per check, then "docs checks: N passed, N failed";
// exit status 1 when one failed. Screenshots: ARTEFACT_DIR/docs-*.png.
// Every wait is bounded (WAIT_MS); no timing is judged.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const WAIT_MS = 30000;
const BROWSER = process.env.CHATD_CHROMIUM || '/usr/bin/chromium';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const [url, artefacts = path.resolve('tests/browser/artifacts')] = process.argv.slice(2);
if (!url) {
	console.error('usage: node docs.test.mjs URL [ARTEFACT_DIR]');
	process.exit(2);
}
mkdirSync(artefacts, { recursive: true });
const origin = new URL(url).origin;

let passed = 0;
let failed = 0;
const broken = new Set();

// check NAME NEEDS FN — the check NAME: FN throws to fail it; not run (and
// failed) when a check of NEEDS failed.
async function check(name, needs, fn) {
	const missing = needs.filter((n) => broken.has(n));
	try {
		if (missing.length) throw new Error(`not run: it needs "${missing[0]}", which failed`);
		await fn();
		console.log(`[       OK ] ${name}`);
		passed++;
	} catch (e) {
		console.log(`[  FAILED  ] ${name}: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
		failed++;
		broken.add(name);
	}
}
function assert(cond, why) {
	if (!cond) throw new Error(why);
}
function note(text) {
	console.log(`    ${text}`);
}
function finish() {
	console.log(`docs checks: ${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

// "METHOD /path" of every operation of the document.
function operations(doc) {
	const out = [];
	for (const [p, item] of Object.entries(doc.paths || {}))
		for (const m of METHODS) if (item[m]) out.push(`${m.toUpperCase()} ${p}`);
	return out.sort();
}

// ---------------------------------------------------------------------------
// The document, as nginx serves it

let ops = [];
let doc = null;
await check('GET /openapi.json is the OpenAPI document, as JSON', [], async () => {
	const r = await fetch(`${url}/openapi.json`);
	assert(r.status === 200, `status ${r.status}`);
	assert(r.headers.get('content-type') === 'application/json', `Content-Type ${r.headers.get('content-type')}`);
	assert(r.headers.get('x-content-type-options') === 'nosniff', 'no X-Content-Type-Options: nosniff');
	assert(r.headers.get('cache-control') === 'no-cache', `Cache-Control ${r.headers.get('cache-control')}`);
	doc = await r.json();
	assert(/^3\.1\./.test(doc.openapi), `openapi is ${doc.openapi}`);
	ops = operations(doc);
	assert(ops.length > 0, 'it has no operation');
	note(`${ops.length} operations in /openapi.json`);
});

if (process.env.CHATD_DOCS_RENDERER === 'absent') {
	await check('without swagger-ui-dist, /docs is a 404 that says how to install it', [], async () => {
		const r = await fetch(`${url}/docs`);
		const body = await r.text();
		assert(r.status === 404, `status ${r.status}`);
		assert(/^text\/plain/.test(r.headers.get('content-type')), `Content-Type ${r.headers.get('content-type')}`);
		assert(body.includes('swagger-ui-dist') && body.includes('npm ci'), `body: ${body.slice(0, 200)}`);
	});
	console.log('[  SKIPPED ] the docs page in Chromium: swagger-ui-dist is not installed (cd src/web/docs && npm ci)');
	finish();
}

// ---------------------------------------------------------------------------
// The page in Chromium

const launchArgs = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
let browser;
try {
	browser = await chromium.launch({ executablePath: BROWSER, args: launchArgs, headless: true });
} catch (e) {
	await check('Chromium starts', [], () => { throw e; });
	finish();
}
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
context.setDefaultTimeout(WAIT_MS);
const page = await context.newPage();

// Every request the page makes, and what came of it; console errors, page
// errors and CSP violations.
const requests = [];
const badAnswers = [];
const problems = [];
page.on('request', (q) => requests.push(q.url()));
page.on('response', (r) => {
	if (r.status() >= 400) badAnswers.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});
page.on('requestfailed', (q) => badAnswers.push(`${q.failure()?.errorText} ${q.method()} ${q.url()}`));
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
await page.addInitScript(() => {
	document.addEventListener('securitypolicyviolation', (e) =>
		console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
});

await check('/docs shows every operation of /openapi.json', ['GET /openapi.json is the OpenAPI document, as JSON'], async () => {
	const r = await page.goto(`${url}/docs`);
	assert(r && r.status() === 200, `status ${r && r.status()}`);
	const blocks = page.locator('#swagger-ui .opblock');
	// swagger-ui renders once it has the document; bounded, not timed.
	try {
		await page.waitForFunction((n) => document.querySelectorAll('#swagger-ui .opblock').length >= n,
			ops.length, { timeout: WAIT_MS });
	} catch {
		throw new Error(`${await blocks.count()} operations shown after ${WAIT_MS} ms, the document has ${ops.length}`);
	}
	const shown = await blocks.evaluateAll((els) => els.map((e) => {
		const m = e.querySelector('.opblock-summary-method');
		const p = e.querySelector('.opblock-summary-path');
		return `${m ? m.textContent.trim() : '?'} ${p ? p.dataset.path || p.textContent.trim() : '?'}`;
	}));
	note(`${shown.length} operations shown`);
	assert(shown.length === ops.length, `${shown.length} operations shown, the document has ${ops.length}`);
	const want = new Set(ops);
	const extra = shown.filter((s) => !want.has(s));
	const have = new Set(shown);
	const lost = ops.filter((s) => !have.has(s));
	assert(!extra.length && !lost.length, `shown but not in the document: ${extra.join(', ') || 'none'}; ` +
		`in the document but not shown: ${lost.join(', ') || 'none'}`);
	await page.screenshot({ path: path.join(artefacts, 'docs.png') });
	await page.screenshot({ path: path.join(artefacts, 'docs-full.png'), fullPage: true });
	note(`screenshots: ${path.join(artefacts, 'docs.png')}, docs-full.png`);
});

await check('an operation opens with its request and responses', ['/docs shows every operation of /openapi.json'], async () => {
	const op = page.locator('#swagger-ui .opblock').filter({
		has: page.locator('.opblock-summary-path[data-path="/messages/add"]'),
	}).first();
	await op.locator('.opblock-summary').first().click();
	const responses = op.locator('.responses-table .response');
	await responses.first().waitFor();
	const codes = (await op.locator('.responses-table .response .response-col_status').allTextContents())
		.map((c) => c.trim()).join(' ');
	const want = Object.keys(doc.paths['/messages/add'].post.responses).join(' ');
	note(`POST /messages/add: responses ${codes}`);
	assert(codes === want, `responses shown: ${codes}; in the document: ${want}`);
	await op.screenshot({ path: path.join(artefacts, 'docs-operation.png') });
});

await check('"Try it out" of GET /health answers from this stack', ['/docs shows every operation of /openapi.json'], async () => {
	const op = page.locator('#swagger-ui .opblock').filter({
		has: page.locator('.opblock-summary-path[data-path="/health"]'),
	}).first();
	await op.locator('.opblock-summary').first().click();
	await op.locator('button.try-out__btn').click();
	const asked = page.waitForRequest((q) => new URL(q.url()).pathname === '/health', { timeout: WAIT_MS });
	await op.locator('button.execute').click();
	const q = await asked;
	assert(new URL(q.url()).origin === origin, `it asked ${q.url()}`);
	const status = op.locator('.live-responses-table .response .response-col_status').first();
	await status.waitFor();
	const got = (await status.textContent()).trim();
	assert(got.startsWith('200'), `the page shows status ${got}`);
	await op.screenshot({ path: path.join(artefacts, 'docs-try-health.png') });
});

await check('every request of the page went to the stack and was answered', ['/docs shows every operation of /openapi.json'], async () => {
	const paths = requests.map((u) => new URL(u)).filter((u) => u.origin === origin).map((u) => u.pathname);
	for (const p of ['/docs', '/docs/init.js', '/docs/vendor/swagger-ui-bundle.js', '/docs/vendor/swagger-ui.css', '/openapi.json', '/health'])
		assert(paths.includes(p), `the page never asked for ${p} (seen: ${paths.join(' ')})`);
	const away = requests.filter((u) => !['data:', 'blob:'].includes(new URL(u).protocol) && new URL(u).origin !== origin);
	note(`${requests.length} requests, ${away.length} elsewhere`);
	assert(!away.length, `requests elsewhere: ${away.slice(0, 5).join(' ')}`);
	assert(!badAnswers.length, `${badAnswers.length} failed: ${badAnswers.slice(0, 5).join(' | ')}`);
});

await check('no console error, page error or CSP violation', ['/docs shows every operation of /openapi.json'], async () => {
	assert(!problems.length, `${problems.length}: ${problems.slice(0, 3).join(' | ')}`);
});

await browser.close();
finish();
