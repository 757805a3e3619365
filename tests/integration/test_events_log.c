/*
 * test_events_log.c - the event log (API.md 2.6, sql/011_events.sql)
 * through nginx -> chatd -> PostgreSQL: every kind of change, then the
 * events/get of each user, who must get exactly the events meant for them,
 * with ids that only grow; message events equal to the messages/get item;
 * 410 below the horizon and never for "0"; bad input; the typing throttle.
 *
 * No relay runs here: the test moves the outbox into the log itself with
 * SELECT chatd_events_take(1000), as the relay would, after each change.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PASSWORD "events password"
#define BODY_MAX 1024
#define USERS 3		/* a, b, c */
/* A wait for a notification gives up after this long (a hang, not a
 * timing assertion). */
#define DEADLINE_S 60.0

struct account {
	char id[ID_LEN];
	char token[64];
	long long seen;	/* the largest event id this user has read */
};

static struct account acct[USERS];

static const char *str_of(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static long call(const char *token, struct http_reply *out, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static long call(const char *token, struct http_reply *out, const char *path,
		 const char *fmt, ...)
{
	char body[BODY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= BODY_MAX)
		abort();
	return http_post_as(token, path, body, out);
}

/* A request that must answer status; its "id" into id (may be NULL). */
static void must(long status, const char *token, char *id, const char *path,
		 const char *body)
{
	struct http_reply r;

	http_post_as(token, path, body, &r);
	check_status(&r, status, path);
	if (id != NULL) {
		const char *v = r.json ? str_of(r.json, "id") : NULL;

		if (v == NULL)
			fail_msg_at("%s: no id in %s", path, r.body);
		snprintf(id, ID_LEN, "%s", v);
	}
	http_reply_free(&r);
}

static void signup(const char *prefix, struct account *a)
{
	char name[64];
	struct http_reply r;

	uniq_name(name, sizeof(name), prefix);
	call(NULL, &r, "/auth/signup",
	     "{\"username\":\"%s\",\"password\":\"" PASSWORD "\"}", name);
	check_status(&r, 201, "signup");
	snprintf(a->id, ID_LEN, "%s", str_of(r.json, "id"));
	snprintf(a->token, sizeof(a->token), "%s", str_of(r.json, "token"));
	a->seen = 0;
	http_reply_free(&r);
}

/* What psql printed for sql (new string), its final newlines cut. */
static char *sql_out(const char *sql)
{
	char *out = stack_psql_output(&the_stack, sql);
	size_t n;

	if (out == NULL)
		fail_msg_at("psql failed: %s", sql);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

/* The relay's step: moves the whole outbox into the log. Returns what
 * SELECT ... FROM chatd_events_take(1000) printed (new string). */
static char *take_sql(const char *select)
{
	char sql[256];
	char *out;

	snprintf(sql, sizeof(sql), "SELECT %s FROM chatd_events_take(1000)",
		 select);
	out = sql_out(sql);
	return out;
}

static void take(void)
{
	free(take_sql("count(*)"));
}

/* The events of a after a->seen (new reference), whose ids must be
 * canonical and strictly increasing from a->seen; a->seen moves to the
 * last. */
static json_t *fresh(struct account *a)
{
	struct http_reply r;
	json_t *arr, *ev;
	size_t i;

	call(a->token, &r, "/events/get", "{\"after\":\"%lld\",\"limit\":1000}",
	     a->seen);
	check_status(&r, 200, "events/get");
	if (!json_is_array(r.json))
		fail_msg_at("events/get: not an array: %s", r.body);
	json_array_foreach(r.json, i, ev) {
		const char *id = str_of(ev, "id");
		long long n = id && is_canonical_id(id) ? atoll(id) : -1;

		if (n <= a->seen)
			fail_msg_at("event id %s after %lld: %s", id ? id : "?",
				    a->seen, r.body);
		a->seen = n;
		if (!json_is_object(json_object_get(ev, "data")) ||
		    json_object_get(ev, "chat") == NULL)
			fail_msg_at("event without data or chat: %s", r.body);
	}
	arr = json_incref(r.json);
	http_reply_free(&r);
	return arr;
}

/* a's new events must be exactly the types listed (a NULL-terminated
 * list), in order, all of chat (NULL: the "chat" of the event is null);
 * returns them (new reference). */
static json_t *expect(struct account *a, const char *chat, ...)
{
	json_t *arr = fresh(a), *ev;
	const char *type;
	char *dump = json_dumps(arr, 0);
	size_t i = 0;
	va_list ap;

	va_start(ap, chat);
	while ((type = va_arg(ap, const char *)) != NULL) {
		ev = json_array_get(arr, i++);
		if (ev == NULL || strcmp(str_of(ev, "type"), type) != 0)
			fail_msg_at("user %s: event %zu is not %s: %s", a->id,
				    i, type, dump);
		if (chat ? !str_of(ev, "chat") || strcmp(str_of(ev, "chat"),
		    chat) : !json_is_null(json_object_get(ev, "chat")))
			fail_msg_at("user %s: event %zu not of chat %s: %s",
				    a->id, i, chat ? chat : "null", dump);
	}
	va_end(ap);
	if (i != json_array_size(arr))
		fail_msg_at("user %s: %zu events, %zu expected: %s", a->id,
			    json_array_size(arr), i, dump);
	free(dump);
	return arr;
}

/* The data of the only event of arr (borrowed). */
static json_t *data0(json_t *arr)
{
	return json_object_get(json_array_get(arr, 0), "data");
}

/* data must equal the messages/get item of message id in chat: every
 * field, file and edited_at included. */
static void same_as_messages_get(const json_t *data, const char *chat,
				 const char *id, const char *token)
{
	struct http_reply r;
	json_t *m = NULL;
	size_t i;
	char *a, *b;

	call(token, &r, "/messages/get", "{\"chat\":\"%s\"}", chat);
	check_status(&r, 200, "messages/get");
	json_array_foreach(r.json, i, m)
		if (strcmp(str_of(m, "id"), id) == 0)
			break;
	if (m == NULL)
		fail_msg_at("message %s not in messages/get", id);
	a = json_dumps(data, JSON_SORT_KEYS);
	b = json_dumps(m, JSON_SORT_KEYS);
	if (!json_equal((json_t *)data, m))
		fail_msg_at("event data %s\n  messages/get %s", a, b);
	free(a);
	free(b);
	http_reply_free(&r);
}

static void field_is(const json_t *o, const char *name, const char *want)
{
	const char *v = str_of(o, name);

	if (want == NULL ? !json_is_null(json_object_get(o, name)) :
	    v == NULL || strcmp(v, want) != 0)
		fail_msg_at("field %s is not %s", name, want ? want : "null");
}

static void nothing_for(struct account *a)
{
	json_decref(expect(a, NULL, NULL));
}

/* One message with a file: an upload over a raw connection (its body is
 * the bytes), then messages/add carrying it. */
static void upload(const char *token, const char *name, char *id)
{
	static const char data[] = "event file bytes";
	char req[1024];
	struct http_reply r;
	int n;

	n = snprintf(req, sizeof(req), "POST /files/upload?name=%s HTTP/1.1\r\n"
		     "Host: events\r\nConnection: close\r\nAuthorization: "
		     "Bearer %s\r\nContent-Type: application/octet-stream\r\n"
		     "Content-Length: %zu\r\n\r\n%s", name, token,
		     sizeof(data) - 1, data);
	http_raw(&the_stack, req, (size_t)n, false, &r, NULL);
	check_status(&r, 201, "files/upload");
	snprintf(id, ID_LEN, "%s", str_of(r.json, "id"));
	http_reply_free(&r);
}

static void test_every_change(void **state)
{
	struct account *a = &acct[0], *b = &acct[1], *c = &acct[2];
	char chat[ID_LEN], msg[ID_LEN], direct[ID_LEN], dmsg[ID_LEN];
	char file[ID_LEN], fmsg[ID_LEN], body[BODY_MAX], name[64];
	json_t *ev;
	(void)state;

	for (int i = 0; i < USERS; i++)
		signup("ev", &acct[i]);

	/* A chat made with a member: chat.created for both, no
	 * member_added; nothing for c. */
	uniq_name(name, sizeof(name), "evchat");
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"users\":[\"%s\"]}",
		 name, b->id);
	must(201, a->token, chat, "/chats/add", body);
	take();
	json_decref(expect(b, chat, "chat.created", NULL));
	ev = expect(a, chat, "chat.created", NULL);
	field_is(data0(ev), "id", chat);
	field_is(data0(ev), "name", name);
	field_is(data0(ev), "type", "group");
	field_is(data0(ev), "owner", a->id);
	json_decref(ev);
	nothing_for(c);

	/* A message: message.created, the messages/get item. */
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"text\":\"hello "
		 "\\\"events\\\" \\u00e9\\n\"}", chat);
	must(201, a->token, msg, "/messages/add", body);
	take();
	ev = expect(b, chat, "message.created", NULL);
	same_as_messages_get(data0(ev), chat, msg, a->token);
	json_decref(ev);
	json_decref(expect(a, chat, "message.created", NULL));
	nothing_for(c);

	/* c added: all three get member_added, and c nothing older. */
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"user\":\"%s\"}", chat,
		 c->id);
	must(204, a->token, NULL, "/chats/members/add", body);
	take();
	ev = expect(c, chat, "chat.member_added", NULL);
	field_is(data0(ev), "user", c->id);
	json_decref(ev);
	json_decref(expect(a, chat, "chat.member_added", NULL));
	json_decref(expect(b, chat, "chat.member_added", NULL));

	/* An edit: message.edited, the messages/get item with edited_at. */
	snprintf(body, sizeof(body), "{\"message\":\"%s\",\"text\":\"edited\"}",
		 msg);
	must(204, a->token, NULL, "/messages/edit", body);
	take();
	ev = expect(c, chat, "message.edited", NULL);
	same_as_messages_get(data0(ev), chat, msg, a->token);
	if (json_is_null(json_object_get(data0(ev), "edited_at")))
		fail_msg_at("message.edited without edited_at");
	json_decref(ev);
	json_decref(expect(a, chat, "message.edited", NULL));
	json_decref(expect(b, chat, "message.edited", NULL));

	/* A message with a file, its file object as messages/get has it. */
	upload(a->token, "a%20b%2Fc.txt", file);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"file\":\"%s\"}", chat,
		 file);
	must(201, a->token, fmsg, "/messages/add", body);
	take();
	ev = expect(b, chat, "message.created", NULL);
	same_as_messages_get(data0(ev), chat, fmsg, a->token);
	if (!json_is_object(json_object_get(data0(ev), "file")))
		fail_msg_at("message.created without its file");
	json_decref(ev);
	json_decref(expect(a, chat, "message.created", NULL));
	json_decref(expect(c, chat, "message.created", NULL));

	/* A read marker: to the reader alone, and only when it moves. */
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"message\":\"%s\"}",
		 chat, msg);
	must(204, b->token, NULL, "/chats/read", body);
	take();
	ev = expect(b, chat, "chat.read", NULL);
	field_is(data0(ev), "message", msg);
	json_decref(ev);
	nothing_for(a);
	nothing_for(c);
	must(204, b->token, NULL, "/chats/read", body);
	take();
	nothing_for(b);

	/* b removed: the members and b get member_removed; b nothing more. */
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"user\":\"%s\"}", chat,
		 b->id);
	must(204, a->token, NULL, "/chats/members/remove", body);
	take();
	ev = expect(b, chat, "chat.member_removed", NULL);
	field_is(data0(ev), "user", b->id);
	json_decref(ev);
	json_decref(expect(a, chat, "chat.member_removed", NULL));
	json_decref(expect(c, chat, "chat.member_removed", NULL));

	snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
	must(204, a->token, NULL, "/messages/delete", body);
	take();
	ev = expect(c, chat, "message.deleted", NULL);
	field_is(data0(ev), "id", msg);
	json_decref(ev);
	json_decref(expect(a, chat, "message.deleted", NULL));
	nothing_for(b);

	/* A private chat, then a message into it by messages/send. */
	snprintf(body, sizeof(body), "{\"user\":\"%s\"}", c->id);
	must(201, a->token, direct, "/chats/direct", body);
	take();
	ev = expect(c, direct, "chat.created", NULL);
	field_is(data0(ev), "type", "private");
	field_is(data0(ev), "owner", NULL);
	json_decref(ev);
	json_decref(expect(a, direct, "chat.created", NULL));
	nothing_for(b);
	snprintf(body, sizeof(body), "{\"to\":\"%s\",\"text\":\"sent\"}",
		 c->id);
	must(201, a->token, dmsg, "/messages/send", body);
	take();
	ev = expect(a, direct, "message.created", NULL);
	same_as_messages_get(data0(ev), direct, dmsg, a->token);
	json_decref(ev);
	json_decref(expect(c, direct, "message.created", NULL));
	nothing_for(b);
}

/* messages/broadcast: one message.created per message stored. */
static void test_broadcast(void **state)
{
	struct account *a = &acct[0], *b = &acct[1];
	struct http_reply r;
	json_t *arr, *ev;
	char sql[128];
	size_t i, created = 0, chats = 0;
	long long count;
	(void)state;

	snprintf(sql, sizeof(sql), "UPDATE users SET is_admin = true "
		 "WHERE id = %s", a->id);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	take();
	json_decref(fresh(a));
	json_decref(fresh(b));
	call(a->token, &r, "/messages/broadcast", "{\"text\":\"to all\"}");
	check_status(&r, 201, "broadcast");
	count = json_integer_value(json_object_get(r.json, "count"));
	http_reply_free(&r);
	take();
	arr = fresh(a);
	json_array_foreach(arr, i, ev) {
		if (strcmp(str_of(ev, "type"), "message.created") == 0)
			created++;
		else if (strcmp(str_of(ev, "type"), "chat.created") == 0)
			chats++;
		else
			fail_msg_at("broadcast: event %s", str_of(ev, "type"));
	}
	if (count < 2 || (long long)created != count)
		fail_msg_at("broadcast of %lld messages: %zu message.created",
			    count, created);
	json_decref(arr);
	/* b had no private chat with a: it is made now. */
	arr = fresh(b);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(str_of(json_array_get(arr, 0), "type"),
			    "chat.created");
	assert_string_equal(str_of(json_array_get(arr, 1), "type"),
			    "message.created");
	json_decref(arr);
	assert_true(chats >= 1);
}

/* Logs c in again with password pw; the new token into tok. */
static void login(const char *username, const char *pw, char *tok)
{
	struct http_reply l;

	call(NULL, &l, "/auth/login", "{\"username\":\"%s\","
	     "\"password\":\"%s\"}", username, pw);
	check_status(&l, 200, "login");
	snprintf(tok, 64, "%s", str_of(l.json, "token"));
	http_reply_free(&l);
}

/* Sessions ended (logout, password, logout_all): a session.ended per
 * session, with the channel s<id> and no body, to close its streams;
 * none is a client's event. */
static void test_sessions_ended(void **state)
{
	struct account *c = &acct[2];
	struct http_reply r;
	char tok[3][64], uname[128], sql[160], *out;
	int i;
	(void)state;

	take();
	json_decref(fresh(c));
	call(c->token, &r, "/users/me", "{}");
	check_status(&r, 200, "users/me");
	snprintf(uname, sizeof(uname), "%s", str_of(r.json, "username"));
	http_reply_free(&r);
	for (i = 0; i < 3; i++)
		login(uname, PASSWORD, tok[i]);
	must(204, tok[0], NULL, "/auth/logout", "{}");
	out = take_sql("string_agg(left(channels, 1) || (body IS NULL)::text,"
		       " ',')");
	assert_string_equal(out, "strue");
	free(out);
	snprintf(c->token, sizeof(c->token), "%s", tok[1]);
	nothing_for(c);
	/* The password change ends every other session: c's first and one
	 * of the logins. */
	must(204, tok[1], NULL, "/auth/password", "{\"password\":\"" PASSWORD
	     "\",\"new_password\":\"" PASSWORD " 2\"}");
	out = take_sql("count(*) FILTER (WHERE channels LIKE 's%' AND body IS"
		       " NULL)");
	assert_string_equal(out, "2");
	free(out);
	nothing_for(c);
	must(204, tok[1], NULL, "/auth/logout_all", "{}");
	out = take_sql("count(*)");
	assert_string_equal(out, "1");
	free(out);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
		 "user_id = %s AND type = 'session.ended' AND data IS NULL",
		 c->id);
	out = sql_out(sql);
	assert_non_null(out);
	assert_string_equal(out, "4");
	free(out);
	login(uname, PASSWORD " 2", c->token);
	nothing_for(c);
}

/* 410 below the horizon, "0" never, the horizon itself not. */
static void test_horizon(void **state)
{
	struct account *a = &acct[0];
	struct http_reply r;
	char *horizon, chat[ID_LEN], body[BODY_MAX], name[64];
	json_t *arr;
	(void)state;

	uniq_name(name, sizeof(name), "evh");
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"users\":[]}", name);
	must(201, a->token, chat, "/chats/add", body);
	take();
	free(sql_out(
			       "SELECT chatd_events_expire('0', 100000)"));
	horizon = sql_out(
				    "SELECT horizon FROM relay_state");
	assert_non_null(horizon);
	assert_true(atoll(horizon) > 1);
	call(a->token, &r, "/events/get", "{\"after\":\"1\"}");
	check_error(&r, 410, "gone", "after 1, below the horizon");
	http_reply_free(&r);
	call(a->token, &r, "/events/get", "{\"after\":\"%lld\"}",
	     atoll(horizon) - 1);
	check_error(&r, 410, "gone", "just below the horizon");
	http_reply_free(&r);
	call(a->token, &r, "/events/get", "{\"after\":\"%s\"}", horizon);
	check_status(&r, 200, "after the horizon");
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);
	call(a->token, &r, "/events/get", "{\"after\":\"0\"}");
	check_status(&r, 200, "after 0");
	assert_int_equal(json_array_size(r.json), 0);
	http_reply_free(&r);
	/* A new event after the expiry: "0" and no after both have it. */
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"text\":\"late\"}",
		 chat);
	must(201, a->token, NULL, "/messages/add", body);
	take();
	call(a->token, &r, "/events/get", "{\"after\":0}");
	check_status(&r, 200, "after 0 again");
	assert_int_equal(json_array_size(r.json), 1);
	assert_true(atoll(str_of(json_array_get(r.json, 0), "id")) >
		    atoll(horizon));
	http_reply_free(&r);
	call(a->token, &r, "/events/get", "{\"limit\":1}");
	check_status(&r, 200, "newest");
	arr = r.json;
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(str_of(json_array_get(arr, 0), "type"),
			    "message.created");
	http_reply_free(&r);
	free(horizon);
}

/* A take that finds nothing writes nothing (sql/013_relay_take.sql: no
 * row version of relay_state, no transaction id), and the next events are
 * numbered straight on from the last. */
static void test_empty_take(void **state)
{
	struct account *a = &acct[0];
	char chat[ID_LEN], body[BODY_MAX], name[64];
	char *before, *after, *last, *ids;
	char want[64];
	(void)state;

	take();
	before = sql_out("SELECT xmin || ' ' || last_id FROM relay_state");
	free(take_sql("count(*)"));
	free(take_sql("count(*)"));
	after = sql_out("SELECT xmin || ' ' || last_id FROM relay_state");
	assert_string_equal(before, after);
	last = sql_out("SELECT last_id FROM relay_state");
	uniq_name(name, sizeof(name), "eve");
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"users\":[]}", name);
	must(201, a->token, chat, "/chats/add", body);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\",\"text\":\"one\"}",
		 chat);
	must(201, a->token, NULL, "/messages/add", body);
	ids = take_sql("string_agg(id::text, ' ' ORDER BY id)");
	snprintf(want, sizeof(want), "%lld %lld", atoll(last) + 1,
		 atoll(last) + 2);
	assert_string_equal(ids, want);
	free(ids);
	free(last);
	last = sql_out("SELECT last_id FROM relay_state");
	snprintf(want, sizeof(want), "%lld", atoll(want + strcspn(want, " ")));
	assert_string_equal(last, want);
	free(last);
	free(before);
	free(after);
}

/* A take reads only its batch of the outbox, however many events wait
 * (sql/014_take_by_index.sql): with 20,000 waiting, and the statistics
 * saying so, a take of 100 removes exactly the oldest 100 and scans the
 * outbox by its index only (pg_stat_xact_user_tables: no sequential scan
 * in the take's transaction; version 13's generic plan made one). The
 * waiting rows are messages that do not exist, which a take drops (no
 * data), so they leave no event behind: psql prints the take's count, 0,
 * then the scans. */
static void test_backlog_take(void **state)
{
	char *out;
	(void)state;

	take();
	free(sql_out("INSERT INTO event_outbox (type, message_id)"
		     " SELECT 'message.created', 0 FROM generate_series(1, 20000)"));
	free(sql_out("ANALYZE event_outbox"));
	out = sql_out("SELECT count(*) FROM chatd_events_take(100);"
		      " SELECT seq_scan"
		      " FROM pg_stat_xact_user_tables"
		      " WHERE relname = 'event_outbox'");
	assert_string_equal(out, "0\n0");
	free(out);
	out = sql_out("SELECT count(*) FROM event_outbox");
	assert_string_equal(out, "19900");
	free(out);
	take();
	out = sql_out("SELECT count(*) FROM event_outbox");
	assert_string_equal(out, "18900");
	free(out);
	free(sql_out("DELETE FROM event_outbox WHERE message_id = 0"));
}

/* Without after: the newest limit events, oldest first. */
static void test_newest_page(void **state)
{
	struct account *a = &acct[0];
	struct http_reply all, page;
	size_t n;
	(void)state;

	call(a->token, &all, "/events/get", "{\"after\":\"0\"}");
	check_status(&all, 200, "all");
	n = json_array_size(all.json);
	assert_true(n >= 1);
	call(a->token, &page, "/events/get", "{\"limit\":1}");
	check_status(&page, 200, "newest 1");
	assert_int_equal(json_array_size(page.json), 1);
	assert_true(json_equal(json_array_get(page.json, 0),
			       json_array_get(all.json, n - 1)));
	http_reply_free(&page);
	http_reply_free(&all);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = {
		"{\"after\":\"abc\"}", "{\"after\":-1}", "{\"after\":4.2}",
		"{\"after\":null}", "{\"after\":\"0x2a\"}", "{\"limit\":0}",
		"{\"limit\":1001}", "{\"limit\":\"5\"}", "[]", "{\"after\":\"0\","
		"\"after\":\"0\"}",
	};
	struct http_reply r;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_post_as(acct[0].token, "/events/get", bad[i], &r);
		check_error(&r, 400, "bad_request", bad[i]);
		http_reply_free(&r);
	}
	/* Unknown fields are ignored (API.md 0). */
	http_post_as(acct[0].token, "/events/get",
		     "{\"after\":\"0\",\"since\":5,\"limit\":1000}", &r);
	check_status(&r, 200, "unknown field");
	http_reply_free(&r);
	http_post_as(NULL, "/events/get", "{}", &r);
	check_error(&r, 401, "unauthorized", "no session");
	http_reply_free(&r);
}

/* Counts the lines of out holding needle. */
static int count_of(const char *out, const char *needle)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Typing: 204 twice, one notification; the other members' channels. */
static void test_typing(void **state)
{
	struct account *a = &acct[0], *c = &acct[2];
	struct psql_session ps;
	char chat[ID_LEN], body[BODY_MAX], name[64], out[8192], want[128];
	char wantc[128], sql[160], all[16384] = "";
	double deadline;
	struct http_reply r;
	(void)state;

	uniq_name(name, sizeof(name), "evt");
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"users\":[\"%s\"]}",
		 name, c->id);
	must(201, a->token, chat, "/chats/add", body);
	assert_int_equal(psql_open(&the_stack, &ps), 0);
	assert_int_equal(psql_query(&ps, "LISTEN chatd_typing", out,
				    sizeof(out)), 0);
	snprintf(body, sizeof(body), "{\"chat\":\"%s\"}", chat);
	must(204, a->token, NULL, "/chats/typing", body);
	must(204, a->token, NULL, "/chats/typing", body);
	/* Then c: its notice comes after any second one of a's would. */
	must(204, c->token, NULL, "/chats/typing", body);
	snprintf(want, sizeof(want), "payload \"%s:%s\"", chat, a->id);
	snprintf(wantc, sizeof(wantc), "payload \"%s:%s\"", chat, c->id);
	deadline = now_seconds() + DEADLINE_S;
	while (count_of(all, wantc) == 0 && now_seconds() < deadline) {
		assert_int_equal(psql_query(&ps, "SELECT 1", out, sizeof(out)),
				 0);
		if (strlen(all) + strlen(out) < sizeof(all))
			strcat(all, out);
	}
	psql_close(&ps);
	if (count_of(all, want) != 1 || count_of(all, wantc) != 1)
		fail_msg_at("typing notifications: %s", all);
	/* The event: to c alone, not stored. */
	snprintf(sql, sizeof(sql), "SELECT channels || ' ' || body FROM "
		 "chatd_typing_channels(%s, %s)", chat, a->id);
	{
		char *ch = sql_out(sql), w[256];

		snprintf(w, sizeof(w), "u%s {\"id\":null,\"type\":\"typing\","
			 "\"chat\":\"%s\",\"data\":{\"user\":\"%s\"}}", c->id,
			 chat, a->id);
		assert_non_null(ch);
		assert_string_equal(ch, w);
		free(ch);
	}
	/* Not a member, no such chat, bad input. */
	call(acct[1].token, &r, "/chats/typing", "{\"chat\":\"%s\"}", chat);
	check_error(&r, 403, "forbidden", "typing, not a member");
	http_reply_free(&r);
	call(a->token, &r, "/chats/typing", "{\"chat\":\"999999999\"}");
	check_error(&r, 404, "not_found", "typing, no chat");
	http_reply_free(&r);
	call(a->token, &r, "/chats/typing", "{\"chat\":\"x\"}");
	check_error(&r, 400, "bad_request", "typing, bad chat");
	http_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_change),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_sessions_ended),
		cmocka_unit_test(test_newest_page),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_typing),
		cmocka_unit_test(test_horizon),
		cmocka_unit_test(test_empty_take),
		cmocka_unit_test(test_backlog_take),
	};

	/* No relay: these tests take the outbox themselves (take()), and a
	 * relay would take it first. test_relay.sh tests the relay. */
	setenv("CHATD_SERVE_ARGS", "--pwhash-mem 19 --pwhash-ops 2 --no-relay",
	       1);
	return cmocka_run_group_tests(tests, stack_group_setup,
				      stack_group_teardown);
}
