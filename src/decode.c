#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "id.h"
#include "log.h"
#include "utf8.h"

struct limits decode_limits = {
	.username_max = 64,
	.chat_name_max = 128,
	.text_max = 4096,
};

static bool fail(char *msg, size_t msgsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *msg, size_t msgsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
	return false;
}

/* True when v is a number jansson could not hold as an integer: a real
 * (integers were read as reals) at or beyond 2^63 in magnitude. */
static bool huge(const json_t *v)
{
	return json_is_real(v) && (json_real_value(v) >= 9223372036854775808.0
	    || json_real_value(v) <= -9223372036854775808.0);
}

/* The id field of body whose integer is out of int64 range, so that the
 * 400 names it; NULL when it is elsewhere. Used only on that error path:
 * the body is parsed again with integers read as reals. */
static const char *overflowing_field(const char *body, size_t len)
{
	static const char *const fields[] = {
		"user", "chat", "author", "after", "before", "limit", "users",
	};
	const char *found = NULL;
	json_t *root, *v, *e;
	size_t i, j;

	root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL);
	for (i = 0; root && !found && i < sizeof fields / sizeof *fields; i++) {
		v = json_object_get(root, fields[i]);
		if (huge(v))
			found = fields[i];
		json_array_foreach(v, j, e)
			if (huge(e))
				found = fields[i];
	}
	json_decref(root);
	return found;
}

json_t *decode_body(const char *body, size_t len, char *msg, size_t msgsz)
{
	const char *field;
	json_error_t err;
	json_t *root;

	if (len == 0) {
		fail(msg, msgsz, "request body is empty; expected a JSON object");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		switch (json_error_code(&err)) {
		case json_error_out_of_memory:
			log_error("out of memory parsing a request body");
			abort();	/* the policy of buf.h */
		case json_error_invalid_utf8:
			fail(msg, msgsz, "request body is not valid UTF-8");
			break;
		case json_error_null_character:
		case json_error_null_byte_in_key:
			fail(msg, msgsz, "request body holds U+0000");
			break;
		case json_error_numeric_overflow:
			field = overflowing_field(body, len);
			if (field)
				fail(msg, msgsz, "field '%s' is not a valid id: "
				    "out of range", field);
			else
				fail(msg, msgsz, "a number in the request body "
				    "is out of range");
			break;
		case json_error_stack_overflow:
			fail(msg, msgsz, "request body is nested too deeply");
			break;
		case json_error_duplicate_key:
			fail(msg, msgsz, "duplicate key in request body");
			break;
		default:
			fail(msg, msgsz, "request body is not valid JSON "
			    "(line %d, column %d)", err.line, err.column);
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail(msg, msgsz, "request body must be a JSON object");
		return NULL;
	}
	return root;
}

/* The required string field name of root, valid UTF-8 without U+0000,
 * 1..max code points and not only whitespace. Borrowed. */
static const char *get_text(const json_t *root, const char *name, size_t max,
    char *msg, size_t msgsz)
{
	const json_t *v = json_object_get(root, name);
	const char *s;
	size_t len, n;

	if (v == NULL)
		return fail(msg, msgsz, "field '%s' is required", name), NULL;
	if (!json_is_string(v))
		return fail(msg, msgsz, "field '%s' must be a string", name), NULL;
	s = json_string_value(v);
	len = json_string_length(v);
	if (!utf8_valid(s, len))
		return fail(msg, msgsz, "field '%s' is not valid UTF-8 or "
		    "holds U+0000", name), NULL;
	if (utf8_blank(s, len))
		return fail(msg, msgsz, "field '%s' must not be empty", name),
		    NULL;
	n = utf8_length(s, len);
	if (n > max)
		return fail(msg, msgsz, "field '%s' is too long: %zu characters, "
		    "at most %zu", name, n, max), NULL;
	return s;
}

/* An id field of root. Required fields must be present; an optional one
 * that is absent leaves *out as it was. */
static bool get_id(const json_t *root, const char *name, bool required,
    int64_t *out, char *msg, size_t msgsz)
{
	const json_t *v = json_object_get(root, name);

	if (v == NULL)
		return required ? fail(msg, msgsz, "field '%s' is required",
		    name) : true;
	if (!id_from_json(v, out))
		return fail(msg, msgsz, "field '%s' is not a valid id", name);
	return true;
}

static bool decode_users_add(const json_t *root, struct users_add_req *req,
    char *msg, size_t msgsz)
{
	req->username = get_text(root, "username", decode_limits.username_max,
	    msg, msgsz);
	return req->username != NULL;
}

static bool decode_chats_add(const json_t *root, struct chats_add_req *req,
    char *msg, size_t msgsz)
{
	const json_t *users, *v;
	size_t i;

	req->users = NULL;
	req->nusers = 0;
	req->name = get_text(root, "name", decode_limits.chat_name_max, msg,
	    msgsz);
	if (req->name == NULL)
		return false;
	users = json_object_get(root, "users");
	if (users == NULL)
		return fail(msg, msgsz, "field 'users' is required");
	if (!json_is_array(users))
		return fail(msg, msgsz, "field 'users' must be an array of "
		    "user ids");
	req->users = xmalloc(json_array_size(users) * sizeof *req->users);
	json_array_foreach(users, i, v) {
		if (!id_from_json(v, &req->users[i])) {
			free(req->users);
			req->users = NULL;
			return fail(msg, msgsz, "users[%zu] is not a valid id",
			    i);
		}
	}
	req->nusers = json_array_size(users);
	return true;
}

static bool decode_messages_add(const json_t *root,
    struct messages_add_req *req, char *msg, size_t msgsz)
{
	req->idempotency_key = NULL;
	if (!get_id(root, "chat", true, &req->chat, msg, msgsz) ||
	    !get_id(root, "author", true, &req->author, msg, msgsz))
		return false;
	req->text = get_text(root, "text", decode_limits.text_max, msg, msgsz);
	return req->text != NULL;
}

static bool decode_chats_get(const json_t *root, struct chats_get_req *req,
    char *msg, size_t msgsz)
{
	return get_id(root, "user", true, &req->user, msg, msgsz);
}

static bool decode_messages_get(const json_t *root,
    struct messages_get_req *req, char *msg, size_t msgsz)
{
	const json_t *limit = json_object_get(root, "limit");

	req->after = 0;
	req->before = INT64_MAX;
	req->limit = 0;
	if (!get_id(root, "chat", true, &req->chat, msg, msgsz) ||
	    !get_id(root, "after", false, &req->after, msg, msgsz) ||
	    !get_id(root, "before", false, &req->before, msg, msgsz))
		return false;
	if (limit != NULL) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > MESSAGES_PAGE_MAX)
			return fail(msg, msgsz, "field 'limit' must be an "
			    "integer from 1 to %d", MESSAGES_PAGE_MAX);
		req->limit = (int)json_integer_value(limit);
	}
	req->newest = req->limit > 0 && json_object_get(root, "before");
	return true;
}

bool decode_request(enum route_id route, const json_t *root,
    union request *req, char *msg, size_t msgsz)
{
	switch (route) {
	case ROUTE_USERS_ADD:
		return decode_users_add(root, &req->users_add, msg, msgsz);
	case ROUTE_CHATS_ADD:
		return decode_chats_add(root, &req->chats_add, msg, msgsz);
	case ROUTE_MESSAGES_ADD:
		return decode_messages_add(root, &req->messages_add, msg,
		    msgsz);
	case ROUTE_CHATS_GET:
		return decode_chats_get(root, &req->chats_get, msg, msgsz);
	case ROUTE_MESSAGES_GET:
		return decode_messages_get(root, &req->messages_get, msg,
		    msgsz);
	case ROUTE__MAX:
		break;
	}
	return fail(msg, msgsz, "unknown route");
}

bool decode_idempotency_key(const char *value, char *msg, size_t msgsz)
{
	size_t i, len = strlen(value);

	if (len == 0 || len > IDEMPOTENCY_KEY_MAX)
		return fail(msg, msgsz, "header 'Idempotency-Key' must be 1 to "
		    "%d characters", IDEMPOTENCY_KEY_MAX);
	for (i = 0; i < len; i++)
		if (value[i] < 0x20 || value[i] > 0x7E)
			return fail(msg, msgsz, "header 'Idempotency-Key' must "
			    "be printable ASCII");
	return true;
}

void request_free(enum route_id route, union request *req)
{
	if (route == ROUTE_CHATS_ADD) {
		free(req->chats_add.users);
		req->chats_add.users = NULL;
	}
}
