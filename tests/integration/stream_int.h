/*
 * stream_int.h - the inside of a stream (stream.h), shared by its files:
 * stream.c (connection, queue, blocking waits), stream_http.c (response
 * head and body framing), stream_ws.c (WebSocket frames), stream_sse.c
 * (the event-stream parser).
 */
#ifndef CHATD_TEST_STREAM_INT_H
#define CHATD_TEST_STREAM_INT_H

#include "stream.h"

#include <stdint.h>

/* Bounds on what a peer can make us hold. */
#define STREAM_HEAD_MAX (64 * 1024)
#define STREAM_MSG_MAX (64UL * 1024 * 1024)

/* A growable byte buffer, always NUL-terminated past len. */
struct sbuf {
	char *p;
	size_t len, cap;
};
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_puts(struct sbuf *b, const char *str);
void sbuf_free(struct sbuf *b);
/* Drop the first n bytes. */
void sbuf_consume(struct sbuf *b, size_t n);
/* Steal the contents as a new string (the buffer is empty after). */
char *sbuf_steal(struct sbuf *b);

enum stream_phase { PH_HEAD, PH_BODY, PH_DONE };
/* How the body is delimited. */
enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct queued {
	struct stream_event ev;
	struct queued *next;
};

struct stream {
	enum stream_kind kind;
	enum stream_phase phase;
	int fd;
	bool connecting;
	bool open;               /* the response became a stream */
	char error[160];
	struct sbuf out;         /* bytes to send */
	struct sbuf head;        /* the response head while it is read */
	int status;
	char *headers;           /* header lines of the response */
	struct sbuf body;        /* a refusal's or a long-poll's body */
	/* body framing (stream_http.c) */
	enum body_mode mode;
	uint64_t left;           /* bytes left of the body or chunk */
	int cstate;              /* chunked decoder state */
	struct sbuf cline;       /* a chunk-size line */
	/* WebSocket (stream_ws.c) */
	char ws_key[25];
	struct sbuf in;          /* undecoded frame bytes */
	struct sbuf msg;         /* a fragmented message so far */
	int msg_opcode;          /* 0: no message under way */
	bool close_sent, close_received;
	int close_code;
	/* event-stream (stream_sse.c) */
	struct sbuf line, data, type;
	char *last_id;
	bool after_cr;
	/* events ready, oldest first */
	struct queued *q_head, *q_tail;
	unsigned long fed_events; /* events completed by the current feed */
	struct stream_stats st;
	bool recording;
	struct sbuf rec;
};

/* Queue an event, stealing the strings (type/id may be NULL). */
void stream_push(struct stream *s, char *data, size_t len, char *type,
		 char *id);
/* End the stream: phase DONE, fd closed; `why` NULL for a normal end
 * (the first reason given is kept). Returns -1 for the callers' use. */
int stream_end(struct stream *s, const char *why);

/* stream_http.c: parse head then body bytes of the response. */
int http_feed(struct stream *s, const char *p, size_t n);
/* The peer closed the connection (read returned 0). */
void http_eof(struct stream *s);

/* Per transport: the request's own header lines; whether a head makes the
 * response a stream (else its body is read and the stream ends); bytes of
 * the stream. */
void ws_request_headers(struct stream *s, struct sbuf *req);
bool ws_accept_head(struct stream *s);
int ws_feed(struct stream *s, const char *p, size_t n);
int sse_feed(struct stream *s, const char *p, size_t n);

#endif
