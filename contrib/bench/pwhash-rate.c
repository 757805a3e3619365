/* contrib/bench/pwhash-rate.c — the ceiling of a login: how many Argon2id
 * hashes (libsodium crypto_pwhash_str, the call chatd's login makes) this
 * machine computes per second, with THREADS threads hashing for SECONDS
 * seconds at OPS passes of MIB MiB.
 *
 *   pwhash-rate THREADS SECONDS OPS MIB  -> prints "hashes_per_s=R"
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

static unsigned long long ops;
static size_t mem;
static double seconds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *hash_loop(void *arg)
{
	char out[crypto_pwhash_STRBYTES];
	double end = now() + seconds;
	long *n = arg;

	while (now() < end) {
		if (crypto_pwhash_str(out, "correct horse battery", 21, ops,
		    mem) != 0)
			exit(1);
		(*n)++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	long counts[64] = {0}, total = 0;
	int threads, i;
	double t0;

	if (argc != 5 || sodium_init() < 0) {
		fputs("usage: pwhash-rate THREADS SECONDS OPS MIB\n", stderr);
		return 2;
	}
	threads = atoi(argv[1]);
	seconds = atof(argv[2]);
	ops = strtoull(argv[3], NULL, 10);
	mem = (size_t)strtoull(argv[4], NULL, 10) << 20;
	if (threads < 1 || threads > 64 || seconds <= 0)
		return 2;
	t0 = now();
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, hash_loop, &counts[i]);
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += counts[i];
	}
	printf("hashes_per_s=%.1f\n", (double)total / (now() - t0));
	return 0;
}
