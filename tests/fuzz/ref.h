/* Reference implementations the fuzz targets hold chatd's code against.
 * They are written from the specifications (Unicode's table of well-formed
 * UTF-8, its White_Space property, API.md's id rules), deliberately in
 * another way than src/, and favour obviousness over speed. */
#ifndef CHATD_FUZZ_REF_H
#define CHATD_FUZZ_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the well-formed UTF-8 sequence at s[0..len) (len >
 * 0) and its code point in *cp, or 0 when the bytes there are not one
 * (Unicode 15, table 3-7). */
size_t ref_utf8_seq(const unsigned char *s, size_t len, uint32_t *cp);

/* True when s[0..len) is well-formed UTF-8; U+0000 is accepted only when
 * allow_nul. */
bool ref_utf8_valid(const char *s, size_t len, bool allow_nul);
/* Code points in well-formed UTF-8 s[0..len). */
size_t ref_utf8_count(const char *s, size_t len);
/* True when every code point of well-formed s[0..len) is White_Space. */
bool ref_utf8_blank(const char *s, size_t len);
/* The White_Space property (PropList.txt). */
bool ref_is_white_space(uint32_t cp);

/* True when s[0..len) is a canonical id (digits, no leading zero but "0"
 * itself, at most INT64_MAX); its value in *out. */
bool ref_id_parse(const char *s, size_t len, int64_t *out);

#endif
