/* The API's routes: one const table of {path, handler}, looked up by the
 * worker before anything else is done with a request. */
#ifndef CHATD_ROUTER_H
#define CHATD_ROUTER_H

#include <stddef.h>

#include "errors.h"

enum route_id {
	ROUTE_USERS_ADD,
	ROUTE_CHATS_ADD,
	ROUTE_MESSAGES_ADD,
	ROUTE_CHATS_GET,
	ROUTE_MESSAGES_GET,
	ROUTE__MAX
};

struct db;
struct reply;
union request;

/* A handler runs one decoded, valid request against the database and fills
 * the reply. It returns API_OK with r->status and r->body set, or the error
 * from reply_fail(); it never sends anything itself but through reply. */
typedef enum api_error handler_fn(struct db *db, const union request *req,
    struct reply *r);

struct route {
	const char *path;
	enum route_id id;
	handler_fn *handle;
};

/* The path to route on, from the FastCGI parameters DOCUMENT_URI and
 * REQUEST_URI (either may be NULL): nginx's normalized DOCUMENT_URI when
 * set, else REQUEST_URI up to any '?'; "" (no route) when the raw path
 * holds an encoded slash ("%2F"), which no route has. Returns a borrowed
 * pointer into one of them (or a static ""), its length in *len. */
const char *router_path(const char *document_uri, const char *request_uri,
    size_t *len);

/* The route for an exact path (the part of the URI before any '?'), or
 * NULL. Returns a borrowed pointer into the static table. */
const struct route *router_find(const char *path, size_t len);

#endif
