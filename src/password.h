/* Password hashes (API.md 2.1): Argon2id through libsodium's
 * crypto_pwhash_str, at a cost set once per process. A hash costs tens of
 * milliseconds of CPU and tens of MiB: it runs in the /auth/ pool of
 * workers (master.c), never in the pool that serves the rest of the API. */
#ifndef CHATD_PASSWORD_H
#define CHATD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN 8		/* bytes */
#define PASSWORD_MAX 1024
#define PASSWORD_HASH_MAX 128	/* crypto_pwhash_STRBYTES, with the NUL */

/* Argon2id's cost: passes and memory. OWASP's minimum is 2 passes of
 * 19 MiB; the defaults are libsodium's "interactive" ones (2, 64 MiB).
 * Set from the command line (main.c). */
struct password_cost {
	unsigned long long ops;
	size_t mem;		/* bytes */
};
extern struct password_cost password_cost;
#define PASSWORD_OPS_MIN 2ULL
#define PASSWORD_MEM_MIN (19u << 20)

/* Initialises libsodium and computes the stand-in hash that a login of an
 * unknown user is checked against, so that it takes as long as a wrong
 * password. False when either fails (out of memory). */
bool password_init(void);

/* Hashes pw[0..len) at password_cost into out. False when out of memory. */
bool password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);

/* Whether pw[0..len) matches hash; hash NULL (no such user, or a user
 * without a password) checks the stand-in and is false, in the same time. */
bool password_verify(const char *hash, const char *pw, size_t len);

/* True when hash was made at another cost than password_cost's (rehash it
 * on a successful login). */
bool password_needs_rehash(const char *hash);

#endif
