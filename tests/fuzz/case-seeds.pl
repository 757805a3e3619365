#!/usr/bin/perl
# case-seeds.pl CASESDIR OUTDIR — turn the catalogue of requests,
# CASESDIR/<name>/request (tests/cases/README: a raw HTTP request with
# placeholders, its body after the first empty line, maybe built by a
# `gen` file), into seed inputs for the fuzz targets, written anew under
# OUTDIR/<target>/:
#   fuzz_decode  the body after each of the five route bytes, and the
#                Idempotency-Key header (if any) after the messages/add byte
#   fuzz_path    flag byte 0, the request's path (as DOCUMENT_URI), NUL, its
#                target (as REQUEST_URI)
#   fuzz_text    the body
# Placeholders get fixed stand-ins (ids 1, 2, 3 ...), chunked bodies are
# decoded, and bodies above 64 KiB are left out (they test nginx's limits,
# not decoding, and would only slow the fuzzer down). A missing or empty
# catalogue is not an error: the committed seeds are then all there is.
# Needs only perl-base (Debian's essential perl).
use strict;
use warnings;

@ARGV == 2 or die "usage: $0 CASESDIR OUTDIR\n";
my ($cases, $out) = @ARGV;
my $MAX_BODY = 65536;
my %fixed = (
	USER => '1', USER2 => '2', CHAT => '1', OUTSIDER => '3',
	USERNAME => 'user_1', CHATNAME => 'chat_1', UNIQ => '0123456789ab',
	CRLF => "\r\n",
);

sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return undef;
	local $/;
	my $data = <$fh>;
	close($fh);
	return $data // '';
}

sub spit {
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!\n";
	print $fh $data;
	close($fh) or die "$path: $!\n";
}

# The placeholders of tests/cases/README, with $gen for @GEN@.
sub expand {
	my ($s, $gen) = @_;
	$s =~ s{\@(X:([0-9A-Fa-f]*)|[A-Z0-9]+)\@}{
		my ($all, $hex) = ($1, $2);
		defined $hex ? pack('H*', $hex)
		    : exists $fixed{$all} ? $fixed{$all}
		    : $all eq 'GEN' && defined $gen ? $gen
		    : $all eq 'LEN' ? '0'
		    : "\@$all\@"
	}ge;
	return $s;
}

# The value a `gen` file builds (text, repeat, seq, pad, chunked).
sub run_gen {
	my ($text) = @_;
	my $v = '';
	for my $line (split /\n/, $text) {
		$line =~ s/\r$//;
		next if $line eq '' || $line =~ /^#/;
		if ($line =~ /^text (.*)$/s) {
			$v .= expand($1);
		} elsif ($line =~ /^repeat (\d+) (.*)$/s) {
			$v .= expand($2) x $1;
		} elsif ($line =~ /^seq (\d+) (-?\d+) (.*)$/s) {
			my ($n, $start, $t) = ($1, $2, expand($3));
			for my $i (0 .. $n - 1) {
				(my $u = $t) =~ s/#/$start + $i/ge;
				$v .= $u;
			}
		} elsif ($line =~ /^pad (\d+) (.*)$/s) {
			my $t = expand($2);
			return undef if $t eq '';
			$v .= $t while length($v) < $1;
			$v = substr($v, 0, $1);
		} elsif ($line =~ /^chunked (\d+)$/) {
			my ($size, $c) = ($1 || 1, '');
			for (my $i = 0; $i < length($v); $i += $size) {
				my $piece = substr($v, $i, $size);
				$c .= sprintf("%x\r\n", length($piece)) . $piece . "\r\n";
			}
			$v = $c . "0\r\n\r\n";
		} else {
			return undef;	# a directive this script does not know
		}
		return undef if length($v) > 4 * $MAX_BODY;
	}
	return $v;
}

# The payload of a chunked body, or the body itself when it is not one.
sub dechunk {
	my ($body) = @_;
	my ($pos, $data) = (0, '');
	while ($body =~ /\G([0-9A-Fa-f]+)[^\r\n]*\r?\n/gc) {
		return $body if length($1) > 8;
		my $n = hex($1);
		$pos = pos($body);
		return $data if $n == 0;
		return $body if $pos + $n > length($body);
		$data .= substr($body, $pos, $n);
		pos($body) = $pos + $n;
		$body =~ /\G\r?\n/gc or return $body;
	}
	return $body;
}

for my $t (qw(fuzz_decode fuzz_path fuzz_text)) {
	my $d = "$out/$t";
	if (opendir(my $dh, $d)) {
		unlink map { "$d/$_" } grep { !/^\.\.?$/ } readdir($dh);
		closedir($dh);
	}
	mkdir $out;
	mkdir $d or -d $d or die "$d: $!\n";
}

my ($made, $skipped) = (0, 0);
my @names;
if (opendir(my $dh, $cases)) {
	@names = sort grep { -f "$cases/$_/request" } readdir($dh);
	closedir($dh);
}
for my $name (@names) {
	my $req = slurp("$cases/$name/request");
	my $gen;
	if (-f "$cases/$name/gen") {
		$gen = run_gen(slurp("$cases/$name/gen"));
		if (!defined $gen) {
			$skipped++;
			next;
		}
	}
	my ($head, $body) = split /^\r?\n/m, $req, 2;
	$body //= '';
	$body =~ s/\n\z//;
	$body = expand($body, $gen);
	$body = dechunk($body) if $head =~ /^transfer-encoding:.*chunked/im;
	if (length($body) > $MAX_BODY) {
		$skipped++;
		next;
	}
	my ($target) = $head =~ /^\S+[ \t]+(\S*)/;
	$target = expand($target // '');
	(my $path = $target) =~ s/\?.*//s;
	(my $file = $name) =~ s/[^A-Za-z0-9._-]/_/g;

	spit("$out/fuzz_decode/$file-r$_", chr($_) . $body) for 0 .. 4;
	if ($head =~ /^idempotency-key:[ \t]*([^\r\n]*)/im) {
		spit("$out/fuzz_decode/$file-key", "\x02" . expand($1));
	}
	spit("$out/fuzz_path/$file", "\0$path\0$target");
	spit("$out/fuzz_text/$file", $body);
	$made++;
}
if ($made == 0) {
	print "case-seeds: no $cases/*/request; using the committed seeds only\n";
} else {
	print "case-seeds: $made request(s) of tests/cases made into seeds" .
	    ($skipped ? " ($skipped left out: too big or not understood)" : '') .
	    "\n";
}
