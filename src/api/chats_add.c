/* POST /chats/add {"name", "users", ["type"]} -> 201 {"id"}; 404 naming an
 * unknown user (nothing is created); 409 when the name is taken.
 *
 * "type" is "group" (the default) or "private" (API.md 2.3). A group chat
 * made with a session is owned by the caller, who is one of its members;
 * without a session it has no owner and its membership is fixed. A private
 * chat needs a session and "users" naming exactly one other user (the
 * caller may be named too); when the pair has one already, its id is
 * answered with 200. A private chat's name is a label, not unique. */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "direct.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct chats_add_req {
	const char *name;	/* borrowed from the body */
	const char *users;	/* the ids as an array literal "{1,2}", in the
				   request's scratch space (decode_ids) */
	size_t nusers;
	bool private;
	int64_t named[3];	/* private: the first distinct ids of users, */
	int nnamed;		/* at most 3 (enough to tell "one besides
				   the caller") */
	struct caller *caller;
};

/* sql/006_membership.sql: new_chat, or missing_user, or neither (taken). */
static const struct query chats_add_insert = {"chats_add",
    "SELECT new_chat, missing_user FROM chatd_chat_add($1, $2, $3)", 3};
/* The same, owned by the caller, as the session of $3/$4 (idle less than
 * $5): no row without one (nothing made). Columns: the caller,
 * new_chat, missing_user. */
static const struct query chats_add_as = {"chats_add_as",
    "SELECT s.user_id, c.new_chat, c.missing_user FROM sessions s"
    " CROSS JOIN LATERAL chatd_chat_add($1, $2, s.user_id) c"
    " WHERE" AUTH_SESSION_IS("$3", "$4", "$5", "false"), 5};

/* The first distinct ids of "users" (checked by decode_ids). */
static void collect_named(const json_t *root, struct chats_add_req *req)
{
	const json_t *v;
	size_t i;
	int64_t id;
	int k;

	req->nnamed = 0;
	json_array_foreach(json_object_get(root, "users"), i, v) {
		if (req->nnamed == 3 || !id_from_json(v, &id))
			break;
		for (k = 0; k < req->nnamed && req->named[k] != id; k++)
			;
		if (k == req->nnamed)
			req->named[req->nnamed++] = id;
	}
}

static bool chats_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_add_req *req = out;
	const char *type = NULL;

	req->caller = d->caller;
	req->name = decode_text(root, "name", decode_limits.chat_name_max, d);
	if (req->name == NULL ||
	    !decode_ids(root, "users", &req->users, &req->nusers, d) ||
	    !decode_opt_text(root, "type", 16, &type, d))
		return false;
	if (type == NULL || strcmp(type, "group") == 0)
		req->private = false;
	else if (strcmp(type, "private") == 0)
		req->private = true;
	else
		return decode_fail(d, "field 'type' must be \"group\" or "
		    "\"private\"");
	collect_named(root, req);
	return true;
}

/* A private chat of the caller (known) and the one user besides them
 * that "users" names. */
static enum api_error chats_add_private(struct db *db,
    const struct chats_add_req *in, struct reply *r)
{
	int64_t caller = in->caller->user, other = 0;
	int k, n = 0;

	for (k = 0; k < in->nnamed; k++)
		if (in->named[k] != caller)
			other = in->named[k], n++;
	if (n != 1)
		return reply_fail(r, API_BAD_REQUEST, "field 'users' of a "
		    "private chat must name exactly one user besides the "
		    "caller");
	return direct_open(db, caller, other, in->name, r);
}

static enum api_error chats_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_add_req *in = arg;
	char owner[21];
	const char *params[5] = {in->name, in->users, NULL,
	    in->caller->token_id, in->caller->token_check};
	enum api_error err;
	PGresult *res;
	int col = 0;

	if (in->private) {
		err = auth_lookup(db, in->caller, r);
		if (err != API_OK)
			return err;
		if (in->caller->user == 0)
			return auth_refuse(r, "a private chat needs a session");
		return chats_add_private(db, in, r);
	}
	if (in->caller->pending) {
		params[2] = in->caller->token_id;
		params[3] = in->caller->token_check;
		params[4] = auth_texts.idle;
		res = db_query(db, &chats_add_as, params, &err);
		col = 1;
	} else {
		if (in->caller->user != 0) {
			id_format(in->caller->user, owner);
			params[2] = owner;
		}
		res = db_query(db, &chats_add_insert, params, &err);
	}
	if (res == NULL)
		return reply_db_error(r, err);
	if (col == 1 && PQntuples(res) == 0) {
		err = auth_refuse_ended(r);
	} else if (!PQgetisnull(res, 0, col)) {
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, col)));
	} else if (!PQgetisnull(res, 0, col + 1)) {
		char id[21];

		id_format(pgbin_int8(PQgetvalue(res, 0, col + 1)), id);
		err = reply_fail(r, API_NOT_FOUND, "user %s does not exist", id);
	} else {
		err = reply_fail(r, API_CONFLICT, "chat name is already taken");
	}
	PQclear(res);
	return err;
}

const struct route route_chats_add = {
	.path = "/chats/add", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct chats_add_req),
	.decode = chats_add_decode, .handle = chats_add,
	.queries = (const struct query *const[]){&chats_add_insert,
	    &chats_add_as, NULL},
};
