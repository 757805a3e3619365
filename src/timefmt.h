/* Times of the API: RFC 3339, UTC, exactly six fractional digits,
 * "2026-11-21T08:07:53.123456Z". */
#ifndef CHATD_TIMEFMT_H
#define CHATD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 27	/* characters, without the NUL */

/* Formats a PostgreSQL timestamptz (microseconds since 2000-01-01 00:00:00
 * UTC, as in its binary wire format) into dst (room for TIMEFMT_LEN + 1
 * bytes). Returns TIMEFMT_LEN, or 0 for a time outside years 1..9999. */
size_t timefmt_pg(int64_t pg_usec, char *dst);

#endif
