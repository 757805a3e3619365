/* Unit tests of routing (route.c): the table, path lookup, and what a
 * route entry decides before any decoder runs (method, session). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
#include "reply.h"
#include "route.h"

static const struct route *find(const char *path)
{
	return route_find(path, strlen(path));
}

static void test_known_paths(void **state)
{
	(void)state;
	assert_ptr_equal(find("/users/add"), &route_users_add);
	assert_ptr_equal(find("/chats/add"), &route_chats_add);
	assert_ptr_equal(find("/messages/add"), &route_messages_add);
	assert_ptr_equal(find("/chats/get"), &route_chats_get);
	assert_ptr_equal(find("/messages/get"), &route_messages_get);
	assert_ptr_equal(find("/health"), &route_health);
	assert_string_equal(find("/messages/get")->method, "POST");
	assert_string_equal(find("/health")->method, "GET");
	assert_int_equal(find("/users/add")->body, BODY_JSON);
	assert_int_equal(find("/health")->body, BODY_NONE);
	assert_ptr_equal(find("/auth/signup"), &route_auth_signup);
	assert_ptr_equal(find("/auth/login"), &route_auth_login);
	assert_ptr_equal(find("/auth/logout"), &route_auth_logout);
	assert_ptr_equal(find("/auth/logout_all"), &route_auth_logout_all);
	assert_ptr_equal(find("/auth/password"), &route_auth_password);
	assert_ptr_equal(find("/auth/sessions"), &route_auth_sessions);
}

/* Files: /files/upload exactly, any longer /files/ path a download (the
 * prefix route), and nothing else near them. */
static void test_file_paths(void **state)
{
	(void)state;
	assert_ptr_equal(find("/files/upload"), &route_files_upload);
	assert_ptr_equal(find("/users/avatar"), &route_users_avatar);
	assert_ptr_equal(find("/files/1/cat.png"), &route_files_get);
	assert_ptr_equal(find("/files/upload/"), &route_files_get);
	assert_ptr_equal(find("/files/uploadx"), &route_files_get);
	assert_ptr_equal(find("/files/x"), &route_files_get);
	assert_ptr_equal(find("/files/"), &route_files_get);
	assert_null(find("/files"));
	assert_null(find("/filesx/1/a"));
	assert_null(find("/file/1/a"));
	assert_null(find("/FILES/1/a"));
	assert_string_equal(route_files_get.method, "GET");
	assert_string_equal(route_files_upload.method, "POST");
	assert_int_equal(route_files_upload.body, BODY_NONE);
}

/* Which routes need a session (API.md 2.1): signup, login and health
 * never; the other /auth/ ones always; section 1's five only with --auth
 * required. */
static void test_sessions_needed(void **state)
{
	static const char *const always[] = {"/auth/logout",
	    "/auth/logout_all", "/auth/password", "/auth/sessions",
	    "/users/me", "/users/list"};
	static const char *const never[] = {"/auth/signup", "/auth/login",
	    "/health"};
	static const char *const if_required[] = {"/users/add", "/chats/add",
	    "/messages/add", "/chats/get", "/messages/get"};
	enum auth_mode saved = auth_config.mode;
	size_t i;

	(void)state;
	for (i = 0; i < route_count; i++)
		assert_true(route_table[i]->session == SESSION_ALWAYS ||
		    route_table[i]->session == SESSION_NEVER ||
		    route_table[i]->session == SESSION_IF_REQUIRED);
	for (auth_config.mode = AUTH_OPEN; ; auth_config.mode = AUTH_REQUIRED) {
		bool req = auth_config.mode == AUTH_REQUIRED;

		for (i = 0; i < sizeof always / sizeof *always; i++)
			assert_true(route_needs_session(find(always[i])));
		for (i = 0; i < sizeof never / sizeof *never; i++)
			assert_false(route_needs_session(find(never[i])));
		for (i = 0; i < sizeof if_required / sizeof *if_required; i++)
			assert_int_equal(route_needs_session(
			    find(if_required[i])), req);
		if (req)
			break;
	}
	auth_config.mode = saved;
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
	assert_null(find("/health/"));
}

/* A prefix route takes every path that continues it, after the exact
 * paths: /files/upload is its own route, /files/<anything> the
 * download's. */
static void test_prefix_routes(void **state)
{
	(void)state;
	assert_ptr_equal(find("/files/upload"), &route_files_upload);
	assert_ptr_equal(find("/files/1/a.png"), &route_files_get);
	assert_ptr_equal(find("/files/upload/x"), &route_files_get);
	assert_ptr_equal(find("/files/x"), &route_files_get);
	assert_true(route_files_get.prefix);
	assert_false(route_files_upload.prefix);
	assert_string_equal(find("/files/1/a")->method, "GET");
	assert_null(find("/files"));
	assert_null(find("/filesx/1/a"));
	/* Only the length given counts: "/files" of "/files/1". */
	assert_null(route_find("/files/1", 6));
}

static void test_length_bounds_the_match(void **state)
{
	(void)state;
	/* The worker passes the path up to '?': only that much counts. */
	assert_ptr_equal(route_find("/chats/get?x=1", 10), &route_chats_get);
	assert_null(route_find("/chats/get", 9));
	/* Bytes past a NUL still count (found by fuzz_path): no route is
	 * matched, and nothing past a route's own path is read. */
	assert_null(route_find("/users/add\0/users/add", 21));
	assert_null(route_find("/health\0", 8));
}

static void test_path_source(void **state)
{
	size_t len;
	const char *p;

	(void)state;
	p = route_path("/users/add", "/users/add?x=1", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(p, "/users/add", len);
	p = route_path(NULL, "/chats/get?a=b", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(p, "/chats/get", len);
	p = route_path("", "/x", &len);
	assert_int_equal(len, 2);
	p = route_path(NULL, NULL, &len);
	assert_int_equal(len, 0);
	/* nginx decodes %2F into the DOCUMENT_URI "/users/add": refused. */
	route_path("/users/add", "/users%2Fadd", &len);
	assert_int_equal(len, 0);
	route_path("/users/add", "/users%2fadd?x", &len);
	assert_int_equal(len, 0);
	/* Only in the path: a query may hold anything. */
	route_path("/users/add", "/users/add?next=%2F", &len);
	assert_int_equal(len, 10);
}

/* Every entry of the real table holds together; statements prepared on
 * connect have unique names. */
static void test_table_is_consistent(void **state)
{
	char why[256] = "";
	size_t i, nq = 0;

	(void)state;
	assert_true(route_table_check(why, sizeof why));
	assert_int_equal(route_count, 33);
	for (i = 0; i < route_count; i++) {
		const struct query *const *q;

		assert_true(route_table[i]->req_size <= ROUTE_REQ_MAX);
		for (q = route_table[i]->queries; q && *q; q++, nq++)
			assert_true(strstr((*q)->sql, "SELECT") ||
			    strstr((*q)->sql, "INSERT") ||
			    strstr((*q)->sql, "DELETE"));
	}
	assert_true(nq >= 10);
}

static enum api_error no_handler(struct db *db, const void *req,
    struct reply *r)
{
	(void)db, (void)req, (void)r;
	return API_INTERNAL;
}

/* The method field: 405 with Allow naming the route's one method. */
static void test_admit_method(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	assert_int_equal(route_admit(&route_users_add, "POST", false, &r),
	    API_OK);
	assert_int_equal(r.headers_len, 0);
	assert_int_equal(route_admit(&route_users_add, "GET", false, &r),
	    API_METHOD_NOT_ALLOWED);
	assert_non_null(strstr(r.headers, "Allow: POST\r\n"));
	assert_non_null(strstr(r.message, "/users/add accepts only POST"));
	reply_reset(&r, NULL);
	assert_int_equal(route_admit(&route_health, "POST", false, &r),
	    API_METHOD_NOT_ALLOWED);
	assert_string_equal(r.headers, "Allow: GET, HEAD\r\n");
	reply_reset(&r, NULL);
	/* A GET route takes HEAD; a POST route does not. */
	assert_int_equal(route_admit(&route_health, "HEAD", false, &r), API_OK);
	assert_int_equal(route_admit(&route_users_add, "HEAD", false, &r),
	    API_METHOD_NOT_ALLOWED);
	reply_reset(&r, NULL);
	assert_int_equal(route_admit(&route_health, NULL, false, &r),
	    API_METHOD_NOT_ALLOWED);
	reply_free(&r);
}

/* The session field: a route that needs one answers 401 with
 * WWW-Authenticate without a session (405 still comes first), and passes
 * with one. */
static void test_admit_session(void **state)
{
	const struct route needs = {.path = "/test/session", .method = "POST",
	    .session = SESSION_ALWAYS, .body = BODY_NONE,
	    .handle = no_handler};
	struct reply r;

	(void)state;
	reply_init(&r, NULL);
	assert_int_equal(route_admit(&needs, "POST", false, &r),
	    API_UNAUTHORIZED);
	assert_string_equal(r.headers, "WWW-Authenticate: Bearer\r\n");
	assert_int_equal(api_error_status(API_UNAUTHORIZED), 401);
	reply_reset(&r, NULL);
	assert_int_equal(route_admit(&needs, "GET", false, &r),
	    API_METHOD_NOT_ALLOWED);
	reply_reset(&r, NULL);
	assert_int_equal(route_admit(&needs, "POST", true, &r), API_OK);
	assert_int_equal(r.headers_len, 0);
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_paths),
		cmocka_unit_test(test_file_paths),
		cmocka_unit_test(test_unknown_paths),
		cmocka_unit_test(test_sessions_needed),
		cmocka_unit_test(test_length_bounds_the_match),
		cmocka_unit_test(test_prefix_routes),
		cmocka_unit_test(test_path_source),
		cmocka_unit_test(test_table_is_consistent),
		cmocka_unit_test(test_admit_method),
		cmocka_unit_test(test_admit_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
