/* POST /auth/login {"username", "password"} -> 200 {"id", "token",
 * "expires_at"} and the session cookie, a fresh session each time.
 *
 * An unknown user, a user without a password (made by users/add) and a
 * wrong password all answer the same 401, in the same time: the password
 * is checked against a stand-in hash when there is no real one
 * (password.h). An account with auth_config.failures_max failures within
 * the window (an hour) answers 429 until the oldest leaves it; the count
 * is read before the hash is checked, so concurrent attempts may pass it
 * by at most one per worker (nginx limits the rate per client address). */
#include "config.h"

#include <stdio.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "password.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"
#include "session.h"

struct auth_login_req {
	struct credentials c;
	char *const *envp;
};

/* Columns: id, password_hash, failures in the window of $2 seconds,
 * seconds until the oldest of them leaves it. */
static const struct query auth_login_user = {"auth_login_user",
    "SELECT u.id, u.password_hash, f.n, ceil(extract(epoch FROM f.oldest"
    "  + make_interval(secs => $2::int) - clock_timestamp()))::int"
    " FROM users u CROSS JOIN LATERAL (SELECT count(*)::int AS n,"
    "  min(at) AS oldest FROM login_failures WHERE user_id = u.id"
    "  AND at > clock_timestamp() - make_interval(secs => $2::int)) f"
    " WHERE u.username = $1", 2};

/* A new session for user $1, who is seen now; the password rehashed when
 * $5 is not NULL; failures older than the window ($6 seconds) forgotten.
 * Column: expires_at. */
static const struct query auth_login_session = {"auth_login_session",
    "WITH s AS (" SESSION_INSERT("$1", "$2", "$3", "$4")
    "  RETURNING expires_at),"
    " seen AS (UPDATE users SET last_seen_at = now(),"
    "  password_hash = coalesce($5, password_hash) WHERE id = $1),"
    " old AS (DELETE FROM login_failures WHERE user_id = $1"
    "  AND at <= now() - make_interval(secs => $6::int))"
    " SELECT expires_at FROM s", 6};

static bool auth_login_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct auth_login_req *req = out;

	req->envp = d->envp;
	return decode_credentials(root, &req->c, d);
}

static enum api_error start(struct db *db, const struct auth_login_req *in,
    int64_t user, const char *hash, struct reply *r)
{
	char id[21], rehashed[PASSWORD_HASH_MAX];
	struct session_new s;
	const char *params[6] = {id, s.id, s.check, auth_texts.lifetime, NULL,
	    auth_texts.failure_window};
	enum api_error err;
	PGresult *res;

	id_format(user, id);
	if (password_needs_rehash(hash) &&
	    password_hash(in->c.password, in->c.password_len, rehashed))
		params[4] = rehashed;
	session_new(&s);
	res = db_query(db, &auth_login_session, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	err = session_reply(r, in->envp, 200, user,
	    pgbin_int8(PQgetvalue(res, 0, 0)), &s);
	PQclear(res);
	return err;
}

static enum api_error auth_login(struct db *db, const void *arg,
    struct reply *r)
{
	const struct auth_login_req *in = arg;
	char hash[PASSWORD_HASH_MAX], wait[16];
	const char *params[2] = {in->c.username, auth_texts.failure_window};
	const char *hashp = NULL;
	enum api_error err;
	PGresult *res;
	int64_t user = 0;
	bool found;

	res = db_query(db, &auth_login_user, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	found = PQntuples(res) == 1;
	if (found) {
		user = pgbin_int8(PQgetvalue(res, 0, 0));
		if (pgbin_int4(PQgetvalue(res, 0, 2)) >=
		    auth_config.failures_max) {
			int32_t s = pgbin_int4(PQgetvalue(res, 0, 3));

			PQclear(res);
			snprintf(wait, sizeof wait, "%d", s > 0 ? s : 1);
			reply_header(r, "Retry-After", wait);
			return reply_fail(r, API_TOO_MANY_REQUESTS, "too many "
			    "failed logins of this account; retry later");
		}
		if (!PQgetisnull(res, 0, 1) &&
		    PQgetlength(res, 0, 1) < (int)sizeof hash) {
			snprintf(hash, sizeof hash, "%s",
			    PQgetvalue(res, 0, 1));
			hashp = hash;
		}
	}
	PQclear(res);
	if (password_verify(hashp, in->c.password, in->c.password_len))
		return start(db, in, user, hash, r);
	if (found && (err = auth_failed(db, user, r)) != API_OK)
		return err;
	return auth_refuse(r, "unknown user or wrong password");
}

const struct route route_auth_login = {
	.path = "/auth/login", .method = "POST", .body = BODY_JSON,
	.req_size = sizeof(struct auth_login_req),
	.decode = auth_login_decode, .handle = auth_login,
	.queries = (const struct query *const[]){&auth_login_user,
	    &auth_login_session, NULL},
};
