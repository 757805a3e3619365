#!/bin/sh
# run-test.sh TEST [ARGS...] — the LOG_COMPILER of a sanitizer build
# (configure --enable-sanitizers): runs one test so that the sanitizer
# reports of every process it starts go to a directory of its own, and
# fails the test when anything was reported there.
#
# A test of chatd does not see most of what goes wrong in chatd: a worker
# that trips AddressSanitizer dies and is respawned, the request just fails
# or is retried, and LeakSanitizer speaks when a process exits, after the
# test has judged. So ASAN_OPTIONS and UBSAN_OPTIONS (which reach chatd
# through contrib/stack: setpriv and env keep the environment) name a
# log_path here; each process writes its reports to REPORTS/report.PID.
# The directory is world-writable because chatd's workers run as `nobody`
# when the tests run as root.
#
# quarantine_size_mb=1: freed memory is held back from reuse (to catch a
# use after free) up to 256 MB by default, which a worker streaming a big
# chat turns into RSS; test_streaming bounds a worker's growth at 8 MB.
#
# Exit status: the test's, or 1 when it passed but something was reported.
# Options a caller puts in ASAN_OPTIONS, UBSAN_OPTIONS or LSAN_OPTIONS come
# after ours and win (a log_path there defeats the check).

reports=$(mktemp -d "${TMPDIR:-/tmp}/chatd-sanitizer.XXXXXX") || exit 99
chmod 1777 "$reports" || exit 99

here=$(cd "$(dirname "$0")" && pwd)
common="log_path=$reports/report:print_summary=1"
ASAN_OPTIONS="$common:detect_leaks=1:quarantine_size_mb=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="$common:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

"$@"
rc=$?

found=0
for f in "$reports"/report.*; do
	[ -f "$f" ] || continue
	found=$((found + 1))
	printf '\n===== sanitizer report %s =====\n' "${f##*/}"
	cat "$f"
done
rm -rf "$reports"
if [ "$found" -gt 0 ]; then
	printf '\nsanitizer: %d process(es) reported errors above\n' "$found"
	if [ "$rc" -eq 0 ]; then
		rc=1
	fi
fi
exit "$rc"
