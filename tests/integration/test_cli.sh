#!/usr/bin/env bash
# The chatd command line and its database life, on a real stack:
# --help/--version, `migrate` applied once, `serve` refusing a schema that is
# behind, and PostgreSQL going away and coming back under a running chatd
# (503 with Retry-After while it is gone, success within 2 s of its return).
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
stack=$CHATD_SRCDIR/contrib/stack
dir=$(mktemp -d /tmp/chatd-test-XXXXXX)
chmod 0755 "$dir"
. "$(dirname "$0")/lib.sh"
port=$(free_port)
url=http://127.0.0.1:$port
trap '"$stack" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT

post() {	# post PATH BODY: prints "STATUS RETRY-AFTER BODY"
	curl -s -m 10 -D "$dir/h" -o "$dir/b" -w '%{http_code}' -d "$2" "$url$1"
	printf ' %s %s' "$(tr -d '\r' <"$dir/h" | sed -n 's/^Retry-After: //Ip')" "$(cat "$dir/b")"
}

check "--help shows usage" "chatd serve" "$("$CHATD_BIN" --help)"
check "--version" "chatd 0.1" "$("$CHATD_BIN" --version)"
check "no socket on fd 0: usage, exit 2" "rc=2" "$("$CHATD_BIN" </dev/null 2>/dev/null; echo "rc=$?")"
check "unknown option: exit 2" "rc=2" "$("$CHATD_BIN" serve --bogus 2>/dev/null; echo "rc=$?")"

# A low write rate: the rate-limit check at the end needs it, and the
# writes before it fit in the shipped burst of 40.
CHATD_PORT=$port CHATD_WORKERS=2 CHATD_WRITE_RATE=1r/s "$stack" start "$dir" >/dev/null 2>&1 ||
	{ echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
db="host=$dir/pg dbname=chatd user=chatd"

# The latest version is the number of migrations in sql/ (001, 002, ...).
latest=$(find "$CHATD_SRCDIR/sql" -name '[0-9][0-9][0-9]_*.sql' | wc -l)
check "migrate twice is a no-op" "at version $latest" "$("$CHATD_BIN" migrate --db "$db" 2>&1)"
check "one row per migration" "$latest" "$("$stack" psql "$dir" -Atc 'SELECT count(*) FROM chatd_migrations')"

# chatd admin grant|revoke USERNAME (API.md 2.4's administrators).
"$stack" psql "$dir" -qc "INSERT INTO users (username) VALUES ('cli_admin')" >/dev/null
is_admin() { "$stack" psql "$dir" -Atc "SELECT is_admin FROM users WHERE username = 'cli_admin'"; }
check "admin grant: exit 0" "rc=0" "$("$CHATD_BIN" admin grant cli_admin --db "$db" 2>/dev/null; echo "rc=$?")"
check "admin grant: the user is an administrator" "t" "$(is_admin)"
check "admin revoke: exit 0" "rc=0" "$("$CHATD_BIN" admin revoke cli_admin --db "$db" 2>/dev/null; echo "rc=$?")"
check "admin revoke: no longer" "f" "$(is_admin)"
check "admin grant of no such user: exit 1, named" "no user named 'cli_nobody'" \
	"$("$CHATD_BIN" admin grant cli_nobody --db "$db" 2>&1; echo "rc=$?")"
check "admin without a verb: usage, exit 2" "rc=2" "$("$CHATD_BIN" admin cli_admin 2>/dev/null; echo "rc=$?")"

"$stack" psql "$dir" -qc 'CREATE DATABASE behind' >/dev/null
out=$("$CHATD_BIN" serve --listen "unix:$dir/behind.sock" --db "host=$dir/pg dbname=behind user=chatd" 2>&1)
rc=$?
check "serve refuses an unmigrated database" "run \`chatd migrate\`" "$out"
check "... with exit status 1" 1 "$rc"
check "... and leaves no socket" absent "$([[ -e $dir/behind.sock ]] && echo present || echo absent)"

# Least privilege: started as root, serve binds, hands the socket over and
# becomes --user before any request; without root, --user is refused.
if ((EUID == 0)); then
	"$CHATD_BIN" serve --listen "unix:$dir/priv.sock" --workers 1 --user nobody \
		--socket-group nogroup --socket-mode 0660 --db "$db" 2>"$dir/priv.log" &
	privpid=$!
	for _ in $(seq 50); do [[ -S $dir/priv.sock ]] && break; sleep 0.1; done
	sleep 0.3
	check "--user: socket owned by the user and --socket-group, mode 0660" \
		"nobody:nogroup 660" "$(stat -c '%U:%G %a' "$dir/priv.sock" 2>&1)"
	check "--user: the master runs as nobody" "uid=65534" \
		"uid=$(awk '/^Uid:/ {print $2 "/" $3 "/" $4}' "/proc/$privpid/status")"
	worker=$(pgrep -P "$privpid" | head -n 1)
	check "--user: its worker runs as nobody too" "uid=65534/65534/65534" \
		"uid=$(awk '/^Uid:/ {print $2 "/" $3 "/" $4}' "/proc/$worker/status" 2>&1)"
	if command -v cgi-fcgi >/dev/null; then
		check "--user: the worker answers" "Status: 201" \
			"$(body='{"username":"unprivileged"}'; printf '%s' "$body" | REQUEST_METHOD=POST \
				DOCUMENT_URI=/users/add CONTENT_LENGTH=${#body} cgi-fcgi -bind -connect "$dir/priv.sock")"
	fi
	kill -TERM "$privpid"
	wait "$privpid"
	check "--user: stops cleanly" "rc=0" "rc=$?"
else
	check "--user without root is refused" "needs chatd to be started as root" \
		"$("$CHATD_BIN" serve --listen "unix:$dir/priv.sock" --user nobody --db "$db" 2>&1)"
fi

# --verbose: one line per request (method, path, status, time), for
# every outcome; without it, none.
if command -v cgi-fcgi >/dev/null; then
	"$CHATD_BIN" serve --listen "unix:$dir/verbose.sock" --workers 1 --verbose \
		--db "$db" 2>"$dir/verbose.log" &
	vpid=$!
	for _ in $(seq 50); do [[ -S $dir/verbose.sock ]] && break; sleep 0.1; done
	fcgi() {	# fcgi METHOD PATH BODY
		printf '%s' "$3" | REQUEST_METHOD=$1 DOCUMENT_URI=$2 CONTENT_LENGTH=${#3} \
			cgi-fcgi -bind -connect "$dir/verbose.sock" >/dev/null
	}
	fcgi POST /users/add '{"username":"verbose_1"}'
	fcgi POST /users/add '{"username":""}'
	fcgi GET /users/add ''
	fcgi POST /nowhere '{}'
	fcgi GET /health ''
	fcgi POST $'/a\nchatd[1]: error: forged' '{}'
	kill -TERM "$vpid"
	wait "$vpid"
	for want in "POST /users/add 201" "POST /users/add 400" "GET /users/add 405" \
		"POST /nowhere 404" "GET /health 200"; do
		check "--verbose logs: $want" "$want" \
			"$(grep -Eo "debug: request $want [0-9]+\.[0-9]{2} ms\$" "$dir/verbose.log")"
	done
	check "--verbose: exactly one line per request" 6 "$(grep -c 'debug: request ' "$dir/verbose.log")"
	check "--verbose: a client's path cannot start a line of its own" \
		"request POST /a?chatd[1]: error: forged 404" \
		"$(grep -o 'request POST /a?chatd\[1\]: error: forged 404' "$dir/verbose.log")"
	check "... and forged no line" 0 "$(grep -c '^chatd\[1\]' "$dir/verbose.log")"
	check "without --verbose: no request lines" 0 "$(grep -c 'debug: request ' "$dir/chatd.log")"
fi

check "API answers before the outage" "201" "$(post /users/add '{"username":"before_outage"}')"
"$stack" pg-stop "$dir" >/dev/null 2>&1
for i in 1 2 3 4; do
	check "database down: 503 with Retry-After ($i)" "503 1 {\"error\":\"unavailable\"" \
		"$(post /users/add "{\"username\":\"during_$i\"}")"
done
masterpid=$(sed -n 's/^CHATD_MASTER_PID=//p' "$dir/env")
check "no worker restarted while the database was down" "restarts=0" \
	"restarts=$(grep -c 'killed by\|exited with' "$dir/chatd.log")"
"$stack" pg-start "$dir" >/dev/null 2>&1
sleep 2	# workers retry the connection at most every 250 ms
check "database back: requests succeed within 2 s" "201" "$(post /users/add '{"username":"after_outage"}')"
check "nothing from the outage was stored" "0" \
	"$("$stack" psql "$dir" -Atc "SELECT count(*) FROM users WHERE username LIKE 'during_%'")"
check "the master lived through it" alive "$(kill -0 "$masterpid" 2>/dev/null && echo alive)"

# nginx's write rate limit (the shipped limit_req, here at 1 r/s, burst 40):
# past the burst, writes get 429 as JSON with Retry-After; reads are free.
codes=$(for i in $(seq 60); do curl -s -o /dev/null -w '%{http_code}\n' -d '{"username":"x"}' "$url/users/add"; done | sort | uniq -c)
check "a burst of 60 writes meets the rate limit" "429" "$codes"
# The bucket refills at 1 r/s while the burst runs, and a slow run (a
# sanitizer build on a busy machine) can leave room for one more write: the
# check takes the first refused write, however long the burst took.
for _ in $(seq 100); do
	refused=$(post /chats/add '{"name":"n","users":[]}')
	[[ $refused == 429* ]] && break
done
check "429 is JSON with Retry-After" "429 1 {\"error\":\"too_many_requests\"" "$refused"
codes=$(for i in $(seq 60); do curl -s -o /dev/null -w '%{http_code}\n' -d '{}' "$url/chats/get"; done | sort | uniq -c)
check "reads are not rate-limited: 60 x 400 from chatd" "60 400" "$codes"

# chatd gone, nginx still up: nginx's own 502 is JSON in the API's format.
kill -TERM "$masterpid"
for _ in $(seq 100); do
	[[ -e /proc/$masterpid ]] && [[ $(awk '{print $3}' "/proc/$masterpid/stat" 2>/dev/null) != Z ]] || break
	sleep 0.1
done
check "chatd stopped: nginx answers 502 as JSON" "502 1 {\"error\":\"unavailable\"" \
	"$(post /chats/get '{"user":"1"}')"
check "... with Content-Type application/json" "application/json" \
	"$(tr -d '\r' <"$dir/h" | sed -n 's/^Content-Type: //Ip')"

summary
