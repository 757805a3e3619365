/* contrib/bench/rate.h — what the rate tools (pwhash-rate.c,
 * sha256-rate.c) share: a clock, and THREADS threads running a loop
 * that counts what it did, summed into a rate.
 *
 * rate_threads(threads, loop) starts loop(&count) on each thread, joins
 * them and returns the sum of their counts per second of wall time; each
 * loop runs until rate_now() passes its own deadline. */
#ifndef CHATD_BENCH_RATE_H
#define CHATD_BENCH_RATE_H

#include <pthread.h>
#include <time.h>

#define RATE_THREADS_MAX 64

static inline double rate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double rate_threads(int threads, void *(*loop)(void *))
{
	pthread_t t[RATE_THREADS_MAX];
	long counts[RATE_THREADS_MAX] = {0}, total = 0;
	double t0 = rate_now();
	int i;

	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, loop, &counts[i]);
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += counts[i];
	}
	return (double)total / (rate_now() - t0);
}

#endif
