#!/usr/bin/env bash
# The web client (tests/browser/chat.test.mjs), then the API's docs page
# (docs.test.mjs), in real headless Chromium, against a private stack:
# PostgreSQL, chatd with its relay, nginx with nchan serving the client's
# static files and the docs. make check's entry.
#
# Skipped (77) when Debian's /usr/bin/chromium or the npm packages
# (tests/browser/node_modules/playwright-core: `npm ci` in tests/browser)
# are missing. Screenshots of every step go to CHATD_BROWSER_ARTIFACTS
# (default: tests/browser/artifacts under the current directory, the build
# directory under make check); the output says where.
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
here=$CHATD_SRCDIR/tests/browser
chromium=${CHATD_CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || { echo "SKIP: no $chromium (apt-get install chromium)"; exit 77; }
[[ -f $here/node_modules/playwright-core/package.json ]] ||
	{ echo "SKIP: no $here/node_modules/playwright-core (cd $here && npm ci)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }

stack=$CHATD_SRCDIR/contrib/stack
artifacts=${CHATD_BROWSER_ARTIFACTS:-$PWD/tests/browser/artifacts}
rm -rf "$artifacts" && mkdir -p "$artifacts" || exit 1
artifacts=$(cd "$artifacts" && pwd)
# The stack's state directory: below /tmp, where the run user (nobody,
# when we are root) can reach it.
dir=$(mktemp -d /tmp/chatd-browser-XXXXXX)
chmod 0755 "$dir"
st=$dir/stack
. "$CHATD_SRCDIR/tests/integration/lib.sh"
cleanup() {
	"$stack" stop "$st" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

port=${CHATD_TEST_PORT:-$(free_port)}
CHATD_PORT=$port CHATD_WORKERS=${CHATD_WORKERS:-4} "$stack" start "$st" >"$dir/start.log" 2>&1 || {
	cat "$dir/start.log"
	echo "[  FAILED  ] stack start"
	echo "[  PASSED  ] 0 test(s)."
	echo "[  FAILED  ] 1 test(s), listed above"
	exit 1
}
url=http://127.0.0.1:$port

# The docs page's checks need swagger-ui-dist (`npm ci` in src/web/docs);
# without it they check that /docs says so, and the rest is skipped.
docs_renderer=present
[[ -f $CHATD_SRCDIR/src/web/docs/node_modules/swagger-ui-dist/swagger-ui-bundle.js ]] ||
	docs_renderer=absent

# Each test prints one "[       OK ]", "[  FAILED  ]" or "[  SKIPPED ]"
# line per check; they are counted here, so that a run cut short (a crash,
# the watchdog) still counts one failure.
echo "screenshots: $artifacts"
passed=0 failed=0 skipped=0
for test in chat.test.mjs docs.test.mjs; do
	CHATD_STACK=$stack CHATD_STACK_DIR=$st CHATD_DOCS_RENDERER=$docs_renderer timeout -k 10 600 \
		node "$here/$test" "$url" "$artifacts" 2>&1 | tee "$dir/out"
	status=${PIPESTATUS[0]}
	p=$(grep -c '^\[       OK \]' "$dir/out")
	f=$(grep -c '^\[  FAILED  \]' "$dir/out")
	if ((status != 0 && f == 0)); then
		echo "[  FAILED  ] $test exited with status $status before reporting a failure"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + $(grep -c '^\[  SKIPPED \]' "$dir/out")))
done
if ((failed)); then
	for log in nginx-error.log chatd.log; do
		echo "----- $log (last 20 lines) -----"
		tail -n 20 "$st/$log" 2>/dev/null
	done
fi
echo "screenshots: $artifacts"
echo "[  PASSED  ] $passed test(s)."
((skipped)) && echo "[  SKIPPED ] $skipped test(s)."
if ((failed)); then
	echo "[  FAILED  ] $failed test(s), listed above"
	exit 1
fi
exit 0
