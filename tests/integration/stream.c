/*
 * stream.c - a stream's connection, its event queue and the blocking
 * waits (see stream.h); the protocols are in stream_http.c, stream_ws.c
 * and stream_sse.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stream_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *const stream_kind_name[STREAM__MAX] = {
	[STREAM_WS] = "websocket",
	[STREAM_SSE] = "eventsource",
	[STREAM_POLL] = "longpoll",
};

/* ---- buffers ----------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *str)
{
	sbuf_add(b, str, strlen(str));
}

void sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void sbuf_consume(struct sbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = '\0';
}

char *sbuf_steal(struct sbuf *b)
{
	char *p;

	sbuf_add(b, "", 0);
	p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- the stream ---------------------------------------------------------- */

struct stream *stream_new(enum stream_kind kind, const char *host,
			  const char *path, const char *const *headers)
{
	struct stream *s = calloc(1, sizeof *s);

	if (!s)
		abort();
	s->kind = kind;
	s->fd = -1;
	s->phase = PH_HEAD;
	sbuf_puts(&s->out, "GET ");
	sbuf_puts(&s->out, path);
	sbuf_puts(&s->out, " HTTP/1.1\r\nHost: ");
	sbuf_puts(&s->out, host);
	sbuf_puts(&s->out, "\r\n");
	switch (kind) {
	case STREAM_WS:
		ws_request_headers(s, &s->out);
		break;
	case STREAM_SSE:
		sbuf_puts(&s->out, "Accept: text/event-stream\r\n"
		    "Cache-Control: no-cache\r\n");
		break;
	default:
		/* One answer per connection: the body then ends with it
		 * whatever framing nginx picks. */
		sbuf_puts(&s->out, "Connection: close\r\n");
		break;
	}
	for (; headers && *headers; headers++) {
		sbuf_puts(&s->out, *headers);
		sbuf_puts(&s->out, "\r\n");
	}
	sbuf_puts(&s->out, "\r\n");
	return s;
}

int stream_connect(struct stream *s, const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof *a4;
	} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof *a6;
	} else {
		return stream_end(s, "not a numeric address");
	}
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (s->fd < 0)
		return stream_end(s, strerror(errno));
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS)
			return stream_end(s, strerror(errno));
		s->connecting = true;
	}
	return 0;
}

struct stream *stream_open(enum stream_kind kind, const char *ip, int port,
			   const char *path, const char *const *headers,
			   int timeout_ms)
{
	struct stream *s = stream_new(kind, ip, path, headers);

	if (stream_connect(s, ip, port) < 0) {
		stream_free(s);
		return NULL;
	}
	stream_wait_head(s, timeout_ms);
	return s;
}

void stream_event_free(struct stream_event *ev)
{
	free(ev->data);
	free(ev->type);
	free(ev->id);
	memset(ev, 0, sizeof *ev);
}

void stream_free(struct stream *s)
{
	struct stream_event ev;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	while (stream_next(s, &ev))
		stream_event_free(&ev);
	sbuf_free(&s->out);
	sbuf_free(&s->head);
	sbuf_free(&s->body);
	sbuf_free(&s->cline);
	sbuf_free(&s->in);
	sbuf_free(&s->msg);
	sbuf_free(&s->line);
	sbuf_free(&s->data);
	sbuf_free(&s->type);
	sbuf_free(&s->rec);
	free(s->headers);
	free(s->last_id);
	free(s);
}

int stream_end(struct stream *s, const char *why)
{
	if (why && !s->error[0])
		snprintf(s->error, sizeof s->error, "%s", why);
	s->phase = PH_DONE;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	return -1;
}

void stream_push(struct stream *s, char *data, size_t len, char *type,
		 char *id)
{
	struct queued *q = calloc(1, sizeof *q);

	if (!q)
		abort();
	q->ev.data = data;
	q->ev.len = len;
	q->ev.type = type;
	q->ev.id = id;
	if (s->q_tail)
		s->q_tail->next = q;
	else
		s->q_head = q;
	s->q_tail = q;
	s->st.events++;
	s->fed_events++;
}

int stream_next(struct stream *s, struct stream_event *ev)
{
	struct queued *q = s->q_head;

	if (!q)
		return 0;
	*ev = q->ev;
	s->q_head = q->next;
	if (!s->q_head)
		s->q_tail = NULL;
	free(q);
	return 1;
}

int stream_feed(struct stream *s, const void *p, size_t n)
{
	int rc;

	if (s->phase == PH_DONE)
		return -1;
	if (s->recording)
		sbuf_add(&s->rec, p, n);
	s->fed_events = 0;
	rc = http_feed(s, p, n);
	if (s->fed_events > s->st.max_per_feed)
		s->st.max_per_feed = s->fed_events;
	return rc;
}

/* ---- I/O ----------------------------------------------------------------- */

int stream_fd(const struct stream *s)
{
	return s->phase == PH_DONE ? -1 : s->fd;
}

short stream_events(const struct stream *s)
{
	return (short)(POLLIN | (s->connecting || s->out.len ? POLLOUT : 0));
}

/* Write what is pending; -1 when the stream ended. */
static int stream_flush(struct stream *s)
{
	while (s->out.len) {
		ssize_t w = send(s->fd, s->out.p, s->out.len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return stream_end(s, strerror(errno));
		}
		sbuf_consume(&s->out, (size_t)w);
	}
	/* Our close frame went out after theirs came: the handshake is over. */
	if (s->close_sent && s->close_received)
		return stream_end(s, NULL);
	return 0;
}

int stream_io(struct stream *s)
{
	char buf[65536];

	if (s->phase == PH_DONE || s->fd < 0)
		return -1;
	if (s->connecting) {
		int err = 0;
		socklen_t len = sizeof err;
		struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err)
			return stream_end(s, strerror(err ? err : errno));
		s->connecting = false;
	}
	if (stream_flush(s) < 0)
		return -1;
	for (;;) {
		ssize_t r = recv(s->fd, buf, sizeof buf, 0);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return stream_end(s, strerror(errno));
		}
		if (r == 0) {
			http_eof(s);
			return -1;
		}
		s->st.reads++;
		s->st.bytes += (unsigned long)r;
		if (stream_feed(s, buf, (size_t)r) < 0 || s->phase == PH_DONE)
			return -1;
	}
	/* The parser may have queued a pong or a close. */
	return stream_flush(s);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One poll of the stream for at most `ms`: 0, or -1 when it is done. */
static int stream_poll_once(struct stream *s, long long ms)
{
	struct pollfd pfd;

	if (s->phase == PH_DONE || s->fd < 0)
		return -1;
	pfd.fd = s->fd;
	pfd.events = stream_events(s);
	pfd.revents = 0;
	if (poll(&pfd, 1, (int)(ms < 0 ? 0 : ms)) > 0)
		return stream_io(s);
	return 0;
}

int stream_wait(struct stream *s, struct stream_event *ev, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	for (;;) {
		if (stream_next(s, ev))
			return 1;
		if (s->phase == PH_DONE || s->fd < 0)
			return -1;
		if (now_ms() >= end)
			return 0;
		stream_poll_once(s, end - now_ms());
	}
}

int stream_wait_head(struct stream *s, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (!s->status && s->phase != PH_DONE && now_ms() < end)
		stream_poll_once(s, end - now_ms());
	return s->status;
}

int stream_wait_end(struct stream *s, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (s->phase != PH_DONE && now_ms() < end)
		if (stream_poll_once(s, end - now_ms()) < 0)
			break;
	return s->phase == PH_DONE ? 0 : -1;
}

/* ---- accessors ------------------------------------------------------------ */

int stream_status(const struct stream *s)
{
	return s->status;
}

bool stream_header(const struct stream *s, const char *name, char *dst,
		   size_t dstlen)
{
	size_t nl = strlen(name);
	const char *l;

	for (l = s->headers; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		const char *v, *e;

		if (strncasecmp(l, name, nl) || l[nl] != ':')
			continue;
		for (v = l + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v; *e && *e != '\r' && *e != '\n'; e++)
			;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		snprintf(dst, dstlen, "%.*s", (int)(e - v), v);
		return true;
	}
	return false;
}

const char *stream_body(const struct stream *s, size_t *len)
{
	if (len)
		*len = s->body.len;
	return s->body.p ? s->body.p : "";
}

enum stream_kind stream_kind(const struct stream *s)
{
	return s->kind;
}

bool stream_is_open(const struct stream *s)
{
	return s->open && s->phase != PH_DONE;
}

bool stream_is_done(const struct stream *s)
{
	return s->phase == PH_DONE;
}

const char *stream_error(const struct stream *s)
{
	return s->error;
}

const struct stream_stats *stream_stats(const struct stream *s)
{
	return &s->st;
}

const char *stream_pending(const struct stream *s, size_t *n)
{
	*n = s->out.len;
	return s->out.p ? s->out.p : "";
}

void stream_record(struct stream *s)
{
	s->recording = true;
}

const char *stream_recorded(const struct stream *s, size_t *n)
{
	*n = s->rec.len;
	return s->rec.p ? s->rec.p : "";
}
