#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "store.h"
#include "sweep.h"

/* Whether the regular file dir/name was last written more than age
 * seconds ago; its path into path. */
static bool old_file(const char *dir, const char *name, int age,
    char *path, size_t pathsz)
{
	struct stat st;
	int n = snprintf(path, pathsz, "%s/%s", dir, name);

	return n > 0 && (size_t)n < pathsz && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_mtime < time(NULL) - age;
}

/* Whether stored file name has a record; false with *failed set when the
 * database could not say. */
static bool recorded(PGconn *conn, const char *name, bool *failed)
{
	const char *params[1] = {name};
	PGresult *res = PQexecParams(conn, "SELECT FROM files WHERE stored = $1",
	    1, NULL, params, NULL, NULL, 0);
	bool found = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) > 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("sweep: %s", PQresultErrorMessage(res));
		*failed = true;
		found = true;	/* keep what cannot be checked */
	}
	PQclear(res);
	return found;
}

static void remove_file(const char *path, long *removed)
{
	if (unlink(path) == 0)
		(*removed)++;
	else if (errno != ENOENT)
		log_error("sweep: unlink %s: %s", path, strerror(errno));
}

/* Sweeps dir: with conn, the stored files without a record; without, every
 * file (the incoming directory). */
static bool sweep_dir(const char *dir, PGconn *conn, int age, long *removed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	bool failed = false;

	if (d == NULL) {
		log_error("sweep: %s: %s", dir, strerror(errno));
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		if (conn && !store_is_name(e->d_name))
			continue;
		if (!old_file(dir, e->d_name, age, path, sizeof path))
			continue;
		if (conn == NULL || !recorded(conn, e->d_name, &failed))
			remove_file(path, removed);
		if (failed)
			break;
	}
	closedir(d);
	return !failed;
}

bool sweep_run(const char *conninfo, int age)
{
	PGconn *conn = migrate_connect_current(conninfo);
	char incoming[4096];
	long stray = 0, abandoned = 0;
	bool ok = false;

	if (conn != NULL) {
		snprintf(incoming, sizeof incoming, "%s/incoming",
		    store_config.dir);
		ok = sweep_dir(store_config.dir, conn, age, &stray);
		ok = sweep_dir(incoming, NULL, age, &abandoned) && ok;
		log_info("sweep of %s: removed %ld stored file(s) without a "
		    "record and %ld abandoned upload(s), older than %d s",
		    store_config.dir, stray, abandoned, age);
	}
	PQfinish(conn);
	return ok;
}
