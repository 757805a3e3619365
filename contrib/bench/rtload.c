/* contrib/bench/rtload.c — the real-time benchmark's loopback clients
 * (issue 12, point 7): many event streams held in one epoll loop (the
 * tests' own clients, tests/integration/stream.c), and a source of
 * messages whose every delivery is timed.
 *
 *   rtload hold HOST PORT TOKENS N WS% SECONDS
 *       opens N streams to GET /events (WS% of them WebSocket, the rest
 *       EventSource), the i-th with the token of line i mod lines of
 *       TOKENS ("ID<TAB>TOKEN"), holds them SECONDS, and prints
 *       "opened=N failed=F open_after=K".
 *   rtload deliver HOST PORT TOKENS N WS% SOURCE RATE COUNT
 *       the same streams, then COUNT messages from SOURCE, RATE a second
 *       (0: as fast as the source goes, four posters in parallel);
 *       every stream is to receive every message. With RTLOAD_GATE=FILE
 *       in the environment, FILE is created once every message has been
 *       answered (the runner holds the relay back until then, so that
 *       the relay drains a backlog). SOURCE is
 *         chatd:TOKEN:CHATS  POST /messages/add {"chat","text"} through
 *                            nginx with that bearer token (the relay and
 *                            nchan deliver it), CHATS a comma-separated
 *                            list taken round robin
 *         nchan:SOCKET:CHANNELS  POST /pub/CHANNELS straight to nchan's
 *                            publisher socket with a ready-made event of
 *                            the same size (no chatd, no relay), at most
 *                            255 channel ids a request, as the relay does
 *       Prints one line of key=value: messages, expected and received
 *       deliveries, duplicates, missing, the latency from the source's
 *       answer (201, or nchan's) to receipt (p50/p99/max ms; a delivery
 *       seen before the answer counts 0), deliveries a second over the
 *       time from the first message to the last delivery, the same from
 *       the first delivery to the last (drain_per_s), and the source's
 *       own rate.
 *
 * Each message's text is "rt-<run>-<seq>", which the receiver finds in
 * the event's JSON; nothing else is parsed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

#define MAX_IN_FLIGHT 256	/* stream handshakes outstanding at once */
#define CHANNELS_PER_PUBLISH 255
#define CHANNEL_BYTES_MAX 1024
#define POSTERS_DEFAULT 4	/* RATE 0: closed-loop posters ... */
#define POSTERS_MAX 64		/* ... or RTLOAD_POSTERS of them */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static double cpu_seconds(void);

static void die(const char *what)
{
	fprintf(stderr, "rtload: %s\n", what);
	exit(1);
}

/* ---- the streams ------------------------------------------------------ */

struct sub {
	struct stream *s;
	int fd;			/* registered with epoll; -1 none */
	short mask;
	unsigned char *seen;	/* per message: delivered yet */
};

struct load {
	const char *ip;
	int port;
	char **tokens;
	int ntokens;
	struct sub *subs;
	int n, ws_percent;
	int ep;
	int opened, failed;
	/* deliveries */
	int count;
	char marker[32];	/* "rt-<run>-" */
	_Atomic long long *answered_us;	/* per message: the source's answer */
	uint32_t *lat;		/* latencies in us, one per delivery */
	size_t nlat;
	long long received, duplicates, first_us, last_us;
};

static void read_tokens(struct load *L, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int cap = 0;

	if (f == NULL)
		die("cannot read the tokens file");
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t'), *end;

		if (tab == NULL)
			continue;
		end = tab + 1 + strcspn(tab + 1, "\t\r\n");
		*end = '\0';
		if (L->ntokens == cap) {
			cap = cap ? cap * 2 : 64;
			L->tokens = realloc(L->tokens, cap * sizeof *L->tokens);
			if (L->tokens == NULL)
				die("out of memory");
		}
		L->tokens[L->ntokens++] = strdup(tab + 1);
	}
	fclose(f);
	if (L->ntokens == 0)
		die("no tokens");
}

static void watch(struct load *L, int i)
{
	struct sub *u = &L->subs[i];
	int fd = stream_fd(u->s);
	short mask = fd >= 0 ? stream_events(u->s) : 0;
	struct epoll_event ev = {0};

	if (fd != u->fd && u->fd >= 0)
		epoll_ctl(L->ep, EPOLL_CTL_DEL, u->fd, NULL);
	if (fd < 0) {
		u->fd = -1;
		return;
	}
	ev.events = (mask & POLLOUT ? EPOLLOUT : 0) | EPOLLIN;
	ev.data.u32 = (uint32_t)i;
	if (fd != u->fd)
		epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
	else if (mask != u->mask)
		epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &ev);
	u->fd = fd;
	u->mask = mask;
}

static void start_stream(struct load *L, int i)
{
	char auth[128];
	const char *headers[] = {auth, NULL};
	enum stream_kind kind = (i % 100) < L->ws_percent ? STREAM_WS :
	    STREAM_SSE;

	snprintf(auth, sizeof auth, "Authorization: Bearer %s",
	    L->tokens[i % L->ntokens]);
	L->subs[i].s = stream_new(kind, L->ip, "/events", headers);
	L->subs[i].fd = -1;
	if (stream_connect(L->subs[i].s, L->ip, L->port) < 0)
		L->failed++;
	watch(L, i);
}

/* A delivered event: which message, and was it new to this stream. */
static void take(struct load *L, struct sub *u, const struct stream_event *e)
{
	const char *m = memmem(e->data, e->len, L->marker, strlen(L->marker));
	long long t = now_us(), answered;
	long seq;

	if (m == NULL || L->count == 0)
		return;
	seq = strtol(m + strlen(L->marker), NULL, 10);
	if (seq < 0 || seq >= L->count)
		return;
	if (u->seen[seq]) {
		L->duplicates++;
		return;
	}
	u->seen[seq] = 1;
	L->received++;
	if (L->first_us == 0)
		L->first_us = t;
	L->last_us = t;
	answered = atomic_load(&L->answered_us[seq]);
	L->lat[L->nlat++] = answered == 0 || t < answered ? 0 :
	    (uint32_t)(t - answered);
}

/* One turn of the loop: whatever is ready, for at most timeout_ms. */
static void turn(struct load *L, int timeout_ms)
{
	struct epoll_event evs[512];
	int k, n = epoll_wait(L->ep, evs, 512, timeout_ms);

	for (k = 0; k < n; k++) {
		int i = (int)evs[k].data.u32;
		struct sub *u = &L->subs[i];
		struct stream_event e;
		bool was_open = stream_is_open(u->s);

		stream_io(u->s);
		if (!was_open && stream_is_open(u->s))
			L->opened++;
		else if (!was_open && stream_is_done(u->s))
			L->failed++;
		while (stream_next(u->s, &e)) {
			take(L, u, &e);
			stream_event_free(&e);
		}
		watch(L, i);
	}
}

static int settled(const struct load *L)
{
	return L->opened + L->failed;
}

static void open_all(struct load *L)
{
	long long deadline;
	int started = 0;

	L->subs = calloc((size_t)L->n + 1, sizeof *L->subs);
	L->ep = epoll_create1(0);
	if (L->subs == NULL || L->ep < 0)
		die("out of memory");
	deadline = now_us() + 120 * 1000000LL;
	while (settled(L) < L->n && now_us() < deadline) {
		while (started < L->n && started - settled(L) < MAX_IN_FLIGHT)
			start_stream(L, started++);
		turn(L, 50);
	}
	/* nchan answers the upgrade before the subscription is in place;
	 * a moment lets the last ones settle before anything is sent. */
	for (deadline = now_us() + 500000; now_us() < deadline;)
		turn(L, 50);
}

static int still_open(const struct load *L)
{
	int i, k = 0;

	for (i = 0; i < L->n; i++)
		k += stream_is_open(L->subs[i].s);
	return k;
}

/* ---- the source of messages ------------------------------------------- */

/* A blocking HTTP/1.1 keep-alive connection, TCP or a unix socket. */
struct conn {
	int fd;
	char buf[16384];
	size_t len;
};

static int conn_open(struct conn *c, const char *ip, int port,
    const char *unix_path)
{
	c->len = 0;
	if (unix_path != NULL) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		snprintf(a.sun_path, sizeof a.sun_path, "%s", unix_path);
		c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		return connect(c->fd, (struct sockaddr *)&a, sizeof a);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET,
		    .sin_port = htons((uint16_t)port)};
		int one = 1;

		inet_pton(AF_INET, ip, &a.sin_addr);
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		return connect(c->fd, (struct sockaddr *)&a, sizeof a);
	}
}

static bool fill(struct conn *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		return false;
	r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	if (r <= 0)
		return false;
	c->len += (size_t)r;
	return true;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Reads one response (Content-Length or chunked) and returns its
 * status, 0 when the connection broke. */
static int conn_response(struct conn *c)
{
	char *end, *h;
	size_t head, body;
	int status;

	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		if (!fill(c))
			return 0;
	head = (size_t)(end - c->buf) + 4;
	status = atoi(c->buf + 9);
	*end = '\0';
	h = strcasestr(c->buf, "\r\ncontent-length:");
	if (h != NULL) {
		body = strtoul(h + 17, NULL, 10);
		while (c->len < head + body)
			if (!fill(c))
				return 0;
		consume(c, head + body);
		return status;
	}
	if (strcasestr(c->buf, "\r\ntransfer-encoding: chunked") == NULL) {
		consume(c, head);
		return status;
	}
	consume(c, head);
	for (;;) {
		char *crlf;
		size_t n;

		while ((crlf = memmem(c->buf, c->len, "\r\n", 2)) == NULL)
			if (!fill(c))
				return 0;
		n = strtoul(c->buf, NULL, 16);
		head = (size_t)(crlf - c->buf) + 2;
		while (c->len < head + n + 2)
			if (!fill(c))
				return 0;
		consume(c, head + n + 2);
		if (n == 0)
			return status;
	}
}

static int conn_send(struct conn *c, const char *req, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, req, n);

		if (w <= 0)
			return -1;
		req += w;
		n -= (size_t)w;
	}
	return conn_response(c);
}

struct source {
	struct load *L;
	bool nchan;
	const char *token, *chat, *socket, *channels;
	int rate;
	_Atomic int next;	/* the next message to send */
	_Atomic int posters_done;
	_Atomic long failures;
	long long started_us, finished_us;
};

/* The seq-th of the comma-separated chats, round robin. */
static void nth_chat(const char *list, int seq, char *out, size_t n)
{
	int count = 1, k;
	const char *p;

	for (p = list; *p; p++)
		count += *p == ',';
	for (p = list, k = seq % count; k > 0; k--)
		p = strchr(p, ',') + 1;
	snprintf(out, n, "%.*s", (int)strcspn(p, ","), p);
}

static int send_chatd(struct source *S, struct conn *c, int seq)
{
	char body[128], req[512], chat[24];
	int n, m, status;

	nth_chat(S->chat, seq, chat, sizeof chat);
	n = snprintf(body, sizeof body, "{\"chat\":\"%s\",\"text\":\"%s%d\"}",
	    chat, S->L->marker, seq);
	m = snprintf(req, sizeof req, "POST /messages/add HTTP/1.1\r\n"
	    "Host: %s\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
	    S->L->ip, S->token, n, body);
	status = conn_send(c, req, (size_t)m);
	if (status == 0)
		return -2;
	if (status != 201)
		fprintf(stderr, "rtload: messages/add answered %d\n", status);
	return status == 201 ? 0 : -1;
}

/* The event the relay would publish for such a message, ready-made. */
static int send_nchan(struct source *S, struct conn *c, int seq)
{
	const char *p = S->channels;
	char body[512], *req;
	int n = snprintf(body, sizeof body, "{\"id\":\"%d\",\"type\":"
	    "\"message.created\",\"chat\":\"1\",\"data\":{\"id\":\"%d\","
	    "\"chat_id\":\"1\",\"author\":\"1\",\"text\":\"%s%d\","
	    "\"created_at\":\"2026-12-01T00:00:00.000000Z\",\"type\":\"text\","
	    "\"file\":null,\"edited_at\":null}}", seq + 1, seq + 1,
	    S->L->marker, seq);
	int rc = 0;

	req = malloc(strlen(S->channels) + 1024);
	while (*p && rc == 0) {
		const char *q = p;
		int ids = 0, m, status;

		/* At most 255 ids and 1,024 bytes a request, as the relay
		 * splits (src/relay_publish.h). */
		for (;;) {
			const char *comma = strchr(q, ','), *end;

			end = comma ? comma : q + strlen(q);
			if (q > p && (ids == CHANNELS_PER_PUBLISH ||
			    end - p > CHANNEL_BYTES_MAX)) {
				q--;	/* back to the comma before */
				break;
			}
			ids++;
			q = end;
			if (*q == '\0')
				break;
			q++;
		}
		m = sprintf(req, "POST /pub/%.*s HTTP/1.1\r\nHost: nchan\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n"
		    "\r\n%s", (int)(q - p), p, n, body);
		status = conn_send(c, req, (size_t)m);
		rc = status == 0 ? -2 : status >= 200 && status < 300 ? 0 : -1;
		p = *q ? q + 1 : q;
	}
	free(req);
	return rc;
}

static void *poster(void *arg)
{
	struct source *S = arg;
	struct conn c;
	int seq;

	if (conn_open(&c, S->L->ip, S->L->port, S->nchan ? S->socket : NULL))
		die("the source cannot connect");
	while ((seq = atomic_fetch_add(&S->next, 1)) < S->L->count) {
		int rc;

		if (S->rate > 0) {
			long long due = S->started_us +
			    (long long)seq * 1000000LL / S->rate, t = now_us();

			if (due > t)
				usleep((useconds_t)(due - t));
		}
		rc = S->nchan ? send_nchan(S, &c, seq) : send_chatd(S, &c, seq);
		if (rc == -2) {	/* closed before answering: nginx's
				 * keepalive_requests; send it again */
			close(c.fd);
			if (conn_open(&c, S->L->ip, S->L->port,
			    S->nchan ? S->socket : NULL))
				die("the source cannot reconnect");
			rc = S->nchan ? send_nchan(S, &c, seq) :
			    send_chatd(S, &c, seq);
		}
		if (rc < 0) {
			atomic_fetch_add(&S->failures, 1);
			close(c.fd);
			if (conn_open(&c, S->L->ip, S->L->port,
			    S->nchan ? S->socket : NULL))
				die("the source cannot reconnect");
			continue;
		}
		atomic_store(&S->L->answered_us[seq], now_us());
	}
	close(c.fd);
	atomic_fetch_add(&S->posters_done, 1);
	return NULL;
}

static void parse_source(struct source *S, char *spec)
{
	char *kind = strtok(spec, ":"), *a = strtok(NULL, ":"),
	    *b = strtok(NULL, "");

	if (kind == NULL || a == NULL || b == NULL)
		die("SOURCE is chatd:TOKEN:CHAT or nchan:SOCKET:CHANNELS");
	S->nchan = strcmp(kind, "nchan") == 0;
	if (S->nchan) {
		S->socket = a;
		S->channels = b;
	} else if (strcmp(kind, "chatd") == 0) {
		S->token = a;
		S->chat = b;
	} else {
		die("SOURCE is chatd:... or nchan:...");
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* RTLOAD_GATE: once every poster is done, create that file (the runner
 * holds the relay's take back until it appears). */
static void open_gate(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("cannot create RTLOAD_GATE");
	fclose(f);
}

static void deliver(struct load *L, struct source *S)
{
	pthread_t th[POSTERS_MAX];
	const char *env = getenv("RTLOAD_POSTERS"), *gate =
	    getenv("RTLOAD_GATE");
	int i, nposters = S->rate > 0 ? 1 : env ? atoi(env) : POSTERS_DEFAULT;
	long long expected = (long long)L->opened * L->count, quiet_since;

	L->answered_us = calloc((size_t)L->count, sizeof *L->answered_us);
	L->lat = malloc(sizeof *L->lat * (size_t)(expected + 1));
	for (i = 0; i < L->n; i++)
		L->subs[i].seen = calloc((size_t)L->count, 1);
	if (nposters < 1 || nposters > POSTERS_MAX)
		die("RTLOAD_POSTERS: 1 to 64");
	S->L = L;
	S->started_us = now_us();
	for (i = 0; i < nposters; i++)
		pthread_create(&th[i], NULL, poster, S);
	/* Until every delivery came, or nothing came for 5 s after the
	 * source was done. */
	quiet_since = 0;
	while (L->received < expected) {
		long long before = L->received;

		if (gate != NULL && atomic_load(&S->posters_done) == nposters) {
			open_gate(gate);
			gate = NULL;
		}
		turn(L, gate != NULL ? 10 : 100);
		if (atomic_load(&S->next) >= L->count && before == L->received) {
			if (quiet_since == 0)
				quiet_since = now_us();
			else if (now_us() - quiet_since > 5000000)
				break;
		} else {
			quiet_since = 0;
		}
	}
	for (i = 0; i < nposters; i++)
		pthread_join(th[i], NULL);
	S->finished_us = now_us();
	qsort(L->lat, L->nlat, sizeof *L->lat, cmp_u32);
	printf("streams=%d failed=%d messages=%d source_failures=%ld "
	    "expected=%lld received=%lld missing=%lld duplicates=%lld "
	    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f deliveries_per_s=%.0f "
	    "drain_per_s=%.0f source_per_s=%.0f cpu_s=%.2f\n", L->opened,
	    L->failed, L->count,
	    atomic_load(&S->failures), expected, L->received,
	    expected - L->received, L->duplicates,
	    pct_ms(L->lat, L->nlat, 0.50), pct_ms(L->lat, L->nlat, 0.99),
	    pct_ms(L->lat, L->nlat, 1.0),
	    L->last_us > S->started_us ? (double)L->received * 1e6 /
	    (double)(L->last_us - S->started_us) : 0.0,
	    L->last_us > L->first_us ? (double)(L->received - 1) * 1e6 /
	    (double)(L->last_us - L->first_us) : 0.0,
	    (double)L->count * 1e6 / (double)(S->finished_us - S->started_us),
	    cpu_seconds());
}

/* CPU seconds this process used so far, for the runner's shares. */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int main(int argc, char **argv)
{
	struct load L = {0};
	struct source S = {0};

	if (argc < 7 || (strcmp(argv[1], "hold") == 0 ? argc != 8 :
	    strcmp(argv[1], "deliver") == 0 ? argc != 10 : true)) {
		fputs("usage: rtload hold HOST PORT TOKENS N WS% SECONDS\n"
		    "       rtload deliver HOST PORT TOKENS N WS% SOURCE RATE "
		    "COUNT\n", stderr);
		return 2;
	}
	raise_nofile();
	L.ip = argv[2];
	L.port = atoi(argv[3]);
	read_tokens(&L, argv[4]);
	L.n = atoi(argv[5]);
	L.ws_percent = atoi(argv[6]);
	if (strcmp(argv[1], "deliver") == 0) {
		parse_source(&S, argv[7]);
		S.rate = atoi(argv[8]);
		L.count = atoi(argv[9]);
		snprintf(L.marker, sizeof L.marker, "rt-%ld-",
		    (long)getpid());
	}
	open_all(&L);
	if (strcmp(argv[1], "hold") == 0) {
		long long end = now_us() + atoll(argv[7]) * 1000000LL;

		printf("opened=%d failed=%d\n", L.opened, L.failed);
		fflush(stdout);
		while (now_us() < end)
			turn(&L, 200);
		printf("open_after=%d\n", still_open(&L));
		return 0;
	}
	deliver(&L, &S);
	return 0;
}
