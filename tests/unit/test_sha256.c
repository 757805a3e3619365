/* Unit tests of SHA-256 (sha256.c): the FIPS 180-4 examples, and the
 * SHA-NI code against libsodium for every length up to a few blocks, fed
 * in pieces of every alignment. Where the CPU lacks SHA-NI both paths are
 * libsodium's, and the comparison says so. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void hex(const unsigned char d[32], char out[65])
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void digest(bool ni, const void *p, size_t n, size_t piece,
    unsigned char out[32])
{
	const unsigned char *b = p;
	struct sha256 s;
	size_t o;

	sha256_init(&s, ni);
	for (o = 0; o < n; o += piece)
		sha256_update(&s, b + o, n - o < piece ? n - o : piece);
	sha256_final(&s, out);
}

/* FIPS 180-4's examples (and the empty string): known digests. */
static void test_known(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	unsigned char d[32];
	char h[65];
	size_t i;
	int ni;

	(void)state;
	for (ni = 0; ni <= 1; ni++)
		for (i = 0; i < sizeof cases / sizeof *cases; i++) {
			digest(ni, cases[i].in, strlen(cases[i].in), 7, d);
			hex(d, h);
			assert_string_equal(h, cases[i].want);
		}
}

/* A million 'a's (FIPS 180-4's long example), in pieces of 1000. */
static void test_million(void **state)
{
	static unsigned char a[1000000];
	unsigned char d[32];
	char h[65];

	(void)state;
	memset(a, 'a', sizeof a);
	digest(true, a, sizeof a, 1000, d);
	hex(d, h);
	assert_string_equal(h,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length 0..300 in pieces of 1 to 67 bytes: the same digest as
 * libsodium's of the whole. */
static void test_against_sodium(void **state)
{
	unsigned char buf[300], a[32], b[32];
	size_t n, piece;

	(void)state;
	randombytes_buf(buf, sizeof buf);
	for (n = 0; n <= sizeof buf; n++)
		for (piece = 1; piece <= 67; piece += 3) {
			digest(true, buf, n, piece, a);
			crypto_hash_sha256(b, buf, n);
			assert_memory_equal(a, b, 32);
		}
	print_message("SHA-NI %s on this CPU\n", sha256_ni_available() ?
	    "used" : "not available (both sides libsodium)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_against_sodium),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
