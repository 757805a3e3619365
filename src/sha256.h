/* SHA-256 (FIPS 180-4) of an upload, in pieces. On a CPU with the SHA
 * extensions (x86 SHA-NI) the blocks are hashed by those instructions,
 * about seven times as fast as libsodium's portable code here (1.7 GB/s
 * against 0.23: a 25 MiB upload's hash 15 ms instead of 107); elsewhere
 * by libsodium. The digest is the same either way (tests/unit/test_sha256
 * compares them). */
#ifndef CHATD_SHA256_H
#define CHATD_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

struct sha256 {
	bool ni;			/* the SHA extensions hash the blocks */
	uint32_t h[8];			/* with ni: the state */
	uint64_t bytes;			/* with ni: bytes hashed so far */
	unsigned char block[64];	/* with ni: a partial block */
	size_t have;			/* its bytes */
	crypto_hash_sha256_state sodium;	/* without ni */
};

/* Whether this CPU has the SHA extensions (and SSSE3 and SSE4.1, which
 * the code around them uses). */
bool sha256_ni_available(void);

/* Starts a hash; ni false forces libsodium (for the tests). */
void sha256_init(struct sha256 *s, bool ni);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);

#endif
