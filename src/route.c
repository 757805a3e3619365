#include "config.h"

#include <stdio.h>
#include <string.h>

#include "query.h"
#include "reply.h"
#include "route.h"

const struct route *const route_table[] = {
#define ROUTE(name) &route_##name,
#include "routes.def"
#undef ROUTE
};
const size_t route_count = sizeof route_table / sizeof *route_table;

/* True when the path of uri (before any '?') holds a percent-encoded '/',
 * which names a segment with a slash in it, not two segments. */
static bool encodes_slash(const char *uri)
{
	const char *p;

	for (p = uri; *p && *p != '?'; p++)
		if (p[0] == '%' && p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
			return true;
	return false;
}

const char *route_path(const char *document_uri, const char *request_uri,
    size_t *len)
{
	const char *p = document_uri;

	if (request_uri && encodes_slash(request_uri)) {
		*len = 0;
		return "";
	}
	/* nginx's DOCUMENT_URI is decoded and never holds the query: a '?'
	 * in it was the client's %3F, part of the path (which then is no
	 * route's but a prefix route's, as nginx's locations see it). */
	if (p != NULL && *p != '\0') {
		*len = strlen(p);
		return p;
	}
	p = request_uri ? request_uri : "";
	*len = strcspn(p, "?");
	return p;
}

const struct route *route_find(const char *path, size_t len)
{
	size_t i;

	/* The paths' lengths, measured once: a request compares its length
	 * with each, and only an equal one byte by byte (path may hold any
	 * byte, NUL included). */
	static size_t lens[sizeof route_table / sizeof *route_table];

	if (lens[0] == 0)
		for (i = 0; i < route_count; i++)
			lens[i] = strlen(route_table[i]->path);
	for (i = 0; i < route_count; i++)
		if (lens[i] == len &&
		    memcmp(route_table[i]->path, path, len) == 0)
			return route_table[i];
	/* Then the prefix routes: an exact path wins (/files/upload). */
	for (i = 0; i < route_count; i++)
		if (route_table[i]->prefix && lens[i] < len &&
		    memcmp(route_table[i]->path, path, lens[i]) == 0)
			return route_table[i];
	return NULL;
}

enum api_error route_refuse_method(const struct route *rt, struct reply *r)
{
	bool head = strcmp(rt->method, "GET") == 0 && !rt->no_head;

	reply_header(r, "Allow", head ? "GET, HEAD" : rt->method);
	return reply_fail(r, API_METHOD_NOT_ALLOWED, "%s accepts only %s",
	    rt->path, head ? "GET and HEAD" : rt->method);
}

enum api_error route_refuse_session(const struct route *rt, struct reply *r)
{
	reply_header(r, "WWW-Authenticate", "Bearer");
	return reply_fail(r, API_UNAUTHORIZED, "%s needs a session: log in "
	    "and send its token", rt->path);
}

static bool problem(char *why, size_t whysz, const char *what,
    const char *name)
{
	snprintf(why, whysz, "%s: %s", name, what);
	return false;
}

bool route_table_check(char *why, size_t whysz)
{
	const struct query *const *q, *const *q2;
	size_t i, j;

	for (i = 0; i < route_count; i++) {
		const struct route *rt = route_table[i];

		if (rt->path == NULL || rt->path[0] != '/')
			return problem(why, whysz, "path not absolute",
			    rt->path ? rt->path : "(null)");
		if (strcmp(rt->method, "POST") != 0 &&
		    strcmp(rt->method, "GET") != 0)
			return problem(why, whysz, "unknown method", rt->path);
		if (rt->req_size > ROUTE_REQ_MAX)
			return problem(why, whysz, "request struct larger than "
			    "ROUTE_REQ_MAX", rt->path);
		if ((unsigned)rt->body >= BODY__MAX ||
		    (rt->body != BODY_NONE && rt->decode == NULL) ||
		    rt->handle == NULL)
			return problem(why, whysz, "body kind, decoder or "
			    "handler missing", rt->path);
		for (j = 0; j < i; j++)
			if (strcmp(route_table[j]->path, rt->path) == 0)
				return problem(why, whysz, "path twice",
				    rt->path);
		for (q = rt->queries; q && *q; q++)
			for (j = 0; j <= i; j++)
				for (q2 = route_table[j]->queries; q2 && *q2 &&
				    q2 != q; q2++)
					if (strcmp((*q2)->name, (*q)->name) == 0)
						return problem(why, whysz,
						    "statement name twice",
						    (*q)->name);
	}
	return true;
}
