#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "direct.h"
#include "events_notify.h"
#include "log.h"
#include "membership.h"
#include "migrate.h"
#include "route.h"

struct db {
	char *conninfo;
	PGconn *conn;		/* NULL when not connected */
	long long last_try_ms;	/* of the last connection attempt */
	bool stream_failed;	/* an error result was seen in the stream */
	const struct query *stream_q;	/* the query being streamed */
	bool down;		/* the last attempt failed (and was logged) */
	int statement_timeout_ms;
};

struct db *db_new(const char *conninfo, int statement_timeout_ms)
{
	struct db *db = xmalloc(sizeof *db);

	db->conninfo = strdup(conninfo ? conninfo : "");
	if (db->conninfo == NULL)
		abort();
	db->conn = NULL;
	db->last_try_ms = -DB_RETRY_MS;
	db->stream_failed = false;
	db->down = false;
	db->statement_timeout_ms = statement_timeout_ms;
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

PGconn *db_connect(const char *conninfo)
{
	/* Defaults first: a value the conninfo names overrides them. */
	const char *const keys[] = {"connect_timeout",
	    "fallback_application_name", "dbname", NULL};
	const char *const values[] = {"5", "chatd", conninfo, NULL};

	return PQconnectdbParams(keys, values, 1);
}

static void disconnect(struct db *db)
{
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

/* Prepares the NULL-terminated list qs (NULL: none). */
static bool prepare(PGconn *conn, const struct query *const *qs)
{
	const struct query *const *q;
	PGresult *res;
	bool ok;

	for (q = qs; q && *q; q++) {
		res = PQprepare(conn, (*q)->name, (*q)->sql, (*q)->nparams,
		    NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			log_error("preparing %s: %s", (*q)->name,
			    PQresultErrorMessage(res));
		PQclear(res);
		if (!ok)
			return false;
	}
	return true;
}

/* The statements of the modules that several routes share. */
static const struct query *const *const shared_queries[] = {
	auth_queries, direct_queries, membership_queries,
	events_notify_queries,
};

/* Sets up a new connection: the statement timeout; JIT off (chatd's
 * statements are short; compiling one costs more than it can save, 18 ms
 * on a chats/get of 5,000 chats); Memoize off (chatd's statements look
 * rows up by keys that do not repeat within a statement, each of a user's
 * chats once, so its cache only copies every row it misses: chats/get of
 * 5,000 chats took 30 ms with it, 23 without); the presence window as the
 * setting chatd.presence_seconds (user_json.h); then every statement of
 * every route and of the shared modules, prepared. */
static bool prepare_all(PGconn *conn, int statement_timeout_ms)
{
	char set[160];
	PGresult *res;
	bool ok;
	size_t i;

	snprintf(set, sizeof set, "SET statement_timeout = %d; SET jit = off;"
	    " SET enable_memoize = off; SET chatd.presence_seconds = %d",
	    statement_timeout_ms, auth_config.presence_seconds);
	res = PQexec(conn, set);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("%s: %s", set, PQresultErrorMessage(res));
	PQclear(res);
	if (!ok)
		return false;

	for (i = 0; i < route_count; i++)
		if (!prepare(conn, route_table[i]->queries))
			return false;
	for (i = 0; i < sizeof shared_queries / sizeof *shared_queries; i++)
		if (!prepare(conn, shared_queries[i]))
			return false;
	return true;
}

/* PostgreSQL's notices and warnings ("terminating connection due to
 * administrator command", ...) go to chatd's log, not bare to stderr. */
static void log_notice(void *arg, const char *message)
{
	(void)arg;
	log_warn("database: %.*s", (int)strcspn(message, "\n"), message);
}

static bool connect_now(struct db *db)
{
	int version;

	db->last_try_ms = clock_ms();
	db->conn = db_connect(db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		if (!db->down)	/* once per outage, not once per retry */
			log_warn("database unavailable: %s",
			    PQerrorMessage(db->conn));
		db->down = true;
		disconnect(db);
		return false;
	}
	PQsetNoticeProcessor(db->conn, log_notice, NULL);
	version = migrate_current(db->conn);
	if (version != migrate_latest()) {
		if (!db->down)
			log_error("database schema is at version %d, this chatd "
			    "needs %d: run `chatd migrate`", version,
			    migrate_latest());
		db->down = true;
		disconnect(db);
		return false;
	}
	if (!prepare_all(db->conn, db->statement_timeout_ms)) {
		disconnect(db);
		return false;
	}
	log_info("connected to the database");
	db->down = false;
	return true;
}

bool db_ready(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	disconnect(db);
	if (clock_ms() - db->last_try_ms < DB_RETRY_MS)
		return false;
	return connect_now(db);
}

/* Maps a failed result to the API's error, dropping a broken connection.
 * A result without SQLSTATE (or none at all) is libpq's own report of a
 * lost connection, which PQstatus() may not show yet; SQLSTATE class 08
 * (connection exception) and the 57P0x shutdown codes say the server is
 * going or gone. All of those are worth a retry: 503. */
static enum api_error classify(struct db *db, const PGresult *res,
    const struct query *q)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
	    : NULL;

	if (state == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0) {
		log_warn("database connection lost during %s: %s",
		    q->name, PQerrorMessage(db->conn));
		disconnect(db);
		return API_UNAVAILABLE;
	}
	if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0) {
		log_warn("%s: %s", q->name,
		    PQresultErrorMessage(res));
		return API_UNAVAILABLE;	/* timeout or conflict: retryable */
	}
	log_error("%s failed: %s", q->name,
	    PQresultErrorMessage(res));
	return API_INTERNAL;
}

PGresult *db_query(struct db *db, const struct query *q,
    const char *const *params, enum api_error *err)
{
	PGresult *res;

	if (!db_ready(db)) {
		*err = API_UNAVAILABLE;
		return NULL;
	}
	res = PQexecPrepared(db->conn, q->name, q->nparams,
	    params, NULL, NULL, 1);
	if (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK) {
		*err = API_OK;
		return res;
	}
	*err = classify(db, res, q);
	PQclear(res);
	return NULL;
}

bool db_word(struct db *db, const struct query *q, const char *const *params,
    char *word, size_t size, enum api_error *err)
{
	PGresult *res = db_query(db, q, params, err);

	if (res == NULL)
		return false;
	snprintf(word, size, "%s", PQntuples(res) == 1 && PQnfields(res) > 0 ?
	    PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return true;
}

bool db_stream_begin(struct db *db, const struct query *q,
    const char *const *params, enum api_error *err)
{
	if (!db_ready(db)) {
		*err = API_UNAVAILABLE;
		return false;
	}
	db->stream_failed = false;
	db->stream_q = q;
	if (!PQsendQueryPrepared(db->conn, q->name, q->nparams,
	    params, NULL, NULL, 1) || !PQsetSingleRowMode(db->conn)) {
		*err = classify(db, NULL, q);
		if (db->conn) {	/* drain whatever was sent */
			PGresult *res;

			while ((res = PQgetResult(db->conn)) != NULL)
				PQclear(res);
		}
		return false;
	}
	*err = API_OK;
	return true;
}

PGresult *db_stream_next(struct db *db, enum api_error *err)
{
	PGresult *res;

	*err = API_OK;
	while (db->conn && (res = PQgetResult(db->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && !db->stream_failed)
			return res;
		if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE &&
		    !db->stream_failed) {
			db->stream_failed = true;
			*err = classify(db, res, db->stream_q);
			if (*err == API_UNAVAILABLE) {
				PQclear(res);
				return NULL;	/* connection dropped */
			}
		}
		PQclear(res);
	}
	if (db->stream_failed && *err == API_OK)
		*err = API_INTERNAL;
	return NULL;
}

void db_stream_cancel(struct db *db)
{
	PGcancel *cancel;
	PGresult *res;
	char why[256];

	if (db->conn == NULL)
		return;
	cancel = PQgetCancel(db->conn);
	if (cancel == NULL || !PQcancel(cancel, why, sizeof why)) {
		/* Without a cancel the rest would have to be read: drop the
		 * connection instead, the next request reconnects. */
		log_warn("cancelling %s failed: %s; reconnecting",
		    db->stream_q->name, cancel ? why : "no cancel handle");
		PQfreeCancel(cancel);
		disconnect(db);
		return;
	}
	PQfreeCancel(cancel);
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);	/* the rows in flight, then 57014 */
}
