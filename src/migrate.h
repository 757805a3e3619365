/* Schema migrations: the numbered files of sql/, compiled into chatd, each
 * applied once, in order, in its own transaction, and recorded in the table
 * chatd_migrations. */
#ifndef CHATD_MIGRATE_H
#define CHATD_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

/* The version this chatd needs: that of its last migration. */
int migrate_latest(void);
/* The version the database is at (0 for an empty one), or -1 on error. */
int migrate_current(PGconn *conn);

/* A connection for a command that needs the current schema (`chatd admin`,
 * `chatd sweep`): NULL, with the reason logged, when the database cannot be
 * reached or its schema is not migrate_latest(). The caller PQfinish()es
 * it. */
PGconn *migrate_connect_current(const char *conninfo);
/* Applies the missing migrations. Returns 0 on success, -1 on error (an
 * error leaves the database at the last migration that succeeded). */
int migrate_apply(PGconn *conn);

#endif
