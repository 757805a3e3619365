/* POST /chats/get {"user"} -> 200 [chat...], the user's chats by latest
 * message, newest first (queries.c states the whole order); 404 for an
 * unknown user. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "handlers.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"
#include "reply.h"

/* Appends one row of Q_CHATS_OF_USER as a JSON object. False when the
 * members array is malformed. */
static bool put_chat(struct buf *b, const PGresult *res, int row)
{
	struct pgbin_array it;
	int64_t member;
	bool first = true;

	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"name\":");
	json_out_string(b, PQgetvalue(res, row, 1), (size_t)PQgetlength(res,
	    row, 1));
	buf_puts(b, ",\"users\":[");
	if (!PQgetisnull(res, row, 4)) {
		if (!pgbin_array_begin(&it, PQgetvalue(res, row, 4),
		    (size_t)PQgetlength(res, row, 4)))
			return false;
		while (pgbin_array_next(&it, &member)) {
			if (!first)
				buf_putc(b, ',');
			first = false;
			json_out_id(b, member);
		}
	}
	buf_puts(b, "],\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 2)));
	buf_puts(b, ",\"last_message_at\":");
	if (PQgetisnull(res, row, 3))
		buf_puts(b, "null");
	else
		json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_putc(b, '}');
	return true;
}

enum api_error chats_get(struct db *db, const union request *req,
    struct reply *r)
{
	char user[21];
	const char *params[1] = {user};
	enum api_error err;
	PGresult *res;
	int i, n;

	id_format(req->chats_get.user, user);
	res = db_query(db, Q_CHATS_OF_USER, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	n = PQntuples(res);
	if (n == 0) {
		/* No chats: an empty list, or no such user. */
		PQclear(res);
		res = db_query(db, Q_USER_EXISTS, params, &err);
		if (res == NULL)
			return reply_db_error(r, err);
		n = PQntuples(res);
		PQclear(res);
		if (n == 0)
			return reply_fail(r, API_NOT_FOUND, "user %s does not "
			    "exist", user);
		buf_puts(&r->body, "[]\n");
		return API_OK;
	}
	buf_putc(&r->body, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&r->body, ',');
		if (!put_chat(&r->body, res, i)) {
			PQclear(res);
			return reply_fail(r, API_INTERNAL, "could not list the "
			    "chats");
		}
	}
	buf_puts(&r->body, "]\n");
	PQclear(res);
	return API_OK;
}
