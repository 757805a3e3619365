/* POST /messages/broadcast {"text"} -> 201 {"count"}: one message from the
 * caller into their private chat with every other user, the missing chats
 * opened, all in one transaction (API.md 2.4, seed 004's /send_to_all);
 * count is the number of messages stored. Administrators only (chatd
 * admin grant), or everyone with --broadcast anyone: 403 otherwise. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct messages_broadcast_req {
	int64_t caller;
	const char *text;	/* borrowed from the body */
};

/* sql/006_membership.sql: the count, NULL when not allowed. */
static const struct query messages_broadcast_insert = {"messages_broadcast",
    "SELECT chatd_broadcast($1, $2, $3)", 3};

static bool messages_broadcast_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_broadcast_req *req = out;

	req->caller = d->caller->user;
	req->text = decode_text(root, "text", decode_limits.text_max, d);
	return req->text != NULL;
}

static enum api_error messages_broadcast(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_broadcast_req *in = arg;
	char from[21], count[21];
	const char *params[3] = {from, in->text,
	    auth_config.broadcast_anyone ? "true" : "false"};
	enum api_error err = API_OK;
	PGresult *res;

	id_format(in->caller, from);
	res = db_query(db, &messages_broadcast_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQgetisnull(res, 0, 0)) {
		err = reply_fail(r, API_FORBIDDEN, "only administrators may "
		    "broadcast (chatd admin grant USERNAME)");
	} else {
		id_format(pgbin_int8(PQgetvalue(res, 0, 0)), count);
		buf_puts(&r->body, "{\"count\":");
		buf_puts(&r->body, count);
		buf_puts(&r->body, "}\n");
		r->status = 201;
	}
	PQclear(res);
	return err;
}

const struct route route_messages_broadcast = {
	.path = "/messages/broadcast", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct messages_broadcast_req),
	.decode = messages_broadcast_decode, .handle = messages_broadcast,
	.queries = (const struct query *const[]){&messages_broadcast_insert,
	    NULL},
};
