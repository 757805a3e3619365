#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "auth.h"
#include "db.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"
#include "token.h"

struct auth_config auth_config = {
	.mode = AUTH_OPEN,
	.idle_seconds = AUTH_IDLE_DEFAULT,
	.lifetime_seconds = AUTH_LIFETIME_DEFAULT,
	.failures_max = AUTH_FAILURES_DEFAULT,
	.failure_window_seconds = AUTH_FAILURE_WINDOW_DEFAULT,
	.presence_seconds = AUTH_PRESENCE_DEFAULT,
};

/* The live session of a token's first hash half ($1), idle for less than
 * $2 seconds: a read of one index entry, which is all a request pays.
 * Columns: id, user_id, token_check, and whether its marks of use are
 * due. */
static const struct query auth_session = {"auth_session",
    "SELECT id, user_id, token_check," AUTH_MARKS_DUE("")
    " FROM sessions WHERE token_id = $1 AND" AUTH_LIVE("", "$2"), 2};

/* Session $1 is used now, and its user $2 seen (sql/007_session_marks.sql):
 * only when due, so a busy session writes once a minute, not per
 * request; in a transaction of its own, which waits for no disk
 * (sql/008_quiet_marks.sql). */
static const struct query auth_used = {"auth_used",
    "SELECT chatd_session_used($1, $2, true)", 2};

static const struct query auth_failure = {"auth_failure",
    "INSERT INTO login_failures (user_id) VALUES ($1)", 1};

const struct query *const auth_queries[] = {&auth_session, &auth_used,
    &auth_failure, NULL};

struct auth_texts auth_texts;

void auth_config_done(void)
{
	snprintf(auth_texts.idle, sizeof auth_texts.idle, "%d s",
	    auth_config.idle_seconds);
	snprintf(auth_texts.lifetime, sizeof auth_texts.lifetime, "%d",
	    auth_config.lifetime_seconds);
	snprintf(auth_texts.failure_window, sizeof auth_texts.failure_window,
	    "%d", auth_config.failure_window_seconds);
}

static const char *param(char *const *envp, const char *name)
{
	return envp ? FCGX_GetParam(name, (FCGX_ParamArray)envp) : NULL;
}

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

/* The token of an Authorization value "Bearer <token>" (the scheme in any
 * case, RFC 9110 11.1), trimmed; NULL for another scheme. */
static const char *bearer(const char *v, size_t *len)
{
	const char *end;

	if (strncasecmp(v, "Bearer", 6) != 0 || !space(v[6]))
		return NULL;
	for (v += 6; space(*v); v++)
		;
	for (end = v + strlen(v); end > v && space(end[-1]); end--)
		;
	*len = (size_t)(end - v);
	return v;
}

/* The value of the cookie AUTH_COOKIE in a Cookie header (RFC 6265
 * "name=value; name=value"), the first if repeated; NULL if absent. */
static const char *cookie(const char *v, size_t *len)
{
	const size_t n = strlen(AUTH_COOKIE);

	while (*v) {
		while (space(*v) || *v == ';')
			v++;
		if (strncmp(v, AUTH_COOKIE, n) == 0 && v[n] == '=') {
			v += n + 1;
			*len = strcspn(v, "; \t");
			return v;
		}
		v += strcspn(v, ";");
	}
	return NULL;
}

/* application/json, with or without parameters (charset=utf-8). */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || space(ct[n]));
}

enum api_error auth_refuse(struct reply *r, const char *why)
{
	reply_header(r, "WWW-Authenticate", "Bearer");
	return reply_fail(r, API_UNAUTHORIZED, "%s", why);
}

enum api_error auth_failed(struct db *db, int64_t user, struct reply *r)
{
	char id[21];
	const char *params[1] = {id};
	enum api_error err;
	PGresult *res;

	id_format(user, id);
	res = db_query(db, &auth_failure, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	PQclear(res);
	return API_OK;
}

/* Records that c's session is used now (auth_used). */
static enum api_error mark_used(struct db *db, const struct caller *c,
    struct reply *r)
{
	char session[21], user[21];
	const char *params[2] = {session, user};
	enum api_error err;
	PGresult *res;

	id_format(c->session, session);
	id_format(c->user, user);
	res = db_query(db, &auth_used, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	PQclear(res);
	return API_OK;
}

enum api_error auth_parse(char *const *envp, const char *method,
    struct caller *c, struct reply *r)
{
	const char *h = param(envp, "HTTP_AUTHORIZATION"), *tok = NULL;
	size_t len = 0;

	memset(c, 0, sizeof *c);
	if (h != NULL) {
		tok = bearer(h, &len);
		if (tok == NULL)
			return auth_refuse(r, "the Authorization header must be "
			    "\"Bearer <token>\"");
	} else if ((h = param(envp, "HTTP_COOKIE")) != NULL &&
	    (tok = cookie(h, &len)) != NULL) {
		c->cookie = true;
	} else {
		return API_OK;
	}
	if (!auth_token(tok, len, c))
		return auth_refuse(r, "the session token is malformed");
	if (c->cookie && method && strcmp(method, "POST") == 0 &&
	    !is_json_type(param(envp, "CONTENT_TYPE"))) {
		c->pending = false;
		return reply_fail(r, API_FORBIDDEN, "a request authenticated "
		    "by cookie must have Content-Type: application/json");
	}
	return API_OK;
}

bool auth_token(const char *tok, size_t len, struct caller *c)
{
	if (!token_parse(tok, len, &c->hash))
		return false;
	token_hex(c->hash.id, c->token_id);
	token_hex(c->hash.check, c->token_check);
	c->pending = true;
	return true;
}

enum api_error auth_refuse_ended(struct reply *r)
{
	return auth_refuse(r, "the session is unknown, has expired or has "
	    "ended; log in again");
}

enum api_error auth_lookup(struct db *db, struct caller *c, struct reply *r)
{
	const char *params[2] = {c->token_id, auth_texts.idle};
	enum api_error err;
	PGresult *res;
	bool found, stale = false;

	if (!c->pending)
		return API_OK;
	c->pending = false;
	res = db_query(db, &auth_session, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	found = PQntuples(res) == 1 && token_check_equal(&c->hash,
	    PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
	if (found) {
		c->session = pgbin_int8(PQgetvalue(res, 0, 0));
		c->user = pgbin_int8(PQgetvalue(res, 0, 1));
		stale = *PQgetvalue(res, 0, 3) != 0;
	}
	PQclear(res);
	if (!found) {
		c->cookie = false;
		return auth_refuse_ended(r);
	}
	return stale ? mark_used(db, c, r) : API_OK;
}

bool auth_cookie(struct reply *r, char *const *envp, const char *token)
{
	const char *https = param(envp, "HTTPS");
	char v[192];

	/* The browser keeps it no longer than the session can live. */
	snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%d; HttpOnly; "
	    "SameSite=Strict%s", AUTH_COOKIE, token ? token : "",
	    token ? auth_config.lifetime_seconds : 0,
	    https && *https ? "; Secure" : "");
	return reply_header(r, "Set-Cookie", v);
}
