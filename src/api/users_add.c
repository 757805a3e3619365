/* POST /users/add {"username"} -> 201 {"id"}; 409 when the name is taken. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct users_add_req {
	const char *username;	/* borrowed from the body */
};

static const struct query users_add_insert = {"users_add",
    "INSERT INTO users (username) VALUES ($1) "
    "ON CONFLICT (username) DO NOTHING RETURNING id", 1};

static bool users_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct users_add_req *req = out;

	req->username = decode_text(root, "username",
	    decode_limits.username_max, d);
	return req->username != NULL;
}

static enum api_error users_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct users_add_req *in = arg;
	const char *params[1] = {in->username};
	enum api_error err;
	PGresult *res;

	res = db_query(db, &users_add_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return reply_fail(r, API_CONFLICT, "username is already taken");
	}
	reply_created(r, pgbin_int8(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return API_OK;
}

const struct route route_users_add = {
	.path = "/users/add", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED,
	.req_size = sizeof(struct users_add_req),
	.decode = users_add_decode, .handle = users_add,
	.queries = (const struct query *const[]){&users_add_insert, NULL},
};
