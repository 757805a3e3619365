#include "config.h"

#include "pgbin.h"

#define INT8OID 20

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
