/*
 * test_nchan_traps.c - the nchan 1.3.6 traps of DESIGN.md ("Real-time
 * delivery") through the whole stack: client input that nchan would read
 * as a message id, on an empty channel and on a busy one, over every
 * transport; headers a proxy may add; an nginx reload while streams are
 * open and events flow. Afterwards nginx's error log has no worker that
 * "exited on signal", and every transport still delivers.
 *
 *   Last-Event-ID, ?last_event_id=  ignored: the stream opens and starts
 *       at the newest event, whatever the id ("1:", ":", "0:0", huge
 *       numbers, a time in the future, hundreds of tags, junk) - they never
 *       reach nchan (nchan #670, #676, #534)
 *   If-None-Match, If-Modified-Since  400 from chatd before the redirect
 *   X-Forwarded-For                   no effect on the stream (#680)
 *   HEAD /events                      405, not a request left hanging
 */
#include "rt.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct rt_user quiet, busy, writer;
static char quiet_chat[ID_LEN], busy_chat[ID_LEN];
static atomic_bool stop_busy;
static atomic_int busy_written;
static pthread_t busy_thread;

/* Message ids in nchan's forms and every broken form near them. */
static const char *const crafted[] = {
	"1:", ":", "0:0", "0", "", "1", "-1:-1", ":1", "1::1", "1:1:1",
	"99999999999999999999999999:99999999999999999999999999",
	"18446744073709551616:18446744073709551616",
	"9223372036854775807:9223372036854775807",
	"4102444800:0",          /* 2100-01-01: a time in the future */
	"4102444800:[0],1,2",
	"1:[1],[2]", "1:[", "1:]", "1:,,,,", "abc:def", "1:\x01",
	NULL,                    /* many tags, built in group_setup */
};
#define NCRAFTED (sizeof crafted / sizeof *crafted)
static char many_tags[4096];

static const char *crafted_id(size_t i)
{
	return crafted[i] ? crafted[i] : many_tags;
}

/* Percent-encode for a query argument. */
static void qenc(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
	}
	out[o] = '\0';
}

/* ---- the busy channel: a writer posting all the time ------------------- */

static void *busy_main(void *arg)
{
	char body[128];
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop_busy)) {
		struct http_reply r = {0};

		snprintf(body, sizeof body, "{\"chat\":\"%s\",\"text\":\"busy %d\"}",
		    busy_chat, i++);
		if (rt_post(&writer, "/messages/add", body, &r) == 201)
			atomic_fetch_add(&busy_written, 1);
		http_reply_free(&r);
		sleep_ms(5);
	}
	http_thread_done();
	return NULL;
}

/* ---- checks -------------------------------------------------------------- */

/* A stream of u at path with extra headers must open (WebSocket,
 * EventSource) and deliver: on the busy channel the writer's next message,
 * on the quiet one a message we post now. */
static void must_deliver(const struct rt_user *u, enum stream_kind k,
			 const char *path, const char *const *extra,
			 const char *what)
{
	struct stream *s = rt_stream_at(&the_stack, u, k, false, path, extra);
	struct stream_event ev;
	const char *why = rt_stream_ready(&the_stack, u, s);
	json_t *j;
	int rc;

	/* a long-poll answered by the busy writer already is fine */
	if (why && !(k == STREAM_POLL && stream_is_done(s) &&
	    stream_status(s) == 200))
		fail_msg_at("%s: %s", what, why);
	if (u == &quiet)
		json_decref(rt_mustf(&quiet, 201, "/messages/add",
		    "{\"chat\":\"%s\",\"text\":\"poke\"}", quiet_chat));
	for (;;) {	/* presence aside: the streams' own (rt.h) */
		rc = stream_wait(s, &ev, RT_WAIT_MS);
		if (rc != 1)
			fail_msg_at("%s, %s: no event (%s, status %d)", what,
			    stream_kind_name[k], stream_error(s),
			    stream_status(s));
		j = rt_event_json(&ev);
		if (!rt_is_presence(j))
			break;
		json_decref(j);
		stream_event_free(&ev);
	}
	/* the newest: on the quiet channel, the message just posted (a
	 * message id that reached nchan gets an older one from its buffer) */
	if (!j || strcmp(rt_jstr(j, "type"), "message.created") ||
	    (u == &quiet && strcmp(rt_jstr(json_object_get(j, "data"), "text"),
	    "poke")))
		fail_msg_at("%s, %s: event %.200s", what, stream_kind_name[k], ev.data);
	json_decref(j);
	stream_event_free(&ev);
	stream_free(s);
	/* gone from nchan before the next one counts */
	if (!rt_wait_unsubscribed(&the_stack, u))
		fail_msg_at("%s, %s: nchan still counts a closed stream", what,
		    stream_kind_name[k]);
}

static void check_no_crash(void)
{
	int n = rt_nginx_crashes(&the_stack);

	if (n) {
		stack_dump_logs(&the_stack);
		fail_msg_at("nginx's error log: %d workers exited on a signal", n);
	}
}

/* Crafted ids as Last-Event-ID and as last_event_id, both channels, every
 * transport: the id is ignored, the stream delivers. */
static void test_crafted_ids(void **state)
{
	const struct rt_user *users[] = {&quiet, &busy};
	size_t i, ui;
	enum stream_kind k;
	int n = 0;

	(void)state;
	for (i = 0; i < NCRAFTED; i++)
		for (ui = 0; ui < 2; ui++)
			for (k = 0; k < STREAM__MAX; k++) {
				char hdr[4200], path[2 * 12288 + 64], enc[12288], what[64];
				const char *extra[] = {hdr, NULL};

				snprintf(what, sizeof what, "crafted id %zu on the %s channel",
				    i, ui ? "busy" : "quiet");
				snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", crafted_id(i));
				if (!strchr(crafted_id(i), '\x01'))
					must_deliver(users[ui], k, "/events", extra, what);
				qenc(crafted_id(i), enc, sizeof enc);
				snprintf(path, sizeof path, "/events?last_event_id=%s", enc);
				must_deliver(users[ui], k, path, NULL, what);
				/* both at once, and nchan's other spelling */
				snprintf(path, sizeof path, "/events?last_event_id=%s&"
				    "channel_id=u1&id=%s", enc, enc);
				if (!strchr(crafted_id(i), '\x01'))
					must_deliver(users[ui], k, path, extra, what);
				n += 3;
			}
	print_message("%d streams with crafted message ids delivered; busy writer "
	    "%d messages so far\n", n, atomic_load(&busy_written));
	check_no_crash();
}

/* If-None-Match and If-Modified-Since, the other two ways an id reaches
 * nchan, are refused before the redirect. */
static void test_conditional_headers(void **state)
{
	static const char *const hdrs[] = {
		"If-None-Match: 0", "If-None-Match: 1:", "If-None-Match: *",
		"If-None-Match: 99999999999999999999", "If-None-Match: \"1:[1],2\"",
		"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT",
		"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
		"If-Modified-Since: garbage", "If-Modified-Since: ",
	};
	const struct rt_user *users[] = {&quiet, &busy};
	size_t i, ui;
	enum stream_kind k;

	(void)state;
	for (i = 0; i < sizeof hdrs / sizeof *hdrs; i++)
		for (ui = 0; ui < 2; ui++)
			for (k = 0; k < STREAM__MAX; k++) {
				const char *extra[] = {hdrs[i], NULL};
				struct stream *s = rt_stream_at(&the_stack, users[ui], k,
				    false, "/events", extra);
				json_t *j;

				assert_int_equal(stream_connect(s, "127.0.0.1",
				    the_stack.port), 0);
				stream_wait_head(s, RT_WAIT_MS);
				if (stream_status(s) != 400)
					fail_msg_at("%s, %s: status %d", hdrs[i],
					    stream_kind_name[k], stream_status(s));
				assert_int_equal(stream_wait_end(s, RT_WAIT_MS), 0);
				j = json_loads(stream_body(s, NULL), 0, NULL);
				assert_non_null(j);
				assert_string_equal(json_string_value(json_object_get(j,
				    "error")), "bad_request");
				json_decref(j);
				stream_free(s);
			}
	check_no_crash();
}

/* Whatever a proxy puts in X-Forwarded-For, the stream works. */
static void test_forwarded_for(void **state)
{
	static char longxff[5000];
	const char *values[] = {"X-Forwarded-For: 203.0.113.7",
	    "X-Forwarded-For: 10.0.0.1, 192.0.2.1, 198.51.100.2",
	    "X-Forwarded-For: ::1", "X-Forwarded-For: garbage",
	    "X-Forwarded-For: ", longxff};
	size_t i;
	enum stream_kind k;

	(void)state;
	snprintf(longxff, sizeof longxff, "X-Forwarded-For: ");
	while (strlen(longxff) + 16 < sizeof longxff)
		strcat(longxff, "192.0.2.255, ");
	for (i = 0; i < sizeof values / sizeof *values; i++)
		for (k = 0; k < STREAM__MAX; k++) {
			const char *extra[] = {values[i], "X-Real-IP: 192.0.2.9", NULL};

			must_deliver(i % 2 ? &busy : &quiet, k, "/events", extra,
			    "X-Forwarded-For");
		}
	check_no_crash();
}

static void test_head(void **state)
{
	struct http_reply r = {0};
	char req[256];
	int n;

	(void)state;
	n = snprintf(req, sizeof req, "HEAD /events HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", quiet.token);
	http_raw(&the_stack, req, (size_t)n, true, &r, NULL);
	assert_int_equal(r.status, 405);
	http_reply_free(&r);
}

/* Reloads while streams with crafted ids are open on both channels and
 * opening: streams end or go on, none crashes a worker, new ones deliver. */
#define RELOAD_STREAMS 30
static void test_reload_under_load(void **state)
{
	struct stream *s[RELOAD_STREAMS];
	pid_t ng = rt_nginx_pid(&the_stack);
	int i, r, ended = 0;
	enum stream_kind k;

	(void)state;
	assert_true(ng > 0);
	for (r = 0; r < 3; r++) {
		for (i = 0; i < RELOAD_STREAMS; i++) {
			char hdr[4200];
			const char *extra[] = {hdr, NULL};

			snprintf(hdr, sizeof hdr, "Last-Event-ID: %s",
			    crafted_id((size_t)i % NCRAFTED));
			if (strchr(hdr, '\x01'))
				snprintf(hdr, sizeof hdr, "Last-Event-ID: 1:");
			s[i] = rt_stream_at(&the_stack, i % 2 ? &busy : &quiet,
			    (enum stream_kind)(i % STREAM__MAX), i % 4 == 1,
			    "/events", extra);
			assert_int_equal(stream_connect(s[i], "127.0.0.1",
			    the_stack.port), 0);
		}
		for (i = 0; i < RELOAD_STREAMS; i++)
			stream_wait_head(s[i], 50);
		assert_int_equal(kill(ng, SIGHUP), 0);
		/* every stream ends or goes on delivering; drain them a while */
		for (i = 0; i < RELOAD_STREAMS; i++) {
			struct stream_event ev;

			while (stream_wait(s[i], &ev, 200) == 1)
				stream_event_free(&ev);
			ended += stream_is_done(s[i]);
			stream_free(s[i]);
		}
	}
	print_message("3 reloads with %d streams open each: %d of them ended; "
	    "busy writer %d messages\n", RELOAD_STREAMS, ended,
	    atomic_load(&busy_written));
	assert_int_equal(rt_nginx_pid(&the_stack), ng);
	check_no_crash();
	for (k = 0; k < STREAM__MAX; k++) {
		must_deliver(&quiet, k, "/events", NULL, "after the reloads");
		must_deliver(&busy, k, "/events", NULL, "after the reloads");
	}
}

/* ---- fixture ---------------------------------------------------------- */

static const char *chat_of(const struct rt_user *owner, const char *with)
{
	static char id[ID_LEN];
	struct http_reply r = {0};
	char body[256], name[64];

	uniq_name(name, sizeof name, "trap");
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"users\":[\"%s\"]}", name,
	    with);
	if (rt_post(owner, "/chats/add", body, &r) != 201)
		fprintf(stderr, "chats/add: %ld %s\n", r.status, r.body);
	snprintf(id, sizeof id, "%s", rt_jstr(r.json, "id"));
	http_reply_free(&r);
	return id;
}

static int group_setup(void **state)
{
	size_t o = 0;
	int i;

	if (stack_group_setup(state) != 0)
		return -1;
	o += (size_t)snprintf(many_tags, sizeof many_tags, "1:");
	for (i = 0; i < 400 && o + 8 < sizeof many_tags; i++)
		o += (size_t)snprintf(many_tags + o, sizeof many_tags - o, "%s%d",
		    i ? "," : "", i);
	if (rt_signup("trapq", &quiet) || rt_signup("trapb", &busy) ||
	    rt_signup("trapw", &writer))
		return -1;
	snprintf(quiet_chat, sizeof quiet_chat, "%s", chat_of(&quiet, quiet.id));
	snprintf(busy_chat, sizeof busy_chat, "%s", chat_of(&writer, busy.id));
	if (!quiet_chat[0] || !busy_chat[0])
		return -1;
	return pthread_create(&busy_thread, NULL, busy_main, NULL) ? -1 : 0;
}

static int group_teardown(void **state)
{
	atomic_store(&stop_busy, true);
	pthread_join(busy_thread, NULL);
	return stack_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crafted_ids),
		cmocka_unit_test(test_conditional_headers),
		cmocka_unit_test(test_forwarded_for),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_reload_under_load),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
