/* fuzz_decode — request bodies through decode_body() and each endpoint's
 * decoder (its route entry's), the code that turns what a client sent into
 * a handler's typed struct.
 *
 * Input: one byte choosing the endpoint (its value modulo the number of
 * endpoints that read a JSON body, so all of them), then the body. The same
 * body, cut at its first NUL as a FastCGI parameter would be, is also
 * checked as an Idempotency-Key header, alone and through messages/add.
 *
 * Invariants: a decoder accepts exactly what a reference decoder written
 * from API.md accepts, and an accepted request holds what the reference
 * read (strings borrowed from the JSON tree, valid UTF-8 without NUL,
 * within the limits, not blank; ids >= 0; a messages/get limit in
 * 0..MESSAGES_PAGE_MAX). A rejection leaves a message that becomes a valid
 * JSON error body. Decoders allocate nothing of their own: what they keep
 * lives in the tree or the worker's scratch buffer (LeakSanitizer checks).
 *
 * The endpoints' files are included to see their private request structs;
 * their route entries then come from here, not from the library. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/users_add.c"
#include "api/chats_add.c"
#include "api/messages_add.c"
#include "api/chats_get.c"
#include "api/messages_get.c"

#include "buf.h"
#include "decode.h"
#include "errors.h"
#include "fuzz.h"
#include "ref.h"
#include "reply.h"
#include "route.h"

static struct caller nobody;	/* no session */

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
	struct buf want_lit;
	bool want;
	int64_t id;
	size_t i;

	const json_t *type = json_object_get(root, "type");

	want = ref_text(root, "name", decode_limits.chat_name_max, &name) &&
	    json_is_array(users);
	json_array_foreach(users, i, v)
		want = want && ref_id(v, &id);
	/* Absent or null: a group. Without a session a private chat is
	 * decoded (its handler answers 401). */
	want = want && (type == NULL || json_is_null(type) ||
	    (json_is_string(type) &&
	    (strcmp(json_string_value(type), "group") == 0 ||
	    strcmp(json_string_value(type), "private") == 0)));
	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (!ok)
		return;
	check_text(req->name, name, decode_limits.chat_name_max);
	FUZZ_CHECK(req->nusers == json_array_size(users), "%zu users of %zu",
	    req->nusers, json_array_size(users));
	/* The array literal, written here the slow way: "{" ids "," "}". */
	buf_init(&want_lit);
	buf_putc(&want_lit, '{');
	json_array_foreach(users, i, v) {
		char digits[32];

		ref_id(v, &id);
		snprintf(digits, sizeof digits, "%s%lld", i ? "," : "",
		    (long long)id);
		buf_puts(&want_lit, digits);
	}
	buf_putc(&want_lit, '}');
	FUZZ_CHECK(strcmp(req->users, want_lit.data) == 0, "users literal %.80s,"
	    " reference %.80s", req->users, want_lit.data);
	buf_free(&want_lit);
}

static void check_messages_add(const json_t *root, bool ok,
    const struct messages_add_req *req)
{
	const json_t *f = json_object_get(root, "file"),
	    *t = json_object_get(root, "text");
	const char *text = NULL;
	int64_t chat = -1, author = -1, file = 0;
	bool want;

	want = ref_id(json_object_get(root, "chat"), &chat) &&
	    ref_id(json_object_get(root, "author"), &author);
	/* "file": absent or null for none, else an id other than 0; with
	 * one, the text may be left out or "". */
	if (f != NULL && !json_is_null(f))
		want = want && ref_id(f, &file) && file != 0;
	if (file != 0 && (t == NULL || (json_is_string(t) &&
	    json_string_length(t) == 0)))
		text = "";
	else
		want = want && ref_text(root, "text", decode_limits.text_max,
		    &text);
	FUZZ_CHECK(ok == want, "decoded %d, reference %d", ok, want);
	if (!ok)
		return;
	FUZZ_CHECK(req->chat >= 0 && req->chat == chat, "chat %lld",
	    (long long)req->chat);
	FUZZ_CHECK(req->author >= 0 && req->author == author, "author %lld",
	    (long long)req->author);
	FUZZ_CHECK(req->file == file, "file %lld, reference %lld",
	    (long long)req->file, (long long)file);
	if (file != 0 && *text == '\0')
		FUZZ_CHECK(*req->text == '\0', "text of a file message");
	else
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
	{
		struct decode_ctx d = {.msg = msg, .msgsz = sizeof msg};

		ok = decode_idempotency_key(key, &d);
	}
	FUZZ_CHECK(ok == want, "key of %zu bytes: decoded %d, reference %d",
	    len, ok, want);
	if (!ok)
		check_message(msg, sizeof msg);
	free(key);
}

/* One JSON endpoint and its reference check. */
struct target {
	const struct route *route;
	void (*check)(const json_t *root, bool ok, const void *req);
};

#define CHECKER(name) \
	static void check_##name##_any(const json_t *root, bool ok, \
	    const void *req) { check_##name(root, ok, req); }
CHECKER(users_add)
CHECKER(chats_add)
CHECKER(messages_add)
CHECKER(chats_get)
CHECKER(messages_get)

static const struct target targets[] = {
	{&route_users_add, check_users_add_any},
	{&route_chats_add, check_chats_add_any},
	{&route_messages_add, check_messages_add_any},
	{&route_chats_get, check_chats_get_any},
	{&route_messages_get, check_messages_get_any},
};

/* The key through messages/add's decoder, as the worker hands it the
 * header: accepted exactly when the key alone is, and kept as sent. */
static void check_key_in_request(const uint8_t *data, size_t size)
{
	static const char body[] = "{\"chat\":1,\"author\":2,\"text\":\"t\"}";
	char *param = malloc(size + sizeof "HTTP_IDEMPOTENCY_KEY=");
	char *envp[2] = {param, NULL}, msg[256];
	struct messages_add_req req;
	struct decode_ctx d = {.envp = envp, .msg = msg, .msgsz = sizeof msg,
	    .caller = &nobody};
	json_t *root = json_loads(body, 0, NULL);
	const char *key;
	bool ok, alone;

	if (param == NULL || root == NULL)
		abort();
	memcpy(param, "HTTP_IDEMPOTENCY_KEY=", 21);
	memcpy(param + 21, data, size);
	param[21 + size] = '\0';
	key = param + 21;
	alone = decode_idempotency_key(key, &d);
	ok = route_messages_add.decode(root, &req, &d);
	FUZZ_CHECK(ok == alone, "key decoded %d in a request, %d alone", ok,
	    alone);
	if (ok)
		FUZZ_CHECK(req.idempotency_key == key, "key not borrowed");
	json_decref(root);
	free(param);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct target *t;
	unsigned char req[ROUTE_REQ_MAX];
	struct decode_ctx d;
	struct buf scratch;
	char msg[256];
	json_t *root;
	bool ok;

	if (size == 0)
		return 0;
	t = &targets[data[0] % (sizeof targets / sizeof *targets)];
	data++;
	size--;
	check_idempotency_key(data, size);
	check_key_in_request(data, size);

	/* Poison what decoding must set, so reading a field it left alone
	 * shows up as a wrong value. */
	memset(req, 0xA5, sizeof req);
	memset(msg, 'x', sizeof msg);
	root = decode_body((const char *)data, size, msg, sizeof msg);
	if (root == NULL) {
		check_message(msg, sizeof msg);
		return 0;
	}
	FUZZ_CHECK(json_is_object(root), "decode_body returned a non-object");
	FUZZ_CHECK(t->route->req_size <= sizeof req, "request struct too big");
	buf_init(&scratch);
	d = (struct decode_ctx){.scratch = &scratch, .msg = msg,
	    .msgsz = sizeof msg, .caller = &nobody};
	ok = t->route->decode(root, req, &d);
	t->check(root, ok, req);
	if (!ok)
		check_message(msg, sizeof msg);
	buf_free(&scratch);
	json_decref(root);
	return 0;
}
