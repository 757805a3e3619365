/* fuzz_path — the FastCGI parameters a worker routes on, through
 * route_path() and route_find().
 *
 * Input: one flag byte (bit 0: DOCUMENT_URI absent, bit 1: REQUEST_URI
 * absent), then DOCUMENT_URI, a NUL, REQUEST_URI (up to its own NUL, as a
 * FastCGI parameter is a C string); without a NUL, REQUEST_URI is "".
 * Each parameter is a heap copy of exactly its size, so AddressSanitizer
 * sees any read past it.
 *
 * Invariants: route_path() gives "" when the raw path of REQUEST_URI (up
 * to any '?') holds an encoded slash, %2F or %2f; otherwise it picks
 * DOCUMENT_URI when present and not empty, else REQUEST_URI, else "", and
 * the length it gives ends at the first '?' or the end of the string.
 * route_find() answers the one route whose path is exactly those bytes,
 * or NULL; on the raw input (not a C string) as well. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "route.h"

/* The API's paths (API.md). */
static const char *const api_paths[] = {
	"/users/add", "/chats/add", "/messages/add", "/chats/get",
	"/messages/get", "/health", "/auth/signup", "/auth/login",
	"/auth/logout", "/auth/logout_all", "/auth/password",
	"/auth/sessions", "/users/me", "/users/list", "/chats/direct",
	"/chats/members", "/chats/members/add", "/chats/members/remove",
	"/chats/read", "/messages/send", "/messages/broadcast",
};
#define NPATHS (int)(sizeof api_paths / sizeof *api_paths)

static char *copy(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* True when the path part of uri (before any '?') holds "%2f" in any
 * case: an encoded slash, which nginx would not decode into a separator. */
static bool ref_encoded_slash(const char *uri)
{
	size_t i, n = strcspn(uri, "?");
	char *lower = malloc(n + 1);
	bool found;

	if (lower == NULL)
		abort();
	for (i = 0; i < n; i++)
		lower[i] = uri[i] == 'F' ? 'f' : uri[i];
	lower[n] = '\0';
	found = strstr(lower, "%2f") != NULL;
	free(lower);
	return found;
}

/* The route for exactly path[0..len), by the reference table. */
static int ref_route(const char *path, size_t len)
{
	int i;

	for (i = 0; i < NPATHS; i++)
		if (len == strlen(api_paths[i]) &&
		    memcmp(path, api_paths[i], len) == 0)
			return i;
	return -1;
}

static void check_find(const char *path, size_t len)
{
	const struct route *r = route_find(path, len);
	int want = ref_route(path, len);

	if (want < 0) {
		FUZZ_CHECK(r == NULL, "'%.*s' routed to %s", (int)len, path,
		    r->path);
		return;
	}
	FUZZ_CHECK(r != NULL, "'%s' not routed", api_paths[want]);
	FUZZ_CHECK(strcmp(r->path, api_paths[want]) == 0,
	    "'%s' routed to %s", api_paths[want], r->path);
	FUZZ_CHECK(r->handle != NULL, "route %s without a handler", r->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	char *doc, *req;
	const char *path, *want;
	size_t len, doclen;

	if (size == 0)
		return 0;
	nul = memchr(data + 1, '\0', size - 1);
	doclen = nul ? (size_t)(nul - data - 1) : size - 1;
	doc = data[0] & 1 ? NULL : copy(data + 1, doclen);
	req = data[0] & 2 ? NULL :
	    nul ? copy(nul + 1, size - 1 - doclen - 1) : copy(data, 0);

	path = route_path(doc, req, &len);
	if (req != NULL && ref_encoded_slash(req))
		want = NULL;
	else if (doc != NULL && doc[0] != '\0')
		want = doc;
	else
		want = req;
	if (want != NULL)
		FUZZ_CHECK(path == want, "path from the wrong parameter");
	else
		FUZZ_CHECK(path != NULL && path[0] == '\0' && len == 0,
		    "a path from no parameter or an encoded slash");
	FUZZ_CHECK(len <= strlen(path), "length %zu past the end", len);
	FUZZ_CHECK(memchr(path, '?', len) == NULL, "a '?' in the path");
	FUZZ_CHECK(path[len] == '\0' || path[len] == '?',
	    "path cut at byte %zu, '%c'", len, path[len]);
	check_find(path, len);

	check_find((const char *)data + 1, size - 1);
	free(doc);
	free(req);
	return 0;
}
