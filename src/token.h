/* Session tokens (API.md 2.1): 32 bytes from libsodium's CSPRNG, sent as
 * 43 characters of unpadded base64url. The server keeps only a hash of a
 * token: BLAKE2b-512 of its bytes, split in two. The first half finds the
 * session (an indexed column, so the database compares it, as it compares
 * any key); the second half is then compared here in constant time
 * (sodium_memcmp), so that no timing says how much of a guess was right. */
#ifndef CHATD_TOKEN_H
#define CHATD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_BYTES 32
#define TOKEN_CHARS 43		/* base64url without padding */
#define TOKEN_HALF 32		/* bytes of each half of the hash */
#define TOKEN_HEX (2 + 2 * TOKEN_HALF)	/* "\x" and hex digits: a bytea */

struct token_hash {
	unsigned char id[TOKEN_HALF];		/* looked up */
	unsigned char check[TOKEN_HALF];	/* compared in constant time */
};

/* A new token as text (TOKEN_CHARS + NUL) and its hash. libsodium must
 * have been initialised (sodium_init). */
void token_new(char text[TOKEN_CHARS + 1], struct token_hash *h);

/* The hash of the token written as text[0..len): false when it is not
 * exactly TOKEN_CHARS characters of unpadded base64url that decode to
 * TOKEN_BYTES bytes (the last character's unused bits zero). */
bool token_parse(const char *text, size_t len, struct token_hash *h);

/* True when check[0..len) is h->check, compared in constant time. */
bool token_check_equal(const struct token_hash *h, const void *check,
    size_t len);

/* A hash half as a bytea literal in hex ("\x0a1b..."), for a text
 * parameter: dst has room for TOKEN_HEX + 1 bytes. */
void token_hex(const unsigned char half[TOKEN_HALF], char *dst);

#endif
