/*
 * stream_http.c - the HTTP/1.1 response under every stream: the status
 * line and headers, then the body's framing (Content-Length, chunked, or
 * until the connection ends), handing body bytes to the transport's
 * parser when the response became a stream, or keeping them (a refusal,
 * a long-poll answer) until the response is complete.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stream_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

/* The whole body is in: a long-poll's answer is its event. */
static int body_complete(struct stream *s)
{
	if (s->kind == STREAM_POLL && s->status == 200) {
		struct sbuf copy = {0};

		sbuf_add(&copy, s->body.p, s->body.len);
		stream_push(s, sbuf_steal(&copy), s->body.len, NULL, NULL);
	}
	stream_end(s, NULL);
	return 0;
}

/* Body bytes after the framing is taken off. */
static int deliver(struct stream *s, const char *p, size_t n)
{
	if (s->open)
		return s->kind == STREAM_WS ? ws_feed(s, p, n) : sse_feed(s, p, n);
	if (s->body.len + n > STREAM_MSG_MAX)
		return stream_end(s, "response body too large");
	sbuf_add(&s->body, p, n);
	return 0;
}

/* One line of the chunked framing (size line, the CRLF after data, a
 * trailer) collected in s->cline; true when it is complete (LF seen). */
static bool chunk_line(struct stream *s, const char **p, size_t *n)
{
	while (*n) {
		char c = **p;

		(*p)++, (*n)--;
		if (c == '\n')
			return true;
		if (s->cline.len < 256)
			sbuf_addc(&s->cline, c);
	}
	return false;
}

static int chunked_feed(struct stream *s, const char *p, size_t n)
{
	while (n && s->phase != PH_DONE) {
		switch (s->cstate) {
		case CH_SIZE: {
			char *end;
			unsigned long long size;

			if (!chunk_line(s, &p, &n))
				return 0;
			errno = 0;
			size = strtoull(s->cline.p, &end, 16);
			if (end == s->cline.p || errno ||
			    (*end && *end != ';' && *end != '\r' && *end != ' '))
				return stream_end(s, "bad chunk size line");
			sbuf_consume(&s->cline, s->cline.len);
			s->left = size;
			s->cstate = size ? CH_DATA : CH_TRAILER;
			break;
		}
		case CH_DATA: {
			size_t take = n < s->left ? n : (size_t)s->left;

			if (deliver(s, p, take) < 0)
				return -1;
			p += take, n -= take, s->left -= take;
			if (!s->left)
				s->cstate = CH_DATA_END;
			break;
		}
		case CH_DATA_END:
			if (!chunk_line(s, &p, &n))
				return 0;
			if (s->cline.len > 1 || (s->cline.len && s->cline.p[0] != '\r'))
				return stream_end(s, "chunk data not followed by CRLF");
			sbuf_consume(&s->cline, s->cline.len);
			s->cstate = CH_SIZE;
			break;
		case CH_TRAILER: {
			bool empty;

			if (!chunk_line(s, &p, &n))
				return 0;
			empty = s->cline.len == 0 ||
			    (s->cline.len == 1 && s->cline.p[0] == '\r');
			sbuf_consume(&s->cline, s->cline.len);
			if (empty)
				return body_complete(s);
			break;
		}
		}
	}
	return s->phase == PH_DONE && s->error[0] ? -1 : 0;
}

static int body_feed(struct stream *s, const char *p, size_t n)
{
	switch (s->mode) {
	case BODY_CHUNKED:
		return chunked_feed(s, p, n);
	case BODY_LENGTH: {
		size_t take = n < s->left ? n : (size_t)s->left;

		if (deliver(s, p, take) < 0)
			return -1;
		s->left -= take;
		if (!s->left && s->phase != PH_DONE)
			return body_complete(s);
		return 0;
	}
	case BODY_CLOSE:
		return deliver(s, p, n);
	default:
		return 0;
	}
}

/* The head is s->head.p[0..len) with its final CRLF CRLF cut to one CRLF:
 * status, headers, framing, and whether the response is a stream. */
static int parse_head(struct stream *s)
{
	char *h = s->head.p, *eol = strstr(h, "\r\n"), v[128];
	int status;

	if (!eol || strncmp(h, "HTTP/1.", 7) || sscanf(h + 8, " %3d", &status) != 1 ||
	    status < 100 || status > 999)
		return stream_end(s, "bad status line");
	s->status = status;
	s->headers = strdup(eol + 2);
	if (!s->headers)
		abort();
	if (stream_header(s, "Transfer-Encoding", v, sizeof v) &&
	    strcasestr(v, "chunked")) {
		s->mode = BODY_CHUNKED;
	} else if (stream_header(s, "Content-Length", v, sizeof v)) {
		char *end;

		errno = 0;
		s->left = strtoull(v, &end, 10);
		if (errno || end == v || *end)
			return stream_end(s, "bad Content-Length");
		s->mode = BODY_LENGTH;
	} else if (status == 204 || status == 304 || status < 200) {
		s->mode = BODY_NONE;
	} else {
		s->mode = BODY_CLOSE;
	}
	if (s->kind == STREAM_WS && status == 101) {
		if (!ws_accept_head(s))
			return -1;
		s->open = true;
		s->mode = BODY_CLOSE; /* frames until the connection ends */
	} else if (s->kind == STREAM_SSE && status == 200 &&
	    stream_header(s, "Content-Type", v, sizeof v) &&
	    !strncasecmp(v, "text/event-stream", 17)) {
		s->open = true;
	}
	s->phase = PH_BODY;
	if ((s->mode == BODY_LENGTH && !s->left) || s->mode == BODY_NONE) {
		if (!s->open)
			return body_complete(s);
	}
	return 0;
}

int http_feed(struct stream *s, const char *p, size_t n)
{
	if (s->phase == PH_HEAD) {
		size_t from = s->head.len > 3 ? s->head.len - 3 : 0, end;
		char *hit, *rest;
		int rc;

		sbuf_add(&s->head, p, n);
		hit = memmem(s->head.p + from, s->head.len - from, "\r\n\r\n", 4);
		if (!hit) {
			if (s->head.len > STREAM_HEAD_MAX)
				return stream_end(s, "response head too long");
			return 0;
		}
		end = (size_t)(hit - s->head.p) + 4;
		/* What followed the head, copied before the head goes. */
		n = s->head.len - end;
		rest = malloc(n + 1);
		if (!rest)
			abort();
		memcpy(rest, s->head.p + end, n);
		s->head.p[end - 2] = '\0';
		rc = parse_head(s);
		sbuf_free(&s->head);
		if (rc == 0 && n && s->phase == PH_BODY)
			rc = body_feed(s, rest, n);
		free(rest);
		return rc;
	}
	if (s->phase == PH_BODY)
		return body_feed(s, p, n);
	return -1;
}

void http_eof(struct stream *s)
{
	if (s->phase == PH_HEAD)
		stream_end(s, "connection closed before the response head");
	else if (s->phase != PH_BODY)
		stream_end(s, NULL);
	else if (s->kind == STREAM_WS && s->open)
		stream_end(s, s->close_received ? NULL :
		    "connection closed without a close frame");
	else if (s->open)
		stream_end(s, NULL);
	else if (s->mode == BODY_CLOSE)
		body_complete(s);
	else
		stream_end(s, "connection closed in the middle of the body");
}
