/* What the libFuzzer targets of tests/fuzz/ share: the entry point and a
 * check that turns a broken invariant into a crash libFuzzer reports (and
 * saves the input of). */
#ifndef CHATD_FUZZ_H
#define CHATD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer once per input; data[0..size) is only valid during
 * the call. Returns 0 (other values are reserved by libFuzzer). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message naming the broken invariant when cond is false. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#endif
