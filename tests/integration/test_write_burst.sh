#!/usr/bin/env bash
# The write rate limit of a private stack (contrib/stack, which contrib/dev
# run and the benchmarks use): lifted by default, so that load from one
# address at any concurrency never meets it; the shipped limit (20 r/s,
# bursts of 40) when CHATD_WRITE_RATE asks for a rate.
#
# A burst is N connections opened first and then each sent one users/add at
# the same moment: nginx reads them in one or two turns of its event loop,
# in which its clock does not advance, so only the burst allowance can let
# them through (a rate alone cannot: no time passes).
set -uo pipefail

: "${CHATD_BIN:?}" "${CHATD_SRCDIR:?}"
command -v perl >/dev/null || { echo "SKIP: no perl"; exit 77; }
stack=$CHATD_SRCDIR/contrib/stack
dir=$(mktemp -d /tmp/chatd-burst-XXXXXX)
chmod 0755 "$dir"
. "$(dirname "$0")/lib.sh"
trap '"$stack" stop "$dir/lifted" >/dev/null 2>&1; "$stack" stop "$dir/shipped" >/dev/null 2>&1; rm -rf "$dir"' EXIT

# burst PORT N — prints the statuses of N simultaneous users/add, counted,
# e.g. "201=180 429=20".
cat >"$dir/burst.pl" <<'PERL'
use strict; use warnings; use IO::Socket::INET;
my ($port, $n) = @ARGV;
my (@s, %count);
for my $i (1 .. $n) {
	push @s, IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp') or die "connect: $!";
}
select(undef, undef, undef, 0.3);	# nginx has accepted them all
my @req = map {
	my $body = sprintf('{"username":"burst_%d_%d_%d"}', $$, time, $_);
	"POST /users/add HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
	    . "Content-Length: " . length($body) . "\r\n\r\n$body";
} 0 .. $#s;
syswrite($s[$_], $req[$_]) for 0 .. $#s;
for my $c (@s) {
	local $/;
	my $answer = <$c> // '';
	my ($status) = $answer =~ m{^HTTP/1\.1 (\d+)};
	$count{$status // 'none'}++;
}
print join(' ', map { "$_=$count{$_}" } sort keys %count), "\n";
PERL
burst() { perl "$dir/burst.pl" "$1" "$2"; }

port=$(free_port)
CHATD_PORT=$port CHATD_WORKERS=4 "$stack" start "$dir/lifted" >/dev/null 2>&1 ||
	{ echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
for i in 1 2 3; do
	check "lifted limit: 200 simultaneous writes all answered 201 ($i)" "201=200" \
		"$(burst "$port" 200)"
done
"$stack" stop "$dir/lifted" >/dev/null 2>&1

port=$(free_port)
CHATD_PORT=$port CHATD_WORKERS=4 CHATD_WRITE_RATE=20r/s "$stack" start "$dir/shipped" >/dev/null 2>&1 ||
	{ echo "[  FAILED  ] 1 test(s), listed below: stack start"; exit 1; }
out=$(burst "$port" 200)
check "shipped limit (CHATD_WRITE_RATE=20r/s): the same burst meets it" "429=" "$out"
created=$(sed -n 's/.*201=\([0-9]*\).*/\1/p' <<<"$out")
check "... after letting through the burst of 40 and the first (41, or a few more as time passes)" \
	ok "$( ((created >= 41 && created <= 45)) && echo ok || echo "201=$created")"

summary
