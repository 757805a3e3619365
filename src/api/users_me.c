/* POST /users/me {} -> 200 the caller's user object, with "email" (null
 * when none was given), which only its owner sees. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "reply.h"
#include "route.h"
#include "user_json.h"

struct users_me_req {
	struct caller caller;
};

/* USER_COLUMNS, then email. */
static const struct query users_me_get = {"users_me",
    "SELECT " USER_COLUMNS ", u.email FROM users u WHERE u.id = $1",
    1};

static bool users_me_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct users_me_req *req = out;

	(void)root;
	req->caller = *d->caller;
	return true;
}

static enum api_error users_me(struct db *db, const void *arg,
    struct reply *r)
{
	const struct users_me_req *in = arg;
	char user[21];
	const char *params[1] = {user};
	enum api_error err;
	PGresult *res;

	id_format(in->caller.user, user);
	res = db_query(db, &users_me_get, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) != 1) {	/* deleted since the session check */
		PQclear(res);
		return reply_fail(r, API_UNAUTHORIZED, "the session's user no "
		    "longer exists");
	}
	user_json(&r->body, res, 0, true);
	buf_puts(&r->body, ",\"email\":");
	if (PQgetisnull(res, 0, USER_NCOLUMNS))
		buf_puts(&r->body, "null");
	else
		json_out_string(&r->body, PQgetvalue(res, 0, USER_NCOLUMNS),
		    (size_t)PQgetlength(res, 0, USER_NCOLUMNS));
	buf_puts(&r->body, "}\n");
	r->status = 200;
	PQclear(res);
	return API_OK;
}

const struct route route_users_me = {
	.path = "/users/me", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct users_me_req),
	.decode = users_me_decode, .handle = users_me,
	.queries = (const struct query *const[]){&users_me_get, NULL},
};
