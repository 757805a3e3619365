/* The content type of an upload, decided from its first bytes, never from
 * what the client says (API.md 2.5): the four image formats a browser
 * shows inline, and application/octet-stream for everything else. */
#ifndef CHATD_SNIFF_H
#define CHATD_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a file's start that sniff_type() needs at most. */
#define SNIFF_BYTES 12

#define SNIFF_OTHER "application/octet-stream"

/* The type of a file that starts with head[0..len) (len may be less than
 * SNIFF_BYTES for a short file): "image/png", "image/jpeg", "image/gif",
 * "image/webp" or SNIFF_OTHER. A static string. */
const char *sniff_type(const unsigned char *head, size_t len);

/* The one of sniff_type()'s answers that equals type (a recorded type,
 * from the database), as its static string; SNIFF_OTHER for any other. */
const char *sniff_known(const char *type);

/* Whether type (as sniff_type answers it) is an image. */
bool sniff_is_image(const char *type);

#endif
