#include "config.h"

#include <string.h>

#include <sodium.h>

#include "password.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES,
    "PASSWORD_HASH_MAX is libsodium's crypto_pwhash_STRBYTES");

struct password_cost password_cost = {
	crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
};

static char stand_in[PASSWORD_HASH_MAX];

bool password_init(void)
{
	unsigned char pw[32];
	bool ok;

	if (sodium_init() < 0)
		return false;
	randombytes_buf(pw, sizeof pw);
	ok = password_hash((const char *)pw, sizeof pw, stand_in);
	sodium_memzero(pw, sizeof pw);
	return ok;
}

bool password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	return crypto_pwhash_str(out, pw, len, password_cost.ops,
	    password_cost.mem) == 0;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
	if (hash == NULL || strlen(hash) >= PASSWORD_HASH_MAX) {
		/* The same work as a real check; the answer is no. */
		int ignored = crypto_pwhash_str_verify(stand_in, pw, len);

		(void)ignored;
		return false;
	}
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, password_cost.ops,
	    password_cost.mem) != 0;
}
