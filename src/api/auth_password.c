/* POST /auth/password {"password", "new_password"} -> 204: the caller's
 * password is new_password, and every other session of the caller has
 * ended. A wrong password is 401, and counts as a failed login of the
 * account (auth/login's limit). */
#include "config.h"

#include <stdio.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "password.h"
#include "reply.h"
#include "route.h"

struct auth_password_req {
	struct caller caller;
	const char *password;	/* borrowed from the body */
	size_t password_len;
	const char *new_password;
	size_t new_password_len;
};

/* Column: password_hash (NULL for a user made by users/add). */
static const struct query auth_password_user = {"auth_password_user",
    "SELECT password_hash FROM users WHERE id = $1", 1};

static const struct query auth_password_set = {"auth_password_set",
    "WITH pw AS (UPDATE users SET password_hash = $2 WHERE id = $1)"
    " DELETE FROM sessions WHERE user_id = $1 AND id <> $3", 3};

static bool auth_password_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct auth_password_req *req = out;

	req->caller = *d->caller;
	req->password = decode_password(root, "password", &req->password_len,
	    d);
	if (req->password == NULL)
		return false;
	req->new_password = decode_password(root, "new_password",
	    &req->new_password_len, d);
	return req->new_password != NULL;
}

static enum api_error auth_password(struct db *db, const void *arg,
    struct reply *r)
{
	const struct auth_password_req *in = arg;
	char user[21], session[21], hash[PASSWORD_HASH_MAX];
	const char *params[3] = {user, hash, session};
	const char *hashp = NULL;
	enum api_error err;
	PGresult *res;

	id_format(in->caller.user, user);
	id_format(in->caller.session, session);
	res = db_query(db, &auth_password_user, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    PQgetlength(res, 0, 0) < (int)sizeof hash) {
		snprintf(hash, sizeof hash, "%s", PQgetvalue(res, 0, 0));
		hashp = hash;
	}
	PQclear(res);
	if (!password_verify(hashp, in->password, in->password_len)) {
		err = auth_failed(db, in->caller.user, r);
		return err != API_OK ? err : auth_refuse(r, "field 'password' "
		    "is not the current password");
	}
	if (!password_hash(in->new_password, in->new_password_len, hash))
		return reply_fail(r, API_INTERNAL, "the password could not be "
		    "hashed");
	res = db_query(db, &auth_password_set, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	PQclear(res);
	reply_no_content(r);
	return API_OK;
}

const struct route route_auth_password = {
	.path = "/auth/password", .method = "POST",
	.events = true,
	.session = SESSION_ALWAYS,
	.body = BODY_JSON, .req_size = sizeof(struct auth_password_req),
	.decode = auth_password_decode, .handle = auth_password,
	.queries = (const struct query *const[]){&auth_password_user,
	    &auth_password_set, NULL},
};
