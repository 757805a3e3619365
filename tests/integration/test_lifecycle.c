/*
 * test_lifecycle.c - the stack survives restarts, crashes and reloads; a
 * crash loop stops it.
 */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_WORKERS 256
/* How long a dead worker may take to be replaced ("a few seconds"). */
#define RESPAWN_WITHIN_S 5.0
/* How long a rolling restart may take (generous: workers may finish the
 * request in hand first). */
#define RELOAD_WITHIN_S 60.0

static void print_pids(const char *what, const pid_t *p, int n)
{
	int i;

	print_message("%s:", what);
	for (i = 0; i < n; i++)
		print_message(" %ld", (long)p[i]);
	print_message("\n");
}

/* A few requests that must all succeed. */
static void api_works(const char *chat, const char *author, int rounds)
{
	int i;

	for (i = 0; i < rounds; i++) {
		json_t *msgs;

		must_user("alive", NULL);
		must_message(chat, author, "still alive", NULL);
		msgs = must_messages(chat);
		assert_true(json_array_size(msgs) > 0);
		json_decref(msgs);
	}
}

/* ---- (a) data survives stop + start ------------------------------------- */

static void test_data_survives_restart(void **state)
{
	char a[ID_LEN], b[ID_LEN], chat[ID_LEN], chat2[ID_LEN], m[ID_LEN];
	char uname[64], cname[64];
	json_t *chats_a, *chats_b, *msgs, *after;
	pid_t old_master;
	int i;

	(void)state;
	uniq_name(uname, sizeof(uname), "persist");
	assert_int_equal(api_user_add(uname, a), 201);
	must_user("persist", b);
	uniq_name(cname, sizeof(cname), "persistchat");
	assert_int_equal(api_chat_add(cname, (const char *[]){ a, b }, 2, chat),
			 201);
	must_chat("persistempty", (const char *[]){ b }, 1, chat2);
	for (i = 0; i < 5; i++) {
		char text[64];

		snprintf(text, sizeof(text), "persistent message %d \xc3\xa9", i);
		must_message(chat, i % 2 ? a : b, text, NULL);
	}
	assert_int_equal(api_message_add(chat, a, "keyed", "persist-key", m), 201);
	chats_a = must_chats(a);
	chats_b = must_chats(b);
	msgs = must_messages(chat);
	assert_int_equal(json_array_size(msgs), 6);
	assert_int_equal(json_array_size(chats_b), 2);

	old_master = stack_master_pid(&the_stack);
	assert_true(old_master > 0);
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
	assert_true(stack_master_pid(&the_stack) > 0);
	assert_true(stack_master_pid(&the_stack) != old_master);

	after = must_chats(a);
	assert_true(json_equal(after, chats_a));
	json_decref(after);
	after = must_chats(b);
	assert_true(json_equal(after, chats_b));
	json_decref(after);
	after = must_messages(chat);
	assert_true(json_equal(after, msgs));
	json_decref(after);

	/* Names are still taken; the idempotency key is still known. */
	assert_int_equal(api_user_add(uname, NULL), 409);
	assert_int_equal(api_chat_add(cname, NULL, 0, NULL), 409);
	{
		char again[ID_LEN];

		assert_int_equal(api_message_add(chat, a, "keyed", "persist-key",
						 again), 201);
		assert_string_equal(again, m);
	}
	/* And new data goes after the old. */
	{
		char m2[ID_LEN];

		must_message(chat, b, "after restart", m2);
		after = must_messages(chat);
		assert_int_equal(json_array_size(after), 7);
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(after, 6), "id")), m2);
		assert_true(strcmp(json_string_value(json_object_get(
				json_array_get(after, 6), "created_at")),
			json_string_value(json_object_get(
				json_array_get(after, 5), "created_at"))) >= 0);
		json_decref(after);
		after = must_chats(b);
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(after, 0), "id")), chat);
		json_decref(after);
	}
	json_decref(chats_a);
	json_decref(chats_b);
	json_decref(msgs);
}

/* ---- (b) a killed worker is replaced ------------------------------------- */

static void test_killed_worker_is_replaced(void **state)
{
	char a[ID_LEN], chat[ID_LEN];
	pid_t master, before[MAX_WORKERS], now[MAX_WORKERS];
	int round;

	(void)state;
	must_user("crash", a);
	must_chat("crashchat", (const char *[]){ a }, 1, chat);
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);

	for (round = 0; round < 2; round++) {
		int n = stack_wait_workers(&the_stack, master, before,
					   MAX_WORKERS, RESPAWN_WITHIN_S), m = 0, i;
		pid_t victim = before[round % n];
		double deadline;
		bool replaced = false;

		print_pids("workers before", before, n);
		print_message("killing worker %ld with SIGKILL\n", (long)victim);
		assert_int_equal(kill(victim, SIGKILL), 0);
		/*
		 * Until the victim has really died it may still take a connection
		 * from the listening socket (a woken accept() dequeues before it
		 * notices the signal) and die with it: nginx then answers 502.
		 * No server can prevent that, so requests start once it is dead.
		 */
		deadline = now_seconds() + RESPAWN_WITHIN_S;
		while (!proc_exited(victim) && now_seconds() < deadline)
			sleep_ms(5);
		assert_true(proc_exited(victim));
		/* The other workers keep answering meanwhile. */
		if (n > 1)
			api_works(chat, a, 3);

		deadline = now_seconds() + RESPAWN_WITHIN_S;
		while (now_seconds() < deadline) {
			m = proc_children(master, now, MAX_WORKERS);
			if (m == n && !pid_in(victim, now, m)) {
				for (i = 0; i < m; i++)
					if (!pid_in(now[i], before, n))
						replaced = true;
				if (replaced)
					break;
			}
			sleep_ms(50);
		}
		print_pids("workers after", now, m < MAX_WORKERS ? m : MAX_WORKERS);
		if (!replaced)
			fail_msg_at("worker %ld not replaced within %.0f s "
				    "(%d live children, want %d)", (long)victim,
				    RESPAWN_WITHIN_S, m, n);
		/* The master itself carried on. */
		assert_int_equal(stack_master_pid(&the_stack), master);
		assert_int_equal(kill(master, 0), 0);
		api_works(chat, a, 10);
	}
}

/* ---- (c) SIGHUP replaces every worker while requests go on --------------- */

struct loader {
	const char *chat;
	const char *author;
	atomic_bool *stop;
	atomic_long requests;   /* read by the main thread while running */
	long failures;
	char first_error[512];
};

static void *loader_thread(void *arg)
{
	struct loader *l = arg;

	while (!atomic_load(l->stop)) {
		char text[64];
		long st;
		json_t *msgs = NULL;

		snprintf(text, sizeof(text), "during reload %ld",
			 atomic_load(&l->requests));
		st = api_message_add(l->chat, l->author, text, NULL, NULL);
		l->requests++;
		if (st != 201 && l->failures++ == 0)
			snprintf(l->first_error, sizeof(l->first_error),
				 "messages/add answered %ld", st);
		st = api_messages_get(l->chat, &msgs);
		l->requests++;
		if (st != 200 && l->failures++ == 0)
			snprintf(l->first_error, sizeof(l->first_error),
				 "messages/get answered %ld", st);
		json_decref(msgs);
	}
	http_thread_done();
	return NULL;
}

static void test_sighup_replaces_all_workers(void **state)
{
	char a[ID_LEN], chat[ID_LEN];
	pid_t master, before[MAX_WORKERS], now[MAX_WORKERS];
	int round;

	(void)state;
	must_user("reload", a);
	must_chat("reloadchat", (const char *[]){ a }, 1, chat);
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);

	for (round = 0; round < 2; round++) {
		struct loader ld[2];
		pthread_t th[2];
		atomic_bool stop = false;
		int n = stack_wait_workers(&the_stack, master, before,
					   MAX_WORKERS, RESPAWN_WITHIN_S), m = 0, i, k;
		double deadline;
		bool all_new = false;
		long before_requests;

		for (k = 0; k < 2; k++) {
			memset(&ld[k], 0, sizeof(ld[k]));
			ld[k].chat = chat;
			ld[k].author = a;
			ld[k].stop = &stop;
			assert_int_equal(pthread_create(&th[k], NULL, loader_thread,
							&ld[k]), 0);
		}
		sleep_ms(300);
		print_pids("workers before SIGHUP", before, n);
		assert_int_equal(kill(master, SIGHUP), 0);

		deadline = now_seconds() + RELOAD_WITHIN_S;
		while (now_seconds() < deadline) {
			m = proc_children(master, now, MAX_WORKERS);
			if (m == n) {
				all_new = true;
				for (i = 0; i < m; i++)
					if (pid_in(now[i], before, n))
						all_new = false;
				if (all_new)
					break;
			}
			sleep_ms(50);
		}
		/* Keep the load on a little longer with the new workers. */
		before_requests = ld[0].requests + ld[1].requests;
		sleep_ms(500);
		atomic_store(&stop, true);
		for (k = 0; k < 2; k++)
			pthread_join(th[k], NULL);

		print_pids("workers after SIGHUP", now,
			   m < MAX_WORKERS ? m : MAX_WORKERS);
		if (!all_new)
			fail_msg_at("after SIGHUP not every worker was replaced "
				    "within %.0f s (%d live children, want %d new)",
				    RELOAD_WITHIN_S, m, n);
		for (k = 0; k < 2; k++) {
			print_message("loader %d: %ld requests, %ld failed\n", k,
				      atomic_load(&ld[k].requests), ld[k].failures);
			if (ld[k].failures != 0)
				fail_msg_at("loader %d: %ld of %ld requests failed "
					    "during the reload; first: %s", k,
					    ld[k].failures,
					    atomic_load(&ld[k].requests),
					    ld[k].first_error);
			assert_true(ld[k].requests > 0);
		}
		/* Requests were also served after the reload finished. */
		assert_true(ld[0].requests + ld[1].requests > before_requests);
		assert_int_equal(stack_master_pid(&the_stack), master);
		assert_int_equal(kill(master, 0), 0);
		api_works(chat, a, 5);
	}
}

/* ---- (d) the database goes away and comes back ---------------------------- */

static const char *const probe_paths[] = {
	"/users/add", "/chats/add", "/messages/add", "/chats/get",
	"/messages/get",
};

/* A valid body for probe_paths[i]; `fresh` is a new unique name. */
static void probe_body(char *buf, size_t n, int i, const char *fresh,
		       const char *user, const char *chat)
{
	switch (i) {
	case 0:
		snprintf(buf, n, "{\"username\": \"%s\"}", fresh);
		break;
	case 1:
		snprintf(buf, n, "{\"name\": \"%s\", \"users\": []}", fresh);
		break;
	case 2:
		snprintf(buf, n, "{\"chat\": \"%s\", \"author\": \"%s\", "
			 "\"text\": \"%s\"}", chat, user, fresh);
		break;
	case 3:
		snprintf(buf, n, "{\"user\": \"%s\"}", user);
		break;
	default:
		snprintf(buf, n, "{\"chat\": \"%s\"}", chat);
		break;
	}
}

static void test_database_outage(void **state)
{
	char a[ID_LEN], chat[ID_LEN], body[256], name[64];
	pid_t master, before[MAX_WORKERS], after[MAX_WORKERS];
	json_t *msgs_before, *msgs_after;
	int n, m, i, round, ok_in_a_row;
	double deadline;

	(void)state;
	must_user("outage", a);
	must_chat("outagechat", (const char *[]){ a }, 1, chat);
	must_message(chat, a, "before the outage", NULL);
	msgs_before = must_messages(chat);
	master = stack_master_pid(&the_stack);
	n = stack_wait_workers(&the_stack, master, before, MAX_WORKERS,
			       RESPAWN_WITHIN_S);

	/* No new connections to the database, and the workers' ones cut. */
	if (stack_psql(&the_stack, "postgres",
		       "ALTER DATABASE chatd ALLOW_CONNECTIONS false") != 0 ||
	    stack_psql(&the_stack, "postgres",
		       "SELECT count(pg_terminate_backend(pid)) "
		       "FROM pg_stat_activity WHERE datname = 'chatd'") != 0)
		fail_msg_at("could not take the database away");

	/* Every request now answers 503 with Retry-After, on every worker. */
	for (round = 0; round < 4 * n; round++) {
		for (i = 0; i < (int)(sizeof(probe_paths) / sizeof(probe_paths[0]));
		     i++) {
			struct http_reply r;
			char what[128];
			const char *msg;

			uniq_name(name, sizeof(name), "down");
			probe_body(body, sizeof(body), i, name, a, chat);
			snprintf(what, sizeof(what), "%s while the database is down",
				 probe_paths[i]);
			http_post(probe_paths[i], body, strlen(body), NULL, &r);
			check_error(&r, 503, "unavailable", what);
			if (r.retry_after[0] == '\0')
				fail_msg_at("%s: 503 without a Retry-After header", what);
			msg = json_string_value(json_object_get(r.json, "message"));
			if (strstr(msg, "FATAL") != NULL ||
			    strstr(msg, "SELECT") != NULL ||
			    strstr(msg, "INSERT") != NULL)
				fail_msg_at("%s: message leaks database details: %s",
					    what, msg);
			http_reply_free(&r);
		}
	}
	/* The workers wait for the database; they do not die over it. */
	m = proc_children(master, after, MAX_WORKERS);
	for (i = 0; i < m; i++)
		if (!pid_in(after[i], before, n))
			fail_msg_at("worker %ld appeared during the outage "
				    "(a worker exited)", (long)after[i]);
	assert_int_equal(m, n);

	if (stack_psql(&the_stack, "postgres",
		       "ALTER DATABASE chatd ALLOW_CONNECTIONS true") != 0)
		fail_msg_at("could not give the database back");

	/* Service comes back on its own, on every worker. */
	ok_in_a_row = 0;
	deadline = now_seconds() + RELOAD_WITHIN_S;
	while (ok_in_a_row < 8 * n && now_seconds() < deadline) {
		json_t *l = NULL;

		if (api_messages_get(chat, &l) == 200)
			ok_in_a_row++;
		else
			ok_in_a_row = 0;
		json_decref(l);
		if (ok_in_a_row == 0)
			sleep_ms(100);
	}
	if (ok_in_a_row < 8 * n)
		fail_msg_at("service did not come back within %.0f s after the "
			    "database did", RELOAD_WITHIN_S);
	/* Nothing was written during the outage, nothing was lost. */
	msgs_after = must_messages(chat);
	assert_true(json_equal(msgs_before, msgs_after));
	json_decref(msgs_after);
	json_decref(msgs_before);
	api_works(chat, a, 5);
	assert_int_equal(stack_master_pid(&the_stack), master);
}

/* ---- (e) a crash loop stops the master ------------------------------------ */

/* The master's limits (src/master.c): CRASH_LIMIT abnormal exits within
 * CRASH_WINDOW_MS stop it with status 1. */
#define CRASH_LIMIT 10
/* A bound against a hang: with the respawn backoff (0.1 s doubling up to
 * 5 s) the ten kills take about 21 s, inside the master's 60 s window. */
#define CRASH_LOOP_WITHIN_S 50.0

static size_t count_substr(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/*
 * SIGKILL one worker, then each replacement as soon as it appears: the
 * master must respawn until the CRASH_LIMIT-th abnormal exit, then give
 * up ("crash loop" in its log, exit status 1 -- which the test cannot read,
 * the master not being its child) and take its other workers with it.
 */
static void test_crash_loop_stops_master(void **state)
{
	pid_t master, w[MAX_WORKERS], seen[4 * CRASH_LIMIT + MAX_WORKERS];
	int n, nseen = 0, kills = 0, respawns = 0, i;
	char log[128], *tail;
	double t0, deadline, took;
	long log_from;
	bool gone;

	(void)state;
	/* A fresh master: earlier tests' kills must not count towards its
	 * limit. */
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);
	n = stack_wait_workers(&the_stack, master, w, MAX_WORKERS,
			       RESPAWN_WITHIN_S);
	snprintf(log, sizeof(log), "%s/chatd.log", the_stack.dir);
	log_from = file_size(log);
	for (i = 0; i < n; i++)
		seen[nseen++] = w[i];

	t0 = now_seconds();
	deadline = t0 + CRASH_LOOP_WITHIN_S;
	assert_int_equal(kill(w[0], SIGKILL), 0);
	kills = 1;
	while (!proc_exited(master) && now_seconds() < deadline &&
	       nseen < (int)(sizeof(seen) / sizeof(seen[0]))) {
		pid_t now[MAX_WORKERS];
		int m = proc_children(master, now, MAX_WORKERS);

		for (i = 0; i < m && i < MAX_WORKERS; i++) {
			if (pid_in(now[i], seen, nseen))
				continue;
			seen[nseen++] = now[i];
			respawns++;
			/* Past the limit a new child is no worker: it is the
			 * master's LeakSanitizer tracer in a sanitizer build. */
			if (kills >= CRASH_LIMIT)
				continue;
			if (kill(now[i], SIGKILL) == 0)
				kills++;
		}
		sleep_ms(5);
	}
	/* The master and every worker it ever had are gone. */
	for (;;) {
		gone = proc_exited(master);
		for (i = 0; i < nseen; i++)
			gone = gone && proc_exited(seen[i]);
		if (gone || now_seconds() > deadline)
			break;
		sleep_ms(20);
	}
	took = now_seconds() - t0;
	print_message("%d workers killed, %d respawns seen; after %.1f s the "
		      "master is %s\n", kills, respawns, took,
		      proc_exited(master) ? "gone" : "still running");
	tail = file_since(log, log_from);
	if (!gone || strstr(tail, "crash loop") == NULL)
		fprintf(stderr, "chatd.log since the first kill:\n%s\n", tail);
	if (!proc_exited(master))
		fail_msg_at("master %ld still running %.0f s after the first of "
			    "%d kills", (long)master, took, kills);
	if (!gone)
		fail_msg_at("workers of the stopped master are still running");
	if (strstr(tail, "crash loop") == NULL)
		fail_msg_at("chatd.log does not mention the crash loop");
	/* It kept respawning until the limit, and not beyond it. */
	if (respawns < CRASH_LIMIT - 1 || kills != CRASH_LIMIT)
		fail_msg_at("%d respawns seen and %d workers killed; want %d "
			    "respawns before the master gave up at %d kills",
			    respawns, kills, CRASH_LIMIT - 1, CRASH_LIMIT);
	assert_true(count_substr(tail, "killed by signal 9") >= CRASH_LIMIT);
	free(tail);

	/* Leave a running stack behind. */
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
	must_user("aftercrashloop", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_survives_restart),
		cmocka_unit_test(test_killed_worker_is_replaced),
		cmocka_unit_test(test_sighup_replaces_all_workers),
		cmocka_unit_test(test_database_outage),
		/* Restarts the stack before and after. */
		cmocka_unit_test(test_crash_loop_stops_master),
	};

	return cmocka_run_group_tests(tests, stack_group_setup,
	    stack_group_teardown);
}
