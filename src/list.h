/* The answer of a list endpoint: the rows of one query as a JSON array,
 * written whole (a bounded result) or streamed row by row (one whose size
 * the client decides), and the one question an empty list raises: is the
 * list empty, or does its owner (the user, the chat) not exist? */
#ifndef CHATD_LIST_H
#define CHATD_LIST_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "db.h"
#include "reply.h"

/* Appends row of res as one JSON object to b; arg is the list's. False
 * when the row is malformed (an internal error). */
typedef bool list_row_fn(struct buf *b, const PGresult *res, int row,
    const void *arg);

/* Appends rows [0, n) of res to b as JSON objects separated by commas;
 * false as soon as one is malformed. */
typedef bool list_rows_fn(struct buf *b, const PGresult *res, int n,
    const void *arg);

/* The body of every list_rows_fn: an endpoint defines its own as a call of
 * this with its list_row_fn, so that the row writer is inlined into the
 * loop (a call through a pointer per row cost 1% of a chats/get). */
static inline bool list_rows(struct buf *b, const PGresult *res, int n,
    list_row_fn *put, const void *arg)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		if (!put(b, res, i, arg))
			return false;
	}
	return true;
}

struct list {
	const struct query *q;		/* the rows, in order */
	const char *const *params;	/* q's parameters */
	list_rows_fn *put;
	const void *arg;
	bool stream;			/* stream: memory stays flat however
					   many rows q yields */
	/* When q yields no row: a statement on params[0] that yields a row
	 * when the owner exists, which answers []; no row is 404 "<owner>
	 * <params[0]> does not exist". NULL: list_reply() answers nothing
	 * and tells the caller (see there). */
	const struct query *owner_q;
	const char *owner;		/* "user", "chat" */
};

/* Answers l into r: API_OK with the array written (streamed: the response
 * started, its rest pending), or the error. With no owner_q and no row,
 * the answer is [] when empty is NULL; otherwise nothing is written and
 * *empty is set, for the caller to decide. When
 * the client goes away during a stream, the statement is cancelled at once
 * and the answer is API_OK: there is no one left to answer. */
enum api_error list_reply(struct db *db, struct reply *r,
    const struct list *l, bool *empty);

#endif
