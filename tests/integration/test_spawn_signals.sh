#!/usr/bin/env bash
# Signals in the spawn window: a freshly forked worker must ignore SIGHUP
# (only the master acts on it) and must stop on SIGTERM, however early in
# its life either arrives. Between fork() and the worker's own handlers the
# window is a few system calls wide, so an LD_PRELOAD shim
# (slow_sigmask.c) widens it: in forked children, every sigprocmask() that
# lets SIGHUP or SIGTERM in sleeps SLOW_SIGMASK_MS afterwards. chatd runs
# with two workers under it; each round restarts the workers (SIGHUP to the
# master), waits until the new workers sit in the shim's sleep, and sends
# SIGHUP to each of them (rounds 1, 3, 5: they must live on, and chatd must
# serve) or SIGTERM to one (rounds 2, 4, 6: it must be gone within 2.5 s
# after the window, the master logging exit status 0). A worker that lets
# the signals in before it has its own handlers dies of SIG_DFL on SIGHUP
# and loses SIGTERM to the master's inherited handler.
#
# Only chatd runs under the shim: contrib/stack is given, as CHATD_BIN, a
# wrapper that sets LD_PRELOAD and execs (same pid) a copy of CHATD_BIN.
# Putting LD_PRELOAD in the environment of `contrib/stack start` would
# reach chatd too (setpriv and env keep the environment), but also
# PostgreSQL, nginx and the stack's own shells, whose forked children would
# all sleep.
#
# Exit status: 0 pass, 77 skip (no C compiler, no curl), 1 fail.
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
. "$(dirname "$0")/lib.sh"
stack=$CHATD_SRCDIR/contrib/stack
shim_src=$CHATD_SRCDIR/tests/integration/slow_sigmask.c
window_ms=500
workers=2

cc=()
for c in "${CC:-}" cc gcc clang; do
	[[ -n $c ]] || continue
	read -r -a words <<<"$c"
	command -v "${words[0]}" >/dev/null && { cc=("${words[@]}"); break; }
done
((${#cc[@]})) || { echo "SKIP: no C compiler to build the LD_PRELOAD shim"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
[[ -f $shim_src ]] || { echo "[  FAILED  ] $shim_src is missing"; exit 1; }

# The run user (nobody, when we are root) must reach everything in $tmp.
tmp=$(mktemp -d /tmp/chatd-sigtest-XXXXXX)
chmod 0755 "$tmp"
state=$tmp/state
log=$state/chatd.log
trap '"$stack" stop "$state" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ! "${cc[@]}" -shared -fPIC -O2 -Wall -Wextra -o "$tmp/slow_sigmask.so" \
	"$shim_src" -ldl >"$tmp/cc.log" 2>&1; then
	echo "[  FAILED  ] the shim does not compile:"
	cat "$tmp/cc.log"
	exit 1
fi
[[ -s $tmp/cc.log ]] && { echo "# compiler output for the shim:"; sed 's/^/# /' "$tmp/cc.log"; }
chmod 0644 "$tmp/slow_sigmask.so"
install -m 0755 "$CHATD_BIN" "$tmp/chatd"
# verify_asan_link_order=0: a sanitizer build accepts a preloaded library
# ahead of its runtime.
cat >"$tmp/chatd-slow" <<EOF
#!/bin/sh
LD_PRELOAD=$tmp/slow_sigmask.so\${LD_PRELOAD:+:\$LD_PRELOAD}
SLOW_SIGMASK_MS=$window_ms
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0
export LD_PRELOAD SLOW_SIGMASK_MS ASAN_OPTIONS
exec $tmp/chatd "\$@"
EOF
chmod 0755 "$tmp/chatd-slow"

mkdir "$state"
port=$(free_port)
url=http://127.0.0.1:$port
# The main pool only (no /auth/ pool): the rounds count its workers.
if ! CHATD_BIN=$tmp/chatd-slow CHATD_PORT=$port CHATD_WORKERS=$workers CHATD_AUTH_WORKERS=0 \
	"$stack" start "$state" >"$tmp/start.log" 2>&1; then
	echo "[  FAILED  ] 1 test(s), listed below: stack start"
	cat "$tmp/start.log"
	exit 1
fi
master=$(sed -n 's/^CHATD_MASTER_PID=//p' "$state/env")

alive() {	# alive PID: a live process, not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s%% *} != Z ]]
}

children() {	# children: the master's live workers, one a line (its
	local p	# relay, named chatd-relay, is not one)
	if [[ -r /proc/$master/task/$master/children ]]; then
		for p in $(<"/proc/$master/task/$master/children"); do
			alive "$p" && [[ $(cat "/proc/$p/comm" 2>/dev/null) != chatd-relay ]] &&
				echo "$p"
		done
	else
		pgrep -P "$master" | grep -vxF -f <(pgrep -x chatd-relay) || true
	fi
	return 0
}

# settle: wait (5 s at most) until the master has exactly its workers:
# retirees gone, respawns after a backoff done.
settle() {
	local i n
	for ((i = 0; i < 100; i++)); do
		n=$(children | wc -l)
		((n == workers)) && return 0
		sleep 0.05
	done
	return 1
}

# restart: SIGHUP to the master; prints the pids of the workers it then
# forks (waits 3 s at most for all of them).
restart() {
	local old new p i
	old=" $(children | tr '\n' ' ') "
	kill -HUP "$master" || return 1
	for ((i = 0; i < 300; i++)); do
		new=()
		for p in $(children); do
			[[ $old == *" $p "* ]] || new+=("$p")
		done
		((${#new[@]} == workers)) && { printf '%s\n' "${new[@]}"; return 0; }
		sleep 0.01
	done
	printf '%s\n' ${new[@]+"${new[@]}"}
	return 1
}

# in_window PID: wait (1 s at most) until PID sleeps in the shim, i.e. it
# has let the signals in and is not past the window yet.
in_window() {
	local i w
	for ((i = 0; i < 200; i++)); do
		w=$(cat "/proc/$1/wchan" 2>/dev/null) || return 1
		[[ $w == *nanosleep* ]] && return 0
		sleep 0.005
	done
	return 1
}

msleep() {	# msleep MS
	sleep "$(($1 / 1000)).$(printf '%03d' "$(($1 % 1000))")"
}

post_user() {	# post_user NAME: prints the HTTP status of users/add
	curl -s -m 10 -o /dev/null -w '%{http_code}' -d "{\"username\":\"$1\"}" "$url/users/add"
}

# this_round: what chatd logged since the round began (mark is its line
# count then).
mark=0
this_round() {
	tail -n "+$((mark + 1))" "$log"
}

killed_by() {	# killed_by TEXT: workers killed by "signal TEXT" this round
	this_round | grep -c "killed by signal $1"
}

check "chatd runs with $workers workers" "workers=$workers" \
	"workers=$(settle && children | wc -l)"
check "the master has the shim loaded" slow_sigmask.so \
	"$(grep -o 'slow_sigmask\.so' "/proc/$master/maps" | head -n 1)"

for round in 1 2 3 4 5 6; do
	if ! settle; then
		check "round $round: the master has $workers workers again" "$workers" "$(children | wc -l)"
		continue
	fi
	mark=$(wc -l <"$log")
	mapfile -t new < <(restart)
	if ((${#new[@]} != workers)); then
		check "round $round: SIGHUP to the master forks $workers new workers" \
			"$workers" "${#new[@]} (${new[*]})"
		continue
	fi
	if ((round % 2)); then
		# SIGHUP to every new worker, each inside its window.
		seen=0
		for p in "${new[@]}"; do
			in_window "$p" && seen=$((seen + 1))
			kill -HUP "$p" 2>/dev/null
		done
		check "round $round: both new workers were caught in the window" \
			"caught=$workers" "caught=$seen"
		msleep "$((2 * window_ms + 300))"	# past the window(s), handlers in place
		for p in "${new[@]}"; do
			check "round $round: worker $p is alive after SIGHUP in the spawn window" \
				alive "$(alive "$p" && echo alive || echo gone)"
		done
		check "round $round: no worker was killed by SIGHUP (chatd.log)" \
			"count=0" "count=$(killed_by '1 ')"
		check "round $round: chatd serves: users/add answers 201" 201 \
			"$(post_user "spawn_hup_$round")"
	else
		# SIGTERM to one new worker inside its window: it must stop on its
		# own, with status 0, within 2.5 s after the window.
		p=${new[0]} other=${new[1]}
		in_window "$p" && seen=1 || seen=0
		kill -TERM "$p" 2>/dev/null
		check "round $round: the new worker was caught in the window" "caught=1" "caught=$seen"
		gone=no
		for ((i = 0; i < (2 * window_ms + 2500) / 50; i++)); do
			alive "$p" || { gone=yes; break; }
			sleep 0.05
		done
		check "round $round: worker $p stopped after SIGTERM in the spawn window" \
			"gone=yes" "gone=$gone"
		sleep 0.2	# the master's reap and log line
		check "round $round: the master saw it exit with status 0" \
			"worker $p exited with status 0" "$(this_round | grep "worker $p " || echo 'no line for it')"
		check "round $round: no worker was killed by a signal (chatd.log)" \
			"count=0" "count=$(killed_by '')"
		check "round $round: the other new worker $other is alive" \
			alive "$(alive "$other" && echo alive || echo gone)"
		check "round $round: chatd serves: users/add answers 201" 201 \
			"$(post_user "spawn_term_$round")"
	fi
done

check "the master lived through it" alive "$(alive "$master" && echo alive || echo gone)"
if ((failed)); then
	echo "# chatd.log (last 40 lines):"
	tail -n 40 "$log" | sed 's/^/# /'
fi
summary
