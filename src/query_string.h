/* One parameter of a URL's query string ("a=1&name=x%20y"), as the
 * browsers' URLSearchParams and HTML forms write it: '&' between pairs,
 * '+' a space, %XX a byte. */
#ifndef CHATD_QUERY_STRING_H
#define CHATD_QUERY_STRING_H

#include <stddef.h>

#include "buf.h"

enum qs_result {
	QS_FOUND,	/* once, its decoded value appended to out */
	QS_ABSENT,
	QS_REPEATED,	/* more than once: which one is meant? */
	QS_MALFORMED	/* a '%' not followed by two hex digits */
};

/* Looks the parameter name up in qs (NULL: an empty query string). On
 * QS_FOUND the value's bytes are appended to out, without a terminating
 * NUL (the value may hold any byte, NUL included: the caller checks it). */
enum qs_result qs_get(const char *qs, const char *name, struct buf *out);

#endif
