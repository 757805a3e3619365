/* GET /_chatd/stream/<open|close>/<user>/<session>/<id>: nchan's
 * nchan_subscribe_request and nchan_unsubscribe_request of an event
 * stream (GET /events; REALTIME.md 4), through nginx's loopback server
 * (internal: never from a client). <user> and <session> are those chatd
 * redirected the stream with, <id> nginx's $request_id of the stream
 * (32 hex). An open records the stream and, for the user's first, a
 * presence event (online); a close removes it and, for the last, a
 * presence event (offline): sql/012_presence.sql. Answers 204; nchan
 * ignores the answer (fire and forget), so a failure is only logged. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "log.h"
#include "reply.h"
#include "route.h"

#define STREAM_PREFIX "/_chatd/stream/"
#define STREAM_ID_LEN 32

struct stream_hook_req {
	bool open;
	int64_t user, session;
	char id[STREAM_ID_LEN + 1];
};

static const struct query stream_open_q = {"stream_open",
    "SELECT outcome FROM chatd_stream_open($1, $2, $3)", 3};
static const struct query stream_close_q = {"stream_close",
    "SELECT outcome FROM chatd_stream_close($1)", 1};

/* The next '/'-ended segment of *p (the rest of the path when last), its
 * length in *n; *p moves past it. */
static const char *segment(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *e = memchr(s, '/', (size_t)(end - s));

	if (e == NULL)
		e = end;
	*n = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return s;
}

static bool stream_hook_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct stream_hook_req *req = out;
	size_t len, n, i;
	const char *path = route_path(decode_header(d, "DOCUMENT_URI"),
	    decode_header(d, "REQUEST_URI"), &len), *end = path + len, *s;

	(void)root;
	path += strlen(STREAM_PREFIX);	/* the route is the prefix's */
	s = segment(&path, end, &n);
	if (n == 4 && memcmp(s, "open", 4) == 0)
		req->open = true;
	else if (n == 5 && memcmp(s, "close", 5) == 0)
		req->open = false;
	else
		return decode_fail(d, "open or close");
	s = segment(&path, end, &n);
	if (!id_parse(s, n, &req->user))
		return decode_fail(d, "a user id");
	s = segment(&path, end, &n);
	if (!id_parse(s, n, &req->session))
		return decode_fail(d, "a session id");
	s = segment(&path, end, &n);
	if (n != STREAM_ID_LEN || path != end)
		return decode_fail(d, "a stream id of 32 hex digits");
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return decode_fail(d, "a stream id of 32 hex digits");
	memcpy(req->id, s, n);
	req->id[n] = '\0';
	return true;
}

static enum api_error stream_hook(struct db *db, const void *arg,
    struct reply *r)
{
	const struct stream_hook_req *in = arg;
	char user[21], session[21], outcome[16];
	const char *params[3] = {in->id, user, session};
	enum api_error err;

	id_format(in->user, user);
	id_format(in->session, session);
	if (!db_word(db, in->open ? &stream_open_q : &stream_close_q, params,
	    outcome, sizeof outcome, &err)) {
		log_error("stream %s of user %s not recorded as %s", in->id,
		    user, in->open ? "open" : "closed");
		return reply_db_error(r, err);
	}
	reply_no_content(r);
	return API_OK;
}

const struct route route_stream_hook = {
	.path = STREAM_PREFIX, .prefix = true, .method = "GET",
	.body = BODY_NONE, .session = SESSION_NEVER, .internal = true,
	.events = true,
	.req_size = sizeof(struct stream_hook_req),
	.decode = stream_hook_decode, .handle = stream_hook,
	.queries = (const struct query *const[]){&stream_open_q,
	    &stream_close_q, NULL},
};
