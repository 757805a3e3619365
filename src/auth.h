/* Who is asking (API.md 2.1): the session a request's token names. A
 * token comes as "Authorization: Bearer <token>" or, for browsers, as the
 * chatd_session cookie; the header wins when both are sent. */
#ifndef CHATD_AUTH_H
#define CHATD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "query.h"

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
 * on every request. */
struct auth_texts {
	char idle[12], lifetime[12], failure_window[12], presence[12];
};
extern struct auth_texts auth_texts;
void auth_config_done(void);

#define AUTH_IDLE_DEFAULT (7 * 24 * 3600)
#define AUTH_LIFETIME_DEFAULT (30 * 24 * 3600)
#define AUTH_FAILURES_DEFAULT 100
#define AUTH_FAILURE_WINDOW_DEFAULT 3600
#define AUTH_PRESENCE_DEFAULT 300
#define AUTH_COOKIE "chatd_session"

/* The caller of a request. user 0: nobody (no token was sent). */
struct caller {
	int64_t user;
	int64_t session;
	bool cookie;		/* authenticated by the cookie */
};

/* Resolves the request's token into c: API_OK with c->user 0 when none is
 * sent; 401 when one is sent but is malformed, unknown, expired or
 * revoked; 403 for a cookie-authenticated POST whose Content-Type is not
 * application/json (API.md 2.1: a cross-site form cannot send that);
 * 503/500 when the database fails. A session found is marked used (and
 * its user seen) at most once a minute, not on every request. */
enum api_error auth_resolve(struct db *db, char *const *envp,
    const char *method, struct caller *c, struct reply *r);

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
