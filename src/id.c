#include "config.h"

#include "id.h"

bool id_parse(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');	/* 19 digits fit in u64 */
	}
	if (v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

bool id_from_json(const json_t *v, int64_t *out)
{
	if (json_is_string(v))
		return id_parse(json_string_value(v), json_string_length(v), out);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	return false;
}

size_t id_format(int64_t v, char *dst)
{
	char tmp[21];
	size_t n = 0, i;
	uint64_t u = v < 0 ? 0 : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	dst[n] = '\0';
	return n;
}
