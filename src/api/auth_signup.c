/* POST /auth/signup {"username", "password", "email"} -> 201 {"id",
 * "token", "expires_at"} and the session cookie; 409 when the name is
 * taken. The user and their first session are one statement. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "password.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"
#include "session.h"

#define EMAIL_MAX 254		/* RFC 5321's longest address */

struct auth_signup_req {
	struct credentials c;
	const char *email;	/* borrowed; NULL when absent */
	char *const *envp;
};

/* The user, seen now, and a session. Columns: user_id, expires_at; no
 * row when the name is taken. */
static const struct query auth_signup_insert = {"auth_signup",
    "WITH u AS (INSERT INTO users (username, password_hash, email,"
    "  last_seen_at) VALUES ($1, $2, $3, clock_timestamp())"
    "  ON CONFLICT (username) DO NOTHING RETURNING id),"
    " s AS (" SESSION_INSERT("u.id", "$4", "$5", "$6") " FROM u"
    "  RETURNING user_id, expires_at)"
    " SELECT user_id, expires_at FROM s", 6};

static bool auth_signup_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct auth_signup_req *req = out;

	req->envp = d->envp;
	return decode_credentials(root, &req->c, d) &&
	    decode_opt_text(root, "email", EMAIL_MAX, &req->email, d);
}

static enum api_error auth_signup(struct db *db, const void *arg,
    struct reply *r)
{
	const struct auth_signup_req *in = arg;
	char hash[PASSWORD_HASH_MAX];
	struct session_new s;
	const char *params[6] = {in->c.username, hash, in->email, s.id,
	    s.check, auth_texts.lifetime};
	enum api_error err;
	PGresult *res;

	if (!password_hash(in->c.password, in->c.password_len, hash))
		return reply_fail(r, API_INTERNAL, "the password could not be "
		    "hashed");
	session_new(&s);
	res = db_query(db, &auth_signup_insert, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return reply_fail(r, API_CONFLICT, "username is already taken");
	}
	err = session_reply(r, in->envp, 201,
	    pgbin_int8(PQgetvalue(res, 0, 0)),
	    pgbin_int8(PQgetvalue(res, 0, 1)), &s);
	PQclear(res);
	return err;
}

const struct route route_auth_signup = {
	.path = "/auth/signup", .method = "POST", .body = BODY_JSON,
	.req_size = sizeof(struct auth_signup_req),
	.decode = auth_signup_decode, .handle = auth_signup,
	.queries = (const struct query *const[]){&auth_signup_insert, NULL},
};
