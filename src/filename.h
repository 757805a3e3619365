/* A file's name as the client gave it, in the two places it leaves chatd:
 * the last segment of its download URL and the Content-Disposition of
 * the download. The name may hold anything but NUL (quotes, slashes,
 * "..", control characters, any UTF-8: API.md 2.5); neither form can
 * break out of its place, and the store never uses the name at all. */
#ifndef CHATD_FILENAME_H
#define CHATD_FILENAME_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define FILENAME_MAX_BYTES 255	/* a name's length, in bytes of UTF-8 */

/* Appends "/files/<id>/<name>" for file id (decimal) named name[0..len):
 * the name percent-encoded but for letters, digits and "-._~", each '/'
 * and '\' made '_' (an encoded slash is no route's: route_path), so that
 * the segment is one path segment whatever the name ("." and ".." are
 * "_" and "__", which no URL parser removes). chatd routes a
 * download by its id alone; the segment is what a browser saves it as. */
void filename_url(struct buf *b, const char *id, const char *name,
    size_t len);

/* Appends the value of Content-Disposition for name[0..len): "inline"
 * or "attachment", then filename="..." with every byte that is not
 * printable ASCII, and every '"', '\' and '/', made '_' (for clients
 * that know only that form), then filename*=UTF-8''... with the name
 * percent-encoded but for RFC 8187's attr-chars (RFC 6266 section 4.3). */
void filename_disposition(struct buf *b, bool inline_, const char *name,
    size_t len);

#endif
