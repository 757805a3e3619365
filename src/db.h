/* A worker's one PostgreSQL connection: opened lazily, its statements
 * prepared once, reset when it breaks. While the database cannot be
 * reached, requests fail fast with API_UNAVAILABLE instead of waiting. */
#ifndef CHATD_DB_H
#define CHATD_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "errors.h"
#include "query.h"

struct db;

/* A new handle for conninfo (a libpq conninfo string or URI; "" uses the
 * PG* environment). Every statement on its connections is cancelled after
 * statement_timeout_ms (0: never), which the client sees as 503. It does
 * not connect yet. */
struct db *db_new(const char *conninfo, int statement_timeout_ms);
void db_free(struct db *db);

/* Opens a libpq connection with chatd's defaults (connect_timeout and
 * application_name, both overridable by conninfo). The caller owns it. */
PGconn *db_connect(const char *conninfo);

/* True when the connection is up, the schema current and the statements
 * of every route prepared. A broken or missing connection is retried at
 * most every DB_RETRY_MS milliseconds; in between this answers false at
 * once. */
bool db_ready(struct db *db);
#define DB_RETRY_MS 250

/* Runs query q with text parameters (NULL for SQL NULL). Returns a result
 * whose status is PGRES_TUPLES_OK, or PGRES_COMMAND_OK for a statement
 * that returns no rows (the caller PQclear()s it), or NULL with
 * *err set to API_UNAVAILABLE (connection lost) or API_INTERNAL (logged).
 * The statement runs in its own transaction. */
PGresult *db_query(struct db *db, const struct query *q,
    const char *const *params, enum api_error *err);

/* Runs q, a call of a function whose outcome is a word (its first column,
 * sql/), and copies the word of its one row into word (size bytes, cut
 * short if longer). False with *err set as db_query() does. */
bool db_word(struct db *db, const struct query *q, const char *const *params,
    char *word, size_t size, enum api_error *err);

/* Streaming: sends query q and returns its rows one PGresult at a time.
 * db_stream_begin() is false with *err set when the query could not be
 * sent. db_stream_next() returns the next single-row result (the caller
 * PQclear()s it), or NULL at the end with *err = API_OK, or NULL on error
 * with *err set; in both NULL cases the connection is ready for the next
 * query. A stream must be read to its NULL or cancelled. */
bool db_stream_begin(struct db *db, const struct query *q,
    const char *const *params, enum api_error *err);
PGresult *db_stream_next(struct db *db, enum api_error *err);
/* Abandons the stream in progress (the client has gone): the statement is
 * cancelled on the server and what it already sent is discarded, so the
 * connection is ready for the next query. */
void db_stream_cancel(struct db *db);

#endif
