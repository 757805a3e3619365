/* POST /messages/search {"query", ["chat", "limit", "before"]} -> 200
 * [message...]: the messages matching query in the chats the caller is a
 * member of (or in chat alone), newest first (by id), at most limit
 * (1-100, default 50), only those before the message id before (API.md
 * 2.4). The query is websearch_to_tsquery's syntax over the words of
 * sql/010_edit_search.sql; one that names no word to find is 400. With
 * chat given: 404 for no such chat, 403 for a non-member. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "list.h"
#include "membership.h"
#include "message_json.h"
#include "reply.h"
#include "route.h"

#define SEARCH_QUERY_MAX 256	/* code points */
#define SEARCH_LIMIT_MAX 100
#define SEARCH_LIMIT_DEFAULT 50

struct messages_search_req {
	int64_t caller;
	const char *query;	/* borrowed from the body */
	int64_t chat;		/* -1 when absent: every chat of the caller */
	int64_t before;		/* INT64_MAX when absent */
	int limit;
};

/* $1 the caller, $2 the query, $3 before, $4 limit, $5 one chat or NULL
 * -> MESSAGE_COLUMNS, newest first. Each of
 * the caller's chats is searched on its own for its newest $4 matches (a
 * probe of messages_search_idx with the chat's id and the query's words),
 * and the newest $4 of those are the answer: the work is the matches in
 * the caller's chats, however common a word is in all the others. (As
 * one join, PostgreSQL read all messages newest first for a common word,
 * filtering them by membership: 5 s over 5,000,000 messages.) A query
 * that is not usable yields no row without reading any. */
static const struct query messages_search_q = {"messages_search",
    "SELECT " MESSAGE_COLUMNS("m.", "f.")
    " FROM (SELECT chatd_search_query($2) AS q) s"
    " CROSS JOIN chat_members cm"
    " CROSS JOIN LATERAL (SELECT x.id, x.chat_id, x.author_id, x.text,"
    "   x.created_at, x.edited_at, x.file_id FROM messages x"
    "  WHERE x.chat_id = cm.chat_id AND x.id < $3"
    "   AND chatd_search_words(x.text) @@ s.q"
    "  ORDER BY x.id DESC LIMIT $4) m"
    MESSAGE_FILE("m", "f")
    " WHERE cm.user_id = $1 AND ($5::bigint IS NULL OR cm.chat_id = $5)"
    "  AND chatd_search_usable(s.q)"
    " ORDER BY m.id DESC LIMIT $4", 5};
/* After no row: whether the query $1 was usable. */
static const struct query messages_search_usable_q = {
    "messages_search_usable",
    "SELECT chatd_search_usable(chatd_search_query($1))", 1};

static bool messages_search_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_search_req *req = out;

	req->caller = d->caller->user;
	req->chat = -1;
	req->before = INT64_MAX;
	req->limit = SEARCH_LIMIT_DEFAULT;
	req->query = decode_text(root, "query", SEARCH_QUERY_MAX, d);
	return req->query != NULL &&
	    decode_id(root, "chat", false, &req->chat, d) &&
	    decode_id(root, "before", false, &req->before, d) &&
	    decode_int(root, "limit", 1, SEARCH_LIMIT_MAX, &req->limit, d);
}

/* One row of messages_search_q as a message object. */
static bool put_hit(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	message_json(b, res, row);
	return true;
}

static bool put_hits(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_hit, arg);
}

/* Why a search found nothing: 400 for a query that names no word to find,
 * the refusal of a chat the caller may not see, or API_OK for a
 * result that is just empty. */
static enum api_error why_empty(struct db *db,
    const struct messages_search_req *in, const char *chat, struct reply *r)
{
	enum api_error err;
	PGresult *res;
	bool usable;

	res = db_query(db, &messages_search_usable_q, &in->query, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	usable = PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) != 0;
	PQclear(res);
	if (!usable)
		return reply_fail(r, API_BAD_REQUEST, "field 'query' names no "
		    "word to find (only punctuation, or only excluded words)");
	if (in->chat >= 0)
		return membership_check(db, chat, in->caller, r);
	return API_OK;
}

static enum api_error messages_search(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_search_req *in = arg;
	char caller[21], chat[21], before[21], limit[12];
	const char *params[5] = {caller, in->query, before, limit, NULL};
	struct list l = {.q = &messages_search_q, .params = params,
	    .put = put_hits};
	enum api_error err;
	bool empty;

	id_format(in->caller, caller);
	id_format(in->before, before);
	snprintf(limit, sizeof limit, "%d", in->limit);
	if (in->chat >= 0) {
		id_format(in->chat, chat);
		params[4] = chat;
	}
	err = list_reply(db, r, &l, &empty);
	if (err != API_OK || !empty)
		return err;
	err = why_empty(db, in, chat, r);
	if (err == API_OK)
		buf_puts(&r->body, "[]\n");
	return err;
}

const struct route route_messages_search = {
	.path = "/messages/search", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct messages_search_req),
	.decode = messages_search_decode, .handle = messages_search,
	.queries = (const struct query *const[]){&messages_search_q,
	    &messages_search_usable_q, NULL},
};
