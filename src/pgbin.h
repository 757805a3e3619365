/* Decoding PostgreSQL's binary wire format, which chatd requests for every
 * result: integers and times arrive as big-endian words, no parsing. */
#ifndef CHATD_PGBIN_H
#define CHATD_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <endian.h>

/* An int8 or timestamptz value (8 bytes, big-endian, any alignment). */
static inline int64_t pgbin_int8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return (int64_t)be64toh(v);
}

/* An int4 value (4 bytes, big-endian, any alignment). */
static inline int32_t pgbin_int4(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return (int32_t)be32toh(v);
}

/* Iterates over a one-dimensional int8[] in binary form without copying. */
struct pgbin_array {
	const char *p, *end;
	int32_t remaining;
};

/* Starts iterating over the array value v[0..len); false when it is not a
 * one-dimensional (or empty) int8[] without NULLs. */
bool pgbin_array_begin(struct pgbin_array *it, const char *v, size_t len);
/* Yields the next element in *out; false at the end or on a malformed
 * value. */
static inline bool pgbin_array_next(struct pgbin_array *it, int64_t *out)
{
	if (it->remaining == 0 || it->end - it->p < 12 ||
	    pgbin_int4(it->p) != 8)
		return false;
	*out = pgbin_int8(it->p + 4);
	it->p += 12;
	it->remaining--;
	return true;
}

#endif
