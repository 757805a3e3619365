#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "handlers.h"
#include "router.h"

static const struct route routes[ROUTE__MAX] = {
	[ROUTE_USERS_ADD] = {"/users/add", ROUTE_USERS_ADD, users_add},
	[ROUTE_CHATS_ADD] = {"/chats/add", ROUTE_CHATS_ADD, chats_add},
	[ROUTE_MESSAGES_ADD] = {"/messages/add", ROUTE_MESSAGES_ADD, messages_add},
	[ROUTE_CHATS_GET] = {"/chats/get", ROUTE_CHATS_GET, chats_get},
	[ROUTE_MESSAGES_GET] = {"/messages/get", ROUTE_MESSAGES_GET, messages_get},
};

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

const char *router_path(const char *document_uri, const char *request_uri,
    size_t *len)
{
	const char *p = document_uri;

	if (request_uri && encodes_slash(request_uri)) {
		*len = 0;
		return "";
	}
	if (p == NULL || *p == '\0')
		p = request_uri;
	if (p == NULL)
		p = "";
	*len = strcspn(p, "?");
	return p;
}

const struct route *router_find(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < ROUTE__MAX; i++)
		if (strlen(routes[i].path) == len &&
		    memcmp(routes[i].path, path, len) == 0)
			return &routes[i];
	return NULL;
}
