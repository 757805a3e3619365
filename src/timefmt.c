#include "config.h"

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

static char *put_digits(char *p, int64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
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
	secs = usec / 1000000;
	p = put_digits(p, year, 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, day, 2);
	*p++ = 'T';
	p = put_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = put_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, secs % 60, 2);
	*p++ = '.';
	p = put_digits(p, usec % 1000000, 6);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - dst);
}
