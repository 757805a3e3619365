/* Ending sessions: what auth/logout and auth/logout_all share. Both take
 * an empty object and answer 204 with the browser's cookie cleared. */
#ifndef CHATD_SESSION_END_H
#define CHATD_SESSION_END_H

#include <stdbool.h>

#include <jansson.h>

#include "auth.h"
#include "errors.h"

struct db;
struct decode_ctx;
struct query;
struct reply;

struct session_end_req {
	struct caller caller;
	char *const *envp;
};

bool session_end_decode(const json_t *root, void *out, struct decode_ctx *d);

/* Runs q, a DELETE with one parameter: the caller's user id when
 * by_user, else the caller's session id; then answers 204. */
enum api_error session_end(struct db *db, const struct query *q,
    const struct session_end_req *in, bool by_user, struct reply *r);

#endif
