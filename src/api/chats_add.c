/* POST /chats/add {"name", "users"} -> 201 {"id"}; 404 naming an unknown
 * user (nothing is created); 409 when the name is taken. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct chats_add_req {
	const char *name;	/* borrowed from the body */
	const char *users;	/* the ids as an array literal "{1,2}", in the
				   request's scratch space (decode_ids) */
	size_t nusers;
};

/* sql/002_functions.sql: new_chat, or missing_user, or neither (taken). */
static const struct query chats_add_insert = {"chats_add",
    "SELECT new_chat, missing_user FROM chatd_chat_add($1, $2)", 2};

static bool chats_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_add_req *req = out;

	req->name = decode_text(root, "name", decode_limits.chat_name_max, d);
	return req->name != NULL &&
	    decode_ids(root, "users", &req->users, &req->nusers, d);
}

static enum api_error chats_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_add_req *in = arg;
	const char *params[2] = {in->name, in->users};
	enum api_error err;
	PGresult *res;

	res = db_query(db, &chats_add_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (!PQgetisnull(res, 0, 0)) {
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, 0)));
	} else if (!PQgetisnull(res, 0, 1)) {
		char id[21];

		id_format(pgbin_int8(PQgetvalue(res, 0, 1)), id);
		err = reply_fail(r, API_NOT_FOUND, "user %s does not exist", id);
	} else {
		err = reply_fail(r, API_CONFLICT, "chat name is already taken");
	}
	PQclear(res);
	return err;
}

const struct route route_chats_add = {
	.path = "/chats/add", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED,
	.req_size = sizeof(struct chats_add_req),
	.decode = chats_add_decode, .handle = chats_add,
	.queries = (const struct query *const[]){&chats_add_insert, NULL},
};
