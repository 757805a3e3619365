#include "config.h"

#include <string.h>

#include "filename.h"

static const char hex[] = "0123456789ABCDEF";

static void put_pct(struct buf *b, unsigned char c)
{
	char e[3] = {'%', hex[c >> 4], hex[c & 15]};

	buf_add(b, e, 3);
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

void filename_url(struct buf *b, const char *id, const char *name,
    size_t len)
{
	size_t i;

	buf_puts(b, "/files/");
	buf_puts(b, id);
	buf_putc(b, '/');
	/* "." and ".." are dot segments to browsers and nginx alike, encoded
	 * or not: the URL would lose its last segment. */
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.')) {
		buf_puts(b, len == 1 ? "_" : "__");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (is_alnum(c) || (c != 0 && strchr("-._~", c) != NULL))
			buf_putc(b, (char)c);
		else if (c == '/' || c == '\\')
			buf_putc(b, '_');
		else
			put_pct(b, c);
	}
}

void filename_disposition(struct buf *b, bool inline_, const char *name,
    size_t len)
{
	size_t i;

	buf_puts(b, inline_ ? "inline; filename=\"" : "attachment; filename=\"");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		buf_putc(b, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
		    c != '/' ? (char)c : '_');
	}
	buf_puts(b, "\"; filename*=UTF-8''");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (is_alnum(c) || (c != 0 && strchr("!#$&+-.^_`|~", c) != NULL))
			buf_putc(b, (char)c);
		else
			put_pct(b, c);
	}
}
