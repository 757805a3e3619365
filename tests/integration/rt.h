/*
 * rt.h - what the real-time tests share (test_events_delivery,
 * test_events_missed, test_nchan_traps): users with sessions, their event
 * streams through the whole stack (nginx -> chatd's GET /events -> nchan),
 * POST /events/get, and looks into nchan and the relay.
 *
 * Thread rules are the harness's: rt_signup, rt_post, rt_events_get and
 * rt_stream_new may run in any thread; the rest belongs to the main
 * thread.
 */
#ifndef CHATD_TEST_RT_H
#define CHATD_TEST_RT_H

#include "harness.h"
#include "stream.h"

/* Hang guards, never timings. */
#define RT_WAIT_MS 15000

struct rt_user {
	char id[ID_LEN];
	char name[64];
	char token[64];
};

/* Sign up a new user named from prefix: 0, or the failing HTTP status. */
long rt_signup(const char *prefix, struct rt_user *u);
/* The same, failing the test on an error (main thread). */
void rt_must_signup(const char *prefix, struct rt_user *u);
/* POST body to path as u (Authorization); out is the caller's to free. */
long rt_post(const struct rt_user *u, const char *path, const char *body,
	     struct http_reply *out);
/* The same, formatted, and the status must be `want` (main thread);
 * returns the reply's JSON as a new reference (NULL when none). */
json_t *rt_mustf(const struct rt_user *u, long want, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Every event of u after id `after` ("0": all), oldest first, reading
 * page after page: a new array, or NULL when a page failed (*status: its
 * HTTP status). */
json_t *rt_events_get(const struct rt_user *u, const char *after,
		      long *status);

/* A stream of u's GET /events on the stack's nginx, not yet connected:
 * authenticated by the chatd_session cookie or by Authorization, with the
 * extra header lines (NULL-terminated, may be NULL). */
struct stream *rt_stream_new(const struct stack *st, const struct rt_user *u,
			     enum stream_kind kind, bool cookie,
			     const char *const *extra);
/* The same for another path ("/events?last_event_id=1:", say). */
struct stream *rt_stream_at(const struct stack *st, const struct rt_user *u,
			    enum stream_kind kind, bool cookie, const char *path,
			    const char *const *extra);
/* rt_stream_new, connected, its head read; NULL when it could not connect.
 * For a long-poll the head comes with the answer: use stream_new(). */
struct stream *rt_stream_open(const struct stack *st, const struct rt_user *u,
			      enum stream_kind kind, bool cookie);
/* The event JSON of a stream event: a new reference, NULL if not JSON. */
json_t *rt_event_json(const struct stream_event *ev);
/* Whether e is a presence event. Its moment is nchan's (the hooks of a
 * stream's open and close come when they come), so tests that follow
 * other events one by one leave presence aside; test_ws003 checks it. */
bool rt_is_presence(const json_t *e);
/* The events of the array all but the presence events: a new array;
 * steals all (NULL stays NULL). */
json_t *rt_without_presence(json_t *all);

/* A string member of a JSON object, "" when it is not one (borrowed). */
const char *rt_jstr(const json_t *o, const char *k);

/* nchan's count of subscribers of a channel ("u12", "s3"), asked on the
 * publisher's unix socket; -1 when it does not answer. */
int rt_nchan_subscribers(const struct stack *st, const char *channel);
/* Wait (up to RT_WAIT_MS) until channel u<user> has at least n
 * subscribers; false on timeout. `pump` (may be NULL): a stream whose
 * request is still to be sent (a long-poll's), kept moving meanwhile;
 * false as soon as it is done (a long-poll answered). */
bool rt_wait_subscribed(const struct stack *st, const char *user, int n,
			struct stream *pump);

/* Connect s (a stream of u from rt_stream_new or rt_stream_at) and wait
 * until it streams: a WebSocket's 101 or an EventSource's 200, and nchan
 * counting a subscriber of u (for a long-poll, its only sign). NULL when
 * it does, else what went wrong (a static string). */
const char *rt_stream_ready(const struct stack *st, const struct rt_user *u,
			    struct stream *s);
/* Wait (up to RT_WAIT_MS) until nchan counts no subscriber of u, so that
 * the next stream's registration is not a closed one's. */
bool rt_wait_unsubscribed(const struct stack *st, const struct rt_user *u);

/* The relay's pid (a child of the chatd master), or -1. */
pid_t rt_relay_pid(const struct stack *st);
/* Wait up to `seconds` until the relay took every outbox row and
 * published every event it took. */
bool rt_wait_relay_idle(const struct stack *st, double seconds);
/* nginx's master pid (DIR/nginx.pid), or -1. */
pid_t rt_nginx_pid(const struct stack *st);
/* Lines of nginx's error log that say a worker died on a signal. */
int rt_nginx_crashes(const struct stack *st);

#endif
