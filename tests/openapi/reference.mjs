// API.md (the reference) against contrib/doc/openapi.json (the document),
// endpoint by endpoint (issue 13, point 3): `node check.mjs reference DOC
// API.md`. For every operation of the document, API.md's part 2 has one
// block: a heading "### 2.N METHOD /path" (or "### 2.N Title: METHOD
// /path") for a section of one endpoint, or "#### METHOD /path" under a
// section of several (the block runs to the next heading of its level or
// above). In it, in this order:
//
//   **Request** then tables whose first column says what they list:
//     | field | type | required | rule |   the JSON body's fields
//     | header | required | rule |         header parameters
//     | query | type | required | rule |   query parameters
//     | path | type | required | rule |    path parameters
//     (no table: the request has none of them);
//   **Success:** a paragraph whose `NNN ...` code spans are its success
//     statuses;
//   **Errors** then a table | status | `error` | when |: a status cell may
//     name several ("502, 504"); the `error` cell names the codes the
//     status carries, or "—" for an answer that is not JSON.
//
// Part 2's introduction holds one more | status | `error` | when | table:
// the statuses every endpoint may answer, added to each block's own.
//
// Compared for each operation:
//   - the body's fields and the operation's requestBody schema: the same
//     names; `required` holds exactly the fields whose required cell is
//     "yes". A cell "yes, but <condition>" (text: "yes, but with a
//     `file`"; author: "yes, but with a session") is a field that the
//     request needs unless the condition holds, which the schema does not
//     express: such a field is NOT in `required`. "no" is not either. Any
//     other cell is a failure. The type cell names the schema's types:
//     "id" is the IdIn schema (a request's id), "string", "integer"
//     ("JSON integer"), "number", "boolean", "object", "array of <type>s",
//     alternatives joined by "or" ("id or `null`": oneOf IdIn and null);
//     the rule cell names each value of a string enum (`"group"`) and an
//     integer's range ("1–1000");
//   - each parameter table and the operation's parameters of that `in`:
//     the same names (headers case-insensitively), the same `required`,
//     and the same type where the table has a type column;
//   - the statuses (success, own errors, every endpoint's) and the keys of
//     the operation's responses: the same set;
//   - for each error status, its codes and the ones the response says it
//     carries: the `const` (or `enum`) of its JSON body's `error`
//     property (components.responses use `{"allOf": [Error], "properties":
//     {"error": {"const": ...}}}`); none for a response without a JSON
//     body;
//   - the section that holds the block and the one the operation's
//     description cites ("See API.md 2.N.").
import { readFileSync } from 'node:fs';
import { ok, operations, pointer } from './check.mjs';

// blocks(md) -> [{level, title, text}]: md's headings outside ``` fences,
// each with its text up to the next heading of its level or above.
function blocks(md) {
	const lines = md.split('\n');
	const heads = [];
	let fence = false;
	lines.forEach((l, i) => {
		if (/^```/.test(l)) fence = !fence;
		const m = !fence && l.match(/^(#{2,4}) (.*)$/);
		if (m) heads.push({ level: m[1].length, title: m[2].trim(), line: i });
	});
	return heads.map((h, k) => {
		let end = lines.length;
		for (const n of heads.slice(k + 1)) if (n.level <= h.level) { end = n.line; break; }
		return { level: h.level, title: h.title, text: lines.slice(h.line + 1, end).join('\n') };
	});
}

// cells("| a | b \| c |") -> ["a", "b | c"].
function cells(line) {
	const out = [];
	let cur = '';
	const s = line.trim().replace(/^\|/, '');
	for (let i = 0; i < s.length; i++) {
		if (s[i] === '\\' && s[i + 1] === '|') { cur += '|'; i++; }
		else if (s[i] === '|') { out.push(cur.trim()); cur = ''; }
		else cur += s[i];
	}
	if (cur.trim()) out.push(cur.trim());
	return out;
}

// tables(text) -> [{head, rows}] of the pipe tables in text (outside
// fences), head the first row's cells in lower case, rows the body's.
function tables(text) {
	const out = [];
	let cur = null, fence = false;
	for (const l of text.split('\n')) {
		if (/^```/.test(l)) fence = !fence;
		if (!fence && /^\s*\|/.test(l)) {
			if (!cur) out.push(cur = { head: cells(l).map((c) => c.toLowerCase()), rows: [] });
			else if (!/^\s*\|[\s|:-]+\|?\s*$/.test(l)) cur.rows.push(cells(l));
		} else cur = null;
	}
	return out;
}

// part(text, marker, until) -> the text of a block from the line that
// starts with marker to the first line that starts with one of until.
function part(text, marker, until) {
	const lines = text.split('\n');
	const i = lines.findIndex((l) => l.startsWith(marker));
	if (i < 0) return null;
	let j = lines.findIndex((l, k) => k > i && until.some((u) => l.startsWith(u)));
	if (j < 0) j = lines.length;
	return lines.slice(i, j).join('\n');
}

const strip = (c) => c.replace(/`/g, '').trim();
const isErrorTable = (t) => t.head.length === 3 && t.head[0] === 'status' && t.head[1] === '`error`';

// statusRows(table) -> [{status, codes}]: codes the `error` cell's code
// spans ([] for "—", not JSON).
function statusRows(t) {
	const out = [];
	for (const r of t.rows) {
		const codes = [...r[1].matchAll(/`(\w+)`/g)].map((m) => m[1]);
		for (const s of r[0].split(',').map((x) => x.trim()))
			out.push({ status: s, codes, bad: !/^[1-5][0-9]{2}$/.test(s) || (!codes.length && r[1] !== '—') });
	}
	return out;
}

// The type vocabulary of API.md: a type cell, or a schema, as a sorted
// list of "id", "string", "integer", "number", "boolean", "object",
// "null" and "array of <one of them>".
function mdType(cell) {
	return strip(cell).toLowerCase().replace(/^json /, '').split(/\s+or\s+/).map((t) => {
		const a = t.match(/^array of (\w+?)s?$/);
		return a ? `array of ${a[1]}` : t.replace(/^json /, '');
	}).sort();
}

function schemaType(doc, s) {
	if (!s || typeof s !== 'object') return ['?'];
	if (s.$ref === '#/components/schemas/IdIn') return ['id'];
	if (s.$ref) return schemaType(doc, pointer(doc, s.$ref));
	if (s.oneOf || s.anyOf) return [...new Set((s.oneOf || s.anyOf).flatMap((x) => schemaType(doc, x)))].sort();
	const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['?'];
	return types.map((t) => t === 'array' ? `array of ${schemaType(doc, s.items).join(' or ')}` : t).sort();
}

// bounds(doc, schema) -> what a field's rule must say, as API.md writes
// it: each value of a string enum ("group" as `"group"`) and an integer's
// range ("1–1000"). String lengths are not compared: API.md counts
// code points or bytes (passwords) where JSON Schema counts code points.
function bounds(doc, s) {
	if (!s || typeof s !== 'object' || s.$ref === '#/components/schemas/IdIn') return []; // ids: API.md 1.3
	if (s.$ref) return bounds(doc, pointer(doc, s.$ref));
	if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).flatMap((x) => bounds(doc, x));
	const out = [];
	if (s.type === 'string' && s.enum) out.push(...s.enum.map((v) => `\`"${v}"\``));
	if (s.type === 'integer' && 'minimum' in s && 'maximum' in s) out.push(`${s.minimum}–${s.maximum}`);
	return out;
}

// errorCodes(doc, response) -> the codes a response's JSON body carries
// ([] without a JSON body; null when its schema does not say).
function errorCodes(doc, resp) {
	if (resp && resp.$ref) resp = pointer(doc, resp.$ref);
	const json = resp && resp.content && resp.content['application/json'];
	if (!json) return [];
	return (function codes(s) {
		if (!s || typeof s !== 'object') return null;
		if (s.$ref) return codes(pointer(doc, s.$ref));
		const e = s.properties && s.properties.error;
		if (e && 'const' in e) return [e.const];
		if (e && e.enum) return e.enum;
		for (const sub of s.allOf || []) { const c = codes(sub); if (c) return c; }
		return null;
	})(json.schema);
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sorted = (xs) => [...xs].sort();

// The parameter tables and their `in`.
const PARAM_TABLES = { header: 'header', query: 'query', path: 'path' };

export function reference(doc, mdFile) {
	const md = readFileSync(mdFile, 'utf8');
	const all = blocks(md);
	const p2 = all.findIndex((b) => b.level === 2 && /^2\. /.test(b.title));
	const p3 = all.findIndex((b) => b.level === 2 && /^3\. /.test(b.title));
	const parts = all.slice(p2 + 1, p3 < 0 ? all.length : p3);
	let section = null;
	const byKey = new Map(), dup = [];
	for (const b of parts) {
		if (b.level === 3) section = (b.title.match(/^([0-9]+\.[0-9]+) /) || [])[1];
		const m = b.title.match(/^(?:[0-9]+\.[0-9]+ (?:[^:]*: )?)?(GET|POST) (\/\S*)$/);
		if (!m) continue;
		const k = `${m[1]} ${m[2]}`;
		if (byKey.has(k)) dup.push(k);
		byKey.set(k, { ...b, section });
	}
	const count = { endpoints: 0, fields: 0, params: 0, statuses: 0, codes: 0 };
	// Part 2's introduction: what every endpoint may answer.
	const intro = p2 >= 0 ? all[p2].text.split(/^### /m)[0] : '';
	const commonTable = tables(intro).find(isErrorTable);
	const common = commonTable ? statusRows(commonTable) : [];
	ok('API.md part 2 says which statuses every endpoint may answer', common.length > 0 && common.every((r) => !r.bad),
		commonTable ? 'a malformed row' : 'no | status | `error` | when | table before 2.1');
	ok('API.md part 2 has one block per endpoint', dup.length === 0, `two blocks for ${dup.join(', ')}`);

	const seen = new Set();
	for (const { method, path, op } of operations(doc)) {
		const name = `${method} ${path}`;
		const k = `${method} ${path.replace(/\{(\w+)\}/g, '<$1>')}`;
		seen.add(k);
		const b = byKey.get(k);
		const why = [];
		if (!b) { ok(`${name}: API.md documents it`, false, `no heading "#### ${k}" or "### 2.N ${k}" in part 2`); continue; }
		const cited = [...(op.description || '').matchAll(/See API\.md ([0-9]+\.[0-9]+)/g)].map((x) => x[1]);
		if (!cited.includes(b.section)) why.push(`API.md has it in ${b.section}, the document cites ${cited.join(', ') || 'nothing'}`);

		// Request.
		const req = part(b.text, '**Request', ['**Success']);
		const mdFields = new Map(), mdParams = { header: new Map(), query: new Map(), path: new Map() };
		if (req === null) why.push('no **Request**');
		else for (const t of tables(req)) {
			const kind = t.head[0];
			const col = (c) => t.head.indexOf(c);
			if (kind === 'field') {
				if (col('type') !== 1 || col('required') !== 2) { why.push('a field table is not | field | type | required | rule |'); continue; }
				for (const r of t.rows) mdFields.set(strip(r[0]), { type: r[1], required: r[2], rule: r[3] || '' });
			} else if (PARAM_TABLES[kind]) {
				if (col('required') < 0) { why.push(`the ${kind} table has no required column`); continue; }
				for (const r of t.rows) mdParams[kind].set(kind === 'header' ? strip(r[0]).toLowerCase() : strip(r[0]),
					{ type: col('type') >= 0 ? r[col('type')] : null, required: r[col('required')] });
			} else why.push(`a request table of "${t.head[0]}"`);
		}
		// The body's fields.
		const body = op.requestBody && op.requestBody.content;
		let schema = body && body['application/json'] && body['application/json'].schema;
		if (schema && schema.$ref) schema = pointer(doc, schema.$ref);
		const props = (schema && schema.properties) || {};
		const required = new Set((schema && schema.required) || []);
		if (body && !schema && mdFields.size) why.push('a field table for a body that is not JSON');
		for (const f of Object.keys(props)) if (!mdFields.has(f)) why.push(`field ${f}: not in API.md's request table`);
		for (const [f, row] of mdFields) {
			count.fields++;
			if (!(f in props)) { why.push(`field ${f}: not in the document's requestBody`); continue; }
			const cell = strip(row.required).toLowerCase();
			const need = cell === 'yes' ? true : cell === 'no' || /^yes, but \S/.test(cell) ? false : null;
			if (need === null) why.push(`field ${f}: required "${row.required}" is not yes, no or "yes, but <when not>"`);
			else if (need !== required.has(f))
				why.push(`field ${f}: API.md says required "${row.required}", the document's required ${required.has(f) ? 'has' : 'lacks'} it`);
			const mt = mdType(row.type), st = schemaType(doc, props[f]);
			if (!same(mt, st)) why.push(`field ${f}: API.md's type "${strip(row.type)}" is ${mt.join(' or ')}, the document's ${st.join(' or ')}`);
			for (const v of bounds(doc, props[f]))
				if (!row.rule.includes(v)) why.push(`field ${f}: the document says ${v}, API.md's rule does not`);
		}
		for (const f of required) if (!(f in props)) why.push(`field ${f}: required but not a property`);
		// The parameters.
		const params = (op.parameters || []).map((x) => x.$ref ? pointer(doc, x.$ref) : x);
		for (const kind of Object.keys(PARAM_TABLES)) {
			const docP = new Map(params.filter((x) => x.in === kind).map((x) => [kind === 'header' ? x.name.toLowerCase() : x.name, x]));
			for (const n of docP.keys()) if (!mdParams[kind].has(n)) why.push(`${kind} ${n}: not in API.md's ${kind} table`);
			for (const [n, row] of mdParams[kind]) {
				count.params++;
				const x = docP.get(n);
				if (!x) { why.push(`${kind} ${n}: not a parameter of the document`); continue; }
				const cell = strip(row.required).toLowerCase();
				if ((cell === 'yes') !== (x.required === true) || !['yes', 'no'].includes(cell))
					why.push(`${kind} ${n}: API.md says required "${row.required}", the document ${x.required}`);
				if (row.type !== null && !same(mdType(row.type), schemaType(doc, x.schema)))
					why.push(`${kind} ${n}: API.md's type "${strip(row.type)}", the document's ${schemaType(doc, x.schema).join(' or ')}`);
			}
		}

		// Statuses.
		const succ = part(b.text, '**Success', ['**Errors', '**Notes']);
		const success = succ === null ? [] : [...succ.split(/\n\s*\n/)[0].matchAll(/`([1-5][0-9]{2})\b[^`]*`/g)].map((x) => x[1]);
		if (!success.length) why.push('no **Success:** paragraph with a status');
		const errs = part(b.text, '**Errors', ['**Notes']);
		const et = errs === null ? undefined : tables(errs)[0];
		if (!et || !isErrorTable(et)) why.push('no **Errors** table | status | `error` | when |');
		const rows = (et && isErrorTable(et) ? statusRows(et) : []).concat(common);
		for (const r of rows) if (r.bad) why.push(`Errors row "${r.status}": not a status with its codes (or "—")`);
		const mdStatuses = new Set([...success, ...rows.map((r) => r.status)]);
		const docStatuses = new Set(Object.keys(op.responses));
		for (const s of sorted(mdStatuses)) {
			count.statuses++;
			if (!docStatuses.has(s)) why.push(`status ${s}: not a response of the document`);
		}
		for (const s of sorted(docStatuses)) if (!mdStatuses.has(s)) why.push(`status ${s}: a response the document has, API.md does not`);
		// The codes of each error status.
		const codes = new Map();
		for (const r of rows) codes.set(r.status, new Set([...(codes.get(r.status) || []), ...r.codes]));
		for (const [s, want] of codes) {
			if (!docStatuses.has(s)) continue;
			count.codes += want.size;
			const got = errorCodes(doc, op.responses[s]);
			if (got === null) why.push(`status ${s}: the document does not say which codes it carries`);
			else if (!same(sorted(want), sorted(got)))
				why.push(`status ${s}: API.md's codes ${sorted(want).join(', ') || '— (not JSON)'}, the document's ${sorted(got).join(', ') || 'none (not JSON)'}`);
		}
		count.endpoints++;
		ok(`${name}: API.md ${b.section} and the document agree (${mdFields.size} fields, ` +
			`${[...Object.values(mdParams)].reduce((n, m) => n + m.size, 0)} parameters, ${mdStatuses.size} statuses)`,
			why.length === 0, why.join('; '));
	}
	const extra = [...byKey.keys()].filter((k) => !seen.has(k));
	ok('every endpoint block of API.md is an operation of the document', extra.length === 0, extra.join(', '));
	ok(`API.md and the document compared on ${count.endpoints} endpoints: ${count.fields} fields, ` +
		`${count.params} parameters, ${count.statuses} statuses, ${count.codes} error codes`, count.endpoints === operations(doc).length);
}
