/* POST /users/add {"username"} -> 201 {"id"}; 409 when the name is taken.
 * With a token the session is checked by the insert's own statement. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct users_add_req {
	const char *username;	/* borrowed from the body */
	const struct caller *caller;
};

static const struct query users_add_insert = {"users_add",
    "INSERT INTO users (username) VALUES ($1) "
    "ON CONFLICT (username) DO NOTHING RETURNING id", 1};
/* The same as the session of $2/$3 (idle less than $4 seconds): no row
 * without one (nothing inserted). Columns: the caller, the new id (NULL:
 * the name is taken). */
static const struct query users_add_as = {"users_add_as",
    "WITH" AUTH_SESSION_CTE("$2", "$3", "$4") ","
    " i AS (INSERT INTO users (username) SELECT $1 FROM who"
    "  ON CONFLICT (username) DO NOTHING RETURNING id)"
    " SELECT who.user_id, (SELECT id FROM i) FROM who", 4};

static bool users_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct users_add_req *req = out;

	req->caller = d->caller;
	req->username = decode_text(root, "username",
	    decode_limits.username_max, d);
	return req->username != NULL;
}

static enum api_error users_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct users_add_req *in = arg;
	const char *params[4] = {in->username, in->caller->token_id,
	    in->caller->token_check, auth_texts.idle};
	enum api_error err = API_OK;
	PGresult *res;
	int col = 0;

	if (in->caller->pending) {
		res = db_query(db, &users_add_as, params, &err);
		col = 1;
	} else {
		res = db_query(db, &users_add_insert, params, &err);
	}
	if (res == NULL)
		return reply_db_error(r, err);
	if (col == 1 && PQntuples(res) == 0)
		err = auth_refuse_ended(r);
	else if (PQntuples(res) == 0 || PQgetisnull(res, 0, col))
		err = reply_fail(r, API_CONFLICT, "username is already taken");
	else
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, col)));
	PQclear(res);
	return err;
}

const struct route route_users_add = {
	.path = "/users/add", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct users_add_req),
	.decode = users_add_decode, .handle = users_add,
	.queries = (const struct query *const[]){&users_add_insert,
	    &users_add_as, NULL},
};
