/*
 * test_events_delivery.c - every event type reaches exactly the users it
 * should, through the whole stack (a change -> chatd -> the outbox -> the
 * relay -> nchan -> GET /events), over each transport: WebSocket,
 * EventSource and long-poll, streams authenticated by Authorization
 * (users A and C) and by the chatd_session cookie (B and D).
 *
 * The scenario, run once per transport with fresh users: A makes chat G
 * with B (chat.created to A, B), writes, edits (message.created, .edited
 * to A, B), adds D (chat.member_added to A, B, D); B types (typing to A
 * and D, not B) and reads (chat.read to B alone); A writes and deletes a
 * message (to A, B, D), removes D (chat.member_removed to A, B and D) and
 * writes again (to A, B, not D). C is in nothing and gets nothing.
 *
 * "Nothing else" is shown without waiting for silence: after each change
 * every user writes a sentinel message into a chat of their own, and the
 * next event each stream gets after the change's (or, for a user the
 * change is not for, at all) must be that sentinel. A long-poll answers
 * one event per request, so its user polls again, registered (nchan
 * counts the subscriber) before anything else happens.
 *
 * Presence events are skipped on the streams and in events/get (rt.h):
 * the streams' own opens make them, whenever nchan's hooks come.
 *
 * At the end each user's stream events (typing aside, which is not
 * stored) are the events POST /events/get gives from before the first
 * change, the same JSON, ids growing; for D, who is no longer a member,
 * events/get keeps only the events that name D, which the stream had
 * too.
 */
#include "rt.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { A, B, C, D, NUSERS };
static const char *const who[NUSERS] = {"A", "B", "C", "D"};

struct sub {
	struct rt_user u;
	bool cookie;
	enum stream_kind kind;
	struct stream *s;
	char solo[ID_LEN];   /* a chat of this user alone, for sentinels */
	char base[ID_LEN];   /* the user's last event id before the test */
	json_t *got;         /* every event received, in order */
	json_t *last;        /* the last event of a change (borrowed) */
	int sentinels;
};

static struct sub subs[NUSERS];

/* The user's stream is open and nchan has registered it. */
static void ensure(struct sub *x)
{
	const char *why;

	if (x->s && !stream_is_done(x->s))
		return;
	stream_free(x->s);
	x->s = rt_stream_new(&the_stack, &x->u, x->kind, x->cookie, NULL);
	why = rt_stream_ready(&the_stack, &x->u, x->s);
	if (why)
		fail_msg_at("%s's stream: %s", x->u.name, why);
}

static void ensure_all(void)
{
	int i;

	for (i = 0; i < NUSERS; i++)
		ensure(&subs[i]);
}

/* The next event of x's stream but presence (appended to x->got;
 * borrowed). */
static json_t *next_event(struct sub *x, const char *expecting)
{
	struct stream_event ev;
	json_t *j;
	int rc;

	for (;;) {		/* presence aside */
		ensure(x);
		rc = stream_wait(x->s, &ev, RT_WAIT_MS);
		if (rc != 1) {
			stack_dump_logs(&the_stack);
			fail_msg_at("%s (%s, %s): no event, expecting %s (%d: %s)",
			    who[x - subs], x->u.name, stream_kind_name[x->kind],
			    expecting, rc, stream_error(x->s));
		}
		j = rt_event_json(&ev);
		if (!j)
			fail_msg_at("%s: an event that is not JSON: %.200s",
			    who[x - subs], ev.data);
		stream_event_free(&ev);
		if (!rt_is_presence(j))
			break;
		json_decref(j);
	}
	json_array_append_new(x->got, j);
	return j;
}

static const char *dstr(json_t *ev, const char *k)
{
	return rt_jstr(json_object_get(ev, "data"), k);
}

/* After a change: each user of mask `to` gets one event of `type` in
 * `chat` next (kept in ->last); then every user's next event is the
 * sentinel. */
static void expect_step(const char *type, const char *chat, unsigned to)
{
	char what[128], text[64];
	int i;

	for (i = 0; i < NUSERS; i++) {
		json_t *ev;

		if (!(to & 1u << i))
			continue;
		snprintf(what, sizeof what, "%s in chat %s", type, chat);
		ev = next_event(&subs[i], what);
		if (strcmp(rt_jstr(ev, "type"), type) || strcmp(rt_jstr(ev, "chat"), chat)) {
			char *dump = json_dumps(ev, JSON_COMPACT);

			fail_msg_at("%s got %s, expecting %s", who[i], dump, what);
		}
		if (!strcmp(type, "typing"))
			assert_true(json_is_null(json_object_get(ev, "id")));
		else
			assert_true(is_canonical_id(rt_jstr(ev, "id")));
		subs[i].last = ev;
	}
	for (i = 0; i < NUSERS; i++) {
		json_t *ev;

		snprintf(text, sizeof text, "sentinel %d", ++subs[i].sentinels);
		ensure(&subs[i]);
		json_decref(rt_mustf(&subs[i].u, 201, "/messages/add",
		    "{\"chat\":\"%s\",\"text\":\"%s\"}", subs[i].solo, text));
		snprintf(what, sizeof what, "its %s", text);
		ev = next_event(&subs[i], what);
		if (strcmp(rt_jstr(ev, "type"), "message.created") ||
		    strcmp(rt_jstr(ev, "chat"), subs[i].solo) ||
		    strcmp(dstr(ev, "text"), text)) {
			char *dump = json_dumps(ev, JSON_COMPACT);

			fail_msg_at("%s got %s, expecting %s (a %s it should not "
			    "have had?)", who[i], dump, what, type);
		}
	}
	ensure_all();
}

static const char *new_id(json_t *j)
{
	static char id[ID_LEN];

	snprintf(id, sizeof id, "%s", rt_jstr(j, "id"));
	json_decref(j);
	return id;
}

/* The stream's stored events (typing aside), ids strictly growing, against
 * events/get after the user's base. */
static void compare_with_events_get(struct sub *x, bool exact)
{
	json_t *db, *mine = json_array(), *e;
	size_t i, j;
	long st;
	char prev[ID_LEN] = "0";

	json_array_foreach(x->got, i, e) {
		if (!strcmp(rt_jstr(e, "type"), "typing"))
			continue;
		if (id_cmp(rt_jstr(e, "id"), prev) <= 0)
			fail_msg_at("%s: event %s after %s", who[x - subs],
			    rt_jstr(e, "id"), prev);
		snprintf(prev, sizeof prev, "%s", rt_jstr(e, "id"));
		json_array_append(mine, e);
	}
	db = rt_without_presence(rt_events_get(&x->u, x->base, &st));
	if (!db)
		fail_msg_at("events/get of %s: %ld", who[x - subs], st);
	if (exact) {
		if (!json_equal(db, mine)) {
			print_error_lines(json_dumps(db, JSON_COMPACT));
			print_error_lines(json_dumps(mine, JSON_COMPACT));
			fail_msg_at("%s: the stream's events are not events/get's",
			    who[x - subs]);
		}
	} else {
		/* every event events/get has, the stream had, the same */
		json_array_foreach(db, i, e) {
			bool found = false;

			for (j = 0; j < json_array_size(mine) && !found; j++)
				found = json_equal(e, json_array_get(mine, j));
			if (!found)
				fail_msg_at("%s: events/get's %s never came on the "
				    "stream", who[x - subs], rt_jstr(e, "id"));
		}
	}
	print_message("%s (%s, %s): %zu events on the stream, %zu from "
	    "events/get\n", who[x - subs], x->cookie ? "cookie" : "Authorization",
	    stream_kind_name[x->kind], json_array_size(mine), json_array_size(db));
	json_decref(db);
	json_decref(mine);
}

static void scenario(enum stream_kind kind)
{
	char g[ID_LEN], m1[ID_LEN], m2[ID_LEN], m3[ID_LEN], name[64];
	const unsigned all3 = 1u << A | 1u << B | 1u << D, ab = 1u << A | 1u << B;
	json_t *evs;
	long st;
	int i;

	for (i = 0; i < NUSERS; i++) {
		struct sub *x = &subs[i];
		char prefix[32];

		memset(x, 0, sizeof *x);
		snprintf(prefix, sizeof prefix, "dlv%s%s", who[i], stream_kind_name[kind]);
		rt_must_signup(prefix, &x->u);
		x->cookie = i == B || i == D;
		x->kind = kind;
		x->got = json_array();
		uniq_name(name, sizeof name, "solo");
		snprintf(x->solo, sizeof x->solo, "%s", new_id(rt_mustf(&x->u, 201,
		    "/chats/add", "{\"name\":\"%s\",\"users\":[\"%s\"]}", name,
		    x->u.id)));
		/* what happened before the streams: not compared */
		assert_true(rt_wait_relay_idle(&the_stack, RT_WAIT_MS / 1000.0));
		evs = rt_events_get(&x->u, "0", &st);
		assert_non_null(evs);
		snprintf(x->base, sizeof x->base, "%s", json_array_size(evs) ?
		    rt_jstr(json_array_get(evs, json_array_size(evs) - 1), "id") : "0");
		json_decref(evs);
	}
	ensure_all();

	uniq_name(name, sizeof name, "G");
	snprintf(g, sizeof g, "%s", new_id(rt_mustf(&subs[A].u, 201, "/chats/add",
	    "{\"name\":\"%s\",\"users\":[\"%s\"]}", name, subs[B].u.id)));
	expect_step("chat.created", g, ab);
	assert_string_equal(dstr(subs[B].last, "id"), g);
	assert_string_equal(dstr(subs[B].last, "owner"), subs[A].u.id);
	assert_string_equal(dstr(subs[B].last, "name"), name);

	snprintf(m1, sizeof m1, "%s", new_id(rt_mustf(&subs[A].u, 201,
	    "/messages/add", "{\"chat\":\"%s\",\"text\":\"hello \\u00e9\"}", g)));
	expect_step("message.created", g, ab);
	assert_string_equal(dstr(subs[B].last, "id"), m1);
	assert_string_equal(dstr(subs[B].last, "text"), "hello \xc3\xa9");
	assert_string_equal(dstr(subs[B].last, "author"), subs[A].u.id);

	json_decref(rt_mustf(&subs[A].u, 204, "/messages/edit",
	    "{\"message\":\"%s\",\"text\":\"hello again\"}", m1));
	expect_step("message.edited", g, ab);
	assert_string_equal(dstr(subs[A].last, "text"), "hello again");
	assert_true(is_rfc3339_micro(dstr(subs[A].last, "edited_at")));

	json_decref(rt_mustf(&subs[A].u, 204, "/chats/members/add",
	    "{\"chat\":\"%s\",\"user\":\"%s\"}", g, subs[D].u.id));
	expect_step("chat.member_added", g, all3);
	assert_string_equal(dstr(subs[D].last, "user"), subs[D].u.id);

	json_decref(rt_mustf(&subs[B].u, 204, "/chats/typing", "{\"chat\":\"%s\"}", g));
	expect_step("typing", g, 1u << A | 1u << D);
	assert_string_equal(dstr(subs[A].last, "user"), subs[B].u.id);

	json_decref(rt_mustf(&subs[B].u, 204, "/chats/read",
	    "{\"chat\":\"%s\",\"message\":\"%s\"}", g, m1));
	expect_step("chat.read", g, 1u << B);
	assert_string_equal(dstr(subs[B].last, "message"), m1);

	snprintf(m2, sizeof m2, "%s", new_id(rt_mustf(&subs[A].u, 201,
	    "/messages/add", "{\"chat\":\"%s\",\"text\":\"to delete\"}", g)));
	expect_step("message.created", g, all3);
	json_decref(rt_mustf(&subs[A].u, 204, "/messages/delete",
	    "{\"message\":\"%s\"}", m2));
	expect_step("message.deleted", g, all3);
	assert_string_equal(dstr(subs[D].last, "id"), m2);

	json_decref(rt_mustf(&subs[A].u, 204, "/chats/members/remove",
	    "{\"chat\":\"%s\",\"user\":\"%s\"}", g, subs[D].u.id));
	expect_step("chat.member_removed", g, all3);
	assert_string_equal(dstr(subs[D].last, "user"), subs[D].u.id);

	snprintf(m3, sizeof m3, "%s", new_id(rt_mustf(&subs[B].u, 201,
	    "/messages/add", "{\"chat\":\"%s\",\"text\":\"D is gone\"}", g)));
	expect_step("message.created", g, ab);
	assert_string_equal(dstr(subs[A].last, "id"), m3);

	for (i = 0; i < NUSERS; i++) {
		compare_with_events_get(&subs[i], i != D);
		stream_free(subs[i].s);
		json_decref(subs[i].got);
	}
}

static void test_websocket(void **state)
{
	(void)state;
	scenario(STREAM_WS);
}

static void test_eventsource(void **state)
{
	(void)state;
	scenario(STREAM_SSE);
}

static void test_longpoll(void **state)
{
	(void)state;
	scenario(STREAM_POLL);
}

/* Without a session, or with one that ended, no transport opens. */
static void test_refused(void **state)
{
	struct rt_user nobody = {.token = ""}, bad = {.token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	struct rt_user u;
	enum stream_kind k;
	int c;

	(void)state;
	rt_must_signup("dlvgone", &u);
	json_decref(rt_mustf(&u, 204, "/auth/logout", "{}"));
	for (k = 0; k < STREAM__MAX; k++)
		for (c = 0; c < 3; c++) {
			const struct rt_user *x = c == 0 ? &nobody : c == 1 ? &bad : &u;
			struct stream *s = rt_stream_open(&the_stack, x, k, c == 2);
			json_t *j;

			assert_non_null(s);
			if (stream_status(s) != 401)
				fail_msg_at("%s, caller %d: status %d", stream_kind_name[k],
				    c, stream_status(s));
			assert_int_equal(stream_wait_end(s, RT_WAIT_MS), 0);
			j = json_loads(stream_body(s, NULL), 0, NULL);
			assert_string_equal(rt_jstr(j, "error"), "unauthorized");
			json_decref(j);
			stream_free(s);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_websocket),
		cmocka_unit_test(test_eventsource),
		cmocka_unit_test(test_longpoll),
	};

	return cmocka_run_group_tests(tests, stack_group_setup,
	    stack_group_teardown);
}
