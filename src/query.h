/* A statement of an endpoint, declared in its file in src/api/ and listed
 * in its route (route.h): prepared under name on every new database
 * connection (db.c). Parameters are sent as text, results requested in
 * binary (pgbin.h). */
#ifndef CHATD_QUERY_H
#define CHATD_QUERY_H

struct query {
	const char *name;	/* prepared statement name, unique */
	const char *sql;
	int nparams;
};

#endif
