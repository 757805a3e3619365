/* GET /events -> the caller's live stream (API.md 2.6): a WebSocket, an
 * EventSource or a long-poll, whichever the request asks for. chatd only
 * authorizes it: the session (cookie or Authorization, checked by the
 * worker before the decoder runs) gives the user and the session, and the
 * answer is X-Accel-Redirect to /_chatd/events/<user>/<session>, nginx's
 * internal nchan_subscriber location on the channels u<user> and
 * s<session> (nginx/chatd.conf). nginx keeps the original request's
 * method and headers across the redirect, so nchan sees the WebSocket
 * upgrade or the Accept: text/event-stream the client sent.
 *
 * Refused before the redirect, since nchan would act on them after it:
 *   If-None-Match, If-Modified-Since  400: nchan reads them as a message id
 *       whatever nchan_subscriber_last_message_id says
 *       (nchan_subscriber_get_msg_id), and a crafted id can crash an nginx
 *       worker (nchan #670, #676, #534). A client catches up with
 *       POST /events/get instead.
 * and refused by the worker before the session is looked at:
 *   HEAD  405, Allow: GET (no_head): nchan's subscriber has no answer for
 *       it (nchan_pubsub_handler takes GET, or a WebSocket upgrade, and
 *       leaves any other method unanswered), so the request would hang. */
#include "config.h"

#include <stdio.h>

#include "auth.h"
#include "decode.h"
#include "id.h"
#include "reply.h"
#include "route.h"

struct events_req {
	int64_t user, session;
};

static bool events_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct events_req *req = out;
	(void)root;
	if (decode_header(d, "HTTP_IF_NONE_MATCH") != NULL)
		return decode_fail(d, "GET /events takes no If-None-Match: "
		    "catch up with POST /events/get");
	if (decode_header(d, "HTTP_IF_MODIFIED_SINCE") != NULL)
		return decode_fail(d, "GET /events takes no If-Modified-Since: "
		    "catch up with POST /events/get");
	req->user = d->caller->user;
	req->session = d->caller->session;
	return true;
}

static enum api_error events(struct db *db, const void *arg,
    struct reply *r)
{
	const struct events_req *in = arg;
	char user[21], session[21];
	char to[sizeof "/_chatd/events//" + 2 * 20];

	(void)db;
	id_format(in->user, user);
	id_format(in->session, session);
	snprintf(to, sizeof to, "/_chatd/events/%s/%s", user, session);
	if (!reply_header(r, "X-Accel-Redirect", to))
		return reply_fail(r, API_INTERNAL, "the stream cannot be "
		    "opened");
	r->status = 200;
	return API_OK;
}

const struct route route_events = {
	.path = "/events", .method = "GET", .no_head = true, .body = BODY_NONE,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct events_req),
	.decode = events_decode, .handle = events,
};
