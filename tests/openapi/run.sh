#!/usr/bin/env bash
# contrib/doc/openapi.json against chatd (issue 13, point 3), with the npm
# packages of tests/openapi (npm ci there; skipped, 77, without them):
#   - the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator),
#     every $ref resolves and every response schema compiles (ajv);
#   - its operations are exactly the routes of chatd's table (src/routes.def
#     and each route's struct in src/api/, read here), with each route's
#     session rule; the internal routes are its x-chatd-internal; a copy of
#     the document without one route, or with a wrong session rule, fails;
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

port=${CHATD_TEST_PORT:-$(free_port)}
# --broadcast anyone: messages/broadcast's 201 without an administrator.
CHATD_PORT=$port CHATD_WORKERS=2 CHATD_SERVE_ARGS="--broadcast anyone" \
	"$stack" start "$st" >"$dir/start.log" 2>&1 ||
	{ cat "$dir/start.log"; echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
node_check "chatd's answers validate against openapi.json" live "$doc" "http://127.0.0.1:$port"
summary
