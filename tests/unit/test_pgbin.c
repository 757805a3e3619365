/* Unit tests of PostgreSQL binary decoding (pgbin.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pgbin.h"

static void put4(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put8(unsigned char *p, uint64_t v)
{
	put4(p, (uint32_t)(v >> 32));
	put4(p + 4, (uint32_t)v);
}

static void test_ints(void **state)
{
	unsigned char b[8];

	(void)state;
	put8(b, 0x0102030405060708ULL);
	assert_true(pgbin_int8((char *)b) == 0x0102030405060708LL);
	put8(b, (uint64_t)-5);
	assert_true(pgbin_int8((char *)b) == -5);
	put4(b, 0xFFFFFFFEu);
	assert_int_equal(pgbin_int4((char *)b), -2);
}

/* Builds a one-dimensional int8[] of n elements in binary form. */
static size_t make_array(unsigned char *b, const int64_t *v, int n)
{
	size_t len = 20;
	int i;

	put4(b, 1);
	put4(b + 4, 0);
	put4(b + 8, 20);	/* int8 */
	put4(b + 12, (uint32_t)n);
	put4(b + 16, 1);
	for (i = 0; i < n; i++, len += 12) {
		put4(b + len, 8);
		put8(b + len + 4, (uint64_t)v[i]);
	}
	return len;
}

static void test_array(void **state)
{
	const int64_t want[3] = {3, 9, 10};
	unsigned char b[64];
	struct pgbin_array it;
	int64_t v;
	size_t len = make_array(b, want, 3);
	int i = 0;

	(void)state;
	assert_true(pgbin_array_begin(&it, (char *)b, len));
	while (pgbin_array_next(&it, &v))
		assert_true(v == want[i++]);
	assert_int_equal(i, 3);
}

static void test_empty_array(void **state)
{
	unsigned char b[12];
	struct pgbin_array it;
	int64_t v;

	(void)state;
	put4(b, 0);
	put4(b + 4, 0);
	put4(b + 8, 20);
	assert_true(pgbin_array_begin(&it, (char *)b, 12));
	assert_false(pgbin_array_next(&it, &v));
}

static void test_malformed_arrays(void **state)
{
	const int64_t one[1] = {1};
	unsigned char b[64];
	struct pgbin_array it;
	size_t len = make_array(b, one, 1);

	(void)state;
	assert_false(pgbin_array_begin(&it, (char *)b, len - 1));	/* short */
	assert_false(pgbin_array_begin(&it, (char *)b, 8));
	put4(b + 8, 23);						/* int4 */
	assert_false(pgbin_array_begin(&it, (char *)b, len));
	put4(b + 8, 20);
	put4(b + 4, 1);							/* has NULLs */
	assert_false(pgbin_array_begin(&it, (char *)b, len));
	put4(b + 4, 0);
	put4(b, 2);							/* 2-D */
	assert_false(pgbin_array_begin(&it, (char *)b, len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_array),
		cmocka_unit_test(test_empty_array),
		cmocka_unit_test(test_malformed_arrays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
