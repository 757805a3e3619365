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
	struct caller *caller;
};

static const struct query users_add_insert = {"users_add",
    "INSERT INTO users (username) VALUES ($1) "
    "ON CONFLICT (username) DO NOTHING RETURNING id", 1};
/* The same as the session of $2/$3 (idle less than $4). No row
 * when there is no such session (nothing inserted) or the name is taken:
 * the handler then asks which. */
static const struct query users_add_as = {"users_add_as",
    "INSERT INTO users (username) SELECT $1 FROM sessions s WHERE"
    AUTH_SESSION_IS("$2", "$3", "$4", "false")
    " ON CONFLICT (username) DO NOTHING RETURNING id", 4};

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
	bool created;

	res = db_query(db, in->caller->pending ? &users_add_as :
	    &users_add_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	created = PQntuples(res) == 1;
	if (created)
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, 0)));
	PQclear(res);
	if (created)
		return API_OK;
	/* Nothing inserted: the name is taken, or the session has ended. */
	if (in->caller->pending) {
		err = auth_lookup(db, in->caller, r);
		if (err != API_OK)
			return err;
	}
	return reply_fail(r, API_CONFLICT, "username is already taken");
}

const struct route route_users_add = {
	.path = "/users/add", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct users_add_req),
	.decode = users_add_decode, .handle = users_add,
	.queries = (const struct query *const[]){&users_add_insert,
	    &users_add_as, NULL},
};
