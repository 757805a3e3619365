#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "migrate.h"

/* Any fixed number: serializes concurrent `chatd migrate` runs. */
#define MIGRATE_LOCK_KEY 7427331

static int exec_ok(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		log_error("migrate: %s", PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

int migrate_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

int migrate_current(PGconn *conn)
{
	PGresult *res;
	int version = -1;

	res = PQexec(conn, "SELECT coalesce(max(version), 0) "
	    "FROM chatd_migrations");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		version = atoi(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42P01") == 0)
		version = 0;	/* undefined_table: a new database */
	PQclear(res);
	return version;
}

static int apply_one(PGconn *conn, const struct migration *m)
{
	char version[16];
	const char *params[2] = {version, m->name};
	PGresult *res;
	int ok;

	if (exec_ok(conn, "BEGIN") < 0)
		return -1;
	if (exec_ok(conn, m->sql) < 0)
		goto fail;
	snprintf(version, sizeof version, "%d", m->version);
	res = PQexecParams(conn, "INSERT INTO chatd_migrations (version, name) "
	    "VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("migrate: %s", PQresultErrorMessage(res));
	PQclear(res);
	if (!ok || exec_ok(conn, "COMMIT") < 0)
		goto fail;
	log_info("migrate: applied %s", m->name);
	return 0;
fail:
	exec_ok(conn, "ROLLBACK");
	log_error("migrate: %s failed; the database stays at the version "
	    "before it", m->name);
	return -1;
}

int migrate_apply(PGconn *conn)
{
	char lock[64];
	int current, rc = 0;
	size_t i;

	if (exec_ok(conn, "SET client_min_messages = warning") < 0 ||
	    exec_ok(conn, "CREATE TABLE IF NOT EXISTS chatd_migrations ("
	    "version int PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())") < 0)
		return -1;
	snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%d)",
	    MIGRATE_LOCK_KEY);
	if (exec_ok(conn, lock) < 0)
		return -1;
	current = migrate_current(conn);
	if (current < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < migrations_count; i++)
		if (migrations[i].version > current)
			rc = apply_one(conn, &migrations[i]);
	if (rc == 0)
		log_info("migrate: the database is at version %d",
		    migrate_latest());
	snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%d)",
	    MIGRATE_LOCK_KEY);
	exec_ok(conn, lock);
	return rc;
}

PGconn *migrate_connect_current(const char *conninfo)
{
	PGconn *conn = db_connect(conninfo);

	if (PQstatus(conn) != CONNECTION_OK) {
		log_error("cannot connect to the database: %s",
		    PQerrorMessage(conn));
	} else if (migrate_current(conn) != migrate_latest()) {
		log_error("the database schema is not current: run `chatd "
		    "migrate` first");
	} else {
		return conn;
	}
	PQfinish(conn);
	return NULL;
}
