/* Unit tests of id parsing and formatting (id.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "id.h"

static bool parse(const char *s, int64_t *out)
{
	return id_parse(s, strlen(s), out);
}

static void test_parse_valid(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_true(parse("42", &v));
	assert_int_equal(v, 42);
	assert_true(parse("0", &v));
	assert_int_equal(v, 0);
	assert_true(parse("9223372036854775807", &v));
	assert_true(v == INT64_MAX);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "abc", "-1", "+1", "4.2", "0x2a", " 1", "1 ", "01", "00",
		"9223372036854775808", "18446744073709551616",
		"99999999999999999999", "1e3", "١",
	};
	int64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(parse(bad[i], &v));
		assert_int_equal(v, 7);
	}
}

static void test_from_json(void **state)
{
	json_t *v;
	int64_t id;

	(void)state;
	v = json_string("17");
	assert_true(id_from_json(v, &id));
	assert_int_equal(id, 17);
	json_decref(v);
	v = json_integer(17);
	assert_true(id_from_json(v, &id));
	assert_int_equal(id, 17);
	json_decref(v);

	v = json_integer(-1);
	assert_false(id_from_json(v, &id));
	json_decref(v);
	v = json_real(4.2);
	assert_false(id_from_json(v, &id));
	json_decref(v);
	v = json_real(4.0);
	assert_false(id_from_json(v, &id));
	json_decref(v);
	assert_false(id_from_json(json_true(), &id));
	assert_false(id_from_json(json_null(), &id));
	v = json_array();
	assert_false(id_from_json(v, &id));
	json_decref(v);
	/* A string with an embedded NUL is not "1". */
	v = json_stringn("1\0", 2);
	assert_false(id_from_json(v, &id));
	json_decref(v);
}

/* id_format(v) writes want, NUL-terminated, and returns its length. */
static void check_format(int64_t v, const char *want)
{
	char buf[21];

	assert_int_equal(id_format(v, buf), strlen(want));
	assert_string_equal(buf, want);
}

static void test_format(void **state)
{
	(void)state;
	check_format(0, "0");
	/* Every length parity and the edges of the two-digit steps. */
	check_format(9, "9");
	check_format(10, "10");
	check_format(99, "99");
	check_format(100, "100");
	check_format(1005, "1005");
	check_format(1234567890, "1234567890");
	check_format(INT64_MAX, "9223372036854775807");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
