/*
 * sha1.h - SHA-1 (FIPS 180-4), for the one place the tests need it: the
 * WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 4.2.2). libsodium
 * has no SHA-1 and the project links no OpenSSL. Not for anything that
 * needs a secure hash.
 */
#ifndef CHATD_TEST_SHA1_H
#define CHATD_TEST_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;          /* message length so far */
	unsigned char block[64]; /* a partial block of `bytes % 64` bytes */
};

void sha1_init(struct sha1 *s);
/* Any number of calls, pieces of any size. */
void sha1_update(struct sha1 *s, const void *p, size_t n);
/* Writes the 20-byte digest; `s` must be initialised again to be reused. */
void sha1_final(struct sha1 *s, unsigned char out[20]);
/* The digest of one buffer. */
void sha1(const void *p, size_t n, unsigned char out[20]);

#endif
