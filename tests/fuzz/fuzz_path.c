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
 * DOCUMENT_URI, whole, when present and not empty (a '?' in it is a
 * decoded %3F of the path), else REQUEST_URI up to its first '?', else "".
 * route_find() answers the one route whose path is exactly those bytes,
 * else the prefix route (downloads, "/files/") that the bytes continue,
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
	"/files/upload", "/users/avatar", "/messages/edit", "/messages/delete",
	"/messages/search", "/events", "/events/get", "/chats/typing", "/ws",
	"/ws/frame",
};
/* The prefix routes: every path that continues one is its route's. */
static const char *const api_prefixes[] = {"/files/", "/_chatd/stream/"};
#define NPREFIXES (int)(sizeof api_prefixes / sizeof *api_prefixes)
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

/* The route's path for path[0..len), by the reference tables: an exact
 * path first, then a prefix that it continues; NULL for none. */
static const char *ref_route(const char *path, size_t len)
{
	int i;

	for (i = 0; i < NPATHS; i++)
		if (len == strlen(api_paths[i]) &&
		    memcmp(path, api_paths[i], len) == 0)
			return api_paths[i];
	for (i = 0; i < NPREFIXES; i++)
		if (len > strlen(api_prefixes[i]) &&
		    memcmp(path, api_prefixes[i], strlen(api_prefixes[i])) == 0)
			return api_prefixes[i];
	return NULL;
}

static void check_find(const char *path, size_t len)
{
	const struct route *r = route_find(path, len);
	const char *want = ref_route(path, len);

	if (want == NULL) {
		FUZZ_CHECK(r == NULL || (r->prefix && len == strlen(r->path)),
		    "'%.*s' routed to %s", (int)len, path, r->path);
		return;
	}
	FUZZ_CHECK(r != NULL, "'%s' not routed", want);
	FUZZ_CHECK(strcmp(r->path, want) == 0, "'%.*s' routed to %s, not %s",
	    (int)len, path, r->path, want);
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
	if (want != NULL && want == doc) {
		FUZZ_CHECK(len == strlen(doc), "DOCUMENT_URI cut at byte %zu",
		    len);
	} else {
		FUZZ_CHECK(memchr(path, '?', len) == NULL, "a '?' in the path");
		FUZZ_CHECK(path[len] == '\0' || path[len] == '?',
		    "path cut at byte %zu, '%c'", len, path[len]);
	}
	check_find(path, len);

	check_find((const char *)data + 1, size - 1);
	free(doc);
	free(req);
	return 0;
}
