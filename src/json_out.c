#include "config.h"

#include <string.h>

#include "id.h"
#include "json_out.h"
#include "timefmt.h"

void json_out_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Worst case: every byte becomes \u00XX (6 bytes), plus quotes. */
	char *dst = buf_reserve(b, len * 6 + 2), *p = dst;
	size_t i;

	*p++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		switch (c) {
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
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
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
