/* Unit tests of the response (reply.c): headers through one mechanism,
 * bounded and checked, and the status line and headers that go out for a
 * success, an error and a stream. The reply writes to an FCGX_Stream whose
 * buffer empties into memory, as libfcgi's would into the socket. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"

struct sink {
	unsigned char window[64];	/* small: PutStr must empty it often */
	struct buf out;
	bool broken;			/* every write fails: the client gone */
};

static void sink_empty(FCGX_Stream *s, int do_close)
{
	struct sink *k = s->data;

	(void)do_close;
	if (k->broken) {
		s->isClosed = 1;
		s->FCGI_errno = 32;
		return;
	}
	buf_add(&k->out, k->window, (size_t)(s->wrNext - k->window));
	s->wrNext = k->window;
}

static void sink_open(struct sink *k, FCGX_Stream *s)
{
	memset(s, 0, sizeof *s);
	buf_init(&k->out);
	k->broken = false;
	s->wrNext = s->rdNext = k->window;
	s->stop = k->window + sizeof k->window;
	s->emptyBuffProc = sink_empty;
	s->data = k;
}

/* What went out, once the stream's window is emptied. */
static const char *sink_text(struct sink *k, FCGX_Stream *s)
{
	sink_empty(s, 0);
	return k->out.len ? k->out.data : "";
}

static void test_headers_accepted(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	assert_true(reply_header(&r, "Set-Cookie", "chatd_session=abc; "
	    "HttpOnly; SameSite=Strict; Path=/"));
	assert_true(reply_header(&r, "X-Accel-Redirect", "/_files/1/a b.png"));
	assert_true(reply_header(&r, "Location", "/files/1/\xC3\xA9.png"));
	assert_true(reply_header(&r, "Cache-Control", "no-store"));
	assert_string_equal(r.headers, "Set-Cookie: chatd_session=abc; "
	    "HttpOnly; SameSite=Strict; Path=/\r\nX-Accel-Redirect: "
	    "/_files/1/a b.png\r\nLocation: /files/1/\xC3\xA9.png\r\n"
	    "Cache-Control: no-store\r\n");
	reply_reset(&r, NULL);
	assert_int_equal(r.headers_len, 0);
	reply_free(&r);
}

/* No header can carry another (CR, LF, any control byte), a name is a
 * token, and the reply's own headers cannot be set twice. */
static void test_headers_refused(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	assert_false(reply_header(&r, "Location", "/x\r\nSet-Cookie: a=b"));
	assert_false(reply_header(&r, "Location", "/x\nY: z"));
	assert_false(reply_header(&r, "Location", "/x\ry"));
	assert_false(reply_header(&r, "Location", "a\x01" "b"));
	assert_false(reply_header(&r, "Location", "a\x7f"));
	assert_false(reply_header(&r, "Bad Name", "v"));
	assert_false(reply_header(&r, "Bad:Name", "v"));
	assert_false(reply_header(&r, "", "v"));
	assert_false(reply_header(&r, "content-type", "text/html"));
	assert_false(reply_header(&r, "Content-Length", "1"));
	assert_false(reply_header(&r, "Status", "200 OK"));
	assert_int_equal(r.headers_len, 0);
	assert_true(reply_header(&r, "X-Tab", "a\tb"));
	reply_free(&r);
}

/* Headers are bounded: what does not fit is refused whole, and what was
 * added before stays intact. */
static void test_headers_bounded(void **state)
{
	char big[REPLY_HEADERS_MAX];
	struct reply r;
	size_t before;
	int n = 0;

	(void)state;
	reply_init(&r, NULL);
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_false(reply_header(&r, "X-Big", big));
	assert_int_equal(r.headers_len, 0);
	while (reply_header(&r, "X-Fill", "0123456789012345678901234567890"))
		n++;
	assert_true(n > 10);
	assert_true(r.headers_len < REPLY_HEADERS_MAX);
	before = r.headers_len;
	assert_false(reply_header(&r, "X-More", "0123456789012345678901234"
	    "5678901234567890"));
	assert_int_equal(r.headers_len, before);
	assert_int_equal(strlen(r.headers), before);
	reply_free(&r);
}

/* A success carries its status line, the headers set, and Content-Length. */
static void test_finish_success(void **state)
{
	struct sink k;
	FCGX_Stream s;
	struct reply r;

	(void)state;
	sink_open(&k, &s);
	reply_init(&r, &s);
	reply_created(&r, 42);
	assert_true(reply_header(&r, "Location", "/x/42"));
	reply_finish(&r, API_OK);
	assert_string_equal(sink_text(&k, &s), "Status: 201 Created\r\n"
	    "Content-Type: application/json\r\nLocation: /x/42\r\n"
	    "Content-Length: 12\r\n\r\n{\"id\":\"42\"}\n");
	reply_free(&r);
	buf_free(&k.out);
}

/* Errors get their own reason phrase, and Retry-After from the error
 * table (once, not again when the handler set its own). */
static void test_finish_errors(void **state)
{
	static const struct {
		enum api_error e;
		const char *line, *extra;
	} cases[] = {
		{API_UNAUTHORIZED, "Status: 401 Unauthorized\r\n", NULL},
		{API_IDEMPOTENCY_KEY_REUSED,
		    "Status: 422 Unprocessable Content\r\n", NULL},
		{API_TOO_MANY_REQUESTS, "Status: 429 Too Many Requests\r\n",
		    "Retry-After: 1\r\n"},
		{API_UNAVAILABLE, "Status: 503 Service Unavailable\r\n",
		    "Retry-After: 1\r\n"},
		{API_GONE, "Status: 410 Gone\r\n", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct sink k;
		FCGX_Stream s;
		struct reply r;
		const char *out;

		sink_open(&k, &s);
		reply_init(&r, &s);
		reply_finish(&r, reply_fail(&r, cases[i].e, "because"));
		out = sink_text(&k, &s);
		assert_true(strncmp(out, cases[i].line,
		    strlen(cases[i].line)) == 0);
		if (cases[i].extra)
			assert_non_null(strstr(out, cases[i].extra));
		else
			assert_null(strstr(out, "Retry-After"));
		assert_non_null(strstr(out, "\"message\":\"because\""));
		reply_free(&r);
		buf_free(&k.out);
	}
}

static void test_retry_after_not_doubled(void **state)
{
	struct sink k;
	FCGX_Stream s;
	struct reply r;
	const char *out;

	(void)state;
	sink_open(&k, &s);
	reply_init(&r, &s);
	assert_true(reply_header(&r, "Retry-After", "30"));
	reply_finish(&r, reply_fail(&r, API_TOO_MANY_REQUESTS, "slow down"));
	out = sink_text(&k, &s);
	assert_non_null(strstr(out, "Retry-After: 30\r\n"));
	assert_null(strstr(out, "Retry-After: 1\r\n"));
	reply_free(&r);
	buf_free(&k.out);
}

/* A stream: headers without Content-Length, then the body in pieces; once
 * a write fails, the reply knows the client has gone and writes no more. */
static void test_stream_and_client_gone(void **state)
{
	struct sink k;
	FCGX_Stream s;
	struct reply r;
	size_t i;

	(void)state;
	sink_open(&k, &s);
	reply_init(&r, &s);
	reply_start(&r, 200);
	for (i = 0; i < 2 * REPLY_FLUSH_AT; i++) {
		buf_putc(&r.body, 'x');
		reply_flush(&r);
	}
	assert_false(r.failed);
	assert_null(strstr(sink_text(&k, &s), "Content-Length"));
	assert_true(k.out.len > REPLY_FLUSH_AT);
	k.broken = true;
	for (i = 0; i < 2 * REPLY_FLUSH_AT && !r.failed; i++) {
		buf_putc(&r.body, 'z');
		reply_flush(&r);
	}
	assert_true(r.failed);
	reply_finish(&r, API_OK);
	assert_null(strchr(k.out.data, 'z'));
	assert_int_equal(reply_status(&r, API_OK), 200);
	reply_free(&r);
	buf_free(&k.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_accepted),
		cmocka_unit_test(test_headers_refused),
		cmocka_unit_test(test_headers_bounded),
		cmocka_unit_test(test_finish_success),
		cmocka_unit_test(test_finish_errors),
		cmocka_unit_test(test_retry_after_not_doubled),
		cmocka_unit_test(test_stream_and_client_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
