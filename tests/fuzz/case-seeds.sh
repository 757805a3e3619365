#!/bin/sh
# case-seeds.sh SRCDIR OUTDIR — turn the catalogue of bad requests,
# SRCDIR/tests/cases/<name>/request (a raw HTTP request, its body after the
# first empty line), into seed inputs for the fuzz targets, written anew
# under OUTDIR/<target>/:
#   fuzz_decode  the body after each of the five route bytes, and the
#                Idempotency-Key header (if any) after the messages/add byte
#   fuzz_path    DOCUMENT_URI (the request's path) and REQUEST_URI
#   fuzz_text    the body
# A missing or empty catalogue is not an error: the committed seeds of
# tests/fuzz/seeds/ are then all there is.

set -eu
LC_ALL=C
export LC_ALL

src=$1 out=$2
rm -rf "$out"
mkdir -p "$out/fuzz_decode" "$out/fuzz_path" "$out/fuzz_text"

n=0
for req in "$src"/tests/cases/*/request; do
	[ -f "$req" ] || continue
	name=$(basename "$(dirname "$req")" | tr -c 'A-Za-z0-9._\n-' '_')
	# bytes up to and including the empty line (LF or CRLF) ending the head
	head_len=$(awk '{ n += length($0) + 1 }
		$0 == "" || $0 == "\r" { print n; found = 1; exit }
		END { if (!found) print -1 }' "$req")
	body=$out/body.tmp
	if [ "$head_len" -ge 0 ]; then
		tail -c "+$((head_len + 1))" "$req" >"$body"
	else
		: >"$body"
	fi
	uri=$(head -n 1 "$req" | tr -d '\r' | awk '{ print $2 }')
	path=${uri%%\?*}
	key=$(awk '$0 == "" || $0 == "\r" { exit }
		tolower($0) ~ /^idempotency-key:/ {
			sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); print; exit
		}' "$req")

	for r in 0 1 2 3 4; do
		{ printf "\\00$r"; cat "$body"; } >"$out/fuzz_decode/$name-r$r"
	done
	if [ -n "$key" ]; then
		{ printf '\002'; printf '%s' "$key"; } >"$out/fuzz_decode/$name-key"
	fi
	{ printf '\000%s\000%s' "$path" "$uri"; } >"$out/fuzz_path/$name"
	cp "$body" "$out/fuzz_text/$name"
	n=$((n + 1))
done
rm -f "$out/body.tmp"
if [ "$n" -eq 0 ]; then
	echo "case-seeds: no $src/tests/cases/*/request; using the committed seeds only"
else
	echo "case-seeds: $n request(s) of tests/cases made into seeds"
fi
