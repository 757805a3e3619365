/* A response on its way to nginx. A handler either fills body and status
 * and lets the worker send it whole (with Content-Length), or starts the
 * response early and streams the body in pieces. Exactly one response is
 * sent per request, by reply_finish(). */
#ifndef CHATD_REPLY_H
#define CHATD_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "buf.h"
#include "errors.h"

#define REPLY_FLUSH_AT 32768	/* stream once this much body is pending */
/* Bytes of extra header lines per reply: a download's Content-Disposition
 * of a 255-byte name takes up to 1,060 (filename.h). */
#define REPLY_HEADERS_MAX 2048

struct reply {
	FCGX_Stream *out;	/* borrowed */
	struct buf body;	/* pending body bytes */
	int status;		/* success status, set by the handler */
	bool started;		/* headers sent: streaming */
	bool failed;		/* writing to nginx failed: the client is gone */
	/* a success's Content-Type: NULL for application/json (a handler
	 * that sets it also passes X-Accel-Redirect, downloads) */
	const char *content_type;
	char headers[REPLY_HEADERS_MAX];	/* extra "Name: value\r\n" lines */
	size_t headers_len;
	char message[256];	/* the error's message */
};

void reply_init(struct reply *r, FCGX_Stream *out);
void reply_free(struct reply *r);
/* Empties the reply for the next request on the same stream. */
void reply_reset(struct reply *r, FCGX_Stream *out);

/* Adds the header "name: value" to the reply, whatever its outcome (Allow
 * with a 405, Set-Cookie with a success, ...). False, and nothing added,
 * when name is not a token, value holds a control character (CR and LF
 * included: no header can smuggle another), or the reply's headers would
 * exceed REPLY_HEADERS_MAX; a caller that sets a header the client needs
 * treats that as an internal error. Both strings are copied. Content-Type,
 * Content-Length and Status are the reply's own and are refused too. */
bool reply_header(struct reply *r, const char *name, const char *value);

/* Records the message of error e for the client and returns e, so that a
 * handler can `return reply_fail(r, API_NOT_FOUND, "chat %s ...", id);`. */
enum api_error reply_fail(struct reply *r, enum api_error e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The success of a create endpoint: 201 {"id": "<id>"}. */
void reply_created(struct reply *r, int64_t id);
/* The same body with another status: 200 for "it existed already". */
void reply_id(struct reply *r, int status, int64_t id);

/* A success without a body: 204 No Content. */
void reply_no_content(struct reply *r);

/* reply_fail() for an error of db.h (API_UNAVAILABLE or API_INTERNAL),
 * with a message that tells the client what it can do. */
enum api_error reply_db_error(struct reply *r, enum api_error e);

/* Sends the headers of a streamed success response now; the body follows
 * by reply_flush() and reply_finish(). */
void reply_start(struct reply *r, int status);
/* Writes the pending body when streaming and enough is pending. */
void reply_flush(struct reply *r);

/* Sends the response: for API_OK, status and body; otherwise the error's
 * status and its JSON body {"error", "message"}, with Retry-After when the
 * error table says so and no handler set one. Headers added with
 * reply_header() go out with either. An error after the headers went out
 * can only cut the response short: it is logged and the body ends where it
 * is. */
void reply_finish(struct reply *r, enum api_error e);

/* The status that reply_finish(r, e) sends or sent. */
int reply_status(const struct reply *r, enum api_error e);

/* Builds the JSON error body for e with message into b (for tests). */
void reply_error_body(struct buf *b, enum api_error e, const char *message);

#endif
