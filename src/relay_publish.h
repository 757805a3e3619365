/* The relay's HTTP/1.1 client for nchan's publisher location
 * (nginx/chatd.conf): one keep-alive connection over a unix socket,
 * requests with a Content-Length, answers read with a Content-Length or
 * chunked. Only what publishing needs: POST /pub/<channels> with an
 * event's JSON, DELETE /pub/<channel>, and GET /pub/<channel> for its
 * subscriber count. */
#ifndef CHATD_RELAY_PUBLISH_H
#define CHATD_RELAY_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many channel ids in one request: nchan's limit of a
 * multiplexed channel (NCHAN_MULTITAG_MAX)... */
#define PUBLISH_CHANNELS_MAX 255
/* ... and at most this many bytes of them, commas included: nchan checks
 * the whole /pub/ id against nchan_max_channel_id_length (1,024 by
 * default) before it splits it (nchan_channel_id.c, validate_id). */
#define PUBLISH_IDS_MAX 1024

/* Bounds each connect, write and read; a publisher that says nothing for
 * this long is taken as gone. */
#define PUBLISH_TIMEOUT_MS 5000

struct publisher;

/* A client for spec, "unix:PATH". It does not connect yet. NULL when the
 * spec is not a unix socket's. */
struct publisher *publisher_new(const char *spec);
void publisher_free(struct publisher *p);

/* Sends method ("POST" or "DELETE") /pub/<ids> with body (len bytes; NULL
 * and 0 for none) and reads the answer. ids: comma-separated channel ids
 * within the limits above, [us0-9,] only. Returns the answer's HTTP
 * status, or 0 when there was none (no connection, timeout, an answer
 * that is not HTTP), which closes the connection; the next call opens a
 * new one. A kept connection that the server had closed meanwhile (a
 * reload, its keepalive timeout) is not retried here: it is a loss
 * (publisher_lost), and the caller publishes again in order. */
int publisher_send(struct publisher *p, const char *method, const char *ids,
    const char *body, size_t len);

/* Pipelining (HTTP/1.1): requests queued with publisher_queue() go out
 * together, written back to back, and their answers are read in order,
 * so that nginx handles a batch in one wake-up and the relay does not
 * wait for each answer before the next request. At most PIPELINE_MAX
 * requests and PIPELINE_BYTES bytes in a batch (a first request is taken
 * whatever its size): the answers (a few hundred bytes each) must fit in
 * the socket's buffer while the relay is still writing, or both sides
 * would wait for each other. publisher_send() and publisher_get() are
 * batches of one, made while the queue is empty. */
#define PIPELINE_MAX 64
#define PIPELINE_BYTES (256 * 1024)

/* Queues method /pub/<ids> with body, as publisher_send() would send it.
 * False, and nothing queued, when the batch is full. */
bool publisher_queue(struct publisher *p, const char *method,
    const char *ids, const char *body, size_t len);

/* The number of requests queued. */
size_t publisher_queued(const struct publisher *p);

/* Drops the requests queued after the first keep. */
void publisher_unqueue(struct publisher *p, size_t keep);

/* Sends the queued requests and reads their answers into status[0..n),
 * n the number queued; the queue is empty after. Returns how many
 * answers were read: n, or fewer when the connection failed or the
 * server closed it (keepalive_requests), the rest of status then 0 --
 * those requests may or may not have been carried out, and the
 * connection is closed. A kept connection found closed before the first
 * answer is a loss, as in publisher_send(). */
size_t publisher_flush(struct publisher *p, int *status);

/* Whether, since the last call, a connection that had carried answered
 * requests ended without the server announcing it (no "Connection:
 * close" on an answer): nginx reloaded or stopped. Its old worker may
 * have answered the last requests from a memory store that the new
 * workers do not share, so that streams opened on a new worker never got
 * those events; the caller publishes its recent events again (relay.c).
 * Clears the mark. */
bool publisher_lost(struct publisher *p);

struct buf;

/* GET /pub/<id>, one channel's info (nchan answers JSON for "Accept:
 * text/json": {"messages": 3, "requested": -1, "subscribers": 2, ...}),
 * into body (emptied first, at most 4 KiB kept, NUL-terminated; its len
 * does not count the NUL). A kept connection found closed is a loss
 * (publisher_lost), and the GET, which publishes nothing, is sent once
 * more on a new one. The status as publisher_send() returns it:
 * 404 when nchan has no such channel (no subscriber, no message). */
int publisher_get(struct publisher *p, const char *id, struct buf *body);

/* The "subscribers" count of a channel's info as publisher_get() reads
 * it; -1 when info has none. Pure: for tests. */
long publisher_subscribers(const char *info);

/* Cuts the next request's worth of a comma-separated channel list: from
 * list + *off, at most PUBLISH_CHANNELS_MAX ids in at most PUBLISH_IDS_MAX
 * bytes, into out (outsz > PUBLISH_IDS_MAX), and moves *off past them.
 * False when nothing is left; an id longer than PUBLISH_IDS_MAX is
 * skipped. Pure: for tests. */
bool publisher_next_ids(const char *list, size_t *off, char *out,
    size_t outsz);

#endif
