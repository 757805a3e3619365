/*
 * test_stream_client.c - the stream clients (stream.h) against a real
 * nginx with nchan (tests/integration/nchan-nginx, no chatd): messages of
 * 0, 125, 126, 65535, 65536 bytes and 1 MiB over each transport, UTF-8 and
 * multi-line messages, many events in one read, the bytes of a connection
 * replayed into a parser one at a time, masked frames sent and echoed,
 * pings, both sides' close, extra request headers, refusals, and hundreds
 * of streams held in one poll loop. Messages are published with libcurl.
 *
 * Environment: CHATD_SRCDIR (the source tree, for the script);
 * CHATD_TEST_PORT (default: a free loopback port).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stream_int.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* Hang guards, not timings. */
#define WAIT_MS 10000
#define MIB (1024 * 1024)

static char dir[64];
static int port;
static char script[4096];
static unsigned chan_seq;

static const size_t sizes[] = {0, 125, 126, 65535, 65536, MIB};
#define NSIZES (sizeof sizes / sizeof *sizes)

static void new_chan(char *buf, size_t n)
{
	snprintf(buf, n, "c%d_%u", (int)getpid(), ++chan_seq);
}

static char *path_of(const char *prefix, const char *chan)
{
	static char p[128];

	snprintf(p, sizeof p, "/%s/%s", prefix, chan);
	return p;
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p, (void)u;
	return sz * n;
}

/* POST a message to a channel (method "DELETE": delete the channel); the
 * HTTP status. */
static long publish(const char *method, const char *chan, const void *p,
		    size_t n)
{
	CURL *c = curl_easy_init();
	char url[256];
	long status = 0;
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain");

	snprintf(url, sizeof url, "http://127.0.0.1:%d/pub/%s", port, chan);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, p ? p : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static size_t keep(char *p, size_t sz, size_t n, void *u)
{
	struct sbuf *b = u;

	sbuf_add(b, p, sz * n);
	return sz * n;
}

/* nchan's count of a channel's subscribers (its publisher's GET), -1 when
 * it does not say. */
static int subscribers(const char *chan)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Accept: text/plain");
	struct sbuf b = {0};
	char url[256];
	const char *p;
	int n = -1;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/pub/%s", port, chan);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
	if (curl_easy_perform(c) == CURLE_OK && b.p &&
	    (p = strstr(b.p, "active subscribers: ")))
		n = atoi(p + 20);
	sbuf_free(&b);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return n;
}

static void must_publish(const char *chan, const void *p, size_t n)
{
	long st = publish("POST", chan, p, n);

	if (st != 201 && st != 202)
		fail_msg("publish of %zu bytes to %s: status %ld", n, chan, st);
}

/* Text of n bytes, letters and digits, different for each n. */
static char *pattern(size_t n)
{
	char *p = malloc(n + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7 + n) % 36];
	p[n] = '\0';
	return p;
}

static struct stream *must_open(enum stream_kind k, const char *path,
				const char *const *hdrs, int want_status)
{
	struct stream *s = stream_open(k, "127.0.0.1", port, path, hdrs, WAIT_MS);

	assert_non_null(s);
	if (stream_status(s) != want_status)
		fail_msg("%s %s: status %d, want %d (%s)", stream_kind_name[k],
		    path, stream_status(s), want_status, stream_error(s));
	return s;
}

/* The next event must arrive (within the hang guard) with these bytes. */
static void must_event(struct stream *s, const void *p, size_t n)
{
	struct stream_event ev;
	int rc = stream_wait(s, &ev, WAIT_MS);

	if (rc != 1)
		fail_msg("%s: no event (%d: %s)", stream_kind_name[stream_kind(s)],
		    rc, stream_error(s));
	if (ev.len != n || memcmp(ev.data, p, n))
		fail_msg("%s: event of %zu bytes, want %zu", stream_kind_name[stream_kind(s)],
		    ev.len, n);
	stream_event_free(&ev);
}

/* ---- fixtures -------------------------------------------------------- */

static int run_script(const char *verb, bool with_port)
{
	char cmd[8192];

	snprintf(cmd, sizeof cmd, "'%s' %s '%s'", script, verb, dir);
	if (with_port)
		snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %d", port);
	return system(cmd);
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		p = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int group_setup(void **state)
{
	const char *src = getenv("CHATD_SRCDIR"), *p = getenv("CHATD_TEST_PORT");

	(void)state;
	if (!src) {
		fprintf(stderr, "CHATD_SRCDIR is not set\n");
		return -1;
	}
	snprintf(script, sizeof script, "%s/tests/integration/nchan-nginx", src);
	snprintf(dir, sizeof dir, "/tmp/stream-client-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	port = p ? atoi(p) : free_port();
	curl_global_init(CURL_GLOBAL_ALL);
	if (run_script("start", true) != 0) {
		fprintf(stderr, "nchan-nginx start failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[256];

	(void)state;
	run_script("stop", false);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (!getenv("CHATD_TEST_KEEP"))
		(void)!system(cmd);
	curl_global_cleanup();
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

/* Messages of every length form, one subscriber of each streaming kind. */
static void test_sizes_streaming(void **state)
{
	enum stream_kind kinds[] = {STREAM_WS, STREAM_SSE};
	size_t ki, i;

	(void)state;
	for (ki = 0; ki < 2; ki++) {
		char chan[64];
		struct stream *s;

		new_chan(chan, sizeof chan);
		s = must_open(kinds[ki], path_of("sub", chan), NULL,
		    kinds[ki] == STREAM_WS ? 101 : 200);
		assert_true(stream_is_open(s));
		for (i = 0; i < NSIZES; i++) {
			char *m = pattern(sizes[i]);

			must_publish(chan, m, sizes[i]);
			must_event(s, m, sizes[i]);
			free(m);
		}
		stream_free(s);
	}
}

/* Long-poll: one answer per request, the oldest buffered message. */
static void test_sizes_longpoll(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NSIZES; i++) {
		char chan[64], v[64];
		char *m = pattern(sizes[i]);
		struct stream *s;

		new_chan(chan, sizeof chan);
		must_publish(chan, m, sizes[i]);
		s = must_open(STREAM_POLL, path_of("sub", chan), NULL, 200);
		must_event(s, m, sizes[i]);
		assert_int_equal(stream_wait_end(s, WAIT_MS), 0);
		assert_true(stream_is_done(s));
		assert_string_equal(stream_error(s), "");
		/* nchan's message id comes in these two */
		assert_true(stream_header(s, "Etag", v, sizeof v));
		assert_true(stream_header(s, "Last-Modified", v, sizeof v));
		free(m);
		stream_free(s);
	}
}

/* A long-poll that is waiting gets the message published after it came. */
static void test_longpoll_waits(void **state)
{
	char chan[64];
	struct stream *s;

	(void)state;
	new_chan(chan, sizeof chan);
	s = stream_new(STREAM_POLL, "127.0.0.1", path_of("sub", chan), NULL);
	assert_int_equal(stream_connect(s, "127.0.0.1", port), 0);
	/* Until the subscriber is registered, nothing to read: 0 (timeout). */
	assert_int_equal(stream_wait(s, &(struct stream_event){0}, 300), 0);
	assert_int_equal(stream_status(s), 0);
	must_publish(chan, "late", 4);
	must_event(s, "late", 4);
	stream_free(s);
}

/* UTF-8 and, over EventSource, lines: nchan writes each line as a data:
 * line, the parser joins them back with "\n". */
static void test_utf8_and_lines(void **state)
{
	static const char *msgs[] = {
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x8e\x89",
		"{\"text\":\"\xc3\xa9t\xc3\xa9\"}",
		"one\ntwo\nthree",
		"trailing\n\nblank",
	};
	enum stream_kind kinds[] = {STREAM_WS, STREAM_SSE, STREAM_POLL};
	size_t ki, i;

	(void)state;
	for (ki = 0; ki < 3; ki++)
		for (i = 0; i < sizeof msgs / sizeof *msgs; i++) {
			char chan[64];
			struct stream *s;

			new_chan(chan, sizeof chan);
			must_publish(chan, msgs[i], strlen(msgs[i]));
			s = must_open(kinds[ki], path_of("sub", chan), NULL,
			    kinds[ki] == STREAM_WS ? 101 : 200);
			must_event(s, msgs[i], strlen(msgs[i]));
			stream_free(s);
		}
}

/* Messages published before the subscriber reads arrive together (one
 * nginx worker writes each to the socket as it is published, and the
 * publisher's answer comes after), in order; then the recorded bytes of
 * the connection fed to a fresh parser one byte at a time give the same
 * events. */
static void test_many_in_one_read_and_byte_by_byte(void **state)
{
	enum stream_kind kinds[] = {STREAM_WS, STREAM_SSE};
	size_t ki;
	int i;

	(void)state;
	for (ki = 0; ki < 2; ki++) {
		char chan[64], msg[64];
		struct stream *s, *r;
		struct stream_event ev;
		const char *rec;
		size_t n, b;

		new_chan(chan, sizeof chan);
		s = stream_new(kinds[ki], "127.0.0.1", path_of("sub", chan), NULL);
		stream_record(s);
		assert_int_equal(stream_connect(s, "127.0.0.1", port), 0);
		assert_int_equal(stream_wait_head(s, WAIT_MS),
		    kinds[ki] == STREAM_WS ? 101 : 200);
		for (i = 0; i < 50; i++) {
			n = (size_t)snprintf(msg, sizeof msg, "event %d \xe2\x9c\x93", i);
			must_publish(chan, msg, n);
		}
		for (i = 0; i < 50; i++) {
			n = (size_t)snprintf(msg, sizeof msg, "event %d \xe2\x9c\x93", i);
			must_event(s, msg, n);
		}
		print_message("%s: 50 events in %lu reads, at most %lu from one\n",
		    stream_kind_name[kinds[ki]], stream_stats(s)->reads,
		    stream_stats(s)->max_per_feed);
		assert_true(stream_stats(s)->max_per_feed > 1);

		/* the same bytes, one at a time, into a parser alone */
		r = stream_new(kinds[ki], "127.0.0.1", "/", NULL);
		memcpy(r->ws_key, s->ws_key, sizeof r->ws_key);
		rec = stream_recorded(s, &n);
		for (b = 0; b < n; b++)
			assert_int_equal(stream_feed(r, rec + b, 1), 0);
		for (i = 0; i < 50; i++) {
			n = (size_t)snprintf(msg, sizeof msg, "event %d \xe2\x9c\x93", i);
			assert_int_equal(stream_next(r, &ev), 1);
			assert_int_equal(ev.len, n);
			assert_memory_equal(ev.data, msg, n);
			stream_event_free(&ev);
		}
		assert_int_equal(stream_next(r, &ev), 0);
		assert_int_equal(stream_stats(r)->max_per_feed, 1);
		stream_free(r);
		stream_free(s);
	}
}

/* Masked client frames of every length form, published by nchan_pubsub
 * and echoed back to the sender. */
static void test_ws_send_echo(void **state)
{
	char chan[64];
	struct stream *s;
	size_t i;

	(void)state;
	new_chan(chan, sizeof chan);
	s = must_open(STREAM_WS, path_of("ws", chan), NULL, 101);
	for (i = 0; i < NSIZES; i++) {
		char *m = pattern(sizes[i]);

		assert_int_equal(stream_ws_send(s, 1, m, sizes[i]), 0);
		must_event(s, m, sizes[i]);
		free(m);
	}
	stream_free(s);
}

/* nchan pings every second (nchan_websocket_ping_interval 1): the client
 * answers, and the stream stays usable. */
static void test_ws_ping(void **state)
{
	char chan[64];
	struct stream *s;
	struct stream_event ev;
	int i;

	(void)state;
	new_chan(chan, sizeof chan);
	s = must_open(STREAM_WS, path_of("sub", chan), NULL, 101);
	for (i = 0; i < 100 && stream_stats(s)->pings < 2; i++)
		assert_int_equal(stream_wait(s, &ev, 100), 0);
	assert_true(stream_stats(s)->pings >= 2);
	must_publish(chan, "after pings", 11);
	must_event(s, "after pings", 11);
	stream_free(s);
}

/* The close handshake from our side; and from nginx's, when the channel
 * is deleted, on every transport. */
static void test_close(void **state)
{
	char chan[64];
	struct stream *ws, *sse, *lp;
	int i;

	(void)state;
	new_chan(chan, sizeof chan);
	ws = must_open(STREAM_WS, path_of("sub", chan), NULL, 101);
	assert_int_equal(stream_ws_close(ws, 1000), 0);
	assert_int_equal(stream_wait_end(ws, WAIT_MS), 0);
	assert_string_equal(stream_error(ws), "");
	assert_int_not_equal(stream_ws_close_code(ws), 0);
	stream_free(ws);

	new_chan(chan, sizeof chan);
	ws = must_open(STREAM_WS, path_of("sub", chan), NULL, 101);
	sse = must_open(STREAM_SSE, path_of("sub", chan), NULL, 200);
	lp = stream_new(STREAM_POLL, "127.0.0.1", path_of("sub", chan), NULL);
	assert_int_equal(stream_connect(lp, "127.0.0.1", port), 0);
	/* until nchan counts all three (the long-poll's request sent) */
	for (i = 0; i < 100 && subscribers(chan) != 3; i++)
		assert_int_equal(stream_wait(lp, &(struct stream_event){0}, 100), 0);
	assert_int_equal(subscribers(chan), 3);
	assert_int_equal(publish("DELETE", chan, NULL, 0), 200);
	assert_int_equal(stream_wait_end(ws, WAIT_MS), 0);
	assert_string_equal(stream_error(ws), "");
	assert_int_not_equal(stream_ws_close_code(ws), 0);
	assert_int_equal(stream_wait_end(sse, WAIT_MS), 0);
	assert_string_equal(stream_error(sse), "");
	assert_int_equal(stream_wait_end(lp, WAIT_MS), 0);
	assert_int_equal(stream_status(lp), 410);
	print_message("closed by the server: websocket code %d, longpoll status %d\n",
	    stream_ws_close_code(ws), stream_status(lp));
	stream_free(ws);
	stream_free(sse);
	stream_free(lp);
}

/* Extra request headers reach nginx on every transport. */
static void test_extra_headers(void **state)
{
	const char *hdrs[] = {"Cookie: chatd_session=c00k1e",
	    "Authorization: Bearer t0ken", "Last-Event-ID: 12:3",
	    "X-Forwarded-For: 203.0.113.9", NULL};
	enum stream_kind k;

	(void)state;
	for (k = 0; k < STREAM__MAX; k++) {
		struct stream *s = must_open(k, "/headers", hdrs, 200);

		assert_int_equal(stream_wait_end(s, WAIT_MS), 0);
		assert_string_equal(stream_body(s, NULL),
		    "chatd_session=c00k1e|Bearer t0ken|12:3|203.0.113.9");
		stream_free(s);
	}
}

/* A path that is no stream: a 404 read whole, the stream done. */
static void test_refused(void **state)
{
	enum stream_kind k;

	(void)state;
	for (k = 0; k < STREAM__MAX; k++) {
		struct stream *s = must_open(k, "/nothing/here", NULL, 404);

		assert_int_equal(stream_wait_end(s, WAIT_MS), 0);
		assert_false(stream_is_open(s));
		assert_non_null(strstr(stream_body(s, NULL), "404"));
		stream_free(s);
	}
}

/* 300 streams in one poll loop (100 of each kind), all connected without
 * blocking, each gets the one message. */
#define MANY 300
static void test_many_in_one_loop(void **state)
{
	static struct stream *s[MANY];
	static struct pollfd pfd[MANY];
	char chan[64];
	int i, got = 0, open = 0, rounds;
	bool done[MANY] = {false};

	(void)state;
	new_chan(chan, sizeof chan);
	for (i = 0; i < MANY; i++) {
		s[i] = stream_new((enum stream_kind)(i % 3), "127.0.0.1",
		    path_of("sub", chan), NULL);
		assert_int_equal(stream_connect(s[i], "127.0.0.1", port), 0);
	}
	/* until every WebSocket and EventSource is open (long-polls wait) */
	for (rounds = 0; open < MANY * 2 / 3 && rounds < 1000; rounds++) {
		for (i = 0; i < MANY; i++) {
			pfd[i].fd = stream_fd(s[i]);
			pfd[i].events = stream_events(s[i]);
		}
		assert_true(poll(pfd, MANY, WAIT_MS) > 0);
		for (i = 0, open = 0; i < MANY; i++) {
			if (pfd[i].revents)
				stream_io(s[i]);
			open += stream_is_open(s[i]);
		}
	}
	assert_int_equal(open, MANY * 2 / 3);
	/* A long-poll nchan has not registered yet gets the message from the
	 * channel's buffer (nchan_subscriber_first_message oldest). */
	must_publish(chan, "to all", 6);
	for (rounds = 0; got < MANY && rounds < 1000; rounds++) {
		for (i = 0; i < MANY; i++) {
			pfd[i].fd = done[i] ? -1 : stream_fd(s[i]);
			pfd[i].events = stream_events(s[i]);
		}
		if (poll(pfd, MANY, WAIT_MS) <= 0)
			break;
		for (i = 0; i < MANY; i++) {
			struct stream_event ev;

			if (pfd[i].revents)
				stream_io(s[i]);
			while (!done[i] && stream_next(s[i], &ev)) {
				assert_string_equal(ev.data, "to all");
				done[i] = true;
				got++;
				stream_event_free(&ev);
			}
		}
	}
	assert_int_equal(got, MANY);
	for (i = 0; i < MANY; i++)
		stream_free(s[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_streaming),
		cmocka_unit_test(test_sizes_longpoll),
		cmocka_unit_test(test_longpoll_waits),
		cmocka_unit_test(test_utf8_and_lines),
		cmocka_unit_test(test_many_in_one_read_and_byte_by_byte),
		cmocka_unit_test(test_ws_send_echo),
		cmocka_unit_test(test_ws_ping),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_extra_headers),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many_in_one_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
