/* Decimal output two digits at a time: the hot loops of responses (ids,
 * times) write thousands of numbers per request. */
#ifndef CHATD_DIGITS_H
#define CHATD_DIGITS_H

#include <string.h>

/* "00" "01" ... "99": the two digits of n at digit_pairs + 2 * n. */
extern const char digit_pairs[200];

/* Writes n (0..99) as exactly two digits; returns the end. */
static inline char *digits_put2(char *p, unsigned n)
{
	memcpy(p, digit_pairs + 2 * n, 2);
	return p + 2;
}

#endif
