/*
 * test_api.c - API.md sections 0 and 1, rule by rule, over real HTTP.
 *
 * Every test makes its own users and chats with unique names, so the tests
 * are independent of each other and of their order (except that
 * test_chats_get_users_numeric_order runs first, while ids are still short).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

/* Timestamps must be within this many seconds of the test's clock. */
#define MAX_CLOCK_SKEW_S 900.0


/* ---- helpers ------------------------------------------------------------ */

/* printf into a new string; caller frees. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char probe[1];
	int n;
	char *s;

	va_start(ap, f);
	n = vsnprintf(probe, sizeof(probe), f, ap);
	va_end(ap);
	if (n < 0)
		abort();
	s = malloc((size_t)n + 1);
	if (s == NULL)
		abort();
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* Printable description of a request for failure messages. */
static void describe(char *buf, size_t n, const char *path, const char *body,
		     size_t len)
{
	size_t i, o;

	o = (size_t)snprintf(buf, n, "POST %s ", path);
	for (i = 0; i < len && o + 5 < n && i < 160; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o < n ? o : n - 1] = '\0';
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay != NULL && *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* The error message names `a` or (if not NULL) `b`. */
static void check_mentions(const struct http_reply *r, const char *a,
			   const char *b, const char *what)
{
	const char *msg = json_string_value(json_object_get(r->json, "message"));

	if (contains_ci(msg, a) || (b != NULL && contains_ci(msg, b)))
		return;
	fail_msg_at("%s: error message \"%s\" should name '%s'%s%s", what,
		    msg ? msg : "(none)", a, b ? " or '" : "", b ? b : "");
}

/* POST raw bytes, expect an error reply; `field` (may be NULL) must be
 * named by the message. */
static void raw_error(const char *path, const char *body, size_t len,
		      long status, const char *code, const char *field)
{
	struct http_reply r;
	char what[512];

	describe(what, sizeof(what), path, body, len);
	http_post(path, body, len, NULL, &r);
	check_error(&r, status, code, what);
	if (field != NULL)
		check_mentions(&r, field, NULL, what);
	http_reply_free(&r);
}

static void str_error(const char *path, const char *body, long status,
		      const char *code, const char *field)
{
	raw_error(path, body, strlen(body), status, code, field);
}

/* POST a JSON request (stolen), expect an error. */
static void json_error(const char *path, json_t *req, long status,
		       const char *code, const char *field)
{
	char *s = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY);

	raw_error(path, s, strlen(s), status, code, field);
	free(s);
	json_decref(req);
}

/* POST raw bytes, expect 201 with an id. */
static void raw_created(const char *path, const char *body, size_t len,
			const char *extra_header, char *id_out)
{
	struct http_reply r;
	char what[512];

	describe(what, sizeof(what), path, body, len);
	http_post(path, body, len, extra_header, &r);
	check_created(&r, id_out, what);
	http_reply_free(&r);
}

static void json_created(const char *path, json_t *req, char *id_out)
{
	char *s = json_dumps(req, JSON_COMPACT);

	raw_created(path, s, strlen(s), NULL, id_out);
	free(s);
	json_decref(req);
}

/* POST a JSON request (stolen), expect 200 with an array (new ref). */
static json_t *json_list(const char *path, json_t *req)
{
	struct http_reply r;
	char *s = json_dumps(req, JSON_COMPACT);
	char what[512];
	json_t *arr;

	describe(what, sizeof(what), path, s, strlen(s));
	http_post(path, s, strlen(s), NULL, &r);
	check_status(&r, 200, what);
	if (!is_json_content_type(r.content_type))
		fail_msg_at("%s: Content-Type '%s' is not application/json",
			    what, r.content_type);
	if (!json_is_array(r.json))
		fail_msg_at("%s: body is not a JSON array: %s", what, r.body);
	arr = json_incref(r.json);
	http_reply_free(&r);
	free(s);
	json_decref(req);
	return arr;
}

/* An id string as a JSON integer. */
static json_t *id_int(const char *id)
{
	return json_integer((json_int_t)strtoll(id, NULL, 10));
}

static const char *str_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The chat with id `id` in a chats/get array, or NULL (borrowed). */
static json_t *find_chat(json_t *chats, const char *id)
{
	size_t i;
	json_t *c;

	json_array_foreach(chats, i, c) {
		const char *cid = str_at(c, "id");

		if (cid != NULL && strcmp(cid, id) == 0)
			return c;
	}
	return NULL;
}

/* The list's "id" fields equal `ids` (n of them) in order. */
static void check_ids(json_t *list, const char *const *ids, size_t n,
		      const char *what)
{
	size_t i;
	char *dump;

	if (json_array_size(list) == n) {
		for (i = 0; i < n; i++) {
			const char *id = str_at(json_array_get(list, i), "id");

			if (id == NULL || strcmp(id, ids[i]) != 0)
				break;
		}
		if (i == n)
			return;
	}
	dump = json_dumps(list, JSON_COMPACT);
	print_error("%s: expected ids", what);
	for (i = 0; i < n; i++)
		print_error(" %s", ids[i]);
	print_error("\n  got: %.2000s\n", dump);
	free(dump);
	fail_msg_at("%s: wrong list", what);
}

/* messages/get with extra paging fields: `req` (stolen) gets "chat". */
static json_t *page(const char *chat, json_t *req)
{
	json_object_set_new(req, "chat", json_string(chat));
	return json_list("/messages/get", req);
}

/* A unique name of exactly `cps` code points: a unique ASCII stem padded
 * with `pad` (one code point, any UTF-8 length). */
static char *name_of_length(const char *prefix, size_t cps, const char *pad)
{
	char stem[64], *padding, *out;
	size_t sl;

	uniq_name(stem, sizeof(stem), prefix);
	sl = strlen(stem);
	assert_true(sl < cps);
	padding = str_repeat(pad, cps - sl);
	out = fmt("%s%s", stem, padding);
	free(padding);
	return out;
}

/* ---- fixture ------------------------------------------------------------ */


/* ---- chats/get: users in numeric order (runs first) --------------------- */

/* chats/get of `user` lists `chat` with exactly the members `want`, in
 * that order. */
static void check_users(const char *user, const char *chat,
			const char *const *want, size_t n)
{
	json_t *chats = must_chats(user), *c, *users;
	size_t i;

	c = find_chat(chats, chat);
	assert_non_null(c);
	users = json_object_get(c, "users");
	assert_true(json_is_array(users));
	assert_int_equal(json_array_size(users), n);
	for (i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(users, i)),
				    want[i]);
	json_decref(chats);
}

static void test_chats_get_users_numeric_order(void **state)
{
	char first[ID_LEN], mid[ID_LEN], last[ID_LEN], chat[ID_LEN];
	const char *members[3], *want[3];
	int n;

	(void)state;
	/* Create users until an id has more digits than the first one, so
	 * that numeric and string order differ ("9" < "10" but "10" < "9"). */
	must_user("num", first);
	strcpy(mid, first);
	strcpy(last, first);
	for (n = 0; strlen(last) == strlen(first); n++) {
		if (n > 5000)
			fail_msg_at("ids never gained a digit (first id %s)", first);
		strcpy(mid, last);
		must_user("num", last);
	}
	/* Members given in reverse order. */
	members[0] = last;
	members[1] = mid;
	members[2] = first;
	must_chat("numchat", members, 3, chat);

	want[0] = first;
	want[1] = mid;
	want[2] = last;
	check_users(first, chat, want, 3);
}

/* The members chats/get lists come from chats.members, a copy that the
 * schema's triggers keep equal to chat_members: a member removed or added
 * by SQL (as a later membership API will) shows at once, still sorted. */
static void test_chats_get_members_follow_chat_members(void **state)
{
	char a[ID_LEN], b[ID_LEN], c[ID_LEN], chat[ID_LEN];
	const char *members[2], *want[2];
	json_t *chats;
	char *sql;

	(void)state;
	must_user("mem", a);
	must_user("mem", b);
	must_user("mem", c);
	members[0] = a;
	members[1] = b;
	must_chat("memchat", members, 2, chat);

	sql = fmt("DELETE FROM chat_members WHERE chat_id = %s AND user_id = %s",
		  chat, b);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	free(sql);
	want[0] = a;
	check_users(a, chat, want, 1);
	chats = must_chats(b);
	assert_null(find_chat(chats, chat));
	json_decref(chats);

	sql = fmt("INSERT INTO chat_members (chat_id, user_id) VALUES (%s, %s)",
		  chat, c);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	free(sql);
	want[1] = c;
	check_users(c, chat, want, 2);
}

/* ---- users/add ---------------------------------------------------------- */

static void test_users_add_created(void **state)
{
	struct http_reply r;
	char name[64], id1[ID_LEN], id2[ID_LEN];
	const char *k;
	json_t *v;

	(void)state;
	uniq_name(name, sizeof(name), "user");
	http_post_json("/users/add", json_pack("{s:s}", "username", name),
		       NULL, &r);
	check_created(&r, id1, "users/add");
	/* The body is exactly {"id": "<id>"}. */
	json_object_foreach(r.json, k, v) {
		if (strcmp(k, "id") != 0)
			fail_msg_at("users/add reply has field '%s'", k);
	}
	http_reply_free(&r);

	must_user("user", id2);
	assert_string_not_equal(id1, id2);
}

static void test_users_add_conflict_case_sensitive(void **state)
{
	char name[64], upper[64];
	size_t i;

	(void)state;
	uniq_name(name, sizeof(name), "case");
	assert_int_equal(api_user_add(name, NULL), 201);
	json_error("/users/add", json_pack("{s:s}", "username", name), 409,
		   "conflict", NULL);
	/* A second conflict is still a conflict (nothing half-created). */
	json_error("/users/add", json_pack("{s:s}", "username", name), 409,
		   "conflict", NULL);
	/* Another case is another name. */
	strcpy(upper, name);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	assert_int_equal(api_user_add(upper, NULL), 201);
	json_error("/users/add", json_pack("{s:s}", "username", upper), 409,
		   "conflict", NULL);
}

static void test_users_add_bad_bodies(void **state)
{
	char name[64];
	size_t i;
	const char *not_objects[] = {
		"", "not json", "{", "{\"username\": \"abc\"", "}",
		"[]", "[{\"username\": \"x_array\"}]", "\"x_scalar\"", "42",
		"4.5", "null", "true", "{\"username\": \"x_a\"} {\"username\": \"x_b\"}",
		"{\"username\": \"x_c\"} garbage", "{username: \"x_d\"}",
		"{'username': 'x_e'}", "{\"username\": \"x_f\",}",
	};

	(void)state;
	for (i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++)
		str_error("/users/add", not_objects[i], 400, "bad_request", NULL);

	/* Missing field. */
	str_error("/users/add", "{}", 400, "bad_request", "username");
	json_error("/users/add", json_pack("{s:s}", "name", "x_missing"), 400,
		   "bad_request", "username");
	/* Wrong types. */
	json_error("/users/add", json_pack("{s:i}", "username", 5), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:f}", "username", 4.5), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:n}", "username"), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:b}", "username", 1), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:[s]}", "username", "x_arr"), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:{s:s}}", "username", "a", "b"),
		   400, "bad_request", "username");
	/* Empty and whitespace-only. */
	json_error("/users/add", json_pack("{s:s}", "username", ""), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:s}", "username", " "), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:s}", "username", "\t"), 400,
		   "bad_request", "username");
	json_error("/users/add", json_pack("{s:s}", "username", " \n\r\t  "),
		   400, "bad_request", "username");
	/* Other whitespace: VT, FF, NO-BREAK SPACE, IDEOGRAPHIC SPACE. */
	json_error("/users/add", json_pack("{s:s}", "username", "\v\f"), 400,
		   "bad_request", "username");
	json_error("/users/add",
		   json_pack("{s:s}", "username", "\xc2\xa0\xe3\x80\x80 "), 400,
		   "bad_request", "username");

	/* U+0000 as an escape. */
	uniq_name(name, sizeof(name), "nul");
	{
		char *b = fmt("{\"username\": \"%s\\u0000x\"}", name);

		str_error("/users/add", b, 400, "bad_request", NULL);
		free(b);
		b = fmt("{\"username\": \"\\u0000\"}");
		str_error("/users/add", b, 400, "bad_request", NULL);
		free(b);
	}
	/* Invalid UTF-8 in the body, and a lone surrogate escape. */
	{
		static const char *const bad[] = {
			"\xff", "\xc3(", "\xc0\xaf", "\xed\xa0\x80",
			"\xf8\x88\x80\x80\x80", "\xe2\x82", "\x80",
			"\xf4\x90\x80\x80",
		};
		size_t j;

		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			char *b = fmt("{\"username\": \"%s%s\"}", name, bad[j]);

			raw_error("/users/add", b, strlen(b), 400,
				  "bad_request", NULL);
			free(b);
		}
		{
			char *b = fmt("{\"username\": \"%s\\ud800\"}", name);

			str_error("/users/add", b, 400, "bad_request", NULL);
			free(b);
		}
	}
	/* None of that created the user. */
	assert_int_equal(api_user_add(name, NULL), 201);
}

static void test_users_add_name_length(void **state)
{
	static const char *const pads[] = { "x", "\xc3\xa9" /* é */,
		"\xe2\x82\xac" /* € */, "\xf0\x9f\x98\x80" /* 😀 */ };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *ok = name_of_length("len", 64, pads[i]);
		char *bad = name_of_length("len", 65, pads[i]);

		json_created("/users/add", json_pack("{s:s}", "username", ok),
			     NULL);
		json_error("/users/add", json_pack("{s:s}", "username", bad), 400,
			   "bad_request", "username");
		/* The 64-code-point name is taken as a whole. */
		json_error("/users/add", json_pack("{s:s}", "username", ok), 409,
			   "conflict", NULL);
		free(ok);
		free(bad);
	}
	/* 64 x "é" exactly: 128 bytes, 64 code points. */
	{
		char *ok = str_repeat("\xc3\xa9", 64);
		char *bad = str_repeat("\xc3\xa9", 65);

		json_created("/users/add", json_pack("{s:s}", "username", ok),
			     NULL);
		json_error("/users/add", json_pack("{s:s}", "username", bad), 400,
			   "bad_request", "username");
		free(ok);
		free(bad);
	}
	/* Written as \u escapes, the same rule applies. */
	{
		char stem[64], *esc, *b;
		size_t sl;

		uniq_name(stem, sizeof(stem), "esc");
		sl = strlen(stem);
		esc = str_repeat("\\u00e9", 64 - sl);
		b = fmt("{\"username\": \"%s%s\"}", stem, esc);
		raw_created("/users/add", b, strlen(b), NULL, NULL);
		free(b);
		b = fmt("{\"username\": \"%s%s\\u00e9\"}", stem, esc);
		str_error("/users/add", b, 400, "bad_request", "username");
		free(b);
		free(esc);
	}
	/* One character is enough ("Q" and "\xe2\x82\xac" are created nowhere
	 * else; the database is this binary's own). */
	assert_int_equal(api_user_add("Q", NULL), 201);
	assert_int_equal(api_user_add("\xe2\x82\xac", NULL), 201);
	assert_int_equal(api_user_add("Q", NULL), 409);
}

static void test_users_add_whitespace_kept(void **state)
{
	char name[64], padded[80];

	(void)state;
	uniq_name(name, sizeof(name), "ws");
	snprintf(padded, sizeof(padded), "  %s\t", name);
	assert_int_equal(api_user_add(name, NULL), 201);
	/* Not trimmed: the padded name is a different name. */
	assert_int_equal(api_user_add(padded, NULL), 201);
	assert_int_equal(api_user_add(padded, NULL), 409);
	/* Inner spaces are fine too. */
	snprintf(padded, sizeof(padded), "%s with spaces", name);
	assert_int_equal(api_user_add(padded, NULL), 201);
}

/* ---- section 0 conventions ---------------------------------------------- */

static void test_content_type_not_required(void **state)
{
	char name[64], *b;

	(void)state;
	/* No Content-Type at all. */
	uniq_name(name, sizeof(name), "noct");
	b = fmt("{\"username\": \"%s\"}", name);
	raw_created("/users/add", b, strlen(b), "Content-Type:", NULL);
	free(b);
	/* What `curl -d` sends without -H. */
	uniq_name(name, sizeof(name), "form");
	b = fmt("{\"username\": \"%s\"}", name);
	raw_created("/users/add", b, strlen(b),
		    "Content-Type: application/x-www-form-urlencoded", NULL);
	free(b);
	/* Something else entirely. */
	uniq_name(name, sizeof(name), "text");
	b = fmt("{\"username\": \"%s\"}", name);
	raw_created("/users/add", b, strlen(b), "Content-Type: text/plain",
		    NULL);
	free(b);
	/* Whitespace around the JSON (curl -d @file keeps a newline). */
	uniq_name(name, sizeof(name), "nl");
	b = fmt("\n {\"username\": \"%s\"}\n", name);
	raw_created("/users/add", b, strlen(b), NULL, NULL);
	free(b);
	/* The form content type does not make a non-JSON body acceptable. */
	{
		struct http_reply r;

		http_post("/users/add", "username=x_form", 15,
			  "Content-Type: application/x-www-form-urlencoded", &r);
		check_error(&r, 400, "bad_request", "form-encoded body");
		http_reply_free(&r);
	}
}

static void test_unknown_fields_ignored(void **state)
{
	char name[64], u[ID_LEN], chat[ID_LEN], msg[ID_LEN];
	json_t *msgs;

	(void)state;
	uniq_name(name, sizeof(name), "extra");
	json_created("/users/add",
		     json_pack("{s:s,s:s,s:{s:[i,n]},s:i}", "username", name,
			       "password", "secret", "profile", "a", 1,
			       "age", 42),
		     u);
	uniq_name(name, sizeof(name), "extrachat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[s],s:s,s:b}", "name", name, "users", u,
			       "topic", "x", "private", 1),
		     chat);
	json_created("/messages/add",
		     json_pack("{s:s,s:s,s:s,s:s}", "chat", chat, "author", u,
			       "text", "hi", "reply_to", "nothing"),
		     msg);
	msgs = json_list("/messages/get",
			 json_pack("{s:s,s:s}", "chat", chat, "whatever", "x"));
	check_ids(msgs, (const char *[]){ msg }, 1, "messages/get with extras");
	json_decref(msgs);
	msgs = json_list("/chats/get",
			 json_pack("{s:s,s:i}", "user", u, "page", 3));
	assert_non_null(find_chat(msgs, chat));
	json_decref(msgs);
}

static void test_duplicate_keys(void **state)
{
	char name[64], u[ID_LEN], chat[ID_LEN], *b;

	(void)state;
	uniq_name(name, sizeof(name), "dup");
	b = fmt("{\"username\": \"%s\", \"username\": \"%s_2\"}", name, name);
	str_error("/users/add", b, 400, "bad_request", NULL);
	free(b);
	/* Even with the same value twice. */
	b = fmt("{\"username\": \"%s\", \"username\": \"%s\"}", name, name);
	str_error("/users/add", b, 400, "bad_request", NULL);
	free(b);
	/* Nothing was created by those. */
	assert_int_equal(api_user_add(name, u), 201);

	uniq_name(name, sizeof(name), "dupchat");
	b = fmt("{\"name\": \"%s\", \"users\": [\"%s\"], \"users\": []}", name,
		u);
	str_error("/chats/add", b, 400, "bad_request", NULL);
	free(b);
	assert_int_equal(api_chat_add(name, (const char *[]){ u }, 1, chat), 201);

	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"a\", "
		"\"text\": \"b\"}", chat, u);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"chat\": \"%s\", \"chat\": \"%s\"}", chat, chat);
	str_error("/messages/get", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"user\": \"%s\", \"user\": \"%s\"}", u, u);
	str_error("/chats/get", b, 400, "bad_request", NULL);
	free(b);
	/* Duplicates inside a nested object are duplicates too. */
	b = fmt("{\"user\": \"%s\", \"x\": {\"a\": 1, \"a\": 2}}", u);
	str_error("/chats/get", b, 400, "bad_request", NULL);
	free(b);
	/* The rejected message was not stored. */
	{
		json_t *msgs = must_messages(chat);

		assert_int_equal(json_array_size(msgs), 0);
		json_decref(msgs);
	}
}

/* Transport details a client may differ in: a query string, a chunked
 * body, absurd nesting. */
static void test_request_variants(void **state)
{
	char name[64], *b, *deep;
	size_t depth = 100000, i;

	(void)state;
	/* The path decides, not the query string. */
	uniq_name(name, sizeof(name), "query");
	b = fmt("{\"username\": \"%s\"}", name);
	{
		struct http_reply r;

		http_post("/users/add?source=test&x=1", b, strlen(b), NULL, &r);
		check_created(&r, NULL, "POST /users/add?source=test&x=1");
		http_reply_free(&r);
	}
	free(b);
	/* A chunked body (no Content-Length). */
	uniq_name(name, sizeof(name), "chunked");
	b = fmt("{\"username\": \"%s\"}", name);
	raw_created("/users/add", b, strlen(b), "Transfer-Encoding: chunked",
		    NULL);
	assert_int_equal(api_user_add(name, NULL), 409);
	free(b);
	/* Nesting far deeper than any parser should follow: 400, and the
	 * worker lives on. */
	deep = malloc(2 * depth + 1);
	assert_non_null(deep);
	for (i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[depth + i] = ']';
	}
	deep[2 * depth] = '\0';
	raw_error("/users/add", deep, 2 * depth, 400, "bad_request", NULL);
	uniq_name(name, sizeof(name), "deep");
	b = fmt("{\"username\": \"%s\", \"extra\": %s}", name, deep);
	raw_error("/users/add", b, strlen(b), 400, "bad_request", NULL);
	free(b);
	free(deep);
	assert_int_equal(api_user_add(name, NULL), 201);
	/* A byte-order mark is not JSON. */
	uniq_name(name, sizeof(name), "bom");
	b = fmt("\xef\xbb\xbf{\"username\": \"%s\"}", name);
	str_error("/users/add", b, 400, "bad_request", NULL);
	free(b);
}

/* ---- chats/add ---------------------------------------------------------- */

static void test_chats_add_created(void **state)
{
	char a[ID_LEN], b[ID_LEN], c[ID_LEN], chat[ID_LEN], chat2[ID_LEN];
	char name[64];
	json_t *chats, *users;

	(void)state;
	must_user("ca", a);
	must_user("ca", b);
	must_user("ca", c);
	/* String ids. */
	uniq_name(name, sizeof(name), "chat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[s,s]}", "name", name, "users", a, b),
		     chat);
	/* Integer and mixed ids. */
	uniq_name(name, sizeof(name), "chat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[o,s]}", "name", name, "users", id_int(a),
			       c),
		     chat2);
	assert_string_not_equal(chat, chat2);

	chats = must_chats(a);
	assert_int_equal(json_array_size(chats), 2);
	users = json_object_get(find_chat(chats, chat), "users");
	assert_int_equal(json_array_size(users), 2);
	assert_string_equal(json_string_value(json_array_get(users, 0)), a);
	assert_string_equal(json_string_value(json_array_get(users, 1)), b);
	users = json_object_get(find_chat(chats, chat2), "users");
	assert_int_equal(json_array_size(users), 2);
	assert_string_equal(json_string_value(json_array_get(users, 0)), a);
	assert_string_equal(json_string_value(json_array_get(users, 1)), c);
	json_decref(chats);

	/* b is only in the first chat, c only in the second. */
	chats = must_chats(b);
	assert_int_equal(json_array_size(chats), 1);
	assert_non_null(find_chat(chats, chat));
	json_decref(chats);
	chats = must_chats(c);
	assert_int_equal(json_array_size(chats), 1);
	assert_non_null(find_chat(chats, chat2));
	json_decref(chats);
}

static void test_chats_add_repeated_and_empty_users(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], empty[ID_LEN], name[64];
	json_t *chats, *users;

	(void)state;
	must_user("rep", a);
	must_user("rep", b);
	uniq_name(name, sizeof(name), "repchat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[s,s,o,s,s]}", "name", name, "users", b, a,
			       id_int(b), a, b),
		     chat);
	chats = must_chats(a);
	assert_int_equal(json_array_size(chats), 1);
	users = json_object_get(find_chat(chats, chat), "users");
	assert_int_equal(json_array_size(users), 2);
	assert_string_equal(json_string_value(json_array_get(users, 0)), a);
	assert_string_equal(json_string_value(json_array_get(users, 1)), b);
	json_decref(chats);
	/* Both are members: both may write. */
	must_message(chat, a, "from a", NULL);
	must_message(chat, b, "from b", NULL);

	/* An empty member list makes a chat with no members. */
	uniq_name(name, sizeof(name), "emptychat");
	json_created("/chats/add", json_pack("{s:s,s:[]}", "name", name, "users"),
		     empty);
	/* It exists: its name is taken, and messages/get answers []. */
	json_error("/chats/add", json_pack("{s:s,s:[]}", "name", name, "users"),
		   409, "conflict", NULL);
	chats = must_messages(empty);
	assert_int_equal(json_array_size(chats), 0);
	json_decref(chats);
	/* Nobody is a member, so nobody may write. */
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", empty, "author", a, "text",
			     "x"),
		   403, "forbidden", NULL);
}

static void test_chats_add_unknown_user(void **state)
{
	char a[ID_LEN], name[64], chat[ID_LEN];
	static const char *const missing[] = { "999999999999",
		"9223372036854775807", "0" };
	struct http_reply r;
	json_t *chats;
	size_t i;

	(void)state;
	must_user("unk", a);
	uniq_name(name, sizeof(name), "unkchat");
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		/* The unknown id after, then before, a known one. */
		http_post_json("/chats/add",
			       json_pack("{s:s,s:[s,s]}", "name", name, "users", a,
					 missing[i]),
			       NULL, &r);
		check_error(&r, 404, "not_found", missing[i]);
		check_mentions(&r, missing[i], NULL, "chats/add unknown user");
		http_reply_free(&r);
		http_post_json("/chats/add",
			       json_pack("{s:s,s:[s,s]}", "name", name, "users",
					 missing[i], a),
			       NULL, &r);
		check_error(&r, 404, "not_found", missing[i]);
		check_mentions(&r, missing[i], NULL, "chats/add unknown user");
		http_reply_free(&r);
	}
	/* As JSON integers. */
	json_error("/chats/add",
		   json_pack("{s:s,s:[s,I]}", "name", name, "users", a,
			     (json_int_t)999999999999LL),
		   404, "not_found", NULL);
	json_error("/chats/add",
		   json_pack("{s:s,s:[i]}", "name", name, "users", 0), 404,
		   "not_found", NULL);
	json_error("/chats/add",
		   json_pack("{s:s,s:[I]}", "name", name, "users",
			     (json_int_t)9223372036854775807LL),
		   404, "not_found", NULL);

	/* Nothing was created: the user has no chat and the name is free. */
	chats = must_chats(a);
	assert_int_equal(json_array_size(chats), 0);
	json_decref(chats);
	json_created("/chats/add",
		     json_pack("{s:s,s:[s]}", "name", name, "users", a), chat);
	chats = must_chats(a);
	assert_int_equal(json_array_size(chats), 1);
	assert_non_null(find_chat(chats, chat));
	json_decref(chats);
}

static void test_chats_add_conflict(void **state)
{
	char a[ID_LEN], b[ID_LEN], name[64], other[80];
	json_t *chats;

	(void)state;
	must_user("cc", a);
	must_user("cc", b);
	uniq_name(name, sizeof(name), "cchat");
	assert_int_equal(api_chat_add(name, (const char *[]){ a }, 1, NULL), 201);
	/* Same name, other members: still taken; b gets nothing. */
	json_error("/chats/add", json_pack("{s:s,s:[s]}", "name", name, "users", b),
		   409, "conflict", NULL);
	json_error("/chats/add", json_pack("{s:s,s:[]}", "name", name, "users"),
		   409, "conflict", NULL);
	chats = must_chats(b);
	assert_int_equal(json_array_size(chats), 0);
	json_decref(chats);
	/* Case-sensitive, whitespace kept. */
	snprintf(other, sizeof(other), " %s ", name);
	assert_int_equal(api_chat_add(other, (const char *[]){ b }, 1, NULL), 201);
	snprintf(other, sizeof(other), "%s", name);
	other[0] = (char)(other[0] - 'a' + 'A');
	assert_int_equal(api_chat_add(other, (const char *[]){ b }, 1, NULL), 201);
	/* A chat name may equal a username. */
	uniq_name(name, sizeof(name), "same");
	assert_int_equal(api_user_add(name, NULL), 201);
	assert_int_equal(api_chat_add(name, (const char *[]){ b }, 1, NULL), 201);
}

static void test_chats_add_name_limits(void **state)
{
	static const char *const pads[] = { "x", "\xc3\xa9",
		"\xf0\x9f\x98\x80" };
	char a[ID_LEN];
	size_t i;

	(void)state;
	must_user("cn", a);
	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *ok = name_of_length("cn", 128, pads[i]);
		char *bad = name_of_length("cn", 129, pads[i]);

		json_created("/chats/add",
			     json_pack("{s:s,s:[s]}", "name", ok, "users", a),
			     NULL);
		json_error("/chats/add",
			   json_pack("{s:s,s:[s]}", "name", bad, "users", a),
			   400, "bad_request", "name");
		free(ok);
		free(bad);
	}
	json_error("/chats/add", json_pack("{s:[s]}", "users", a), 400,
		   "bad_request", "name");
	json_error("/chats/add", json_pack("{s:s,s:[s]}", "name", "", "users", a),
		   400, "bad_request", "name");
	json_error("/chats/add",
		   json_pack("{s:s,s:[s]}", "name", " \t\n", "users", a), 400,
		   "bad_request", "name");
	json_error("/chats/add", json_pack("{s:i,s:[s]}", "name", 7, "users", a),
		   400, "bad_request", "name");
	json_error("/chats/add", json_pack("{s:n,s:[s]}", "name", "users", a),
		   400, "bad_request", "name");
	json_error("/chats/add",
		   json_pack("{s:[s],s:[s]}", "name", "x", "users", a), 400,
		   "bad_request", "name");
	/* U+0000 and bad UTF-8 in a chat name. */
	{
		char stem[64], *b;

		uniq_name(stem, sizeof(stem), "cnul");
		b = fmt("{\"name\": \"%s\\u0000\", \"users\": [\"%s\"]}", stem, a);
		str_error("/chats/add", b, 400, "bad_request", NULL);
		free(b);
		b = fmt("{\"name\": \"%s\xfe\", \"users\": [\"%s\"]}", stem, a);
		str_error("/chats/add", b, 400, "bad_request", NULL);
		free(b);
		/* The stem itself is still free. */
		assert_int_equal(api_chat_add(stem, (const char *[]){ a }, 1, NULL),
				 201);
	}
}

static void test_chats_add_bad_ids(void **state)
{
	static const char *const bad[] = {
		"\"abc\"", "4.2", "-1", "\"-1\"", "\"0x2a\"", "true", "false",
		"null", "\"9223372036854775808\"", "9223372036854775808",
		"\"\"", "\" 1\"", "\"1 \"", "\"+1\"", "\"01\"", "\"00\"",
		"\"1e3\"", "1e3", "1.0", "{}", "[]", "[1]",
		"\"99999999999999999999\"", "18446744073709551616",
		"-9223372036854775809", "\"1.0\"", "\"\\u0661\"", "\" \"",
		"\"1\\u0000\"", "\"12a\"",
	};
	char a[ID_LEN], name[64], *b;
	json_t *chats;
	size_t i;

	(void)state;
	must_user("bid", a);
	uniq_name(name, sizeof(name), "bidchat");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = fmt("{\"name\": \"%s\", \"users\": [%s]}", name, bad[i]);
		str_error("/chats/add", b, 400, "bad_request", NULL);
		free(b);
		/* A malformed id next to a good one. */
		b = fmt("{\"name\": \"%s\", \"users\": [\"%s\", %s]}", name, a,
			bad[i]);
		str_error("/chats/add", b, 400, "bad_request", NULL);
		free(b);
	}
	/* Nothing created. */
	chats = must_chats(a);
	assert_int_equal(json_array_size(chats), 0);
	json_decref(chats);
	assert_int_equal(api_chat_add(name, (const char *[]){ a }, 1, NULL), 201);
}

static void test_chats_add_users_not_array(void **state)
{
	static const char *const bad[] = {
		"\"1\"", "1", "null", "{}", "{\"0\": \"1\"}", "true", "\"\"",
	};
	char a[ID_LEN], name[64], *b;
	size_t i;

	(void)state;
	must_user("una", a);
	uniq_name(name, sizeof(name), "unachat");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = fmt("{\"name\": \"%s\", \"users\": %s}", name, bad[i]);
		str_error("/chats/add", b, 400, "bad_request", "users");
		free(b);
	}
	/* Missing users. */
	b = fmt("{\"name\": \"%s\"}", name);
	str_error("/chats/add", b, 400, "bad_request", "users");
	free(b);
	/* Arrays nested in the array. */
	b = fmt("{\"name\": \"%s\", \"users\": [[\"%s\"]]}", name, a);
	str_error("/chats/add", b, 400, "bad_request", NULL);
	free(b);
	assert_int_equal(api_chat_add(name, NULL, 0, NULL), 201);
}

/* ---- messages/add ------------------------------------------------------- */

static void test_messages_add_created(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], m1[ID_LEN], m2[ID_LEN];
	struct http_reply r;
	json_t *msgs, *m;
	const char *k;
	json_t *v;

	(void)state;
	must_user("ma", a);
	must_user("ma", b);
	must_chat("machat", (const char *[]){ a, b }, 2, chat);
	http_post_json("/messages/add",
		       json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a,
				 "text", "hi"),
		       NULL, &r);
	check_created(&r, m1, "messages/add");
	json_object_foreach(r.json, k, v) {
		if (strcmp(k, "id") != 0)
			fail_msg_at("messages/add reply has field '%s'", k);
	}
	http_reply_free(&r);
	must_message(chat, b, "hello back", m2);
	assert_string_not_equal(m1, m2);

	msgs = must_messages(chat);
	check_ids(msgs, (const char *[]){ m1, m2 }, 2, "messages/get");
	m = json_array_get(msgs, 0);
	assert_string_equal(str_at(m, "chat"), chat);
	assert_string_equal(str_at(m, "author"), a);
	assert_string_equal(str_at(m, "text"), "hi");
	m = json_array_get(msgs, 1);
	assert_string_equal(str_at(m, "chat"), chat);
	assert_string_equal(str_at(m, "author"), b);
	assert_string_equal(str_at(m, "text"), "hello back");
	json_decref(msgs);
}

static void test_messages_add_not_found_forbidden(void **state)
{
	char a[ID_LEN], outsider[ID_LEN], chat[ID_LEN], other[ID_LEN];
	struct http_reply r;
	json_t *msgs;

	(void)state;
	must_user("nf", a);
	must_user("nf", outsider);
	must_chat("nfchat", (const char *[]){ a }, 1, chat);
	must_chat("nfother", (const char *[]){ outsider }, 1, other);

	/* Unknown chat. */
	http_post_json("/messages/add",
		       json_pack("{s:s,s:s,s:s}", "chat", "999999999999",
				 "author", a, "text", "x"),
		       NULL, &r);
	check_error(&r, 404, "not_found", "unknown chat");
	check_mentions(&r, "999999999999", "chat", "unknown chat");
	http_reply_free(&r);
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", "0", "author", a, "text",
			     "x"),
		   404, "not_found", NULL);
	/* Unknown author. */
	http_post_json("/messages/add",
		       json_pack("{s:s,s:s,s:s}", "chat", chat, "author",
				 "999999999998", "text", "x"),
		       NULL, &r);
	check_error(&r, 404, "not_found", "unknown author");
	check_mentions(&r, "999999999998", "author", "unknown author");
	http_reply_free(&r);
	json_error("/messages/add",
		   json_pack("{s:s,s:I,s:s}", "chat", chat, "author",
			     (json_int_t)9223372036854775807LL, "text", "x"),
		   404, "not_found", NULL);
	/* Both unknown. */
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", "999999999999", "author",
			     "999999999998", "text", "x"),
		   404, "not_found", NULL);
	/* A real user who is not a member. */
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", chat, "author", outsider,
			     "text", "x"),
		   403, "forbidden", NULL);
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", other, "author", a, "text",
			     "x"),
		   403, "forbidden", NULL);

	/* Nothing was stored anywhere. */
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
	msgs = must_messages(other);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
}

static void test_messages_add_text_limits(void **state)
{
	static const char *const pads[] = { "x", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	static const char *const odd[] = {
		"  padded \n", "tab\there", "quote \" backslash \\ slash /",
		"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80",
		"line1\nline2\r\n", "<script>alert(1)</script> & %s %n",
		"\x7f\x01\x1f control",
	};
	char a[ID_LEN], chat[ID_LEN], *b;
	json_t *msgs;
	size_t i, stored = 0;

	(void)state;
	must_user("tl", a);
	must_chat("tlchat", (const char *[]){ a }, 1, chat);

	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *ok = str_repeat(pads[i], 4096);
		char *bad = str_repeat(pads[i], 4097);

		json_created("/messages/add",
			     json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a,
				       "text", ok),
			     NULL);
		stored++;
		json_error("/messages/add",
			   json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a,
				     "text", bad),
			   400, "bad_request", "text");
		free(ok);
		free(bad);
	}
	/* Empty, whitespace-only, missing, wrong type. */
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a, "text", ""),
		   400, "bad_request", "text");
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a, "text",
			     " \t\r\n "),
		   400, "bad_request", "text");
	json_error("/messages/add",
		   json_pack("{s:s,s:s}", "chat", chat, "author", a), 400,
		   "bad_request", "text");
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:i}", "chat", chat, "author", a, "text",
			     5),
		   400, "bad_request", "text");
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:n}", "chat", chat, "author", a, "text"),
		   400, "bad_request", "text");
	json_error("/messages/add",
		   json_pack("{s:s,s:s,s:[s]}", "chat", chat, "author", a, "text",
			     "x"),
		   400, "bad_request", "text");
	/* U+0000, invalid UTF-8, lone surrogate. */
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"a\\u0000b\"}",
		chat, a);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"a\xff\"}",
		chat, a);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"\xed\xb0\x80\"}",
		chat, a);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"\\udc00\"}",
		chat, a);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);

	/* Texts come back byte for byte. */
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		must_message(chat, a, odd[i], NULL);
		stored++;
	}
	/* An escaped non-BMP character is stored as UTF-8. */
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": "
		"\"\\ud83d\\ude00\\u00e9\"}", chat, a);
	raw_created("/messages/add", b, strlen(b), NULL, NULL);
	free(b);
	stored++;

	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), stored);
	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *ok = str_repeat(pads[i], 4096);

		assert_string_equal(str_at(json_array_get(msgs, i), "text"), ok);
		free(ok);
	}
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		assert_string_equal(
			str_at(json_array_get(msgs, i + sizeof(pads) / sizeof(pads[0])),
			       "text"),
			odd[i]);
	assert_string_equal(str_at(json_array_get(msgs, stored - 1), "text"),
			    "\xf0\x9f\x98\x80\xc3\xa9");
	json_decref(msgs);
}

static void test_messages_add_bad_fields(void **state)
{
	char a[ID_LEN], chat[ID_LEN], *b;
	json_t *msgs;
	size_t i;
	static const char *const bad_ids[] = {
		"\"abc\"", "4.2", "-1", "\"0x2a\"", "true", "null",
		"\"9223372036854775808\"", "\"\"", "\"01\"", "[]", "{}",
	};

	(void)state;
	must_user("mb", a);
	must_chat("mbchat", (const char *[]){ a }, 1, chat);
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		b = fmt("{\"chat\": %s, \"author\": \"%s\", \"text\": \"x\"}",
			bad_ids[i], a);
		str_error("/messages/add", b, 400, "bad_request", "chat");
		free(b);
		b = fmt("{\"chat\": \"%s\", \"author\": %s, \"text\": \"x\"}",
			chat, bad_ids[i]);
		str_error("/messages/add", b, 400, "bad_request", "author");
		free(b);
	}
	json_error("/messages/add",
		   json_pack("{s:s,s:s}", "author", a, "text", "x"), 400,
		   "bad_request", "chat");
	json_error("/messages/add",
		   json_pack("{s:s,s:s}", "chat", chat, "text", "x"), 400,
		   "bad_request", "author");
	b = fmt("{\"chat\": 9223372036854775808, \"author\": \"%s\", "
		"\"text\": \"x\"}", a);
	str_error("/messages/add", b, 400, "bad_request", NULL);
	free(b);
	str_error("/messages/add", "[]", 400, "bad_request", NULL);
	str_error("/messages/add", "not json", 400, "bad_request", NULL);
	str_error("/messages/add", "", 400, "bad_request", NULL);

	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
}

static void test_messages_add_idempotency(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], chat2[ID_LEN];
	char key[64], key2[64], hdr[128], id1[ID_LEN], id[ID_LEN];
	json_t *msgs;

	(void)state;
	must_user("idem", a);
	must_user("idem", b);
	must_chat("idemchat", (const char *[]){ a, b }, 2, chat);
	must_chat("idemchat2", (const char *[]){ a }, 1, chat2);
	uniq_name(key, sizeof(key), "key");
	uniq_name(key2, sizeof(key2), "key");

	assert_int_equal(api_message_add(chat, a, "hello", key, id1), 201);
	/* The retry answers the same 201 and the same id. */
	assert_int_equal(api_message_add(chat, a, "hello", key, id), 201);
	assert_string_equal(id, id1);
	assert_int_equal(api_message_add(chat, a, "hello", key, id), 201);
	assert_string_equal(id, id1);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 1);
	json_decref(msgs);

	/* The same key with another request (another text, another chat)
	 * is a client bug: 422, and nothing is stored (API.md section 1). */
	{
		struct http_reply r;

		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		http_post_json("/messages/add",
			       json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a,
					 "text", "changed text"),
			       hdr, &r);
		check_error(&r, 422, "idempotency_key_reused",
			    "same key, another text");
		http_reply_free(&r);
		http_post_json("/messages/add",
			       json_pack("{s:s,s:s,s:s}", "chat", chat2, "author",
					 a, "text", "hello"),
			       hdr, &r);
		check_error(&r, 422, "idempotency_key_reused",
			    "same key, another chat");
		http_reply_free(&r);
	}
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(str_at(json_array_get(msgs, 0), "text"), "hello");
	json_decref(msgs);
	msgs = must_messages(chat2);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
	/* ... and the key still answers the request it was first used for. */
	assert_int_equal(api_message_add(chat, a, "hello", key, id), 201);
	assert_string_equal(id, id1);

	/* Another key is another message. */
	assert_int_equal(api_message_add(chat, a, "hello", key2, id), 201);
	assert_string_not_equal(id, id1);
	/* No key: every request stores a message. */
	assert_int_equal(api_message_add(chat, a, "hello", NULL, NULL), 201);
	assert_int_equal(api_message_add(chat, a, "hello", NULL, NULL), 201);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 4);
	json_decref(msgs);

	/* The same key from another author is that author's own key. */
	assert_int_equal(api_message_add(chat, b, "hello", key, id), 201);
	assert_string_not_equal(id, id1);
	assert_int_equal(api_message_add(chat, b, "hello", key, id1), 201);
	assert_string_equal(id, id1);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 5);
	json_decref(msgs);

	/* A replay is a 201 with the JSON body of a creation. */
	{
		struct http_reply r;

		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key2);
		http_post_json("/messages/add",
			       json_pack("{s:s,s:s,s:s}", "chat", chat, "author", a,
					 "text", "hello"),
			       hdr, &r);
		check_created(&r, NULL, "idempotent replay");
		http_reply_free(&r);
	}
	/* A request that failed answered no 201, so its key is still free
	 * for the same author's next request. */
	{
		char key3[64], only_b[ID_LEN];

		must_chat("idemchat3", (const char *[]){ b }, 1, only_b);
		uniq_name(key3, sizeof(key3), "key");
		assert_int_equal(api_message_add(only_b, a, "x", key3, NULL), 403);
		assert_int_equal(api_message_add(chat2, a, "", key3, NULL), 400);
		assert_int_equal(api_message_add(chat2, a, "x", key3, id), 201);
		msgs = must_messages(chat2);
		assert_int_equal(json_array_size(msgs), 1);
		assert_string_equal(str_at(json_array_get(msgs, 0), "id"), id);
		json_decref(msgs);
		msgs = must_messages(only_b);
		assert_int_equal(json_array_size(msgs), 0);
		json_decref(msgs);
	}
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 5);
	json_decref(msgs);
}

static void test_messages_add_idempotency_key_rules(void **state)
{
	char a[ID_LEN], chat[ID_LEN], *body, *hdr, *k;
	struct http_reply r;
	json_t *msgs;
	size_t stored = 0;

	(void)state;
	must_user("ikr", a);
	must_chat("ikrchat", (const char *[]){ a }, 1, chat);
	body = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"k\"}",
		   chat, a);

	/* Empty value ("Name;" makes curl send the header empty). */
	http_post("/messages/add", body, strlen(body), "Idempotency-Key;", &r);
	check_error(&r, 400, "bad_request", "empty Idempotency-Key");
	http_reply_free(&r);
	/* 256 characters. */
	k = str_repeat("k", 256);
	hdr = fmt("Idempotency-Key: %s", k);
	http_post("/messages/add", body, strlen(body), hdr, &r);
	check_error(&r, 400, "bad_request", "256-char Idempotency-Key");
	http_reply_free(&r);
	free(hdr);
	free(k);
	/* Not ASCII. */
	http_post("/messages/add", body, strlen(body),
		  "Idempotency-Key: cl\xc3\xa9", &r);
	check_error(&r, 400, "bad_request", "non-ASCII Idempotency-Key");
	http_reply_free(&r);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);

	/* 255 characters is fine, and works as a key. */
	k = str_repeat("k", 255);
	hdr = fmt("Idempotency-Key: %s", k);
	raw_created("/messages/add", body, strlen(body), hdr, NULL);
	raw_created("/messages/add", body, strlen(body), hdr, NULL);
	stored++;
	free(hdr);
	free(k);
	/* One character, and punctuation. */
	raw_created("/messages/add", body, strlen(body), "Idempotency-Key: 1",
		    NULL);
	stored++;
	raw_created("/messages/add", body, strlen(body),
		    "Idempotency-Key: a-B_c.9~!#$%&'*+^`|\"(),/<=>?@[]{}", NULL);
	stored++;
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), stored);
	json_decref(msgs);
	free(body);
}

/* ---- chats/get ---------------------------------------------------------- */

static void test_chats_get_order(void **state)
{
	char u[ID_LEN], c[4][ID_LEN], m[ID_LEN];
	const char *members[] = { u };
	json_t *chats, *msgs;
	const char *t1, *t2, *t3;
	int i;

	(void)state;
	must_user("ord", u);
	for (i = 0; i < 4; i++)
		must_chat("ordchat", members, 1, c[i]);

	/* No messages anywhere: newest chat first, last_message_at null. */
	chats = must_chats(u);
	check_ids(chats, (const char *[]){ c[3], c[2], c[1], c[0] }, 4,
		  "chats/get without messages");
	for (i = 0; i < 4; i++)
		assert_true(json_is_null(json_object_get(
			json_array_get(chats, (size_t)i), "last_message_at")));
	json_decref(chats);

	/* Messages to c1, then c0: those two first, newest message first;
	 * then the chats without messages, newest chat first. */
	must_message(c[1], u, "one", NULL);
	must_message(c[0], u, "zero", m);
	chats = must_chats(u);
	check_ids(chats, (const char *[]){ c[0], c[1], c[3], c[2] }, 4,
		  "chats/get after messages to c1, c0");
	t1 = str_at(json_array_get(chats, 0), "last_message_at");
	t2 = str_at(json_array_get(chats, 1), "last_message_at");
	assert_true(is_rfc3339_micro(t1));
	assert_true(is_rfc3339_micro(t2));
	assert_true(strcmp(t1, t2) >= 0);
	/* last_message_at is the latest message's created_at. */
	msgs = must_messages(c[0]);
	assert_string_equal(str_at(json_array_get(msgs, 0), "id"), m);
	assert_string_equal(str_at(json_array_get(msgs, 0), "created_at"), t1);
	json_decref(msgs);
	assert_true(json_is_null(
		json_object_get(json_array_get(chats, 2), "last_message_at")));
	assert_true(json_is_null(
		json_object_get(json_array_get(chats, 3), "last_message_at")));
	json_decref(chats);

	/* A message to the oldest chat-without-messages moves it to the top;
	 * another to c1 moves c1 above c0. */
	must_message(c[2], u, "two", NULL);
	must_message(c[1], u, "one again", m);
	chats = must_chats(u);
	check_ids(chats, (const char *[]){ c[1], c[2], c[0], c[3] }, 4,
		  "chats/get after messages to c2, c1");
	t1 = str_at(json_array_get(chats, 0), "last_message_at");
	t2 = str_at(json_array_get(chats, 1), "last_message_at");
	t3 = str_at(json_array_get(chats, 2), "last_message_at");
	assert_true(strcmp(t1, t2) >= 0 && strcmp(t2, t3) >= 0);
	msgs = must_messages(c[1]);
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(str_at(json_array_get(msgs, 1), "id"), m);
	assert_string_equal(str_at(json_array_get(msgs, 1), "created_at"), t1);
	json_decref(msgs);
	json_decref(chats);
}

static void test_chats_get_fields(void **state)
{
	char u[ID_LEN], v[ID_LEN], chat[ID_LEN], name[96], stem[64];
	char created[64];
	json_t *chats, *c, *users;
	const char *ts;

	(void)state;
	must_user("cf", u);
	must_user("cf", v);
	uniq_name(stem, sizeof(stem), "cf");
	snprintf(name, sizeof(name),
		 " %s \xc3\x9cn\xc3\xaf \xf0\x9f\x98\x80\t'; --\"\\/%%s\x01",
		 stem);
	assert_int_equal(api_chat_add(name, (const char *[]){ v, u }, 2, chat),
			 201);
	chats = must_chats(v);
	assert_int_equal(json_array_size(chats), 1);
	c = json_array_get(chats, 0);
	assert_true(json_is_object(c));
	assert_string_equal(str_at(c, "id"), chat);
	assert_string_equal(str_at(c, "name"), name);
	users = json_object_get(c, "users");
	assert_true(json_is_array(users));
	assert_int_equal(json_array_size(users), 2);
	assert_true(json_is_string(json_array_get(users, 0)));
	assert_string_equal(json_string_value(json_array_get(users, 0)), u);
	assert_string_equal(json_string_value(json_array_get(users, 1)), v);
	ts = str_at(c, "created_at");
	if (!is_rfc3339_micro(ts))
		fail_msg_at("created_at '%s' is not YYYY-MM-DDTHH:MM:SS.ffffffZ",
			    ts ? ts : "(not a string)");
	snprintf(created, sizeof(created), "%s", ts);
	assert_true(ts_age_seconds(created) < MAX_CLOCK_SKEW_S);
	assert_non_null(json_object_get(c, "last_message_at"));
	assert_true(json_is_null(json_object_get(c, "last_message_at")));
	json_decref(chats);

	must_message(chat, u, "x", NULL);
	chats = must_chats(u);
	c = json_array_get(chats, 0);
	{
		const char *last = str_at(c, "last_message_at");

		if (!is_rfc3339_micro(last))
			fail_msg_at("last_message_at '%s' has the wrong format",
				    last ? last : "(not a string)");
		assert_true(strcmp(last, created) >= 0);
		assert_true(ts_age_seconds(last) < MAX_CLOCK_SKEW_S);
	}
	/* The chat's own time does not move. */
	assert_string_equal(str_at(c, "created_at"), created);
	json_decref(chats);
}

static void test_chats_get_errors(void **state)
{
	char u[ID_LEN];
	struct http_reply r;
	json_t *chats;
	static const char *const bad[] = {
		"\"abc\"", "4.2", "-1", "\"0x2a\"", "true", "null",
		"\"9223372036854775808\"", "\"\"",
		"\"01\"", "[]",
	};
	size_t i;
	char *b;

	(void)state;
	/* A user with no chats: []. */
	must_user("nochats", u);
	http_post_json("/chats/get", json_pack("{s:s}", "user", u), NULL, &r);
	check_status(&r, 200, "chats/get of a user without chats");
	assert_true(is_json_content_type(r.content_type));
	assert_true(json_is_array(r.json));
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);
	chats = json_list("/chats/get", json_pack("{s:o}", "user", id_int(u)));
	assert_int_equal(json_array_size(chats), 0);
	json_decref(chats);

	/* Unknown users. */
	http_post_json("/chats/get", json_pack("{s:s}", "user", "999999999997"),
		       NULL, &r);
	check_error(&r, 404, "not_found", "chats/get unknown user");
	check_mentions(&r, "999999999997", "user", "chats/get unknown user");
	http_reply_free(&r);
	json_error("/chats/get", json_pack("{s:s}", "user", "0"), 404,
		   "not_found", NULL);
	json_error("/chats/get", json_pack("{s:i}", "user", 0), 404,
		   "not_found", NULL);
	json_error("/chats/get",
		   json_pack("{s:s}", "user", "9223372036854775807"), 404,
		   "not_found", NULL);

	/* Malformed. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = fmt("{\"user\": %s}", bad[i]);
		str_error("/chats/get", b, 400, "bad_request", "user");
		free(b);
	}
	/* Out of range as a JSON number (may fail as "not JSON"). */
	str_error("/chats/get", "{\"user\": 9223372036854775808}", 400,
		  "bad_request", NULL);
	str_error("/chats/get", "{}", 400, "bad_request", "user");
	str_error("/chats/get", "[]", 400, "bad_request", NULL);
	str_error("/chats/get", "", 400, "bad_request", NULL);
}

/* ---- messages/get ------------------------------------------------------- */

static void test_messages_get_order_fields(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], ids[12][ID_LEN];
	const char *want[12];
	json_t *msgs;
	size_t i;
	char text[32];

	(void)state;
	must_user("mg", a);
	must_user("mg", b);
	must_chat("mgchat", (const char *[]){ a, b }, 2, chat);
	for (i = 0; i < 12; i++) {
		snprintf(text, sizeof(text), "message %zu", i);
		must_message(chat, i % 3 ? a : b, text, ids[i]);
		want[i] = ids[i];
	}
	msgs = must_messages(chat);
	check_ids(msgs, want, 12, "messages/get, oldest first");
	for (i = 0; i < 12; i++) {
		json_t *m = json_array_get(msgs, i);
		const char *ts = str_at(m, "created_at");

		assert_true(json_is_object(m));
		snprintf(text, sizeof(text), "message %zu", i);
		assert_string_equal(str_at(m, "id"), ids[i]);
		assert_string_equal(str_at(m, "chat"), chat);
		assert_string_equal(str_at(m, "author"), i % 3 ? a : b);
		assert_string_equal(str_at(m, "text"), text);
		if (!is_rfc3339_micro(ts))
			fail_msg_at("created_at '%s' has the wrong format",
				    ts ? ts : "(not a string)");
		assert_true(ts_age_seconds(ts) < MAX_CLOCK_SKEW_S);
		if (i > 0) {
			const char *prev = str_at(json_array_get(msgs, i - 1),
						  "created_at");

			if (strcmp(prev, ts) > 0)
				fail_msg_at("created_at goes back: %s then %s",
					    prev, ts);
		}
	}
	json_decref(msgs);

	/* An integer chat id gives the same answer. */
	msgs = json_list("/messages/get", json_pack("{s:o}", "chat", id_int(chat)));
	check_ids(msgs, want, 12, "messages/get with an integer id");
	json_decref(msgs);
}

static void test_messages_get_errors(void **state)
{
	char a[ID_LEN], chat[ID_LEN], *b;
	struct http_reply r;
	json_t *msgs;
	size_t i;
	static const char *const bad[] = {
		"\"abc\"", "4.2", "-1", "\"0x2a\"", "true", "null",
		"\"9223372036854775808\"", "\"\"",
		"\"01\"", "{}",
	};

	(void)state;
	must_user("mge", a);
	must_chat("mgechat", (const char *[]){ a }, 1, chat);
	/* An empty chat: []. */
	http_post_json("/messages/get", json_pack("{s:s}", "chat", chat), NULL,
		       &r);
	check_status(&r, 200, "messages/get of an empty chat");
	assert_true(is_json_content_type(r.content_type));
	assert_true(json_is_array(r.json));
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);

	/* Unknown chat. */
	http_post_json("/messages/get", json_pack("{s:s}", "chat", "999999999996"),
		       NULL, &r);
	check_error(&r, 404, "not_found", "messages/get unknown chat");
	check_mentions(&r, "999999999996", "chat", "messages/get unknown chat");
	http_reply_free(&r);
	json_error("/messages/get", json_pack("{s:s}", "chat", "0"), 404,
		   "not_found", NULL);
	json_error("/messages/get", json_pack("{s:i}", "chat", 0), 404,
		   "not_found", NULL);
	/* Unknown chat with paging fields is still 404. */
	json_error("/messages/get",
		   json_pack("{s:s,s:i}", "chat", "999999999996", "limit", 5),
		   404, "not_found", NULL);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = fmt("{\"chat\": %s}", bad[i]);
		str_error("/messages/get", b, 400, "bad_request", "chat");
		free(b);
	}
	str_error("/messages/get", "{\"chat\": 9223372036854775808}", 400,
		  "bad_request", NULL);
	str_error("/messages/get", "{}", 400, "bad_request", "chat");
	str_error("/messages/get", "[]", 400, "bad_request", NULL);
	str_error("/messages/get", "\"x\"", 400, "bad_request", NULL);

	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 0);
	json_decref(msgs);
}

static void test_messages_get_paging(void **state)
{
	char a[ID_LEN], chat[ID_LEN], other[ID_LEN];
	char m[10][ID_LEN], early[ID_LEN], late[ID_LEN];
	const char *all[10];
	json_t *l;
	size_t i;

	(void)state;
	must_user("pg", a);
	must_chat("pgchat", (const char *[]){ a }, 1, chat);
	must_chat("pgother", (const char *[]){ a }, 1, other);
	must_message(other, a, "before everything", early);
	for (i = 0; i < 10; i++) {
		must_message(chat, a, "p", m[i]);
		all[i] = m[i];
	}
	must_message(other, a, "after everything", late);

#define IDS(...) (const char *[]){ __VA_ARGS__ }, \
	sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)

	/* limit alone: the oldest `limit`. */
	l = page(chat, json_pack("{s:i}", "limit", 3));
	check_ids(l, IDS(m[0], m[1], m[2]), "limit 3");
	json_decref(l);
	l = page(chat, json_pack("{s:i}", "limit", 1));
	check_ids(l, IDS(m[0]), "limit 1");
	json_decref(l);
	l = page(chat, json_pack("{s:i}", "limit", 1000));
	check_ids(l, all, 10, "limit 1000");
	json_decref(l);
	l = page(chat, json_pack("{s:i}", "limit", 10));
	check_ids(l, all, 10, "limit 10");
	json_decref(l);

	/* after. */
	l = page(chat, json_pack("{s:s,s:i}", "after", m[2], "limit", 3));
	check_ids(l, IDS(m[3], m[4], m[5]), "after m2 limit 3");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "after", m[7]));
	check_ids(l, IDS(m[8], m[9]), "after m7");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "after", m[9]));
	check_ids(l, NULL, 0, "after the last");
	json_decref(l);
	l = page(chat, json_pack("{s:o,s:i}", "after", id_int(m[4]), "limit", 2));
	check_ids(l, IDS(m[5], m[6]), "after m4 (integer) limit 2");
	json_decref(l);

	/* before: answered oldest first. */
	l = page(chat, json_pack("{s:s}", "before", m[4]));
	check_ids(l, IDS(m[0], m[1], m[2], m[3]), "before m4");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:i}", "before", m[5], "limit", 2));
	check_ids(l, IDS(m[3], m[4]), "before m5 limit 2 (newest 2)");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:i}", "before", m[2], "limit", 5));
	check_ids(l, IDS(m[0], m[1]), "before m2 limit 5");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "before", m[0]));
	check_ids(l, NULL, 0, "before the first");
	json_decref(l);

	/* after and before: the range between; with limit, its newest. */
	l = page(chat, json_pack("{s:s,s:s}", "after", m[1], "before", m[6]));
	check_ids(l, IDS(m[2], m[3], m[4], m[5]), "after m1 before m6");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:s,s:i}", "after", m[1], "before", m[6],
				 "limit", 2));
	check_ids(l, IDS(m[4], m[5]), "after m1 before m6 limit 2");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:s}", "after", m[5], "before", m[6]));
	check_ids(l, NULL, 0, "after m5 before m6");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:s}", "after", m[6], "before", m[2]));
	check_ids(l, NULL, 0, "after m6 before m2");
	json_decref(l);

	/* Ids that are not messages of this chat. */
	l = page(chat, json_pack("{s:s}", "after", "0"));
	check_ids(l, all, 10, "after 0");
	json_decref(l);
	l = page(chat, json_pack("{s:i}", "after", 0));
	check_ids(l, all, 10, "after 0 (integer)");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "after", "9223372036854775807"));
	check_ids(l, NULL, 0, "after INT64_MAX");
	json_decref(l);
	l = page(chat, json_pack("{s:s,s:i}", "before", "9223372036854775807",
				 "limit", 3));
	check_ids(l, IDS(m[7], m[8], m[9]), "before INT64_MAX limit 3");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "after", early));
	check_ids(l, all, 10, "after another chat's earlier message");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "before", late));
	check_ids(l, all, 10, "before another chat's later message");
	json_decref(l);
	l = page(chat, json_pack("{s:s}", "after", late));
	check_ids(l, NULL, 0, "after another chat's later message");
	json_decref(l);

	/* Walking the chat with after + limit gives every message once. */
	{
		char last[ID_LEN] = "0";
		json_t *seen = json_array();
		const char *ids[10];
		size_t j, n = 0;

		for (j = 0; j < 20; j++) {
			l = page(chat, json_pack("{s:s,s:i}", "after", last, "limit",
						 3));
			if (json_array_size(l) == 0) {
				json_decref(l);
				break;
			}
			assert_true(json_array_size(l) <= 3);
			json_array_extend(seen, l);
			snprintf(last, sizeof(last), "%s",
				 str_at(json_array_get(l, json_array_size(l) - 1),
					"id"));
			json_decref(l);
		}
		n = json_array_size(seen);
		assert_int_equal(n, 10);
		for (j = 0; j < n; j++)
			ids[j] = m[j];
		check_ids(seen, ids, n, "after + limit walk");
		json_decref(seen);
	}
	/* The other chat is untouched by all this. */
	l = must_messages(other);
	check_ids(l, IDS(early, late), "the other chat");
	json_decref(l);
#undef IDS
}

static void test_messages_get_paging_bad_params(void **state)
{
	char a[ID_LEN], chat[ID_LEN], *b;
	size_t i;
	static const char *const bad_limits[] = {
		"0", "1001", "-1", "\"3\"", "2.5", "null", "true", "[]", "{}",
		"1e2", "100000", "1000.0",
	};
	static const char *const bad_ids[] = {
		"\"abc\"", "4.2", "-1", "\"0x2a\"", "true", "null",
		"\"9223372036854775808\"", "\"\"", "\"01\"", "[]",
	};

	(void)state;
	must_user("pb", a);
	must_chat("pbchat", (const char *[]){ a }, 1, chat);
	must_message(chat, a, "x", NULL);
	for (i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
		b = fmt("{\"chat\": \"%s\", \"limit\": %s}", chat, bad_limits[i]);
		str_error("/messages/get", b, 400, "bad_request", "limit");
		free(b);
	}
	b = fmt("{\"chat\": \"%s\", \"limit\": 9223372036854775808}", chat);
	str_error("/messages/get", b, 400, "bad_request", NULL);
	free(b);
	b = fmt("{\"chat\": \"%s\", \"after\": 9223372036854775808}", chat);
	str_error("/messages/get", b, 400, "bad_request", NULL);
	free(b);
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		b = fmt("{\"chat\": \"%s\", \"after\": %s}", chat, bad_ids[i]);
		str_error("/messages/get", b, 400, "bad_request", "after");
		free(b);
		b = fmt("{\"chat\": \"%s\", \"before\": %s, \"limit\": 5}", chat,
			bad_ids[i]);
		str_error("/messages/get", b, 400, "bad_request", "before");
		free(b);
	}
}

/* ---- routing, methods, sizes -------------------------------------------- */

static const char *const api_paths[] = {
	"/users/add", "/chats/add", "/messages/add", "/chats/get",
	"/messages/get",
};

static void test_method_not_allowed(void **state)
{
	static const char *const methods[] = { "GET", "PUT", "DELETE", "PATCH" };
	size_t i, j;
	char what[96];

	(void)state;
	for (i = 0; i < sizeof(api_paths) / sizeof(api_paths[0]); i++) {
		for (j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
			struct http_reply r;
			bool has_body = strcmp(methods[j], "GET") != 0;

			snprintf(what, sizeof(what), "%s %s", methods[j],
				 api_paths[i]);
			http_request(methods[j], api_paths[i],
				     has_body ? "{}" : NULL, has_body ? 2 : 0,
				     NULL, &r);
			check_error(&r, 405, "method_not_allowed", what);
			if (strcmp(r.allow, "POST") != 0)
				fail_msg_at("%s: Allow header is '%s', want 'POST'",
					    what, r.allow);
			http_reply_free(&r);
		}
	}
	/* A valid body does not make GET acceptable, and creates nothing. */
	{
		struct http_reply r;
		char name[64], *b;

		uniq_name(name, sizeof(name), "getuser");
		b = fmt("{\"username\": \"%s\"}", name);
		http_request("PUT", "/users/add", b, strlen(b), NULL, &r);
		check_error(&r, 405, "method_not_allowed", "PUT users/add");
		http_reply_free(&r);
		free(b);
		assert_int_equal(api_user_add(name, NULL), 201);
	}
}

static void test_unknown_path(void **state)
{
	static const char *const paths[] = {
		"/nope", "/users", "/users/", "/users/add/x", "/users/ADD",
		"/Users/add", "/users/remove", "/chats/delete", "/messages",
		"/api/users/add", "/users/add.json", "/usersadd",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_reply r;
		char what[96];

		snprintf(what, sizeof(what), "POST %s", paths[i]);
		http_post(paths[i], "{\"username\": \"x\"}", 17, NULL, &r);
		check_error(&r, 404, "not_found", what);
		http_reply_free(&r);
	}
}

static void test_payload_too_large(void **state)
{
	const size_t mib = 1024 * 1024;
	char a[ID_LEN], chat[ID_LEN], name[64];
	char *b, *pad;
	struct http_reply r;
	json_t *msgs;

	(void)state;
	/* 1 MiB + 1 byte. */
	pad = str_repeat("a", mib);
	b = fmt("{\"username\": \"%s\"}", pad);
	free(pad);
	assert_true(strlen(b) > mib);
	http_post("/users/add", b, strlen(b), NULL, &r);
	check_error(&r, 413, "payload_too_large", "1 MiB + 16 bytes body");
	http_reply_free(&r);
	free(b);
	/* Much larger. */
	pad = str_repeat("a", 4 * mib);
	b = fmt("{\"username\": \"%s\"}", pad);
	free(pad);
	http_post("/users/add", b, strlen(b), NULL, &r);
	check_error(&r, 413, "payload_too_large", "4 MiB body");
	http_reply_free(&r);
	free(b);

	/* Exactly 1 MiB is not too large: the name is (400). */
	pad = str_repeat("a", mib - strlen("{\"username\": \"\"}"));
	b = fmt("{\"username\": \"%s\"}", pad);
	free(pad);
	assert_int_equal(strlen(b), mib);
	http_post("/users/add", b, strlen(b), NULL, &r);
	check_error(&r, 400, "bad_request", "1 MiB body with a long username");
	http_reply_free(&r);
	free(b);

	/* A big body just under the limit, padded with an ignored field. */
	must_user("big", a);
	must_chat("bigchat", (const char *[]){ a }, 1, chat);
	pad = str_repeat("z", mib - 4096);
	b = fmt("{\"chat\": \"%s\", \"author\": \"%s\", \"text\": \"big\", "
		"\"padding\": \"%s\"}", chat, a, pad);
	free(pad);
	assert_true(strlen(b) < mib);
	raw_created("/messages/add", b, strlen(b), NULL, NULL);
	free(b);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(str_at(json_array_get(msgs, 0), "text"), "big");
	json_decref(msgs);

	/* The server still answers normally afterwards. */
	uniq_name(name, sizeof(name), "after413");
	assert_int_equal(api_user_add(name, NULL), 201);
}

/* ---- ids as integers, server-assigned fields ----------------------------- */

static void test_ids_as_integers(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], m1[ID_LEN], m2[ID_LEN];
	char name[64];
	json_t *l;

	(void)state;
	must_user("int", a);
	must_user("int", b);
	uniq_name(name, sizeof(name), "intchat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[o,o]}", "name", name, "users", id_int(a),
			       id_int(b)),
		     chat);
	json_created("/messages/add",
		     json_pack("{s:o,s:o,s:s}", "chat", id_int(chat), "author",
			       id_int(a), "text", "int ids"),
		     m1);
	json_created("/messages/add",
		     json_pack("{s:s,s:o,s:s}", "chat", chat, "author", id_int(b),
			       "text", "mixed ids"),
		     m2);
	l = json_list("/chats/get", json_pack("{s:o}", "user", id_int(b)));
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(str_at(json_array_get(l, 0), "id"), chat);
	json_decref(l);
	l = json_list("/messages/get",
		      json_pack("{s:o,s:o,s:i}", "chat", id_int(chat), "after",
				id_int(m1), "limit", 5));
	check_ids(l, (const char *[]){ m2 }, 1, "integer chat and after");
	json_decref(l);
	l = json_list("/messages/get",
		      json_pack("{s:o,s:o}", "chat", id_int(chat), "before",
				id_int(m2)));
	check_ids(l, (const char *[]){ m1 }, 1, "integer before");
	/* Responses carry ids as strings. */
	assert_true(json_is_string(json_object_get(json_array_get(l, 0), "chat")));
	assert_true(
		json_is_string(json_object_get(json_array_get(l, 0), "author")));
	json_decref(l);
}

static void test_server_assigns_times_and_ids(void **state)
{
	char a[ID_LEN], chat[ID_LEN], m[ID_LEN], name[64];
	json_t *l;
	const char *ts;

	(void)state;
	must_user("srv", a);
	uniq_name(name, sizeof(name), "srvchat");
	json_created("/chats/add",
		     json_pack("{s:s,s:[s],s:s,s:s}", "name", name, "users", a,
			       "created_at", "2001-01-01T00:00:00.000000Z", "id",
			       "77777777"),
		     chat);
	assert_string_not_equal(chat, "77777777");
	json_created("/messages/add",
		     json_pack("{s:s,s:s,s:s,s:s,s:s}", "chat", chat, "author", a,
			       "text", "t", "created_at",
			       "2001-01-01T00:00:00.000000Z", "id", "77777778"),
		     m);
	assert_string_not_equal(m, "77777778");
	l = must_messages(chat);
	ts = str_at(json_array_get(l, 0), "created_at");
	assert_true(is_rfc3339_micro(ts));
	assert_true(ts_age_seconds(ts) < MAX_CLOCK_SKEW_S);
	json_decref(l);
	l = must_chats(a);
	ts = str_at(json_array_get(l, 0), "created_at");
	assert_true(is_rfc3339_micro(ts));
	assert_true(ts_age_seconds(ts) < MAX_CLOCK_SKEW_S);
	json_decref(l);
}

/* GET /health: 200 {"status":"ok"} through nginx -> chatd -> PostgreSQL;
 * the method field of its route: GET (and HEAD), 405 naming them
 * otherwise. */
static void test_health(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE" };
	struct http_reply r;
	size_t i;

	(void)state;
	http_request("GET", "/health", NULL, 0, NULL, &r);
	check_status(&r, 200, "GET /health");
	if (!is_json_content_type(r.content_type))
		fail_msg_at("GET /health: Content-Type '%s'", r.content_type);
	assert_non_null(r.json);
	assert_string_equal(str_at(r.json, "status"), "ok");
	assert_int_equal(json_object_size(r.json), 1);
	http_reply_free(&r);
	/* A query string changes nothing. */
	http_request("GET", "/health?verbose=1", NULL, 0, NULL, &r);
	check_status(&r, 200, "GET /health?verbose=1");
	http_reply_free(&r);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		http_request(methods[i], "/health", "{}", 2, NULL, &r);
		check_error(&r, 405, "method_not_allowed", methods[i]);
		if (strcmp(r.allow, "GET, HEAD") != 0)
			fail_msg_at("%s /health: Allow is '%s', want 'GET, HEAD'",
				    methods[i], r.allow);
		http_reply_free(&r);
	}
	http_request("GET", "/health/", NULL, 0, NULL, &r);
	check_error(&r, 404, "not_found", "GET /health/");
	http_reply_free(&r);
}

/* GET /health while PostgreSQL is down: 503 unavailable with Retry-After,
 * then 200 again once it is back. Runs last: it stops the database. */
static void test_health_database_down(void **state)
{
	struct http_reply r;
	double deadline;
	long status = 0;

	(void)state;
	if (stack_script(&the_stack, "pg-stop") != 0)
		fail_msg_at("contrib/stack pg-stop failed");
	http_request("GET", "/health", NULL, 0, NULL, &r);
	check_error(&r, 503, "unavailable", "GET /health, database down");
	if (strcmp(r.retry_after, "1") != 0)
		fail_msg_at("Retry-After is '%s', want '1'", r.retry_after);
	http_reply_free(&r);
	if (stack_script(&the_stack, "pg-start") != 0)
		fail_msg_at("contrib/stack pg-start failed");
	/* Each worker reconnects on its own; all answer within seconds. */
	deadline = now_seconds() + 15;
	while (now_seconds() < deadline) {
		int ok = 0, i;

		for (i = 0; i < 8; i++) {
			status = http_request("GET", "/health", NULL, 0, NULL, &r);
			http_reply_free(&r);
			ok += status == 200;
		}
		if (ok == 8)
			break;
		sleep_ms(100);
	}
	assert_int_equal(status, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chats_get_users_numeric_order),
		cmocka_unit_test(test_chats_get_members_follow_chat_members),
		cmocka_unit_test(test_users_add_created),
		cmocka_unit_test(test_users_add_conflict_case_sensitive),
		cmocka_unit_test(test_users_add_bad_bodies),
		cmocka_unit_test(test_users_add_name_length),
		cmocka_unit_test(test_users_add_whitespace_kept),
		cmocka_unit_test(test_content_type_not_required),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_request_variants),
		cmocka_unit_test(test_chats_add_created),
		cmocka_unit_test(test_chats_add_repeated_and_empty_users),
		cmocka_unit_test(test_chats_add_unknown_user),
		cmocka_unit_test(test_chats_add_conflict),
		cmocka_unit_test(test_chats_add_name_limits),
		cmocka_unit_test(test_chats_add_bad_ids),
		cmocka_unit_test(test_chats_add_users_not_array),
		cmocka_unit_test(test_messages_add_created),
		cmocka_unit_test(test_messages_add_not_found_forbidden),
		cmocka_unit_test(test_messages_add_text_limits),
		cmocka_unit_test(test_messages_add_bad_fields),
		cmocka_unit_test(test_messages_add_idempotency),
		cmocka_unit_test(test_messages_add_idempotency_key_rules),
		cmocka_unit_test(test_chats_get_order),
		cmocka_unit_test(test_chats_get_fields),
		cmocka_unit_test(test_chats_get_errors),
		cmocka_unit_test(test_messages_get_order_fields),
		cmocka_unit_test(test_messages_get_errors),
		cmocka_unit_test(test_messages_get_paging),
		cmocka_unit_test(test_messages_get_paging_bad_params),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_unknown_path),
		cmocka_unit_test(test_payload_too_large),
		cmocka_unit_test(test_ids_as_integers),
		cmocka_unit_test(test_server_assigns_times_and_ids),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_database_down),
	};

	return cmocka_run_group_tests(tests, stack_group_setup,
	    stack_group_teardown);
}
