/*
 * stream_sse.c - the text/event-stream parser, as the HTML standard's
 * "Interpreting an event stream" says: lines end in CRLF, LF or CR (a CR
 * ending one read and the LF starting the next are one line end); a line
 * starting with ':' is a comment; "field: value" with one optional space;
 * data lines join with "\n"; a blank line dispatches the event unless it
 * has no data; the last event id carries over to later events.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>

/* A blank line: dispatch. */
static void sse_dispatch(struct stream *s)
{
	size_t len;
	char *type, *id;

	if (!s->data.len) {
		sbuf_consume(&s->type, s->type.len);
		return;
	}
	/* The data buffer's last "\n" goes. */
	s->data.len--;
	s->data.p[s->data.len] = '\0';
	len = s->data.len;
	type = s->type.len ? sbuf_steal(&s->type) : strdup("message");
	id = strdup(s->last_id ? s->last_id : "");
	if (!type || !id)
		abort();
	stream_push(s, sbuf_steal(&s->data), len, type, id);
}

/* One complete line (without its end). */
static int sse_line(struct stream *s, const char *l, size_t n)
{
	const char *colon, *v;
	size_t fl, vl;

	if (!n) {
		sse_dispatch(s);
		return 0;
	}
	if (l[0] == ':') {
		s->st.comments++;
		return 0;
	}
	colon = memchr(l, ':', n);
	fl = colon ? (size_t)(colon - l) : n;
	v = colon ? colon + 1 : l + n;
	vl = (size_t)(l + n - v);
	if (vl && *v == ' ')
		v++, vl--;
	if (fl == 4 && !memcmp(l, "data", 4)) {
		if (s->data.len + vl > STREAM_MSG_MAX)
			return stream_end(s, "event too large");
		sbuf_add(&s->data, v, vl);
		sbuf_addc(&s->data, '\n');
	} else if (fl == 5 && !memcmp(l, "event", 5)) {
		sbuf_consume(&s->type, s->type.len);
		sbuf_add(&s->type, v, vl);
	} else if (fl == 2 && !memcmp(l, "id", 2)) {
		if (!memchr(v, '\0', vl)) {
			free(s->last_id);
			s->last_id = strndup(v, vl);
			if (!s->last_id)
				abort();
		}
	}
	/* "retry" and unknown fields are ignored. */
	return 0;
}

int sse_feed(struct stream *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && s->phase != PH_DONE; i++) {
		char c = p[i];

		if (c == '\n' && s->after_cr) {
			s->after_cr = false;
			continue;
		}
		s->after_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			if (sse_line(s, s->line.p ? s->line.p : "", s->line.len) < 0)
				return -1;
			sbuf_consume(&s->line, s->line.len);
			continue;
		}
		if (s->line.len >= STREAM_MSG_MAX)
			return stream_end(s, "line too long");
		sbuf_addc(&s->line, c);
	}
	return s->phase == PH_DONE && s->error[0] ? -1 : 0;
}
