#include "config.h"

#include <string.h>

#include "id.h"
#include "json_out.h"
#include "timefmt.h"

/* Bytes that cannot stand for themselves in a JSON string: the controls,
 * '"' and '\\'. Everything else, UTF-8 sequences included, is copied. */
static const unsigned char must_escape[256] = {
	[0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

void json_out_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Worst case: every byte becomes \u00XX (6 bytes), plus quotes. */
	char *dst = buf_reserve(b, len * 6 + 2), *p = dst;
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run;

	*p++ = '"';
	for (;;) {
		/* Copy the longest run that needs no escape in one go. */
		for (run = i; run < len && !must_escape[u[run]]; run++)
			;
		memcpy(p, u + i, run - i);
		p += run - i;
		if (run == len)
			break;
		i = run;
		*p++ = '\\';
		switch (u[i]) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		case '\b': *p++ = 'b'; break;
		case '\f': *p++ = 'f'; break;
		default:
			memcpy(p, "u00", 3);
			p += 3;
			*p++ = hex[u[i] >> 4];
			*p++ = hex[u[i] & 15];
		}
		i++;
	}
	*p++ = '"';
	b->len += (size_t)(p - dst);
	b->data[b->len] = '\0';
}

void json_out_id(struct buf *b, int64_t id)
{
	char *dst = buf_reserve(b, 23);

	dst[0] = '"';
	b->len += id_format(id, dst + 1) + 1;
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

void json_out_time(struct buf *b, int64_t pg_usec)
{
	char *dst = buf_reserve(b, TIMEFMT_LEN + 3);

	dst[0] = '"';
	b->len += timefmt_pg(pg_usec, dst + 1) + 1;
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}
