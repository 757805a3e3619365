#include "config.h"

#include "db.h"
#include "direct.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"

/* sql/006_membership.sql: chat_id (NULL: no such user), created. */
static const struct query direct_chat = {"direct_chat",
    "SELECT chat_id, created FROM chatd_direct($1, $2, $3)", 3};

const struct query *const direct_queries[] = {&direct_chat, NULL};

enum api_error direct_open(struct db *db, int64_t caller, int64_t other,
    const char *name, struct reply *r)
{
	char a[21], b[21];
	const char *params[3] = {a, b, name};
	enum api_error err = API_OK;
	PGresult *res;

	id_format(caller, a);
	id_format(other, b);
	res = db_query(db, &direct_chat, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQgetisnull(res, 0, 0))
		err = reply_fail(r, API_NOT_FOUND, "user %s does not exist", b);
	else
		reply_id(r, *PQgetvalue(res, 0, 1) ? 201 : 200,
		    pgbin_int8(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return err;
}
