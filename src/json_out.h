/* Writing JSON text straight into a buffer, for responses built row by row
 * (jansson would need a whole tree in memory first). */
#ifndef CHATD_JSON_OUT_H
#define CHATD_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends s[0..len) as a JSON string literal, quotes included. s must be
 * valid UTF-8; it is copied as is but for '"', '\\' and control
 * characters, which are escaped. */
void json_out_string(struct buf *b, const char *s, size_t len);
/* Appends an id as a JSON string: "42". */
void json_out_id(struct buf *b, int64_t id);
/* Appends a PostgreSQL timestamptz (binary form) as a JSON string in the
 * API's time format. */
void json_out_time(struct buf *b, int64_t pg_usec);

#endif
