/* Unit tests of time formatting (timefmt.c). Inputs are PostgreSQL's
 * microseconds since 2000-01-01 00:00:00 UTC. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "timefmt.h"

#define USEC INT64_C(1000000)
#define DAY (86400 * USEC)

static void check(int64_t pg_usec, const char *want)
{
	char buf[TIMEFMT_LEN + 1];

	assert_int_equal(timefmt_pg(pg_usec, buf), TIMEFMT_LEN);
	assert_string_equal(buf, want);
}

static void test_epoch(void **state)
{
	(void)state;
	check(0, "2000-01-01T00:00:00.000000Z");
	check(1, "2000-01-01T00:00:00.000001Z");
	check(DAY - 1, "2000-01-01T23:59:59.999999Z");
}

static void test_before_epoch(void **state)
{
	(void)state;
	check(-1, "1999-12-31T23:59:59.999999Z");
	check(-10957 * DAY, "1970-01-01T00:00:00.000000Z");
}

static void test_leap_years(void **state)
{
	(void)state;
	check(59 * DAY, "2000-02-29T00:00:00.000000Z");	/* 400-year rule */
	check(60 * DAY, "2000-03-01T00:00:00.000000Z");
	/* 2100 is not a leap year: 2100-02-28 + 1 day is March 1st. */
	check((36525 + 31 + 27) * DAY, "2100-02-28T00:00:00.000000Z");
	check((36525 + 31 + 28) * DAY, "2100-03-01T00:00:00.000000Z");
	check((366 + 365 + 365 + 365 + 59) * DAY + 12 * 3600 * USEC,
	    "2004-02-29T12:00:00.000000Z");
}

static void test_a_recent_time(void **state)
{
	/* 2026-11-21T08:07:53.123456Z: 9821 days after 2000-01-01. */
	(void)state;
	check(9821 * DAY + (8 * 3600 + 7 * 60 + 53) * USEC + 123456,
	    "2026-11-21T08:07:53.123456Z");
}

static void test_out_of_range(void **state)
{
	char buf[TIMEFMT_LEN + 1];

	(void)state;
	assert_int_equal(timefmt_pg(INT64_MAX, buf), 0);
	assert_int_equal(timefmt_pg(INT64_MIN + DAY, buf), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_before_epoch),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_a_recent_time),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
