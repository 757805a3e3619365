/*
 * test_messages_edit.c - messages/edit, messages/delete and messages/search
 * (API.md 2.4) through nginx -> chatd -> PostgreSQL: who may edit and
 * delete, what a delete leaves of chats/get (last_message_at, unread) and
 * of messages/get's paging, concurrent edits and deletes of one message,
 * and search results against a reference query in SQL.
 *
 * Every expectation that SQL can state is compared with SQL run on the
 * stack's database at that moment, not with numbers written here. Threads
 * only collect answers; every assertion runs in the main thread.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PASSWORD "edit-search password"
#define BODY_MAX 2048
#define OUT_MAX 65536
/* Concurrent rounds of the race, and requests in each. */
#define RACE_ROUNDS 30
#define RACE_SHOTS 3

struct account {
	char name[64];
	char id[ID_LEN];
	char token[64];
};

static struct psql_session db;

/* ---- requests ------------------------------------------------------------ */

/* POST the printf body to path as a (NULL: no session) into *r, which
 * the caller frees. Returns the status. Any thread. */
static long post(struct http_reply *r, const struct account *a,
		 const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static long post(struct http_reply *r, const struct account *a,
		 const char *path, const char *fmt, ...)
{
	char body[BODY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(body))
		abort();
	return http_post_as(a != NULL ? a->token : NULL, path, body, r);
}

/* The same, which must answer status; the reply is freed. Main thread. */
#define must(status, a, path, ...) do { \
	struct http_reply r_; \
	long got_ = post(&r_, (a), (path), __VA_ARGS__); \
	if (got_ != (status)) \
		fail_msg_at("POST %s: want %d, got %ld %s", (path), \
			    (int)(status), got_, r_.body); \
	http_reply_free(&r_); \
} while (0)

static const char *str_of(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static void signup(const char *prefix, struct account *a)
{
	struct http_reply r;

	uniq_name(a->name, sizeof(a->name), prefix);
	if (post(&r, NULL, "/auth/signup", "{\"username\":\"%s\","
		 "\"password\":\"" PASSWORD "\"}", a->name) != 201 ||
	    str_of(r.json, "token") == NULL)
		fail_msg_at("signup: %ld %s", r.status, r.body);
	snprintf(a->id, sizeof(a->id), "%s", str_of(r.json, "id"));
	snprintf(a->token, sizeof(a->token), "%s", str_of(r.json, "token"));
	http_reply_free(&r);
}

/* A group chat of owner with the other members given (NULL-ended). */
static void group(const struct account *owner, char *chat, ...)
{
	char name[64], users[512] = "";
	const struct account *m;
	struct http_reply r;
	va_list ap;

	va_start(ap, chat);
	while ((m = va_arg(ap, const struct account *)) != NULL) {
		size_t len = strlen(users);

		snprintf(users + len, sizeof(users) - len, "%s\"%s\"",
			 len ? "," : "", m->id);
	}
	va_end(ap);
	uniq_name(name, sizeof(name), "g");
	post(&r, owner, "/chats/add", "{\"name\":\"%s\",\"users\":[%s]}",
	     name, users);
	check_created(&r, chat, "chats/add");
	http_reply_free(&r);
}

static void say(const struct account *a, const char *chat, const char *text,
		char *id)
{
	struct http_reply r;

	post(&r, a, "/messages/add", "{\"chat\":\"%s\",\"text\":\"%s\"}",
	     chat, text);
	check_created(&r, id, "messages/add");
	http_reply_free(&r);
}

/* ---- SQL ----------------------------------------------------------------- */

/* What a query prints (rows joined by '\n'), into a static buffer. */
static const char *sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *sql(const char *fmt, ...)
{
	static char out[OUT_MAX];
	char q[BODY_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	if (psql_query(&db, q, out, sizeof(out)) != 0)
		fail_msg_at("psql failed: %s", q);
	return out;
}

/* The ids of a JSON array of objects, joined by ',', into out. */
static void ids_of(const json_t *list, char *out, size_t n)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < json_array_size(list) && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s",
					i ? "," : "",
					str_of(json_array_get(list, i), "id"));
}

/* The caller's chats/get item of chat as "last_message_at|unread", with
 * last_message_at as PostgreSQL prints it, for comparing with SQL. */
static void chat_state(const struct account *a, const char *chat, char *out,
		       size_t n)
{
	struct http_reply r;
	size_t i;

	post(&r, a, "/chats/get", "{}");
	out[0] = '\0';
	for (i = 0; i < json_array_size(r.json); i++) {
		json_t *c = json_array_get(r.json, i);
		const char *at = str_of(c, "last_message_at");

		if (strcmp(str_of(c, "id"), chat) != 0)
			continue;
		snprintf(out, n, "%s|%lld", at ? sql("SELECT '%s'::timestamptz",
		    at) : "", (long long)json_integer_value(json_object_get(c,
		    "unread")));
	}
	http_reply_free(&r);
}

/* What chats/get must say of chat for user, from the messages that
 * remain: the newest one's created_at and the number after the user's
 * read marker written by others. */
static const char *chat_state_sql(const struct account *a, const char *chat)
{
	return sql("SELECT coalesce((SELECT max(created_at)::text FROM messages"
		   " WHERE chat_id = %s), '') || '|' || (SELECT count(*) FROM"
		   " messages m, chat_members cm WHERE cm.chat_id = %s AND"
		   " cm.user_id = %s AND m.chat_id = cm.chat_id AND m.id >"
		   " coalesce(cm.last_read, 0) AND m.author_id <> cm.user_id)",
		   chat, chat, a->id);
}

static void check_chat_state(const struct account *a, const char *chat,
			     const char *what)
{
	char got[256], want[256];

	chat_state(a, chat, got, sizeof(got));
	snprintf(want, sizeof(want), "%s", chat_state_sql(a, chat));
	if (strcmp(got, want) != 0)
		fail_msg_at("%s: chats/get of user %s says chat %s is '%s', SQL "
			    "'%s'", what, a->id, chat, got, want);
	printf("[delete] %s: chat %s of user %s: last_message_at|unread = %s"
	       " (SQL the same)\n", what, chat, a->id, got);
}

/* ---- 1. edit ------------------------------------------------------------- */

static void test_edit(void **state)
{
	struct account author, other, outsider;
	char chat[ID_LEN], msg[ID_LEN], file[ID_LEN], before[256];
	struct http_reply r;

	(void)state;
	signup("ed_author", &author);
	signup("ed_other", &other);
	signup("ed_out", &outsider);
	group(&author, chat, &other, NULL);
	say(&author, chat, "first draft", msg);
	snprintf(before, sizeof(before), "%s",
		 sql("SELECT text || '|' || coalesce(edited_at::text, '-') FROM"
		     " messages WHERE id = %s", msg));

	/* Refusals change nothing. */
	must(403, &other, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"hijack\"}", msg);
	must(403, &outsider, "/messages/edit", "{\"message\":\"%s\","
	     "\"text\":\"hijack\"}", msg);
	must(404, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"x\"}", sql("SELECT max(id) + 1000 FROM messages"));
	must(400, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"  \"}", msg);
	must(401, NULL, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"x\"}", msg);
	assert_string_equal(sql("SELECT text || '|' || coalesce(edited_at::text,"
				" '-') FROM messages WHERE id = %s", msg),
			    before);

	must(204, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"final \\u043f\\u0440\\u0438\\u0432\\u0435\\u0442\"}", msg);
	assert_string_equal(sql("SELECT text || '|' || (edited_at >= created_at)"
				" FROM messages WHERE id = %s", msg),
			    "final привет|true");
	post(&r, &other, "/messages/get", "{\"chat\":\"%s\"}", chat);
	assert_string_equal(str_of(json_array_get(r.json, 0), "text"),
			    "final привет");
	http_reply_free(&r);
	/* The search sees the edit: its new word, not its old one. */
	post(&r, &other, "/messages/search", "{\"query\":\"ПРИВЕТ\"}");
	assert_int_equal(json_array_size(r.json), 1);
	assert_true(json_is_string(json_object_get(json_array_get(r.json, 0),
						   "edited_at")));
	http_reply_free(&r);
	post(&r, &other, "/messages/search", "{\"query\":\"draft\"}");
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);

	/* A message with a file may lose its text; it then shows its file. */
	snprintf(file, sizeof(file), "%s", sql("INSERT INTO files (uploader_id,"
		 " name, size, content_type, sha256, stored) VALUES (%s,"
		 " 'my photo/ü.png', 3, 'image/png', sha256('abc'), 'st-%s')"
		 " RETURNING id", author.id, author.name));
	sql("UPDATE messages SET file_id = %s WHERE id = %s", file, msg);
	must(400, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\" \"}", msg);
	must(204, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"\"}", msg);
	assert_string_equal(sql("SELECT '[' || text || ']' FROM messages WHERE"
				" id = %s", msg), "[]");
	must(204, &author, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"photo caption\"}", msg);
	post(&r, &other, "/messages/search", "{\"query\":\"caption\"}");
	{
		json_t *m = json_array_get(r.json, 0);
		json_t *f = json_object_get(m, "file");
		char url[128];

		snprintf(url, sizeof(url), "/files/%s/my%%20photo_%%C3%%BC.png",
			 file);
		assert_string_equal(str_of(m, "type"), "image");
		assert_string_equal(str_of(f, "id"), file);
		assert_string_equal(str_of(f, "name"), "my photo/ü.png");
		assert_int_equal(json_integer_value(json_object_get(f, "size")),
				 3);
		assert_string_equal(str_of(f, "url"), url);
	}
	http_reply_free(&r);

	/* An author who left the chat may not edit any more. */
	must(204, &other, "/chats/members/remove", "{\"chat\":\"%s\","
	     "\"user\":\"%s\"}", chat, other.id);
	say(&author, chat, "mine", msg);
	must(204, &author, "/chats/members/add", "{\"chat\":\"%s\",\"user\":"
	     "\"%s\"}", chat, other.id);
	say(&other, chat, "by other", msg);
	must(204, &other, "/chats/members/remove", "{\"chat\":\"%s\","
	     "\"user\":\"%s\"}", chat, other.id);
	must(403, &other, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"after leaving\"}", msg);
	assert_string_equal(sql("SELECT text FROM messages WHERE id = %s", msg),
			    "by other");
}

/* ---- 2. delete ----------------------------------------------------------- */

static void test_delete(void **state)
{
	struct account owner, member, reader, outsider;
	char chat[ID_LEN], m[10][ID_LEN], got[512], want[512];
	struct http_reply r;
	int i;

	(void)state;
	signup("del_owner", &owner);
	signup("del_member", &member);
	signup("del_reader", &reader);
	signup("del_out", &outsider);
	group(&owner, chat, &member, &reader, NULL);
	for (i = 0; i < 10; i++)
		say(i % 2 ? &member : &owner, chat, "numbered", m[i]);
	/* The reader has read up to the fourth. */
	must(204, &reader, "/chats/read", "{\"chat\":\"%s\",\"message\":"
	     "\"%s\"}", chat, m[3]);

	must(403, &reader, "/messages/delete", "{\"message\":\"%s\"}", m[1]);
	must(403, &outsider, "/messages/delete", "{\"message\":\"%s\"}", m[1]);
	must(403, &member, "/messages/delete", "{\"message\":\"%s\"}", m[0]);
	must(401, NULL, "/messages/delete", "{\"message\":\"%s\"}", m[1]);
	assert_string_equal(sql("SELECT count(*) FROM messages WHERE chat_id ="
				" %s", chat), "10");

	must(204, &member, "/messages/delete", "{\"message\":\"%s\"}", m[1]);
	must(204, &owner, "/messages/delete", "{\"message\":\"%s\"}", m[5]);
	must(404, &owner, "/messages/delete", "{\"message\":\"%s\"}", m[5]);
	must(404, &owner, "/messages/edit", "{\"message\":\"%s\",\"text\":"
	     "\"x\"}", m[5]);
	check_chat_state(&reader, chat, "two older messages deleted");

	/* The newest, then the new newest: last_message_at moves back. */
	must(204, &member, "/messages/delete", "{\"message\":\"%s\"}", m[9]);
	check_chat_state(&reader, chat, "the newest deleted");
	check_chat_state(&owner, chat, "the newest deleted");
	must(204, &owner, "/messages/delete", "{\"message\":\"%s\"}", m[8]);
	check_chat_state(&reader, chat, "the new newest deleted");
	assert_string_equal(sql("SELECT last_message_id FROM chats WHERE id ="
				" %s", chat), m[7]);

	/* after paging: every page is the next messages that remain. */
	for (i = 0; i < 8; i++) {
		post(&r, &reader, "/messages/get", "{\"chat\":\"%s\",\"after\":"
		     "\"%s\",\"limit\":3}", chat, m[i]);
		ids_of(r.json, got, sizeof(got));
		snprintf(want, sizeof(want), "%s", sql("SELECT"
			 " coalesce(string_agg(id::text, ',' ORDER BY id), '')"
			 " FROM (SELECT id FROM messages WHERE chat_id = %s AND"
			 " id > %s ORDER BY id LIMIT 3) p", chat, m[i]));
		if (strcmp(got, want) != 0)
			fail_msg_at("after %s: got [%s], SQL [%s]", m[i], got,
				    want);
		http_reply_free(&r);
	}
	printf("[delete] after paging across deletes matches SQL\n");

	/* A read marker on a deleted id is harmless: read past the last
	 * message, then delete everything after it and add again. */
	must(204, &reader, "/chats/read", "{\"chat\":\"%s\",\"message\":"
	     "\"%s\"}", chat, m[7]);
	must(204, &member, "/messages/delete", "{\"message\":\"%s\"}", m[7]);
	check_chat_state(&reader, chat, "the message read last deleted");
	say(&member, chat, "after the gap", m[9]);
	check_chat_state(&reader, chat, "a new message after the gap");
	for (i = 0; i < 10; i++) {
		post(&r, &owner, "/messages/delete", "{\"message\":\"%s\"}",
		     m[i]);
		http_reply_free(&r);
	}
	check_chat_state(&reader, chat, "every message deleted");
	assert_string_equal(sql("SELECT coalesce(last_message_id, 0) || '|' ||"
				" (last_message_at IS NULL) FROM chats WHERE"
				" id = %s", chat), "0|true");
}

/* ---- 3. concurrent edits and deletes of one message ---------------------- */

struct shot {
	pthread_barrier_t *start;
	const struct account *as;
	const char *path;
	char body[256];
	long status;
};

static void *shot_thread(void *arg)
{
	struct shot *s = arg;
	struct http_reply r;

	http_request("GET", "/health", NULL, 0, NULL, &r);
	http_reply_free(&r);
	pthread_barrier_wait(s->start);
	s->status = http_post_as(s->as->token, s->path, s->body, &r);
	http_reply_free(&r);
	http_thread_done();
	return NULL;
}

/* Each round: the author edits, the author deletes and the owner deletes
 * one message at once. Serially, whatever the order: exactly one delete
 * is 204 and the other 404; the edit is 204 when it came first, 404
 * otherwise; the message is gone and the chat's newest is the one
 * before it. */
static void test_race_edit_delete(void **state)
{
	struct account owner, author;
	char chat[ID_LEN], keep[ID_LEN], msg[ID_LEN];
	int round, edits = 0;

	(void)state;
	signup("race_owner", &owner);
	signup("race_author", &author);
	group(&owner, chat, &author, NULL);
	say(&owner, chat, "stays", keep);
	for (round = 0; round < RACE_ROUNDS; round++) {
		struct shot s[RACE_SHOTS] = {
			{.as = &author, .path = "/messages/edit"},
			{.as = &author, .path = "/messages/delete"},
			{.as = &owner, .path = "/messages/delete"},
		};
		pthread_barrier_t start;
		pthread_t th[RACE_SHOTS];
		int i;

		say(&author, chat, "contested", msg);
		snprintf(s[0].body, sizeof(s[0].body), "{\"message\":\"%s\","
			 "\"text\":\"edited %d\"}", msg, round);
		snprintf(s[1].body, sizeof(s[1].body), "{\"message\":\"%s\"}",
			 msg);
		snprintf(s[2].body, sizeof(s[2].body), "{\"message\":\"%s\"}",
			 msg);
		pthread_barrier_init(&start, NULL, RACE_SHOTS);
		for (i = 0; i < RACE_SHOTS; i++) {
			s[i].start = &start;
			assert_int_equal(pthread_create(&th[i], NULL,
							shot_thread, &s[i]), 0);
		}
		for (i = 0; i < RACE_SHOTS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		if (!((s[0].status == 204 || s[0].status == 404) &&
		      ((s[1].status == 204 && s[2].status == 404) ||
		       (s[1].status == 404 && s[2].status == 204))))
			fail_msg_at("round %d: edit %ld, author's delete %ld, "
				    "owner's delete %ld", round, s[0].status,
				    s[1].status, s[2].status);
		edits += s[0].status == 204;
		if (strcmp(sql("SELECT count(*) || '|' || ((SELECT"
			       " last_message_id FROM chats WHERE id = %s) ="
			       " %s) FROM messages WHERE id = %s", chat, keep,
			       msg), "0|true") != 0)
			fail_msg_at("round %d: message %s remains, or the chat's"
				    " newest is not %s", round, msg, keep);
	}
	printf("[race] %d rounds of edit + two deletes at once: every round a"
	       " serial outcome; the edit came first in %d\n", RACE_ROUNDS,
	       edits);
}

/* ---- 4. search against SQL ----------------------------------------------- */

/* The reference: the ids (newest first, joined by ',') of the messages
 * matching q in the chats of user (only chat when not NULL) before id
 * before, at most limit, by the words PostgreSQL's own functions make of
 * the text and of the query, written out here, not chatd's. */
static const char *reference(const struct account *user, const char *q,
			     const char *chat, const char *before, int limit)
{
	return sql("SELECT coalesce(string_agg(id::text, ',' ORDER BY id DESC),"
		   " '') FROM (SELECT m.id FROM messages m JOIN chat_members cm"
		   " ON cm.chat_id = m.chat_id WHERE cm.user_id = %s AND"
		   " m.chat_id = coalesce(%s, m.chat_id) AND m.id < %s AND"
		   " to_tsvector('simple', lower(m.text COLLATE \"und-x-icu\"))"
		   " @@ websearch_to_tsquery('simple', lower('%s' COLLATE"
		   " \"und-x-icu\")) ORDER BY m.id DESC LIMIT %d) p",
		   user->id, chat ? chat : "NULL", before, q, limit);
}

/* messages/search's ids for the same, compared with the reference, and
 * every item's chat one of the user's. */
static void check_search(const struct account *user,
			 const char *const *q, const char *chat,
			 const char *before, int limit)
{
	char got[OUT_MAX / 4], want[OUT_MAX / 4], body[512], extra[128] = "";
	struct http_reply r;

	if (chat != NULL)
		snprintf(extra, sizeof(extra), ",\"chat\":\"%s\"", chat);
	snprintf(body, sizeof(body), "{\"query\":\"%s\",\"before\":\"%s\","
		 "\"limit\":%d%s}", q[0], before, limit, extra);
	if (http_post_as(user->token, "/messages/search", body, &r) != 200)
		fail_msg_at("search %s: %ld %s", body, r.status, r.body);
	ids_of(r.json, got, sizeof(got));
	snprintf(want, sizeof(want), "%s", reference(user, q[1], chat, before,
						     limit));
	if (strcmp(got, want) != 0)
		fail_msg_at("search %s: got [%s], SQL [%s]", body, got, want);
	http_reply_free(&r);
}

static void test_search(void **state)
{
	static const char *const texts[] = {
		"Привет, мир", "ПРИВЕТ всем", "hello world", "Hello again",
		"see you at 10", "world peace", "café au lait", "мир во всём мире",
		"nothing here", "hello, мир!",
	};
	/* Each query as JSON writes it and as an SQL literal does. */
	static const char *const queries[][2] = {
		{"привет", "привет"}, {"мир", "мир"}, {"hello", "hello"},
		{"world", "world"}, {"hello world", "hello world"},
		{"\\\"see you\\\"", "\"see you\""}, {"\\\"world hello\\\"",
		"\"world hello\""}, {"hello or мир", "hello or мир"},
		{"hello -world", "hello -world"}, {"CAFÉ", "CAFÉ"},
		{"absent", "absent"}, {"10", "10"},
	};
	struct account me, other, peer;
	char chats[3][ID_LEN], id[ID_LEN], top[ID_LEN], last[ID_LEN];
	char page[OUT_MAX / 4], all[OUT_MAX / 4];
	struct http_reply r;
	size_t i, q;
	int n;

	(void)state;
	signup("se_me", &me);
	signup("se_other", &other);
	signup("se_peer", &peer);
	group(&me, chats[0], &other, NULL);
	group(&other, chats[1], &me, NULL);
	group(&other, chats[2], &peer, NULL);	/* not mine */
	for (n = 0; n < 60; n++)
		say(n % 3 == 1 ? &other : n % 3 == 2 ? &peer : &me,
		    chats[n % 3], texts[n % 10], id);
	snprintf(top, sizeof(top), "%s", sql("SELECT max(id) + 1 FROM"
					     " messages"));
	for (q = 0; q < sizeof(queries) / sizeof(*queries); q++) {
		check_search(&me, queries[q], NULL, top, 100);
		check_search(&me, queries[q], NULL, top, 3);
		check_search(&me, queries[q], chats[1], top, 7);
		check_search(&other, queries[q], NULL, top, 50);
	}
	printf("[search] %zu queries x 4 callers/limits match the SQL"
	       " reference\n", sizeof(queries) / sizeof(*queries));

	/* before paging walks the whole result, page by page. */
	snprintf(all, sizeof(all), "%s", reference(&me, "мир", NULL, top, 100));
	snprintf(last, sizeof(last), "%s", top);
	page[0] = '\0';
	for (n = 0; n < 100; n++) {
		char ids[512];
		size_t len = strlen(page), k;

		post(&r, &me, "/messages/search", "{\"query\":\"мир\","
		     "\"before\":\"%s\",\"limit\":4}", last);
		assert_int_equal(r.status, 200);
		k = json_array_size(r.json);
		if (k == 0) {
			http_reply_free(&r);
			break;
		}
		ids_of(r.json, ids, sizeof(ids));
		snprintf(page + len, sizeof(page) - len, "%s%s",
			 len ? "," : "", ids);
		snprintf(last, sizeof(last), "%s",
			 str_of(json_array_get(r.json, k - 1), "id"));
		for (i = 0; i < k; i++) {
			const char *c = str_of(json_array_get(r.json, i),
					       "chat");

			assert_true(strcmp(c, chats[0]) == 0 ||
				    strcmp(c, chats[1]) == 0);
		}
		http_reply_free(&r);
	}
	assert_string_equal(page, all);
	printf("[search] before paging, 4 at a time, %d pages: the SQL"
	       " reference\n", n);

	/* A removed member finds nothing of that chat any more. */
	must(204, &other, "/chats/members/remove", "{\"chat\":\"%s\","
	     "\"user\":\"%s\"}", chats[1], me.id);
	must(403, &me, "/messages/search", "{\"query\":\"мир\",\"chat\":"
	     "\"%s\"}", chats[1]);
	must(403, &me, "/messages/search", "{\"query\":\"мир\",\"chat\":"
	     "\"%s\"}", chats[2]);
	must(404, &me, "/messages/search", "{\"query\":\"мир\",\"chat\":"
	     "\"%s\"}", sql("SELECT max(id) + 1 FROM chats"));
	post(&r, &me, "/messages/search", "{\"query\":\"мир\"}");
	for (i = 0; i < json_array_size(r.json); i++)
		assert_string_equal(str_of(json_array_get(r.json, i), "chat"),
				    chats[0]);
	http_reply_free(&r);
	for (q = 0; q < sizeof(queries) / sizeof(*queries); q++)
		check_search(&me, queries[q], NULL, top, 100);
	printf("[search] after the removal: only chat %s, as SQL says\n",
	       chats[0]);

	/* A query with no word to find. */
	must(400, &me, "/messages/search", "{\"query\":\"!!! ...\"}");
	must(400, &me, "/messages/search", "{\"query\":\"-world\"}");
	must(400, &me, "/messages/search", "{\"query\":\"   \"}");
}

static int open_db(void **state)
{
	if (stack_group_setup(state) != 0)
		return -1;
	return psql_open(&the_stack, &db) == 0 ? 0 : -1;
}

static int close_db(void **state)
{
	psql_close(&db);
	return stack_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_race_edit_delete),
		cmocka_unit_test(test_search),
	};

	setenv("CHATD_SERVE_ARGS", "--pwhash-mem 19 --pwhash-ops 2", 1);
	return cmocka_run_group_tests(tests, open_db, close_db);
}
