#include "config.h"

#include <string.h>

#include "sniff.h"

struct signature {
	const char *type;
	size_t at;		/* where magic starts */
	size_t len;
	const char *magic;
};

/* The formats' own signatures: PNG (RFC 2083), JPEG's SOI marker and the
 * first byte of the next, GIF's two versions, and WebP's RIFF container
 * ("RIFF", a length, "WEBP"). */
static const struct signature signatures[] = {
	{"image/png", 0, 8, "\x89PNG\r\n\x1a\n"},
	{"image/jpeg", 0, 3, "\xff\xd8\xff"},
	{"image/gif", 0, 6, "GIF87a"},
	{"image/gif", 0, 6, "GIF89a"},
	{"image/webp", 0, 4, "RIFF"},
};

const char *sniff_type(const unsigned char *head, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof signatures / sizeof *signatures; i++) {
		const struct signature *s = &signatures[i];

		if (len < s->at + s->len ||
		    memcmp(head + s->at, s->magic, s->len) != 0)
			continue;
		/* RIFF holds WAV and AVI too: WebP only with its form type. */
		if (strcmp(s->type, "image/webp") == 0 &&
		    (len < 12 || memcmp(head + 8, "WEBP", 4) != 0))
			continue;
		return s->type;
	}
	return SNIFF_OTHER;
}

const char *sniff_known(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof signatures / sizeof *signatures; i++)
		if (strcmp(type, signatures[i].type) == 0)
			return signatures[i].type;
	return SNIFF_OTHER;
}

bool sniff_is_image(const char *type)
{
	return strncmp(type, "image/", 6) == 0;
}
