/* Unit tests of the UTF-8 rules (utf8.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

#define VALID(s) utf8_valid(s, sizeof(s) - 1)

static void test_valid(void **state)
{
	(void)state;
	assert_true(VALID(""));
	assert_true(VALID("hello"));
	assert_true(VALID("\xC3\xA9"));			/* é */
	assert_true(VALID("\xE2\x82\xAC"));		/* € */
	assert_true(VALID("\xF0\x9F\x98\x80"));		/* U+1F600 */
	assert_true(VALID("\xEF\xBB\xBF" "a"));		/* BOM is a character */
	assert_true(VALID("\xED\x9F\xBF"));		/* U+D7FF */
	assert_true(VALID("\xEE\x80\x80"));		/* U+E000 */
	assert_true(VALID("\xF4\x8F\xBF\xBF"));		/* U+10FFFF */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_false(VALID("a\0b"));			/* U+0000 */
	assert_false(VALID("\x80"));			/* lone continuation */
	assert_false(VALID("\xC0\xAF"));		/* overlong '/' */
	assert_false(VALID("\xC1\xBF"));		/* overlong */
	assert_false(VALID("\xE0\x80\xAF"));		/* overlong 3-byte */
	assert_false(VALID("\xF0\x80\x80\xAF"));	/* overlong 4-byte */
	assert_false(VALID("\xC0\x80"));		/* overlong NUL */
	assert_false(VALID("\xED\xA0\x80"));		/* surrogate D800 */
	assert_false(VALID("\xED\xBF\xBF"));		/* surrogate DFFF */
	assert_false(VALID("\xF4\x90\x80\x80"));	/* above U+10FFFF */
	assert_false(VALID("\xC3"));			/* truncated */
	assert_false(VALID("\xE2\x82"));		/* truncated */
	assert_false(VALID("\xF0\x9F\x98"));		/* truncated */
	assert_false(VALID("\xC3" "a"));		/* bad continuation */
	assert_false(VALID("\xF5\x80\x80\x80"));
	assert_false(VALID("\xF8\x88\x80\x80\x80"));
	assert_false(VALID("\xFE"));
	assert_false(VALID("\xFF"));
}

static void test_length(void **state)
{
	(void)state;
	assert_int_equal(utf8_length("", 0), 0);
	assert_int_equal(utf8_length("abc", 3), 3);
	assert_int_equal(utf8_length("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9),
	    3);
}

static void test_blank(void **state)
{
	(void)state;
	assert_true(utf8_blank("", 0));
	assert_true(utf8_blank(" \t\r\n", 4));
	assert_true(utf8_blank("\xC2\xA0", 2));		/* NBSP */
	assert_true(utf8_blank("\xE3\x80\x80", 3));	/* ideographic space */
	assert_true(utf8_blank("\xE2\x80\xA8", 3));	/* line separator */
	assert_false(utf8_blank(" a ", 3));
	assert_false(utf8_blank("\xE2\x80\x8B", 3));	/* ZWSP: not White_Space */
	assert_false(utf8_blank("\xC3\xA9", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_blank),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
