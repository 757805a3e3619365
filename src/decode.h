/* Request decoding: the generic pieces every endpoint's decoder (in
 * src/api/) is built of. Each checks one rule of API.md about a field, so
 * a handler only ever sees valid input, and on failure leaves a message
 * for the client that names the field. */
#ifndef CHATD_DECODE_H
#define CHATD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct caller;

/* Limits in code points (API.md section 0); set from the command line. */
struct limits {
	size_t username_max;
	size_t chat_name_max;
	size_t text_max;
};
extern struct limits decode_limits;

#define IDEMPOTENCY_KEY_MAX 255

/* What a decoder works with besides the body. */
struct decode_ctx {
	char *const *envp;	/* the request's FastCGI parameters (headers
				   as HTTP_*); NULL for none */
	struct buf *scratch;	/* emptied by the worker before each request;
				   see decode_ids() */
	char *msg;		/* the message for the client on failure */
	size_t msgsz;
	struct caller *caller;	/* who asks (auth.h); never NULL; a handler
				   may look a pending one up */
	const char *body;	/* BODY_RAW's bytes (route.h), borrowed
				   until the request ends; else NULL */
	size_t body_len;
};

/* Parses a request body. Returns a new reference to a JSON object, or NULL
 * with a message for the client in msg (400 bad_request). An integer out
 * of int64 range is named by its field, whatever the field is called. */
json_t *decode_body(const char *body, size_t len, char *msg, size_t msgsz);

/* Formats the message for the client into d and returns false, so that a
 * decoder can `return decode_fail(d, "...")`. */
bool decode_fail(struct decode_ctx *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The required string field name of root: valid UTF-8 without U+0000,
 * 1..max code points and not only whitespace. Borrowed from root; NULL
 * with a message when it is not. */
const char *decode_text(const json_t *root, const char *name, size_t max,
    struct decode_ctx *d);

/* The same, except that a string that is empty or only whitespace is
 * taken (its length is not checked) and sets *blank; any other sets it
 * false. For a field whose emptiness the handler judges. */
const char *decode_text_or_blank(const json_t *root, const char *name,
    size_t max, bool *blank, struct decode_ctx *d);

/* The optional string field name of root: absent or null leaves *out
 * NULL; otherwise as decode_text. */
bool decode_opt_text(const json_t *root, const char *name, size_t max,
    const char **out, struct decode_ctx *d);

/* The required password field name of root: PASSWORD_MIN..PASSWORD_MAX
 * bytes (password.h) of valid UTF-8 without U+0000, its length in *len.
 * Borrowed from root. The message never quotes it. */
const char *decode_password(const json_t *root, const char *name,
    size_t *len, struct decode_ctx *d);

/* An id field of root (API.md: a canonical decimal string or a JSON
 * integer >= 0) into *out. A required field must be present; an optional
 * one that is absent leaves *out as it was. */
bool decode_id(const json_t *root, const char *name, bool required,
    int64_t *out, struct decode_ctx *d);

/* The id field name of root naming the user a request acts for (API.md
 * 2.1): required without a session; with one, optional and the caller
 * when absent, and *other set when it names someone else (which the
 * handler refuses with 403). With a caller still pending (auth.h) it is
 * -1 when absent and *other is false: the handler decides with
 * caller_other() once the caller is known. */
bool decode_acting_user(const json_t *root, const char *name, int64_t *out,
    bool *other, struct decode_ctx *d);

/* The required field name of root: an array of ids (any length, repeats
 * allowed). Written as a PostgreSQL array literal "{1,2,3}" into d's
 * scratch buffer; *literal points there and stays valid until the request
 * ends, provided that nothing else is appended to the scratch buffer (one
 * id list per request), and *n is the array's length. */
bool decode_ids(const json_t *root, const char *name, const char **literal,
    size_t *n, struct decode_ctx *d);

/* The optional field name of root: a JSON integer in [min, max] into *out;
 * absent leaves *out as it was. */
bool decode_int(const json_t *root, const char *name, int min, int max,
    int *out, struct decode_ctx *d);

/* The value of the request header whose FastCGI name is param (e.g.
 * "HTTP_IDEMPOTENCY_KEY"), or NULL when absent. Borrowed from d->envp. */
const char *decode_header(const struct decode_ctx *d, const char *param);

/* A message's "text" (at most decode_limits.text_max) into *text, its
 * optional "file" (an id, or null: 0 into *file) and its optional
 * Idempotency-Key header into *key (NULL when absent): what messages/add
 * and messages/send take. With a file the text may be absent or "" (then
 * *text is ""); without one it is required as decode_text() says. */
bool decode_message(const json_t *root, const char **text, int64_t *file,
    const char **key, struct decode_ctx *d);

/* Checks an Idempotency-Key header value: 1..IDEMPOTENCY_KEY_MAX printable
 * ASCII characters. */
bool decode_idempotency_key(const char *value, struct decode_ctx *d);

#endif
