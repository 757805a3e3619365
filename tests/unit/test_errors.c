/* Unit tests of error mapping (errors.c) and the JSON error body
 * (reply.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "errors.h"
#include "reply.h"

static void test_statuses(void **state)
{
	(void)state;
	assert_int_equal(api_error_status(API_BAD_REQUEST), 400);
	assert_int_equal(api_error_status(API_FORBIDDEN), 403);
	assert_int_equal(api_error_status(API_NOT_FOUND), 404);
	assert_int_equal(api_error_status(API_METHOD_NOT_ALLOWED), 405);
	assert_int_equal(api_error_status(API_CONFLICT), 409);
	assert_int_equal(api_error_status(API_PAYLOAD_TOO_LARGE), 413);
	assert_int_equal(api_error_status(API_UNAVAILABLE), 503);
	assert_int_equal(api_error_status(API_INTERNAL), 500);
	assert_int_equal(api_error_status(API_ERROR__MAX), 500);
	assert_int_equal(api_error_status(API_UNAUTHORIZED), 401);
	assert_int_equal(api_error_status(API_GONE), 410);
	assert_int_equal(api_error_status(API_IDEMPOTENCY_KEY_REUSED), 422);
	assert_int_equal(api_error_status(API_TOO_MANY_REQUESTS), 429);
}

/* Every row of the table: its own reason phrase (never another status's,
 * "Internal Server Error" only for 500), a code, and Retry-After exactly
 * for 429 and 503. */
static void test_one_row_each(void **state)
{
	int e;

	(void)state;
	for (e = API_OK; e < API_ERROR__MAX; e++) {
		int status = api_error_status((enum api_error)e);
		const char *reason = http_reason(status);

		assert_true(strcmp(reason, "Error") != 0);
		assert_true((strcmp(reason, "Internal Server Error") == 0) ==
		    (status == 500));
		assert_true((e == API_OK) == (api_error_code(
		    (enum api_error)e)[0] == '\0'));
		assert_true(api_error_retry((enum api_error)e) ==
		    (status == 429 || status == 503));
	}
	assert_string_equal(http_reason(401), "Unauthorized");
	assert_string_equal(http_reason(410), "Gone");
	assert_string_equal(http_reason(422), "Unprocessable Content");
	assert_string_equal(http_reason(429), "Too Many Requests");
	assert_string_equal(http_reason(204), "No Content");
	assert_string_equal(http_reason(200), "OK");
	/* A status chatd never sends is not dressed as another. */
	assert_string_equal(http_reason(418), "Error");
	assert_string_equal(api_error_code(API_UNAUTHORIZED), "unauthorized");
	assert_string_equal(api_error_code(API_GONE), "gone");
	assert_string_equal(api_error_code(API_IDEMPOTENCY_KEY_REUSED),
	    "idempotency_key_reused");
	assert_string_equal(api_error_code(API_TOO_MANY_REQUESTS),
	    "too_many_requests");
}

static void test_codes(void **state)
{
	(void)state;
	assert_string_equal(api_error_code(API_BAD_REQUEST), "bad_request");
	assert_string_equal(api_error_code(API_FORBIDDEN), "forbidden");
	assert_string_equal(api_error_code(API_NOT_FOUND), "not_found");
	assert_string_equal(api_error_code(API_METHOD_NOT_ALLOWED),
	    "method_not_allowed");
	assert_string_equal(api_error_code(API_CONFLICT), "conflict");
	assert_string_equal(api_error_code(API_PAYLOAD_TOO_LARGE),
	    "payload_too_large");
	assert_string_equal(api_error_code(API_UNAVAILABLE), "unavailable");
	assert_string_equal(api_error_code(API_INTERNAL), "internal");
	assert_string_equal(http_reason(201), "Created");
	assert_string_equal(http_reason(405), "Method Not Allowed");
}

static void test_error_body_is_json(void **state)
{
	struct buf b;
	json_t *root;

	(void)state;
	buf_init(&b);
	reply_error_body(&b, API_NOT_FOUND, "user \"7\"\n does not exist");
	root = json_loads(b.data, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "error")),
	    "not_found");
	assert_string_equal(json_string_value(json_object_get(root,
	    "message")), "user \"7\"\n does not exist");
	assert_int_equal(json_object_size(root), 2);
	json_decref(root);
	buf_free(&b);
}

static void test_reply_fail_keeps_message(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	assert_int_equal(reply_fail(&r, API_CONFLICT, "name %s taken", "x"),
	    API_CONFLICT);
	assert_string_equal(r.message, "name x taken");
	assert_int_equal(reply_db_error(&r, API_UNAVAILABLE), API_UNAVAILABLE);
	assert_non_null(strstr(r.message, "retry"));
	reply_free(&r);
}

static void test_reply_created(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	reply_created(&r, 42);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "{\"id\":\"42\"}\n");
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_one_row_each),
		cmocka_unit_test(test_error_body_is_json),
		cmocka_unit_test(test_reply_fail_keeps_message),
		cmocka_unit_test(test_reply_created),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
