#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "id.h"
#include "json_out.h"
#include "log.h"
#include "reply.h"

#define RETRY_AFTER_SECONDS "1"

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
	r->headers_len = 0;
	r->content_type = NULL;
	r->message[0] = '\0';
}

/* RFC 9110 tchar. */
static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

/* Visible ASCII, spaces and tabs, and bytes of UTF-8 (obs-text): no
 * control character. */
static bool is_field_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
		else if (*s == 0x7F)
			return false;
	return true;
}

static bool has_header(const struct reply *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers, *end = r->headers + r->headers_len;

	for (; p < end; p = strstr(p, "\r\n") + 2)
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
	return false;
}

bool reply_header(struct reply *r, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	if (!is_token(name) || !is_field_value(value) ||
	    strcasecmp(name, "Content-Type") == 0 ||
	    strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Status") == 0)
		return false;
	/* name ": " value "\r\n", and the NUL has_header's strstr needs */
	if (n + v + 5 > sizeof r->headers - r->headers_len)
		return false;
	memcpy(r->headers + r->headers_len, name, n);
	memcpy(r->headers + r->headers_len + n, ": ", 2);
	memcpy(r->headers + r->headers_len + n + 2, value, v);
	memcpy(r->headers + r->headers_len + n + 2 + v, "\r\n", 3);
	r->headers_len += n + v + 4;
	return true;
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

void reply_id(struct reply *r, int status, int64_t id)
{
	buf_puts(&r->body, "{\"id\":");
	json_out_id(&r->body, id);
	buf_puts(&r->body, "}\n");
	r->status = status;
}

void reply_created(struct reply *r, int64_t id)
{
	reply_id(r, 201, id);
}

void reply_no_content(struct reply *r)
{
	buf_reset(&r->body);
	r->status = 204;
}

enum api_error reply_db_error(struct reply *r, enum api_error e)
{
	if (e == API_UNAVAILABLE)
		return reply_fail(r, e, "the database is unavailable; retry "
		    "later");
	return reply_fail(r, e, "internal error");
}

/* Writes n bytes to nginx. After a failed write nothing more is written:
 * the client is gone. */
static inline void put(struct reply *r, const char *p, size_t n);

/* put() for more than FCGX_PutStr's int can count: in pieces. */
static __attribute__((noinline)) void put_pieces(struct reply *r,
    const char *p, size_t n)
{
	while (!r->failed && n > 0) {
		size_t piece = n > INT_MAX / 2 ? INT_MAX / 2 : n;

		put(r, p, piece);
		p += piece;
		n -= piece;
	}
}

static inline void put(struct reply *r, const char *p, size_t n)
{
	if (r->failed || n == 0)
		return;
	if (n > INT_MAX) {
		put_pieces(r, p, n);
		return;
	}
	if (FCGX_PutStr(p, (int)n, r->out) != (int)n) {
		r->failed = true;
		log_debug("writing the response failed: client gone");
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
static void put_headers(struct reply *r, int status, const char *reason,
    long content_length)
{
	/* Every piece is bounded: the reason phrases are short, numbers are
	 * 20 digits, the extra headers REPLY_HEADERS_MAX. */
	char head[REPLY_HEADERS_MAX + 256], *p = head;

	p = put_str(p, "Status: ");
	p += id_format(status, p);
	*p++ = ' ';
	p = put_str(p, reason);
	p = put_str(p, "\r\n");
	/* A 204 has no body, so neither of its headers (RFC 9110 8.6). */
	if (status != 204) {
		p = put_str(p, "Content-Type: ");
		p = put_str(p, r->content_type && status < 300 ?
		    r->content_type : "application/json");
		p = put_str(p, "\r\n");
	}
	memcpy(p, r->headers, r->headers_len);
	p += r->headers_len;
	if (content_length >= 0 && status != 204) {
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
	put_headers(r, status, http_reason(status), -1);
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

int reply_status(const struct reply *r, enum api_error e)
{
	return e == API_OK || r->started ? r->status : api_error_status(e);
}

void reply_finish(struct reply *r, enum api_error e)
{
	if (r->started) {
		if (e != API_OK)
			log_error("response cut short after its headers: %s",
			    r->message);
		else
			put(r, r->body.data, r->body.len);
		return;
	}
	if (e == API_OK) {
		put_headers(r, r->status, http_reason(r->status),
		    (long)r->body.len);
		put(r, r->body.data, r->body.len);
		return;
	}
	if (api_error_retry(e) && !has_header(r, "Retry-After"))
		reply_header(r, "Retry-After", RETRY_AFTER_SECONDS);
	if (r->message[0] == '\0')
		snprintf(r->message, sizeof r->message, "%s",
		    api_error_reason(e));
	buf_reset(&r->body);
	reply_error_body(&r->body, e, r->message);
	put_headers(r, api_error_status(e), api_error_reason(e),
	    (long)r->body.len);
	put(r, r->body.data, r->body.len);
}
