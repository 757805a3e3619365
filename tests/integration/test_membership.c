/*
 * test_membership.c - chat types, owners, membership and read markers
 * (API.md 2.3), messages/send and messages/broadcast (2.4), through nginx
 * -> chatd -> PostgreSQL: seed 004's positive scenario, seed 002's group
 * chat flow, races of membership and of read markers against SQL, and the
 * broadcast's permission with a restart on --broadcast anyone.
 *
 * The scenarios print their steps (request and answer) to stdout, and the
 * races their numbers, so that a run can be quoted. Threads only collect
 * results; every assertion runs in the main thread after they are joined
 * (cmocka is not thread-safe).
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PASSWORD "membership password"
/* The cheapest Argon2id chatd takes: the suite signs up many accounts.
 * Every restart keeps these. */
#define BASE_ARGS "--pwhash-mem 19 --pwhash-ops 2"
#define BODY_MAX 1024
/* The largest id: "before" it is every message, and no chat or user has
 * it. */
#define ID_TOP "9223372036854775807"

/* (a) and (d): this many requests at once. */
#define SHOTS 20
/* (b): rounds, the 201s the poster has before the removal is sent, the
 * 403s it collects after its first, and its bound on attempts. */
#define REMOVAL_ROUNDS 5
#define REMOVE_AFTER 15
#define TAIL_REFUSALS 5
#define POST_MAX 2000
/* (c): users (each a writer and a reader), chats, messages per writer. */
#define RC_USERS 4
#define RC_CHATS 3
#define RC_PER_WRITER 100
/* A thread or a wait gives up after this long (a hang, not a timing
 * assertion). */
#define DEADLINE_S 120.0

struct account {
	char name[64];
	char id[ID_LEN];
	char token[64];
};

/* The label of the scenario whose steps are printed; NULL: quiet. Main
 * thread only. */
static const char *narrating;

/* ---- requests ------------------------------------------------------------ */

/* A string member of a JSON object (borrowed), or NULL. */
static const char *str_of(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static const char *field(const struct http_reply *r, const char *name)
{
	return r->json != NULL ? str_of(r->json, name) : NULL;
}

static long long num_id(const char *s)
{
	return s != NULL && is_canonical_id(s) ? strtoll(s, NULL, 10) : -1;
}

/* An id member of a JSON object as a number; 0 for null or absent. */
static long long id_of(const json_t *o, const char *name)
{
	const char *s = str_of(o, name);

	return s != NULL ? num_id(s) : 0;
}

/* The body printf makes of fmt into buf (BODY_MAX bytes); aborts when it
 * does not fit, which is a bug of the test. */
static void body_v(char *buf, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, BODY_MAX, fmt, ap);

	if (n < 0 || n >= BODY_MAX)
		abort();
}

/* POST body to path as the session of token (NULL: none); out is the
 * caller's to free. Returns out->status. Any thread. */
/* post_as with a body made by printf. Any thread. */
static long call(const char *token, struct http_reply *out, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static long call(const char *token, struct http_reply *out, const char *path,
		 const char *fmt, ...)
{
	char body[BODY_MAX];
	va_list ap;

	va_start(ap, fmt);
	body_v(body, fmt, ap);
	va_end(ap);
	return http_post_as(token, path, body, out);
}

/* The error code API.md 0 gives a status, NULL for a success. */
static const char *code_of(long status)
{
	static const struct {
		long status;
		const char *code;
	} codes[] = {
		{400, "bad_request"}, {401, "unauthorized"}, {403, "forbidden"},
		{404, "not_found"}, {409, "conflict"},
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].status == status)
			return codes[i].code;
	return NULL;
}

/* Prints a step and its answer, the value of any "token" hidden: a live
 * token is a secret, in a test's log too. */
static void narrate(const char *desc, const struct http_reply *r)
{
	char shown[512];
	const char *t;
	int len = (int)r->body_len;

	while (len > 0 && r->body[len - 1] == '\n')
		len--;
	snprintf(shown, sizeof(shown), "%.*s%s", len > 400 ? 400 : len,
		 r->body, len > 400 ? "..." : "");
	t = strstr(shown, "\"token\":\"");
	if (t != NULL) {
		char *v = shown + (t - shown) + strlen("\"token\":\"");

		while (*v != '\0' && *v != '"')
			*v++ = '*';
	}
	printf("[%s] %s\n    -> %ld %s\n", narrating, desc, r->status, shown);
	fflush(stdout);
}

/* The request, which must answer `status` (an error status with API.md's
 * JSON error body); printed as a step of the scenario being narrated.
 * `what` says what the step is. The reply is the caller's to free. Main
 * thread. */
static void expect_v(struct http_reply *r, long status, const char *token,
		     const char *what, const char *path, const char *fmt,
		     va_list ap)
{
	char body[BODY_MAX], desc[BODY_MAX + 256];
	const char *code = code_of(status);

	body_v(body, fmt, ap);
	http_post_as(token, path, body, r);
	snprintf(desc, sizeof(desc), "%s: POST %s %s", what, path, body);
	if (narrating != NULL)
		narrate(desc, r);
	if (code != NULL)
		check_error(r, status, code, desc);
	else
		check_status(r, status, desc);
}

static void expect(struct http_reply *r, long status, const char *token,
		   const char *what, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void expect(struct http_reply *r, long status, const char *token,
		   const char *what, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	expect_v(r, status, token, what, path, fmt, ap);
	va_end(ap);
}

/* expect() when only the status matters: the reply is freed. */
static void expect_only(long status, const char *token, const char *what,
			const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void expect_only(long status, const char *token, const char *what,
			const char *path, const char *fmt, ...)
{
	struct http_reply r;
	va_list ap;

	va_start(ap, fmt);
	expect_v(&r, status, token, what, path, fmt, ap);
	va_end(ap);
	http_reply_free(&r);
}

/* A step of the narrated scenario that is no request. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (narrating == NULL)
		return;
	printf("[%s] ", narrating);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* chats/members/add (add) or chats/members/remove of user in chat, as
 * token's user, which must answer status. */
static void member_change(long status, const char *token, const char *what,
			  bool add, const char *chat, const char *user)
{
	expect_only(status, token, what, add ? "/chats/members/add" :
		    "/chats/members/remove",
		    "{\"chat\":\"%s\",\"user\":\"%s\"}", chat, user);
}

/* chats/read of message in chat as a, which must answer status. */
static void read_to(long status, const struct account *a, const char *what,
		    const char *chat, const char *message)
{
	expect_only(status, a->token, what, "/chats/read",
		    "{\"chat\":\"%s\",\"message\":\"%s\"}", chat, message);
}

/* ---- accounts ------------------------------------------------------------ */

/* Takes id and token from a signup's or login's answer. */
static void take_session(const struct http_reply *r, struct account *a)
{
	const char *id = field(r, "id"), *token = field(r, "token");

	if (!is_canonical_id(id) || token == NULL || strlen(token) != 43)
		fail_msg_at("not {id, token, expires_at}: %s", r->body);
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->token, sizeof(a->token), "%s", token);
}

/* A new account named after prefix, signed up (201), with its session. */
static void signup_account(const char *prefix, struct account *a)
{
	struct http_reply r;

	uniq_name(a->name, sizeof(a->name), prefix);
	expect(&r, 201, NULL, "sign up", "/auth/signup",
	       "{\"username\":\"%s\",\"password\":\"" PASSWORD "\"}", a->name);
	take_session(&r, a);
	http_reply_free(&r);
}

/* A fresh session of a (200); its token replaces a->token. */
static void login_account(struct account *a)
{
	struct http_reply r;

	expect(&r, 200, NULL, "log in", "/auth/login",
	       "{\"username\":\"%s\",\"password\":\"" PASSWORD "\"}", a->name);
	take_session(&r, a);
	http_reply_free(&r);
}

/* ---- chats --------------------------------------------------------------- */

/* The item of `id` in a JSON array of objects (borrowed), or NULL. */
static json_t *item_of(const json_t *list, const char *id)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		json_t *o = json_array_get(list, i);
		const char *s = str_of(o, "id");

		if (s != NULL && strcmp(s, id) == 0)
			return o;
	}
	return NULL;
}

/* The caller's chats/get (200, an array): a new reference. */
static json_t *chats_of(const struct account *a)
{
	struct http_reply r;
	json_t *list;

	expect(&r, 200, a->token, "chats/get of the caller", "/chats/get",
	       "{}");
	if (!json_is_array(r.json))
		fail_msg_at("chats/get: not an array: %s", r.body);
	list = json_incref(r.json);
	http_reply_free(&r);
	return list;
}

/* The caller's chats/get item of chat: a new reference; fails the test
 * when the chat is not listed. */
static json_t *chat_of(const struct account *a, const char *chat)
{
	json_t *list = chats_of(a), *c = json_incref(item_of(list, chat));

	json_decref(list);
	if (c == NULL)
		fail_msg_at("chat %s is not in the chats/get of user %s", chat,
			    a->id);
	return c;
}

static bool lists_chat(const struct account *a, const char *chat)
{
	json_t *list = chats_of(a);
	bool found = item_of(list, chat) != NULL;

	json_decref(list);
	return found;
}

/* a's read marker in chat is last_read (NULL: null) and unread is
 * `unread`, as chats/get answers them. */
static void check_marker(const struct account *a, const char *chat,
			 const char *last_read, long long unread)
{
	json_t *c = chat_of(a, chat), *lr = json_object_get(c, "last_read");
	json_t *n = json_object_get(c, "unread");
	bool same_read = last_read == NULL ? json_is_null(lr) :
			 json_is_string(lr) &&
			 strcmp(json_string_value(lr), last_read) == 0;

	if (!same_read || !json_is_integer(n) ||
	    json_integer_value(n) != unread)
		fail_msg_at("user %s, chat %s: want last_read %s, unread %lld; "
			    "chats/get: last_read %s, unread %lld", a->id, chat,
			    last_read ? last_read : "null", unread,
			    json_is_string(lr) ? json_string_value(lr) : "null",
			    (long long)json_integer_value(n));
	note("chats/get of user %s: chat %s has last_read %s, unread %lld",
	     a->id, chat, last_read ? last_read : "null", unread);
	json_decref(c);
}

/* The role chats/members (as token's user) gives user in chat: "owner",
 * "member", or "" when user is not listed. */
static void role_of(const char *token, const char *chat, const char *user,
		    char *role, size_t n)
{
	struct http_reply r;
	json_t *m;

	expect(&r, 200, token, "chats/members", "/chats/members",
	       "{\"chat\":\"%s\"}", chat);
	m = item_of(r.json, user);
	snprintf(role, n, "%s", m != NULL && str_of(m, "role") != NULL ?
		 str_of(m, "role") : "");
	http_reply_free(&r);
}

static void check_role(const char *token, const char *chat, const char *user,
		       const char *want)
{
	char role[16];

	role_of(token, chat, user, role, sizeof(role));
	if (strcmp(role, want) != 0)
		fail_msg_at("chat %s: user %s has role '%s', want '%s'", chat,
			    user, role, want);
}

/* A group chat made by a's session (201): a is its owner. */
static void group_of(const struct account *a, const char *prefix,
		     char *chat)
{
	struct http_reply r;
	char name[64];

	uniq_name(name, sizeof(name), prefix);
	expect(&r, 201, a->token, "create a group chat", "/chats/add",
	       "{\"name\":\"%s\",\"users\":[]}", name);
	check_created(&r, chat, "chats/add");
	http_reply_free(&r);
}

/* A message by token's user into chat (201); its id into id. */
static void post_message(const char *token, const char *chat,
			 const char *text, char *id)
{
	struct http_reply r;

	expect(&r, 201, token, "post a message", "/messages/add",
	       "{\"chat\":\"%s\",\"text\":\"%s\"}", chat, text);
	check_created(&r, id, "messages/add");
	http_reply_free(&r);
}

/* The ids of a messages/get answer are want[0..n), in that order. */
static void check_page(const struct http_reply *r, char (*want)[ID_LEN],
		       size_t n, const char *what)
{
	size_t i;

	if (!json_is_array(r->json) || json_array_size(r->json) != n)
		fail_msg_at("%s: want %zu messages, got %s", what, n, r->body);
	for (i = 0; i < n; i++)
		if (strcmp(str_of(json_array_get(r->json, i), "id"),
			   want[i]) != 0)
			fail_msg_at("%s: message %zu is %s, want %s", what, i,
				    str_of(json_array_get(r->json, i), "id"),
				    want[i]);
}

/* ---- SQL ----------------------------------------------------------------- */

/* The one number a query prints. Main thread; fails the test when psql
 * fails. */
static long long sql_number(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static long long sql_number(const char *fmt, ...)
{
	char sql[BODY_MAX];
	long long n;
	va_list ap;
	char *out;

	va_start(ap, fmt);
	body_v(sql, fmt, ap);
	va_end(ap);
	out = stack_psql_output(&the_stack, sql);
	if (out == NULL)
		fail_msg_at("psql failed: %s", sql);
	n = strtoll(out, NULL, 10);
	free(out);
	return n;
}

/* A statement (or several) that must succeed. Main thread. */
static void sql_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql_run(const char *fmt, ...)
{
	char sql[BODY_MAX];
	va_list ap;

	va_start(ap, fmt);
	body_v(sql, fmt, ap);
	va_end(ap);
	if (stack_psql(&the_stack, "chatd", sql) != 0)
		fail_msg_at("psql failed: %s", sql);
}

/* psql_query that must succeed. */
static void sql_rows(struct psql_session *ps, const char *sql, char *out,
		     size_t n)
{
	if (psql_query(ps, sql, out, n) != 0)
		fail_msg_at("psql failed: %s", sql);
}

/* ---- requests at once ---------------------------------------------------- */

/* One request of several sent at one moment (any thread). */
struct shot {
	pthread_barrier_t *start;
	const char *token;
	const char *path;
	char body[256];
	long status;
	char id[ID_LEN];	/* the answer's "id", "" when none */
	char chat[ID_LEN];	/* the answer's "chat", "" when none */
	char error[200];	/* the answer of an unexpected status */
};

static void *shot_thread(void *arg)
{
	struct shot *s = arg;
	struct http_reply r;

	/* This thread's connection is open before the start line. */
	http_request("GET", "/health", NULL, 0, NULL, &r);
	http_reply_free(&r);
	pthread_barrier_wait(s->start);
	s->status = http_post_as(s->token, s->path, s->body, &r);
	snprintf(s->id, sizeof(s->id), "%s", field(&r, "id") ?
		 field(&r, "id") : "");
	snprintf(s->chat, sizeof(s->chat), "%s", field(&r, "chat") ?
		 field(&r, "chat") : "");
	if (s->status != 200 && s->status != 201)
		snprintf(s->error, sizeof(s->error), "%ld %.60s %.120s",
			 s->status, r.error, r.body);
	http_reply_free(&r);
	http_thread_done();
	return NULL;
}

/* Sends the n shots at once and waits for every answer. */
static void fire(struct shot *s, int n)
{
	pthread_barrier_t start;
	pthread_t th[SHOTS];
	int i;

	assert_true(n <= SHOTS);
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		s[i].start = &start;
		assert_int_equal(pthread_create(&th[i], NULL, shot_thread,
						&s[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
}

/* ---- 1. seed 004's positive scenario ------------------------------------- */

/* chats/get with a session where its one statement yields nothing: a
 * caller in more chats than it lists whole (CHATS_WHOLE_MAX, 500 in
 * src/api/chats_get.c), streamed with read markers and unread counts,
 * and a caller in no chat. */
#define MANY_CHATS 501
static void test_many_chats_with_session(void **state)
{
	struct account reader, writer, lonely;
	struct http_reply r;
	char chat[ID_LEN], msg[ID_LEN];
	json_t *list, *item;
	size_t i, unread = 0;

	(void)state;
	signup_account("many_r", &reader);
	signup_account("many_w", &writer);
	signup_account("lonely", &lonely);
	sql_run("WITH c AS (INSERT INTO chats (name) SELECT 'many_%s_' || g"
		" FROM generate_series(1, %d) g RETURNING id)"
		" INSERT INTO chat_members (chat_id, user_id)"
		" SELECT id, u FROM c, (VALUES (%s::bigint), (%s)) v(u)",
		reader.id, MANY_CHATS, reader.id, writer.id);
	snprintf(chat, sizeof(chat), "%lld", sql_number("SELECT max(chat_id) "
		 "FROM chat_members WHERE user_id = %s", reader.id));
	post_message(writer.token, chat, "one of many", msg);

	list = chats_of(&reader);
	assert_int_equal(json_array_size(list), MANY_CHATS);
	json_array_foreach(list, i, item) {
		if (!json_is_integer(json_object_get(item, "unread")) ||
		    !json_is_null(json_object_get(item, "last_read")))
			fail_msg_at("item %zu has no unread count or a marker",
				    i);
		unread += (size_t)json_integer_value(json_object_get(item,
								     "unread"));
	}
	assert_string_equal(str_of(json_array_get(list, 0), "id"), chat);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(list, 0), "unread")), 1);
	assert_int_equal(unread, 1);
	json_decref(list);
	read_to(204, &reader, "read the one message", chat, msg);
	check_marker(&reader, chat, msg, 0);

	expect(&r, 200, lonely.token, "chats/get in no chat", "/chats/get",
	       "{}");
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);
}

static void test_seed004_scenario(void **state)
{
	struct account u1, u2;
	struct http_reply r;
	char msg[ID_LEN], chat[ID_LEN];
	json_t *c, *users, *last;

	(void)state;
	narrating = "seed 004";
	note("1. user_1 signs up and logs out");
	signup_account("user_1", &u1);
	expect_only(204, u1.token, "user_1 logs out", "/auth/logout", "{}");
	expect_only(401, u1.token, "the ended session is refused",
		    "/users/me", "{}");
	note("2. user_2 signs up too");
	signup_account("user_2", &u2);
	note("3. user_1 logs in");
	login_account(&u1);

	note("4. user_1 gets active users and finds user_2");
	/* Paged from user_2's id: the first active user from there on. A
	 * signup counts as being seen (API.md 2.2 as chatd reads it). */
	expect(&r, 200, u1.token, "user_1 lists the active users",
	       "/users/list", "{\"status\":\"active\",\"after\":\"%lld\","
	       "\"limit\":1}", num_id(u2.id) - 1);
	if (item_of(r.json, u2.id) == NULL ||
	    !json_is_true(json_object_get(item_of(r.json, u2.id), "online")))
		fail_msg_at("user_2 is not among the active users: %s", r.body);
	http_reply_free(&r);

	note("5. user_1 sends 'Hello, user_2' to user_2");
	expect(&r, 201, u1.token, "messages/send", "/messages/send",
	       "{\"to\":\"%s\",\"text\":\"Hello, user_2\"}", u2.id);
	check_created(&r, msg, "messages/send");
	if (!is_canonical_id(field(&r, "chat")))
		fail_msg_at("messages/send: no chat in %s", r.body);
	snprintf(chat, sizeof(chat), "%s", field(&r, "chat"));
	http_reply_free(&r);

	note("6. user_2 gets the list of chats and sees the chat with user_1");
	c = chat_of(&u2, chat);
	assert_string_equal(str_of(c, "type"), "private");
	assert_true(json_is_null(json_object_get(c, "owner")));
	users = json_object_get(c, "users");
	assert_int_equal(json_array_size(users), 2);
	assert_string_equal(json_string_value(json_array_get(users, 0)), u1.id);
	assert_string_equal(json_string_value(json_array_get(users, 1)), u2.id);
	assert_non_null(str_of(c, "last_message_at"));
	note("chat %s: type %s, users %s and %s, last_message_at %s", chat,
	     str_of(c, "type"), u1.id, u2.id, str_of(c, "last_message_at"));
	json_decref(c);
	check_marker(&u2, chat, NULL, 1);
	check_marker(&u1, chat, NULL, 0);	/* one's own message */

	note("7. user_2 gets the chat with user_1 and sees the last message");
	expect(&r, 200, u2.token, "messages/get", "/messages/get",
	       "{\"chat\":\"%s\"}", chat);
	assert_int_equal(json_array_size(r.json), 1);
	last = json_array_get(r.json, 0);
	assert_string_equal(str_of(last, "id"), msg);
	assert_string_equal(str_of(last, "author"), u1.id);
	assert_string_equal(str_of(last, "text"), "Hello, user_2");
	http_reply_free(&r);

	note("8. user_2 marks the messages with user_1 as read");
	expect_only(204, u2.token, "chats/read", "/chats/read",
		    "{\"chat\":\"%s\",\"message\":\"%s\"}", chat, msg);
	check_marker(&u2, chat, msg, 0);
	note("9. user_1 and user_2 are happy");
	narrating = NULL;
}

/* ---- 2. seed 002's group chat flow --------------------------------------- */

#define HISTORY 7

static void test_seed002_flow(void **state)
{
	struct account owner, member, outsider, x, y;
	char pm[ID_LEN], priv[ID_LEN], group[ID_LEN], fixed[ID_LEN];
	char second[ID_LEN], own[ID_LEN], m[HISTORY][ID_LEN], text[64];
	const char *pair[2];
	struct http_reply r;
	json_t *c;
	int i;

	(void)state;
	narrating = "seed 002";
	note("users with passwords, then each logs in");
	signup_account("owner", &owner);
	signup_account("member", &member);
	signup_account("outsider", &outsider);
	signup_account("x", &x);
	signup_account("y", &y);
	login_account(&owner);
	login_account(&member);
	login_account(&outsider);

	note("a private chat: the owner writes to the member");
	expect(&r, 201, owner.token, "messages/send", "/messages/send",
	       "{\"to\":\"%s\",\"text\":\"private hello\"}", member.id);
	check_created(&r, pm, "messages/send");
	snprintf(priv, sizeof(priv), "%s", field(&r, "chat"));
	http_reply_free(&r);

	note("a group chat made with a session: its creator owns it");
	group_of(&owner, "seed002", group);
	c = chat_of(&owner, group);
	assert_string_equal(str_of(c, "type"), "group");
	assert_string_equal(str_of(c, "owner"), owner.id);
	assert_int_equal(json_array_size(json_object_get(c, "users")), 1);
	json_decref(c);
	check_role(owner.token, group, owner.id, "owner");
	for (i = 0; i < HISTORY; i++) {
		snprintf(text, sizeof(text), "history %d", i + 1);
		post_message(owner.token, group, text, m[i]);
	}

	note("not yet a member: no history, no member list");
	expect_only(403, member.token, "messages/get by a non-member",
		    "/messages/get", "{\"chat\":\"%s\"}", group);
	expect_only(403, member.token, "chats/members by a non-member",
		    "/chats/members", "{\"chat\":\"%s\"}", group);
	member_change(403, outsider.token, "a non-member adds someone",
		      true, group, member.id);
	member_change(404, owner.token, "the owner adds no such user", true,
		      group, ID_TOP);
	member_change(404, owner.token, "members/add to no such chat", true,
		      ID_TOP, member.id);

	note("the owner adds the member (twice: the second changes nothing)");
	member_change(204, owner.token, "members/add",
		      true, group, member.id);
	expect(&r, 200, owner.token, "chats/members", "/chats/members",
	       "{\"chat\":\"%s\"}", group);
	snprintf(text, sizeof(text), "%s", str_of(item_of(r.json, member.id),
						  "joined_at"));
	http_reply_free(&r);
	member_change(204, owner.token, "members/add again",
		      true, group, member.id);
	expect(&r, 200, member.token, "chats/members by the member",
	       "/chats/members", "{\"chat\":\"%s\"}", group);
	assert_int_equal(json_array_size(r.json), 2);
	assert_string_equal(str_of(json_array_get(r.json, 0), "id"), owner.id);
	assert_string_equal(str_of(json_array_get(r.json, 0), "role"), "owner");
	assert_string_equal(str_of(json_array_get(r.json, 1), "role"),
			    "member");
	assert_string_equal(str_of(item_of(r.json, member.id), "joined_at"),
			    text);
	http_reply_free(&r);

	note("the member reads the history page by page");
	expect(&r, 200, member.token, "the first page", "/messages/get",
	       "{\"chat\":\"%s\",\"limit\":3}", group);
	check_page(&r, &m[0], 3, "limit 3");
	http_reply_free(&r);
	expect(&r, 200, member.token, "the next page", "/messages/get",
	       "{\"chat\":\"%s\",\"limit\":3,\"after\":\"%s\"}", group, m[2]);
	check_page(&r, &m[3], 3, "limit 3 after the third");
	http_reply_free(&r);
	expect(&r, 200, member.token, "the last page", "/messages/get",
	       "{\"chat\":\"%s\",\"limit\":3,\"after\":\"%s\"}", group, m[5]);
	check_page(&r, &m[6], 1, "limit 3 after the sixth");
	http_reply_free(&r);
	expect(&r, 200, member.token, "the newest 3 before the last",
	       "/messages/get",
	       "{\"chat\":\"%s\",\"limit\":3,\"before\":\"%s\"}", group,
	       m[6]);
	check_page(&r, &m[3], 3, "limit 3 before the seventh");
	http_reply_free(&r);
	expect(&r, 200, member.token, "between two messages", "/messages/get",
	       "{\"chat\":\"%s\",\"limit\":10,\"after\":\"%s\","
	       "\"before\":\"%s\"}", group, m[1], m[4]);
	check_page(&r, &m[2], 2, "after the second, before the fifth");
	http_reply_free(&r);
	post_message(member.token, group, "the member's own", own);

	note("the member is not the owner: adds and removes no one else");
	member_change(403, member.token, "a member adds someone",
		      true, group, outsider.id);
	member_change(403, member.token, "a member removes the owner",
		      false, group, owner.id);
	check_role(owner.token, group, outsider.id, "");
	check_role(owner.token, group, owner.id, "owner");

	note("read markers: others' messages after the marker are unread; "
	     "the marker only moves forward");
	check_marker(&member, group, NULL, HISTORY);
	read_to(204, &member, "read up to the fifth", group,
		m[4]);
	check_marker(&member, group, m[4], 2);
	read_to(204, &member, "read up to the third (back: kept)", group,
		m[2]);
	check_marker(&member, group, m[4], 2);
	read_to(400, &member, "a message of another chat", group,
		pm);
	expect_only(400, member.token, "beyond the chat's last message",
		    "/chats/read", "{\"chat\":\"%s\",\"message\":\"%lld\"}",
		    group, num_id(own) + 1000000);
	read_to(403, &outsider, "a non-member's marker", group,
		m[0]);
	read_to(404, &member, "no such chat", ID_TOP,
		m[0]);
	read_to(204, &member, "read up to the member's own", group,
		own);
	check_marker(&member, group, own, 0);
	check_marker(&owner, group, NULL, 1);

	note("the owner removes the member: the history is closed to them");
	member_change(204, owner.token, "members/remove",
		      false, group, member.id);
	expect_only(403, member.token, "messages/get after the removal",
		    "/messages/get", "{\"chat\":\"%s\"}", group);
	expect_only(403, member.token, "messages/add after the removal",
		    "/messages/add", "{\"chat\":\"%s\",\"text\":\"late\"}",
		    group);
	member_change(404, owner.token, "remove again: not a member",
		      false, group, member.id);
	assert_false(lists_chat(&member, group));
	expect(&r, 200, owner.token, "the owner's history is whole",
	       "/messages/get", "{\"chat\":\"%s\"}", group);
	assert_int_equal(json_array_size(r.json), HISTORY + 1);
	http_reply_free(&r);

	note("a private chat has its two members, never a third");
	member_change(409, owner.token, "a third member of a private chat",
		      true, priv, outsider.id);
	expect(&r, 200, owner.token, "chats/add of the pair's private chat",
	       "/chats/add", "{\"name\":\"again\",\"users\":[\"%s\"],"
	       "\"type\":\"private\"}", member.id);
	assert_string_equal(field(&r, "id"), priv);
	http_reply_free(&r);
	expect(&r, 200, member.token, "chats/direct from the other side",
	       "/chats/direct", "{\"user\":\"%s\"}", owner.id);
	assert_string_equal(field(&r, "id"), priv);
	http_reply_free(&r);
	expect_only(400, owner.token, "chats/direct with oneself",
		    "/chats/direct", "{\"user\":\"%s\"}", owner.id);
	expect_only(404, owner.token, "chats/direct with no such user",
		    "/chats/direct", "{\"user\":\"" ID_TOP "\"}");
	expect_only(404, owner.token, "messages/send to no such user",
		    "/messages/send",
		    "{\"to\":\"" ID_TOP "\",\"text\":\"hi\"}");
	expect(&r, 200, member.token, "the private chat's members",
	       "/chats/members", "{\"chat\":\"%s\"}", priv);
	assert_int_equal(json_array_size(r.json), 2);
	assert_string_equal(str_of(json_array_get(r.json, 0), "role"),
			    "member");
	http_reply_free(&r);
	expect_only(403, outsider.token, "chats/members of another's private "
		    "chat", "/chats/members", "{\"chat\":\"%s\"}", priv);

	note("a chat made without a session has no owner: fixed members "
	     "(none added, none leaves)");
	pair[0] = owner.id;
	pair[1] = member.id;
	uniq_name(text, sizeof(text), "fixed");
	assert_int_equal(api_chat_add(text, pair, 2, fixed), 201);
	c = chat_of(&owner, fixed);
	assert_true(json_is_null(json_object_get(c, "owner")));
	json_decref(c);
	member_change(403, owner.token, "members/add to a fixed chat",
		      true, fixed, outsider.id);
	member_change(403, member.token, "leaving a fixed chat",
		      false, fixed, member.id);

	note("the owner leaves: the longest-standing member owns the chat "
	     "(y joined before x, though x's id is lower)");
	group_of(&owner, "handover", second);
	member_change(204, owner.token, "add y",
		      true, second, y.id);
	member_change(204, owner.token, "add x",
		      true, second, x.id);
	member_change(403, x.token, "x removes y (not the owner)",
		      false, second, y.id);
	member_change(204, owner.token, "the owner leaves",
		      false, second, owner.id);
	expect(&r, 200, x.token, "chats/members after the owner left",
	       "/chats/members", "{\"chat\":\"%s\"}", second);
	assert_int_equal(json_array_size(r.json), 2);
	assert_string_equal(str_of(item_of(r.json, y.id), "role"), "owner");
	assert_string_equal(str_of(item_of(r.json, x.id), "role"), "member");
	assert_null(item_of(r.json, owner.id));
	http_reply_free(&r);
	c = chat_of(&x, second);
	assert_string_equal(str_of(c, "owner"), y.id);
	json_decref(c);
	assert_false(lists_chat(&owner, second));
	member_change(403, owner.token, "the one who left adds someone",
		      true, second, owner.id);
	member_change(204, y.token, "the new owner removes x",
		      false, second, x.id);
	member_change(204, y.token, "and adds the old owner back",
		      true, second, owner.id);
	check_role(owner.token, second, owner.id, "member");
	check_role(owner.token, second, y.id, "owner");
	member_change(204, owner.token, "a member leaves by itself",
		      false, second, owner.id);
	narrating = NULL;
}

/* ---- 3a. one private chat per pair --------------------------------------- */

static void test_race_direct(void **state)
{
	struct account a, b;
	struct shot s[SHOTS];
	int i, created = 0, existed = 0;
	long long chats, members;

	(void)state;
	signup_account("direct_a", &a);
	signup_account("direct_b", &b);
	memset(s, 0, sizeof(s));
	for (i = 0; i < SHOTS; i++) {
		bool from_a = i % 2 == 0;

		s[i].token = from_a ? a.token : b.token;
		s[i].path = "/chats/direct";
		snprintf(s[i].body, sizeof(s[i].body), "{\"user\":\"%s\"}",
			 from_a ? b.id : a.id);
	}
	fire(s, SHOTS);
	for (i = 0; i < SHOTS; i++) {
		if (s[i].status == 201)
			created++;
		else if (s[i].status == 200)
			existed++;
		else
			print_error("chats/direct %d: %s\n", i, s[i].error);
		if (strcmp(s[i].id, s[0].id) != 0 || !is_canonical_id(s[i].id))
			fail_msg_at("chats/direct %d answered chat '%s', the "
				    "first '%s'", i, s[i].id, s[0].id);
	}
	chats = sql_number("SELECT count(*) FROM chats WHERE type = 'private'"
			   " AND pair_low = least(%s, %s) AND pair_high = "
			   "greatest(%s, %s)", a.id, b.id, a.id, b.id);
	members = sql_number("SELECT count(*) FROM chat_members WHERE chat_id "
			     "= %s AND user_id IN (%s, %s)", s[0].id, a.id,
			     b.id);
	printf("[race a] %d concurrent chats/direct of one pair (10 from each "
	       "side): %d x 201, %d x 200, all chat %s; SQL: %lld private "
	       "chat(s) for the pair, %lld members of it (total %lld)\n",
	       SHOTS, created, existed, s[0].id, chats, members,
	       sql_number("SELECT count(*) FROM chat_members WHERE chat_id = "
			  "%s", s[0].id));
	assert_int_equal(created, 1);
	assert_int_equal(existed, SHOTS - 1);
	assert_int_equal(chats, 1);
	assert_int_equal(members, 2);
	assert_int_equal(sql_number("SELECT count(*) FROM chat_members WHERE "
				    "chat_id = %s", s[0].id), 2);
}

/* ---- 3b. a member removed while posting ---------------------------------- */

/* One messages/add of the poster. */
struct attempt {
	double start, end;	/* monotonic, around the request */
	long status;
	long long id;		/* the 201's id, else -1 */
	bool forbidden;		/* a 403 with error "forbidden" */
};

struct poster {
	const char *token;
	const char *chat;
	int round;
	struct attempt att[POST_MAX];
	atomic_int n;		/* attempts finished */
	atomic_int created;	/* of them 201 */
	char error[200];	/* the first answer neither 201 nor 403 */
};

/* Posts until TAIL_REFUSALS + 1 refusals, POST_MAX attempts, an answer
 * neither 201 nor 403, or DEADLINE_S. */
static void *poster_thread(void *arg)
{
	struct poster *p = arg;
	double deadline = now_seconds() + DEADLINE_S;
	int i, refused = 0;

	for (i = 0; i < POST_MAX && refused <= TAIL_REFUSALS &&
	     now_seconds() < deadline; i++) {
		struct attempt *a = &p->att[i];
		struct http_reply r;

		a->start = now_seconds();
		a->status = call(p->token, &r, "/messages/add",
				 "{\"chat\":\"%s\",\"text\":\"round %d post "
				 "%d\"}", p->chat, p->round, i);
		a->end = now_seconds();
		a->id = a->status == 201 ? num_id(field(&r, "id")) : -1;
		a->forbidden = a->status == 403 && field(&r, "error") != NULL &&
			       strcmp(field(&r, "error"), "forbidden") == 0;
		if (a->status == 201) {
			atomic_fetch_add(&p->created, 1);
		} else if (a->status == 403) {
			refused++;
		} else {
			snprintf(p->error, sizeof(p->error), "attempt %d: %ld "
				 "%.60s %.120s", i, a->status, r.error, r.body);
			i++;
			atomic_store(&p->n, i);
			http_reply_free(&r);
			break;
		}
		atomic_store(&p->n, i + 1);
		http_reply_free(&r);
	}
	http_thread_done();
	return NULL;
}

/*
 * Records, for every deletion from chat_members, the last message of the
 * chat that the deleting transaction sees, and the time. A removal holds
 * the chat's row lock, which every message insert takes before drawing
 * its id, so what it sees is every message committed before it and
 * nothing after: a cut in the chat's commit (= id) order. SECURITY
 * DEFINER: chatd's role writes the table whichever role it is.
 */
static const char removal_probe[] =
	"CREATE TABLE test_removals (chat_id bigint, user_id bigint,"
	"  last_message bigint, removed_at timestamptz);"
	"CREATE FUNCTION test_note_removal() RETURNS trigger"
	" LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN"
	"  INSERT INTO test_removals SELECT OLD.chat_id, OLD.user_id,"
	"   (SELECT coalesce(max(id), 0) FROM messages"
	"    WHERE chat_id = OLD.chat_id), clock_timestamp();"
	"  RETURN OLD; END $$;"
	"CREATE TRIGGER test_note_removal AFTER DELETE ON chat_members"
	" FOR EACH ROW EXECUTE FUNCTION test_note_removal()";
static const char removal_probe_drop[] =
	"DROP TRIGGER test_note_removal ON chat_members;"
	"DROP FUNCTION test_note_removal(); DROP TABLE test_removals";

/* One round: owner's chat, member added, the member posting while the
 * owner removes them; then the checks of 3b. */
static void removal_round(const struct account *owner,
			  const struct account *member, int round)
{
	struct poster *p = calloc(1, sizeof(*p));
	double deadline, rm_start, rm_end;
	int i, n, created, first_refusal = -1, in_flight = 0, flight_ok = 0;
	long long last_ok = 0, cut, stored, later;
	char chat[ID_LEN];
	struct http_reply r;
	pthread_t th;
	json_t *msgs;
	size_t k, mine = 0;

	assert_non_null(p);
	group_of(owner, "removal", chat);
	member_change(204, owner->token, "add the poster",
		      true, chat, member->id);
	p->token = member->token;
	p->chat = chat;
	p->round = round;
	assert_int_equal(pthread_create(&th, NULL, poster_thread, p), 0);
	deadline = now_seconds() + DEADLINE_S;
	while (atomic_load(&p->created) < REMOVE_AFTER &&
	       p->error[0] == '\0' && now_seconds() < deadline)
		sleep_ms(1);
	rm_start = now_seconds();
	call(owner->token, &r, "/chats/members/remove", "{\"chat\":\"%s\","
	     "\"user\":\"%s\"}", chat, member->id);
	rm_end = now_seconds();
	pthread_join(th, NULL);
	check_status(&r, 204, "members/remove of the poster");
	http_reply_free(&r);
	if (p->error[0] != '\0')
		fail_msg_at("round %d: the poster got %s", round, p->error);

	n = atomic_load(&p->n);
	created = atomic_load(&p->created);
	for (i = 0; i < n; i++) {
		const struct attempt *a = &p->att[i];

		if (a->status == 201) {
			if (first_refusal >= 0)
				fail_msg_at("round %d: attempt %d got 201 "
					    "after attempt %d's 403", round,
					    i, first_refusal);
			if (a->id <= last_ok)
				fail_msg_at("round %d: ids not increasing",
					    round);
			last_ok = a->id;
		} else if (first_refusal < 0) {
			first_refusal = i;
		}
		if (a->status == 403 && !a->forbidden)
			fail_msg_at("round %d: attempt %d: a 403 without error "
				    "\"forbidden\"", round, i);
		if (a->start > rm_end && a->status != 403)
			fail_msg_at("round %d: attempt %d, sent after the "
				    "removal's 204, got %ld", round, i,
				    a->status);
		if (a->end < rm_start && a->status != 201)
			fail_msg_at("round %d: attempt %d, answered before the "
				    "removal was sent, got %ld", round, i,
				    a->status);
		if (a->start < rm_end && a->end > rm_start) {
			in_flight++;
			flight_ok += a->status == 201;
		}
	}
	if (first_refusal < 0 || n - first_refusal != TAIL_REFUSALS + 1)
		fail_msg_at("round %d: %d attempts, first 403 at %d: the "
			    "poster did not end on %d refusals", round, n,
			    first_refusal, TAIL_REFUSALS + 1);

	/* Every 201 is in the history the owner reads, in order, and
	 * nothing else of the poster's is. */
	msgs = must_messages(chat);
	for (k = 0; k < json_array_size(msgs); k++) {
		json_t *m = json_array_get(msgs, k);

		if (strcmp(str_of(m, "author"), member->id) != 0)
			continue;
		if ((int)mine >= created || id_of(m, "id") != p->att[mine].id)
			fail_msg_at("round %d: the poster's message %zu in the "
				    "history is %s, not acknowledged so", round,
				    mine, str_of(m, "id"));
		mine++;
	}
	json_decref(msgs);
	if ((int)mine != created)
		fail_msg_at("round %d: %d messages acknowledged, %zu stored",
			    round, created, mine);

	/* The removal's cut: the poster's last 201 is the last message
	 * before it, and none of theirs is after it, by id or by time. */
	cut = sql_number("SELECT last_message FROM test_removals WHERE chat_id "
			 "= %s AND user_id = %s", chat, member->id);
	stored = sql_number("SELECT count(*) FROM messages WHERE chat_id = %s "
			    "AND author_id = %s", chat, member->id);
	later = sql_number("SELECT count(*) FROM messages m JOIN test_removals"
			   " t ON t.chat_id = m.chat_id AND t.user_id = "
			   "m.author_id WHERE m.chat_id = %s AND m.author_id = "
			   "%s AND (m.id > t.last_message OR m.created_at > "
			   "t.removed_at)", chat, member->id);
	printf("[race b] round %d: %d attempts: %d x 201 (ids up to %lld), "
	       "then %d x 403; the removal took %.2f ms, %d attempt(s) in "
	       "flight across it (%d of them 201); SQL: the removal saw "
	       "message %lld last, %lld of the poster's messages stored, "
	       "%lld after the removal\n", round, n, created, last_ok,
	       n - first_refusal, (rm_end - rm_start) * 1000, in_flight,
	       flight_ok, cut, stored, later);
	fflush(stdout);
	if (stored != created || cut != last_ok || later != 0)
		fail_msg_at("round %d: %lld of the poster's messages stored, "
			    "%d acknowledged; the removal's cut is message "
			    "%lld, the last 201 %lld; %lld stored after the "
			    "cut",
			    round, stored, created, cut, last_ok, later);
	free(p);
}

static void test_race_removal(void **state)
{
	struct account owner, member;
	int round;

	(void)state;
	signup_account("rm_owner", &owner);
	signup_account("rm_member", &member);
	sql_run("%s", removal_probe);
	for (round = 0; round < REMOVAL_ROUNDS; round++)
		removal_round(&owner, &member, round);
	sql_run("%s", removal_probe_drop);
}

/* ---- 3c. read markers and unread counts against SQL ---------------------- */

struct rc_shared {
	struct account users[RC_USERS];
	char chats[RC_CHATS][ID_LEN];
	atomic_int writers_left;
};

struct rc_writer {
	struct rc_shared *s;
	int user;
	char error[200];
};

struct rc_reader {
	struct rc_shared *s;
	int user;
	int reads, lists;
	long long first[RC_CHATS];	/* the first id read: read again
					   later, it moves nothing */
	long long marked[RC_CHATS];	/* the highest id read with 204 */
	long long seen[RC_CHATS];	/* last_read as chats/get last said */
	int went_back;		/* chats/get showed a marker move back */
	int below_mark;		/* or below a read answered 204 */
	char error[200];
};

static void *rc_writer_thread(void *arg)
{
	struct rc_writer *w = arg;
	int j;

	for (j = 0; j < RC_PER_WRITER && w->error[0] == '\0'; j++) {
		struct http_reply r;
		const char *chat = w->s->chats[(w->user + j) % RC_CHATS];

		if (call(w->s->users[w->user].token, &r, "/messages/add",
			 "{\"chat\":\"%s\",\"text\":\"writer %d message %d\"}",
			 chat, w->user, j) != 201)
			snprintf(w->error, sizeof(w->error), "message %d: %ld "
				 "%.120s", j, r.status, r.body);
		http_reply_free(&r);
	}
	atomic_fetch_sub(&w->s->writers_left, 1);
	http_thread_done();
	return NULL;
}

/* The newest message id of chat as token's user reads it, 0 when none,
 * -1 on a failure. */
static long long newest_of(const char *token, const char *chat)
{
	struct http_reply r;
	long long id = -1;

	if (call(token, &r, "/messages/get", "{\"chat\":\"%s\",\"limit\":1,"
		 "\"before\":\"" ID_TOP "\"}", chat) == 200 &&
	    json_is_array(r.json))
		id = json_array_size(r.json) == 0 ? 0 :
		     id_of(json_array_get(r.json, 0), "id");
	http_reply_free(&r);
	return id;
}

/* One pass of a reader: for each chat, read up to its newest message
 * (every fourth pass, up to the first one it read, which must change
 * nothing), then chats/get, whose markers must never go back nor stay
 * below a read already answered. False on a failure (in rd->error). */
static bool rc_reader_pass(struct rc_reader *rd, int pass)
{
	const struct account *u = &rd->s->users[rd->user];
	struct http_reply r;
	long long to;
	int k;

	for (k = 0; k < RC_CHATS; k++) {
		to = newest_of(u->token, rd->s->chats[k]);
		if (to < 0) {
			snprintf(rd->error, sizeof(rd->error), "messages/get "
				 "failed");
			return false;
		}
		if (pass % 4 == 3 && rd->first[k] > 0)
			to = rd->first[k];
		if (to == 0)
			continue;
		if (call(u->token, &r, "/chats/read", "{\"chat\":\"%s\","
			 "\"message\":\"%lld\"}", rd->s->chats[k], to) != 204) {
			snprintf(rd->error, sizeof(rd->error), "chats/read "
				 "%lld: %ld %.120s", to, r.status, r.body);
			http_reply_free(&r);
			return false;
		}
		http_reply_free(&r);
		rd->reads++;
		if (rd->first[k] == 0)
			rd->first[k] = to;
		if (to > rd->marked[k])
			rd->marked[k] = to;
	}
	if (http_post_as(u->token, "/chats/get", "{}", &r) != 200) {
		snprintf(rd->error, sizeof(rd->error), "chats/get: %ld %.120s",
			 r.status, r.body);
		http_reply_free(&r);
		return false;
	}
	rd->lists++;
	for (k = 0; k < RC_CHATS; k++) {
		long long lr = id_of(item_of(r.json, rd->s->chats[k]),
				     "last_read");

		rd->went_back += lr < rd->seen[k];
		rd->below_mark += lr < rd->marked[k];
		rd->seen[k] = lr;
	}
	http_reply_free(&r);
	return true;
}

/* Passes while the writers write, then one more. */
static void *rc_reader_thread(void *arg)
{
	struct rc_reader *rd = arg;
	double deadline = now_seconds() + DEADLINE_S;
	int pass = 0;
	bool last = false;

	while (!last && now_seconds() < deadline) {
		last = atomic_load(&rd->s->writers_left) == 0;
		if (!rc_reader_pass(rd, pass++))
			break;
	}
	http_thread_done();
	return NULL;
}

/* How a check made while others write went. */
struct rc_tally {
	int checks;	/* (user, chat) pairs checked */
	int exact;	/* of them with no message committed meanwhile */
};

/*
 * One check of user u's chats/get while others write and read: it must
 * equal the exact count at some moment between two SQL reads around it.
 * A chat's messages commit in id order (under its row lock), so a
 * snapshot sees its messages up to some id H, with H_before <= H <=
 * H_after; and markers only grow. So, with the answer's marker L:
 *   count(L < id <= H_before, others') <= unread <= count(L < id, others')
 *   marker before <= L <= marker after.
 */
static void rc_check_during(struct rc_shared *s, int u,
			    struct psql_session *ps, struct rc_tally *t)
{
	long long hb[RC_CHATS], lb[RC_CHATS], l[RC_CHATS], n[RC_CHATS];
	char sql[BODY_MAX], out[1024], *line, *save = NULL;
	struct http_reply r;
	int k, len;

	len = snprintf(sql, sizeof(sql), "SELECT (SELECT coalesce(max(id), 0)"
		       " FROM messages WHERE chat_id = c), (SELECT coalesce("
		       "last_read, 0) FROM chat_members WHERE chat_id = c AND "
		       "user_id = %s) FROM unnest(ARRAY[%s, %s, %s]::bigint[])"
		       " WITH ORDINALITY AS v(c, i) ORDER BY i",
		       s->users[u].id, s->chats[0], s->chats[1], s->chats[2]);
	assert_true(len < (int)sizeof(sql));
	sql_rows(ps, sql, out, sizeof(out));
	for (k = 0, line = strtok_r(out, "\n", &save); k < RC_CHATS;
	     k++, line = strtok_r(NULL, "\n", &save))
		if (line == NULL ||
		    sscanf(line, "%lld|%lld", &hb[k], &lb[k]) != 2)
			fail_msg_at("psql answered '%s'", line ? line : "");

	http_post_as(s->users[u].token, "/chats/get", "{}", &r);
	check_status(&r, 200, "chats/get during the race");
	for (k = 0; k < RC_CHATS; k++) {
		json_t *c = item_of(r.json, s->chats[k]);

		if (c == NULL || !json_is_integer(json_object_get(c, "unread")))
			fail_msg_at("chats/get: chat %s missing: %s",
				    s->chats[k], r.body);
		l[k] = id_of(c, "last_read");
		n[k] = json_integer_value(json_object_get(c, "unread"));
	}
	http_reply_free(&r);

	len = snprintf(sql, sizeof(sql), "SELECT x.low, x.high, (SELECT "
		       "coalesce(last_read, 0) FROM chat_members WHERE chat_id "
		       "= v.c AND user_id = %s) FROM (VALUES (1, %s, %lld, "
		       "%lld), (2, %s, %lld, %lld), (3, %s, %lld, %lld)) "
		       "v(i, c, l, h)"
		       " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE id "
		       "<= v.h) AS low, count(*) AS high FROM messages WHERE "
		       "chat_id = v.c AND id > v.l AND author_id <> %s) x "
		       "ORDER BY v.i", s->users[u].id, s->chats[0], l[0], hb[0],
		       s->chats[1], l[1], hb[1], s->chats[2], l[2], hb[2],
		       s->users[u].id);
	assert_true(len < (int)sizeof(sql));
	sql_rows(ps, sql, out, sizeof(out));
	save = NULL;
	for (k = 0, line = strtok_r(out, "\n", &save); k < RC_CHATS;
	     k++, line = strtok_r(NULL, "\n", &save)) {
		long long low, high, la;

		if (line == NULL || sscanf(line, "%lld|%lld|%lld", &low, &high,
					   &la) != 3)
			fail_msg_at("psql answered '%s'", line ? line : "");
		if (n[k] < low || n[k] > high || l[k] < lb[k] || l[k] > la)
			fail_msg_at("user %s, chat %s: chats/get said "
				    "last_read %lld, unread %lld; SQL around "
				    "it: marker %lld..%lld, unread %lld..%lld",
				    s->users[u].id, s->chats[k], l[k], n[k],
				    lb[k], la, low, high);
		t->checks++;
		t->exact += low == high;
	}
}

static void test_race_unread(void **state)
{
	struct rc_shared *s = calloc(1, sizeof(*s));
	struct rc_writer w[RC_USERS];
	struct rc_reader rd[RC_USERS];
	pthread_t wt[RC_USERS], rt[RC_USERS];
	struct rc_tally t = {0, 0};
	struct psql_session ps;
	int i, k, reads = 0, lists = 0, back = 0, below = 0;
	char sql[256], out[64];

	(void)state;
	assert_non_null(s);
	for (i = 0; i < RC_USERS; i++)
		signup_account("unread", &s->users[i]);
	for (k = 0; k < RC_CHATS; k++) {
		struct http_reply r;
		char name[64];

		uniq_name(name, sizeof(name), "unread");
		expect(&r, 201, s->users[0].token, "a chat of all",
		       "/chats/add", "{\"name\":\"%s\",\"users\":[\"%s\","
		       "\"%s\",\"%s\"]}", name, s->users[1].id, s->users[2].id,
		       s->users[3].id);
		check_created(&r, s->chats[k], "chats/add");
		http_reply_free(&r);
	}
	assert_int_equal(psql_open(&the_stack, &ps), 0);
	memset(w, 0, sizeof(w));
	memset(rd, 0, sizeof(rd));
	atomic_store(&s->writers_left, RC_USERS);
	for (i = 0; i < RC_USERS; i++) {
		w[i].s = rd[i].s = s;
		w[i].user = rd[i].user = i;
		assert_int_equal(pthread_create(&wt[i], NULL, rc_writer_thread,
						&w[i]), 0);
		assert_int_equal(pthread_create(&rt[i], NULL, rc_reader_thread,
						&rd[i]), 0);
	}
	for (i = 0; atomic_load(&s->writers_left) > 0; i = (i + 1) % RC_USERS)
		rc_check_during(s, i, &ps, &t);
	for (i = 0; i < RC_USERS; i++) {
		pthread_join(wt[i], NULL);
		pthread_join(rt[i], NULL);
	}
	for (i = 0; i < RC_USERS; i++) {
		if (w[i].error[0] != '\0')
			fail_msg_at("writer %d: %s", i, w[i].error);
		if (rd[i].error[0] != '\0')
			fail_msg_at("reader %d: %s", i, rd[i].error);
		reads += rd[i].reads;
		lists += rd[i].lists;
		back += rd[i].went_back;
		below += rd[i].below_mark;
	}
	printf("[race c] %d writers x %d messages into %d chats, %d readers: "
	       "%d chats/read (every fourth pass back to an older message), "
	       "%d chats/get by the readers, in which a marker went back %d "
	       "times and was below a read already answered %d times; "
	       "meanwhile %d (user, chat) checks of chats/get against SQL "
	       "around it (%d with no commit between, so exact), all within "
	       "bounds\n", RC_USERS, RC_PER_WRITER, RC_CHATS, RC_USERS, reads,
	       lists, back, below, t.checks, t.exact);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM messages WHERE "
		 "chat_id IN (%s, %s, %s)", s->chats[0], s->chats[1],
		 s->chats[2]);
	sql_rows(&ps, sql, out, sizeof(out));
	assert_int_equal(strtoll(out, NULL, 10), RC_USERS * RC_PER_WRITER);

	/* At rest: chats/get equals SQL's count exactly, each marker is the
	 * highest the reader read, and none went back on the way. */
	for (i = 0; i < RC_USERS; i++) {
		json_t *list = chats_of(&s->users[i]);

		if (rd[i].went_back != 0 || rd[i].below_mark != 0)
			fail_msg_at("reader %d: a marker went back %d times, "
				    "was below a done read %d times", i,
				    rd[i].went_back, rd[i].below_mark);
		for (k = 0; k < RC_CHATS; k++) {
			json_t *c = item_of(list, s->chats[k]);
			long long api_n = json_integer_value(json_object_get(c,
							     "unread"));
			long long api_l = id_of(c, "last_read"), sql_l, sql_n;

			snprintf(sql, sizeof(sql), "SELECT coalesce(last_read,"
				 " 0), (SELECT count(*) FROM messages x WHERE "
				 "x.chat_id = m.chat_id AND x.id > coalesce("
				 "m.last_read, 0) AND x.author_id <> "
				 "m.user_id) "
				 "FROM chat_members m WHERE chat_id = %s AND "
				 "user_id = %s", s->chats[k], s->users[i].id);
			sql_rows(&ps, sql, out, sizeof(out));
			if (sscanf(out, "%lld|%lld", &sql_l, &sql_n) != 2)
				fail_msg_at("psql answered '%s'", out);
			printf("[race c] after: user %s chat %s: last_read "
			       "%lld (highest read %lld), unread %lld; SQL: "
			       "last_read %lld, unread %lld\n",
			       s->users[i].id, s->chats[k], api_l,
			       rd[i].marked[k], api_n, sql_l, sql_n);
			assert_int_equal(api_l, sql_l);
			assert_int_equal(api_n, sql_n);
			assert_int_equal(api_l, rd[i].marked[k]);
		}
		json_decref(list);
	}
	psql_close(&ps);
	free(s);
}

/* ---- 3d. messages/send into a chat that does not exist yet --------------- */

static void test_race_send(void **state)
{
	struct account a, b;
	struct shot s[SHOTS];
	struct http_reply r;
	char ids[SHOTS][ID_LEN];
	long long chats, stored;
	int i, j, created = 0;

	(void)state;
	signup_account("send_a", &a);
	signup_account("send_b", &b);
	memset(s, 0, sizeof(s));
	for (i = 0; i < SHOTS; i++) {
		s[i].token = a.token;
		s[i].path = "/messages/send";
		snprintf(s[i].body, sizeof(s[i].body),
			 "{\"to\":\"%s\",\"text\":\"send %d\"}", b.id, i);
	}
	fire(s, SHOTS);
	for (i = 0; i < SHOTS; i++) {
		if (s[i].status != 201)
			fail_msg_at("messages/send %d: %s", i, s[i].error);
		if (strcmp(s[i].chat, s[0].chat) != 0)
			fail_msg_at("messages/send %d went to chat %s, the "
				    "first to %s", i, s[i].chat, s[0].chat);
		for (j = 0; j < i; j++)
			if (strcmp(s[i].id, s[j].id) == 0)
				fail_msg_at("two sends answered message %s",
					    s[i].id);
		snprintf(ids[i], sizeof(ids[i]), "%s", s[i].id);
		created++;
	}
	chats = sql_number("SELECT count(*) FROM chats WHERE type = 'private'"
			   " AND pair_low = least(%s, %s) AND pair_high = "
			   "greatest(%s, %s)", a.id, b.id, a.id, b.id);
	stored = sql_number("SELECT count(*) FROM messages WHERE chat_id = %s",
			    s[0].chat);
	expect(&r, 200, b.token, "the recipient's history", "/messages/get",
	       "{\"chat\":\"%s\"}", s[0].chat);
	printf("[race d] %d concurrent messages/send A->B, no chat before: "
	       "%d x 201, all into chat %s; SQL: %lld private chat(s) for the "
	       "pair, %lld messages in it; B's messages/get: %zu\n", SHOTS,
	       created, s[0].chat, chats, stored, json_array_size(r.json));
	assert_int_equal(chats, 1);
	assert_int_equal(stored, SHOTS);
	assert_int_equal(json_array_size(r.json), SHOTS);
	for (i = 0; i < SHOTS; i++)
		if (item_of(r.json, ids[i]) == NULL)
			fail_msg_at("message %s is not in the history", ids[i]);
	http_reply_free(&r);
	assert_int_equal(sql_number("SELECT count(*) FROM chat_members WHERE "
				    "chat_id = %s", s[0].chat), 2);
	check_marker(&b, s[0].chat, NULL, SHOTS);
}

/* ---- 4. messages/broadcast ----------------------------------------------- */

/* The users (other than from) whose private chat with from holds exactly
 * `want` messages of from's. */
static long long with_messages_from(const char *from, int want)
{
	return sql_number("SELECT count(*) FROM users u WHERE u.id <> %s AND "
			  "(SELECT count(*) FROM chats c JOIN messages m ON "
			  "m.chat_id = c.id AND m.author_id = %s WHERE "
			  "c.type = 'private' AND c.pair_low = least(u.id, %s) "
			  "AND c.pair_high = greatest(u.id, %s)) = %d", from,
			  from, from, from, want);
}

/* A broadcast by a that must be 201: the count (a JSON integer). */
static long long broadcast(const struct account *a, const char *text)
{
	struct http_reply r;
	long long count;

	expect(&r, 201, a->token, "broadcast", "/messages/broadcast",
	       "{\"text\":\"%s\"}", text);
	if (!json_is_integer(json_object_get(r.json, "count")))
		fail_msg_at("broadcast: no integer count in %s", r.body);
	count = json_integer_value(json_object_get(r.json, "count"));
	http_reply_free(&r);
	return count;
}

/* Restart the stack with BASE_ARGS and `more`. */
static void restart_with(const char *more)
{
	char args[256];

	snprintf(args, sizeof(args), "%s%s%s", BASE_ARGS, more[0] ? " " : "",
		 more);
	setenv("CHATD_SERVE_ARGS", args, 1);
	assert_int_equal(stack_restart(&the_stack), 0);
}

static void test_broadcast(void **state)
{
	struct account admin, b, plain;
	char chat[ID_LEN], first[ID_LEN];
	long long others, count, chats_before, chats_after;
	struct http_reply r;
	json_t *c;

	(void)state;
	narrating = "broadcast";
	signup_account("admin", &admin);
	signup_account("bc_b", &b);
	signup_account("bc_plain", &plain);
	note("b already has a private chat with the admin, with b's message");
	expect(&r, 201, b.token, "b writes to the admin", "/messages/send",
	       "{\"to\":\"%s\",\"text\":\"before\"}", admin.id);
	snprintf(chat, sizeof(chat), "%s", field(&r, "chat"));
	snprintf(first, sizeof(first), "%s", field(&r, "id"));
	http_reply_free(&r);

	expect_only(403, admin.token, "not yet an administrator",
		    "/messages/broadcast", "{\"text\":\"too early\"}");
	note("grant: UPDATE users SET is_admin = true WHERE id = %s", admin.id);
	sql_run("UPDATE users SET is_admin = true WHERE id = %s", admin.id);
	others = sql_number("SELECT count(*) FROM users WHERE id <> %s",
			    admin.id);
	chats_before = sql_number("SELECT count(*) FROM chats WHERE type = "
				  "'private' AND %s IN (pair_low, pair_high)",
				  admin.id);
	count = broadcast(&admin, "to everyone");
	chats_after = sql_number("SELECT count(*) FROM chats WHERE type = "
				 "'private' AND %s IN (pair_low, pair_high)",
				 admin.id);
	note("count %lld; SQL: %lld other users, %lld with exactly one "
	     "message of the admin's in their private chat; the admin's "
	     "private chats %lld before, %lld after", count, others,
	     with_messages_from(admin.id, 1), chats_before, chats_after);
	assert_int_equal(count, others);
	assert_int_equal(with_messages_from(admin.id, 1), others);
	assert_int_equal(chats_before, 1);
	assert_int_equal(chats_after, others);

	note("b sees the one new message in the chat it had");
	c = chat_of(&b, chat);
	assert_int_equal(json_integer_value(json_object_get(c, "unread")), 1);
	json_decref(c);
	expect(&r, 200, b.token, "b's history with the admin", "/messages/get",
	       "{\"chat\":\"%s\"}", chat);
	assert_int_equal(json_array_size(r.json), 2);
	assert_string_equal(str_of(json_array_get(r.json, 0), "id"), first);
	assert_string_equal(str_of(json_array_get(r.json, 1), "author"),
			    admin.id);
	assert_string_equal(str_of(json_array_get(r.json, 1), "text"),
			    "to everyone");
	http_reply_free(&r);

	expect_only(403, plain.token, "a non-administrator broadcasts",
		    "/messages/broadcast", "{\"text\":\"not allowed\"}");
	assert_int_equal(sql_number("SELECT count(*) FROM messages WHERE "
				    "author_id = %s", plain.id), 0);

	note("restart with --broadcast anyone (and the same Argon2 cost)");
	restart_with("--broadcast anyone");
	count = broadcast(&plain, "from anyone");
	note("count %lld; SQL: %lld users with exactly one message of the "
	     "non-administrator's", count, with_messages_from(plain.id, 1));
	assert_int_equal(count, others);
	assert_int_equal(with_messages_from(plain.id, 1), others);
	restart_with("");
	expect_only(403, plain.token, "after a restart without it: refused",
		    "/messages/broadcast", "{\"text\":\"not any more\"}");
	narrating = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed004_scenario),
		cmocka_unit_test(test_seed002_flow),
		cmocka_unit_test(test_race_direct),
		cmocka_unit_test(test_race_removal),
		cmocka_unit_test(test_race_unread),
		cmocka_unit_test(test_race_send),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_many_chats_with_session),
	};

	setenv("CHATD_SERVE_ARGS", BASE_ARGS, 1);
	return cmocka_run_group_tests(tests, stack_group_setup,
				      stack_group_teardown);
}
