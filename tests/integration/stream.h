/*
 * stream.h - clients of the three transports nchan serves, written for the
 * tests and benchmarks (no client library from elsewhere):
 *
 *   STREAM_WS    WebSocket (RFC 6455): the upgrade with a random
 *                Sec-WebSocket-Key, Sec-WebSocket-Accept checked; text
 *                and binary messages (fragmented or not, 7/16/64-bit
 *                lengths) become events; a ping is answered with a pong;
 *                the close handshake either way; frames sent are masked.
 *   STREAM_SSE   EventSource (text/event-stream, chunked or not): id:,
 *                event:, data: (several lines joined by "\n"), comments
 *                (heartbeats) counted; CRLF, LF or CR line ends.
 *   STREAM_POLL  long-poll: one GET, one response; its body (status 200)
 *                is the one event, then the stream is done.
 *
 * Two ways to use it. Blocking: stream_open() then stream_wait() with a
 * timeout in ms. Non-blocking, for one poll/epoll loop over many streams:
 * stream_new() + stream_connect(), poll stream_fd() for stream_events(),
 * call stream_io() when it is ready, take events with stream_next().
 * stream_feed() is the parser alone: the unit tests give it canned bytes
 * (a stream never connected reads the response head first, as a connected
 * one does).
 *
 * A stream whose response is not the upgrade/stream it asked for (a 401
 * from chatd, say) is done once that response is read; stream_status(),
 * stream_header() and stream_body() tell what it was.
 *
 * Streams are not thread-safe: one thread per stream at a time. Memory
 * exhaustion aborts (a test program has nothing better to do).
 */
#ifndef CHATD_TEST_STREAM_H
#define CHATD_TEST_STREAM_H

#include <stdbool.h>
#include <stddef.h>

enum stream_kind { STREAM_WS, STREAM_SSE, STREAM_POLL, STREAM__MAX };

/* The names the tests print: "websocket", "eventsource", "longpoll". */
extern const char *const stream_kind_name[STREAM__MAX];

struct stream;

/* One complete event; every string is owned by the event and
 * NUL-terminated (data may hold NULs of a binary message: use len). */
struct stream_event {
	char *data;
	size_t len;
	/* SSE: the event's type ("message" when it named none) and the last
	 * event id (per the EventSource rules, "" when none was ever set);
	 * WS: "text" or "binary", id NULL; long-poll: both NULL. */
	char *type;
	char *id;
};

/* What a stream saw, for the figures tests print. */
struct stream_stats {
	unsigned long reads;        /* read(2) calls that returned bytes */
	unsigned long bytes;        /* bytes received */
	unsigned long events;       /* events completed */
	unsigned long max_per_feed; /* most events completed by one feed */
	unsigned long pings;        /* WS pings answered */
	unsigned long comments;     /* SSE comment lines (heartbeats) */
};

/*
 * A new stream, not connected, for GET `path` with Host `host` and the
 * extra request header lines `headers` (NULL-terminated, each "Name:
 * value" without CRLF; NULL for none). Returns a new stream.
 */
struct stream *stream_new(enum stream_kind kind, const char *host,
			  const char *path, const char *const *headers);
/* Start a non-blocking TCP connection to a numeric IPv4/IPv6 address.
 * 0, or -1 (the stream is then done, stream_error() says why). */
int stream_connect(struct stream *s, const char *ip, int port);
/* stream_new + stream_connect + stream_wait_head. NULL only when the
 * connection could not even be started; otherwise check stream_status()
 * (0: no response head within timeout_ms). */
struct stream *stream_open(enum stream_kind kind, const char *ip, int port,
			   const char *path, const char *const *headers,
			   int timeout_ms);
void stream_free(struct stream *s);

/* The socket (-1 when there is none or the stream is done) and the poll
 * events to wait for on it: POLLIN, plus POLLOUT while connecting or
 * while output is pending. */
int stream_fd(const struct stream *s);
short stream_events(const struct stream *s);
/* Make progress after poll said the fd is ready: finish the connect,
 * write pending output, read and parse what arrived (until EAGAIN).
 * 0 while the stream lives, -1 once it is done (its fd closed; queued
 * events can still be taken). */
int stream_io(struct stream *s);
/* Parse n received bytes as if read from the socket. 0, or -1 when they
 * break the protocol or the stream is done (stream_error() says why). */
int stream_feed(struct stream *s, const void *p, size_t n);
/* Take the oldest complete event into *ev (the caller's: release it with
 * stream_event_free). 1, or 0 when none is queued. */
int stream_next(struct stream *s, struct stream_event *ev);
void stream_event_free(struct stream_event *ev);

/* Blocking helpers, each bounded by timeout_ms (a hang guard). */
/* 1: an event taken into *ev; 0: none within timeout_ms; -1: the stream
 * is done and nothing is queued. */
int stream_wait(struct stream *s, struct stream_event *ev, int timeout_ms);
/* Until the response head is in: its status, or 0 on timeout or when the
 * stream ended first. */
int stream_wait_head(struct stream *s, int timeout_ms);
/* Until the stream is done (its refusal's body read, its long-poll
 * answered, its close handshake over): 0, or -1 on timeout. */
int stream_wait_end(struct stream *s, int timeout_ms);

/* The response: status (0 until the head is read); a header's value
 * (case-insensitive name, the first of several, trimmed) copied into dst:
 * false when absent; the body of a response that did not become a stream
 * or of a long-poll answer (NUL-terminated; *len may be NULL). */
int stream_status(const struct stream *s);
bool stream_header(const struct stream *s, const char *name, char *dst,
		   size_t dstlen);
const char *stream_body(const struct stream *s, size_t *len);
enum stream_kind stream_kind(const struct stream *s);
/* Streaming (101 / 200 event-stream, head read and accepted). */
bool stream_is_open(const struct stream *s);
bool stream_is_done(const struct stream *s);
/* Why the stream ended abnormally ("" when it did not). */
const char *stream_error(const struct stream *s);
const struct stream_stats *stream_stats(const struct stream *s);

/* WebSocket only. Queue one masked frame (opcode 1 text, 2 binary, 9
 * ping, ...; a data frame of any length): 0, or -1 when the stream is
 * closing or not a WebSocket. stream_io() or a blocking wait sends it. */
int stream_ws_send(struct stream *s, int opcode, const void *p, size_t n);
/* Start the close handshake with `code` (1000: normal); the stream is
 * done when the peer's close frame came back. */
int stream_ws_close(struct stream *s, int code);
/* The close code the peer sent (1005 when it sent none in its frame),
 * 0 when no close frame came. */
int stream_ws_close_code(const struct stream *s);
/* The Sec-WebSocket-Key the request carries (24 characters). */
const char *stream_ws_key(const struct stream *s);
/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + RFC 6455's GUID)),
 * 28 characters and a NUL. */
void ws_accept_for(const char *key, char out[29]);

/* Output not yet written (the request, pongs, frames): what a stream
 * never connected would send, for the unit tests. */
const char *stream_pending(const struct stream *s, size_t *n);
/* Keep a copy of every byte received from now on (for replaying them
 * into another parser); the copy, NUL-terminated. */
void stream_record(struct stream *s);
const char *stream_recorded(const struct stream *s, size_t *n);

#endif
