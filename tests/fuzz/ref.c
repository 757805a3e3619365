#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

/* Unicode 15, table 3-7, "Well-Formed UTF-8 Byte Sequences": each row is a
 * range of first bytes and the ranges allowed for the bytes after it. */
static const struct {
	unsigned char first_lo, first_hi;
	size_t n;
	unsigned char lo[3], hi[3];
} well_formed[] = {
	{0x00, 0x7F, 1, {0}, {0}},
	{0xC2, 0xDF, 2, {0x80}, {0xBF}},
	{0xE0, 0xE0, 3, {0xA0, 0x80}, {0xBF, 0xBF}},
	{0xE1, 0xEC, 3, {0x80, 0x80}, {0xBF, 0xBF}},
	{0xED, 0xED, 3, {0x80, 0x80}, {0x9F, 0xBF}},
	{0xEE, 0xEF, 3, {0x80, 0x80}, {0xBF, 0xBF}},
	{0xF0, 0xF0, 4, {0x90, 0x80, 0x80}, {0xBF, 0xBF, 0xBF}},
	{0xF1, 0xF3, 4, {0x80, 0x80, 0x80}, {0xBF, 0xBF, 0xBF}},
	{0xF4, 0xF4, 4, {0x80, 0x80, 0x80}, {0x8F, 0xBF, 0xBF}},
};

size_t ref_utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	size_t r, k;

	for (r = 0; r < sizeof well_formed / sizeof well_formed[0]; r++) {
		if (s[0] < well_formed[r].first_lo ||
		    s[0] > well_formed[r].first_hi)
			continue;
		if (len < well_formed[r].n)
			return 0;
		*cp = s[0] & lead_mask[well_formed[r].n];
		for (k = 1; k < well_formed[r].n; k++) {
			if (s[k] < well_formed[r].lo[k - 1] ||
			    s[k] > well_formed[r].hi[k - 1])
				return 0;
			*cp = *cp * 64 + (s[k] & 0x3Fu);
		}
		return well_formed[r].n;
	}
	return 0;	/* 80..C1, F5..FF never start a sequence */
}

bool ref_utf8_valid(const char *s, size_t len, bool allow_nul)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = ref_utf8_seq(u + i, len - i, &cp);
		if (n == 0 || (cp == 0 && !allow_nul))
			return false;
		i += n;
	}
	return true;
}

size_t ref_utf8_count(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, count = 0;
	uint32_t cp;

	while (i < len) {
		n = ref_utf8_seq(u + i, len - i, &cp);
		if (n == 0)
			abort();	/* the caller promised well-formed input */
		i += n;
		count++;
	}
	return count;
}

bool ref_is_white_space(uint32_t cp)
{
	/* PropList.txt of Unicode 15: every White_Space range. */
	static const uint32_t ranges[][2] = {
		{0x0009, 0x000D}, {0x0020, 0x0020}, {0x0085, 0x0085},
		{0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200A},
		{0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
		{0x3000, 0x3000},
	};
	size_t r;

	for (r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
		if (cp >= ranges[r][0] && cp <= ranges[r][1])
			return true;
	return false;
}

bool ref_utf8_blank(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = ref_utf8_seq(u + i, len - i, &cp);
		if (n == 0)
			abort();	/* the caller promised well-formed input */
		if (!ref_is_white_space(cp))
			return false;
		i += n;
	}
	return true;
}

bool ref_id_parse(const char *s, size_t len, int64_t *out)
{
	char *copy, *end;
	long long v;
	size_t i;
	bool ok;

	if (len == 0 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++)
		if (strchr("0123456789", s[i]) == NULL || s[i] == '\0')
			return false;
	copy = malloc(len + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, s, len);
	copy[len] = '\0';
	errno = 0;
	v = strtoll(copy, &end, 10);
	ok = errno == 0 && *end == '\0';
	free(copy);
	if (ok)
		*out = (int64_t)v;
	return ok;
}
