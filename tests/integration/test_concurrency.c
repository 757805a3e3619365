/*
 * test_concurrency.c - many clients at once against the real stack.
 *
 * Threads only collect results; all assertions run in the main thread
 * after the threads are joined (cmocka is not thread-safe).
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RACERS 40
#define RACE_ROUNDS 3

#define WRITERS 4
#define PER_WRITER 250
#define READERS 2

#define BIG_WRITERS 4
#define BIG_PER_WRITER 1250

/* A reader gives up after this long (a hang, not a timing assertion). */
#define READER_DEADLINE_S 600.0



/* ---- shared helpers ------------------------------------------------------ */

/* One acknowledged message: who wrote it and in which position. */
struct ack {
	long long id;
	int writer;
	int seq;
};

static int ack_cmp(const void *a, const void *b)
{
	long long x = ((const struct ack *)a)->id, y = ((const struct ack *)b)->id;

	return (x > y) - (x < y);
}

/* The text of a writer's message number `seq`; `big` texts are about 100
 * bytes (so 5,000 of them make a response of about 1 MB). */
static void message_text(char *buf, size_t n, bool big, int writer, int seq)
{
	if (big)
		snprintf(buf, n, "big chat, writer %d, message %d: the quick brown "
			 "fox jumps over the lazy dog \xc3\xa9\xf0\x9f\x98\x80",
			 writer, seq);
	else
		snprintf(buf, n, "writer %d message %d", writer, seq);
}

static long long id_num(const char *s)
{
	return s != NULL && is_canonical_id(s) ? strtoll(s, NULL, 10) : -1;
}

/*
 * Check a chat's full message list against the acknowledged messages:
 * each acknowledged id appears exactly once and nothing else does; each
 * writer's messages keep the writer's order and carry its author id and
 * text; created_at never goes back.  `acks` is sorted here.
 */
static void check_history(json_t *msgs, struct ack *acks, size_t nacks,
			  const char *chat, char (*authors)[ID_LEN],
			  bool big_texts)
{
	size_t i, n = json_array_size(msgs);
	int *last_seq, *seen;
	const char *prev_ts = NULL;
	char want_text[256];

	if (n != nacks)
		fail_msg_at("chat has %zu messages, %zu were acknowledged", n,
			    nacks);
	qsort(acks, nacks, sizeof(*acks), ack_cmp);
	seen = calloc(nacks, sizeof(*seen));
	last_seq = calloc(WRITERS > BIG_WRITERS ? WRITERS : BIG_WRITERS,
			  sizeof(*last_seq));
	assert_non_null(seen);
	assert_non_null(last_seq);
	for (i = 0; i < (size_t)(WRITERS > BIG_WRITERS ? WRITERS : BIG_WRITERS); i++)
		last_seq[i] = -1;

	for (i = 0; i < n; i++) {
		json_t *m = json_array_get(msgs, i);
		struct ack key = { id_num(json_string_value(json_object_get(m, "id"))),
				   0, 0 };
		const char *ts = json_string_value(json_object_get(m, "created_at"));
		struct ack *a = bsearch(&key, acks, nacks, sizeof(*acks), ack_cmp);
		size_t pos;

		if (a == NULL)
			fail_msg_at("message %zu (id %lld) was never acknowledged",
				    i, key.id);
		pos = (size_t)(a - acks);
		if (seen[pos]++)
			fail_msg_at("message id %lld appears twice", key.id);
		if (a->seq <= last_seq[a->writer])
			fail_msg_at("writer %d: message %d (id %lld) after its "
				    "message %d", a->writer, a->seq, key.id,
				    last_seq[a->writer]);
		last_seq[a->writer] = a->seq;
		assert_string_equal(json_string_value(json_object_get(m, "chat")),
				    chat);
		assert_string_equal(json_string_value(json_object_get(m, "author")),
				    authors[a->writer]);
		message_text(want_text, sizeof(want_text), big_texts, a->writer,
			     a->seq);
		assert_string_equal(json_string_value(json_object_get(m, "text")),
				    want_text);
		if (!is_rfc3339_micro(ts))
			fail_msg_at("message %lld: bad created_at '%s'", key.id,
				    ts ? ts : "(none)");
		if (prev_ts != NULL && strcmp(prev_ts, ts) > 0)
			fail_msg_at("created_at goes back at position %zu: %s then %s",
				    i, prev_ts, ts);
		prev_ts = ts;
	}
	free(seen);
	free(last_seq);
}

/* ---- (a) one name, forty clients ----------------------------------------- */

struct racer {
	pthread_barrier_t *barrier;
	const char *path;
	const char *body;
	long status;
	char id[ID_LEN];
	char error[256];
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	struct http_reply rep;

	/* Open this thread's connection before the start line. */
	http_post("/chats/get", "{\"user\": \"0\"}", 13, NULL, &rep);
	http_reply_free(&rep);
	pthread_barrier_wait(r->barrier);
	http_post(r->path, r->body, strlen(r->body), NULL, &rep);
	r->status = rep.status;
	if (rep.status == 201)
		snprintf(r->id, sizeof(r->id), "%s",
			 json_string_value(json_object_get(rep.json, "id")) ?
			 json_string_value(json_object_get(rep.json, "id")) : "");
	else if (rep.status != 409)
		snprintf(r->error, sizeof(r->error), "%ld %.100s %.120s", rep.status,
			 rep.error, rep.body);
	http_reply_free(&rep);
	http_thread_done();
	return NULL;
}

/* Run RACERS identical requests at once; returns the winner's id. */
static void race(const char *path, const char *body, char *winner)
{
	pthread_barrier_t barrier;
	pthread_t th[RACERS];
	struct racer rs[RACERS];
	int i, created = 0, conflicts = 0;

	pthread_barrier_init(&barrier, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		memset(&rs[i], 0, sizeof(rs[i]));
		rs[i].barrier = &barrier;
		rs[i].path = path;
		rs[i].body = body;
		assert_int_equal(pthread_create(&th[i], NULL, race_thread, &rs[i]),
				 0);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);

	for (i = 0; i < RACERS; i++) {
		if (rs[i].status == 201) {
			created++;
			if (!is_canonical_id(rs[i].id))
				fail_msg_at("%s: 201 with id '%s'", path, rs[i].id);
			snprintf(winner, ID_LEN, "%s", rs[i].id);
		} else if (rs[i].status == 409) {
			conflicts++;
		} else {
			print_error("%s racer %d: %s\n", path, i, rs[i].error);
		}
	}
	if (created != 1 || conflicts != RACERS - 1)
		fail_msg_at("%s x%d: %d created, %d conflicts (want 1 and %d)",
			    path, RACERS, created, conflicts, RACERS - 1);
}

static void test_concurrent_same_username(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < RACE_ROUNDS; round++) {
		char name[64], body[128], winner[ID_LEN], chat[ID_LEN];
		json_t *chats;

		uniq_name(name, sizeof(name), "race");
		snprintf(body, sizeof(body), "{\"username\": \"%s\"}", name);
		race("/users/add", body, winner);
		/* The name stays taken, and the winner is a real user. */
		assert_int_equal(api_user_add(name, NULL), 409);
		chats = must_chats(winner);
		assert_int_equal(json_array_size(chats), 0);
		json_decref(chats);

		/* Same for chat names. */
		uniq_name(name, sizeof(name), "racechat");
		snprintf(body, sizeof(body), "{\"name\": \"%s\", \"users\": [\"%s\"]}",
			 name, winner);
		race("/chats/add", body, chat);
		chats = must_chats(winner);
		assert_int_equal(json_array_size(chats), 1);
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(chats, 0),
							  "id")),
			chat);
		json_decref(chats);
	}
}

/* ---- retries of one message, all at once ---------------------------------- */

struct retrier {
	pthread_barrier_t *barrier;
	const char *chat;
	const char *author;
	const char *key;
	long status;
	char id[ID_LEN];
};

static void *retry_thread(void *arg)
{
	struct retrier *r = arg;
	struct http_reply rep;

	http_post("/chats/get", "{\"user\": \"0\"}", 13, NULL, &rep);
	http_reply_free(&rep);
	pthread_barrier_wait(r->barrier);
	r->status = api_message_add(r->chat, r->author, "retried", r->key, r->id);
	http_thread_done();
	return NULL;
}

/* The same Idempotency-Key sent by RACERS clients at once (a client whose
 * retry overlaps the original) stores one message. Half the requests name
 * another chat of the same author, so the chat's row lock alone cannot be
 * what keeps them apart: the requests for the chat that won answer 201 with
 * its id, those for the other chat 422 idempotency_key_reused (the same key
 * for another request), and nothing else is stored. */
static void test_concurrent_idempotent_retries(void **state)
{
	char a[ID_LEN], c1[ID_LEN], c2[ID_LEN], key[64];
	pthread_barrier_t barrier;
	pthread_t th[RACERS];
	struct retrier rs[RACERS];
	json_t *m1, *m2;
	const char *won, *id = NULL;
	int i, round, created;

	(void)state;
	must_user("retry", a);
	must_chat("retrychat", (const char *[]){ a }, 1, c1);
	must_chat("retrychat", (const char *[]){ a }, 1, c2);
	for (round = 0; round < RACE_ROUNDS; round++) {
		uniq_name(key, sizeof(key), "retry-key");
		pthread_barrier_init(&barrier, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			memset(&rs[i], 0, sizeof(rs[i]));
			rs[i].barrier = &barrier;
			rs[i].chat = i % 2 ? c2 : c1;
			rs[i].author = a;
			rs[i].key = key;
			assert_int_equal(pthread_create(&th[i], NULL, retry_thread,
							&rs[i]), 0);
		}
		for (i = 0; i < RACERS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&barrier);

		/* The chat of the first 201 won; every answer agrees. */
		won = NULL;
		for (i = 0; i < RACERS && won == NULL; i++)
			if (rs[i].status == 201) {
				won = rs[i].chat;
				id = rs[i].id;
			}
		if (won == NULL)
			fail_msg_at("key %s: no request answered 201", key);
		created = 0;
		for (i = 0; i < RACERS; i++) {
			long want = rs[i].chat == won ? 201 : 422;

			if (rs[i].status != want)
				fail_msg_at("retry %d of key %s (chat %s) answered "
					    "%ld, want %ld", i, key, rs[i].chat,
					    rs[i].status, want);
			if (want == 201 && strcmp(rs[i].id, id) != 0)
				fail_msg_at("key %s: retry %d got id %s, another %s",
					    key, i, rs[i].id, id);
			created += want == 201;
		}
		assert_int_equal(created, RACERS / 2 + (RACERS % 2 && won == c1));
		m1 = must_messages(c1);
		m2 = must_messages(c2);
		if (json_array_size(m1) + json_array_size(m2) != (size_t)round + 1)
			fail_msg_at("round %d: %zu + %zu messages stored, want %d",
				    round, json_array_size(m1), json_array_size(m2),
				    round + 1);
		/* The one stored message is the one the 201s were told of, in
		 * the chat they named. */
		{
			json_t *in = won == c1 ? m1 : m2;
			bool stored = false;

			for (i = 0; i < (int)json_array_size(in); i++)
				stored = stored || strcmp(json_string_value(
					json_object_get(json_array_get(in,
					(size_t)i), "id")), id) == 0;
			if (!stored)
				fail_msg_at("id %s answered to the retries is not "
					    "stored in chat %s", id, won);
		}
		json_decref(m1);
		json_decref(m2);
	}
}

/* ---- (b) writers and tailing readers ------------------------------------- */

struct writer {
	const char *chat;
	const char *author;
	int index;
	int count;
	bool big_texts;
	struct ack *acks;       /* count entries, in send order */
	int acked;
	int failures;
	char first_error[256];
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	char text[128], id[ID_LEN];
	int i;

	for (i = 0; i < w->count; i++) {
		long st;

		message_text(text, sizeof(text), w->big_texts, w->index, i);
		st = api_message_add(w->chat, w->author, text, NULL, id);
		if (st == 201) {
			w->acks[w->acked].id = strtoll(id, NULL, 10);
			w->acks[w->acked].writer = w->index;
			w->acks[w->acked].seq = i;
			w->acked++;
		} else if (w->failures++ == 0) {
			snprintf(w->first_error, sizeof(w->first_error),
				 "message %d: status %ld", i, st);
		}
	}
	http_thread_done();
	return NULL;
}

struct reader {
	const char *chat;
	int limit;
	atomic_bool *writers_done;
	char (*seen)[ID_LEN];   /* ids in the order read */
	size_t nseen, cap;
	long pages;
	char error[512];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	char last[ID_LEN] = "";
	double deadline = now_seconds() + READER_DEADLINE_S;

	for (;;) {
		/* Read the flag before asking: if the writers were done then,
		 * every acknowledged message is visible to this request. */
		bool done = atomic_load(r->writers_done);
		struct http_reply rep;
		json_t *req = json_pack("{s:s,s:i}", "chat", r->chat, "limit",
					r->limit);
		size_t i, n;

		if (last[0] != '\0')
			json_object_set_new(req, "after", json_string(last));
		http_post_json("/messages/get", req, NULL, &rep);
		r->pages++;
		if (rep.status != 200 || !json_is_array(rep.json)) {
			snprintf(r->error, sizeof(r->error),
				 "page %ld: status %ld %s %.200s", r->pages,
				 rep.status, rep.error, rep.body);
			http_reply_free(&rep);
			break;
		}
		n = json_array_size(rep.json);
		if (n > (size_t)r->limit) {
			snprintf(r->error, sizeof(r->error),
				 "page %ld: %zu messages for limit %d", r->pages,
				 n, r->limit);
			http_reply_free(&rep);
			break;
		}
		for (i = 0; i < n; i++) {
			const char *id = json_string_value(
				json_object_get(json_array_get(rep.json, i), "id"));

			if (!is_canonical_id(id)) {
				snprintf(r->error, sizeof(r->error),
					 "page %ld: bad id", r->pages);
				break;
			}
			if (r->nseen == r->cap) {
				r->cap = r->cap ? r->cap * 2 : 1024;
				r->seen = realloc(r->seen, r->cap * sizeof(*r->seen));
				if (r->seen == NULL)
					abort();
			}
			snprintf(r->seen[r->nseen++], ID_LEN, "%s", id);
			snprintf(last, sizeof(last), "%s", id);
		}
		http_reply_free(&rep);
		if (r->error[0] != '\0')
			break;
		if (n == 0 && done)
			break;
		if (now_seconds() > deadline) {
			snprintf(r->error, sizeof(r->error),
				 "still reading after %.0f s", READER_DEADLINE_S);
			break;
		}
		if (n == 0)
			sleep_ms(1);
	}
	http_thread_done();
	return NULL;
}

static void test_writers_and_tailing_readers(void **state)
{
	char authors[WRITERS][ID_LEN], chat[ID_LEN];
	const char *members[WRITERS];
	struct writer ws[WRITERS];
	struct reader rd[READERS];
	pthread_t wt[WRITERS], rt[READERS];
	static const int limits[READERS] = { 100, 7 };
	atomic_bool done = false;
	struct ack *all;
	size_t nall = 0, i;
	json_t *final;
	int k;

	(void)state;
	for (k = 0; k < WRITERS; k++) {
		must_user("writer", authors[k]);
		members[k] = authors[k];
	}
	must_chat("tail", members, WRITERS, chat);

	for (k = 0; k < READERS; k++) {
		memset(&rd[k], 0, sizeof(rd[k]));
		rd[k].chat = chat;
		rd[k].limit = limits[k];
		rd[k].writers_done = &done;
		assert_int_equal(pthread_create(&rt[k], NULL, reader_thread, &rd[k]),
				 0);
	}
	for (k = 0; k < WRITERS; k++) {
		memset(&ws[k], 0, sizeof(ws[k]));
		ws[k].chat = chat;
		ws[k].author = authors[k];
		ws[k].index = k;
		ws[k].count = PER_WRITER;
		ws[k].acks = calloc(PER_WRITER, sizeof(struct ack));
		assert_non_null(ws[k].acks);
		assert_int_equal(pthread_create(&wt[k], NULL, writer_thread, &ws[k]),
				 0);
	}
	for (k = 0; k < WRITERS; k++)
		pthread_join(wt[k], NULL);
	atomic_store(&done, true);
	for (k = 0; k < READERS; k++)
		pthread_join(rt[k], NULL);

	all = calloc(WRITERS * PER_WRITER, sizeof(*all));
	assert_non_null(all);
	for (k = 0; k < WRITERS; k++) {
		if (ws[k].failures != 0)
			fail_msg_at("writer %d: %d of %d requests failed, first: %s",
				    k, ws[k].failures, PER_WRITER,
				    ws[k].first_error);
		memcpy(all + nall, ws[k].acks, (size_t)ws[k].acked * sizeof(*all));
		nall += (size_t)ws[k].acked;
		free(ws[k].acks);
	}
	assert_int_equal(nall, WRITERS * PER_WRITER);

	final = must_messages(chat);
	check_history(final, all, nall, chat, authors, false);

	/* Each reader saw exactly the final order. */
	for (k = 0; k < READERS; k++) {
		if (rd[k].error[0] != '\0')
			fail_msg_at("reader %d (limit %d): %s", k, rd[k].limit,
				    rd[k].error);
		if (rd[k].nseen != json_array_size(final))
			fail_msg_at("reader %d (limit %d) saw %zu messages, the "
				    "chat has %zu", k, rd[k].limit, rd[k].nseen,
				    json_array_size(final));
		for (i = 0; i < rd[k].nseen; i++) {
			const char *want = json_string_value(
				json_object_get(json_array_get(final, i), "id"));

			if (strcmp(rd[k].seen[i], want) != 0)
				fail_msg_at("reader %d (limit %d): position %zu is %s, "
					    "final order has %s", k, rd[k].limit, i,
					    rd[k].seen[i], want);
		}
		print_message("reader %d (limit %d): %zu messages in %ld pages\n",
			      k, rd[k].limit, rd[k].nseen, rd[k].pages);
		free(rd[k].seen);
	}
	json_decref(final);
	free(all);
}

/* ---- (c) a big chat in one response --------------------------------------- */

static void test_big_chat_whole(void **state)
{
	char authors[BIG_WRITERS][ID_LEN], chat[ID_LEN];
	const char *members[BIG_WRITERS];
	struct writer ws[BIG_WRITERS];
	pthread_t wt[BIG_WRITERS];
	struct ack *all;
	size_t nall = 0;
	json_t *final;
	int k;

	(void)state;
	for (k = 0; k < BIG_WRITERS; k++) {
		must_user("bigw", authors[k]);
		members[k] = authors[k];
	}
	must_chat("bigchat", members, BIG_WRITERS, chat);
	for (k = 0; k < BIG_WRITERS; k++) {
		memset(&ws[k], 0, sizeof(ws[k]));
		ws[k].chat = chat;
		ws[k].author = authors[k];
		ws[k].index = k;
		ws[k].count = BIG_PER_WRITER;
		ws[k].big_texts = true;
		ws[k].acks = calloc(BIG_PER_WRITER, sizeof(struct ack));
		assert_non_null(ws[k].acks);
		assert_int_equal(pthread_create(&wt[k], NULL, writer_thread, &ws[k]),
				 0);
	}
	for (k = 0; k < BIG_WRITERS; k++)
		pthread_join(wt[k], NULL);

	all = calloc(BIG_WRITERS * BIG_PER_WRITER, sizeof(*all));
	assert_non_null(all);
	for (k = 0; k < BIG_WRITERS; k++) {
		if (ws[k].failures != 0)
			fail_msg_at("writer %d: %d of %d requests failed, first: %s",
				    k, ws[k].failures, BIG_PER_WRITER,
				    ws[k].first_error);
		memcpy(all + nall, ws[k].acks, (size_t)ws[k].acked * sizeof(*all));
		nall += (size_t)ws[k].acked;
		free(ws[k].acks);
	}
	assert_int_equal(nall, BIG_WRITERS * BIG_PER_WRITER);

	/* One request, no limit: the whole chat. */
	final = must_messages(chat);
	check_history(final, all, nall, chat, authors, true);
	json_decref(final);

	/* Twice in a row gives the same answer (nothing half-streamed). */
	{
		json_t *again = must_messages(chat);

		final = must_messages(chat);
		assert_true(json_equal(final, again));
		json_decref(again);
		json_decref(final);
	}
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_same_username),
		cmocka_unit_test(test_concurrent_idempotent_retries),
		cmocka_unit_test(test_writers_and_tailing_readers),
		cmocka_unit_test(test_big_chat_whole),
	};

	return cmocka_run_group_tests(tests, stack_group_setup,
	    stack_group_teardown);
}
