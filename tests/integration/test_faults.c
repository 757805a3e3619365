/*
 * test_faults.c - faults under a concurrent write load: a worker killed,
 * the master stopped, PostgreSQL stopped and killed, a slow client, a
 * query that would run long.
 *
 * Each fault test runs the load of load.h (LOAD_THREADS threads posting
 * messages/add into a few chats, each request with its own
 * Idempotency-Key) while the fault happens, then prints what the client
 * saw (sent, acknowledged, failed by status) and what the database holds,
 * and asserts that every acknowledged message is stored, once, under the
 * id it was acknowledged with.  Which failures are allowed, and when,
 * depends on the fault.
 *
 * Timing bounds are those the issue names (a replacement worker within a
 * second, service within 2 s of the database's return, answers within a
 * few seconds while it is away, the configured timeouts); the rest only
 * stops a hang.
 *
 * Threads only record; all assertions run in the main thread, after the
 * load has stopped and everything paused has been let go.
 */
#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define FAULT_WORKERS 4
#define MAX_WORKERS 64
#define LOAD_THREADS 8
#define LOAD_CHATS 4
/* Bounds of each load; a test stops it earlier. */
#define LOAD_MAX_REQUESTS 200000L
#define LOAD_MAX_S 120.0
/* A load thread's pause after a failed request (the load would otherwise
 * spin on the quick 502s and 503s of an outage). */
#define FAIL_PAUSE_MS 20
/* Answers the load must have had before a fault is injected. */
#define WARMUP_ANSWERS 200
/* A killed worker's requests: the one in hand, and one it may have
 * dequeued from the listening socket while dying. */
#define KILL_MAX_FAILED 3
/* "A replacement answers within a second." */
#define REPLACEMENT_S 1.0
/* "Within 2 s of the database returning, requests succeed again." */
#define DB_BACK_S 2.0
/* How long the database stays away in test 3. */
#define DB_AWAY_MS 2000
/* "Each response takes < a few seconds" while the database is away. */
#define ANSWER_MAX_S 5.0
/* Against hangs only. */
#define WAIT_S 60.0
/* contrib/stack buffers nginx's access log (flush=1s): how long a line
 * may take to appear, with room for a busy machine. */
#define ACCESS_LOG_FLUSH_S 5.0
/* contrib/stack starts chatd with --grace 10. */
#define GRACE_S 10.0
/* The longest a load request may take while a worker waits for a lock,
 * or while clients are slow: only against a pinned worker (one would make
 * them wait for the lock or the slow body, 5 s or more); they normally
 * take milliseconds. */
#define LOAD_ANSWER_MAX_S 2.0

static struct load_config base;	/* chats and authors for every load */

static int group_setup(void **state)
{
	(void)state;
	return stack_start_workers(&the_stack, FAULT_WORKERS) == 0 ? 0 : -1;
}

/* A test that failed half-way may leave the stack stopped or without its
 * database: start it again before the next one. */
static void ensure_running(void)
{
	pid_t master = stack_master_pid(&the_stack);
	char name[64];

	uniq_name(name, sizeof(name), "alive");
	if (master > 0 && !proc_exited(master) &&
	    api_user_add(name, NULL) == 201)
		return;
	print_message("the stack is not answering; restarting it\n");
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
}

static void setup_load_chats(void)
{
	if (base.nchats == 0)
		load_setup_chats(&base, LOAD_CHATS, "faults");
}

static void start_load(struct load *l, const char *tag)
{
	struct load_config cfg = base;

	cfg.tag = tag;
	cfg.threads = LOAD_THREADS;
	cfg.fail_pause_ms = FAIL_PAUSE_MS;
	cfg.max_requests = LOAD_MAX_REQUESTS;
	cfg.max_seconds = LOAD_MAX_S;
	load_start(l, &cfg);
	if (!load_wait_more(l, WARMUP_ANSWERS, WAIT_S)) {
		load_stop(l);
		fail_msg_at("the load did not get %d answers within %.0f s",
			    WARMUP_ANSWERS, WAIT_S);
	}
}

/* Read the database and print the summary; every acknowledged message
 * must be stored once under its id. */
static void check_stored(struct load *l, const char *what,
			 struct load_summary *s)
{
	if (!load_check_db(l, &the_stack, s))
		fail_msg_at("%s: could not read the messages back", what);
	load_print(what, s);
	if (s->lost || s->wrong_id || s->duplicated)
		fail_msg_at("%s: %ld acknowledged messages missing, %ld under "
			    "another id, %ld stored more than once", what,
			    s->lost, s->wrong_id, s->duplicated);
	assert_true(s->acknowledged > 0);
}

/* Print the last `max` lines of chatd.log that report an error. */
static void print_chatd_errors(int max)
{
	char path[128], *log, *line, *save = NULL;
	const char *keep[64];
	int n = 0, i;

	snprintf(path, sizeof(path), "%s/chatd.log", the_stack.dir);
	log = file_since(path, 0);
	for (line = strtok_r(log, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "error:") != NULL)
			keep[n++ % 64] = line;
	if (max > 64)
		max = 64;
	print_message("chatd.log, the last errors:\n");
	for (i = n > max ? n - max : 0; i < n; i++)
		print_message("  %s\n", keep[i % 64]);
	free(log);
}

/* Fail with the first few records matching `bad`, if any does (and with
 * chatd's own account of its errors). */
static void no_record(const struct load *l, bool (*bad)(const struct load_rec *),
		      const char *what)
{
	char buf[1500];

	load_describe(l, bad, buf, sizeof(buf));
	if (buf[0] != '\0') {
		print_chatd_errors(10);
		fail_msg_at("%s:%s", what, buf);
	}
}

/* A 502 or 503 as the API describes it: {"error": "unavailable"} with
 * Retry-After. */
static bool is_unavailable(const struct load_rec *r, long status)
{
	return r->status == status && r->retry_after &&
	       strcmp(r->what, "unavailable") == 0;
}

/* Run SQL on the chatd database and return the first line of its output
 * as a number, or -1. */
static long sql_number(const char *sql)
{
	char *out = stack_psql_output(&the_stack, sql);
	long v = -1;

	if (out != NULL && out[0] >= '0' && out[0] <= '9')
		v = strtol(out, NULL, 10);
	free(out);
	return v;
}

/* Poll `sql` until it yields at least `want`; false after `seconds`. */
static bool wait_sql(const char *sql, long want, double seconds)
{
	double deadline = now_seconds() + seconds;

	while (now_seconds() < deadline) {
		if (sql_number(sql) >= want)
			return true;
		sleep_ms(50);
	}
	return false;
}

/* ---- a row lock held from psql ---------------------------------------------- */

#define LOCKER_APP "chatd_test_locker"

/*
 * Lock chat `chat` FOR UPDATE in an open transaction of a background psql
 * that then sleeps; messages/add on that chat waits for the lock.  Returns
 * once the lock is held.
 */
static pid_t lock_chat(const char *chat)
{
	char sql[512];
	pid_t pid;

	snprintf(sql, sizeof(sql), "SET application_name = '" LOCKER_APP "'; "
		 "BEGIN; SELECT id FROM chats WHERE id = %s FOR UPDATE; "
		 "SELECT pg_sleep(%d); COMMIT;", chat, (int)(2 * WAIT_S));
	pid = stack_psql_spawn(&the_stack, sql);
	assert_true(pid > 0);
	if (!wait_sql("SELECT count(*) FROM pg_stat_activity WHERE "
		      "application_name = '" LOCKER_APP "' AND "
		      "wait_event = 'PgSleep'", 1, WAIT_S)) {
		stack_child_wait(pid, 0);
		fail_msg_at("the psql holding the lock on chat %s did not get "
			    "to its sleep", chat);
	}
	return pid;
}

/* End the locking transaction (its backend is terminated, so it rolls
 * back) and reap the psql.  No assertions: runs before them. */
static bool unlock_chat(pid_t pid)
{
	bool ok = stack_psql(&the_stack, "chatd",
			     "SELECT pg_terminate_backend(pid) FROM "
			     "pg_stat_activity WHERE application_name = '"
			     LOCKER_APP "'") == 0;

	stack_child_wait(pid, WAIT_S);
	return ok;
}

/* Requests of chatd's waiting for a lock in the database. */
static const char waiting_sql[] =
	"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
	"AND query LIKE '%chatd_message_add%'";

/* One request in a thread of its own. */
struct probe {
	pthread_t th;
	const char *chat, *author, *key;
	atomic_bool done;
	double t_start, t_end;
	long status;
	char id[ID_LEN];
	char what[64];
	bool retry_after;
};

static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	char hdr[128], body[256];
	struct http_reply r;

	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", p->key);
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"author\": \"%s\", "
		 "\"text\": \"probe %s\"}", p->chat, p->author, p->key);
	p->t_start = now_seconds();
	http_post("/messages/add", body, strlen(body), hdr, &r);
	p->t_end = now_seconds();
	p->status = r.status;
	p->retry_after = r.retry_after[0] != '\0';
	if (r.status == 201) {
		const char *id = json_string_value(json_object_get(r.json,
								   "id"));

		snprintf(p->id, sizeof(p->id), "%s", id != NULL ? id : "");
	} else if (r.status == 0) {
		snprintf(p->what, sizeof(p->what), "%.63s", r.error);
	} else {
		const char *e = json_string_value(json_object_get(r.json,
								  "error"));

		snprintf(p->what, sizeof(p->what), "%s",
			 e != NULL ? e : "(no JSON error body)");
	}
	http_reply_free(&r);
	http_thread_done();
	atomic_store(&p->done, true);
	return NULL;
}

static void probe_start(struct probe *p, const char *chat, const char *author,
			const char *key)
{
	memset(p, 0, sizeof(*p));
	p->chat = chat;
	p->author = author;
	p->key = key;
	atomic_init(&p->done, false);
	assert_int_equal(pthread_create(&p->th, NULL, probe_thread, p), 0);
}

/* How many messages carry this Idempotency-Key, and the id of one. */
static long stored_with_key(const char *key, char *id_out)
{
	char sql[256], *out;
	long n = 0;

	snprintf(sql, sizeof(sql), "SELECT id FROM messages WHERE "
		 "idempotency_key = '%s'", key);
	out = stack_psql_output(&the_stack, sql);
	assert_non_null(out);
	if (id_out != NULL)
		snprintf(id_out, ID_LEN, "%.*s", (int)strcspn(out, "\n"), out);
	for (char *p = out; *p; p++)
		n += *p == '\n';
	if (out[0] != '\0' && out[strlen(out) - 1] != '\n')
		n++;
	free(out);
	return n;
}

/* ---- 1. SIGKILL to one worker --------------------------------------------- */

static double kill_dead_at;	/* load time the victim was seen dead */

static bool kill_failed_unexpectedly(const struct load_rec *r)
{
	/* Only a request already sent when the victim died, answered 502. */
	return r->status != 201 &&
	       (!is_unavailable(r, 502) || r->t_start > kill_dead_at);
}

static void test_worker_killed_under_load(void **state)
{
	pid_t master, before[MAX_WORKERS], now[MAX_WORKERS], victim, fresh = 0;
	double t_kill, t_spawn = -1, t_frozen = -1, t_answer = -1, deadline;
	long first_after_freeze, i, after_answer = 0;
	struct load_summary s;
	struct load l;
	int n, m = 0, k, frozen = 0;
	bool froze_ok = true;

	(void)state;
	ensure_running();
	setup_load_chats();
	master = stack_master_pid(&the_stack);
	n = stack_wait_workers(&the_stack, master, before, MAX_WORKERS, WAIT_S);
	assert_true(n >= 2);
	victim = before[0];

	start_load(&l, "kill");
	t_kill = load_now(&l);
	kill(victim, SIGKILL);
	deadline = now_seconds() + WAIT_S;
	while (!proc_exited(victim) && now_seconds() < deadline)
		sleep_ms(1);
	kill_dead_at = load_now(&l);

	/* The master forks a replacement ... */
	deadline = now_seconds() + WAIT_S;
	while (now_seconds() < deadline) {
		m = proc_children(master, now, MAX_WORKERS);
		for (k = 0; k < m && k < MAX_WORKERS; k++)
			if (!pid_in(now[k], before, n))
				fresh = now[k];
		if (fresh != 0)
			break;
		sleep_ms(1);
	}
	if (fresh != 0) {
		t_spawn = load_now(&l);
		/*
		 * ... and to see that it answers, the other workers are
		 * paused (SIGSTOP) until a request sent after the pause has
		 * been answered 201: only the replacement can have done it.
		 * Their requests in hand are only delayed.
		 */
		for (k = 0; k < n; k++) {
			if (before[k] == victim)
				continue;
			if (kill(before[k], SIGSTOP) == 0)
				frozen++;
			else
				froze_ok = false;
		}
		deadline = now_seconds() + WAIT_S;
		for (k = 0; k < n && froze_ok; k++) {
			char path[64], buf[512], *p = NULL;
			FILE *f;
			size_t got;

			if (before[k] == victim)
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/stat",
				 (long)before[k]);
			while (now_seconds() < deadline) {
				f = fopen(path, "r");
				if (f == NULL)
					break;
				got = fread(buf, 1, sizeof(buf) - 1, f);
				fclose(f);
				buf[got] = '\0';
				p = strrchr(buf, ')');
				if (p != NULL && p[1] == ' ' && p[2] == 'T')
					break;
				sleep_ms(1);
			}
			if (p == NULL || p[2] != 'T')
				froze_ok = false;
		}
		t_frozen = load_now(&l);
		first_after_freeze = load_sent(&l);
		deadline = now_seconds() + WAIT_S;
		while (froze_ok && t_answer < 0 && now_seconds() < deadline) {
			long sent = load_sent(&l);

			for (i = first_after_freeze; i < sent; i++) {
				const struct load_rec *r = load_rec(&l, i);

				if (r != NULL && r->status == 201 &&
				    (t_answer < 0 || r->t_end < t_answer))
					t_answer = r->t_end;
			}
			if (t_answer < 0)
				sleep_ms(1);
		}
		for (k = 0; k < n; k++)
			if (before[k] != victim)
				kill(before[k], SIGCONT);
	}
	/* The load goes on a while with the whole pool. */
	load_wait_more(&l, 500, WAIT_S);
	load_stop(&l);

	print_message("killed worker %ld at %.3f s (dead at %.3f s); "
		      "replacement %ld forked after %.0f ms; %d others paused "
		      "at %.3f s; the replacement answered a request %.0f ms "
		      "after the kill\n", (long)victim, t_kill, kill_dead_at,
		      (long)fresh, (t_spawn - t_kill) * 1000, frozen, t_frozen,
		      t_answer >= 0 ? (t_answer - t_kill) * 1000 : -1.0);
	check_stored(&l, "SIGKILL to a worker", &s);
	for (i = 0; i < s.sent; i++) {
		const struct load_rec *r = load_rec(&l, i);

		if (r != NULL && r->status == 201 && t_answer >= 0 &&
		    r->t_start > t_answer)
			after_answer++;
	}
	print_message("  acknowledged after the replacement's first answer: "
		      "%ld\n", after_answer);

	if (fresh == 0)
		fail_msg_at("no replacement for worker %ld", (long)victim);
	if (!froze_ok)
		fail_msg_at("could not pause the other workers");
	no_record(&l, kill_failed_unexpectedly, "requests that failed other "
		  "than with 502 {unavailable} + Retry-After, or that were "
		  "sent after the victim had died");
	if (s.failed > KILL_MAX_FAILED)
		fail_msg_at("%ld requests failed; a killed worker had at most "
			    "%d in hand", s.failed, KILL_MAX_FAILED);
	if (t_spawn - t_kill >= REPLACEMENT_S)
		fail_msg_at("the replacement was forked %.2f s after the kill",
			    t_spawn - t_kill);
	if (t_answer < 0 || t_answer - t_kill >= REPLACEMENT_S)
		fail_msg_at("the replacement did not answer within %.0f s of "
			    "the kill (%.2f s)", REPLACEMENT_S,
			    t_answer < 0 ? -1.0 : t_answer - t_kill);
	assert_true(after_answer > 0);
	/* The pool is whole again, under the same master. */
	assert_int_equal(stack_master_pid(&the_stack), master);
	m = stack_wait_workers(&the_stack, master, now, MAX_WORKERS, WAIT_S);
	assert_false(pid_in(victim, now, m));
	assert_true(pid_in(fresh, now, m));
	load_free(&l);
}

/* ---- 2. SIGTERM to the master --------------------------------------------- */

static double term_at;	/* load time of the SIGTERM */

static bool term_failed_unexpectedly(const struct load_rec *r)
{
	/* After the stop nginx cannot reach chatd: 502, nothing else. */
	return r->status != 201 &&
	       (!is_unavailable(r, 502) || r->t_end < term_at);
}

static bool failed_but_stored(const struct load_rec *r)
{
	return r->status != 201 && r->db_count > 0;
}

static void test_master_stopped_under_load(void **state)
{
	char a[ID_LEN], chat[ID_LEN], sock[128], log[128], *tail;
	char key[64], stored_id[ID_LEN];
	pid_t master, w[MAX_WORKERS], left[8], locker;
	double t_master_gone = -1, t_workers_gone = -1, deadline;
	double slowest_502 = 0;
	struct load_summary s;
	struct probe p;
	struct load l;
	int n, k, alive_at_master_exit = -1, nleft;
	long log_from, acked_across = 0, i;
	bool blocked, unlocked = false;

	(void)state;
	ensure_running();
	setup_load_chats();
	/* A request certainly in a worker's hands at the stop: one that
	 * waits for a row lock held from psql, released a second later. */
	must_user("termprobe", a);
	must_chat("termprobe", (const char *[]){ a }, 1, chat);
	uniq_name(key, sizeof(key), "termprobe");
	master = stack_master_pid(&the_stack);
	n = stack_wait_workers(&the_stack, master, w, MAX_WORKERS, WAIT_S);
	snprintf(log, sizeof(log), "%s/chatd.log", the_stack.dir);
	log_from = file_size(log);
	locker = lock_chat(chat);

	start_load(&l, "term");
	probe_start(&p, chat, a, key);
	blocked = wait_sql(waiting_sql, 1, WAIT_S) && !atomic_load(&p.done);
	n = proc_children(master, w, MAX_WORKERS);
	term_at = load_now(&l);
	kill(master, SIGTERM);

	/* The lock goes a second later; the master goes once its workers
	 * have, never before them. */
	deadline = now_seconds() + GRACE_S + WAIT_S;
	while (now_seconds() < deadline) {
		bool master_gone;
		int alive = 0;

		if (locker > 0 && load_now(&l) >= term_at + 1.0) {
			unlocked = unlock_chat(locker);
			locker = 0;
		}
		master_gone = proc_exited(master);
		for (k = 0; k < n; k++)
			alive += !proc_exited(w[k]);
		if (alive == 0 && t_workers_gone < 0)
			t_workers_gone = load_now(&l);
		if (master_gone) {
			t_master_gone = load_now(&l);
			alive_at_master_exit = alive;
			break;
		}
		sleep_ms(1);
	}
	if (locker > 0)
		unlocked = unlock_chat(locker);
	/* The load runs on against the stopped chatd for a moment. */
	sleep_ms(500);
	load_stop(&l);
	pthread_join(p.th, NULL);
	snprintf(sock, sizeof(sock), "%s/chatd.sock", the_stack.dir);
	nleft = procs_with_cmdline(sock, left, 8);

	print_message("SIGTERM at %.3f s; the probe waiting for its lock "
		      "answered %ld after %.2f s; workers gone at %.3f s, "
		      "master at %.3f s\n", term_at, p.status, p.t_end - p.t_start,
		      t_workers_gone, t_master_gone);
	check_stored(&l, "SIGTERM to the master", &s);
	for (i = 0; i < s.sent; i++) {
		const struct load_rec *r = load_rec(&l, i);

		if (r->status == 201 && r->t_start < term_at &&
		    r->t_end > term_at)
			acked_across++;
		if (r->status == 502 && r->t_end - r->t_start > slowest_502)
			slowest_502 = r->t_end - r->t_start;
	}
	print_message("  acknowledged across the SIGTERM (sent before, "
		      "answered after): %ld; the slowest 502 took %.3f s\n",
		      acked_across, slowest_502);

	if (!blocked)
		fail_msg_at("the probe request never waited for the lock");
	if (!unlocked)
		fail_msg_at("could not release the lock");
	if (p.status != 201)
		fail_msg_at("the request in hand at the stop answered %ld (%s), "
			    "want 201", p.status, p.what);
	assert_int_equal(stored_with_key(key, stored_id), 1);
	assert_string_equal(stored_id, p.id);
	no_record(&l, term_failed_unexpectedly, "requests that failed other "
		  "than with 502 {unavailable} + Retry-After after the stop");
	no_record(&l, failed_but_stored, "requests whose message was stored "
		  "but whose answer was lost (cut short)");
	if (t_master_gone < 0)
		fail_msg_at("master %ld still running %.0f s after SIGTERM",
			    (long)master, GRACE_S + WAIT_S);
	if (alive_at_master_exit != 0)
		fail_msg_at("%d workers outlived the master",
			    alive_at_master_exit);
	if (nleft != 0)
		fail_msg_at("%d chatd processes left running (pid %ld)", nleft,
			    (long)left[0]);
	tail = file_since(log, log_from);
	if (strstr(tail, "killed by signal") != NULL ||
	    strstr(tail, "master stopped") == NULL) {
		fprintf(stderr, "chatd.log since the SIGTERM:\n%s\n", tail);
		free(tail);
		fail_msg_at("chatd.log does not show a clean stop");
	}
	free(tail);
	load_free(&l);

	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
}

/* ---- 3. PostgreSQL stopped and started again -------------------------------- */

static double db_gone_at, db_back_at;

static bool db_stop_bad_answer(const struct load_rec *r)
{
	return r->t_end - r->t_start >= ANSWER_MAX_S ||
	       (r->status != 201 && !is_unavailable(r, 503));
}

static bool late_failure(const struct load_rec *r)
{
	return r->t_start >= db_back_at + DB_BACK_S && r->status != 201;
}

static void test_postgres_stopped_under_load(void **state)
{
	pid_t master, before[MAX_WORKERS], after[MAX_WORKERS];
	double t_stop, t_start_pg, first_ok = -1, slowest = 0;
	long i, away_503 = 0, away_201 = 0, late_ok = 0;
	struct load_summary s;
	struct load l;
	int n, m, k, rc_stop, rc_start;

	(void)state;
	ensure_running();
	setup_load_chats();
	master = stack_master_pid(&the_stack);
	n = stack_wait_workers(&the_stack, master, before, MAX_WORKERS, WAIT_S);

	start_load(&l, "pgstop");
	t_stop = load_now(&l);
	rc_stop = stack_script(&the_stack, "pg-stop");
	db_gone_at = load_now(&l);
	sleep_ms(DB_AWAY_MS);
	t_start_pg = load_now(&l);
	rc_start = stack_script(&the_stack, "pg-start");
	db_back_at = load_now(&l);
	while (load_now(&l) < db_back_at + DB_BACK_S + 2.0)
		sleep_ms(10);
	load_stop(&l);
	m = proc_children(master, after, MAX_WORKERS);

	if (rc_start != 0) {
		stack_dump_logs(&the_stack);
		fail_msg_at("contrib/stack pg-start failed");
	}
	for (i = 0; i < load_sent(&l); i++) {
		const struct load_rec *r = load_rec(&l, i);

		if (r->t_end - r->t_start > slowest)
			slowest = r->t_end - r->t_start;
		if (r->t_start >= db_gone_at && r->t_end <= t_start_pg) {
			away_503 += r->status == 503;
			away_201 += r->status == 201;
		}
		if (r->status == 201 && r->t_start >= db_back_at &&
		    (first_ok < 0 || r->t_end < first_ok))
			first_ok = r->t_end;
		if (r->t_start >= db_back_at + DB_BACK_S)
			late_ok += r->status == 201;
	}
	print_message("pg-stop from %.3f s to %.3f s, pg-start from %.3f s to "
		      "%.3f s; while away: %ld answered 503, %ld 201; first 201 "
		      "%.0f ms after the database was back; slowest answer "
		      "%.3f s\n", t_stop, db_gone_at, t_start_pg, db_back_at,
		      away_503, away_201,
		      first_ok >= 0 ? (first_ok - db_back_at) * 1000 : -1.0,
		      slowest);
	check_stored(&l, "PostgreSQL stopped (fast) and started", &s);

	assert_int_equal(rc_stop, 0);
	no_record(&l, db_stop_bad_answer, "answers other than 201 or 503 "
		  "{unavailable} + Retry-After, or slower than 5 s");
	if (away_503 == 0 || away_201 != 0)
		fail_msg_at("while the database was away %ld requests answered "
			    "503 and %ld 201", away_503, away_201);
	no_record(&l, late_failure, "requests failing 2 s after the "
		  "database was back");
	assert_true(late_ok > 0);
	/* No worker exited over it. */
	assert_int_equal(stack_master_pid(&the_stack), master);
	assert_int_equal(m, n);
	for (k = 0; k < m; k++)
		if (!pid_in(after[k], before, n))
			fail_msg_at("worker %ld is new: a worker exited while the "
				    "database was away", (long)after[k]);
	load_free(&l);
}

/* ---- 4. PostgreSQL killed; retries with the same keys ----------------------- */

static void test_postgres_killed_then_retries(void **state)
{
	struct load_summary s, s2;
	struct load l;
	double t_kill;
	long i, retried = 0, replayed = 0, not_201 = 0, attempts_total = 0;
	long bad_replay = 0;
	int rc;

	(void)state;
	ensure_running();
	setup_load_chats();
	start_load(&l, "pgkill");
	t_kill = load_now(&l);
	rc = stack_script(&the_stack, "pg-kill");
	sleep_ms(1000);
	load_stop(&l);
	print_message("PostgreSQL killed (immediate shutdown) at %.3f s; load "
		      "stopped at %.3f s\n", t_kill, load_now(&l));
	assert_int_equal(rc, 0);
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");

	/* Every acknowledged message survived the crash. */
	check_stored(&l, "PostgreSQL killed, before the retries", &s);
	assert_true(s.failed > 0);
	/* The database being gone is no internal error: 503, promptly. */
	no_record(&l, db_stop_bad_answer, "answers other than 201 or 503 "
		  "{unavailable} + Retry-After, or slower than 5 s");

	/* A client retries what was not acknowledged, with the same keys. */
	for (i = 0; i < s.sent; i++) {
		struct load_rec *r = &l.recs[i];
		char id[ID_LEN];
		int attempts;
		long st;

		if (r->status == 201)
			continue;
		st = load_resend(&l, i, WAIT_S, id, &attempts);
		retried++;
		attempts_total += attempts;
		if (st != 201) {
			not_201++;
			continue;
		}
		if (r->db_count > 0) {
			/* Stored before the crash: the retry is a replay. */
			replayed++;
			if (strcmp(id, r->db_id) != 0)
				bad_replay++;
		}
		r->status = 201;
		snprintf(r->id, sizeof(r->id), "%s", id);
	}
	print_message("retried %ld unacknowledged requests (%ld sends); %ld of "
		      "them had been stored before the crash and were answered "
		      "with their earlier id\n", retried, attempts_total,
		      replayed);
	check_stored(&l, "PostgreSQL killed, after the retries", &s2);
	if (not_201 != 0)
		fail_msg_at("%ld retries never got 201", not_201);
	if (bad_replay != 0)
		fail_msg_at("%ld retries of stored messages answered another id",
			    bad_replay);
	/* Exactly once: every request's message is stored, once. */
	assert_int_equal(s2.acknowledged, s2.sent);
	assert_int_equal(s2.found, s2.sent);
	assert_int_equal(s2.duplicated, 0);
	load_free(&l);
}

/* ---- 5a. a query that would run long ---------------------------------------- */

/* True if `chatd --help` mentions `flag`. */
static bool chatd_has_flag(const char *flag)
{
	char cmd[PATH_MAX + 32], line[512];
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1", getenv("CHATD_BIN"));
	f = popen(cmd, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, flag) != NULL)
			found = true;
	pclose(f);
	return found;
}

/* Load requests must all succeed, and quickly, while one worker is held
 * (or, with one worker, while clients are slow). */
static bool slow_or_failed(const struct load_rec *r)
{
	return r->status != 201 || r->t_end - r->t_start >= LOAD_ANSWER_MAX_S;
}

static double slowest_answer(const struct load *l)
{
	double slowest = 0;
	long i;

	for (i = 0; i < load_sent(l); i++) {
		const struct load_rec *r = load_rec(l, i);

		if (r != NULL && r->t_end - r->t_start > slowest)
			slowest = r->t_end - r->t_start;
	}
	return slowest;
}

static void test_long_query_is_cut_off(void **state)
{
	char a[ID_LEN], locked[ID_LEN], key[64], id[ID_LEN];
	const char *env = getenv("CHATD_STATEMENT_TIMEOUT");
	double timeout_s = (env != NULL && *env) ? atof(env) / 1000 : 5.0;
	double waited, deadline;
	pid_t master, before[MAX_WORKERS], after[MAX_WORKERS], locker;
	struct load_summary s;
	struct probe p;
	struct load l;
	int n, m, k;
	bool blocked, unlocked;

	(void)state;
	if (!chatd_has_flag("--statement-timeout")) {
		print_message("SKIPPED: this chatd has no --statement-timeout\n");
		skip();
	}
	assert_true(timeout_s > 0);
	ensure_running();
	setup_load_chats();
	master = stack_master_pid(&the_stack);
	n = stack_wait_workers(&the_stack, master, before, MAX_WORKERS, WAIT_S);
	must_user("longq", a);
	must_chat("longqlocked", (const char *[]){ a }, 1, locked);
	uniq_name(key, sizeof(key), "longq");

	/* messages/add on a chat locked from psql waits in a worker until
	 * the statement timeout cancels it; the load on the other chats is
	 * served meanwhile by the other workers. */
	locker = lock_chat(locked);
	start_load(&l, "longq");
	probe_start(&p, locked, a, key);
	blocked = wait_sql(waiting_sql, 1, WAIT_S);
	deadline = now_seconds() + timeout_s + WAIT_S;
	while (!atomic_load(&p.done) && now_seconds() < deadline)
		sleep_ms(10);
	load_stop(&l);
	pthread_join(p.th, NULL);
	unlocked = unlock_chat(locker);
	waited = p.t_end - p.t_start;
	m = proc_children(master, after, MAX_WORKERS);

	print_message("messages/add on the locked chat answered %ld (%s%s) "
		      "after %.2f s; statement timeout %.1f s; slowest answer "
		      "to the load meanwhile %.3f s\n", p.status, p.what,
		      p.retry_after ? ", Retry-After" : "", waited, timeout_s,
		      slowest_answer(&l));
	check_stored(&l, "a chat locked, the load on others", &s);
	if (!blocked)
		fail_msg_at("the request never waited for the lock");
	if (!unlocked)
		fail_msg_at("could not release the lock");
	if (p.status != 503 || strcmp(p.what, "unavailable") != 0 ||
	    !p.retry_after)
		fail_msg_at("the blocked request answered %ld (%s), want 503 "
			    "{unavailable} with Retry-After", p.status, p.what);
	if (waited < timeout_s * 0.9 || waited > timeout_s + 3.0)
		fail_msg_at("the blocked request answered after %.2f s; the "
			    "statement timeout is %.1f s", waited, timeout_s);
	no_record(&l, slow_or_failed, "load requests on other chats that "
		  "failed or took 2 s or more while a chat was locked");
	/* Nothing of the cancelled request was stored; a retry is. */
	assert_int_equal(stored_with_key(key, NULL), 0);
	assert_int_equal(api_message_add(locked, a, "after the lock", key, id),
			 201);
	assert_int_equal(stored_with_key(key, NULL), 1);
	/* No worker was lost over it. */
	assert_int_equal(m, n);
	for (k = 0; k < m; k++)
		assert_true(pid_in(after[k], before, n));
	load_free(&l);
}

/* ---- 5b. a slow client ------------------------------------------------------- */

/* nginx's client_body_timeout in the shipped server block, in seconds
 * (nginx's default, 60 s, when it is not set). */
static double configured_body_timeout(void)
{
	char path[PATH_MAX], line[512];
	double v = 60;
	FILE *f;

	snprintf(path, sizeof(path), "%s/nginx/chatd.conf",
		 getenv("CHATD_SRCDIR"));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line + strspn(line, " \t"), unit = 's';

		if (strncmp(p, "client_body_timeout", 19) == 0 &&
		    sscanf(p + 19, " %lf%c", &v, &unit) >= 1 && unit == 'm')
			v *= 60;
	}
	fclose(f);
	return v;
}

/* A client that sends a request's body a byte at a time. */
struct slow {
	const char *what;
	int fd;
	char head[512], body[256];
	size_t body_len, sent, stop_after;	/* bytes of body to send */
	double next_at, last_byte_at, closed_at;
	char got[4096];
	size_t got_len;
};

static void slow_open(struct slow *c, const char *what, const char *path,
		      const char *extra_header, const char *body,
		      size_t stop_after)
{
	struct sockaddr_in sa;

	memset(c, 0, sizeof(*c));
	c->what = what;
	snprintf(c->body, sizeof(c->body), "%s", body);
	c->body_len = strlen(c->body);
	c->stop_after = stop_after < c->body_len ? stop_after : c->body_len;
	snprintf(c->head, sizeof(c->head), "POST %s HTTP/1.1\r\nHost: "
		 "127.0.0.1\r\nContent-Type: application/json\r\n%s%s"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", path,
		 extra_header ? extra_header : "", extra_header ? "\r\n" : "",
		 c->body_len);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)the_stack.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(c->fd, c->head, strlen(c->head), MSG_NOSIGNAL),
			 (ssize_t)strlen(c->head));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->next_at = now_seconds() + 1;
	c->closed_at = -1;
}

/* Send the next byte when it is due; read what came.  True while open. */
static bool slow_step(struct slow *c)
{
	double now = now_seconds();
	ssize_t got;

	if (c->fd < 0)
		return false;
	if (c->sent < c->stop_after && now >= c->next_at) {
		if (send(c->fd, c->body + c->sent, 1, MSG_NOSIGNAL) == 1) {
			c->sent++;
			c->last_byte_at = now;
		}
		c->next_at = now + 1;
	}
	for (;;) {
		if (c->got_len + 1 >= sizeof(c->got)) {
			char sink[1024];

			got = recv(c->fd, sink, sizeof(sink), 0);
		} else {
			got = recv(c->fd, c->got + c->got_len,
				   sizeof(c->got) - 1 - c->got_len, 0);
			if (got > 0)
				c->got_len += (size_t)got;
		}
		if (got > 0)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				errno == EINTR))
			return true;
		/* EOF or reset: nginx is done with us. */
		c->got[c->got_len] = '\0';
		c->closed_at = now;
		close(c->fd);
		c->fd = -1;
		return false;
	}
}

/* The status of the response in c->got, or 0 when there is none. */
static long slow_status(const struct slow *c)
{
	long st = 0;

	if (sscanf(c->got, "HTTP/1.%*d %ld", &st) != 1)
		return 0;
	return st;
}

static void test_slow_client_does_not_pin_worker(void **state)
{
	char a[ID_LEN], chat[ID_LEN], key[64], hdr[96];
	char body_steady[64], body_stalled[256], access[128], *tail;
	double body_timeout = configured_body_timeout(), stall_for, deadline;
	pid_t master, before[MAX_WORKERS], after[MAX_WORKERS];
	struct load_summary s;
	struct slow steady, stalled;
	struct load l;
	long access_from;
	int m;
	bool saw_408;

	(void)state;
	/* One worker: were it pinned, everything would stop. */
	the_stack.workers = 1;
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
	setup_load_chats();
	master = stack_master_pid(&the_stack);
	stack_wait_workers(&the_stack, master, before, MAX_WORKERS, WAIT_S);
	must_user("slow", a);
	must_chat("slow", (const char *[]){ a }, 1, chat);
	uniq_name(key, sizeof(key), "slowbody");
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	snprintf(body_steady, sizeof(body_steady), "{\"user\":%s}", a);
	snprintf(body_stalled, sizeof(body_stalled), "{\"chat\": \"%s\", "
		 "\"author\": \"%s\", \"text\": \"never finished\"}", chat, a);
	snprintf(access, sizeof(access), "%s/nginx-access.log", the_stack.dir);
	access_from = file_size(access);

	/* One client sends a whole (small) body a byte a second; another
	 * sends three bytes of its body and then nothing.  The load goes on
	 * meanwhile, all of it through the one worker. */
	start_load(&l, "slow");
	slow_open(&steady, "steady", "/chats/get", NULL, body_steady,
		  strlen(body_steady));
	slow_open(&stalled, "stalled", "/messages/add", hdr, body_stalled, 3);
	deadline = now_seconds() + (double)strlen(body_steady) + body_timeout +
		   WAIT_S;
	while (now_seconds() < deadline) {
		bool open1 = slow_step(&steady), open2 = slow_step(&stalled);

		if (!open1 && !open2)
			break;
		sleep_ms(10);
	}
	load_stop(&l);
	if (steady.fd >= 0)
		close(steady.fd);
	if (stalled.fd >= 0)
		close(stalled.fd);
	m = proc_children(master, after, MAX_WORKERS);
	stall_for = stalled.closed_at - stalled.last_byte_at;
	/* contrib/stack buffers the access log, flushing it every second. */
	deadline = now_seconds() + ACCESS_LOG_FLUSH_S;
	do {
		tail = file_since(access, access_from);
		saw_408 = strstr(tail, "\"POST /messages/add HTTP/1.1\" 408") !=
			  NULL;
		free(tail);
		if (!saw_408)
			sleep_ms(50);
	} while (!saw_408 && now_seconds() < deadline);

	print_message("steady client: %zu bytes a byte a second, answered "
		      "%ld %.0f ms after its last byte\n", steady.sent,
		      slow_status(&steady),
		      (steady.closed_at - steady.last_byte_at) * 1000);
	print_message("stalled client: %zu of %zu bytes, then silence; nginx "
		      "closed the connection %.2f s after the last byte "
		      "(client_body_timeout %.0f s) with %s%.*s; the access log "
		      "%s 408\n", stalled.sent, stalled.body_len, stall_for,
		      body_timeout, stalled.got_len ? "" : "no response",
		      (int)strcspn(stalled.got, "\r\n"), stalled.got,
		      saw_408 ? "records" : "does not record");
	print_message("slowest answer to the load meanwhile %.3f s\n",
		      slowest_answer(&l));
	check_stored(&l, "slow clients, the load on one worker", &s);

	no_record(&l, slow_or_failed, "load requests that failed or took 2 s "
		  "or more while clients were slow");
	/* The steady client was served once its body was complete. */
	if (steady.sent != steady.body_len || slow_status(&steady) != 200 ||
	    strstr(steady.got, "[{\"id\":") == NULL)
		fail_msg_at("the steady slow client got: %.300s", steady.got);
	/* The stalled one was cut off by nginx after client_body_timeout:
	 * no answer, or a 408, and nothing stored. */
	if (stalled.closed_at < 0)
		fail_msg_at("nginx never closed the stalled connection");
	if (stall_for < body_timeout - 1.0 || stall_for > body_timeout + 5.0)
		fail_msg_at("the stalled client was cut off %.2f s after its "
			    "last byte; client_body_timeout is %.0f s",
			    stall_for, body_timeout);
	if (stalled.got_len != 0 && slow_status(&stalled) != 408)
		fail_msg_at("the stalled client got: %.300s", stalled.got);
	assert_true(saw_408);
	assert_int_equal(stored_with_key(key, NULL), 0);
	/* The one worker was never replaced. */
	assert_int_equal(m, 1);
	assert_int_equal(after[0], before[0]);
	load_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_killed_under_load),
		/* Stops chatd, then restarts the stack. */
		cmocka_unit_test(test_master_stopped_under_load),
		cmocka_unit_test(test_postgres_stopped_under_load),
		/* Restarts the stack. */
		cmocka_unit_test(test_postgres_killed_then_retries),
		cmocka_unit_test(test_long_query_is_cut_off),
		/* Restarts the stack with one worker. */
		cmocka_unit_test(test_slow_client_does_not_pin_worker),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    stack_group_teardown);
}
