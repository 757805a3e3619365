#include "config.h"

#include "list.h"

/* The answer when l's query yielded no row. */
static enum api_error empty_or_missing(struct db *db, struct reply *r,
    const struct list *l, bool *empty)
{
	enum api_error err;
	PGresult *res;
	int n;

	if (l->owner_q == NULL) {
		if (empty != NULL) {
			*empty = true;
			return API_OK;
		}
		buf_puts(&r->body, "[]\n");
		return API_OK;
	}
	res = db_query(db, l->owner_q, l->params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		return reply_fail(r, API_NOT_FOUND, "%s %s does not exist",
		    l->owner, l->params[0]);
	buf_puts(&r->body, "[]\n");
	return API_OK;
}

static enum api_error bad_row(struct reply *r)
{
	return reply_fail(r, API_INTERNAL, "could not list the rows");
}

static enum api_error whole(struct db *db, struct reply *r,
    const struct list *l, bool *empty)
{
	enum api_error err;
	PGresult *res;
	int n;

	res = db_query(db, l->q, l->params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return empty_or_missing(db, r, l, empty);
	}
	buf_putc(&r->body, '[');
	if (!l->put(&r->body, res, n, l->arg)) {
		PQclear(res);
		return bad_row(r);
	}
	buf_puts(&r->body, "]\n");
	PQclear(res);
	return API_OK;
}

/* Headers go out with the first row; the body in REPLY_FLUSH_AT pieces. */
static enum api_error stream(struct db *db, struct reply *r,
    const struct list *l, bool *empty)
{
	enum api_error err;
	PGresult *res;
	bool first = true, ok = true;

	if (!db_stream_begin(db, l->q, l->params, &err))
		return reply_db_error(r, err);
	while ((res = db_stream_next(db, &err)) != NULL) {
		if (first)
			reply_start(r, 200);
		buf_putc(&r->body, first ? '[' : ',');
		first = false;
		ok = l->put(&r->body, res, 1, l->arg);
		PQclear(res);
		if (ok)
			reply_flush(r);
		if (!ok || r->failed) {
			db_stream_cancel(db);
			return ok ? API_OK : bad_row(r);
		}
	}
	if (err != API_OK)
		return reply_db_error(r, err);
	if (first)
		return empty_or_missing(db, r, l, empty);
	buf_puts(&r->body, "]\n");
	return API_OK;
}

enum api_error list_reply(struct db *db, struct reply *r,
    const struct list *l, bool *empty)
{
	if (empty)
		*empty = false;
	return l->stream ? stream(db, r, l, empty) : whole(db, r, l, empty);
}
