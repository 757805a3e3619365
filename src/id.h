/* Ids of users, chats and messages (API.md section 0): positive int64 in
 * the database, decimal strings in responses; requests may send a string
 * or an integer. */
#ifndef CHATD_ID_H
#define CHATD_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Parses a canonical decimal id: digits only, no sign, no leading zero
 * (but "0" itself), at most INT64_MAX. True and *out set on success. */
bool id_parse(const char *s, size_t len, int64_t *out);
/* Accepts a JSON string holding a canonical decimal id or a JSON integer
 * >= 0. Anything else (real, negative, bool, null, other text) is false. */
bool id_from_json(const json_t *v, int64_t *out);
/* Writes the decimal form of v (>= 0) to dst, which has room for 21 bytes;
 * returns the length, not counting the NUL written after it. */
size_t id_format(int64_t v, char *dst);

#endif
