/* contrib/bench/sha256-rate.c — the ceiling of an upload's own work: how
 * many bodies of MIB MiB this machine hashes per second with chatd's
 * SHA-256 (src/sha256.c: the SHA extensions where the CPU has them, as
 * chatd uses them), with THREADS threads hashing for SECONDS seconds, each
 * its own buffer of random bytes, in the 64 KiB pieces chatd reads.
 *
 *   sha256-rate THREADS SECONDS MIB  -> prints "hashes_per_s=R ni=0|1"
 *
 * Built by contrib/bench/run with src/sha256.c and the build's config.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "rate.h"
#include "sha256.h"

#define PIECE (64 * 1024)	/* src/store.c's read size */

static size_t body_bytes;
static double seconds;

static void *hash_loop(void *arg)
{
	unsigned char *body = malloc(body_bytes), out[32];
	double end;
	long *n = arg;

	if (body == NULL)
		exit(1);
	randombytes_buf(body, body_bytes);
	end = rate_now() + seconds;
	while (rate_now() < end) {
		struct sha256 s;
		size_t off, len;

		sha256_init(&s, true);
		for (off = 0; off < body_bytes; off += len) {
			len = body_bytes - off < PIECE ? body_bytes - off : PIECE;
			sha256_update(&s, body + off, len);
		}
		sha256_final(&s, out);
		(*n)++;
	}
	free(body);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads;

	if (argc != 4 || sodium_init() < 0) {
		fputs("usage: sha256-rate THREADS SECONDS MIB\n", stderr);
		return 2;
	}
	threads = atoi(argv[1]);
	seconds = atof(argv[2]);
	body_bytes = (size_t)strtoull(argv[3], NULL, 10) << 20;
	if (threads < 1 || threads > RATE_THREADS_MAX || seconds <= 0 ||
	    body_bytes == 0)
		return 2;
	printf("hashes_per_s=%.2f ni=%d\n", rate_threads(threads, hash_loop),
	    sha256_ni_available());
	return 0;
}
