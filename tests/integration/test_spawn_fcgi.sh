#!/usr/bin/env bash
# chatd under spawn-fcgi: the FastCGI socket arrives on fd 0 and chatd runs
# as a plain worker (no master). Starts a private stack for PostgreSQL, then
# spawn-fcgi with two chatd workers on a second socket, and talks FastCGI to
# them with cgi-fcgi. Prints TAP-like lines and a cmocka-style summary.
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
for tool in spawn-fcgi cgi-fcgi; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

dir=$(mktemp -d /tmp/chatd-test-XXXXXX)
chmod 0755 "$dir"
. "$(dirname "$0")/lib.sh"
port=$(free_port)
user=nobody group=nogroup
[[ $EUID -eq 0 ]] || { user=$(id -un); group=$(id -gn); }

cleanup() {
	[[ -s $dir/spawn.pids ]] && kill $(cat "$dir/spawn.pids") 2>/dev/null
	"$CHATD_SRCDIR/contrib/stack" stop "$dir" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

CHATD_PORT=$port CHATD_WORKERS=1 "$CHATD_SRCDIR/contrib/stack" start "$dir" >/dev/null ||
	{ echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
bin=$CHATD_BIN
[[ -x $dir/bin/chatd ]] && bin=$dir/bin/chatd	# the copy stack made for the run user

spawn_args=(-s "$dir/spawn.sock" -M 0666 -F 2)
[[ $EUID -eq 0 ]] && spawn_args+=(-u "$user" -g "$group")
spawn-fcgi "${spawn_args[@]}" -- "$bin" --db "host=$dir/pg dbname=chatd user=chatd" \
	2>"$dir/spawn.log" | sed -n 's/.*PID: \([0-9]*\).*/\1/p' >"$dir/spawn.pids"

fcgi() {	# fcgi METHOD PATH BODY
	local body=$3
	printf '%s' "$body" | REQUEST_METHOD=$1 DOCUMENT_URI=$2 \
		CONTENT_LENGTH=${#body} cgi-fcgi -bind -connect "$dir/spawn.sock"
}

check "two workers spawned" 2 "$(wc -l <"$dir/spawn.pids")"
name=spawned_$$
check "users/add answers 201" "Status: 201" "$(fcgi POST /users/add "{\"username\":\"$name\"}")"
check "the same name answers 409" "Status: 409" "$(fcgi POST /users/add "{\"username\":\"$name\"}")"
check "GET answers 405" "Allow: POST" "$(fcgi GET /users/add '')"
check "unknown path answers 404" '"error":"not_found"' "$(fcgi POST /nope '{}')"
# The user is visible through the serve-mode stack too: one database.
check "data shared with the nginx stack" "409" \
	"$(curl -s -o /dev/null -w '%{http_code}' -d "{\"username\":\"$name\"}" "http://127.0.0.1:$port/users/add")"
pid=$(head -n 1 "$dir/spawn.pids")
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid") != Z* ]] || break; sleep 0.1; done
check "a worker stops on SIGTERM" gone "$( (kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid") != Z* ]]) && echo running || echo gone)"
check "the other worker still answers" "Status: 201" "$(fcgi POST /users/add "{\"username\":\"${name}_2\"}")"

summary
