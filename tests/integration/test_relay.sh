#!/usr/bin/env bash
# The relay and the wiring of GET /events (contrib/doc/REALTIME.md 2, 3),
# through the real stack: nginx with nchan, chatd's workers and relay,
# PostgreSQL. A subscriber is curl reading an EventSource stream
# (Accept: text/event-stream) into a file.
#
#   - GET /events: 401 without a session, 400 with If-None-Match or
#     If-Modified-Since (nchan would read them as a message id), 405 for
#     HEAD; a stream receives message.created after messages/add with the
#     event's id and the message;
#   - the relay killed (-9): the master starts another, which publishes
#     both an event taken but never published (republished from the
#     recorded position) and one committed while no relay ran;
#   - logout ends the session's open stream (the relay deletes its s<id>
#     channel);
#   - PostgreSQL restarted, nginx reloaded: the relay publishes on;
#   - a streams row nchan holds no stream of (its unsubscribe never came)
#     is closed by the relay's presence sweep, with the offline event;
#   - the relay vacuums the outbox after 1,000 events;
#   - SIGTERM to the master: the relay outlives a worker that finishes a
#     write, and publishes that write before it exits.
# Waits are bounded (a missed event fails, it does not hang), never
# asserted as timings.
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
stack=$CHATD_SRCDIR/contrib/stack
dir=$(mktemp -d /tmp/chatd-relay-XXXXXX)
chmod 0755 "$dir"
st=$dir/stack
. "$(dirname "$0")/lib.sh"
pids=()
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done
	[[ -n ${lock_pid:-} ]] && kill "$lock_pid" 2>/dev/null
	"$stack" stop "$st" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

port=${CHATD_TEST_PORT:-$(free_port)}
url=http://127.0.0.1:$port
# No statement timeout: the stop test holds a write on a lock.
# A presence sweep every second (the default is a minute).
CHATD_PORT=$port CHATD_WORKERS=2 CHATD_STATEMENT_TIMEOUT=0 \
	CHATD_SERVE_ARGS="--presence-sweep 1" "$stack" start "$st" >"$dir/start.log" 2>&1 ||
	{ cat "$dir/start.log"; echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }

psql() { "$stack" psql "$st" -XAtq "$@"; }
# json FIELD — FIELD of the JSON object on stdin.
json() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
# signup NAME — "id token" of a new user. A worker whose connection a
# PostgreSQL restart broke answers its next request 503: retried.
signup() {
	local out i
	for ((i = 0; i < 50; i++)); do
		out=$(curl -s -d "{\"username\":\"$1\",\"password\":\"password-$1\"}" "$url/auth/signup")
		[[ $out == *'"unavailable"'* ]] || break
		sleep 0.2
	done
	printf '%s %s\n' "$(json id <<<"$out")" "$(json token <<<"$out")"
}
# status ARGS... — the HTTP status of curl ARGS... to /events.
status() { curl -s -o "$dir/body" -w '%{http_code}' "$@" "$url/events"; }
# stream TOKEN FILE — an EventSource subscriber in the background, its pid
# in $stream_pid once nchan has subscribed it (nchan's ": hi" comment).
stream() {
	curl -sN -m 300 -H "Authorization: Bearer $1" -H 'Accept: text/event-stream' \
		"$url/events" >"$2" 2>&1 &
	stream_pid=$!
	pids+=("$stream_pid")
	wait_text "$2" ': hi' 20
}
# wait_text FILE TEXT SECONDS — true once FILE holds TEXT.
wait_text() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# gone PID SECONDS — true once PID has exited.
gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
# say TEXT — messages/add of TEXT by alice in the chat, its status.
say() {
	curl -s -o "$dir/said" -w '%{http_code}' -H "Authorization: Bearer $atok" \
		-d "{\"chat\":\"$chat\",\"author\":\"$aid\",\"text\":\"$1\"}" "$url/messages/add"
}
# relay_pid — the pid of the relay that logged last that it publishes.
relay_pid() {
	sed -n 's/^chatd\[\([0-9]*\)\]: info: relay: publishing from event.*/\1/p' \
		"$st/chatd.log" | tail -n 1
}
master=$(<"$st/chatd.pid")

read -r aid atok < <(signup alice)
read -r bid btok < <(signup bob)
chat=$(curl -s -H "Authorization: Bearer $atok" \
	-d "{\"name\":\"relay\",\"users\":[\"$aid\",\"$bid\"]}" "$url/chats/add" | json id)
check "setup: two users and a chat" ok "$([[ -n $atok && -n $btok && -n $chat ]] && echo ok)"

# --- GET /events -----------------------------------------------------------
check "GET /events without a session: 401" 401 "$(status)"
check "... with the API's error body" '"error":"unauthorized"' "$(cat "$dir/body")"
check "with If-None-Match: 400" 400 \
	"$(status -H "Authorization: Bearer $btok" -H 'If-None-Match: 1:0')"
check "... saying why" 'If-None-Match' "$(cat "$dir/body")"
check "with If-Modified-Since: 400" 400 \
	"$(status -H "Authorization: Bearer $btok" -H 'If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT')"
check "HEAD: 405" 405 "$(status -I -H "Authorization: Bearer $btok")"
check "the internal stream location is not reachable from outside: 404" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$url/_chatd/events/$bid/1")"

stream "$btok" "$dir/bob.es" || check "bob's stream opens" ': hi' "$(cat "$dir/bob.es")"
bob_stream=$stream_pid
check "messages/add: 201" 201 "$(say 'first over the stream')"
mid=$(json id <"$dir/said")
wait_text "$dir/bob.es" 'first over the stream' 20
line=$(grep -F 'first over the stream' "$dir/bob.es")
check "the stream gets message.created" '"type":"message.created"' "$line"
check "... of that message" "\"data\":{\"id\":\"$mid\",\"chat\":\"$chat\",\"author\":\"$aid\",\"text\":\"first over the stream\"" "$line"
eid=$(psql -c "SELECT id FROM events WHERE type = 'message.created' AND data LIKE '%\"id\":\"$mid\"%'")
check "... with the event's id" "data: {\"id\":\"$eid\",\"type\":\"message.created\",\"chat\":\"$chat\"" "$line"

# The other two transports, through the same redirect: a long-poll (no
# Accept: text/event-stream) answers one message; a WebSocket upgrade is
# switched. Neither says when nchan has subscribed it, so messages are
# sent until one arrives.
curl -s -m 60 -H "Authorization: Bearer $btok" "$url/events" >"$dir/poll.out" 2>&1 &
poll=$!
pids+=("$poll")
(
	exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
	printf 'GET /events HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n' \
		"$btok" >&3
	timeout 60 cat <&3
) >"$dir/ws.out" 2>&1 &
pids+=("$!")
for ((i = 0; i < 100; i++)); do
	say "to every transport $i" >/dev/null
	grep -qF 'to every transport' "$dir/poll.out" && grep -qaF 'to every transport' "$dir/ws.out" && break
	sleep 0.2
done
gone "$poll" 20
check "a long-poll: 200 with one event" '"type":"message.created"' "$(cat "$dir/poll.out")"
check "... of a message" 'to every transport' "$(cat "$dir/poll.out")"
check "a WebSocket: 101" 'HTTP/1.1 101' "$(tr -d '\0' <"$dir/ws.out" | head -n 1)"
check "... with Sec-WebSocket-Accept" 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' "$(tr -d '\r\0' <"$dir/ws.out" | head -n 12)"
check "... and message.created in a frame" 'to every transport' "$(tr -d '\0' <"$dir/ws.out")"

# A client's message id never reaches nchan: a stream opened with the
# Last-Event-ID (and last_event_id) of an event that nchan still buffers
# starts at the newest message, without the one after that id. Had nchan
# taken the id, it would send that one at once, before anything new.
nid=$(grep -B1 -F 'first over the stream' "$dir/bob.es" | sed -n 's/^id: //p')
say 'buffered, not for a new stream' >/dev/null
wait_text "$dir/bob.es" 'buffered, not for a new stream' 20
curl -gsN -m 300 -H "Authorization: Bearer $btok" -H 'Accept: text/event-stream' \
	-H "Last-Event-ID: $nid" "$url/events?last_event_id=$nid" >"$dir/lastid.es" 2>&1 &
pids+=("$!")
wait_text "$dir/lastid.es" ': hi' 20
say 'new, for the new stream' >/dev/null
wait_text "$dir/lastid.es" 'new, for the new stream' 20
check "a stream opened with Last-Event-ID: gets what is new" 'new, for the new stream' "$(cat "$dir/lastid.es")"
check "... and not what followed that id" ok "$([[ -n $nid ]] &&
	! grep -qF 'buffered, not for' "$dir/lastid.es" && echo ok)"

# --- the relay killed ------------------------------------------------------
old=$(relay_pid)
kill -STOP "$old"
say 'taken, never published' >/dev/null
# What a relay that died between its take and its publish leaves behind.
taken=$(psql -c "SELECT count(*) FROM chatd_events_take(100)")
say 'committed while no relay ran' >/dev/null
kill -9 "$old"
for ((i = 0; i < 100; i++)); do
	new=$(relay_pid)
	[[ -n $new && $new != "$old" ]] && break
	sleep 0.1
done
check "kill -9 of the relay: the master starts another" ok \
	"$([[ -n $new && $new != "$old" ]] && ps -o ppid= -p "$new" | grep -qw "$master" && echo ok)"
check "... (the event was taken behind its back)" 1 "$taken"
wait_text "$dir/bob.es" 'committed while no relay ran' 20
check "... which publishes the event taken and not published" 'taken, never published' "$(cat "$dir/bob.es")"
check "... and the one committed while none ran" 'committed while no relay ran' "$(cat "$dir/bob.es")"
check "... in id order" ok "$(grep -F -e 'taken, never' -e 'committed while' "$dir/bob.es" |
	head -n 1 | grep -qF 'taken, never' && echo ok)"

# --- logout ends the stream ------------------------------------------------
read -r _ ltok < <(curl -s -d '{"username":"bob","password":"password-bob"}' "$url/auth/login" |
	{ out=$(cat); printf '%s %s\n' "$(json id <<<"$out")" "$(json token <<<"$out")"; })
stream "$ltok" "$dir/logout.es"
lpid=$stream_pid
check "a second session's stream is open" ok "$(kill -0 "$lpid" 2>/dev/null && echo ok)"
t0=$(date +%s%N)
curl -s -o /dev/null -H "Authorization: Bearer $ltok" -H 'Content-Type: application/json' \
	-d '{}' "$url/auth/logout"
gone "$lpid" 20
t1=$(date +%s%N)
check "logout: its open stream ends" ok "$(kill -0 "$lpid" 2>/dev/null || echo ok)"
echo "# (it ended $(((t1 - t0) / 1000000)) ms after the logout was sent)"
check "... closed by nchan for the deleted channel" '410 Gone' "$(cat "$dir/logout.es")"
check "... while the other session's stream stays open" ok "$(kill -0 "$bob_stream" 2>/dev/null && echo ok)"

# --- PostgreSQL restarted, nginx reloaded -----------------------------------
"$stack" pg-stop "$st" >/dev/null 2>&1
"$stack" pg-start "$st" >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	[[ $(say 'after a PostgreSQL restart') == 201 ]] && break
	sleep 0.2
done
wait_text "$dir/bob.es" 'after a PostgreSQL restart' 30
check "PostgreSQL restarted: the relay publishes on" 'after a PostgreSQL restart' "$(cat "$dir/bob.es")"

nginx_pid=$(<"$st/nginx.pid")
mapfile -t before < <(ps --ppid "$nginx_pid" -o pid=)
kill -HUP "$nginx_pid"
# The old workers close their streams and go; the relay's kept
# connection goes with them.
for p in "${before[@]}"; do gone "$p" 20; done
stream "$btok" "$dir/reload.es"
say 'after an nginx reload' >/dev/null
wait_text "$dir/reload.es" 'after an nginx reload' 20
check "nginx reloaded: the relay publishes on" 'after an nginx reload' "$(cat "$dir/reload.es")"

# --- typing, a chat of more channels than a publish takes ----------------------
psql -c "SELECT pg_notify('chatd_typing', '$chat:$aid')" >/dev/null
wait_text "$dir/reload.es" '"type":"typing"' 20
check "a chatd_typing notification: the others get a typing event" \
	"{\"id\":null,\"type\":\"typing\",\"chat\":\"$chat\",\"data\":{\"user\":\"$aid\"}}" \
	"$(cat "$dir/reload.es")"

# 300 members and carol, whose id is the largest: her channel is past the
# first 255 ids and the first 1,024 bytes of the list.
psql -c "INSERT INTO users (username) SELECT 'many_' || g FROM generate_series(1, 300) g" >/dev/null
read -r cid ctok < <(signup carol)
members=$(psql -c "SELECT string_agg('\"' || id || '\"', ',') FROM users WHERE username LIKE 'many\_%'")
big=$(curl -s -H "Authorization: Bearer $atok" \
	-d "{\"name\":\"big\",\"users\":[\"$aid\",$members,\"$cid\"]}" "$url/chats/add" | json id)
stream "$ctok" "$dir/carol.es"
curl -s -o /dev/null -H "Authorization: Bearer $atok" \
	-d "{\"chat\":\"$big\",\"author\":\"$aid\",\"text\":\"to 302 members\"}" "$url/messages/add"
wait_text "$dir/carol.es" 'to 302 members' 20
check "a chat of 302 members: the last of them gets the message" 'to 302 members' "$(cat "$dir/carol.es")"

# --- presence: a stream nchan never said was closed ----------------------------
# nchan does not always send its unsubscribe request (REALTIME.md 4): such
# a stream's row stays. Made here by hand for dave, who has no stream; bob
# has one open (reload.es).
read -r did dtok < <(signup dave)
psql -c "INSERT INTO streams (id, user_id, session_id, opened_at)
	SELECT 'never-closed', user_id, id, now() - interval '1 hour'
	  FROM sessions WHERE user_id = $did" >/dev/null
for ((i = 0; i < 200; i++)); do
	[[ $(psql -c "SELECT count(*) FROM streams WHERE user_id = $did") == 0 ]] && break
	sleep 0.1
done
check "a stream row nchan holds no stream of: the relay's sweep closes it" 0 \
	"$(psql -c "SELECT count(*) FROM streams WHERE user_id = $did")"
check "... with the offline event of its last stream" 1 \
	"$(psql -c "SELECT count(*) FROM events WHERE type = 'presence' AND user_id = $did AND data LIKE '%\"online\":false%'")"
check "... and says so" 'closed 1 streams that nchan no longer held' "$(cat "$st/chatd.log")"
check "a user nchan holds a stream of keeps their row" ok \
	"$((($(psql -c "SELECT count(*) FROM streams WHERE user_id = $bid") >= 1)) && echo ok)"

# --- the outbox is vacuumed by the relay ---------------------------------------
# A queue: every event taken leaves a dead row. The relay vacuums it after
# every 1,000 events (vacuum_count counts a VACUUM command, not autovacuum).
vacuums() { psql -c "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'event_outbox'"; }
v0=$(vacuums)
psql -c "INSERT INTO event_outbox (type, user_id, online)
	SELECT 'presence', $did, g % 2 = 0 FROM generate_series(1, 1100) g" >/dev/null
psql -c "SELECT pg_notify('chatd_events', '')" >/dev/null
for ((i = 0; i < 200; i++)); do
	(($(vacuums) > v0)) && break
	sleep 0.1
done
check "1,100 events taken: the relay has vacuumed the outbox" ok "$((($(vacuums) > v0)) && echo ok)"
check "... and taken them all" 0 "$(psql -c "SELECT count(*) FROM event_outbox")"

# --- nchan unreachable: retried, the position stays --------------------------
# The mark comes first: the relay says once per outage that it cannot
# publish, and the first event it cannot publish may be any of those the
# outage makes (the presence of the streams the reload closes, of the new
# stream).
mark=$(stat -c %s "$st/chatd.log")
mv "$st/chatd-nchan.sock" "$st/away.sock"
nginx_pid=$(<"$st/nginx.pid")
mapfile -t before < <(ps --ppid "$nginx_pid" -o pid=)
kill -HUP "$nginx_pid"	# ends the relay's kept connection
for p in "${before[@]}"; do gone "$p" 20; done
stream "$btok" "$dir/away.es"
say 'while nchan was away' >/dev/null
awaymid=$(json id <"$dir/said")
for ((i = 0; i < 200; i++)); do
	tail -c "+$((mark + 1))" "$st/chatd.log" | grep -q 'no answer; retrying' && break
	sleep 0.1
done
awayeid=$(psql -c "SELECT id FROM events WHERE data LIKE '%\"id\":\"$awaymid\",\"chat\"%'")
check "publisher unreachable: the relay retries" 'no answer; retrying' "$(tail -c "+$((mark + 1))" "$st/chatd.log")"
# The event may not be taken yet (the relay is still retrying an earlier
# one, the stream's presence): then it is in the outbox, and no position
# can be past it.
check "... without moving its position past the event" ok "$(if [[ -n $awayeid ]]; then
	(($(psql -c 'SELECT published FROM relay_state') < awayeid)) && echo ok
elif [[ $(psql -c "SELECT count(*) FROM event_outbox WHERE message_id = $awaymid") == 1 ]]; then
	echo ok; fi)"
check "... which no stream got" ok "$(grep -qF 'while nchan was away' "$dir/away.es" || echo ok)"
mv "$st/away.sock" "$st/chatd-nchan.sock"
wait_text "$dir/away.es" 'while nchan was away' 30
check "publisher back: the event arrives" 'while nchan was away' "$(cat "$dir/away.es")"
awayeid=$(psql -c "SELECT id FROM events WHERE data LIKE '%\"id\":\"$awaymid\",\"chat\"%'")
check "... and the position moves past it" ok "$((($(psql -c 'SELECT published FROM relay_state') >= awayeid)) && echo ok)"

# --- one relay per database; expiry --------------------------------------------
"$CHATD_BIN" relay --db "host=$st/pg dbname=chatd user=chatd" \
	--relay-publish "unix:$st/chatd-nchan.sock" >"$dir/second.log" 2>&1 &
second=$!
pids+=("$second")
wait_text "$dir/second.log" 'another relay works on this database' 20
check "chatd relay beside the master's: it waits for the lock" 'waiting until it stops' "$(cat "$dir/second.log")"
kill -TERM "$second"
wait "$second"
check "... and stops on SIGTERM with status 0" 0 "$?"

last=$(psql -c "SELECT max(id) FROM events")
psql -c "UPDATE events SET created_at = created_at - interval '8 days' WHERE id <= $last - 2" >/dev/null
kill -9 "$(relay_pid)"	# a new relay expires at once, then every minute
for ((i = 0; i < 200; i++)); do
	[[ $(psql -c "SELECT count(*) FROM events WHERE id <= $last - 2") == 0 ]] && break
	sleep 0.1
done
check "events past the retention are deleted" 0 "$(psql -c "SELECT count(*) FROM events WHERE id <= $last - 2")"
check "... the newer ones kept" 2 "$(psql -c "SELECT count(*) FROM events WHERE id > $last - 2 AND id <= $last")"
check "... and the horizon moved" "$((last - 2))" "$(psql -c "SELECT horizon FROM relay_state")"
stream "$btok" "$dir/reload.es"	# the SIGTERM test reads this one

# --- SIGTERM: the relay stops after the workers -------------------------------
# A write held by a lock keeps a worker busy through the stop.
coproc LOCK { "$stack" psql "$st" -XAtq; }
lock_pid=$LOCK_PID
echo "BEGIN; LOCK TABLE messages IN EXCLUSIVE MODE; SELECT 'locked';" >&"${LOCK[1]}"
read -r -t 20 locked <&"${LOCK[0]}"
check "a lock on messages" locked "${locked:-}"
say 'the last write' >"$dir/last.status" &
writer=$!
for ((i = 0; i < 200; i++)); do
	[[ $(psql -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") != 0 ]] && break
	sleep 0.1
done
relay=$(relay_pid)
kill -TERM "$master"
for ((i = 0; i < 100; i++)); do [[ -S $st/chatd.sock ]] || break; sleep 0.1; done
check "SIGTERM: the master stops (its socket goes)" ok "$([[ ! -S $st/chatd.sock ]] && echo ok)"
check "... the relay runs on while a worker finishes its write" ok \
	"$(kill -0 "$relay" 2>/dev/null && kill -0 "$master" 2>/dev/null && echo ok)"
echo "COMMIT;" >&"${LOCK[1]}"
exec {LOCK[1]}>&-
wait "$writer"
check "... the write is answered" 201 "$(cat "$dir/last.status")"
gone "$master" 30
check "... and the master exits" ok "$(kill -0 "$master" 2>/dev/null || echo ok)"
check "... the relay with it" ok "$(kill -0 "$relay" 2>/dev/null || echo ok)"
check "... having published the last write first" 'the last write' "$(cat "$dir/reload.es")"

# --- SIGTERM with a backlog ----------------------------------------------------
# A relay that always has events to publish still sees a stop, and leaves
# the rest to the next one without the master having to kill it.
"$stack" stop "$st" >/dev/null 2>&1
# A presence sweep every second (the default is a minute).
CHATD_PORT=$port CHATD_WORKERS=2 CHATD_STATEMENT_TIMEOUT=0 \
	CHATD_SERVE_ARGS="--presence-sweep 1" "$stack" start "$st" >>"$dir/start.log" 2>&1
master=$(<"$st/chatd.pid")
psql -c "INSERT INTO messages (chat_id, author_id, text, created_at)
	SELECT $chat, $aid, 'backlog ' || g, now() FROM generate_series(1, 50000) g" >/dev/null
mark=$(stat -c %s "$st/chatd.log")
for ((i = 0; i < 200; i++)); do
	(($(psql -c "SELECT count(*) FROM event_outbox") < 50000)) && break
	sleep 0.1
done
relay=$(relay_pid)
kill -TERM "$master"
gone "$master" 60
since=$(tail -c "+$((mark + 1))" "$st/chatd.log")
check "SIGTERM with a backlog: the relay stops by itself" 'relay: stopped at event' "$since"
check "... not killed by the master" ok "$([[ $since != *"relay $relay killed"* ]] && echo ok)"
check "... leaving the rest in the outbox" ok "$((($(psql -c "SELECT count(*) FROM event_outbox") > 0)) && echo ok)"
check "nginx's error log shows no worker exiting on a signal" ok \
	"$(grep -q 'exited on signal' "$st/nginx-error.log" && grep 'exited on signal' "$st/nginx-error.log" || echo ok)"

summary
