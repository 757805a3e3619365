/* contrib/bench/pwhash-rate.c — the ceiling of a login: how many Argon2id
 * hashes (libsodium crypto_pwhash_str, the call chatd's login makes) this
 * machine computes per second, with THREADS threads hashing for SECONDS
 * seconds at OPS passes of MIB MiB.
 *
 *   pwhash-rate THREADS SECONDS OPS MIB  -> prints "hashes_per_s=R"
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "rate.h"

static unsigned long long ops;
static size_t mem;
static double seconds;

static void *hash_loop(void *arg)
{
	char out[crypto_pwhash_STRBYTES];
	double end = rate_now() + seconds;
	long *n = arg;

	while (rate_now() < end) {
		if (crypto_pwhash_str(out, "correct horse battery", 21, ops,
		    mem) != 0)
			exit(1);
		(*n)++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads;

	if (argc != 5 || sodium_init() < 0) {
		fputs("usage: pwhash-rate THREADS SECONDS OPS MIB\n", stderr);
		return 2;
	}
	threads = atoi(argv[1]);
	seconds = atof(argv[2]);
	ops = strtoull(argv[3], NULL, 10);
	mem = (size_t)strtoull(argv[4], NULL, 10) << 20;
	if (threads < 1 || threads > RATE_THREADS_MAX || seconds <= 0)
		return 2;
	printf("hashes_per_s=%.1f\n", rate_threads(threads, hash_loop));
	return 0;
}
