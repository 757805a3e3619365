# Shared by the shell integration tests (sourced, not run).

# free_port — print a loopback TCP port nothing listens on now, below the
# kernel's range for outgoing connections (32768-60999 by default), where
# another program's connection could take it before the test binds it.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12768))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
	done
	echo "$port"
}

# check NAME EXPECTED ACTUAL — one cmocka-style result line: OK when
# EXPECTED occurs in ACTUAL. Counts into $passed and $failed.
passed=0 failed=0
check() {
	if [[ $3 == *"$2"* ]]; then
		echo "[       OK ] $1"; passed=$((passed + 1))
	else
		echo "[  FAILED  ] $1: expected '$2' in: $3"; failed=$((failed + 1))
	fi
}

# summary — cmocka's closing lines; exit status 1 when anything failed.
summary() {
	echo "[  PASSED  ] $passed test(s)."
	if ((failed)); then
		echo "[  FAILED  ] $failed test(s), listed above"
		exit 1
	fi
	exit 0
}
