/* POST /chats/add {"name", "users"} -> 201 {"id"}; 404 naming an unknown
 * user (nothing is created); 409 when the name is taken. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "handlers.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"

/* Writes ids as a PostgreSQL array literal, "{1,2,3}", into b. */
static void put_id_array(struct buf *b, const int64_t *ids, size_t n)
{
	size_t i;

	buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		char *dst = buf_reserve(b, 22);

		if (i > 0)
			*dst++ = ',', b->len++;
		b->len += id_format(ids[i], dst);
	}
	buf_putc(b, '}');
}

enum api_error chats_add(struct db *db, const union request *req,
    struct reply *r)
{
	const struct chats_add_req *in = &req->chats_add;
	struct buf users;
	const char *params[2];
	enum api_error err;
	PGresult *res;

	buf_init(&users);
	put_id_array(&users, in->users, in->nusers);
	params[0] = in->name;
	params[1] = users.data;
	res = db_query(db, Q_CHAT_ADD, params, &err);
	buf_free(&users);
	if (res == NULL)
		return reply_db_error(r, err);
	if (!PQgetisnull(res, 0, 0)) {
		reply_created(r, pgbin_int8(PQgetvalue(res, 0, 0)));
	} else if (!PQgetisnull(res, 0, 1)) {
		char id[21];

		id_format(pgbin_int8(PQgetvalue(res, 0, 1)), id);
		err = reply_fail(r, API_NOT_FOUND, "user %s does not exist", id);
	} else {
		err = reply_fail(r, API_CONFLICT, "chat name is already taken");
	}
	PQclear(res);
	return err;
}
