/* A new session (API.md 2.1), as signup and login start one: a fresh
 * token, the text parameters its row is inserted with, and the answer
 * {"id", "token", "expires_at"} with the browser's cookie. The insert
 * itself is the endpoint's, in the statement that does the rest of its
 * work, so that a request is one transaction. */
#ifndef CHATD_SESSION_H
#define CHATD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "errors.h"
#include "token.h"

struct decode_ctx;
struct reply;

/* What signup and login are sent: a username as users/add takes it and a
 * password (decode_password). Borrowed from the body. */
struct credentials {
	const char *username;
	const char *password;
	size_t password_len;
};

bool decode_credentials(const json_t *root, struct credentials *c,
    struct decode_ctx *d);

struct session_new {
	char token[TOKEN_CHARS + 1];	/* for the client, never stored */
	char id[TOKEN_HEX + 1];		/* bytea literals of its hash */
	char check[TOKEN_HEX + 1];
};

/* Sessions are inserted with these columns, from the parameters named. */
#define SESSION_INSERT(user, id, check, lifetime) \
    "INSERT INTO sessions (user_id, token_id, token_check, expires_at)" \
    " SELECT " user ", " id "::bytea, " check "::bytea," \
    " now() + make_interval(secs => " lifetime "::int)"

void session_new(struct session_new *s);

/* The answer to the request that inserted s for user: status with
 * {"id", "token", "expires_at"} and Set-Cookie. Wipes s's token. */
enum api_error session_reply(struct reply *r, char *const *envp,
    int status, int64_t user, int64_t expires_pg, struct session_new *s);

#endif
