/* POST /auth/sessions {} -> 200 [{"id", "created_at", "last_used_at",
 * "expires_at", "current"}]: the caller's live sessions, oldest first.
 * last_used_at is at most a minute behind (auth.c marks a session used
 * once a minute); expires_at is the absolute end, the idle one comes
 * sooner when the session is not used. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "list.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct auth_sessions_req {
	struct caller caller;
};

/* Columns: id, created_at, last_used_at, expires_at, current. */
static const struct query auth_sessions_list = {"auth_sessions",
    "SELECT id, created_at, last_used_at, expires_at, id = $2 FROM sessions"
    " WHERE user_id = $1 AND" AUTH_LIVE("", "$3")
    " ORDER BY created_at, id", 3};

static bool auth_sessions_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct auth_sessions_req *req = out;

	(void)root;
	req->caller = *d->caller;
	return true;
}

static bool put_session(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 1)));
	buf_puts(b, ",\"last_used_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 2)));
	buf_puts(b, ",\"expires_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_puts(b, *PQgetvalue(res, row, 4) ? ",\"current\":true}" :
	    ",\"current\":false}");
	return true;
}

static bool put_sessions(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_session, arg);
}

static enum api_error auth_sessions(struct db *db, const void *arg,
    struct reply *r)
{
	const struct auth_sessions_req *in = arg;
	char user[21], session[21];
	const char *params[3] = {user, session, auth_texts.idle};
	const struct list l = {.q = &auth_sessions_list, .params = params,
	    .put = put_sessions};

	id_format(in->caller.user, user);
	id_format(in->caller.session, session);
	return list_reply(db, r, &l, NULL);
}

const struct route route_auth_sessions = {
	.path = "/auth/sessions", .method = "POST",
	.session = SESSION_ALWAYS,
	.body = BODY_JSON, .req_size = sizeof(struct auth_sessions_req),
	.decode = auth_sessions_decode, .handle = auth_sessions,
	.queries = (const struct query *const[]){&auth_sessions_list, NULL},
};
