#include "config.h"

#include "db.h"
#include "decode.h"
#include "id.h"
#include "reply.h"
#include "session_end.h"

bool session_end_decode(const json_t *root, void *out, struct decode_ctx *d)
{
	struct session_end_req *req = out;

	(void)root;
	req->caller = *d->caller;
	req->envp = d->envp;
	return true;
}

enum api_error session_end(struct db *db, const struct query *q,
    const struct session_end_req *in, bool by_user, struct reply *r)
{
	char id[21];
	const char *params[1] = {id};
	enum api_error err;
	PGresult *res;

	id_format(by_user ? in->caller.user : in->caller.session, id);
	res = db_query(db, q, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	PQclear(res);
	if (!auth_cookie(r, in->envp, NULL))
		return reply_fail(r, API_INTERNAL, "the session cookie could "
		    "not be cleared");
	reply_no_content(r);
	return API_OK;
}
