#include "config.h"

#include <string.h>

#include <sodium.h>

#include "token.h"

static void hash(const unsigned char raw[TOKEN_BYTES], struct token_hash *h)
{
	unsigned char out[2 * TOKEN_HALF];

	crypto_generichash(out, sizeof out, raw, TOKEN_BYTES, NULL, 0);
	memcpy(h->id, out, TOKEN_HALF);
	memcpy(h->check, out + TOKEN_HALF, TOKEN_HALF);
	sodium_memzero(out, sizeof out);
}

void token_new(char text[TOKEN_CHARS + 1], struct token_hash *h)
{
	unsigned char raw[TOKEN_BYTES];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(text, TOKEN_CHARS + 1, raw, sizeof raw,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	hash(raw, h);
	sodium_memzero(raw, sizeof raw);
}

bool token_parse(const char *text, size_t len, struct token_hash *h)
{
	unsigned char raw[TOKEN_BYTES];
	size_t got = 0;
	const char *end = NULL;

	if (len != TOKEN_CHARS)
		return false;
	/* libsodium refuses non-alphabet characters and, without padding,
	 * a last character with stray low bits. */
	if (sodium_base642bin(raw, sizeof raw, text, len, NULL, &got, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    got != TOKEN_BYTES || end != text + len)
		return false;
	hash(raw, h);
	sodium_memzero(raw, sizeof raw);
	return true;
}

bool token_check_equal(const struct token_hash *h, const void *check,
    size_t len)
{
	return len == TOKEN_HALF && sodium_memcmp(h->check, check,
	    TOKEN_HALF) == 0;
}

void token_hex(const unsigned char half[TOKEN_HALF], char *dst)
{
	dst[0] = '\\';
	dst[1] = 'x';
	sodium_bin2hex(dst + 2, TOKEN_HEX - 1, half, TOKEN_HALF);
}
