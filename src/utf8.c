#include "config.h"

#include <stdint.h>

#include "utf8.h"

/* Decodes the code point at s[*i], advancing *i; returns -1 when the bytes
 * there are not a well-formed UTF-8 sequence (RFC 3629, section 4). */
static int32_t decode_one(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	int32_t cp, min;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1; cp = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2; cp = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3; cp = c & 0x07; min = 0x10000;
	} else {
		return -1;	/* continuation byte, C0/C1 overlong lead, F5..FF */
	}
	if (len - *i <= n)
		return -1;	/* truncated */
	for (k = 1; k <= n; k++) {
		unsigned char cc = s[*i + k];

		if ((cc & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (cc & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += n + 1;
	return cp;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		int32_t cp = decode_one(u, len, &i);

		if (cp <= 0)
			return false;
	}
	return true;
}

size_t utf8_length(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* The White_Space property of Unicode (PropList.txt). */
static bool is_space(int32_t cp)
{
	switch (cp) {
	case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200A;
	}
}

bool utf8_blank(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		int32_t cp = decode_one(u, len, &i);

		if (cp < 0 || !is_space(cp))
			return false;
	}
	return true;
}
