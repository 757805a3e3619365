#include "config.h"

#include <string.h>

#include "digits.h"
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

const char digit_pairs[200] =
    "00010203040506070809" "10111213141516171819"
    "20212223242526272829" "30313233343536373839"
    "40414243444546474849" "50515253545556575859"
    "60616263646566676869" "70717273747576777879"
    "80818283848586878889" "90919293949596979899";

size_t id_format(int64_t v, char *dst)
{
	char tmp[20], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 : (uint64_t)v;
	size_t n;

	/* Right to left into tmp, two digits per division. */
	while (u >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	n = (size_t)(tmp + sizeof tmp - p);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}
