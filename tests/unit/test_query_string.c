/* Unit tests of one parameter of a query string (query_string.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "query_string.h"

/* qs_get(qs, name) answers want and, when found, the value want_value of
 * want_len bytes; anything else leaves the buffer as it was. */
static void get_is(const char *qs, const char *name, enum qs_result want,
		   const char *want_value, size_t want_len)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "pre");
	assert_int_equal(qs_get(qs, name, &b), want);
	if (want == QS_FOUND) {
		assert_int_equal(b.len, 3 + want_len);
		assert_memory_equal(b.data, "pre", 3);
		if (want_len > 0)
			assert_memory_equal(b.data + 3, want_value, want_len);
	} else {
		assert_int_equal(b.len, 3);
	}
	buf_free(&b);
}

#define FOUND(qs, v) get_is(qs, "name", QS_FOUND, v, sizeof(v) - 1)
#define NOT(qs, r) get_is(qs, "name", r, NULL, 0)

static void test_found(void **state)
{
	(void)state;
	FOUND("name=cat.png", "cat.png");
	FOUND("a=1&name=x&b=2", "x");
	FOUND("b=2&name=x", "x");
	FOUND("name=", "");
	FOUND("name", "");
	FOUND("name=a=b", "a=b");
	FOUND("&&name=x&&", "x");
	FOUND("name=x#y", "x#y");		/* a fragment never arrives */
}

static void test_decoding(void **state)
{
	(void)state;
	FOUND("name=a+b", "a b");
	FOUND("name=a%20b", "a b");
	FOUND("name=%2B", "+");
	FOUND("name=%2b%2F%2f", "+//");
	FOUND("name=%25", "%");
	FOUND("name=%2520", "%20");		/* decoded once only */
	FOUND("name=%22%3B%20rm%20-rf%20%2F", "\"; rm -rf /");
	FOUND("name=..%2F..%2Fetc%2Fpasswd", "../../etc/passwd");
	FOUND("name=%C3%A9", "\xc3\xa9");
	FOUND("name=%ff", "\xff");		/* bytes: UTF-8 is the caller's */
	FOUND("name=a%00b", "a\0b");
	FOUND("name=%26%3D", "&=");
	FOUND("name=%41%42%43", "ABC");
}

static void test_absent(void **state)
{
	(void)state;
	NOT(NULL, QS_ABSENT);
	NOT("", QS_ABSENT);
	NOT("a=1&b=2", QS_ABSENT);
	NOT("Name=x", QS_ABSENT);		/* names are case-sensitive */
	NOT("%6eame=x", QS_ABSENT);		/* and compared as sent */
	NOT("name%3Dx", QS_ABSENT);
	/* Prefixes and extensions of the name are other names. */
	NOT("namex=1", QS_ABSENT);
	NOT("nam=1", QS_ABSENT);
	NOT("xname=1", QS_ABSENT);
	NOT("na", QS_ABSENT);
	get_is("namex=1&name=2", "name", QS_FOUND, "2", 1);
	get_is("name=2&namex=1", "name", QS_FOUND, "2", 1);
	get_is("name=2&namex=1", "namex", QS_FOUND, "1", 1);
	get_is("names=1&name_=2&name=3", "name", QS_FOUND, "3", 1);
}

static void test_repeated(void **state)
{
	(void)state;
	NOT("name=a&name=b", QS_REPEATED);
	NOT("name=a&name=a", QS_REPEATED);
	NOT("name&name", QS_REPEATED);
	NOT("name=&x=1&name=", QS_REPEATED);
	NOT("name=%41&name=%zz", QS_REPEATED);
}

static void test_malformed(void **state)
{
	(void)state;
	NOT("name=%", QS_MALFORMED);
	NOT("name=%4", QS_MALFORMED);
	NOT("name=a%4", QS_MALFORMED);
	NOT("name=%4&x=1", QS_MALFORMED);
	NOT("name=%zz", QS_MALFORMED);
	NOT("name=%4g", QS_MALFORMED);
	NOT("name=%g4", QS_MALFORMED);
	NOT("name=%%41", QS_MALFORMED);
	NOT("name=%+1", QS_MALFORMED);
	NOT("name=%-1", QS_MALFORMED);
	NOT("name=ok%", QS_MALFORMED);
	/* A malformed value of another parameter is not this one's. */
	get_is("x=%zz&name=ok", "name", QS_FOUND, "ok", 2);
	get_is("x=%&name=%41", "name", QS_FOUND, "A", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_repeated),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
