/* UTF-8 rules of the API: strict RFC 3629 validation (no overlong forms,
 * no surrogates, nothing above U+10FFFF), lengths in code points. */
#ifndef CHATD_UTF8_H
#define CHATD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 holding no U+0000. */
bool utf8_valid(const char *s, size_t len);
/* Code points in s[0..len), which must be valid UTF-8. */
size_t utf8_length(const char *s, size_t len);
/* True when every code point of valid UTF-8 s[0..len) has the Unicode
 * White_Space property (true for the empty string). */
bool utf8_blank(const char *s, size_t len);

#endif
