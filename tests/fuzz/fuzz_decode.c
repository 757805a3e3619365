/* fuzz_decode — request bodies through decode_body() and decode_request(),
 * the code that turns what a client sent into a handler's typed struct.
 *
 * Input: one byte choosing the route (its value modulo ROUTE__MAX, so all
 * five), then the body. The same body, cut at its first NUL as a FastCGI
 * parameter would be, is also checked as an Idempotency-Key header.
 *
 * Invariants: decode_request() accepts exactly what a reference decoder
 * written from API.md accepts, and an accepted request holds what the
 * reference read (strings borrowed from the JSON tree, valid UTF-8 without
 * NUL, within the limits, not blank; ids >= 0; a messages/get limit in
 * 0..MESSAGES_PAGE_MAX). A rejection leaves a message that becomes a
 * valid JSON error body. A request is released the way the worker does:
 * request_free() after a success; after a failure decode_request() has
 * already freed what it took (LeakSanitizer checks). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "decode.h"
#include "errors.h"
#include "fuzz.h"
#include "ref.h"
#include "reply.h"

/* The text field name of root as the reference decoder sees it: a string,
 * well-formed UTF-8 without NUL, 1..max code points, not all White_Space. */
static bool ref_text(const json_t *root, const char *name, size_t max,
    const char **out)
{
	const json_t *v = json_object_get(root, name);
	const char *s;
	size_t len, n;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	if (!ref_utf8_valid(s, len, false) || ref_utf8_blank(s, len))
		return false;
	n = ref_utf8_count(s, len);
	if (n < 1 || n > max)
		return false;
	*out = s;
	return true;
}

/* An id as API.md allows it: a canonical decimal string or a JSON integer
 * >= 0. */
static bool ref_id(const json_t *v, int64_t *out)
{
	if (json_is_string(v))
		return ref_id_parse(json_string_value(v),
		    json_string_length(v), out);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return true;
	}
	return false;
}

/* A string the decoder returned: the very string of the tree, which the
 * reference accepted. */
static void check_text(const char *got, const char *want, size_t max)
{
	size_t len;

	FUZZ_CHECK(got == want, "a string not borrowed from the request");
	len = strlen(got);
	FUZZ_CHECK(ref_utf8_valid(got, len, false), "bad UTF-8");
	FUZZ_CHECK(!ref_utf8_blank(got, len), "a blank string accepted");
	FUZZ_CHECK(ref_utf8_count(got, len) >= 1 &&
	    ref_utf8_count(got, len) <= max, "%zu code points, limit %zu",
	    ref_utf8_count(got, len), max);
}

static void check_users_add(const json_t *root, bool ok,
    const struct users_add_req *req)
{
	const char *name = NULL;
	bool want = ref_text(root, "username", decode_limits.username_max,
	    &name);

	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (ok)
		check_text(req->username, name, decode_limits.username_max);
}

static void check_chats_add(const json_t *root, bool ok,
    const struct chats_add_req *req)
{
	const json_t *users = json_object_get(root, "users"), *v;
	const char *name = NULL;
	bool want;
	int64_t id;
	size_t i;

	want = ref_text(root, "name", decode_limits.chat_name_max, &name) &&
	    json_is_array(users);
	json_array_foreach(users, i, v)
		want = want && ref_id(v, &id);
	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (!ok) {
		FUZZ_CHECK(req->users == NULL, "a rejected request kept its "
		    "users array");
		return;
	}
	check_text(req->name, name, decode_limits.chat_name_max);
	FUZZ_CHECK(req->nusers == json_array_size(users), "%zu users of %zu",
	    req->nusers, json_array_size(users));
	json_array_foreach(users, i, v) {
		ref_id(v, &id);
		FUZZ_CHECK(req->users[i] >= 0 && req->users[i] == id,
		    "users[%zu] = %lld, reference %lld", i,
		    (long long)req->users[i], (long long)id);
	}
}

static void check_messages_add(const json_t *root, bool ok,
    const struct messages_add_req *req)
{
	const char *text = NULL;
	int64_t chat = -1, author = -1;
	bool want;

	want = ref_id(json_object_get(root, "chat"), &chat) &&
	    ref_id(json_object_get(root, "author"), &author) &&
	    ref_text(root, "text", decode_limits.text_max, &text);
	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (!ok)
		return;
	FUZZ_CHECK(req->chat >= 0 && req->chat == chat, "chat %lld",
	    (long long)req->chat);
	FUZZ_CHECK(req->author >= 0 && req->author == author, "author %lld",
	    (long long)req->author);
	check_text(req->text, text, decode_limits.text_max);
	FUZZ_CHECK(req->idempotency_key == NULL, "a key from nowhere");
}

static void check_chats_get(const json_t *root, bool ok,
    const struct chats_get_req *req)
{
	int64_t user = -1;
	bool want = ref_id(json_object_get(root, "user"), &user);

	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (ok)
		FUZZ_CHECK(req->user >= 0 && req->user == user, "user %lld",
		    (long long)req->user);
}

static void check_messages_get(const json_t *root, bool ok,
    const struct messages_get_req *req)
{
	const json_t *after = json_object_get(root, "after");
	const json_t *before = json_object_get(root, "before");
	const json_t *limit = json_object_get(root, "limit");
	int64_t chat = -1, a = 0, b = INT64_MAX, l = 0;
	bool want;

	want = ref_id(json_object_get(root, "chat"), &chat) &&
	    (after == NULL || ref_id(after, &a)) &&
	    (before == NULL || ref_id(before, &b));
	if (limit != NULL) {
		want = want && json_is_integer(limit) &&
		    json_integer_value(limit) >= 1 &&
		    json_integer_value(limit) <= 1000;
		l = json_is_integer(limit) ? json_integer_value(limit) : 0;
	}
	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (!ok)
		return;
	FUZZ_CHECK(req->chat >= 0 && req->chat == chat, "chat %lld",
	    (long long)req->chat);
	FUZZ_CHECK(req->after >= 0 && req->after == a, "after %lld",
	    (long long)req->after);
	FUZZ_CHECK(req->before >= 0 && req->before == b, "before %lld",
	    (long long)req->before);
	FUZZ_CHECK(req->limit >= 0 && req->limit <= MESSAGES_PAGE_MAX &&
	    req->limit == l, "limit %d", req->limit);
	FUZZ_CHECK(req->newest == (l > 0 && before != NULL), "newest %d",
	    req->newest);
}

/* msg is what the client reads after a rejection: a NUL-terminated, non-
 * empty, well-formed string that survives the trip through the JSON error
 * body. */
static void check_message(const char *msg, size_t msgsz)
{
	json_error_t err;
	json_t *back;
	struct buf b;
	size_t len = strnlen(msg, msgsz);

	FUZZ_CHECK(len > 0 && len < msgsz, "message of length %zu", len);
	FUZZ_CHECK(ref_utf8_valid(msg, len, false), "message not UTF-8");
	buf_init(&b);
	reply_error_body(&b, API_BAD_REQUEST, msg);
	back = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
	FUZZ_CHECK(back != NULL, "error body does not parse: %s: %s",
	    err.text, b.data);
	FUZZ_CHECK(json_is_string(json_object_get(back, "message")) &&
	    strcmp(json_string_value(json_object_get(back, "message")),
	    msg) == 0, "message changed on its way: %s", b.data);
	FUZZ_CHECK(json_is_string(json_object_get(back, "error")),
	    "no error code: %s", b.data);
	json_decref(back);
	buf_free(&b);
}

static void check_idempotency_key(const uint8_t *data, size_t size)
{
	char *key = malloc(size + 1), msg[256];
	size_t i, len;
	bool ok, want;

	if (key == NULL)
		abort();
	memcpy(key, data, size);
	key[size] = '\0';
	len = strlen(key);
	want = len >= 1 && len <= 255;
	for (i = 0; i < len; i++)
		want = want && (unsigned char)key[i] >= ' ' &&
		    (unsigned char)key[i] <= '~';
	ok = decode_idempotency_key(key, msg, sizeof msg);
	FUZZ_CHECK(ok == want, "key of %zu bytes: decoded %d, reference %d",
	    len, ok, want);
	if (!ok)
		check_message(msg, sizeof msg);
	free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum route_id route;
	union request req;
	char msg[256];
	json_t *root;
	bool ok;

	if (size == 0)
		return 0;
	route = (enum route_id)(data[0] % ROUTE__MAX);
	data++;
	size--;
	check_idempotency_key(data, size);

	/* Poison what decoding must set, so reading a field it left alone
	 * shows up as a wrong value. */
	memset(&req, 0xA5, sizeof req);
	memset(msg, 'x', sizeof msg);
	root = decode_body((const char *)data, size, msg, sizeof msg);
	if (root == NULL) {
		check_message(msg, sizeof msg);
		return 0;
	}
	FUZZ_CHECK(json_is_object(root), "decode_body returned a non-object");
	ok = decode_request(route, root, &req, msg, sizeof msg);
	switch (route) {
	case ROUTE_USERS_ADD:
		check_users_add(root, ok, &req.users_add);
		break;
	case ROUTE_CHATS_ADD:
		check_chats_add(root, ok, &req.chats_add);
		break;
	case ROUTE_MESSAGES_ADD:
		check_messages_add(root, ok, &req.messages_add);
		break;
	case ROUTE_CHATS_GET:
		check_chats_get(root, ok, &req.chats_get);
		break;
	case ROUTE_MESSAGES_GET:
		check_messages_get(root, ok, &req.messages_get);
		break;
	case ROUTE__MAX:
		abort();
	}
	if (ok)
		request_free(route, &req);
	else
		check_message(msg, sizeof msg);
	json_decref(root);
	return 0;
}
