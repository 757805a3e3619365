#!/usr/bin/env bash
# contrib/dev run stops its whole stack (PostgreSQL, chatd, nginx) whatever
# stops it, and leaves nothing behind: each of these, CHATD_DEV_RUNS times
# (default 3), on a stack that answered 201 first:
#   a. SIGINT to the process group of `contrib/dev run 2>&1 | tee FILE`, as a
#      terminal's Ctrl-C does (tee dies with it: the stop's messages go to a
#      pipe nobody reads);
#   b. SIGTERM to the process group of `contrib/dev run` alone;
#   c. SIGHUP to the group of the pipeline (a closed terminal);
#   d. a. with a second SIGINT while contrib/stack stop runs;
#   e. SIGHUP to the group of contrib/dev alone, then SIGTERM during the stop.
# After each, within CHATD_DEV_STOP_SECS (default 30) s: no process of the
# stack is left (the pids of DIR/env and pgdata/postmaster.pid, their
# children, anything whose command line names the state directory), and
# nothing of the process group either (contrib/dev, tee, the log tail);
# in b. and e., contrib/dev said "stopped".
#
# Environment: CHATD_BIN and CHATD_SRCDIR (from make check); CHATD_DEV, the
# contrib/dev to test (default $CHATD_SRCDIR/contrib/dev; an older one, which
# knows no CHATD_BUILD_DIR, must sit in a tree of its own with contrib/stack,
# nginx/ and a build/ whose make does nothing); CHATD_DEV_RUNS;
# CHATD_DEV_STOP_SECS. contrib/dev gets CHATD_BUILD_DIR, a directory whose
# src/chatd is CHATD_BIN, so it builds nothing. Skipped (77) when a package
# contrib/dev would install is missing. Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
. "$(dirname "$0")/lib.sh"
dev=${CHATD_DEV:-$CHATD_SRCDIR/contrib/dev}
runs=${CHATD_DEV_RUNS:-3}
stop_secs=${CHATD_DEV_STOP_SECS:-30}
stack=$CHATD_SRCDIR/contrib/stack

skip() { echo "SKIP: $*"; exit 77; }
for cmd in setsid curl nginx dpkg-query; do
	command -v "$cmd" >/dev/null || skip "no $cmd"
done
env --default-signal=INT true 2>/dev/null || skip "env has no --default-signal"
# contrib/dev installs the Debian packages it misses: a test must not.
mapfile -t packages < <(bash -c 'eval "$(sed -n "/^PACKAGES=(/,/^)/p" "$1")"
	printf "%s\n" "${PACKAGES[@]}"' _ "$dev")
((${#packages[@]})) || skip "cannot read PACKAGES from $dev"
for p in "${packages[@]}"; do
	[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] ||
		skip "Debian package $p is not installed (contrib/dev would install it)"
done

tmp=$(mktemp -d /tmp/chatd-test-XXXXXX)
chmod 0755 "$tmp"
state=$tmp/state
mkdir -p "$tmp/build/src"
ln -s "$(cd "$(dirname "$CHATD_BIN")" && pwd -P)/$(basename "$CHATD_BIN")" "$tmp/build/src/chatd"

groups=()   # the process groups started, for the cleanup
users=0     # users added
cleanup() {
	local g
	trap '' INT TERM HUP
	for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
	"$stack" stop "$state" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# scan — read every process of the machine into P_STATE, P_PPID, P_PGRP,
# P_START (fields 3, 4, 5 and 22 of /proc/PID/stat) and P_CMD (the command
# line, arguments joined by spaces). Forks nothing: it runs often.
declare -A P_STATE P_PPID P_PGRP P_START P_CMD
scan() {
	local f pid line fields args
	P_STATE=() P_PPID=() P_PGRP=() P_START=() P_CMD=()
	for f in /proc/[0-9]*; do
		pid=${f#/proc/}
		IFS= read -r line 2>/dev/null <"$f/stat" || continue
		read -r -a fields <<<"${line##*) }"
		P_STATE[$pid]=${fields[0]} P_PPID[$pid]=${fields[1]}
		P_PGRP[$pid]=${fields[2]} P_START[$pid]=${fields[19]}
		args=()
		mapfile -d "" -t args 2>/dev/null <"$f/cmdline"
		P_CMD[$pid]="${args[*]}"
	done
}

# alive PID — true if PID was there at the last scan and not a zombie (a
# zombie has ended; orphans are not always reaped on these machines).
alive() { [[ -n $1 && -n ${P_STATE[$1]:-} && ${P_STATE[$1]} != Z ]]; }

# in_group PGID — the live processes of group PGID, "PID CMDLINE" each.
in_group() {
	local pid
	for pid in "${!P_PGRP[@]}"; do
		[[ ${P_PGRP[$pid]} == "$1" ]] && alive "$pid" && printf '%s %s\n' "$pid" "${P_CMD[$pid]}"
	done
	return 0
}

# naming TEXT — the live processes whose command line contains TEXT.
naming() {
	local pid
	for pid in "${!P_CMD[@]}"; do
		[[ $pid == "$$" ]] && continue
		[[ ${P_CMD[$pid]} == *"$1"* ]] && alive "$pid" && printf '%s %s\n' "$pid" "${P_CMD[$pid]}"
	done
	return 0
}

# stack_pids — "PID:STARTTIME" of every process of the running stack: the
# chatd master, nginx and the postmaster, their descendants (postgres
# backends and nginx workers do not name the state directory), and whatever
# names it. Scans first.
stack_pids() {
	local pid seen=" " grown=1
	scan
	for pid in $(sed -n 's/^CHATD_MASTER_PID=//p; s/^CHATD_NGINX_PID=//p' "$state/env" 2>/dev/null) \
		$(head -n 1 "$state/pgdata/postmaster.pid" 2>/dev/null) \
		$(naming "$state/" | cut -d' ' -f1); do
		seen+="$pid "
	done
	while ((grown)); do
		grown=0
		for pid in "${!P_PPID[@]}"; do
			if [[ $seen == *" ${P_PPID[$pid]} "* && $seen != *" $pid "* ]]; then
				seen+="$pid "
				grown=1
			fi
		done
	done
	for pid in $seen; do
		alive "$pid" && printf '%s:%s\n' "$pid" "${P_START[$pid]}"
	done
	return 0
}

# survivors PID:STARTTIME... — of those, the ones still alive at the last
# scan (the same process, not a recycled pid), "PID CMDLINE" each, and
# anything else naming the state directory.
survivors() {
	local p pid
	{
		for p in "$@"; do
			pid=${p%%:*}
			alive "$pid" && [[ ${P_START[$pid]} == "${p#*:}" ]] &&
				printf '%s %s\n' "$pid" "${P_CMD[$pid]}"
		done
		naming "$state/"
	} | sort -u
}

# status_of_add NAME — the HTTP status of a users/add of NAME on the stack.
status_of_add() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' -d "{\"username\":\"$1\"}" \
		"http://127.0.0.1:$port/users/add" 2>/dev/null
}

# one_run NAME SIGNAL pipe|plain [SECOND] — start contrib/dev run in a
# process group of its own, wait for a 201, send SIGNAL to the group (and
# SECOND too once contrib/stack stop runs), check that everything ends.
one_run() {
	local name=$1 sig=$2 how=$3 second=${4:-} log=$tmp/${1%% *}.log pgid i st=000 pids=() left group
	# x1 at the first run; the state directory, and so the users, are kept
	# from run to run
	users=$((users + 1))
	local attempt
	for attempt in 1 2 3; do
		port=$(free_port)
		# setsid: a process group (and session) of its own, as a terminal
		# gives a pipeline; env: the signals at their default (a background
		# job of a script ignores INT, and contrib/dev could not trap it).
		local envs=(env --default-signal=INT,QUIT,TERM,HUP,PIPE
			"CHATD_BUILD_DIR=$tmp/build" "CHATD_STATE_DIR=$state" "CHATD_PORT=$port" CHATD_WORKERS=2)
		if [[ $how == pipe ]]; then
			setsid "${envs[@]}" bash -c '"$0" run 2>&1 | tee "$1" >/dev/null' "$dev" "$log" </dev/null &
		else
			setsid "${envs[@]}" "$dev" run </dev/null >"$log" 2>&1 &
		fi
		pgid=$!
		groups+=("$pgid")
		disown   # no "Killed" line from bash if it has to be killed

		for ((i = 0; i < 600; i++)); do
			st=$(status_of_add "x$users")
			[[ $st == 201 ]] && break
			scan
			[[ -n $(in_group "$pgid") ]] || break
			sleep 0.1
		done
		# free_port races with whatever else binds ports on the machine
		[[ $st != 201 ]] && grep -q 'Address already in use' "$log" || break
		echo "    ($name: port $port was taken meanwhile; again)"
		sleep 0.5
	done
	check "$name: the stack answers users/add" 201 "$st"
	if [[ $st != 201 ]]; then
		sed 's/^/    | /' "$log" | tail -n 20
		kill -KILL -- "-$pgid" 2>/dev/null
		"$stack" stop "$state" >/dev/null 2>&1
		return
	fi
	mapfile -t pids < <(stack_pids)
	scan
	local devpid running
	devpid=$(in_group "$pgid" | awk -v d="$dev run" 'index($0, d) { print $1; exit }')
	running=$(survivors "${pids[@]}")
	local seen="dev=${devpid:+yes}" what
	for what in "pg=postgres -D $state/pgdata" "chatd=unix:$state/chatd.sock" "nginx=nginx: master"; do
		seen+=" ${what%%=*}=$([[ $running == *"${what#*=}"* ]] && echo yes)"
	done
	check "$name: contrib/dev runs, with postgres, chatd and nginx (${#pids[@]} processes)" \
		"dev=yes pg=yes chatd=yes nginx=yes" "$seen"

	kill "-$sig" -- "-$pgid"
	if [[ -n $second ]]; then
		# an impatient second Ctrl-C, the HUP after a closed terminal...
		for ((i = 0; i < 100; i++)); do
			scan
			[[ -n $(naming "stop $state") ]] && break
			sleep 0.02
		done
		kill "-$second" -- "-$pgid" 2>/dev/null
		echo "    ($name: SIG$second sent $([[ -n $(naming "stop $state") ]] &&
			echo "during contrib/stack stop" || echo "after the stop had ended or not begun"))"
	fi

	# Wait for the stop. A contrib/dev gone while the stack lives, with no
	# stop under way, will not get better: judge it after 3 more seconds.
	local t0=$SECONDS orphaned=0
	while ((SECONDS - t0 < stop_secs)); do
		scan
		left=$(survivors "${pids[@]}")
		group=$(in_group "$pgid")
		[[ -z $left && -z $group ]] && break
		if [[ -z $group && -z $(naming "stop $state") ]]; then
			((orphaned++ >= 15)) && break
		fi
		sleep 0.2
	done
	check "$name: contrib/dev exited" "gone" "$(alive "$devpid" && echo "still running" || echo gone)"
	check "$name: nothing of its process group is left (tee, tail, sleep)" "none" "${group:-none}"
	check "$name: no postgres, chatd or nginx of $state is left" "none" "${left:-none}"
	check "$name: postmaster.pid removed" "absent" \
		"$([[ -e $state/pgdata/postmaster.pid ]] && echo present || echo absent)"
	if [[ $how == plain ]]; then
		check "$name: it said so" "dev: stopped" "$(tail -n 3 "$log")"
	fi
	if [[ -z $left && -z $group ]]; then
		echo "    ($name: all gone within $((SECONDS - t0 + 1)) s)"
	else
		echo "    ($name: still there after $((SECONDS - t0)) s)"
		[[ $how == plain ]] && sed 's/^/    | /' "$log" | tail -n 5
		kill -KILL -- "-$pgid" 2>/dev/null
		"$stack" stop "$state" >/dev/null 2>&1
	fi
}

for ((r = 1; r <= runs; r++)); do
	one_run "a$r SIGINT to dev|tee" INT pipe
	one_run "b$r SIGTERM to dev" TERM plain
	one_run "c$r SIGHUP to dev|tee" HUP pipe
	# the same, with a second signal while the stack stops
	one_run "d$r SIGINT twice to dev|tee" INT pipe INT
	one_run "e$r SIGHUP then SIGTERM to dev" HUP plain TERM
done
summary
