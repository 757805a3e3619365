/* Unit tests of the stream parsers (tests/integration/stream*.c) on canned
 * bytes: a WebSocket response with frames of 7-, 16- and 64-bit lengths,
 * a fragmented message with a ping between its fragments and a close; an
 * event stream, chunked, with comments, multi-line data and every line
 * end; long-poll answers; refusals and broken input. Each is fed whole,
 * in pieces of several sizes and one byte at a time, with the same
 * result. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stream_int.h"

static const size_t pieces[] = {1, 2, 3, 7, 64, 1000, (size_t)-1};
#define NPIECES (sizeof pieces / sizeof *pieces)

static void feed(struct stream *s, const char *p, size_t n, size_t piece)
{
	size_t o, k;

	for (o = 0; o < n; o += k) {
		k = n - o < piece ? n - o : piece;
		if (stream_feed(s, p + o, k) < 0)
			break;
	}
}

/* Take the next event; it must be there and have these contents. */
static void expect_event(struct stream *s, const char *type, const char *id,
			 const void *data, size_t len)
{
	struct stream_event ev;

	assert_int_equal(stream_next(s, &ev), 1);
	assert_int_equal(ev.len, len);
	assert_memory_equal(ev.data, data, len);
	assert_int_equal(ev.data[len], '\0');
	if (type)
		assert_string_equal(ev.type, type);
	else
		assert_null(ev.type);
	if (id)
		assert_string_equal(ev.id, id);
	else
		assert_null(ev.id);
	stream_event_free(&ev);
}

/* An unmasked server frame. */
static void frame(struct sbuf *b, int fin, int op, const void *p, size_t n)
{
	unsigned char h[10];
	size_t hl = 2;
	int i;

	h[0] = (unsigned char)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		h[1] = (unsigned char)n;
	} else if (n <= 0xffff) {
		h[1] = 126, h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	sbuf_add(b, h, hl);
	sbuf_add(b, p, n);
}

static void ws_head(struct sbuf *b, const char *key)
{
	char acc[29], line[256];

	ws_accept_for(key, acc);
	snprintf(line, sizeof line, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Server: nginx\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	sbuf_puts(b, line);
}

/* Unmask the client frame at *p (advancing it): its opcode and payload. */
static int client_frame(const unsigned char **p, struct sbuf *payload)
{
	const unsigned char *b = *p;
	size_t n = b[1] & 0x7f, h = 2, i;

	assert_true(b[1] & 0x80);  /* masked */
	if (n == 126)
		n = (size_t)b[2] << 8 | b[3], h = 4;
	sbuf_consume(payload, payload->len);
	for (i = 0; i < n; i++)
		sbuf_addc(payload, (char)(b[h + 4 + i] ^ b[h + i % 4]));
	*p = b + h + 4 + n;
	return b[0] & 0x0f;
}

static void test_ws_frames(void **state)
{
	size_t lens[] = {0, 125, 126, 300, 65535, 65536, 70000};
	size_t pi, i;

	(void)state;
	for (pi = 0; pi < NPIECES; pi++) {
		struct stream *s = stream_new(STREAM_WS, "h", "/sub", NULL);
		struct sbuf in = {0}, pl = {0};
		const unsigned char *out;
		size_t reqlen, outlen;
		char *big = malloc(70000);

		assert_non_null(big);
		for (i = 0; i < 70000; i++)
			big[i] = (char)('a' + i % 26);
		stream_pending(s, &reqlen);
		ws_head(&in, stream_ws_key(s));
		for (i = 0; i < sizeof lens / sizeof *lens; i++)
			frame(&in, 1, 1, big, lens[i]);
		/* "ab" "cd" "ef" with a ping between the fragments */
		frame(&in, 0, 1, "ab", 2);
		frame(&in, 1, 9, "p1", 2);
		frame(&in, 0, 0, "cd", 2);
		frame(&in, 1, 0, "ef", 2);
		frame(&in, 1, 2, "\0\1\0", 3);
		frame(&in, 1, 1, "\xd0\xbf\xd1\x80\xd0\xb8", 6);
		frame(&in, 1, 8, "\x03\xe8" "bye", 5);
		feed(s, in.p, in.len, pieces[pi]);

		for (i = 0; i < sizeof lens / sizeof *lens; i++)
			expect_event(s, "text", NULL, big, lens[i]);
		expect_event(s, "text", NULL, "abcdef", 6);
		expect_event(s, "binary", NULL, "\0\1\0", 3);
		expect_event(s, "text", NULL, "\xd0\xbf\xd1\x80\xd0\xb8", 6);
		assert_int_equal(stream_next(s, &(struct stream_event){0}), 0);
		assert_int_equal(stream_status(s), 101);
		assert_int_equal(stream_ws_close_code(s), 1000);
		assert_true(stream_is_done(s));
		assert_string_equal(stream_error(s), "");
		assert_int_equal(stream_stats(s)->pings, 1);
		/* after the request: the pong, then the close echoed */
		out = (const unsigned char *)stream_pending(s, &outlen) + reqlen;
		assert_int_equal(client_frame(&out, &pl), 10);
		assert_string_equal(pl.p, "p1");
		assert_int_equal(client_frame(&out, &pl), 8);
		assert_memory_equal(pl.p, "\x03\xe8", 2);
		assert_ptr_equal(out, (const unsigned char *)stream_pending(s,
		    &outlen) + outlen);
		sbuf_free(&in);
		sbuf_free(&pl);
		free(big);
		stream_free(s);
	}
}

/* Masked client frames of the three length forms decode back. */
static void test_ws_send(void **state)
{
	struct stream *s = stream_new(STREAM_WS, "h", "/", NULL);
	const unsigned char *out;
	struct sbuf pl = {0};
	char *big = calloc(1, 300);
	size_t reqlen, n;

	(void)state;
	stream_pending(s, &reqlen);
	memset(big, 'x', 300);
	assert_int_equal(stream_ws_send(s, 1, "hi", 2), 0);
	assert_int_equal(stream_ws_send(s, 1, big, 300), 0);
	assert_int_equal(stream_ws_close(s, 1000), 0);
	assert_int_equal(stream_ws_send(s, 1, "late", 4), -1);
	out = (const unsigned char *)stream_pending(s, &n) + reqlen;
	assert_int_equal(client_frame(&out, &pl), 1);
	assert_string_equal(pl.p, "hi");
	assert_int_equal(client_frame(&out, &pl), 1);
	assert_int_equal(pl.len, 300);
	assert_memory_equal(pl.p, big, 300);
	assert_int_equal(client_frame(&out, &pl), 8);
	sbuf_free(&pl);
	free(big);
	stream_free(s);
}

/* The request: an upgrade with a 24-character key and the extra headers. */
static void test_ws_request(void **state)
{
	const char *hdrs[] = {"Cookie: chatd_session=abc", "X-Forwarded-For: 10.0.0.1", NULL};
	struct stream *s = stream_new(STREAM_WS, "example", "/events", hdrs);
	const char *req;
	char want[64];
	size_t n;

	(void)state;
	req = stream_pending(s, &n);
	assert_int_equal(strlen(stream_ws_key(s)), 24);
	snprintf(want, sizeof want, "Sec-WebSocket-Key: %s\r\n", stream_ws_key(s));
	assert_non_null(strstr(req, want));
	assert_memory_equal(req, "GET /events HTTP/1.1\r\nHost: example\r\n", 37);
	assert_non_null(strstr(req, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr(req, "\r\nCookie: chatd_session=abc\r\n"));
	assert_non_null(strstr(req, "\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"));
	assert_int_equal(n, strlen(req));
	stream_free(s);
}

/* Broken WebSocket answers end the stream with a reason. */
static void test_ws_broken(void **state)
{
	static const struct {
		const char *head, *frames, *why;
		size_t flen;
	} cases[] = {
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGxzhZRbK+xOo=\r\n\r\n", "", "wrong Sec-WebSocket-Accept", 0},
		{NULL, "\x81\x82\0\0\0\0ab", "masked frame from the server", 8},
		{NULL, "\x00\x01x", "continuation without a message", 3},
		{NULL, "\x01\x01x\x01\x01y", "new message inside a fragmented one", 6},
		{NULL, "\x89\x7e\x00\x7e", "bad control frame", 4},
		{NULL, "\xc1\x01x", "reserved bits set", 3},
		{NULL, "\x83\x00", "unknown opcode", 2},
		{"HTTP/1.1 101 x\r\nConnection: Upgrade\r\n\r\n", "", "101 without Upgrade: websocket", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct stream *s = stream_new(STREAM_WS, "h", "/", NULL);
		struct sbuf in = {0};

		if (cases[i].head)
			sbuf_puts(&in, cases[i].head);
		else
			ws_head(&in, stream_ws_key(s));
		sbuf_add(&in, cases[i].frames, cases[i].flen);
		assert_int_equal(stream_feed(s, in.p, in.len), -1);
		assert_true(stream_is_done(s));
		assert_string_equal(stream_error(s), cases[i].why);
		sbuf_free(&in);
		stream_free(s);
	}
}

/* A refusal (chatd's 401) is read whole, on every transport. */
static void test_refusal(void **state)
{
	static const char resp[] = "HTTP/1.1 401 Unauthorized\r\n"
	    "Content-Type: application/json\r\nContent-Length: 20\r\n\r\n"
	    "{\"error\":\"no auth\"}\n";
	enum stream_kind k;
	size_t pi;

	(void)state;
	for (k = 0; k < STREAM__MAX; k++)
		for (pi = 0; pi < NPIECES; pi++) {
			struct stream *s = stream_new(k, "h", "/", NULL);
			struct stream_event ev;
			char v[64];
			size_t n;

			feed(s, resp, sizeof resp - 1, pieces[pi]);
			assert_int_equal(stream_status(s), 401);
			assert_true(stream_is_done(s));
			assert_false(stream_is_open(s));
			assert_string_equal(stream_body(s, &n), "{\"error\":\"no auth\"}\n");
			assert_int_equal(n, 20);
			assert_true(stream_header(s, "content-type", v, sizeof v));
			assert_string_equal(v, "application/json");
			assert_false(stream_header(s, "Content-Typ", v, sizeof v));
			assert_int_equal(stream_next(s, &ev), 0);
			stream_free(s);
		}
}

/* Body text into chunks of `size` bytes. */
static void chunk(struct sbuf *b, const char *p, size_t size)
{
	size_t n = strlen(p), o, k;
	char line[32];

	for (o = 0; o < n; o += k) {
		k = n - o < size ? n - o : size;
		snprintf(line, sizeof line, "%zx;ext=1\r\n", k);
		sbuf_puts(b, line);
		sbuf_add(b, p + o, k);
		sbuf_puts(b, "\r\n");
	}
	sbuf_puts(b, "0\r\nX-Trailer: t\r\n\r\n");
}

static const char sse_body[] =
    ": hi\n\n"
    "id: 1\nevent: message.created\ndata: {\"a\":1}\n\n"
    "id: 2\ndata: line1\ndata: line2\n\n"
    "data: crlf\r\n\r\n"
    "data: cr\r\r"
    "data:nospace\n:heartbeat\n\n"
    "id: 3\n\n"                 /* no data: nothing, but the id counts */
    "data\n\n"                  /* a field without colon: empty data line */
    "retry: 10\nid: 4\nevent: x\ndata: \xe2\x82\xac\n\n"
    "data: unterminated";

static void expect_sse_events(struct stream *s)
{
	expect_event(s, "message.created", "1", "{\"a\":1}", 7);
	expect_event(s, "message", "2", "line1\nline2", 11);
	expect_event(s, "message", "2", "crlf", 4);
	expect_event(s, "message", "2", "cr", 2);
	expect_event(s, "message", "2", "nospace", 7);
	expect_event(s, "message", "3", "", 0);
	expect_event(s, "x", "4", "\xe2\x82\xac", 3);
	assert_int_equal(stream_next(s, &(struct stream_event){0}), 0);
	assert_int_equal(stream_stats(s)->comments, 2);
}

static void test_sse_chunked(void **state)
{
	size_t sizes[] = {1, 5, 13, 4096}, si, pi;

	(void)state;
	for (si = 0; si < sizeof sizes / sizeof *sizes; si++)
		for (pi = 0; pi < NPIECES; pi++) {
			struct stream *s = stream_new(STREAM_SSE, "h", "/", NULL);
			struct sbuf in = {0};

			sbuf_puts(&in, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n");
			chunk(&in, sse_body, sizes[si]);
			feed(s, in.p, in.len, pieces[pi]);
			expect_sse_events(s);
			assert_true(stream_is_done(s));
			assert_string_equal(stream_error(s), "");
			if (pieces[pi] == (size_t)-1)  /* all in one feed */
				assert_int_equal(stream_stats(s)->max_per_feed, 7);
			sbuf_free(&in);
			stream_free(s);
		}
}

/* Without Content-Length or chunks the stream runs until the peer closes. */
static void test_sse_plain(void **state)
{
	struct stream *s = stream_new(STREAM_SSE, "h", "/", NULL);
	struct sbuf in = {0};

	(void)state;
	sbuf_puts(&in, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
	sbuf_puts(&in, sse_body);
	feed(s, in.p, in.len, 3);
	assert_true(stream_is_open(s));
	expect_sse_events(s);
	http_eof(s);
	assert_true(stream_is_done(s));
	sbuf_free(&in);
	stream_free(s);
}

/* An SSE request that is answered with something else is a refusal. */
static void test_sse_not_event_stream(void **state)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\nok";
	struct stream *s = stream_new(STREAM_SSE, "h", "/", NULL);

	(void)state;
	assert_int_equal(stream_feed(s, r, sizeof r - 1), 0);
	assert_true(stream_is_done(s));
	assert_false(stream_is_open(s));
	assert_string_equal(stream_body(s, NULL), "ok");
	stream_free(s);
}

static void test_longpoll(void **state)
{
	struct sbuf ch = {0};
	size_t pi;
	int c;

	(void)state;
	sbuf_puts(&ch, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Etag: 3\r\n\r\n");
	chunk(&ch, "{\"id\":\"7\"}", 4);
	for (c = 0; c < 3; c++)
		for (pi = 0; pi < NPIECES; pi++) {
			struct stream *s = stream_new(STREAM_POLL, "h", "/p", NULL);
			static const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
			    "Last-Modified: Thu, 01 Jan 1970 00:00:01 GMT\r\nEtag: 3\r\n\r\n{\"id\":\"7\"}";
			static const char eof[] = "HTTP/1.0 200 OK\r\n\r\n{\"id\":\"7\"}";
			char v[64];

			if (c == 0)
				feed(s, cl, sizeof cl - 1, pieces[pi]);
			else if (c == 1)
				feed(s, ch.p, ch.len, pieces[pi]);
			else
				feed(s, eof, sizeof eof - 1, pieces[pi]), http_eof(s);
			expect_event(s, NULL, NULL, "{\"id\":\"7\"}", 10);
			assert_true(stream_is_done(s));
			assert_string_equal(stream_error(s), "");
			if (c < 2) {
				assert_true(stream_header(s, "ETAG", v, sizeof v));
				assert_string_equal(v, "3");
			}
			stream_free(s);
		}
	sbuf_free(&ch);
}

/* Broken HTTP: each ends the stream with a reason, none hangs or crashes. */
static void test_http_broken(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{"HTTZ/1.1 200 OK\r\n\r\n", "bad status line"},
		{"HTTP/1.1 abc\r\n\r\n", "bad status line"},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size line"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "chunk data not followed by CRLF"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct stream *s = stream_new(STREAM_POLL, "h", "/", NULL);

		assert_int_equal(stream_feed(s, cases[i].in, strlen(cases[i].in)), -1);
		assert_string_equal(stream_error(s), cases[i].why);
		stream_free(s);
	}
	{
		/* a head that never ends is bounded */
		struct stream *s = stream_new(STREAM_SSE, "h", "/", NULL);
		char junk[4096];
		int k, rc = 0;

		memset(junk, 'a', sizeof junk);
		for (k = 0; k < 100 && rc == 0; k++)
			rc = stream_feed(s, junk, sizeof junk);
		assert_int_equal(rc, -1);
		assert_string_equal(stream_error(s), "response head too long");
		stream_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_frames),
		cmocka_unit_test(test_ws_send),
		cmocka_unit_test(test_ws_request),
		cmocka_unit_test(test_ws_broken),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_sse_chunked),
		cmocka_unit_test(test_sse_plain),
		cmocka_unit_test(test_sse_not_event_stream),
		cmocka_unit_test(test_longpoll),
		cmocka_unit_test(test_http_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
