#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "id.h"
#include "json_out.h"
#include "log.h"
#include "reply.h"

#define RETRY_AFTER_SECONDS 1

void reply_init(struct reply *r, FCGX_Stream *out)
{
	buf_init(&r->body);
	reply_reset(r, out);
}

void reply_free(struct reply *r)
{
	buf_free(&r->body);
}

void reply_reset(struct reply *r, FCGX_Stream *out)
{
	r->out = out;
	buf_reset(&r->body);
	r->status = 200;
	r->started = r->failed = false;
	r->allow = NULL;
	r->message[0] = '\0';
}

enum api_error reply_fail(struct reply *r, enum api_error e,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return e;
}

void reply_created(struct reply *r, int64_t id)
{
	buf_puts(&r->body, "{\"id\":");
	json_out_id(&r->body, id);
	buf_puts(&r->body, "}\n");
	r->status = 201;
}

enum api_error reply_db_error(struct reply *r, enum api_error e)
{
	if (e == API_UNAVAILABLE)
		return reply_fail(r, e, "the database is unavailable; retry "
		    "later");
	return reply_fail(r, e, "internal error");
}

static void put(struct reply *r, const char *p, size_t n)
{
	if (r->failed || n == 0)
		return;
	if (FCGX_PutStr(p, (int)n, r->out) != (int)n) {
		r->failed = true;
		log_warn("writing the response failed; client gone?");
	}
}

/* Appends s to the header block at *p (which has room: see put_headers). */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* The CGI response headers; content_length < 0 for none (a streamed
 * body). Built by hand rather than with snprintf: this runs for every
 * request, and the format work was a tenth of a small request's. */
static void put_headers(struct reply *r, int status, const char *extra,
    long content_length)
{
	/* Every piece is bounded: the reason (http_reason) and extra (built
	 * by reply_finish from 128 bytes) are short, numbers are 20 digits. */
	char head[512], *p = head;

	p = put_str(p, "Status: ");
	p += id_format(status, p);
	*p++ = ' ';
	p = put_str(p, http_reason(status));
	p = put_str(p, "\r\nContent-Type: application/json\r\n");
	p = put_str(p, extra);
	if (content_length >= 0) {
		p = put_str(p, "Content-Length: ");
		p += id_format(content_length, p);
		p = put_str(p, "\r\n");
	}
	p = put_str(p, "\r\n");
	put(r, head, (size_t)(p - head));
}

void reply_start(struct reply *r, int status)
{
	r->status = status;
	r->started = true;
	put_headers(r, status, "", -1);
}

void reply_flush(struct reply *r)
{
	if (r->started && r->body.len >= REPLY_FLUSH_AT) {
		put(r, r->body.data, r->body.len);
		buf_reset(&r->body);
	}
}

void reply_error_body(struct buf *b, enum api_error e, const char *message)
{
	buf_puts(b, "{\"error\":\"");
	buf_puts(b, api_error_code(e));
	buf_puts(b, "\",\"message\":");
	json_out_string(b, message, strlen(message));
	buf_puts(b, "}\n");
}

void reply_finish(struct reply *r, enum api_error e)
{
	char extra[128] = "";

	if (r->started) {
		if (e != API_OK)
			log_error("response cut short after its headers: %s",
			    r->message);
		else
			put(r, r->body.data, r->body.len);
		return;
	}
	if (e == API_OK) {
		put_headers(r, r->status, "", (long)r->body.len);
		put(r, r->body.data, r->body.len);
		return;
	}
	if (e == API_UNAVAILABLE)
		snprintf(extra, sizeof extra, "Retry-After: %d\r\n",
		    RETRY_AFTER_SECONDS);
	else if (e == API_METHOD_NOT_ALLOWED && r->allow)
		snprintf(extra, sizeof extra, "Allow: %s\r\n", r->allow);
	if (r->message[0] == '\0')
		snprintf(r->message, sizeof r->message, "%s",
		    http_reason(api_error_status(e)));
	buf_reset(&r->body);
	reply_error_body(&r->body, e, r->message);
	put_headers(r, api_error_status(e), extra, (long)r->body.len);
	put(r, r->body.data, r->body.len);
}
