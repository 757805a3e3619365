#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "query_string.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends the decoded p[0..n) to out; false when malformed. */
static bool decode(const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (p[i] == '+') {
			buf_putc(out, ' ');
		} else if (p[i] != '%') {
			buf_putc(out, p[i]);
		} else {
			if (i + 2 >= n)
				return false;
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			buf_putc(out, (char)(hi << 4 | lo));
			i += 2;
		}
	}
	return true;
}

enum qs_result qs_get(const char *qs, const char *name, struct buf *out)
{
	size_t k = strlen(name), start = out->len;
	enum qs_result found = QS_ABSENT;
	const char *p = qs ? qs : "";

	while (*p != '\0') {
		size_t n = strcspn(p, "&");

		/* A pair's name, compared as sent: names are ASCII here. */
		if (n >= k && strncmp(p, name, k) == 0 &&
		    (n == k || p[k] == '=')) {
			if (found != QS_ABSENT) {
				out->len = start;
				return QS_REPEATED;
			}
			found = QS_FOUND;
			if (n > k && !decode(p + k + 1, n - k - 1, out)) {
				out->len = start;
				return QS_MALFORMED;
			}
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return found;
}
