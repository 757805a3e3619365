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
	int64_t caller;		/* 0 without a session */
	int64_t other;		/* private: the other user */
};

/* sql/006_membership.sql: new_chat, or missing_user, or neither (taken). */
static const struct query chats_add_insert = {"chats_add",
    "SELECT new_chat, missing_user FROM chatd_chat_add($1, $2, $3)", 3};

/* The one user of a private chat's "users" who is not the caller into
 * req->other, or false (with a message) when there is not exactly one.
 * The array was checked by decode_ids. */
static bool private_other(const json_t *root, struct chats_add_req *req,
    struct decode_ctx *d)
{
	const json_t *v;
	size_t i, n = 0;
	int64_t id;

	json_array_foreach(json_object_get(root, "users"), i, v) {
		if (!id_from_json(v, &id) || id == req->caller ||
		    (n > 0 && id == req->other))
			continue;
		req->other = id;
		n++;
	}
	if (n != 1)
		return decode_fail(d, "field 'users' of a private chat must "
		    "name exactly one user besides the caller");
	return true;
}

static bool chats_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_add_req *req = out;
	const char *type = NULL;

	req->caller = d->caller->user;
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
	return !req->private || req->caller == 0 ||
	    private_other(root, req, d);
}

static enum api_error chats_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_add_req *in = arg;
	char owner[21];
	const char *params[3] = {in->name, in->users, NULL};
	enum api_error err;
	PGresult *res;

	if (in->private && in->caller == 0)
		return auth_refuse(r, "a private chat needs a session");
	if (in->private)
		return direct_open(db, in->caller, in->other, in->name, r);
	if (in->caller != 0) {
		id_format(in->caller, owner);
		params[2] = owner;
	}
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
