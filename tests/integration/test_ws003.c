/*
 * test_ws003 - seed 003's WebSocket protocol at GET /ws (API.md 2.7),
 * through the real stack: nginx (nchan holds the WebSocket) -> the
 * loopback server -> FastCGI -> chatd's POST /ws/frame -> PostgreSQL.
 *
 * Every event type and every reply type; an unknown token, a chat the
 * caller is not in, malformed frames, a frame over the 64 KiB limit; a
 * message sent over /ws is in messages/get and on the other member's
 * /events stream; a reply reaches the sending connection alone; presence
 * reaches the user's private-chat partners and no one else (API.md 2.13). The
 * WebSocket client is the tests' shared one (stream.h).
 */
#include "rt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Only against a hang: no test judges how long anything took. */
#define WAIT_MS RT_WAIT_MS

static struct rt_user alice, bob, carol;
static char chat[ID_LEN];	/* alice and bob's private chat */

/* ---- WebSockets, by the shared client (stream.h) ------------------------ */

/* A WebSocket of s's request, its head read; fails the test unless it is
 * 101 and open. Returns s. */
static struct stream *ws_opened(struct stream *s, const char *what)
{
	assert_non_null(s);
	if (stream_status(s) != 101 || !stream_is_open(s))
		fail_msg_at("%s answered %d (%s): %s", what, stream_status(s),
		    stream_error(s), stream_body(s, NULL));
	return s;
}

/* A seed 003 WebSocket, GET /ws (no session). */
static struct stream *ws_open(void)
{
	return ws_opened(stream_open(STREAM_WS, "127.0.0.1", the_stack.port,
	    "/ws", NULL, WAIT_MS), "GET /ws");
}

/* u's event stream, GET /events as a WebSocket (Authorization). */
static struct stream *events_open(const struct rt_user *u)
{
	return ws_opened(rt_stream_open(&the_stack, u, STREAM_WS, false),
	    "GET /events");
}

/* Sends text as one text frame. */
static void ws_send(struct stream *s, const char *text, size_t len)
{
	assert_int_equal(stream_ws_send(s, 1, text, len), 0);
}

/* The next message of s (a WebSocket's frame, a long-poll's answer),
 * parsed (a new reference); fails the test when none comes or it is not
 * a JSON object. */
static json_t *ws_recv(struct stream *s)
{
	struct stream_event ev;
	json_t *j;
	int rc = stream_wait(s, &ev, WAIT_MS);

	if (rc != 1)
		fail_msg_at("no frame came (%d: %s)", rc, stream_error(s));
	j = json_loadb(ev.data, ev.len, 0, NULL);
	if (!json_is_object(j))
		fail_msg_at("a frame that is not a JSON object: %.200s",
		    ev.data);
	stream_event_free(&ev);
	return j;
}

/* ---- frames ---------------------------------------------------------- */

/* Sends the frame (steals it) and returns the reply (a new reference),
 * after checking it has seed 003's four keys and nothing else. */
static json_t *ask(struct stream *s, json_t *frame)
{
	char *text = json_dumps(frame, JSON_COMPACT);
	json_t *r;

	json_decref(frame);
	ws_send(s, text, strlen(text));
	free(text);
	r = ws_recv(s);
	assert_int_equal(json_object_size(r), 4);
	assert_true(json_is_string(json_object_get(r, "type")));
	assert_non_null(json_object_get(r, "event_type"));
	assert_non_null(json_object_get(r, "messages"));
	assert_non_null(json_object_get(r, "detail"));
	return r;
}

static json_t *frame_of(const char *chat_id, const char *token,
			const char *event, json_t *message)
{
	return json_pack("{s:s?, s:s?, s:s?, s:o?}", "chat_id", chat_id,
	    "token", token, "event_type", event, "message", message);
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The reply's type is want; its detail is printed when it is not. */
static void check_type(const json_t *r, const char *want)
{
	if (strcmp(str(r, "type"), want) != 0) {
		char *s = json_dumps(r, 0);

		fail_msg_at("reply type %s, wanted %s: %s", str(r, "type"),
		    want, s);
	}
}

/* A refusal: type want, messages null, a detail that is a string. */
static void check_refusal(json_t *r, const char *want)
{
	check_type(r, want);
	assert_true(json_is_null(json_object_get(r, "messages")));
	assert_true(json_is_string(json_object_get(r, "detail")));
	assert_true(strlen(str(r, "detail")) > 0);
	json_decref(r);
}

/* One item of seed 003's shape, with its ten keys. */
static void check_item(const json_t *m, const char *author,
		       const char *username, bool mine)
{
	static const char *const keys[] = {"id", "type", "text", "is_my",
	    "username", "user_id", "chat_id", "created_at", "file_url",
	    "avatar"};
	size_t i;

	assert_int_equal(json_object_size(m), 10);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		assert_non_null(json_object_get(m, keys[i]));
	assert_true(is_canonical_id(str(m, "id")));
	assert_string_equal(str(m, "user_id"), author);
	assert_string_equal(str(m, "username"), username);
	assert_string_equal(str(m, "chat_id"), chat);
	assert_true(json_is_integer(json_object_get(m, "created_at")));
	assert_true(json_integer_value(json_object_get(m, "created_at")) >
	    1600000000);
	assert_int_equal(json_is_true(json_object_get(m, "is_my")), mine);
}

/* ---- fixtures ---------------------------------------------------------- */

static int setup(void **state)
{
	struct http_reply r;
	char body[128];

	if (stack_group_setup(state) != 0)
		return -1;
	rt_must_signup("wsa", &alice);
	rt_must_signup("wsb", &bob);
	rt_must_signup("wsc", &carol);
	snprintf(body, sizeof body, "{\"user\":\"%s\"}", bob.id);
	http_post_as(alice.token, "/chats/direct", body, &r);
	if (r.status != 201)
		return -1;
	snprintf(chat, sizeof chat, "%s", str(r.json, "id"));
	http_reply_free(&r);
	return 0;
}

/* An upload of len bytes named name by a: its url into url. */
static void must_upload(const struct rt_user *a, const char *name,
			const char *data, size_t len, char *url, size_t urlsz)
{
	char head[512];
	char *req;
	struct http_reply r;
	int n;

	n = snprintf(head, sizeof head, "POST /files/upload?name=%s "
	    "HTTP/1.1\r\nHost: files\r\nConnection: close\r\n"
	    "Authorization: Bearer %s\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Length: %zu\r\n\r\n", name, a->token, len);
	req = malloc((size_t)n + len);
	assert_non_null(req);
	memcpy(req, head, (size_t)n);
	memcpy(req + n, data, len);
	http_raw(&the_stack, req, (size_t)n + len, false, &r, NULL);
	free(req);
	check_status(&r, 201, "upload");
	snprintf(url, urlsz, "%s", str(r.json, "url"));
	http_reply_free(&r);
}

/* ---- tests ------------------------------------------------------------- */

/* send_message answers the message in seed 003's shape with detail
 * "Success"; get_history then has it, oldest first, is_my as the caller
 * sees it; messages/get has the same message. */
static void test_send_and_history(void **state)
{
	struct stream *a = ws_open(), *b = ws_open();
	json_t *r, *msgs, *m;
	struct http_reply hr;
	char id1[ID_LEN], id2[ID_LEN], body[128];
	size_t n;

	(void)state;
	r = ask(a, frame_of(chat, alice.token, "send_message",
	    json_pack("{s:s}", "text", "Hello Bob")));
	check_type(r, "success");
	assert_string_equal(str(r, "event_type"), "send_message");
	assert_string_equal(str(r, "detail"), "Success");
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	m = json_array_get(msgs, 0);
	check_item(m, alice.id, alice.name, true);
	assert_string_equal(str(m, "type"), "text");
	assert_string_equal(str(m, "text"), "Hello Bob");
	assert_true(json_is_null(json_object_get(m, "file_url")));
	assert_true(json_is_null(json_object_get(m, "avatar")));
	snprintf(id1, sizeof id1, "%s", str(m, "id"));
	json_decref(r);

	/* The text alone is taken as the message too. */
	r = ask(b, frame_of(chat, bob.token, "send_message",
	    json_string("Hello Alice")));
	check_type(r, "success");
	m = json_array_get(json_object_get(r, "messages"), 0);
	check_item(m, bob.id, bob.name, true);
	snprintf(id2, sizeof id2, "%s", str(m, "id"));
	json_decref(r);
	assert_true(id_cmp(id1, id2) < 0);

	r = ask(a, frame_of(chat, alice.token, "get_history", json_null()));
	check_type(r, "success");
	assert_string_equal(str(r, "event_type"), "get_history");
	assert_true(json_is_null(json_object_get(r, "detail")));
	msgs = json_object_get(r, "messages");
	n = json_array_size(msgs);
	assert_true(n >= 2);
	m = json_array_get(msgs, n - 2);
	assert_string_equal(str(m, "id"), id1);
	check_item(m, alice.id, alice.name, true);
	m = json_array_get(msgs, n - 1);
	assert_string_equal(str(m, "id"), id2);
	check_item(m, bob.id, bob.name, false);
	assert_string_equal(str(m, "text"), "Hello Alice");
	json_decref(r);

	snprintf(body, sizeof body, "{\"chat\":\"%s\"}", chat);
	http_post_as(bob.token, "/messages/get", body, &hr);
	check_status(&hr, 200, "messages/get");
	n = json_array_size(hr.json);
	assert_true(n >= 2);
	assert_string_equal(str(json_array_get(hr.json, n - 2), "id"), id1);
	assert_string_equal(str(json_array_get(hr.json, n - 2), "text"),
	    "Hello Bob");
	assert_string_equal(str(json_array_get(hr.json, n - 2), "author"),
	    alice.id);
	http_reply_free(&hr);
	stream_free(a);
	stream_free(b);
}

/* get_history holds the newest 100 messages, oldest first. */
static void test_history_newest_100(void **state)
{
	struct stream *a = ws_open();
	char body[128], text[32], last[ID_LEN] = "";
	struct http_reply hr;
	json_t *r, *msgs;
	int i;

	(void)state;
	for (i = 0; i < 105; i++) {
		snprintf(text, sizeof text, "n%d", i);
		snprintf(body, sizeof body, "{\"chat\":\"%s\",\"text\":\"%s\"}",
		    chat, text);
		http_post_as(alice.token, "/messages/add", body, &hr);
		check_status(&hr, 201, "messages/add");
		snprintf(last, sizeof last, "%s", str(hr.json, "id"));
		http_reply_free(&hr);
	}
	r = ask(a, frame_of(chat, bob.token, "get_history", NULL));
	check_type(r, "success");
	msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 100);
	assert_string_equal(str(json_array_get(msgs, 99), "id"), last);
	assert_string_equal(str(json_array_get(msgs, 99), "text"), "n104");
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "n5");
	for (i = 1; i < 100; i++)
		assert_true(id_cmp(str(json_array_get(msgs, i - 1), "id"),
		    str(json_array_get(msgs, i), "id")) < 0);
	json_decref(r);
	stream_free(a);
}

/* send_file: a file the caller uploaded, by its url; the type is the
 * content's (an image by its bytes); a file alone has text null. */
static void test_send_file(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0"
	    "\0\1\x08\x06\0\0\0\x1f\x15\xc4\x89";
	char doc[256], img[256], other[256];
	struct stream *a = ws_open();
	json_t *r, *m;

	(void)state;
	must_upload(&alice, "doc.xml", "<a/>", 4, doc, sizeof doc);
	must_upload(&alice, "pic.png", png, sizeof png - 1, img, sizeof img);
	must_upload(&bob, "bob.txt", "bob", 3, other, sizeof other);

	r = ask(a, frame_of(chat, alice.token, "send_file", json_pack(
	    "{s:s, s:s, s:s}", "type", "file", "text", "Hello",
	    "file_url", doc)));
	check_type(r, "success");
	assert_string_equal(str(r, "detail"), "Success");
	m = json_array_get(json_object_get(r, "messages"), 0);
	check_item(m, alice.id, alice.name, true);
	assert_string_equal(str(m, "type"), "file");
	assert_string_equal(str(m, "text"), "Hello");
	assert_string_equal(str(m, "file_url"), doc);
	json_decref(r);

	r = ask(a, frame_of(chat, alice.token, "send_file", json_pack(
	    "{s:s, s:n, s:s}", "type", "image", "text", "file_url", img)));
	check_type(r, "success");
	m = json_array_get(json_object_get(r, "messages"), 0);
	assert_string_equal(str(m, "type"), "image");
	assert_true(json_is_null(json_object_get(m, "text")));
	assert_string_equal(str(m, "file_url"), img);
	json_decref(r);

	/* Someone else's file, no url, a url that is not a file's, a
	 * type that is neither. */
	check_refusal(ask(a, frame_of(chat, alice.token, "send_file",
	    json_pack("{s:s, s:s}", "type", "file", "file_url", other))),
	    "server_error");
	check_refusal(ask(a, frame_of(chat, alice.token, "send_file",
	    json_pack("{s:s}", "type", "file"))), "server_error");
	check_refusal(ask(a, frame_of(chat, alice.token, "send_file",
	    json_pack("{s:s}", "file_url", "/static_media/media/doc.xml"))),
	    "server_error");
	check_refusal(ask(a, frame_of(chat, alice.token, "send_file",
	    json_pack("{s:s, s:s}", "type", "video", "file_url", doc))),
	    "server_error");
	stream_free(a);
}

/* An event_type that is none of the three: seed 003's own example. */
static void test_event_not_found(void **state)
{
	struct stream *a = ws_open();
	json_t *r;

	(void)state;
	r = ask(a, frame_of(chat, alice.token, "send_file_and_message",
	    json_pack("{s:s, s:s, s:s}", "type", "file", "text", "Hello",
	    "file_url", "/static_media/media/doc.xml")));
	check_type(r, "event_not_found");
	assert_string_equal(str(r, "event_type"), "send_file_and_message");
	assert_string_equal(str(r, "detail"),
	    "Event send_file_and_message not found");
	assert_true(json_is_null(json_object_get(r, "messages")));
	json_decref(r);
	stream_free(a);
}

/* No token, an empty one, one that is not a token, an unknown one, and
 * the token of a session that has ended. */
static void test_token_validation(void **state)
{
	struct stream *a = ws_open();
	struct rt_user dave;
	struct http_reply hr;

	(void)state;
	check_refusal(ask(a, frame_of(chat, NULL, "get_history", NULL)),
	    "token_validation_error");
	check_refusal(ask(a, frame_of(chat, "", "get_history", NULL)),
	    "token_validation_error");
	check_refusal(ask(a, frame_of(chat,
	    "b58f7d184743106a8a66028b7a28937c", "get_history", NULL)),
	    "token_validation_error");
	check_refusal(ask(a, frame_of(chat,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "send_message",
	    json_string("x"))), "token_validation_error");
	check_refusal(ask(a, json_pack("{s:s, s:i, s:s}", "chat_id", chat,
	    "token", 5, "event_type", "get_history")),
	    "token_validation_error");
	rt_must_signup("wsd", &dave);
	http_post_as(dave.token, "/auth/logout", "{}", &hr);
	check_status(&hr, 204, "logout");
	http_reply_free(&hr);
	check_refusal(ask(a, frame_of(chat, dave.token, "get_history", NULL)),
	    "token_validation_error");
	stream_free(a);
}

/* A chat that does not exist, a chat_id that is no id, and a chat the
 * caller is not a member of, for reading and for writing; nothing is
 * written. */
static void test_chat_not_exists(void **state)
{
	struct stream *a = ws_open();
	json_t *before, *after;

	(void)state;
	before = must_messages(chat);
	check_refusal(ask(a, frame_of("999999", alice.token, "get_history",
	    NULL)), "chat_not_exists");
	check_refusal(ask(a, frame_of("999999", alice.token, "send_message",
	    json_string("x"))), "chat_not_exists");
	check_refusal(ask(a, frame_of("abc", alice.token, "get_history",
	    NULL)), "chat_not_exists");
	check_refusal(ask(a, frame_of(NULL, alice.token, "get_history",
	    NULL)), "chat_not_exists");
	check_refusal(ask(a, frame_of(chat, carol.token, "get_history",
	    NULL)), "chat_not_exists");
	check_refusal(ask(a, frame_of(chat, carol.token, "send_message",
	    json_pack("{s:s}", "text", "let me in"))), "chat_not_exists");
	after = must_messages(chat);
	assert_int_equal(json_array_size(after), json_array_size(before));
	json_decref(before);
	json_decref(after);
	stream_free(a);
}

/* Frames that are not seed 003's: server_error, and the connection
 * stays open for the next frame. */
static void test_malformed(void **state)
{
	static const char *const bad[] = {"garbage", "[]", "\"text\"", "{",
	    "{\"event_type\":\"get_history\",\"event_type\":\"get_history\"}",
	    "{\"chat_id\":\"1\"}", "{\"event_type\":5}", ""};
	struct stream *a = ws_open();
	size_t i;
	json_t *r;
	char *big;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ws_send(a, bad[i], strlen(bad[i]));
		r = ws_recv(a);
		assert_true(json_is_null(json_object_get(r, "event_type")));
		check_refusal(r, "server_error");
	}
	/* A message that is not one. */
	check_refusal(ask(a, frame_of(chat, alice.token, "send_message",
	    json_pack("{s:s}", "text", "   "))), "server_error");
	check_refusal(ask(a, frame_of(chat, alice.token, "send_message",
	    json_pack("{s:i}", "text", 5))), "server_error");
	check_refusal(ask(a, frame_of(chat, alice.token, "send_message",
	    NULL)), "server_error");
	big = str_repeat("x", 4097);
	check_refusal(ask(a, frame_of(chat, alice.token, "send_message",
	    json_string(big))), "server_error");
	free(big);
	r = ask(a, frame_of(chat, alice.token, "get_history", NULL));
	check_type(r, "success");
	json_decref(r);
	stream_free(a);
}

/* A frame over 64 KiB is answered with a server_error frame by nginx,
 * never reaches chatd, and the connection carries on; one just under
 * the limit is judged by chatd. */
static void test_frame_too_large(void **state)
{
	struct stream *a = ws_open();
	size_t len = 64 * 1024 + 1;
	char *big = malloc(len);
	json_t *r;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "{\"event_type\":\"get_history\"", 27);
	big[len - 1] = '}';
	ws_send(a, big, len);
	r = ws_recv(a);
	assert_string_equal(str(r, "detail"), "the frame is larger than 64 KiB");
	check_refusal(r, "server_error");
	ws_send(a, big, len - 1);	/* the limit itself: chatd's */
	r = ws_recv(a);
	check_type(r, "server_error");
	assert_string_not_equal(str(r, "detail"),
	    "the frame is larger than 64 KiB");
	json_decref(r);
	free(big);
	r = ask(a, frame_of(chat, alice.token, "get_history", NULL));
	check_type(r, "success");
	json_decref(r);
	stream_free(a);
}

/* A reply goes to the connection that sent the frame, and to no other:
 * b's first frame is the answer to b's own question, not to a's send. */
static void test_reply_to_sender_only(void **state)
{
	struct stream *a = ws_open(), *b = ws_open();
	json_t *r;

	(void)state;
	r = ask(a, frame_of(chat, alice.token, "send_message",
	    json_string("only for a")));
	check_type(r, "success");
	json_decref(r);
	r = ask(b, frame_of(chat, alice.token, "event_typo", NULL));
	check_type(r, "event_not_found");
	assert_string_equal(str(r, "event_type"), "event_typo");
	json_decref(r);
	r = ask(a, frame_of(chat, alice.token, "event_typo_a", NULL));
	assert_string_equal(str(r, "event_type"), "event_typo_a");
	json_decref(r);
	stream_free(a);
	stream_free(b);
}

/* The event of type want that arrives next on the /events stream ev
 * (others are skipped), a new reference. */
static json_t *next_event(struct stream *ev, const char *want)
{
	json_t *e;

	for (;;) {
		e = ws_recv(ev);
		if (strcmp(str(e, "type"), want) == 0)
			return e;
		json_decref(e);
	}
}

/* A message sent over /ws is an ordinary message: it arrives as
 * message.created on the other member's /events stream. */
static void test_message_reaches_events(void **state)
{
	struct stream *ev = events_open(&bob), *a = ws_open();
	char id[ID_LEN];
	json_t *r, *e;

	(void)state;
	if (!rt_wait_subscribed(&the_stack, bob.id, 1, NULL))
		fail_msg_at("nchan never counted bob's stream");
	r = ask(a, frame_of(chat, alice.token, "send_message",
	    json_string("over the socket")));
	check_type(r, "success");
	snprintf(id, sizeof id, "%s",
	    str(json_array_get(json_object_get(r, "messages"), 0), "id"));
	json_decref(r);
	for (;;) {
		e = next_event(ev, "message.created");
		if (strcmp(str(json_object_get(e, "data"), "id"), id) == 0)
			break;
		json_decref(e);
	}
	assert_string_equal(str(e, "chat"), chat);
	assert_string_equal(str(json_object_get(e, "data"), "text"),
	    "over the socket");
	json_decref(e);
	stream_free(a);
	stream_free(ev);
}

/* ---- presence (API.md 2.13) ---------------------------------------------- */

/* Whether users/list, as alice sees it, says who is online. */
static bool online_for_alice(const char *who)
{
	struct http_reply r;
	json_t *u;
	size_t i;
	bool online = false;

	http_post_as(alice.token, "/users/list", "{}", &r);
	check_status(&r, 200, "users/list");
	json_array_foreach(r.json, i, u)
		if (strcmp(str(u, "id"), who) == 0)
			online = json_is_true(json_object_get(u, "online"));
	http_reply_free(&r);
	return online;
}

/* Polls until users/list says online is want for who (nchan's hooks are
 * sent after the stream opens or closes, not before the answer): the
 * bound is only against a hang. */
static void wait_online(const char *who, bool want)
{
	double until = now_seconds() + WAIT_MS / 1000.0;

	while (online_for_alice(who) != want) {
		if (now_seconds() > until)
			fail_msg_at("user %s never became %s", who,
			    want ? "online" : "offline");
		sleep_ms(20);
	}
}

/* Polls until the streams table holds n open streams of user (nchan's
 * hooks are through), then until the relay has published what they
 * wrote. */
static void wait_streams(const char *user, int n)
{
	double until = now_seconds() + WAIT_MS / 1000.0;
	char sql[128];
	char *out;

	snprintf(sql, sizeof sql, "SELECT count(*) = %d FROM streams WHERE "
	    "user_id = %s", n, user);
	for (;;) {
		out = stack_psql_output(&the_stack, sql);
		assert_non_null(out);
		if (out[0] == 't')
			break;
		free(out);
		if (now_seconds() > until)
			fail_msg_at("user %s never had %d streams", user, n);
		sleep_ms(20);
	}
	free(out);
	if (!rt_wait_relay_idle(&the_stack, WAIT_MS / 1000.0))
		fail_msg_at("the relay never caught up");
}

/* The online values of the presence events of user `of` in the events
 * (a JSON array), in order: "10" for an online then an offline. */
static void presence_of(const json_t *events, const char *of, char *out,
			size_t outsz)
{
	const json_t *e;
	size_t i, n = 0;

	json_array_foreach(events, i, e) {
		const json_t *d = json_object_get(e, "data");

		if (strcmp(str(e, "type"), "presence") != 0 ||
		    strcmp(str(d, "user"), of) != 0 || n + 1 >= outsz)
			continue;
		out[n++] = json_is_true(json_object_get(d, "online")) ? '1'
								      : '0';
	}
	out[n] = '\0';
}

/* The presence events of user `of` in the events/get of u, from the
 * oldest event kept, are want (presence_of()). */
static void check_read(const struct rt_user *u, const char *of,
		       const char *want)
{
	long status;
	json_t *all = rt_events_get(u, "0", &status);
	char got[16];

	if (all == NULL)
		fail_msg_at("events/get of %s: status %ld", u->name, status);
	presence_of(all, of, got, sizeof got);
	json_decref(all);
	if (strcmp(got, want) != 0)
		fail_msg_at("%s reads the presence of %s as \"%s\", not "
		    "\"%s\"", u->name, of, got, want);
}

/* A new chat of u alone: its chat.created is a sentinel on u's stream.
 * Its id into id. */
static void solo_chat(const struct rt_user *u, char *id)
{
	char name[64];
	json_t *j;

	uniq_name(name, sizeof name, "solo");
	j = rt_mustf(u, 201, "/chats/add", "{\"name\":\"%s\",\"users\":"
	    "[\"%s\"]}", name, u->id);
	snprintf(id, ID_LEN, "%s", str(j, "id"));
	json_decref(j);
}

/* The presence events of user `of` on u's stream ev, up to the
 * chat.created of a chat of u's made now, are want (presence_of()): the
 * relay publishes in id order, so that chat comes after whatever was
 * published before. */
static void check_streamed(struct stream *ev, const struct rt_user *u,
			   const char *of, const char *want)
{
	json_t *seen = json_array(), *e;
	char sentinel[ID_LEN], got[16];

	solo_chat(u, sentinel);
	for (;;) {
		e = ws_recv(ev);
		json_array_append_new(seen, e);
		if (strcmp(str(e, "type"), "chat.created") == 0 &&
		    strcmp(str(e, "chat"), sentinel) == 0)
			break;
	}
	presence_of(seen, of, got, sizeof got);
	json_decref(seen);
	if (strcmp(got, want) != 0)
		fail_msg_at("%s's stream had the presence of %s as \"%s\", not "
		    "\"%s\"", u->name, of, got, want);
}

/* A long-poll of u's /events, waiting: nchan counts n subscribers of
 * u's channel with it. */
static struct stream *poll_open(const struct rt_user *u, int n)
{
	struct stream *s = rt_stream_new(&the_stack, u, STREAM_POLL, false,
	    NULL);

	assert_int_equal(stream_connect(s, "127.0.0.1", the_stack.port), 0);
	if (!rt_wait_subscribed(&the_stack, u->id, n, s))
		fail_msg_at("nchan never counted %s's long-poll (%s)", u->name,
		    stream_error(s));
	return s;
}

/* The long-poll s answers a presence event of user, online as said;
 * s is freed. */
static void check_polled(struct stream *s, const char *user, bool online)
{
	json_t *e = ws_recv(s);
	const json_t *d = json_object_get(e, "data");

	assert_string_equal(str(e, "type"), "presence");
	assert_string_equal(str(d, "user"), user);
	assert_int_equal(json_is_true(json_object_get(d, "online")), online);
	json_decref(e);
	stream_free(s);
}

/*
 * Presence reaches the user and their private-chat partners, no one else
 * (not the members of their group chats).
 * carol and pal share a private chat; stranger shares none with carol.
 * online is true while an /events stream of carol's is open, and after
 * one of two closes; false after the last (the presence window aside:
 * carol was last seen long ago). The first open and the last close are
 * one presence event each: on pal's stream, on carol's own long-poll (a
 * long-poll is no presence: nchan sends no hooks for it), and in the
 * events/get of carol and pal; stranger gets none, on the stream (up to a
 * sentinel made after them) or in events/get. Then carol and stranger
 * open a chat: stranger reads none of carol's earlier presence, but the
 * next ones.
 */
static void test_presence(void **state)
{
	struct rt_user pal, stranger;
	struct stream *pal_ev, *stranger_ev, *lp, *s1, *s2;
	char sql[256];

	(void)state;
	rt_must_signup("wsp", &pal);
	rt_must_signup("wss", &stranger);
	json_decref(rt_mustf(&carol, 201, "/chats/direct", "{\"user\":\"%s\"}",
	    pal.id));
	/* carol is seen long ago, and her session's marks of use are not
	 * due for a minute (AUTH_MARKS_DUE): else the first request of hers
	 * a minute after her last mark (on a slow machine, the suite reaches
	 * this test later than that) marks her seen now, and she stays
	 * online for the presence window with every stream closed. */
	snprintf(sql, sizeof sql, "UPDATE sessions SET last_used_at = now() "
	    "WHERE user_id = %s; UPDATE users SET last_seen_at = now() - "
	    "interval '1 day' WHERE id = %s", carol.id, carol.id);
	assert_int_equal(stack_psql(&the_stack, "chatd", sql), 0);
	assert_false(online_for_alice(carol.id));

	/* The partner's and the stranger's streams, and their own presence
	 * published, before carol's first. */
	pal_ev = events_open(&pal);
	stranger_ev = events_open(&stranger);
	wait_streams(pal.id, 1);
	wait_streams(stranger.id, 1);

	lp = poll_open(&carol, 1);
	s1 = events_open(&carol);
	wait_online(carol.id, true);
	check_polled(lp, carol.id, true);
	s2 = events_open(&carol);
	/* Both open in the table before one closes: else the close could
	 * be through first, and be a last close. */
	wait_streams(carol.id, 2);
	stream_free(s1);
	wait_streams(carol.id, 1);
	/* The second stream keeps her online. */
	assert_true(online_for_alice(carol.id));
	lp = poll_open(&carol, 2);
	stream_free(s2);
	wait_online(carol.id, false);
	check_polled(lp, carol.id, false);
	wait_streams(carol.id, 0);

	/* pal saw carol come and go, once each (the close of the first of
	 * the two streams was no event); stranger saw nothing of carol. */
	check_streamed(pal_ev, &pal, carol.id, "10");
	check_streamed(stranger_ev, &stranger, carol.id, "");
	/* events/get agrees. */
	check_read(&carol, carol.id, "10");
	check_read(&pal, carol.id, "10");
	check_read(&stranger, carol.id, "");
	check_read(&alice, carol.id, "");

	/* A partner from now on: the earlier presence stays unread, the
	 * next is stranger's on the stream and in events/get. */
	json_decref(rt_mustf(&carol, 201, "/chats/direct", "{\"user\":\"%s\"}",
	    stranger.id));
	check_read(&stranger, carol.id, "");
	s1 = events_open(&carol);
	wait_online(carol.id, true);
	stream_free(s1);
	wait_online(carol.id, false);
	wait_streams(carol.id, 0);
	check_streamed(stranger_ev, &stranger, carol.id, "10");
	check_read(&stranger, carol.id, "10");
	check_read(&carol, carol.id, "1010");
	stream_free(pal_ev);
	stream_free(stranger_ev);
}

/* GET /ws that is not a WebSocket is 400 in the API's JSON; POST /ws/frame
 * and the internal locations are not reachable from outside; no nginx
 * worker died on a signal. */
static void test_http_edges(void **state)
{
	static const char *const hidden[] = {"/ws/frame", "/_chatd/ws-frame",
	    "/_chatd/ws/0123456789abcdef0123456789abcdef",
	    "/_chatd/ws-frame-too-large"};
	struct http_reply r;
	char path[PATH_MAX];
	char *log;
	size_t i;

	(void)state;
	http_request("GET", "/ws", NULL, 0, NULL, &r);
	check_error(&r, 400, "bad_request", "GET /ws without Upgrade");
	http_reply_free(&r);
	http_request("POST", "/ws", "{}", 2, NULL, &r);
	check_error(&r, 405, "method_not_allowed", "POST /ws");
	http_reply_free(&r);
	for (i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
		http_request("POST", hidden[i], "{\"event_type\":\"x\"}", 18,
		    NULL, &r);
		check_error(&r, 404, "not_found", hidden[i]);
		http_reply_free(&r);
		http_request("GET", hidden[i], NULL, 0, NULL, &r);
		check_error(&r, 404, "not_found", hidden[i]);
		http_reply_free(&r);
	}
	snprintf(path, sizeof path, "%s/nginx-error.log", the_stack.dir);
	log = file_since(path, 0);
	assert_non_null(log);
	if (strstr(log, "exited on signal") != NULL)
		fail_msg_at("an nginx worker died: %s", log);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_and_history),
		cmocka_unit_test(test_history_newest_100),
		cmocka_unit_test(test_send_file),
		cmocka_unit_test(test_event_not_found),
		cmocka_unit_test(test_token_validation),
		cmocka_unit_test(test_chat_not_exists),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_frame_too_large),
		cmocka_unit_test(test_reply_to_sender_only),
		cmocka_unit_test(test_message_reaches_events),
		cmocka_unit_test(test_presence),
		cmocka_unit_test(test_http_edges),
	};

	return cmocka_run_group_tests_name("ws003", tests, setup,
	    stack_group_teardown);
}
