/* Unit tests of the tests' SHA-1 (tests/integration/sha1.c): FIPS 180-4's
 * examples, a million 'a's, every length to 200 fed whole and byte by
 * byte, and RFC 6455's Sec-WebSocket-Accept example. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sha1.h"
#include "stream.h"

static void hex(const unsigned char d[20], char out[41])
{
	int i;

	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_known(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "a49b2446a02c645bf419f995b67091253a04a259"},
		{"The quick brown fox jumps over the lazy dog",
		 "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
	};
	unsigned char d[20];
	char h[41];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		sha1(cases[i].in, strlen(cases[i].in), d);
		hex(d, h);
		assert_string_equal(h, cases[i].want);
	}
}

static void test_million(void **state)
{
	static unsigned char a[1000000];
	unsigned char d[20];
	struct sha1 s;
	char h[41];
	size_t o;

	(void)state;
	memset(a, 'a', sizeof a);
	sha1_init(&s);
	for (o = 0; o < sizeof a; o += 999)
		sha1_update(&s, a + o, sizeof a - o < 999 ? sizeof a - o : 999);
	sha1_final(&s, d);
	hex(d, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* Lengths around every padding boundary: pieces agree with the whole. */
static void test_pieces(void **state)
{
	unsigned char buf[200], whole[20], bytes[20];
	struct sha1 s;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= sizeof buf; n++) {
		sha1(buf, n, whole);
		sha1_init(&s);
		for (i = 0; i < n; i++)
			sha1_update(&s, buf + i, 1);
		sha1_final(&s, bytes);
		assert_memory_equal(whole, bytes, 20);
	}
}

/* RFC 6455 section 1.3's example handshake. */
static void test_ws_accept(void **state)
{
	char out[29];

	(void)state;
	ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_ws_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
