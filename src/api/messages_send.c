/* POST /messages/send {"to", "text", "file"} [Idempotency-Key] -> 201 {"id",
 * "chat"}: a message into the private chat of the caller and user to,
 * opened if needed, in one transaction (API.md 2.4, seed 004's /send).
 * 400 when to is the caller, 404 when to does not exist; an
 * Idempotency-Key works as in messages/add. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "message_outcome.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct messages_send_req {
	int64_t caller, to;
	const char *text;		/* borrowed from the body */
	const char *idempotency_key;	/* borrowed; NULL when absent */
	int64_t file;			/* 0: none */
};

/* sql/009_files.sql: outcome (a word), message_id, chat_id; $5 the
 * file or NULL. */
static const struct query messages_send_insert = {"messages_send",
    "SELECT outcome, message_id, chat_id FROM chatd_send($1, $2, $3, $4,"
    " $5)", 5};

static bool messages_send_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_send_req *req = out;

	req->caller = d->caller->user;
	if (!decode_id(root, "to", true, &req->to, d))
		return false;
	if (req->to == req->caller)
		return decode_fail(d, "field 'to' is the caller: a message is "
		    "sent to someone else");
	return decode_message(root, &req->text, &req->file,
	    &req->idempotency_key, d);
}

static enum api_error messages_send(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_send_req *in = arg;
	char from[21], to[21], chat[21] = "", file[21] = "";
	const char *params[5] = {from, to, in->text, in->idempotency_key,
	    NULL};
	enum api_error err;
	PGresult *res;

	id_format(in->caller, from);
	id_format(in->to, to);
	if (in->file != 0) {
		id_format(in->file, file);
		params[4] = file;
	}
	res = db_query(db, &messages_send_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (strcmp(PQgetvalue(res, 0, 0), "no_user") == 0) {
		PQclear(res);
		return reply_fail(r, API_NOT_FOUND, "user %s does not exist",
		    to);
	}
	if (!PQgetisnull(res, 0, 2))	/* NULL after a refusal */
		id_format(pgbin_int8(PQgetvalue(res, 0, 2)), chat);
	err = message_outcome(PQgetvalue(res, 0, 0), chat, from, file, r);
	if (err == API_OK) {
		buf_puts(&r->body, "{\"id\":");
		json_out_id(&r->body, pgbin_int8(PQgetvalue(res, 0, 1)));
		buf_puts(&r->body, ",\"chat\":\"");
		buf_puts(&r->body, chat);
		buf_puts(&r->body, "\"}\n");
		r->status = 201;
	}
	PQclear(res);
	return err;
}

const struct route route_messages_send = {
	.path = "/messages/send", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct messages_send_req),
	.decode = messages_send_decode, .handle = messages_send,
	.queries = (const struct query *const[]){&messages_send_insert, NULL},
};
