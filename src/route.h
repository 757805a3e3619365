/* Routes: everything the worker knows about one endpoint is one row, a
 * struct route that the endpoint's own file in src/api/ exports. The table
 * of all of them is src/routes.def, one line per endpoint. */
#ifndef CHATD_ROUTE_H
#define CHATD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "errors.h"

struct db;
struct decode_ctx;
struct query;
struct reply;

/* What the worker reads from the request before the decoder runs. */
enum route_body {
	BODY_NONE,	/* nothing is read; the decoder gets root NULL */
	BODY_JSON,	/* a JSON object, at most --max-body bytes */
	/* the bytes as they came, at most --max-body, whatever they hold:
	 * the decoder finds them in d->body (POST /ws/frame judges a frame
	 * itself and answers every frame with a frame) */
	BODY_RAW,
	BODY__MAX
};

/* Fills the route's request struct req (req_size bytes, suitably aligned,
 * uninitialised) from root and the request's headers. False with a message
 * in d when the request is invalid (400). Whatever it keeps must live in
 * root or in d's scratch space: nothing is freed after it. */
typedef bool decode_fn(const json_t *root, void *req, struct decode_ctx *d);

/* Runs one decoded, valid request against the database and fills the
 * reply. Returns API_OK with r->status and r->body set (or the response
 * started and streamed), or the error from reply_fail(); it never sends
 * anything but through reply. */
typedef enum api_error handler_fn(struct db *db, const void *req,
    struct reply *r);

#define ROUTE_REQ_MAX 256	/* the largest request struct a route may have */

/* Whether a route needs a session (API.md 2.1). Without one needed, a
 * request that carries a token still acts as its user. */
enum route_session {
	SESSION_NEVER,		/* signup, login, health */
	SESSION_IF_REQUIRED,	/* section 1's five: with --auth required */
	SESSION_ALWAYS		/* everything else of section 2 */
};

struct route {
	const char *path;	/* exact, e.g. "/users/add", or with prefix */
	/* path is a prefix ending in '/': the route takes every path that
	 * continues it (GET /files/<id>/<name>); its decoder reads the rest
	 * (decode_path). */
	bool prefix;
	const char *method;	/* the one method it takes: "POST" or "GET" */
	enum route_session session;	/* 401 without one when needed */
	/* Its handler checks a pending session in its own statement
	 * (AUTH_SESSION_IS, auth.h): the worker does not look it up first,
	 * so a request with a token costs one round trip. */
	bool inline_session;
	/* A GET route that takes no HEAD either: 405 with Allow: GET (every
	 * other GET route answers HEAD as GET, without the body). */
	bool no_head;
	/* It may write events (sql/011_events.sql): after a 2xx answer the
	 * worker wakes the relay (events_notify.h). */
	bool events;
	enum route_body body;
	/* Reachable only from nginx's loopback server, which sets the
	 * FastCGI parameter CHATD_INTERNAL (a client's headers arrive as
	 * HTTP_* and cannot): elsewhere the worker answers 404, as for a
	 * path that is no route's. */
	bool internal;
	size_t req_size;	/* sizeof its request struct */
	decode_fn *decode;
	handler_fn *handle;
	/* Its statements, NULL-terminated: prepared on every new database
	 * connection, before any request runs. */
	const struct query *const *queries;
};

/* The table, in the order of src/routes.def. */
#define ROUTE(name) extern const struct route route_##name;
#include "routes.def"
#undef ROUTE
extern const struct route *const route_table[];
extern const size_t route_count;

/* The path to route on, from the FastCGI parameters DOCUMENT_URI and
 * REQUEST_URI (either may be NULL): nginx's normalized DOCUMENT_URI, whole,
 * when set (a '?' in it is a decoded %3F of the path), else REQUEST_URI up
 * to any '?'; "" (no route) when the raw path
 * holds an encoded slash ("%2F"), which no route has. Returns a borrowed
 * pointer into one of them (or a static ""), its length in *len. */
const char *route_path(const char *document_uri, const char *request_uri,
    size_t *len);

/* The route for a path (the part of the URI before any '?'): the route
 * of exactly that path, or a prefix route's that the path continues, or
 * NULL. Returns a borrowed pointer into the static table. */
const struct route *route_find(const char *path, size_t len);

/* True for a HEAD of a GET route, which is answered as the GET (nginx
 * sends the headers alone; RFC 9110 9.3.2). */
static inline bool route_head_of_get(const struct route *rt,
    const char *method)
{
	return strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0 &&
	    !rt->no_head;
}

/* The refusals of route_admit(), with their message and headers in r:
 * 405 with Allow naming the route's method (a GET route's as "GET, HEAD",
 * but for a no_head route),
 * 401 with WWW-Authenticate: Bearer. */
enum api_error route_refuse_method(const struct route *rt, struct reply *r);
enum api_error route_refuse_session(const struct route *rt, struct reply *r);

/* Whether rt needs a session under the configured --auth mode. */
static inline bool route_needs_session(const struct route *rt)
{
	return rt->session == SESSION_ALWAYS ||
	    (rt->session == SESSION_IF_REQUIRED &&
	    auth_config.mode == AUTH_REQUIRED);
}

/* The two checks before a decoder runs, in their order (the worker
 * resolves the session between them): the method (may be NULL; a GET
 * route takes HEAD too), then, when has_session is false, whether rt
 * needs one. API_OK, or the error with its message and headers in r (see
 * route_refuse_method, ..._session). Inline: they run for every request. */
static inline enum api_error route_admit_method(const struct route *rt,
    const char *method, struct reply *r)
{
	if (method == NULL || (strcmp(method, rt->method) != 0 &&
	    !route_head_of_get(rt, method)))
		return route_refuse_method(rt, r);
	return API_OK;
}

static inline enum api_error route_admit_session(const struct route *rt,
    bool has_session, struct reply *r)
{
	if (!has_session && route_needs_session(rt))
		return route_refuse_session(rt, r);
	return API_OK;
}

/* Both, for a request whose session is known. */
static inline enum api_error route_admit(const struct route *rt,
    const char *method, bool has_session, struct reply *r)
{
	enum api_error e = route_admit_method(rt, method, r);

	return e != API_OK ? e : route_admit_session(rt, has_session, r);
}

/* Checks the table's own invariants (paths unique and absolute, methods
 * known, request structs within ROUTE_REQ_MAX, decoders where a body is
 * read, statement names unique); false with the first problem in why. */
bool route_table_check(char *why, size_t whysz);

#endif
