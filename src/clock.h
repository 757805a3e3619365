/* The monotonic clock in milliseconds: for timeouts and backoff, never for
 * times a client sees. */
#ifndef CHATD_CLOCK_H
#define CHATD_CLOCK_H

#include <time.h>

static inline long long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same in microseconds. */
static inline long long clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
