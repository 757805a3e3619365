#!/bin/sh
# run-fuzz.sh SRCDIR OUTDIR TARGET... — what `make fuzz` runs in a build
# configured with --enable-fuzzing: each libFuzzer TARGET for FUZZ_SECONDS
# (default 60) seconds, one after the other, then a summary.
#
# Per target NAME, under OUTDIR:
#   corpus/NAME/      the corpus; kept from run to run, new inputs land here
#   case-seeds/NAME/  seeds made from SRCDIR/tests/cases (case-seeds.pl),
#                     read along with the committed SRCDIR/tests/fuzz/seeds/NAME
#   logs/NAME.log     libFuzzer's output
#   artifacts/NAME-*  the input of a finding (crash, leak, timeout, broken
#                     invariant), to replay with: TARGET ARTIFACT
#   results           one line per target: PASS|FAIL NAME, seconds, runs,
#                     exec/s, corpus files and bytes, coverage (edges
#                     reached of those instrumented, libFuzzer's features)
# SRCDIR/tests/fuzz/NAME.dict, when present, is the target's dictionary.
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
#
# Exit status: 0 when every target ran its time without a finding.

set -u
LC_ALL=C
export LC_ALL

if [ $# -lt 3 ]; then
	echo "usage: $0 SRCDIR OUTDIR TARGET..." >&2
	exit 2
fi
src=$1 out=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
case $seconds in
'' | *[!0-9]*) echo "run-fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;;
esac

mkdir -p "$out/logs" "$out/artifacts" "$out/corpus" || exit 1
if command -v perl >/dev/null 2>&1; then
	perl "$src/tests/fuzz/case-seeds.pl" "$src/tests/cases" "$out/case-seeds" || exit 1
else
	echo "run-fuzz: no perl: seeds from tests/cases left out"
fi
: >"$out/results"

# stat NAME LOG — the value of libFuzzer's final statistic NAME.
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

failed=0
for target in "$@"; do
	name=$(basename "$target")
	corpus=$out/corpus/$name
	log=$out/logs/$name.log
	mkdir -p "$corpus"
	rm -f "$out/artifacts/$name-"*
	# the corpus directories, the first one receiving new inputs (the list
	# of targets was read by `for` already)
	set -- "$corpus"
	[ -d "$src/tests/fuzz/seeds/$name" ] && set -- "$@" "$src/tests/fuzz/seeds/$name"
	[ -d "$out/case-seeds/$name" ] && set -- "$@" "$out/case-seeds/$name"
	dict=
	[ -f "$src/tests/fuzz/$name.dict" ] && dict=-dict=$src/tests/fuzz/$name.dict
	echo "fuzz: $name for ${seconds}s (log: $log)"
	# shellcheck disable=SC2086 # FUZZ_ARGS and dict are word lists
	"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
		${dict:+"$dict"} ${FUZZ_ARGS:-} "$@" >"$log" 2>&1
	rc=$?

	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
	runs=$(stat number_of_executed_units "$log")
	speed=$(stat average_exec_per_sec "$log")
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	ft=${cov##* }
	cov=${cov#cov: }
	cov=${cov%% *}
	secs=$(printf '%s\n' "$done_line" | sed -n 's/.* in \([0-9]*\) second.*/\1/p')
	edges=$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)
	files=$(find "$corpus" -type f | wc -l)
	bytes=$(find "$corpus" -type f -exec cat {} + | wc -c)
	if [ "$rc" -eq 0 ] && [ -n "$done_line" ]; then
		result=PASS
	else
		result=FAIL
		failed=$((failed + 1))
	fi
	printf '%s %s %ss %s runs %s exec/s corpus %s files %s bytes coverage %s/%s edges %s features\n' \
		"$result" "$name" "${secs:-?}" "${runs:-?}" "${speed:-?}" \
		"$files" "$bytes" "${cov:-?}" "${edges:-?}" "${ft:-?}" >>"$out/results"
	if [ "$result" = PASS ]; then
		echo "fuzz: $name: $done_line; ${speed:-?} exec/s; corpus $files files; coverage ${cov:-?}/${edges:-?} edges, ${ft:-?} features"
		continue
	fi
	echo "fuzz: $name FAILED (libFuzzer exit $rc); the end of $log:"
	tail -n 60 "$log" | sed 's/^/  | /'
	for a in "$out/artifacts/$name-"*; do
		[ -f "$a" ] && echo "fuzz: $name: input saved as $a; replay: $target $a"
	done
done

echo
echo "fuzz results (${seconds}s per target):"
sed 's/^/  /' "$out/results"
if [ "$failed" -gt 0 ]; then
	echo "fuzz: $failed target(s) found a problem"
	exit 1
fi
exit 0
