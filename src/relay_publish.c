/* The relay's HTTP/1.1 client for nchan's publisher (relay_publish.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "relay_publish.h"

#define IN_SIZE 4096	/* the longest status or header line we take */

struct publisher {
	struct sockaddr_un addr;
	int fd;			/* -1: not connected */
	bool reused;		/* fd has carried an answered request */
	bool lost;		/* one such fd ended unannounced (publisher_lost) */
	char in[IN_SIZE];	/* read ahead: in[start..end) */
	size_t start, end;
	struct buf *body;	/* an answer's body goes here (NULL: dropped) */
	struct buf out;		/* the queued requests (publisher_queue) */
	size_t queued;
	size_t ends[PIPELINE_MAX];	/* out.len after each of them */
};

/* The most of an answer's body kept (a channel's info is 100 bytes). */
#define BODY_KEPT 4096

/* Keeps n bytes of body from s when a body is wanted. */
static void keep_body(struct publisher *p, const char *s, size_t n)
{
	if (p->body == NULL || p->body->len >= BODY_KEPT)
		return;
	if (n > BODY_KEPT - p->body->len)
		n = BODY_KEPT - p->body->len;
	buf_add(p->body, s, n);
}

struct publisher *publisher_new(const char *spec)
{
	struct publisher *p;
	const char *path;

	if (strncmp(spec, "unix:", 5) != 0)
		return NULL;
	path = spec + 5;
	if (path[0] == '\0' || strlen(path) >= sizeof p->addr.sun_path)
		return NULL;
	p = xmalloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->addr.sun_family = AF_UNIX;
	memcpy(p->addr.sun_path, path, strlen(path) + 1);
	p->fd = -1;
	buf_init(&p->out);
	return p;
}

static void disconnect(struct publisher *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->start = p->end = 0;
}

void publisher_free(struct publisher *p)
{
	if (p != NULL) {
		disconnect(p);
		buf_free(&p->out);
		free(p);
	}
}

static bool connect_to(struct publisher *p)
{
	struct timeval tv = {PUBLISH_TIMEOUT_MS / 1000,
	    PUBLISH_TIMEOUT_MS % 1000 * 1000};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	/* Blocking calls, each bounded: the relay has nothing else to do
	 * while an event is on its way. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    connect(fd, (struct sockaddr *)&p->addr, sizeof p->addr) < 0) {
		close(fd);
		return false;
	}
	p->fd = fd;
	p->reused = false;
	p->start = p->end = 0;
	return true;
}

static bool send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads more into p->in, moving what is unread to its start first. >0
 * bytes read, 0 at the end of the connection, -1 on error or timeout. */
static ssize_t fill(struct publisher *p)
{
	ssize_t r;

	if (p->start > 0) {
		memmove(p->in, p->in + p->start, p->end - p->start);
		p->end -= p->start;
		p->start = 0;
	}
	if (p->end == sizeof p->in)
		return -1;	/* a line longer than we take */
	do
		r = recv(p->fd, p->in + p->end, sizeof p->in - p->end, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		p->end += (size_t)r;
	return r;
}

/* The next line, without its CR LF, NUL-terminated in place; valid until
 * the next read. NULL at the end of the connection or on error. */
static char *read_line(struct publisher *p)
{
	for (;;) {
		char *nl = memchr(p->in + p->start, '\n', p->end - p->start);

		if (nl != NULL) {
			char *line = p->in + p->start;

			p->start = (size_t)(nl - p->in) + 1;
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			return line;
		}
		if (fill(p) <= 0)
			return NULL;
	}
}

/* Discards n bytes of body; n < 0: everything up to the end of the
 * connection. */
static bool skip(struct publisher *p, long long n)
{
	for (;;) {
		size_t have = p->end - p->start;
		ssize_t r;

		if (n >= 0 && (unsigned long long)n <= have) {
			keep_body(p, p->in + p->start, (size_t)n);
			p->start += (size_t)n;
			return true;
		}
		if (n >= 0)
			n -= (long long)have;
		keep_body(p, p->in + p->start, have);
		p->start = p->end = 0;
		r = fill(p);
		if (r == 0)
			return n < 0;
		if (r < 0)
			return false;
	}
}

static bool skip_chunked(struct publisher *p)
{
	for (;;) {
		char *line = read_line(p), *end;
		unsigned long long size;

		if (line == NULL)
			return false;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || size > (1ULL << 40))
			return false;
		if (size == 0)
			break;
		if (!skip(p, (long long)size))
			return false;
		line = read_line(p);	/* the CR LF after the chunk */
		if (line == NULL || line[0] != '\0')
			return false;
	}
	for (;;) {	/* trailers, up to the empty line */
		char *line = read_line(p);

		if (line == NULL)
			return false;
		if (line[0] == '\0')
			return true;
	}
}

/* Reads one answer: its status, or 0 when there was none. *got: whether
 * any byte of it arrived. *keep: whether the connection may carry the
 * next request. */
static int read_answer(struct publisher *p, bool *got, bool *keep)
{
	long long length = -1;
	bool chunked = false;
	char *line;
	int status;

	*got = false;
	*keep = true;
	line = read_line(p);
	*got = p->end > 0;
	if (line == NULL || strncmp(line, "HTTP/1.", 7) != 0 ||
	    sscanf(line + 7, "%*1[01] %3d", &status) != 1 || status < 200 ||
	    status > 599)
		return 0;
	if (line[7] == '0')
		*keep = false;
	while ((line = read_line(p)) != NULL && line[0] != '\0') {
		char *v = strchr(line, ':');

		if (v == NULL)
			return 0;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcasecmp(line, "Content-Length") == 0) {
			char *end;

			errno = 0;
			length = strtoll(v, &end, 10);
			if (end == v || errno != 0 || length < 0)
				return 0;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			chunked = strcasecmp(v, "chunked") == 0;
			if (!chunked)
				return 0;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (strcasecmp(v, "close") == 0)
				*keep = false;
		}
	}
	if (line == NULL)
		return 0;
	if (status == 204 || status == 304)
		return status;
	if (chunked)
		return skip_chunked(p) ? status : 0;
	if (length < 0)
		*keep = false;	/* the body runs to the end of the connection */
	return skip(p, length) ? status : 0;
}

/* The head of method /pub/<ids> with a body of len bytes, into head
 * (PUBLISH_IDS_MAX + 256 bytes): its length, as snprintf's. */
static int publish_head(char *head, const char *method, const char *ids,
    size_t len)
{
	return snprintf(head, PUBLISH_IDS_MAX + 256,
	    "%s /pub/%s HTTP/1.1\r\n"
	    "Host: chatd-relay\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", method, ids, len);
}

/* Queues the request head[0..n) with body, n as snprintf returned it.
 * A request alone always fits: the byte bound is for answers waiting
 * behind others. */
static bool enqueue(struct publisher *p, const char *head, int n,
    const char *body, size_t len)
{
	if (n < 0 || (size_t)n >= PUBLISH_IDS_MAX + 256 ||
	    p->queued >= PIPELINE_MAX || (p->queued > 0 &&
	    p->out.len + (size_t)n + len > PIPELINE_BYTES))
		return false;
	buf_add(&p->out, head, (size_t)n);
	if (len > 0)
		buf_add(&p->out, body, len);
	p->ends[p->queued++] = p->out.len;
	return true;
}

bool publisher_queue(struct publisher *p, const char *method,
    const char *ids, const char *body, size_t len)
{
	char head[PUBLISH_IDS_MAX + 256];

	return enqueue(p, head, publish_head(head, method, ids, len), body,
	    len);
}

size_t publisher_queued(const struct publisher *p)
{
	return p->queued;
}

void publisher_unqueue(struct publisher *p, size_t keep)
{
	if (keep >= p->queued)
		return;
	p->queued = keep;
	if (keep == 0) {
		buf_reset(&p->out);
		return;
	}
	p->out.len = p->ends[keep - 1];
	p->out.data[p->out.len] = '\0';
}

/* One attempt at the queued batch on the current connection (opened if
 * need be): the answers read, into status. *retry: whether nothing came
 * back on a connection the server had let go idle. */
static size_t attempt_batch(struct publisher *p, int *status, bool *retry)
{
	bool reused, got = false, keep = true;
	size_t i = 0;

	*retry = false;
	if (p->fd < 0 && !connect_to(p))
		return 0;
	reused = p->reused;
	if (!send_all(p->fd, p->out.data, p->out.len)) {
		p->lost |= reused;
		disconnect(p);
		*retry = reused;
		return 0;
	}
	for (; i < p->queued && keep; i++) {
		status[i] = read_answer(p, &got, &keep);
		if (status[i] == 0) {
			*retry = i == 0 && reused && !got;
			break;
		}
		p->reused = true;
	}
	/* An error, or the server's last answer on this connection: what
	 * follows in the batch is not read (nginx drops it). An end that
	 * the server did not announce, on a connection that had carried
	 * answers, is a loss (publisher_lost). */
	if (i < p->queued)
		p->lost |= p->reused;
	if (i < p->queued || !keep)
		disconnect(p);
	return i;
}

/* publisher_flush(); again: a batch that found its kept connection
 * closed is sent once more on a new one (only a GET: see
 * publisher_flush). */
static size_t flush(struct publisher *p, int *status, bool again)
{
	size_t i, got;
	bool retry;

	if (p->body != NULL)
		buf_reset(p->body);
	got = attempt_batch(p, status, &retry);
	if (got == 0 && retry && again) {
		if (p->body != NULL)
			buf_reset(p->body);
		got = attempt_batch(p, status, &retry);
	}
	for (i = got; i < p->queued; i++)
		status[i] = 0;
	buf_reset(&p->out);
	p->queued = 0;
	return got;
}

size_t publisher_flush(struct publisher *p, int *status)
{
	return flush(p, status, false);
}

/* One request, head[0..n) and body, alone: its answer's status, or 0
 * (publisher_send). It goes in the queue, which is empty between
 * batches, as a batch of one; again as flush(). */
static int request(struct publisher *p, const char *head, int n,
    const char *body, size_t len, bool again)
{
	int status;

	if (p->queued > 0 || !enqueue(p, head, n, body, len))
		return 0;
	return flush(p, &status, again) == 1 ? status : 0;
}

int publisher_send(struct publisher *p, const char *method, const char *ids,
    const char *body, size_t len)
{
	char head[PUBLISH_IDS_MAX + 256];

	return request(p, head, publish_head(head, method, ids, len), body,
	    len, false);
}

bool publisher_lost(struct publisher *p)
{
	bool lost = p->lost;

	p->lost = false;
	return lost;
}

int publisher_get(struct publisher *p, const char *id, struct buf *body)
{
	char head[PUBLISH_IDS_MAX + 256];
	int status;

	p->body = body;
	status = request(p, head, snprintf(head, sizeof head,
	    "GET /pub/%s HTTP/1.1\r\n"
	    "Host: chatd-relay\r\n"
	    "Accept: text/json\r\n\r\n", id), NULL, 0, true);
	p->body = NULL;
	buf_add(body, "", 0);	/* NUL-terminated even when empty */
	return status;
}

long publisher_subscribers(const char *info)
{
	const char *v = strstr(info, "\"subscribers\":");
	char *end;
	long n;

	if (v == NULL)
		return -1;
	v += strlen("\"subscribers\":");
	v += strspn(v, " ");
	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 0)
		return -1;
	return n;
}

bool publisher_next_ids(const char *list, size_t *off, char *out,
    size_t outsz)
{
	const char *s = list + *off;
	size_t used = 0;
	int count = 0;

	while (*s != '\0' && count < PUBLISH_CHANNELS_MAX) {
		size_t n;

		s += strspn(s, ",");
		n = strcspn(s, ",");
		if (n == 0)
			break;
		if (n > PUBLISH_IDS_MAX || n + 1 > outsz) {
			s += n;	/* no request can carry it */
			continue;
		}
		if (used + (used > 0) + n > PUBLISH_IDS_MAX ||
		    used + (used > 0) + n + 1 > outsz)
			break;
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, s, n);
		used += n;
		s += n;
		count++;
	}
	s += strspn(s, ",");
	*off = (size_t)(s - list);
	out[used] = '\0';
	return used > 0;
}
