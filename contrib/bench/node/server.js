'use strict'
// contrib/bench/node/server.js — contrib/bench/run's comparator: chatd's five
// API endpoints (contrib/doc/API.md, 2.1–2.5) as the stack most users would
// pick instead writes them, Node.js fastify with node-postgres, running the
// SAME SQL as chatd. One process, one pg.Pool, named prepared statements.
//
//   node server.js --queries FILE --port P [--host H] [--pool N]
//                  [--statement-timeout MS]
//
//   --queries FILE  chatd's statements, NAME<TAB>NPARAMS<TAB>SQL a line, as
//                   contrib/bench/run extracts them from src/api/*.c
//   --port P        TCP port to listen on (--host, default 127.0.0.1)
//   --pool N        database connections (pg.Pool max; default 4: chatd's
//                   default worker count, each worker holding one), all
//                   opened before it listens, as chatd's workers do
//   --statement-timeout MS  the sessions' statement_timeout (default 5000,
//                   chatd's); like chatd's sessions they also run with
//                   jit = off
// The database is named by libpq's environment variables (PGHOST, PGPORT,
// PGDATABASE, PGUSER, PGPASSWORD), which node-postgres reads as libpq does.
// It prints "listening on http://H:P" on stdout once it accepts requests.
//
// What it does as chatd does: the statements chatd prepares, by chatd's
// names and texts (node-postgres prepares a named statement once per
// connection, then only executes it); chats/get's chats_get_few, then, when
// that yields nothing, chats_get_all and chats_get_user; messages/add's
// outcome words mapped to chatd's statuses; ids answered as strings; times
// as RFC 3339 UTC with six fractional digits; bodies without a
// Content-Type read as JSON (curl -d, wrk); errors as {"error","message"}.
// What a careful fastify user does: JSON schemas for bodies (required
// fields, types, lengths, id syntax) and responses (fast-json-stringify),
// Ajv without type coercion (a number is not a username), logger off.
// What it does not do: chatd's checks beyond those (a repeated key, U+0000,
// chatd's exact set of Unicode white space), streaming of long lists
// (node-postgres reads a whole result; the benchmark reads pages and short
// lists), chatd's exact error messages.

const fs = require('node:fs')
const { parseArgs } = require('node:util')
const fastify = require('fastify')
const pg = require('pg')

const { values: opt } = parseArgs({
  options: {
    queries: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    pool: { type: 'string', default: '4' },
    'statement-timeout': { type: 'string', default: '5000' }
  }
})
const count = (v) => /^[1-9][0-9]*$/.test(v || '')
if (!opt.queries || !count(opt.port) || !count(opt.pool) || !count(opt['statement-timeout'])) {
  console.error('usage: node server.js --queries FILE --port P [--host H] [--pool N] [--statement-timeout MS]')
  process.exit(2)
}

// chatd's statements by name: {name, text, nparams}; Q below holds the
// {name, text} of each one this server runs, as node-postgres takes them.
const statements = new Map()
for (const line of fs.readFileSync(opt.queries, 'utf8').split('\n')) {
  if (line === '') continue
  const [name, nparams, text] = line.split('\t')
  statements.set(name, { name, text, nparams: Number(nparams) })
}
function statement (name, nparams) {
  const s = statements.get(name)
  if (!s) throw new Error(`${opt.queries} has no statement ${name}`)
  if (s.nparams !== nparams) throw new Error(`statement ${name} takes ${s.nparams} parameters, not ${nparams}`)
  return { name: s.name, text: s.text }
}
const Q = {
  usersAdd: statement('users_add', 1),
  chatsAdd: statement('chats_add', 3),
  messagesAdd: statement('messages_add', 4),
  chatsGetFew: statement('chats_get_few', 2),
  chatsGetAll: statement('chats_get_all', 2),
  chatsGetUser: statement('chats_get_user', 1),
  messagesGetOldest: statement('messages_get_oldest', 4),
  messagesGetNewest: statement('messages_get_newest', 4),
  messagesGetChat: statement('messages_get_chat', 1)
}

// Times: the sessions run in UTC (see the pool), where PostgreSQL writes a
// timestamptz as "2026-11-21 08:07:53.123456+00", its fraction without
// trailing zeros (none at all for a whole second). node-postgres would make
// a Date of it, which keeps milliseconds only; the text has the
// microseconds, so it is rewritten as RFC 3339 instead.
const PG_TIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (text) => {
  const m = PG_TIME.exec(text)
  if (m === null) throw new Error(`unexpected timestamptz ${text}`)
  return `${m[1]}T${m[2]}.${(m[3] || '').padEnd(6, '0')}Z`
})
// int8 stays a string (node-postgres' default), and so do int8[]'s elements.

// The session settings of chatd's connections (src/db.c), and UTC.
const pool = new pg.Pool({
  max: Number(opt.pool),
  idleTimeoutMillis: 0, // keep the connections, as chatd's workers do
  options: `-c TimeZone=UTC -c jit=off -c statement_timeout=${opt['statement-timeout']}`
})
pool.on('error', () => {}) // an idle connection that broke: the pool drops it

// ---------------------------------------------------------------------------
// Schemas

// An id: a canonical decimal string or a non-negative JSON integer
// (API.md 1.3). Ajv's "integer" takes 1.0 too and JSON.parse loses digits
// beyond 2^53; canonicalId() below checks the range.
const id = {
  anyOf: [
    { type: 'string', pattern: '^(0|[1-9][0-9]{0,18})$' },
    { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }
  ]
}
// A string of 1..MAX code points, not only white space (API.md 1.4).
const text = (max) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '\\S' })
const idString = { type: 'string' }
const created = { 201: { type: 'object', properties: { id: idString } } }
const time = { type: 'string' }

const MAX_ID = 9223372036854775807n
// canonicalId(v): the id as a decimal string, or null beyond 2^63 - 1.
function canonicalId (v) {
  const s = typeof v === 'string' ? v : String(v)
  return s.length < 19 || BigInt(s) <= MAX_ID ? s : null
}

class ApiError extends Error {
  constructor (statusCode, code, message) {
    super(message)
    this.statusCode = statusCode
    this.code = code
  }
}
const notFound = (what, v) => new ApiError(404, 'not_found', `${what} ${v} does not exist`)
function ids (body, ...fields) {
  return fields.map((f) => {
    if (body[f] === undefined) return undefined
    const s = canonicalId(body[f])
    if (s === null) throw new ApiError(400, 'bad_request', `field '${f}' is out of range`)
    return s
  })
}

// ---------------------------------------------------------------------------
// The server

const app = fastify({
  logger: false,
  bodyLimit: 1048576,
  ajv: { customOptions: { coerceTypes: false } }
})

// chatd reads every body as JSON whatever its Content-Type, or none
// (API.md 1.1): so does this server.
app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

const CODES = { 400: 'bad_request', 404: 'not_found', 413: 'payload_too_large', 415: 'bad_request' }
app.setErrorHandler((err, request, reply) => {
  if (err instanceof ApiError) {
    return reply.code(err.statusCode).send({ error: err.code, message: err.message })
  }
  if (err.validation || (err.statusCode >= 400 && err.statusCode < 500)) {
    const status = err.validation ? 400 : err.statusCode
    return reply.code(status).send({ error: CODES[status] || 'bad_request', message: err.message })
  }
  // The database: unreachable, a timeout, a broken connection (chatd: 503).
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === '57014' ||
      err.code === '40001' || err.code === '40P01' || /^08/.test(err.code || '') ||
      /Connection terminated/.test(err.message)) {
    return reply.code(503).header('Retry-After', '1')
      .send({ error: 'unavailable', message: 'the database is unavailable' })
  }
  console.error(err)
  return reply.code(500).send({ error: 'internal', message: 'internal error' })
})
app.setNotFoundHandler((request, reply) => {
  reply.code(404).send({ error: 'not_found', message: 'no such endpoint' })
})

const error = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } }

app.post('/users/add', {
  schema: {
    body: { type: 'object', required: ['username'], properties: { username: text(64) } },
    response: { ...created, '4xx': error }
  }
}, async (request, reply) => {
  const { rows } = await pool.query({ ...Q.usersAdd, values: [request.body.username] })
  if (rows.length === 0) throw new ApiError(409, 'conflict', 'username is already taken')
  return reply.code(201).send({ id: rows[0].id })
})

app.post('/chats/add', {
  schema: {
    body: {
      type: 'object',
      required: ['name', 'users'],
      properties: { name: text(128), users: { type: 'array', items: id } }
    },
    response: { ...created, '4xx': error }
  }
}, async (request, reply) => {
  const users = request.body.users.map((u, i) => {
    const s = canonicalId(u)
    if (s === null) throw new ApiError(400, 'bad_request', `users[${i}] is not a valid id`)
    return s
  })
  const { rows } = await pool.query({ ...Q.chatsAdd, values: [request.body.name, users, null] })
  const r = rows[0]
  if (r.new_chat !== null) return reply.code(201).send({ id: r.new_chat })
  if (r.missing_user !== null) throw notFound('user', r.missing_user)
  throw new ApiError(409, 'conflict', 'chat name is already taken')
})

// sql/004_message_outcomes.sql's outcome words, as src/api/messages_add.c
// answers them.
app.post('/messages/add', {
  schema: {
    body: {
      type: 'object',
      required: ['chat', 'author', 'text'],
      properties: { chat: id, author: id, text: text(4096) }
    },
    headers: {
      type: 'object',
      properties: {
        'idempotency-key': { type: 'string', maxLength: 255, pattern: '^[ -~]*[!-~][ -~]*$' }
      }
    },
    response: { ...created, '4xx': error }
  }
}, async (request, reply) => {
  const [chat, author] = ids(request.body, 'chat', 'author')
  const key = request.headers['idempotency-key'] ?? null
  const { rows } = await pool.query({ ...Q.messagesAdd, values: [chat, author, request.body.text, key] })
  const { outcome, message_id: messageId } = rows[0]
  switch (outcome) {
    case 'created':
    case 'replayed':
      return reply.code(201).send({ id: messageId })
    case 'no_chat': throw notFound('chat', chat)
    case 'no_author': throw notFound('user', author)
    case 'not_member':
      throw new ApiError(403, 'forbidden', `user ${author} is not a member of chat ${chat}`)
    case 'key_reused':
      throw new ApiError(422, 'idempotency_key_reused', `this Idempotency-Key was already used by user ${author} for another message (another chat or text); nothing was stored`)
    default:
      throw new Error(`messages/add: unexpected outcome '${outcome}'`)
  }
})

const chatList = {
  200: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        id: idString,
        name: { type: 'string' },
        users: { type: 'array', items: idString },
        created_at: time,
        last_message_at: { type: ['string', 'null'] },
        type: { type: 'string' },
        owner: { type: ['string', 'null'] }
      }
    }
  },
  '4xx': error
}

app.post('/chats/get', {
  schema: {
    body: { type: 'object', required: ['user'], properties: { user: id } },
    response: chatList
  }
}, async (request) => {
  const [user] = ids(request.body, 'user')
  let { rows } = await pool.query({ ...Q.chatsGetFew, values: [user, false] })
  if (rows.length > 0) return rows.map(chatOf)
  // More than 500 chats, or none, or no such user (src/api/chats_get.c).
  ;({ rows } = await pool.query({ ...Q.chatsGetAll, values: [user, false] }))
  if (rows.length > 0) return rows.map(chatOf)
  const owner = await pool.query({ ...Q.chatsGetUser, values: [user] })
  if (owner.rows.length === 0) throw notFound('user', user)
  return []
})
function chatOf (r) {
  return {
    id: r.id,
    name: r.name,
    users: r.members ?? [],
    created_at: r.created_at,
    last_message_at: r.last_message_at,
    type: r.type,
    owner: r.owner_id
  }
}

const PAGE_MAX = 1000
const MAX_ID_TEXT = MAX_ID.toString()
app.post('/messages/get', {
  schema: {
    body: {
      type: 'object',
      required: ['chat'],
      properties: {
        chat: id,
        after: id,
        before: id,
        limit: { type: 'integer', minimum: 1, maximum: PAGE_MAX }
      }
    },
    response: {
      200: {
        type: 'array',
        items: {
          type: 'object',
          properties: { id: idString, chat: idString, author: idString, text: { type: 'string' }, created_at: time }
        }
      },
      '4xx': error
    }
  }
}, async (request) => {
  const { limit } = request.body
  const [chat, after, before] = ids(request.body, 'chat', 'after', 'before')
  const q = limit !== undefined && before !== undefined ? Q.messagesGetNewest : Q.messagesGetOldest
  const { rows } = await pool.query({
    ...q,
    values: [chat, after ?? '0', before ?? MAX_ID_TEXT, limit ?? null]
  })
  if (rows.length === 0) {
    const owner = await pool.query({ ...Q.messagesGetChat, values: [chat] })
    if (owner.rows.length === 0) throw notFound('chat', chat)
    return []
  }
  return rows.map((r) => ({ id: r.id, chat, author: r.author_id, text: r.text, created_at: r.created_at }))
})

// Open the pool's connections, then listen.
async function start () {
  const clients = []
  for (let i = 0; i < Number(opt.pool); i++) clients.push(pool.connect())
  for (const c of await Promise.all(clients)) c.release()
  const address = await app.listen({ port: Number(opt.port), host: opt.host })
  console.log(`listening on ${address}`)
}
start().catch((err) => {
  console.error(err)
  process.exit(1)
})

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    app.close().then(() => pool.end()).then(() => process.exit(0), () => process.exit(1))
  })
}
