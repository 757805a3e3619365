#include "config.h"

#include "digits.h"
#include "timefmt.h"

/* Days between 1970-01-01 and 2000-01-01. */
#define PG_EPOCH_DAYS 10957
#define USEC_PER_DAY INT64_C(86400000000)

/* Converts a count of days since 1970-01-01 to a proleptic Gregorian date,
 * working in 400-year eras of 146097 days that start on March 1st. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;	/* days from 0000-03-01 to 1970-01-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;					/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;	/* [0, 399] */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		/* [0, 365] */
	mp = (5 * doy + 2) / 153;				/* [0, 11], March = 0 */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

size_t timefmt_pg(int64_t pg_usec, char *dst)
{
	int64_t days = pg_usec / USEC_PER_DAY;
	int64_t usec = pg_usec % USEC_PER_DAY;
	int64_t year, secs;
	unsigned month, day;
	char *p = dst;

	if (usec < 0) {
		usec += USEC_PER_DAY;
		days--;
	}
	civil_from_days(days + PG_EPOCH_DAYS, &year, &month, &day);
	if (year < 1 || year > 9999) {
		dst[0] = '\0';
		return 0;
	}
	secs = (int64_t)(usec / 1000000);
	usec %= 1000000;
	p = digits_put2(p, (unsigned)(year / 100));
	p = digits_put2(p, (unsigned)(year % 100));
	*p++ = '-';
	p = digits_put2(p, month);
	*p++ = '-';
	p = digits_put2(p, day);
	*p++ = 'T';
	p = digits_put2(p, (unsigned)(secs / 3600));
	*p++ = ':';
	p = digits_put2(p, (unsigned)(secs / 60 % 60));
	*p++ = ':';
	p = digits_put2(p, (unsigned)(secs % 60));
	*p++ = '.';
	p = digits_put2(p, (unsigned)(usec / 10000));
	p = digits_put2(p, (unsigned)(usec / 100 % 100));
	p = digits_put2(p, (unsigned)(usec % 100));
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - dst);
}
