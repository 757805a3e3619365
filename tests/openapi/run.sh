#!/usr/bin/env bash
# contrib/doc/openapi.json against chatd (issue 13, point 3), with the npm
# packages of tests/openapi (npm ci there; skipped, 77, without them):
#   - the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator),
#     every $ref resolves and every response schema compiles (ajv);
#   - its operations are exactly the routes of chatd's table (src/routes.def
#     and each route's struct in src/api/, read here), with each route's
#     session rule; the internal routes are its x-chatd-internal; a copy of
#     the document without one route, or with a wrong session rule, fails;
#   - it says what API.md (the reference) says, endpoint by endpoint: each
#     operation's body fields (names, types, which are required), its
#     parameters, its statuses and each error status's code, against the
#     endpoint's Request, Success and Errors in API.md part 2 (reference.mjs);
#     copies of the document with a field removed, a status removed, a
#     `required` flipped, a code, a type or a range changed, and a copy of
#     API.md with an Errors row removed, a required cell flipped and a block
#     renamed, each fail that check;
#   - on a private stack (PostgreSQL, chatd, nginx with nchan), one request
#     per endpoint for its success and one or two of its errors: each
#     status is documented for the operation and each body validates
#     against the document's schema for it (ajv, JSON Schema 2020-12).
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
here=$CHATD_SRCDIR/tests/openapi
doc=$CHATD_SRCDIR/contrib/doc/openapi.json
command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }
[[ -d $here/node_modules/@seriousme/openapi-schema-validator && -d $here/node_modules/ajv ]] ||
	{ echo "SKIP: no $here/node_modules (cd tests/openapi && npm ci)"; exit 77; }
. "$CHATD_SRCDIR/tests/integration/lib.sh"
stack=$CHATD_SRCDIR/contrib/stack
dir=$(mktemp -d /tmp/chatd-openapi-XXXXXX)
chmod 0755 "$dir"
st=$dir/stack
cleanup() {
	"$stack" stop "$st" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

# node_check NAME ARGS... — check.mjs ARGS..., its lines shown; one result.
node_check() {
	local name=$1 out
	shift
	out=$(node "$here/check.mjs" "$@" 2>&1)
	local rc=$?
	printf '%s\n' "$out" | grep -v '^\[  PASSED  \]' | sed 's/^/    /'
	check "$name" "exit 0" "exit $rc"
}

node_check "openapi.json is valid OpenAPI 3.1" validate "$doc"
node_check "openapi.json names every route of src/routes.def" routes "$doc" "$CHATD_SRCDIR"

# The route check can fail: a document without POST /chats/typing, and
# one saying /users/me needs no session.
node -e '
const fs = require("fs"), d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
delete d.paths["/chats/typing"];
d.paths["/users/me"].post["x-chatd-session"] = "open";
fs.writeFileSync(process.argv[2], JSON.stringify(d));' "$doc" "$dir/bad.json"
out=$(node "$here/check.mjs" routes "$dir/bad.json" "$CHATD_SRCDIR" 2>&1)
check "a route missing from the document fails the check" \
	"[  FAILED  ] POST /chats/typing (src/api/chats_typing.c) is documented" "$out"
check "a wrong session rule fails the check" \
	'[  FAILED  ] POST /users/me: as /users/me, session "required"' "$out"

node_check "openapi.json says what API.md says, endpoint by endpoint" reference "$doc" "$CHATD_SRCDIR/contrib/doc/API.md"

# The reference check can fail. A document without messages/get's field
# "before", without members/add's 409, with messages/add's "author"
# required, with events/get's 410 carrying "conflict", with users/list's
# "limit" a string and messages/search's up to 200; an API.md without
# events/get's 410 row, with chats/direct's "user" not required, and with
# chats/typing's block renamed. Each must fail its endpoint's line, for
# that reason.
node -e '
const fs = require("fs"), d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const body = (p) => d.paths[p].post.requestBody.content["application/json"].schema;
delete body("/messages/get").properties.before;
delete d.paths["/chats/members/add"].post.responses["409"];
body("/messages/add").required.push("author");
d.paths["/events/get"].post.responses["410"] = { $ref: "#/components/responses/Conflict" };
body("/users/list").properties.limit = { type: "string" };
body("/messages/search").properties.limit.maximum = 200;
fs.writeFileSync(process.argv[2], JSON.stringify(d));' "$doc" "$dir/bad-ref.json"
out=$(node "$here/check.mjs" reference "$dir/bad-ref.json" "$CHATD_SRCDIR/contrib/doc/API.md" 2>&1)
# line OP — the check's line for operation OP ("POST /x"), or "".
line() { grep -F "] $1: " <<<"$out"; }
check "a field missing from the document fails the check" \
	"[  FAILED  ] POST /messages/get: " "$(line 'POST /messages/get')"
check "... naming the field" "field before: not in the document's requestBody" "$(line 'POST /messages/get')"
check "a status missing from the document fails the check" \
	"status 409: not a response of the document" "$(line 'POST /chats/members/add')"
check "a field required by the document alone fails the check" \
	"field author: API.md says required \"yes, but with a session\", the document's required has it" "$(line 'POST /messages/add')"
check "a status carrying another code fails the check" \
	"status 410: API.md's codes gone, the document's conflict" "$(line 'POST /events/get')"
check "a field of another type fails the check" \
	"field limit: API.md's type \"JSON integer\" is integer, the document's string" "$(line 'POST /users/list')"
check "a field of another range fails the check" \
	"field limit: the document says 1–200, API.md's rule does not" "$(line 'POST /messages/search')"
check "the other endpoints still agree" \
	"[       OK ] POST /chats/typing: " "$(line 'POST /chats/typing')"
sed -e '/^| 410 | `gone` | `after` is greater than 0/d' \
	-e 's/^| `user` | id | yes | an existing user other than the caller |/| `user` | id | no | an existing user other than the caller |/' \
	-e 's,^#### POST /chats/typing$,#### POST /chats/typed,' \
	"$CHATD_SRCDIR/contrib/doc/API.md" >"$dir/bad-API.md"
out=$(node "$here/check.mjs" reference "$doc" "$dir/bad-API.md" 2>&1)
check "an Errors row missing from API.md fails the check" \
	"status 410: a response the document has, API.md does not" "$(line 'POST /events/get')"
check "a required field that API.md calls optional fails the check" \
	"field user: API.md says required \"no\", the document's required has it" "$(line 'POST /chats/direct')"
check "an endpoint without its block in API.md fails the check" \
	"[  FAILED  ] POST /chats/typing: API.md documents it" "$out"
check "a block of API.md that is no operation fails the check" \
	"[  FAILED  ] every endpoint block of API.md is an operation of the document: POST /chats/typed" "$out"

port=${CHATD_TEST_PORT:-$(free_port)}
# --broadcast anyone: messages/broadcast's 201 without an administrator.
CHATD_PORT=$port CHATD_WORKERS=2 CHATD_SERVE_ARGS="--broadcast anyone" \
	"$stack" start "$st" >"$dir/start.log" 2>&1 ||
	{ cat "$dir/start.log"; echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
node_check "chatd's answers validate against openapi.json" live "$doc" "http://127.0.0.1:$port"
summary
