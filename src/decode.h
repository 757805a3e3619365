/* Request decoding: from the raw body to one typed struct per endpoint.
 * Every rule of API.md about a request's shape is checked here, so a
 * handler only ever sees valid input. */
#ifndef CHATD_DECODE_H
#define CHATD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "router.h"

/* Limits in code points (API.md section 0). */
struct limits {
	size_t username_max;
	size_t chat_name_max;
	size_t text_max;
};
extern struct limits decode_limits;

#define MESSAGES_PAGE_MAX 1000
#define IDEMPOTENCY_KEY_MAX 255

/* Strings are borrowed from the json_t the request was decoded from and
 * are valid while it lives; they are NUL-terminated. */
struct users_add_req {
	const char *username;
};

struct chats_add_req {
	const char *name;
	int64_t *users;		/* owned: freed by request_free() */
	size_t nusers;
};

struct messages_add_req {
	int64_t chat, author;
	const char *text;
	const char *idempotency_key;	/* NULL when the header is absent */
};

struct chats_get_req {
	int64_t user;
};

struct messages_get_req {
	int64_t chat;
	int64_t after;		/* 0 when absent: ids start at 1 */
	int64_t before;		/* INT64_MAX when absent */
	int limit;		/* 0 when absent: the whole chat */
	bool newest;		/* before and limit given: the newest page */
};

union request {
	struct users_add_req users_add;
	struct chats_add_req chats_add;
	struct messages_add_req messages_add;
	struct chats_get_req chats_get;
	struct messages_get_req messages_get;
};

/* Parses a request body. Returns a new reference to a JSON object, or NULL
 * with a message for the client in msg (400 bad_request). */
json_t *decode_body(const char *body, size_t len, char *msg, size_t msgsz);

/* Decodes the object root into req for route. False with a message in msg
 * when a field is missing, of the wrong type or out of its limits. On
 * success the caller owns req and releases it with request_free(). */
bool decode_request(enum route_id route, const json_t *root,
    union request *req, char *msg, size_t msgsz);

/* Checks an Idempotency-Key header value: 1..IDEMPOTENCY_KEY_MAX printable
 * ASCII characters. */
bool decode_idempotency_key(const char *value, char *msg, size_t msgsz);

void request_free(enum route_id route, union request *req);

#endif
