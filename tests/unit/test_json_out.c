/* Unit tests of the JSON writer (json_out.c): what it writes must parse
 * back to what went in. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "json_out.h"

static void round_trip(const char *s, size_t len)
{
	struct buf b;
	json_t *v;

	buf_init(&b);
	json_out_string(&b, s, len);
	v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	assert_int_equal(json_string_length(v), len);
	assert_memory_equal(json_string_value(v), s, len);
	json_decref(v);
	buf_free(&b);
}

static void test_strings(void **state)
{
	char all[128];
	int i;

	(void)state;
	round_trip("", 0);
	round_trip("plain", 5);
	round_trip("q\"b\\s/", 6);
	round_trip("\xC3\xA9\xF0\x9F\x98\x80", 6);
	for (i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	round_trip(all, 127);
}

static void test_escapes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	json_out_string(&b, "a\n\x01\"", 4);
	assert_string_equal(b.data, "\"a\\n\\u0001\\\"\"");
	/* Escapes first and last, runs of plain bytes and UTF-8 between. */
	buf_reset(&b);
	json_out_string(&b, "\\ab\xc3\xa9" "cd\t", 8);
	assert_string_equal(b.data, "\"\\\\ab\xc3\xa9" "cd\\t\"");
	buf_reset(&b);
	json_out_string(&b, "", 0);
	assert_string_equal(b.data, "\"\"");
	buf_free(&b);
}

static void test_ids_and_times(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	json_out_id(&b, 42);
	buf_putc(&b, ',');
	json_out_id(&b, INT64_MAX);
	buf_putc(&b, ',');
	json_out_time(&b, 1);
	assert_string_equal(b.data, "\"42\",\"9223372036854775807\","
	    "\"2000-01-01T00:00:00.000001Z\"");
	buf_free(&b);
}

static void test_growth(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 10000; i++)
		json_out_id(&b, i);
	assert_int_equal(b.len, 10 * 3 + 90 * 4 + 900 * 5 + 9000 * 6);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_ids_and_times),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
