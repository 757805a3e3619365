/* POST /users/add {"username"} -> 201 {"id"}; 409 when the name is taken. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "handlers.h"
#include "pgbin.h"
#include "reply.h"

enum api_error users_add(struct db *db, const union request *req,
    struct reply *r)
{
	const struct users_add_req *in = &req->users_add;
	const char *params[1] = {in->username};
	enum api_error err;
	PGresult *res;

	res = db_query(db, Q_USER_ADD, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return reply_fail(r, API_CONFLICT, "username is already taken");
	}
	reply_created(r, pgbin_int8(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return API_OK;
}
