/* contrib/bench/tokens.c — session tokens for the benchmark's users, made
 * by chatd's own src/token.c (so they hash exactly as chatd hashes them),
 * for contrib/bench/run to COPY into the sessions table without a login
 * (a password hash) per user.
 *
 *   tokens FIRST LAST  -> one line per user id FIRST..LAST:
 *                         "ID<TAB>TOKEN<TAB>\x<token_id hex><TAB>\x<token_check hex>"
 *
 * Built by contrib/bench/run with src/token.c and libsodium. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "token.h"

int main(int argc, char **argv)
{
	char text[TOKEN_CHARS + 1], id[TOKEN_HEX + 1], check[TOKEN_HEX + 1];
	struct token_hash h;
	long long first, last, u;

	if (argc != 3 || (first = atoll(argv[1])) < 1 ||
	    (last = atoll(argv[2])) < first) {
		fputs("usage: tokens FIRST LAST\n", stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	for (u = first; u <= last; u++) {
		token_new(text, &h);
		token_hex(h.id, id);
		token_hex(h.check, check);
		/* COPY's text format reads a backslash as an escape. */
		printf("%lld\t%s\t\\%s\t\\%s\n", u, text, id, check);
	}
	return 0;
}
