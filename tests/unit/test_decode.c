/* Unit tests of request decoding and validation (decode.c): every rule of
 * API.md about the shape of a request body. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"

static char msg[256];

/* Decodes body for route; returns whether it was accepted. */
static bool accepts(enum route_id route, const char *body, union request *req)
{
	json_t *root = decode_body(body, strlen(body), msg, sizeof msg);
	bool ok;

	if (root == NULL)
		return false;
	ok = decode_request(route, root, req, msg, sizeof msg);
	if (ok)
		request_free(route, req);
	json_decref(root);
	return ok;
}

static bool ok(enum route_id route, const char *body)
{
	union request req;

	return accepts(route, body, &req);
}

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
	union request req;
	char name[300];

	(void)state;
	assert_true(accepts(ROUTE_USERS_ADD, "{\"username\":\"user_1\"}", &req));
	assert_true(ok(ROUTE_USERS_ADD, "{\"username\":\" a \",\"extra\":[1]}"));
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
	union request req;
	json_t *root;
	static const char body[] = "{\"name\":\"c\",\"users\":[\"1\",2,\"2\"]}";

	(void)state;
	root = decode_body(body, sizeof body - 1, msg, sizeof msg);
	assert_non_null(root);
	assert_true(decode_request(ROUTE_CHATS_ADD, root, &req, msg,
	    sizeof msg));
	assert_int_equal(req.chats_add.nusers, 3);
	assert_int_equal(req.chats_add.users[0], 1);
	assert_int_equal(req.chats_add.users[1], 2);
	request_free(ROUTE_CHATS_ADD, &req);
	json_decref(root);

	assert_true(ok(ROUTE_CHATS_ADD, "{\"name\":\"c\",\"users\":[]}"));
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
	union request req;

	(void)state;
	assert_true(accepts(ROUTE_MESSAGES_ADD,
	    "{\"chat\":\"1\",\"author\":2,\"text\":\"hi\"}", &req));
	assert_int_equal(req.messages_add.chat, 1);
	assert_int_equal(req.messages_add.author, 2);
	assert_null(req.messages_add.idempotency_key);
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
	union request req;

	(void)state;
	assert_true(accepts(ROUTE_CHATS_GET, "{\"user\":\"5\"}", &req));
	assert_int_equal(req.chats_get.user, 5);
	assert_false(ok(ROUTE_CHATS_GET, "{\"user\":\"\"}"));
	assert_false(ok(ROUTE_CHATS_GET, "{}"));

	assert_true(accepts(ROUTE_MESSAGES_GET, "{\"chat\":1}", &req));
	assert_int_equal(req.messages_get.limit, 0);
	assert_int_equal(req.messages_get.after, 0);
	assert_true(req.messages_get.before == INT64_MAX);
	assert_false(req.messages_get.newest);
	assert_true(accepts(ROUTE_MESSAGES_GET,
	    "{\"chat\":1,\"limit\":10,\"before\":\"50\"}", &req));
	assert_int_equal(req.messages_get.limit, 10);
	assert_int_equal(req.messages_get.before, 50);
	assert_true(req.messages_get.newest);
	assert_true(accepts(ROUTE_MESSAGES_GET,
	    "{\"chat\":1,\"limit\":1000,\"after\":7}", &req));
	assert_false(req.messages_get.newest);
	assert_int_equal(req.messages_get.after, 7);
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":0}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":1001}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":\"10\"}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"limit\":1.5}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"after\":\"x\"}"));
	assert_false(ok(ROUTE_MESSAGES_GET, "{\"chat\":1,\"before\":-3}"));
}

static void test_idempotency_key(void **state)
{
	char key[300];

	(void)state;
	assert_true(decode_idempotency_key("abc-123", msg, sizeof msg));
	assert_false(decode_idempotency_key("", msg, sizeof msg));
	assert_false(decode_idempotency_key("a\x01", msg, sizeof msg));
	assert_false(decode_idempotency_key("\xC3\xA9", msg, sizeof msg));
	memset(key, 'k', 255);
	key[255] = '\0';
	assert_true(decode_idempotency_key(key, msg, sizeof msg));
	key[255] = 'k';
	key[256] = '\0';
	assert_false(decode_idempotency_key(key, msg, sizeof msg));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
