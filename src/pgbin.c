#include "config.h"

#include "pgbin.h"

#define INT8OID 20

int64_t pgbin_int8(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | u[i];
	return (int64_t)v;
}

int32_t pgbin_int4(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | (uint32_t)u[3]);
}

/* Layout (array_send): ndim, has_null flag, element type oid, then per
 * dimension its size and lower bound, then per element a length and the
 * element's own binary form. */
bool pgbin_array_begin(struct pgbin_array *it, const char *v, size_t len)
{
	int32_t ndim, has_null, elem;

	it->p = it->end = v;
	it->remaining = 0;
	if (len < 12)
		return false;
	ndim = pgbin_int4(v);
	has_null = pgbin_int4(v + 4);
	elem = pgbin_int4(v + 8);
	if (elem != INT8OID || has_null != 0)
		return false;
	if (ndim == 0) {
		it->end = v + len;
		it->p = it->end;
		return len == 12;
	}
	if (ndim != 1 || len < 20)
		return false;
	it->remaining = pgbin_int4(v + 12);
	if (it->remaining < 0)
		return false;
	it->p = v + 20;
	it->end = v + len;
	return (size_t)(it->end - it->p) == (size_t)it->remaining * 12;
}

bool pgbin_array_next(struct pgbin_array *it, int64_t *out)
{
	if (it->remaining == 0 || it->end - it->p < 12 || pgbin_int4(it->p) != 8)
		return false;
	*out = pgbin_int8(it->p + 4);
	it->p += 12;
	it->remaining--;
	return true;
}
