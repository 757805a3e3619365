/* POST /messages/add {"chat", "author", "text"} [Idempotency-Key] ->
 * 201 {"id"}; 404 for an unknown chat or author; 403 for a non-member.
 * A repeated Idempotency-Key of the same author answers the earlier 201
 * when the request is the same (chat and text), 422 when it is not. With
 * a session, author may be left out (the caller) and must be the caller
 * (403 otherwise). */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "id.h"
#include "message_outcome.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct messages_add_req {
	int64_t chat, author;
	bool other;			/* a session posting as another user */
	const char *text;		/* borrowed from the body */
	const char *idempotency_key;	/* borrowed; NULL when absent */
};

/* sql/006_membership.sql: outcome (a word), message_id. */
static const struct query messages_add_insert = {"messages_add",
    "SELECT outcome, message_id FROM chatd_message_add($1, $2, $3, $4)", 4};

static bool messages_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_add_req *req = out;

	if (!decode_id(root, "chat", true, &req->chat, d) ||
	    !decode_acting_user(root, "author", &req->author, &req->other, d))
		return false;
	return decode_message(root, &req->text, &req->idempotency_key, d);
}

static enum api_error messages_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_add_req *in = arg;
	char chat[21], author[21];
	const char *params[4] = {chat, author, in->text, in->idempotency_key};
	enum api_error err;
	PGresult *res;

	id_format(in->chat, chat);
	id_format(in->author, author);
	if (in->other)
		return reply_fail(r, API_FORBIDDEN, "field 'author' is not the "
		    "session's user: a session posts as its own user");
	res = db_query(db, &messages_add_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	err = message_outcome(PQgetvalue(res, 0, 0), chat, author, r);
	if (err == API_OK)
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, 1)));
	PQclear(res);
	return err;
}

const struct route route_messages_add = {
	.path = "/messages/add", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED,
	.req_size = sizeof(struct messages_add_req),
	.decode = messages_add_decode, .handle = messages_add,
	.queries = (const struct query *const[]){&messages_add_insert, NULL},
};
