/* POST /messages/get {"chat", ["limit", "after", "before"]} -> 200
 * [message...], oldest first; 404 for an unknown chat. Without a limit the
 * whole chat is streamed row by row: the worker's memory does not grow
 * with the chat. */
#include "config.h"

#include <stdio.h>

#include "db.h"
#include "decode.h"
#include "handlers.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"
#include "reply.h"

/* Appends row of a Q_MESSAGES_* result (id, author_id, text, created_at)
 * as a JSON object; chat is the chat's id already in decimal. */
static void put_message(struct buf *b, const PGresult *res, int row,
    const char *chat)
{
	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"chat\":\"");
	buf_puts(b, chat);
	buf_puts(b, "\",\"author\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 1)));
	buf_puts(b, ",\"text\":");
	json_out_string(b, PQgetvalue(res, row, 2), (size_t)PQgetlength(res,
	    row, 2));
	buf_puts(b, ",\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_putc(b, '}');
}

/* The answer when no message matched: [] for a chat that exists. */
static enum api_error empty_or_missing(struct db *db, const char *chat,
    struct reply *r)
{
	const char *params[1] = {chat};
	enum api_error err;
	PGresult *res;
	int n;

	res = db_query(db, Q_CHAT_EXISTS, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		return reply_fail(r, API_NOT_FOUND, "chat %s does not exist",
		    chat);
	buf_puts(&r->body, "[]\n");
	return API_OK;
}

/* One page of at most MESSAGES_PAGE_MAX rows, fetched whole. */
static enum api_error get_page(struct db *db,
    const struct messages_get_req *in, const char *const *params,
    struct reply *r)
{
	enum api_error err;
	PGresult *res;
	int i, n;

	res = db_query(db, in->newest ? Q_MESSAGES_NEWEST : Q_MESSAGES_OLDEST,
	    params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return empty_or_missing(db, params[0], r);
	}
	buf_putc(&r->body, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&r->body, ',');
		put_message(&r->body, res, i, params[0]);
	}
	buf_puts(&r->body, "]\n");
	PQclear(res);
	return API_OK;
}

/* The whole range, streamed: headers go out with the first row. */
static enum api_error get_stream(struct db *db, const char *const *params,
    struct reply *r)
{
	enum api_error err;
	PGresult *res;
	bool first = true;

	if (!db_stream_begin(db, Q_MESSAGES_OLDEST, params, &err))
		return reply_db_error(r, err);
	while ((res = db_stream_next(db, &err)) != NULL) {
		if (first) {
			reply_start(r, 200);
			buf_putc(&r->body, '[');
		} else {
			buf_putc(&r->body, ',');
		}
		first = false;
		put_message(&r->body, res, 0, params[0]);
		PQclear(res);
		reply_flush(r);
	}
	if (err != API_OK)
		return reply_db_error(r, err);
	if (first)
		return empty_or_missing(db, params[0], r);
	buf_puts(&r->body, "]\n");
	return API_OK;
}

enum api_error messages_get(struct db *db, const union request *req,
    struct reply *r)
{
	const struct messages_get_req *in = &req->messages_get;
	char chat[21], after[21], before[21], limit[12];
	const char *params[4] = {chat, after, before, NULL};

	id_format(in->chat, chat);
	id_format(in->after, after);
	id_format(in->before, before);
	if (in->limit == 0)
		return get_stream(db, params, r);
	snprintf(limit, sizeof limit, "%d", in->limit);
	params[3] = limit;
	return get_page(db, in, params, r);
}
