// The checks of contrib/doc/openapi.json (run by run.sh):
//   node check.mjs validate DOC          the document is valid OpenAPI 3.1
//   node check.mjs routes DOC SRCDIR     its operations are chatd's routes
//   node check.mjs reference DOC API.md  it says what API.md says, endpoint
//                                        by endpoint (reference.mjs)
//   node check.mjs live DOC URL          chatd's answers validate against it
// Each prints cmocka-style "[       OK ] ..." lines and exits 1 when a
// check failed.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { live } from './live.mjs';
import { reference } from './reference.mjs';

let failed = 0, passed = 0;
export function ok(name, good, why = '') {
	if (good) { console.log(`[       OK ] ${name}`); passed++; }
	else { console.log(`[  FAILED  ] ${name}${why ? ': ' + why : ''}`); failed++; }
	return good;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// operations(doc) -> [{method: "POST", path: "/users/add", op}] of doc.paths.
export function operations(doc) {
	const out = [];
	for (const [path, item] of Object.entries(doc.paths))
		for (const m of METHODS)
			if (item[m]) out.push({ method: m.toUpperCase(), path, op: item[m] });
	return out;
}

async function validate(file) {
	const v = new Validator();
	const r = await v.validate(file);
	ok(`${file} is valid OpenAPI ${v.version}`, r.valid && v.version === '3.1',
		JSON.stringify(r.errors, null, 1));
	// The validator does not follow $ref: every one must name something.
	const doc = JSON.parse(readFileSync(file, 'utf8'));
	const bad = [];
	(function walk(x) {
		if (x === null || typeof x !== 'object') return;
		if (typeof x.$ref === 'string' && pointer(doc, x.$ref) === undefined) bad.push(x.$ref);
		Object.values(x).forEach(walk);
	})(doc);
	ok('every $ref resolves', bad.length === 0, bad.join(', '));
	// Every operation's schemas compile as JSON Schema 2020-12.
	const errs = [];
	const ajv = schemas(doc);
	for (const { method, path, op } of operations(doc))
		for (const st of Object.keys(op.responses)) {
			const s = responseSchema(doc, method, path, st);
			try { if (s) ajv.getSchema(s); } catch (e) { errs.push(`${method} ${path} ${st}: ${e.message}`); }
		}
	ok('every response schema compiles (ajv, JSON Schema 2020-12)', errs.length === 0, errs.join('; '));
}

// pointer(doc, "#/a/b") -> the value there, or undefined.
export function pointer(doc, ref) {
	if (!ref.startsWith('#/')) return undefined;
	let x = doc;
	for (const k of ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))) {
		if (x === null || typeof x !== 'object' || !(k in x)) return undefined;
		x = x[k];
	}
	return x;
}

const esc = (k) => k.replace(/~/g, '~0').replace(/\//g, '~1');

// schemas(doc) -> an Ajv2020 that knows doc as "openapi.json", so that a
// response's schema is "openapi.json#/<pointer>".
export function schemas(doc) {
	const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
	addFormats(ajv);
	ajv.addSchema(doc, 'openapi.json');
	return ajv;
}

// responseSchema(doc, method, path, status) -> the id of the schema of that
// response's JSON body, "openapi.json#/...", or null when it has none (or
// the status is not documented). A Reference Object is followed.
export function responseSchema(doc, method, path, status) {
	let at = `#/paths/${esc(path)}/${method.toLowerCase()}/responses/${status}`;
	let resp = pointer(doc, at);
	if (resp && resp.$ref) { at = resp.$ref; resp = pointer(doc, at); }
	if (!resp || !resp.content || !resp.content['application/json']) return null;
	return `openapi.json${at}/content/${esc('application/json')}/schema`;
}

// The routes of chatd's table: src/routes.def's ROUTE(name) lines, each
// the struct route_<name> of src/api/<name>.c.
function table(srcdir) {
	const def = readFileSync(`${srcdir}/src/routes.def`, 'utf8');
	const names = [...def.matchAll(/^ROUTE\((\w+)\)/gm)].map((m) => m[1]);
	return names.map((name) => {
		const c = readFileSync(`${srcdir}/src/api/${name}.c`, 'utf8');
		const m = c.match(new RegExp(`const struct route route_${name} = \\{([\\s\\S]*?)\\n\\};`));
		if (!m) throw new Error(`src/api/${name}.c: no struct route route_${name}`);
		const field = (f) => (m[1].match(new RegExp(`\\.${f}\\s*=\\s*([^,\\n]+)`)) || [])[1];
		let path = field('path');
		if (path && !path.startsWith('"')) { // a macro of the same file
			const d = c.match(new RegExp(`#define\\s+${path}\\s+("[^"]*")`));
			path = d && d[1];
		}
		return {
			name, path: path && JSON.parse(path), method: field('method') && JSON.parse(field('method')),
			prefix: field('prefix') === 'true', internal: field('internal') === 'true',
			session: { SESSION_NEVER: 'never', SESSION_IF_REQUIRED: 'open', SESSION_ALWAYS: 'required' }[field('session') || 'SESSION_NEVER'],
		};
	});
}

// Routes nginx/chatd.conf serves to clients that are held by nginx once
// chatd has authorized them (nchan's streams, the store's files): each is
// also a chatd route today, but must stay documented if that changes.
const NGINX_SERVED = [['GET', '/events'], ['GET', '/ws'], ['GET', '/files/{id}/{name}'], ['GET', '/health']];

function routes(file, srcdir) {
	const doc = JSON.parse(readFileSync(file, 'utf8'));
	const ops = operations(doc);
	const rows = table(srcdir);
	ok(`src/routes.def names ${rows.length} routes, each with its path and method`,
		rows.length > 0 && rows.every((r) => r.path && r.method), rows.filter((r) => !r.path || !r.method).map((r) => r.name).join(', '));
	// A prefix route ("/files/") is the document's templated path under it.
	const key = (method, path) => `${method} ${path}`;
	const docKey = (method, path) => key(method, path.includes('{') ? path.slice(0, path.indexOf('{')) : path);
	const internal = new Set((doc['x-chatd-internal'] || []).map((r) => key(r.method, r.path)));
	const documented = new Map(ops.map((o) => [docKey(o.method, o.path), o]));
	const want = new Set();
	for (const r of rows) {
		const k = key(r.method, r.path);
		want.add(k);
		if (r.internal) {
			ok(`${k} (internal) is listed in x-chatd-internal, not in paths`, internal.has(k) && !documented.has(k));
			continue;
		}
		const o = documented.get(k);
		if (!ok(`${k} (src/api/${r.name}.c) is documented`, o !== undefined)) continue;
		const sec = o.op.security || doc.security || [];
		const secOk = r.session === 'never' ? sec.length === 0 : r.session === 'open' ?
			sec.some((s) => Object.keys(s).length === 0) && sec.length === 3 :
			sec.length === 2 && sec.every((s) => Object.keys(s).length === 1);
		const why = [];
		if (o.op['x-chatd-session'] !== r.session) why.push(`x-chatd-session is ${o.op['x-chatd-session']}, the route's session ${r.session}`);
		if (!secOk) why.push(`security ${JSON.stringify(sec)} does not say session ${r.session}`);
		if (r.prefix !== o.path.includes('{')) why.push(`${o.path}: a prefix route is a templated path, an exact one is not`);
		ok(`${k}: as ${o.path}, session "${r.session}"`, why.length === 0, why.join('; '));
	}
	for (const [m, p] of NGINX_SERVED)
		ok(`${m} ${p} (served by nginx for clients) is documented`, ops.some((o) => o.method === m && o.path === p));
	const extra = [...documented.keys()].filter((k) => !want.has(k));
	ok('every documented operation is a route of chatd\'s table', extra.length === 0, `not in src/routes.def: ${extra.join(', ')}`);
	const staleInternal = [...internal].filter((k) => !want.has(k));
	ok('every x-chatd-internal entry is a route of chatd\'s table', staleInternal.length === 0, staleInternal.join(', '));
}

// What API.md (the reference, at file) and the document must share as a
// whole: every path (API.md writes /files/<id>/<name>), every section an
// operation cites, and every error code of its part 3.1; then each
// endpoint's fields, statuses and codes (reference.mjs).
function shared(doc, file) {
	const md = readFileSync(file, 'utf8');
	const heads = new Set([...md.matchAll(/^###\s+([0-9]+\.[0-9]+)\s/gm)].map((m) => m[1]));
	const why = [];
	for (const { method, path, op } of operations(doc)) {
		const p = path.replace(/\{(\w+)\}/g, '<$1>');
		if (!md.includes(p)) why.push(`${method} ${path}: API.md never names ${p}`);
		for (const m of (op.description || '').matchAll(/See API\.md ([0-9]+\.[0-9]+)/g))
			if (!heads.has(m[1])) why.push(`${method} ${path}: API.md has no section ${m[1]}`);
	}
	ok('every operation\'s path and cited section are in API.md', why.length === 0, why.join('; '));
	const part = md.slice(md.indexOf('### 3.1'), md.indexOf('### 3.2'));
	const codes = new Set([...part.matchAll(/^\| [0-9]{3} \| [^|]+ \| `(\w+)` \|/gm)].map((m) => m[1]));
	const enumd = new Set(doc.components.schemas.Error.properties.error.enum);
	const diff = [...codes].filter((c) => !enumd.has(c)).concat([...enumd].filter((c) => !codes.has(c)));
	ok(`the error codes are API.md 3.1's ${codes.size}`, codes.size > 0 && diff.length === 0, `differ: ${diff.join(', ')}`);
	reference(doc, file);
}

const [cmd, file, arg] = process.argv.slice(2);
try {
	if (cmd === 'validate') await validate(file);
	else if (cmd === 'routes') routes(file, arg);
	else if (cmd === 'reference') shared(JSON.parse(readFileSync(file, 'utf8')), arg);
	else if (cmd === 'live') await live(JSON.parse(readFileSync(file, 'utf8')), arg);
	else throw new Error(`usage: node check.mjs validate|routes|reference|live DOC [SRCDIR|API.md|URL]`);
} catch (e) {
	ok(`${cmd}`, false, e.stack);
}
console.log(`[  PASSED  ] ${passed} test(s).`);
if (failed) { console.log(`[  FAILED  ] ${failed} test(s), listed above`); process.exit(1); }
