/*
 * Sessions (API.md 2.1) through nginx -> chatd -> PostgreSQL: signup,
 * login, logout, logout_all, password, sessions; bearer tokens and the
 * cookie; a token acting as its user on section 1's endpoints; the limit
 * of failed logins per account (its default, 100, within a window short
 * enough, CHATD_SERVE_ARGS, that the limit and its end can be seen).
 */
#include "harness.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The limit the stacks here run with (--login-failures, --login-window):
 * chatd's default is 100 an hour. FAILURES_MAX wrong logins must fit in
 * the window whatever the machine's load, and 100 password hashes did
 * not always fit in 20 s on a busy one (the window let the first go, and
 * the 101st login was taken); 10 take a second or two. */
#define FAILURES_MAX 10
#define FAILURE_WINDOW_S 20
#define PASSWORD "correct horse battery"
#define TOKEN_CHARS 43
#define AUTH_WORKERS 2
#define MAX_KIDS 64

struct account {
	char name[64];
	char id[ID_LEN];
	char token[64];
};

static const char *field(const struct http_reply *r, const char *name)
{
	json_t *v = r->json ? json_object_get(r->json, name) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long signup(const char *name, const char *password,
		   struct http_reply *out)
{
	json_t *req = json_pack("{s:s, s:s}", "username", name, "password",
				password);

	return http_post_json("/auth/signup", req, NULL, out);
}

static long login(const char *name, const char *password,
		  struct http_reply *out)
{
	json_t *req = json_pack("{s:s, s:s}", "username", name, "password",
				password);

	return http_post_json("/auth/login", req, NULL, out);
}

/* Every token the suite was given, for test_tokens_not_logged. */
static char issued[512][TOKEN_CHARS + 1];
static int nissued;

/* The answer of signup and login: {"id", "token", "expires_at"}. */
static void check_session(const struct http_reply *r, long status,
			  struct account *a, const char *what)
{
	const char *id, *token, *expires;

	check_status(r, status, what);
	id = field(r, "id");
	token = field(r, "token");
	expires = field(r, "expires_at");
	if (id == NULL || !is_canonical_id(id) || token == NULL ||
	    strlen(token) != TOKEN_CHARS ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789-_") != TOKEN_CHARS ||
	    expires == NULL || !is_rfc3339_micro(expires))
		fail_msg_at("%s: not {id, token, expires_at}: %s", what,
			    r->body);
	/* 30 days ahead, give or take a minute. */
	if (ts_age_seconds(expires) < 30 * 86400 - 60 ||
	    ts_age_seconds(expires) > 30 * 86400 + 60)
		fail_msg_at("%s: expires_at %s is not 30 days ahead", what,
			    expires);
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->token, sizeof(a->token), "%s", token);
	if (nissued < (int)(sizeof(issued) / sizeof(issued[0])))
		snprintf(issued[nissued++], sizeof(issued[0]), "%s", token);
}

static void must_account(const char *prefix, struct account *a)
{
	struct http_reply r;

	uniq_name(a->name, sizeof(a->name), prefix);
	signup(a->name, PASSWORD, &r);
	check_session(&r, 201, a, "signup");
	http_reply_free(&r);
}

/* 401 unauthorized with WWW-Authenticate: Bearer, by a raw request so
 * that the header can be read. */
static void check_refused_raw(const char *token, const char *path)
{
	char req[512], www[64], *headers = NULL;
	struct http_reply r;
	int n;

	n = snprintf(req, sizeof(req),
		     "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		     "Authorization: Bearer %s\r\nContent-Length: 2\r\n\r\n{}",
		     path, token);
	http_raw(&the_stack, req, (size_t)n, false, &r, &headers);
	check_error(&r, 401, "unauthorized", path);
	assert_true(header_value(headers, "WWW-Authenticate", www,
				 sizeof(www)));
	assert_string_equal(www, "Bearer");
	free(headers);
	http_reply_free(&r);
}

static void test_signup_and_login(void **state)
{
	struct account a, b;
	struct http_reply r;

	(void)state;
	must_account("signup", &a);

	signup(a.name, PASSWORD, &r);
	check_error(&r, 409, "conflict", "signup of a taken name");
	http_reply_free(&r);

	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &b, "login");
	assert_string_equal(a.id, b.id);
	if (strcmp(a.token, b.token) == 0)
		fail_msg_at("login gave the token of signup again");
	http_reply_free(&r);
}

/* Unknown user and wrong password: the same status and message. */
static void test_login_refusals(void **state)
{
	struct http_reply wrong, unknown, nopw;
	struct account a;
	char name[64], plain[ID_LEN];

	(void)state;
	must_account("refusal", &a);
	login(a.name, "not the password", &wrong);
	check_error(&wrong, 401, "unauthorized", "wrong password");
	uniq_name(name, sizeof(name), "nobody");
	login(name, PASSWORD, &unknown);
	check_error(&unknown, 401, "unauthorized", "unknown user");
	assert_string_equal(field(&wrong, "message"),
			    field(&unknown, "message"));
	/* A user of users/add has no password. */
	uniq_name(name, sizeof(name), "plain");
	assert_int_equal(api_user_add(name, plain), 201);
	login(name, PASSWORD, &nopw);
	check_error(&nopw, 401, "unauthorized", "user without password");
	assert_string_equal(field(&nopw, "message"), field(&wrong, "message"));
	http_reply_free(&wrong);
	http_reply_free(&unknown);
	http_reply_free(&nopw);
}

static void test_password_lengths(void **state)
{
	static const struct {
		size_t len;
		long status;
	} cases[] = {{7, 400}, {8, 201}, {1024, 201}, {1025, 400}};
	struct http_reply r;
	char name[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *pw = str_repeat("p", cases[i].len);

		uniq_name(name, sizeof(name), "pwlen");
		signup(name, pw, &r);
		check_status(&r, cases[i].status, "password length");
		http_reply_free(&r);
		if (cases[i].status == 201) {
			login(name, pw, &r);
			check_status(&r, 200, "login, password length");
			http_reply_free(&r);
		}
		free(pw);
	}
}

static void test_sessions_logout(void **state)
{
	struct account a, second;
	struct http_reply r;
	json_t *list;
	size_t i, current = 0;

	(void)state;
	must_account("sessions", &a);
	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &second, "login");
	http_reply_free(&r);

	http_post_as(a.token, "/auth/sessions", "{}", &r);
	check_status(&r, 200, "auth/sessions");
	list = r.json;
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), 2);
	for (i = 0; i < json_array_size(list); i++) {
		json_t *s = json_array_get(list, i);

		assert_true(is_canonical_id(json_string_value(
			json_object_get(s, "id"))));
		assert_true(is_rfc3339_micro(json_string_value(
			json_object_get(s, "last_used_at"))));
		current += json_is_true(json_object_get(s, "current"));
	}
	assert_int_equal(current, 1);
	/* The first is the signup's, which asked. */
	assert_true(json_is_true(json_object_get(json_array_get(list, 0),
						 "current")));
	http_reply_free(&r);

	http_post_as(a.token, "/auth/logout", "{}", &r);
	check_status(&r, 204, "logout");
	http_reply_free(&r);
	check_refused_raw(a.token, "/auth/sessions");
	http_post_as(second.token, "/auth/sessions", "{}", &r);
	check_status(&r, 200, "the other session after logout");
	assert_int_equal(json_array_size(r.json), 1);
	http_reply_free(&r);
}

static void test_logout_all(void **state)
{
	struct account a, b;
	struct http_reply r;

	(void)state;
	must_account("logoutall", &a);
	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &b, "login");
	http_reply_free(&r);
	http_post_as(b.token, "/auth/logout_all", "{}", &r);
	check_status(&r, 204, "logout_all");
	http_reply_free(&r);
	check_refused_raw(a.token, "/auth/sessions");
	check_refused_raw(b.token, "/auth/sessions");
}

static void test_password_change(void **state)
{
	struct account a, b, c;
	struct http_reply r;

	(void)state;
	must_account("passwd", &a);
	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &b, "login");
	http_reply_free(&r);

	http_post_as(a.token, "/auth/password", "{\"password\":\"wrong one!\","
		"\"new_password\":\"a new password\"}", &r);
	check_error(&r, 401, "unauthorized", "password change, wrong password");
	http_reply_free(&r);

	http_post_as(a.token, "/auth/password", "{\"password\":\"" PASSWORD "\","
		"\"new_password\":\"a new password\"}", &r);
	check_status(&r, 204, "password change");
	http_reply_free(&r);
	/* Every other session has ended; this one goes on. */
	check_refused_raw(b.token, "/auth/sessions");
	http_post_as(a.token, "/auth/sessions", "{}", &r);
	check_status(&r, 200, "the changing session");
	http_reply_free(&r);
	login(a.name, PASSWORD, &r);
	check_error(&r, 401, "unauthorized", "login with the old password");
	http_reply_free(&r);
	login(a.name, "a new password", &r);
	check_session(&r, 200, &c, "login with the new password");
	http_reply_free(&r);
}

static void test_bad_tokens(void **state)
{
	static const char *const headers[] = {
		"Authorization: Bearer abc",
		"Authorization: Bearer "
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Authorization: Basic dXNlcjpwYXNz",
		"Authorization: Bearer "
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*",
	};
	struct http_reply r;
	size_t i;

	(void)state;
	http_post("/auth/sessions", "{}", 2, NULL, &r);
	check_error(&r, 401, "unauthorized", "no token");
	http_reply_free(&r);
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		http_post("/auth/sessions", "{}", 2, headers[i], &r);
		check_error(&r, 401, "unauthorized", headers[i]);
		http_reply_free(&r);
		/* Section 1's endpoints too: a token sent must be valid. */
		http_post("/users/add", "{\"username\":\"x\"}", 16, headers[i],
			  &r);
		check_error(&r, 401, "unauthorized", headers[i]);
		http_reply_free(&r);
	}
}

/* The cookie of signup authenticates, but a POST by cookie must be
 * application/json. */
static void test_cookie(void **state)
{
	char req[1024], cookie[256], *headers = NULL, *semi;
	struct http_reply r;
	char name[64];
	int n;

	(void)state;
	uniq_name(name, sizeof(name), "cookie");
	{
		char b[256];
		int bl = snprintf(b, sizeof(b), "{\"username\":\"%s\","
				  "\"password\":\"" PASSWORD "\"}", name);

		n = snprintf(req, sizeof(req),
			     "POST /auth/signup HTTP/1.1\r\nHost: x\r\n"
			     "Connection: close\r\nContent-Length: %d\r\n\r\n"
			     "%s", bl, b);
	}
	http_raw(&the_stack, req, (size_t)n, false, &r, &headers);
	check_status(&r, 201, "signup");
	assert_true(header_value(headers, "Set-Cookie", cookie,
				 sizeof(cookie)));
	assert_non_null(strstr(cookie, "HttpOnly"));
	assert_non_null(strstr(cookie, "SameSite=Strict"));
	assert_non_null(strstr(cookie, "Path=/"));
	assert_null(strstr(cookie, "Secure"));	/* plain HTTP */
	assert_int_equal(strncmp(cookie, "chatd_session=", 14), 0);
	semi = strchr(cookie, ';');
	assert_non_null(semi);
	*semi = '\0';
	assert_string_equal(cookie + 14, field(&r, "token"));
	free(headers);
	http_reply_free(&r);

	n = snprintf(req, sizeof(req),
		     "POST /auth/sessions HTTP/1.1\r\nHost: x\r\n"
		     "Connection: close\r\nCookie: a=b; %s; c=d\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: 2\r\n\r\n{}", cookie);
	http_raw(&the_stack, req, (size_t)n, false, &r, NULL);
	check_status(&r, 200, "sessions by cookie");
	http_reply_free(&r);

	n = snprintf(req, sizeof(req),
		     "POST /auth/sessions HTTP/1.1\r\nHost: x\r\n"
		     "Connection: close\r\nCookie: %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: 2\r\n\r\n{}", cookie);
	http_raw(&the_stack, req, (size_t)n, false, &r, NULL);
	check_error(&r, 403, "forbidden", "cookie without application/json");
	http_reply_free(&r);

	n = snprintf(req, sizeof(req),
		     "POST /auth/sessions HTTP/1.1\r\nHost: x\r\n"
		     "Connection: close\r\nCookie: %s\r\n"
		     "Content-Length: 2\r\n\r\n{}", cookie);
	http_raw(&the_stack, req, (size_t)n, false, &r, NULL);
	check_error(&r, 403, "forbidden", "cookie without Content-Type");
	http_reply_free(&r);

	/* logout clears the cookie. */
	n = snprintf(req, sizeof(req),
		     "POST /auth/logout HTTP/1.1\r\nHost: x\r\n"
		     "Connection: close\r\nCookie: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: 2\r\n\r\n{}", cookie);
	http_raw(&the_stack, req, (size_t)n, false, &r, &headers);
	check_status(&r, 204, "logout by cookie");
	assert_true(header_value(headers, "Set-Cookie", cookie,
				 sizeof(cookie)));
	assert_non_null(strstr(cookie, "Max-Age=0"));
	free(headers);
	http_reply_free(&r);
}

/* A token acts as its user on section 1's endpoints. */
static void test_acting_as_caller(void **state)
{
	struct account a, b;
	struct http_reply r;
	char chat[ID_LEN], other[ID_LEN], body[256];
	const char *members[2];

	(void)state;
	must_account("actor", &a);
	must_account("actor", &b);
	members[0] = a.id;
	members[1] = b.id;
	must_chat("actors", members, 2, chat);
	must_chat("others", &members[1], 1, other);

	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"author\":\"%s\","
		 "\"text\":\"hi\"}", chat, b.id);
	http_post_as(a.token, "/messages/add", body, &r);
	check_error(&r, 403, "forbidden", "messages/add as another author");
	http_reply_free(&r);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"text\":\"hi\"}",
		 chat);
	http_post_as(a.token, "/messages/add", body, &r);
	check_created(&r, NULL, "messages/add without author, by token");
	http_reply_free(&r);
	http_post_as(NULL, "/messages/add", body, &r);
	check_error(&r, 400, "bad_request", "messages/add without author");
	http_reply_free(&r);

	snprintf(body, sizeof(body), "{\"user\":\"%s\"}", b.id);
	http_post_as(a.token, "/chats/get", body, &r);
	check_error(&r, 403, "forbidden", "chats/get of another user");
	http_reply_free(&r);
	http_post_as(a.token, "/chats/get", "{}", &r);
	check_status(&r, 200, "chats/get of the caller");
	assert_int_equal(json_array_size(r.json), 1);
	http_reply_free(&r);

	snprintf(body, sizeof(body), "{\"chat\":\"%s\"}", other);
	http_post_as(a.token, "/messages/get", body, &r);
	check_error(&r, 403, "forbidden", "messages/get of another's chat");
	http_reply_free(&r);
	http_post_as(NULL, "/messages/get", body, &r);
	check_status(&r, 200, "messages/get without a session (open mode)");
	http_reply_free(&r);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\"}", chat);
	http_post_as(a.token, "/messages/get", body, &r);
	check_status(&r, 200, "messages/get of a member");
	assert_int_equal(json_array_size(r.json), 1);
	http_reply_free(&r);
	http_post_as(a.token, "/messages/get", "{\"chat\":\"999999999\"}", &r);
	check_error(&r, 404, "not_found", "messages/get of no chat");
	http_reply_free(&r);
}

/* FAILURES_MAX wrong passwords: then 429 with Retry-After, even for the
 * right one, until the window has passed; another account is untouched. */
static void test_failure_limit(void **state)
{
	struct account a, b, c;
	struct http_reply r;
	int i;

	(void)state;
	must_account("limit", &a);
	must_account("limit", &b);
	for (i = 0; i < FAILURES_MAX; i++) {
		login(a.name, "wrong password", &r);
		check_error(&r, 401, "unauthorized", "a wrong password");
		http_reply_free(&r);
	}
	login(a.name, PASSWORD, &r);
	check_error(&r, 429, "too_many_requests", "past the limit");
	assert_true(atoi(r.retry_after) >= 1 &&
		    atoi(r.retry_after) <= FAILURE_WINDOW_S);
	http_reply_free(&r);
	login(b.name, PASSWORD, &r);
	check_session(&r, 200, &c, "another account");
	http_reply_free(&r);
	sleep_ms(FAILURE_WINDOW_S * 1000 + 200);
	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &c, "after the window");
	http_reply_free(&r);
}

/* The inodes of the unix sockets bound to path (/proc/net/unix: the
 * listening socket and the connections accepted on it). */
static int socket_inodes(const char *path, unsigned long *out, int max)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512], p[300];
	unsigned long inode;
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max)
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %299s", &inode,
			   p) == 2 && strcmp(p, path) == 0)
			out[n++] = inode;
	fclose(f);
	return n;
}

/* True when process pid has one of the sockets open. */
static bool holds(pid_t pid, const unsigned long *inodes, int n)
{
	char dir[64], link[320], target[64];
	struct dirent *e;
	DIR *d;
	bool found = false;
	int i;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	d = opendir(dir);
	if (d == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		ssize_t k;

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		for (i = 0; i < n && !found; i++) {
			char want[40];

			snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
			found = strcmp(target, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* The nice value of pid (field 19 of /proc/PID/stat), or 99. */
static int nice_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int n = 99;
	size_t k;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return n;
	k = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[k] = '\0';
	p = strrchr(buf, ')');
	if (p != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
		       "%*u %*d %*d %*d %d", &n);
	return n;
}

static long login_status;

static void *login_thread(void *arg)
{
	struct http_reply r;

	login_status = login(arg, PASSWORD, &r);
	http_reply_free(&r);
	http_thread_done();
	return NULL;
}

/* Password hashes run in the /auth/ pool only: with its workers paused,
 * the rest of the API answers, and a login waits for them. */
static void test_auth_pool(void **state)
{
	pid_t kids[MAX_KIDS], auth[MAX_KIDS], master;
	unsigned long inodes[64];
	char path[128], name[64];
	struct account a;
	pthread_t t;
	int n, ni, na = 0, i;

	(void)state;
	must_account("pool", &a);
	master = stack_master_pid(&the_stack);
	n = proc_children(master, kids, MAX_KIDS);
	snprintf(path, sizeof(path), "%s/chatd-auth.sock", the_stack.dir);
	ni = socket_inodes(path, inodes, 64);
	assert_true(ni > 0);
	for (i = 0; i < n && i < MAX_KIDS; i++)
		if (holds(kids[i], inodes, ni))
			auth[na++] = kids[i];
	assert_int_equal(na, AUTH_WORKERS);
	assert_int_equal(n, the_stack.workers + AUTH_WORKERS);
	/* Their hashes run at a lower priority than the rest (--auth-nice). */
	for (i = 0; i < n && i < MAX_KIDS; i++)
		assert_int_equal(nice_of(kids[i]),
				 holds(kids[i], inodes, ni) ? 10 : 0);

	for (i = 0; i < na; i++)
		assert_int_equal(kill(auth[i], SIGSTOP), 0);
	login_status = -1;
	assert_int_equal(pthread_create(&t, NULL, login_thread, a.name), 0);
	uniq_name(name, sizeof(name), "pool");
	assert_int_equal(api_user_add(name, NULL), 201);
	sleep_ms(300);
	/* Nothing but a paused /auth/ worker may answer it. */
	assert_int_equal(login_status, -1);
	for (i = 0; i < na; i++)
		kill(auth[i], SIGCONT);
	pthread_join(t, NULL);
	assert_int_equal(login_status, 200);
}

/* users/me: the caller's object, seen at once, with its email. */
static void test_users_me(void **state)
{
	struct http_reply r;
	struct account a;
	char body[256];
	json_t *me;

	(void)state;
	uniq_name(a.name, sizeof(a.name), "me");
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":"
		 "\"" PASSWORD "\",\"email\":\"a@example.org\"}", a.name);
	http_post("/auth/signup", body, strlen(body), NULL, &r);
	check_session(&r, 201, &a, "signup with email");
	http_reply_free(&r);

	http_post_as(a.token, "/users/me", "{}", &r);
	check_status(&r, 200, "users/me");
	me = r.json;
	assert_string_equal(json_string_value(json_object_get(me, "id")), a.id);
	assert_string_equal(json_string_value(json_object_get(me, "username")),
			    a.name);
	assert_true(is_rfc3339_micro(json_string_value(
		json_object_get(me, "created_at"))));
	/* This very request was the user's first authenticated one. */
	assert_true(is_rfc3339_micro(json_string_value(
		json_object_get(me, "last_seen_at"))));
	assert_true(json_is_true(json_object_get(me, "online")));
	assert_true(json_is_null(json_object_get(me, "avatar")));
	assert_string_equal(json_string_value(json_object_get(me, "email")),
			    "a@example.org");
	http_reply_free(&r);

	http_post("/users/me", "{}", 2, NULL, &r);
	check_error(&r, 401, "unauthorized", "users/me without a session");
	http_reply_free(&r);
}

/* The ids in a users/list answer, and whether `id` is among them. */
static bool listed(const json_t *list, const char *id)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_object_get(
			json_array_get(list, i), "id")), id) == 0)
			return true;
	return false;
}

static void test_users_list(void **state)
{
	struct account a, b;
	struct http_reply r;
	char plain[ID_LEN], name[64], body[128];
	size_t i;

	(void)state;
	must_account("list", &a);
	must_account("list", &b);
	uniq_name(name, sizeof(name), "listplain");
	assert_int_equal(api_user_add(name, plain), 201);
	http_post_as(b.token, "/users/me", "{}", &r);	/* b is seen */
	http_reply_free(&r);

	http_post_as(a.token, "/users/list", "{\"limit\":1000}", &r);
	check_status(&r, 200, "users/list");
	assert_false(listed(r.json, a.id));	/* the caller is left out */
	assert_true(listed(r.json, b.id));
	assert_true(listed(r.json, plain));
	for (i = 1; i < json_array_size(r.json); i++)
		assert_true(id_cmp(json_string_value(json_object_get(
			json_array_get(r.json, i - 1), "id")),
			json_string_value(json_object_get(
			json_array_get(r.json, i), "id"))) < 0);
	assert_null(json_object_get(json_array_get(r.json, 0), "email"));
	http_reply_free(&r);

	http_post_as(a.token, "/users/list", "{\"status\":\"active\","
		"\"limit\":1000}", &r);
	check_status(&r, 200, "users/list active");
	assert_true(listed(r.json, b.id));
	assert_false(listed(r.json, plain));
	for (i = 0; i < json_array_size(r.json); i++)
		assert_true(json_is_true(json_object_get(
			json_array_get(r.json, i), "online")));
	http_reply_free(&r);

	http_post_as(a.token, "/users/list", "{\"status\":\"inactive\","
		"\"limit\":1000}", &r);
	check_status(&r, 200, "users/list inactive");
	assert_false(listed(r.json, b.id));
	assert_true(listed(r.json, plain));
	http_reply_free(&r);

	/* Paging: one after the id before b's is b, of all users and of
	 * the online (whose statement reads the users seen lately first). */
	for (i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{\"status\":\"%s\",\"after\":"
			 "\"%lld\",\"limit\":1}", i ? "active" : "all",
			 atoll(b.id) - 1);
		http_post_as(a.token, "/users/list", body, &r);
		check_status(&r, 200, body);
		assert_int_equal(json_array_size(r.json), 1);
		assert_true(listed(r.json, b.id));
		http_reply_free(&r);
	}
	snprintf(body, sizeof(body), "{\"status\":\"active\",\"after\":"
		 "\"%s\",\"limit\":1000}", b.id);
	http_post_as(a.token, "/users/list", body, &r);
	check_status(&r, 200, "users/list active after b");
	assert_false(listed(r.json, b.id));
	for (i = 0; i < json_array_size(r.json); i++)
		assert_true(id_cmp(b.id, json_string_value(json_object_get(
			json_array_get(r.json, i), "id"))) < 0);
	http_reply_free(&r);

	http_post_as(a.token, "/users/list", "{\"after\":\"9000000000000\"}", &r);
	check_status(&r, 200, "users/list past the end");
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);

	http_post_as(a.token, "/users/list", "{\"status\":\"online\"}", &r);
	check_error(&r, 400, "bad_request", "users/list bad status");
	http_reply_free(&r);
	http_post_as(a.token, "/users/list", "{\"limit\":0}", &r);
	check_error(&r, 400, "bad_request", "users/list limit 0");
	http_reply_free(&r);
}

/* A session ends at its absolute expiry and after --session-idle without
 * use: moved there in the database, the next request is refused. */
/* The seconds since the one session of user id was last marked used, and
 * since the user was last seen. */
static void marks_age(const char *id, long *used, long *seen)
{
	char sql[256], *got;

	snprintf(sql, sizeof(sql), "SELECT round(extract(epoch FROM now() - "
		 "s.last_used_at)) || ' ' || round(extract(epoch FROM now() - "
		 "u.last_seen_at)) FROM sessions s JOIN users u ON u.id = "
		 "s.user_id WHERE u.id = %s", id);
	got = stack_psql_output(&the_stack, sql);
	assert_non_null(got);
	assert_int_equal(sscanf(got, "%ld %ld", used, seen), 2);
	free(got);
}

/* Backdates the marks of user id's session and of the user by secs. */
static void backdate_marks(const char *id, int secs)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE sessions SET last_used_at = now() - "
		 "interval '%d seconds' WHERE user_id = %s; UPDATE users SET "
		 "last_seen_at = now() - interval '%d seconds' WHERE id = %s",
		 secs, id, secs, id);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
}

/* One request as a's session, answering status, and whether it moved
 * the marks: they were backdated by secs, which is "due" past a minute. */
static void check_marks(const struct account *a, const char *path,
			const char *body, long status, int secs)
{
	struct http_reply r;
	long used, seen;

	backdate_marks(a->id, secs);
	http_post_as(a->token, path, body, &r);
	check_status(&r, status, path);
	http_reply_free(&r);
	marks_age(a->id, &used, &seen);
	if (secs < 60 && (used < secs || seen < secs))
		fail_msg_at("%s: marks %d s old were written again (now %ld "
			    "and %ld s old)", path, secs, used, seen);
	if (secs >= 60 && (used > 10 || seen > 10))
		fail_msg_at("%s: marks %d s old were not renewed (%ld and %ld "
			    "s old)", path, secs, used, seen);
}

/* A request marks its session used and its user seen when that was more
 * than a minute ago, and writes nothing when it was less: where the
 * worker looks the session up (users/me) and where the endpoint's own
 * statement checks it, reads (chats/get, messages/get) and writes
 * (users/add, messages/add) alike. */
static void test_marks_of_use(void **state)
{
	struct account a;
	struct http_reply r;
	char body[160], chat[32];

	(void)state;
	must_account("marks", &a);
	http_post_as(a.token, "/chats/add", "{\"name\":\"marks\",\"users\":[]}",
		     &r);
	check_created(&r, chat, "a chat of the account's, for chats/get");
	http_reply_free(&r);
	check_marks(&a, "/users/me", "{}", 200, 30);
	check_marks(&a, "/users/me", "{}", 200, 120);
	check_marks(&a, "/chats/get", "{}", 200, 30);
	check_marks(&a, "/chats/get", "{}", 200, 120);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"limit\":10}", chat);
	check_marks(&a, "/messages/get", body, 200, 30);
	check_marks(&a, "/messages/get", body, 200, 120);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"text\":\"marked\"}",
		 chat);
	check_marks(&a, "/messages/add", body, 201, 30);
	check_marks(&a, "/messages/add", body, 201, 120);
	snprintf(body, sizeof(body), "{\"username\":\"marks_of_%s\"}", a.id);
	check_marks(&a, "/users/add", body, 201, 30);
	check_marks(&a, "/users/add", body, 409, 120);
}

/* The marks of a transaction that writes nothing else commit without
 * waiting for the disk (sql/008_quiet_marks.sql), those made beside a
 * write do not change how it commits: synchronous_commit as the function
 * leaves it for the rest of its transaction. */
static void test_marks_commit(void **state)
{
	static const char *const sql =
		"DO $$ BEGIN"
		" PERFORM chatd_session_used(0, 0, false);"
		" IF current_setting('synchronous_commit') <> 'on' THEN"
		"  RAISE EXCEPTION 'marks beside a write: synchronous_commit %',"
		"   current_setting('synchronous_commit'); END IF;"
		" PERFORM chatd_session_used(0, 0, true);"
		" IF current_setting('synchronous_commit') <> 'off' THEN"
		"  RAISE EXCEPTION 'marks alone: synchronous_commit %',"
		"   current_setting('synchronous_commit'); END IF;"
		" END $$";

	(void)state;
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	/* Only for that transaction: the next one of the same connection
	 * commits as always. */
	assert_int_equal(stack_psql(&the_stack, "chatd",
		"BEGIN; SELECT chatd_session_used(0, 0, true); COMMIT;"
		" DO $$ BEGIN IF current_setting('synchronous_commit') <> 'on'"
		" THEN RAISE EXCEPTION 'the next transaction: %',"
		" current_setting('synchronous_commit'); END IF; END $$"), 0);
}

static void test_session_expiry(void **state)
{
	struct account a, b;
	struct http_reply r;
	char sql[256];

	(void)state;
	must_account("expiry", &a);
	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &b, "login");
	http_reply_free(&r);
	http_post_as(a.token, "/users/me", "{}", &r);
	check_status(&r, 200, "a live session");
	http_reply_free(&r);

	snprintf(sql, sizeof(sql), "UPDATE sessions SET expires_at = now() - "
		 "interval '1 second' WHERE id = (SELECT min(id) FROM sessions "
		 "WHERE user_id = %s)", a.id);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	check_refused_raw(a.token, "/users/me");

	/* Idle for eight days (the default idle limit is seven). */
	snprintf(sql, sizeof(sql), "UPDATE sessions SET last_used_at = now() - "
		 "interval '8 days' WHERE id = (SELECT max(id) FROM sessions "
		 "WHERE user_id = %s)", a.id);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	check_refused_raw(b.token, "/users/me");
}

/* The stack restarted with "--auth required" and a cheaper hash: section
 * 1's endpoints need a session, /health does not; a login rehashes a
 * password made at the old cost. Restarted as it was afterwards. */
static void test_required_mode_and_rehash(void **state)
{
	char args[256], sql[160], *hash;
	struct account a, b;
	struct http_reply r;

	(void)state;
	must_account("required", &a);
	snprintf(args, sizeof(args), "--login-failures %d --login-window %d "
		 "--auth required --pwhash-mem 19", FAILURES_MAX,
		 FAILURE_WINDOW_S);
	setenv("CHATD_SERVE_ARGS", args, 1);
	assert_int_equal(stack_restart(&the_stack), 0);

	http_post("/users/add", "{\"username\":\"req_x\"}", 20, NULL, &r);
	check_error(&r, 401, "unauthorized", "users/add without a session");
	http_reply_free(&r);
	http_post("/chats/get", "{\"user\":\"1\"}", 12, NULL, &r);
	check_error(&r, 401, "unauthorized", "chats/get without a session");
	http_reply_free(&r);
	http_request("GET", "/health", NULL, 0, NULL, &r);
	check_status(&r, 200, "health needs no session");
	http_reply_free(&r);

	login(a.name, PASSWORD, &r);
	check_session(&r, 200, &b, "login after the restart");
	http_reply_free(&r);
	http_post_as(b.token, "/chats/get", "{}", &r);
	check_status(&r, 200, "chats/get with a session");
	http_reply_free(&r);
	snprintf(sql, sizeof(sql), "SELECT password_hash FROM users WHERE id = "
		 "%s", a.id);
	hash = stack_psql_output(&the_stack, sql);
	assert_non_null(hash);
	if (strstr(hash, "$m=19456,t=2,") == NULL)
		fail_msg_at("the login did not rehash at 19 MiB: %s", hash);
	free(hash);

	snprintf(args, sizeof(args), "--login-failures %d --login-window %d",
		 FAILURES_MAX, FAILURE_WINDOW_S);
	setenv("CHATD_SERVE_ARGS", args, 1);
	assert_int_equal(stack_restart(&the_stack), 0);
}

/* After all of the above (runs last): no token is in any log of the
 * stack: chatd's, nginx's access and error logs, PostgreSQL's. */
static void test_tokens_not_logged(void **state)
{
	static const char *const logs[] = {"chatd.log", "nginx-access.log",
	    "nginx-error.log", "postgres.log"};
	char path[128];
	size_t i;
	int k;

	(void)state;
	assert_true(nissued >= 10);
	sleep_ms(1500);		/* nginx flushes its access log every second */
	for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char *text;

		snprintf(path, sizeof(path), "%s/%s", the_stack.dir, logs[i]);
		text = file_since(path, 0);
		assert_non_null(text);
		for (k = 0; k < nissued; k++)
			if (strstr(text, issued[k]) != NULL)
				fail_msg_at("a token is in %s", logs[i]);
		if (i == 1 && strstr(text, "/auth/login") == NULL)
			fail_msg_at("the access log has no login: wrong file?");
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signup_and_login),
		cmocka_unit_test(test_login_refusals),
		cmocka_unit_test(test_password_lengths),
		cmocka_unit_test(test_sessions_logout),
		cmocka_unit_test(test_logout_all),
		cmocka_unit_test(test_password_change),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_acting_as_caller),
		cmocka_unit_test(test_failure_limit),
		cmocka_unit_test(test_auth_pool),
		cmocka_unit_test(test_users_me),
		cmocka_unit_test(test_users_list),
		cmocka_unit_test(test_session_expiry),
		cmocka_unit_test(test_marks_of_use),
		cmocka_unit_test(test_marks_commit),
		cmocka_unit_test(test_required_mode_and_rehash),
		cmocka_unit_test(test_tokens_not_logged),
	};
	char args[128];

	snprintf(args, sizeof(args), "--login-failures %d --login-window %d",
		 FAILURES_MAX, FAILURE_WINDOW_S);
	setenv("CHATD_SERVE_ARGS", args, 1);
	snprintf(args, sizeof(args), "%d", AUTH_WORKERS);
	setenv("CHATD_AUTH_WORKERS", args, 1);
	return cmocka_run_group_tests(tests, stack_group_setup,
				      stack_group_teardown);
}
