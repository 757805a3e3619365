/* Who is asking (API.md 2.1): the session a request's token names. A
 * token comes as "Authorization: Bearer <token>" or, for browsers, as the
 * chatd_session cookie; the header wins when both are sent. */
#ifndef CHATD_AUTH_H
#define CHATD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "query.h"
#include "token.h"

struct db;
struct reply;

enum auth_mode {
	AUTH_OPEN,	/* section 1's endpoints work without a session */
	AUTH_REQUIRED	/* every endpoint but signup and login needs one */
};

/* Set from the command line (main.c). */
struct auth_config {
	enum auth_mode mode;
	int idle_seconds;	/* a session unused this long has ended */
	int lifetime_seconds;	/* and any session this long after login */
	int failures_max;	/* failed logins of an account per window */
	int failure_window_seconds;	/* an hour */
	int presence_seconds;	/* "online": seen this recently */
	bool broadcast_anyone;	/* messages/broadcast: anyone, not only
				   administrators */
};
extern struct auth_config auth_config;

/* auth_config's numbers as the text parameters statements take them in,
 * made once by auth_config_done() when the configuration is complete, not
 * on every request: idle as an interval ("604800 s", which AUTH_LIVE
 * subtracts as it is), the others as integers of seconds. */
struct auth_texts {
	char idle[16], lifetime[12], failure_window[12];
};
extern struct auth_texts auth_texts;
void auth_config_done(void);

#define AUTH_IDLE_DEFAULT (7 * 24 * 3600)
#define AUTH_LIFETIME_DEFAULT (30 * 24 * 3600)
#define AUTH_FAILURES_DEFAULT 100
#define AUTH_FAILURE_WINDOW_DEFAULT 3600
#define AUTH_PRESENCE_DEFAULT 300
#define AUTH_COOKIE "chatd_session"

/* The caller of a request. user 0: nobody (no token was sent), or not
 * known yet (pending). */
struct caller {
	int64_t user;
	int64_t session;
	bool cookie;		/* authenticated by the cookie */
	/* A well-formed token was sent and not yet looked up: its hash
	 * halves as bytea text ("\x..."), for auth_lookup() or for a
	 * statement that checks the session itself (AUTH_SESSION_IS). */
	bool pending;
	struct token_hash hash;
	char token_id[TOKEN_HEX + 1], token_check[TOKEN_HEX + 1];
};

/* Reads the request's token into c, without the database: c->pending
 * with its hash when one is sent; API_OK with nothing pending when none
 * is; 401 when it is malformed (or the Authorization header is of
 * another scheme); 403 for a cookie-authenticated POST whose Content-Type
 * is not application/json (API.md 2.1: a cross-site form cannot send
 * that). */
enum api_error auth_parse(char *const *envp, const char *method,
    struct caller *c, struct reply *r);

/* Makes c pending with the hash of the token written as tok[0..len)
 * (another place than a header: a frame of seed 003's WebSocket, which
 * carries its token in every frame); false, c unchanged but for its
 * hash, when it is not a well-formed token. */
bool auth_token(const char *tok, size_t len, struct caller *c);

/* Looks a pending caller's session up (nothing to do for one that is not
 * pending): API_OK with c->user and c->session set, 401 when the session
 * is unknown, expired or ended, 503/500 when the database fails. The
 * token's check half is compared in constant time. A session found is
 * marked used (and its user seen) at most once a minute. */
enum api_error auth_lookup(struct db *db, struct caller *c, struct reply *r);

/* The sessions that are live: not past their lifetime, and used less
 * than idle ago (idle: the parameter that holds auth_texts.idle, an
 * interval); s: how the statement names sessions, with its dot ("s.") or
 * "". */
#define AUTH_LIVE(s, idle) \
    " " s "expires_at > now()" \
    " AND " s "last_used_at > now() - " idle "::interval"
/* Whether a session's marks of use are due (once a minute). */
#define AUTH_MARKS_DUE(s) " " s "last_used_at < now() - interval '1 minute'"

/* The session check inside an endpoint's own statement, so that a request
 * with a token costs one round trip, not two (struct route's
 * inline_session), and no more work than a join with one row: the
 * conditions that keep, of the statement's "sessions s", only the live
 * session whose hash halves are the parameters tok and check, idle less
 * than idle (AUTH_LIVE), and make its marks of use as auth_lookup() does
 * when they are due (chatd_session_used, sql/007_session_marks.sql);
 * alone: "true" when the statement writes nothing else, whose marks then
 * commit without waiting for the disk (sql/008_quiet_marks.sql). The
 * CASEs fix the order: PostgreSQL evaluates a scan's conditions in an
 * order of its own choosing otherwise, and the marks are made for the
 * session found only. The check half is compared by PostgreSQL, not in
 * constant time, which gives nothing away: the row is found by the other
 * half, which only the token's holder can produce. (A common table
 * expression of the session, which a volatile function makes PostgreSQL
 * materialize, cost a users/add a tenth more than this.) */
#define AUTH_SESSION_IS(tok, check, idle, alone) \
    " s.token_id = " tok "::bytea AND CASE WHEN" \
    "  s.token_check = " check "::bytea AND" AUTH_LIVE("s.", idle) \
    " THEN CASE WHEN" AUTH_MARKS_DUE("s.") \
    "  THEN chatd_session_used(s.id, s.user_id, " alone ") ELSE true END" \
    " ELSE false END"

/* The user a request acts for (API.md 2.1) once its caller is known:
 * *acting as decoded (decode_acting_user; -1: not given, the caller),
 * made the caller when not given. True when it names someone else, which
 * the handler refuses with 403. */
static inline bool caller_other(const struct caller *c, int64_t *acting)
{
	if (*acting < 0)
		*acting = c->user;
	return *acting != c->user;
}

/* The 401 of a session that is unknown, expired or ended. */
enum api_error auth_refuse_ended(struct reply *r);

/* The 401 of a bad session or password: message why, WWW-Authenticate:
 * Bearer. */
enum api_error auth_refuse(struct reply *r, const char *why);

/* Records a failed login (or wrong current password) of user, for the
 * limit of auth/login. */
enum api_error auth_failed(struct db *db, int64_t user, struct reply *r);

/* Set-Cookie for a new session's token, or (token NULL) ending it in the
 * browser. Secure when the request came over TLS. False when the header
 * could not be added. */
bool auth_cookie(struct reply *r, char *const *envp, const char *token);

/* Statements of auth.c, prepared with every route's (db.c). */
extern const struct query *const auth_queries[];

#endif
