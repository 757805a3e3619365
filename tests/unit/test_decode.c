/* Unit tests of request decoding and validation (decode.c and each
 * endpoint's decoder): every rule of API.md about the shape of a request.
 * The endpoints' files are included so that their request structs, private
 * to them, can be looked into; their route entries then come from here, not
 * from the library. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "api/users_add.c"
#include "api/chats_add.c"
#include "api/messages_add.c"
#include "api/chats_get.c"
#include "api/messages_get.c"

#include "decode.h"
#include "route.h"

static char msg[256];
static struct buf scratch;
static struct caller nobody;	/* no session */
static json_t *last;	/* the body of the last accepted request */

/* A decoding context without headers, or with envp. */
static struct decode_ctx ctx_with(char *const *envp)
{
	struct decode_ctx d = {.envp = envp, .scratch = &scratch, .msg = msg,
	    .msgsz = sizeof msg, .caller = &nobody};

	buf_reset(&scratch);
	return d;
}

/* Decodes body through route's entry into req, with the headers envp.
 * Returns whether it was accepted; strings in req stay valid until the
 * next call (they are borrowed from the body, kept in `last`). */
static bool decode_as(const struct route *rt, const char *body, void *req,
    char *const *envp)
{
	json_t *root = decode_body(body, strlen(body), msg, sizeof msg);
	struct decode_ctx d = ctx_with(envp);
	bool ok;

	json_decref(last);
	last = NULL;
	if (root == NULL)
		return false;
	assert_true(rt->req_size <= ROUTE_REQ_MAX);
	ok = rt->decode(root, req, &d);
	last = root;
	return ok;
}

static bool accepts(const struct route *rt, const char *body, void *req)
{
	return decode_as(rt, body, req, NULL);
}

static bool ok(const struct route *rt, const char *body)
{
	unsigned char req[ROUTE_REQ_MAX];

	return accepts(rt, body, req);
}

#define ROUTE_USERS_ADD (&route_users_add)
#define ROUTE_CHATS_ADD (&route_chats_add)
#define ROUTE_MESSAGES_ADD (&route_messages_add)
#define ROUTE_CHATS_GET (&route_chats_get)
#define ROUTE_MESSAGES_GET (&route_messages_get)

static void test_body(void **state)
{
	(void)state;
	assert_null(decode_body("", 0, msg, sizeof msg));
	assert_non_null(strstr(msg, "empty"));
	assert_null(decode_body("nope", 4, msg, sizeof msg));
	assert_null(decode_body("[1]", 3, msg, sizeof msg));
	assert_non_null(strstr(msg, "object"));
	assert_null(decode_body("\"x\"", 3, msg, sizeof msg));
	assert_null(decode_body("42", 2, msg, sizeof msg));
	assert_null(decode_body("{\"a\":1,\"a\":2}", 13, msg, sizeof msg));
	assert_non_null(strstr(msg, "duplicate"));
	assert_null(decode_body("{\"a\":\"\xC3\"}", 9, msg, sizeof msg));
	assert_non_null(strstr(msg, "UTF-8"));
	assert_null(decode_body("{\"a\":\"\\u0000\"}", 14, msg, sizeof msg));
	assert_null(decode_body("{\"a\":\"\\ud800\"}", 14, msg, sizeof msg));
	assert_null(decode_body("{\"a\":99999999999999999999}", 26, msg,
	    sizeof msg));
	assert_null(decode_body("{\"chat\":9223372036854775808}", 28, msg,
	    sizeof msg));
	assert_non_null(strstr(msg, "'chat'"));
	assert_null(decode_body("{\"users\":[1,-9223372036854775809]}", 34,
	    msg, sizeof msg));
	assert_non_null(strstr(msg, "'users'"));
	assert_null(decode_body("   ", 3, msg, sizeof msg));
	json_decref(decode_body(" {} ", 4, msg, sizeof msg));
}

static void test_users_add(void **state)
{
	struct users_add_req req;
	char name[300];

	(void)state;
	assert_true(accepts(ROUTE_USERS_ADD, "{\"username\":\"user_1\"}", &req));
	assert_string_equal(req.username, "user_1");
	/* Borrowed from the body, not copied. */
	assert_ptr_equal(req.username,
	    json_string_value(json_object_get(last, "username")));
	assert_true(accepts(ROUTE_USERS_ADD,
	    "{\"username\":\" a \",\"extra\":[1]}", &req));
	assert_string_equal(req.username, " a ");
	assert_false(ok(ROUTE_USERS_ADD, "{}"));
	assert_non_null(strstr(msg, "username"));
	assert_false(ok(ROUTE_USERS_ADD, "{\"username\":1}"));
	assert_false(ok(ROUTE_USERS_ADD, "{\"username\":null}"));
	assert_false(ok(ROUTE_USERS_ADD, "{\"username\":\"\"}"));
	assert_false(ok(ROUTE_USERS_ADD, "{\"username\":\" \\t\\n\"}"));
	assert_false(ok(ROUTE_USERS_ADD, "{\"username\":\"\\u00a0\"}"));
	/* 64 code points of two bytes each pass; 65 do not. */
	strcpy(name, "{\"username\":\"");
	for (int i = 0; i < 64; i++)
		strcat(name, "\xC3\xA9");
	strcat(name, "\"}");
	assert_true(ok(ROUTE_USERS_ADD, name));
	name[strlen(name) - 2] = '\0';
	strcat(name, "x\"}");
	assert_false(ok(ROUTE_USERS_ADD, name));
	assert_non_null(strstr(msg, "too long"));
}

static void test_chats_add(void **state)
{
	struct chats_add_req req;

	(void)state;
	assert_true(accepts(ROUTE_CHATS_ADD,
	    "{\"name\":\"c\",\"users\":[\"1\",2,\"2\",9223372036854775807]}",
	    &req));
	assert_string_equal(req.name, "c");
	assert_int_equal(req.nusers, 4);
	assert_string_equal(req.users, "{1,2,2,9223372036854775807}");
	assert_true(accepts(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[]}",
	    &req));
	assert_string_equal(req.users, "{}");
	assert_int_equal(req.nusers, 0);
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\"}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"users\":[]}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":\"1\"}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[\"abc\"]}"));
	assert_non_null(strstr(msg, "users[0]"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[1,4.2]}"));
	assert_non_null(strstr(msg, "users[1]"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[-1]}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[null]}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[[1]]}"));
	assert_false(ok(ROUTE_CHATS_ADD, "{\"name\":\"\",\"users\":[]}"));
}

static void test_messages_add(void **state)
{
	struct messages_add_req req;
	static const char body[] = "{\"chat\":\"1\",\"author\":2,\"text\":\"hi\"}";
	char *const with_key[] = {"HTTP_IDEMPOTENCY_KEY=k-1", NULL};
	char *const bad_key[] = {"HTTP_IDEMPOTENCY_KEY=", NULL};

	(void)state;
	assert_true(accepts(ROUTE_MESSAGES_ADD, body, &req));
	assert_int_equal(req.chat, 1);
	assert_int_equal(req.author, 2);
	assert_string_equal(req.text, "hi");
	assert_null(req.idempotency_key);
	/* The key is the endpoint's own header. */
	assert_true(decode_as(ROUTE_MESSAGES_ADD, body, &req, with_key));
	assert_string_equal(req.idempotency_key, "k-1");
	assert_false(decode_as(ROUTE_MESSAGES_ADD, body, &req, bad_key));
	assert_non_null(strstr(msg, "Idempotency-Key"));
	assert_false(ok(ROUTE_MESSAGES_ADD, "{\"chat\":\"1\",\"author\":2}"));
	assert_false(ok(ROUTE_MESSAGES_ADD,
	    "{\"chat\":true,\"author\":2,\"text\":\"hi\"}"));
	assert_non_null(strstr(msg, "chat"));
	assert_false(ok(ROUTE_MESSAGES_ADD,
	    "{\"chat\":1,\"author\":\"0x2a\",\"text\":\"hi\"}"));
	assert_non_null(strstr(msg, "author"));
	assert_false(ok(ROUTE_MESSAGES_ADD,
	    "{\"chat\":1,\"author\":1,\"text\":\"  \"}"));
}

static void test_gets(void **state)
{
	struct chats_get_req cg;
	struct messages_get_req req;

	(void)state;
	assert_true(accepts(ROUTE_CHATS_GET, "{\"user\":\"5\"}", &cg));
	assert_int_equal(cg.user, 5);
	assert_false(ok(ROUTE_CHATS_GET, "{\"user\":\"\"}"));
	assert_false(ok(ROUTE_CHATS_GET, "{}"));

	assert_true(accepts(ROUTE_MESSAGES_GET, "{\"chat\":1}", &req));
	assert_int_equal(req.limit, 0);
	assert_int_equal(req.after, 0);
	assert_true(req.before == INT64_MAX);
	assert_false(req.newest);
	assert_true(accepts(ROUTE_MESSAGES_GET,
	    "{\"chat\":1,\"limit\":10,\"before\":\"50\"}", &req));
	assert_int_equal(req.limit, 10);
	assert_int_equal(req.before, 50);
	assert_true(req.newest);
	assert_true(accepts(ROUTE_MESSAGES_GET,
	    "{\"chat\":1,\"limit\":1000,\"after\":7}", &req));
	assert_false(req.newest);
	assert_int_equal(req.after, 7);
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":0}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":1001}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":\"10\"}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":1.5}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"after\":\"x\"}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"before\":-3}"));
}

static void test_idempotency_key(void **state)
{
	struct decode_ctx d = ctx_with(NULL);
	char key[300];

	(void)state;
	assert_true(decode_idempotency_key("abc-123", &d));
	assert_false(decode_idempotency_key("", &d));
	assert_false(decode_idempotency_key("a\x01", &d));
	assert_false(decode_idempotency_key("\xC3\xA9", &d));
	memset(key, 'k', 255);
	key[255] = '\0';
	assert_true(decode_idempotency_key(key, &d));
	key[255] = 'k';
	key[256] = '\0';
	assert_false(decode_idempotency_key(key, &d));
}

/* An out-of-range integer is named by its field, whatever field it is:
 * no list of id fields to keep up to date. */
static void test_overflow_names_any_field(void **state)
{
	static const char a[] = "{\"message\":\"x\",\"reply_to\":"
	    "18446744073709551616}";
	static const char b[] = "{\"members\":[1,2,-9223372036854775809]}";

	(void)state;
	assert_null(decode_body(a, strlen(a), msg, sizeof msg));
	assert_non_null(strstr(msg, "'reply_to'"));
	assert_null(decode_body(b, strlen(b), msg, sizeof msg));
	assert_non_null(strstr(msg, "'members'"));
	/* A key that could not be a field of chatd's is not quoted: the
	 * message stays short and valid UTF-8 (found by fuzz_decode, where a
	 * long key was cut inside a character). */
	{
		static const char c[] = "{\"\u00e9\u00e9\u00e9\":1e999999}";
		char d[300];

		assert_null(decode_body(c, strlen(c), msg, sizeof msg));
		snprintf(d, sizeof d, "{\"%0200d\":99999999999999999999}", 7);
		assert_null(decode_body(d, strlen(d), msg, sizeof msg));
		assert_string_equal(msg, "a number in the request body is out "
		    "of range");
	}
}

/* The generic helpers on their own. */
static void test_helpers(void **state)
{
	struct decode_ctx d = ctx_with(NULL);
	json_t *o = json_loads("{\"n\":7,\"s\":\"x\",\"ids\":[3,\"4\"]}", 0,
	    NULL);
	const char *lit = NULL;
	int64_t id = 42;
	size_t n = 0;
	int v = -1;

	(void)state;
	assert_true(decode_int(o, "n", 1, 10, &v, &d));
	assert_int_equal(v, 7);
	assert_false(decode_int(o, "n", 8, 10, &v, &d));
	assert_non_null(strstr(msg, "'n'"));
	assert_true(decode_int(o, "absent", 1, 10, &v, &d));
	assert_int_equal(v, 7);
	assert_false(decode_int(o, "s", 1, 10, &v, &d));
	assert_true(decode_id(o, "absent", false, &id, &d));
	assert_int_equal(id, 42);
	assert_false(decode_id(o, "absent", true, &id, &d));
	assert_non_null(strstr(msg, "'absent' is required"));
	assert_true(decode_ids(o, "ids", &lit, &n, &d));
	assert_string_equal(lit, "{3,4}");
	assert_int_equal(n, 2);
	assert_false(decode_ids(o, "s", &lit, &n, &d));
	assert_null(decode_header(&d, "HTTP_X"));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_users_add),
		cmocka_unit_test(test_chats_add),
		cmocka_unit_test(test_messages_add),
		cmocka_unit_test(test_gets),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_overflow_names_any_field),
		cmocka_unit_test(test_helpers),
	};
	int rc;

	buf_init(&scratch);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(last);
	buf_free(&scratch);
	return rc;
}
