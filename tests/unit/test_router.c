/* Unit tests of routing (router.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "handlers.h"
#include "router.h"

static const struct route *find(const char *path)
{
	return router_find(path, strlen(path));
}

static void test_known_paths(void **state)
{
	(void)state;
	assert_int_equal(find("/users/add")->id, ROUTE_USERS_ADD);
	assert_ptr_equal(find("/users/add")->handle, users_add);
	assert_int_equal(find("/chats/add")->id, ROUTE_CHATS_ADD);
	assert_int_equal(find("/messages/add")->id, ROUTE_MESSAGES_ADD);
	assert_ptr_equal(find("/messages/add")->handle, messages_add);
	assert_int_equal(find("/chats/get")->id, ROUTE_CHATS_GET);
	assert_int_equal(find("/messages/get")->id, ROUTE_MESSAGES_GET);
	assert_ptr_equal(find("/messages/get")->handle, messages_get);
}

static void test_unknown_paths(void **state)
{
	(void)state;
	assert_null(find(""));
	assert_null(find("/"));
	assert_null(find("/users"));
	assert_null(find("/users/add/"));
	assert_null(find("/USERS/ADD"));
	assert_null(find("/users/addx"));
	assert_null(find("users/add"));
}

static void test_length_bounds_the_match(void **state)
{
	(void)state;
	/* The worker passes the path up to '?': only that much counts. */
	assert_int_equal(router_find("/chats/get?x=1", 10)->id,
	    ROUTE_CHATS_GET);
	assert_null(router_find("/chats/get", 9));
}

static void test_path_source(void **state)
{
	size_t len;
	const char *p;

	(void)state;
	p = router_path("/users/add", "/users/add?x=1", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(p, "/users/add", len);
	p = router_path(NULL, "/chats/get?a=b", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(p, "/chats/get", len);
	p = router_path("", "/x", &len);
	assert_int_equal(len, 2);
	p = router_path(NULL, NULL, &len);
	assert_int_equal(len, 0);
	/* nginx decodes %2F into the DOCUMENT_URI "/users/add": refused. */
	router_path("/users/add", "/users%2Fadd", &len);
	assert_int_equal(len, 0);
	router_path("/users/add", "/users%2fadd?x", &len);
	assert_int_equal(len, 0);
	/* Only in the path: a query may hold anything. */
	router_path("/users/add", "/users/add?next=%2F", &len);
	assert_int_equal(len, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_paths),
		cmocka_unit_test(test_unknown_paths),
		cmocka_unit_test(test_length_bounds_the_match),
		cmocka_unit_test(test_path_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
