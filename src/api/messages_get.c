/* POST /messages/get {"chat", ["limit", "after", "before"]} -> 200
 * [message...], oldest first; 404 for an unknown chat. A page (with a
 * limit) is fetched whole; without a limit the whole chat is streamed row
 * by row, so the worker's memory does not grow with the chat, and the read
 * stops as soon as the client has gone. With a session, only a chat the
 * caller is a member of (403 otherwise). */
#include "config.h"

#include <stdio.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "list.h"
#include "membership.h"
#include "message_json.h"
#include "reply.h"
#include "route.h"

#define MESSAGES_PAGE_MAX 1000

struct messages_get_req {
	int64_t chat;
	int64_t after;		/* 0 when absent: ids start at 1 */
	int64_t before;		/* INT64_MAX when absent */
	int limit;		/* 0 when absent: the whole chat */
	bool newest;		/* before and limit given: the newest page */
	struct caller *caller;
};

/* $1 chat, $2 after, $3 before, $4 limit (NULL: all) -> the messages'
 * MESSAGE_COLUMNS, oldest first. */
#define OLDEST(member) \
    "SELECT " MESSAGE_COLUMNS("m.", "f.") " FROM messages m" \
    MESSAGE_FILE("m", "f") \
    " WHERE m.chat_id = $1 AND m.id > $2 AND m.id < $3" member \
    " ORDER BY m.id LIMIT $4"
/* The same, but the newest $4 of the range, still oldest first. */
#define NEWEST(member) \
    "SELECT * FROM (SELECT " MESSAGE_COLUMNS("m.", "f.") " FROM messages m" \
    MESSAGE_FILE("m", "f") \
    "  WHERE m.chat_id = $1 AND m.id > $2 AND m.id < $3" member \
    "  ORDER BY m.id DESC LIMIT $4) page ORDER BY id"
/* With a token, the same for a member only, as the session of $5/$6
 * (idle less than $7): a one-time filter, evaluated before any
 * row is read, so that the session and the membership cost no statement
 * of their own. No row: the handler asks why. The membership is a probe
 * of the session's row (the OFFSET 0 keeps it one): as a join,
 * PostgreSQL sorts the one session for a merge join with the chat's
 * members, whose setting up alone cost a twentieth of the statement. */
#define MEMBER_ONLY \
    " AND EXISTS (SELECT FROM sessions s WHERE" \
    AUTH_SESSION_IS("$5", "$6", "$7", "true") " AND EXISTS (SELECT FROM" \
    "  chat_members cm WHERE cm.chat_id = $1 AND cm.user_id = s.user_id" \
    "  OFFSET 0))"

static const struct query messages_get_oldest_q = {"messages_get_oldest",
    OLDEST(""), 4};
static const struct query messages_get_newest_q = {"messages_get_newest",
    NEWEST(""), 4};
static const struct query messages_get_oldest_as = {"messages_get_oldest_as",
    OLDEST(MEMBER_ONLY), 7};
static const struct query messages_get_newest_as = {"messages_get_newest_as",
    NEWEST(MEMBER_ONLY), 7};
static const struct query messages_get_chat_q = {"messages_get_chat",
    "SELECT FROM chats WHERE id = $1", 1};
static bool messages_get_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_get_req *req = out;

	req->after = 0;
	req->before = INT64_MAX;
	req->limit = 0;
	req->caller = d->caller;
	if (!decode_id(root, "chat", true, &req->chat, d) ||
	    !decode_id(root, "after", false, &req->after, d) ||
	    !decode_id(root, "before", false, &req->before, d) ||
	    !decode_int(root, "limit", 1, MESSAGES_PAGE_MAX, &req->limit, d))
		return false;
	req->newest = req->limit > 0 && json_object_get(root, "before");
	return true;
}

/* One row as a JSON object. */
static bool put_message(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	message_json(b, res, row);
	return true;
}

static bool put_messages(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_message, arg);
}

static enum api_error messages_get(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_get_req *in = arg;
	char id[21], after[21], before[21], limit[12];
	const char *params[7] = {id, after, before, NULL,
	    in->caller->token_id, in->caller->token_check, auth_texts.idle};
	struct list l = {.q = &messages_get_oldest_q, .params = params,
	    .put = put_messages, .owner_q = &messages_get_chat_q,
	    .owner = "chat"};
	enum api_error err;
	bool empty;

	id_format(in->chat, id);
	id_format(in->after, after);
	id_format(in->before, before);
	if (in->limit == 0) {
		l.stream = true;
	} else {
		snprintf(limit, sizeof limit, "%d", in->limit);
		params[3] = limit;
		if (in->newest)
			l.q = &messages_get_newest_q;
	}
	if (!in->caller->pending)
		return list_reply(db, r, &l, NULL);
	l.q = in->newest ? &messages_get_newest_as : &messages_get_oldest_as;
	l.owner_q = NULL;
	err = list_reply(db, r, &l, &empty);
	if (err != API_OK || !empty)
		return err;
	err = auth_lookup(db, in->caller, r);
	if (err == API_OK)
		err = membership_check(db, id, in->caller->user, r);
	if (err == API_OK)	/* a member, and no message in the range */
		buf_puts(&r->body, "[]\n");
	return err;
}

const struct route route_messages_get = {
	.path = "/messages/get", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct messages_get_req),
	.decode = messages_get_decode, .handle = messages_get,
	.queries = (const struct query *const[]){&messages_get_oldest_q,
	    &messages_get_newest_q, &messages_get_oldest_as,
	    &messages_get_newest_as, &messages_get_chat_q, NULL},
};
