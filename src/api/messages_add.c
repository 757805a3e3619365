/* POST /messages/add {"chat", "author", "text"} [Idempotency-Key] ->
 * 201 {"id"}; 404 for an unknown chat or author; 403 for a non-member.
 * A repeated Idempotency-Key of the same author answers the earlier 201
 * when the request is the same (chat and text), 422 when it is not. With
 * a session, author may be left out (the caller) and must be the caller
 * (403 otherwise); the session is checked by the insert's own statement. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "message_outcome.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct messages_add_req {
	int64_t chat, author;		/* author -1: the caller's */
	bool other;			/* a session posting as another user */
	const char *text;		/* borrowed from the body */
	const char *idempotency_key;	/* borrowed; NULL when absent */
	int64_t file;			/* 0: none */
	const struct caller *caller;
};

/* sql/006_membership.sql: outcome (a word), message_id. */
static const struct query messages_add_insert = {"messages_add",
    "SELECT outcome, message_id FROM chatd_message_add($1, $2, $3, $4)", 4};
/* The same as the session of $5/$6 (idle less than $7) with file $8
 * (NULL: none), $2 the
 * author asked for or NULL: no row without a session (the session's
 * conditions are its scan's, met before the call, which needs its row).
 * When $2 is not the caller the function is given no chat, and answers
 * 'no_chat' having done nothing. Columns: the caller, outcome,
 * message_id. */
static const struct query messages_add_as = {"messages_add_as",
    "SELECT s.user_id, a.outcome, a.message_id FROM sessions s"
    " CROSS JOIN LATERAL chatd_message_add(CASE WHEN $2::bigint IS NULL"
    "  OR $2::bigint = s.user_id THEN $1::bigint END, s.user_id, $3, $4,"
    "  $8) a"
    " WHERE" AUTH_SESSION_IS("$5", "$6", "$7", "false"), 8};

static bool messages_add_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_add_req *req = out;

	req->caller = d->caller;
	return decode_id(root, "chat", true, &req->chat, d) &&
	    decode_acting_user(root, "author", &req->author, &req->other, d) &&
	    decode_message(root, &req->text, &req->file,
	    &req->idempotency_key, d);
}

static enum api_error messages_add_refuse_other(struct reply *r)
{
	return reply_fail(r, API_FORBIDDEN, "field 'author' is not the "
	    "session's user: a session posts as its own user");
}

static enum api_error messages_add(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_add_req *in = arg;
	char chat[21], author[21] = "", file[21] = "";
	const char *params[8] = {chat, author, in->text, in->idempotency_key,
	    in->caller->token_id, in->caller->token_check, auth_texts.idle,
	    NULL};
	enum api_error err;
	PGresult *res;
	int col = 0;

	if (in->other)
		return messages_add_refuse_other(r);
	/* Without a session the author is anyone's word: no file of theirs
	 * may be shown to a chat on it. */
	if (in->file != 0 && !in->caller->pending)
		return auth_refuse(r, "attaching a file needs a session: log "
		    "in and send its token");
	if (in->file != 0) {
		id_format(in->file, file);
		params[7] = file;
	}
	id_format(in->chat, chat);
	if (in->author >= 0)
		id_format(in->author, author);
	if (in->caller->pending) {
		if (in->author < 0)
			params[1] = NULL;
		res = db_query(db, &messages_add_as, params, &err);
		col = 1;
	} else {
		res = db_query(db, &messages_add_insert, params, &err);
	}
	if (res == NULL)
		return reply_db_error(r, err);
	if (col == 1 && PQntuples(res) == 0) {
		err = auth_refuse_ended(r);
	} else if (col == 1 && in->author >= 0 &&
	    in->author != pgbin_int8(PQgetvalue(res, 0, 0))) {
		err = messages_add_refuse_other(r);
	} else {
		if (col == 1)	/* the author is the caller */
			id_format(pgbin_int8(PQgetvalue(res, 0, 0)), author);
		err = message_outcome(PQgetvalue(res, 0, col), chat, author,
		    file, r);
		if (err == API_OK)
			reply_created(r, pgbin_int8(PQgetvalue(res, 0,
			    col + 1)));
	}
	PQclear(res);
	return err;
}

const struct route route_messages_add = {
	.path = "/messages/add", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct messages_add_req),
	.decode = messages_add_decode, .handle = messages_add,
	.queries = (const struct query *const[]){&messages_add_insert,
	    &messages_add_as, NULL},
};
