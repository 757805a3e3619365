/* fuzz_text — the small parsers and formatters between the wire and the
 * database: UTF-8 rules (utf8.c), JSON string output (json_out.c), ids
 * (id.c), and, on the same bytes, times (timefmt.c) and PostgreSQL's
 * binary results (pgbin.c).
 *
 * Input: any bytes, used whole as a string, and their first 8 bytes as a
 * 64-bit number.
 *
 * Invariants: utf8_valid(), utf8_length() and utf8_blank() agree with the
 * reference of ref.c; json_out_string() of well-formed UTF-8 parses back
 * (jansson) to the same bytes, NULs included; id_parse() accepts exactly
 * the canonical ids and id_format() writes them back byte for byte;
 * timefmt_pg() agrees with gmtime_r() and json_out_time() writes it as a
 * JSON string; pgbin reads arrays as their layout says and never past
 * them. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "fuzz.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"
#include "ref.h"
#include "timefmt.h"
#include "utf8.h"

static void check_utf8(const char *s, size_t len)
{
	bool valid = ref_utf8_valid(s, len, false);
	bool got = utf8_valid(s, len);
	size_t n;

	FUZZ_CHECK(got == valid, "utf8_valid %d, reference %d", got, valid);
	n = utf8_length(s, len);	/* outside its contract when invalid */
	got = utf8_blank(s, len);	/* idem: only memory safety is due */
	if (!valid)
		return;
	FUZZ_CHECK(n == ref_utf8_count(s, len), "utf8_length %zu, reference "
	    "%zu", n, ref_utf8_count(s, len));
	FUZZ_CHECK(got == ref_utf8_blank(s, len), "utf8_blank %d", got);
}

/* A JSON text holding s[0..len) (well-formed, NULs allowed) as a string
 * parses back to exactly those bytes. */
static void check_json_string(const char *s, size_t len)
{
	bool wellformed = ref_utf8_valid(s, len, true);
	json_error_t err;
	json_t *back;
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_putc(&b, '[');	/* output is appended after what is there */
	json_out_string(&b, s, len);
	FUZZ_CHECK(b.data[b.len] == '\0', "output not NUL-terminated");
	FUZZ_CHECK(b.data[0] == '[', "output overwrote the buffer");
	if (!wellformed) {	/* garbage in: only memory safety is due */
		buf_free(&b);
		return;
	}
	for (i = 1; i < b.len; i++)
		FUZZ_CHECK((unsigned char)b.data[i] >= 0x20, "raw control "
		    "character 0x%02x at %zu", (unsigned char)b.data[i], i);
	back = json_loadb(b.data + 1, b.len - 1, JSON_DECODE_ANY |
	    (memchr(s, '\0', len) ? JSON_ALLOW_NUL : 0), &err);
	FUZZ_CHECK(back != NULL, "output does not parse: %s", err.text);
	FUZZ_CHECK(json_is_string(back) && json_string_length(back) == len &&
	    memcmp(json_string_value(back), s, len) == 0,
	    "output parses to other bytes");
	json_decref(back);
	buf_free(&b);
}

static void check_id_text(const char *s, size_t len)
{
	int64_t v = -1, want = -1;
	bool ok = id_parse(s, len, &v), ref = ref_id_parse(s, len, &want);
	char back[21];

	FUZZ_CHECK(ok == ref, "id_parse %d, reference %d", ok, ref);
	if (!ok)
		return;
	FUZZ_CHECK(v == want, "id %" PRId64 ", reference %" PRId64, v, want);
	FUZZ_CHECK(id_format(v, back) == len && memcmp(back, s, len) == 0,
	    "id %" PRId64 " formats as '%s'", v, back);
}

static void check_id_value(int64_t v)
{
	char got[21], want[32];
	int64_t parsed = -1;
	json_t *back;
	struct buf b;
	size_t n;

	if (v < 0)
		return;
	n = id_format(v, got);
	snprintf(want, sizeof want, "%" PRId64, v);
	FUZZ_CHECK(n == strlen(want) && strcmp(got, want) == 0,
	    "id_format '%s', reference '%s'", got, want);
	FUZZ_CHECK(id_parse(got, n, &parsed) && parsed == v,
	    "'%s' does not parse back", got);
	buf_init(&b);
	json_out_id(&b, v);
	back = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	FUZZ_CHECK(json_is_string(back) &&
	    strcmp(json_string_value(back), want) == 0, "json_out_id %s",
	    b.data);
	json_decref(back);
	buf_free(&b);
}

/* timefmt_pg() against the C library's calendar. */
static void check_time(int64_t pg_usec)
{
	int64_t q = pg_usec / 1000000, r = pg_usec % 1000000;
	char got[TIMEFMT_LEN + 1], want[64];
	json_t *back;
	struct buf b;
	time_t t;
	struct tm tm;
	long long year;
	size_t n;

	if (r < 0) {
		r += 1000000;
		q--;
	}
	t = (time_t)(q + 946684800);	/* 2000-01-01 in Unix time */
	year = gmtime_r(&t, &tm) ? tm.tm_year + 1900LL : 0;
	memset(got, '#', sizeof got);
	n = timefmt_pg(pg_usec, got);
	if (year < 1 || year > 9999) {
		FUZZ_CHECK(n == 0 && got[0] == '\0', "year %lld formatted",
		    year);
		return;
	}
	snprintf(want, sizeof want, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ",
	    year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)r);
	FUZZ_CHECK(n == TIMEFMT_LEN && strcmp(got, want) == 0,
	    "%" PRId64 ": '%.*s', reference '%s'", pg_usec, TIMEFMT_LEN, got,
	    want);
	buf_init(&b);
	json_out_time(&b, pg_usec);
	back = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	FUZZ_CHECK(json_is_string(back) &&
	    strcmp(json_string_value(back), want) == 0, "json_out_time %s",
	    b.data);
	json_decref(back);
	buf_free(&b);
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v * 256 + p[i];
	return v;
}

/* pgbin reads the layout of array_send (one dimension of int8, no NULLs)
 * and nothing else. */
static void check_pgbin(const char *v, size_t len)
{
	const unsigned char *u = (const unsigned char *)v;
	struct pgbin_array it;
	size_t k = 0, count;
	int64_t x;

	if (len >= 8)
		FUZZ_CHECK(pgbin_int8(v) == (int64_t)be(u, 8), "int8");
	if (len >= 4)
		FUZZ_CHECK(pgbin_int4(v) == (int32_t)be(u, 4), "int4");
	if (!pgbin_array_begin(&it, v, len))
		return;
	FUZZ_CHECK(len >= 12 && be(u + 4, 4) == 0 && be(u + 8, 4) == 20,
	    "not an int8[] without NULLs");
	if (be(u, 4) == 0) {
		FUZZ_CHECK(len == 12, "empty array of %zu bytes", len);
		FUZZ_CHECK(!pgbin_array_next(&it, &x), "an element in []");
		return;
	}
	FUZZ_CHECK(be(u, 4) == 1 && len >= 20, "%u dimensions",
	    (unsigned)be(u, 4));
	count = (size_t)be(u + 12, 4);
	FUZZ_CHECK(len == 20 + 12 * count, "%zu elements in %zu bytes",
	    count, len);
	while (pgbin_array_next(&it, &x)) {
		FUZZ_CHECK(k < count, "element %zu of %zu", k, count);
		FUZZ_CHECK(be(u + 20 + 12 * k, 4) == 8, "element length");
		FUZZ_CHECK(x == (int64_t)be(u + 24 + 12 * k, 8),
		    "element %zu", k);
		k++;
	}
	FUZZ_CHECK(k == count || be(u + 20 + 12 * k, 4) != 8,
	    "stopped at element %zu of %zu", k, count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	check_utf8(s, size);
	check_json_string(s, size);
	check_id_text(s, size);
	check_pgbin(s, size);
	if (size >= 8) {
		check_id_value((int64_t)be(data, 8));
		check_time((int64_t)be(data, 8));
	}
	return 0;
}
