/*
 * test_events_missed.c - no subscriber misses an event, whatever the
 * streams and the servers do.
 *
 * NWRITERS writer threads post messages into NCHATS shared chats while
 * NSUB subscribers, a third on each transport, all in the main thread's
 * one poll loop, disconnect and reconnect at random moments. A subscriber
 * that (re)connects catches up with POST /events/get after the last id it
 * has; a WebSocket or EventSource does so once its stream is open, and
 * holds the stream's events until then; a long-poll is a doorbell: every
 * answer ends the request, and the subscriber polls again, waits until
 * nchan has registered the new request, then catches up (what was
 * published between two requests is in the database).
 *
 * Rules checked for every subscriber: an event id is either larger than
 * every id it had (a new one, in order) or one it already had (a
 * duplicate: the relay republishes after a restart); anything else is a
 * gap. At the end of each phase, once the relay has published everything,
 * its ids are exactly the database's for that user (events/get from "0").
 * Presence events are left aside (rt.h): the streams' opens and closes
 * make them, during the convergence too.
 *
 * Phases, each followed by that convergence: random disconnects alone;
 * the relay killed with SIGKILL (the master starts another, which
 * republishes from its recorded position); nginx reloaded with SIGHUP
 * (nchan's memory store is lost, the streams end); PostgreSQL stopped and
 * started again (contrib/stack pg-stop, pg-start). The figures of each
 * phase are printed.
 */
#include "rt.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define NSUB 50
#define NWRITERS 8
#define NCHATS 4
#define PER_WRITER 50
/* A random disconnect: per subscriber and loop turn, in 10,000; per
 * event received, in 100. */
#define CHAOS_PER_10K 20
#define CHAOS_PER_EVENT 3
/* Hang guards of a phase's end, not timings. */
#define CONVERGE_S 60.0

struct sub {
	struct rt_user u;
	enum stream_kind kind;
	bool cookie;
	struct stream *s;
	bool need_catchup;
	double retry_at;        /* no stream: connect again from then */
	long long *ids;         /* ids had, growing */
	size_t n, cap;
	unsigned long dups, gaps, reconnects, doorbells, refused;
	long long gap_id;       /* the first id out of order */
};

static struct sub subs[NSUB];
static struct rt_user writers[NWRITERS];
static char chats[NCHATS][ID_LEN];
static atomic_int written, write_retries;
static unsigned seed;

/* ---- writers (threads: no assertions) ---------------------------------- */

static void *writer_main(void *arg)
{
	const struct rt_user *w = arg;
	unsigned r = seed ^ (unsigned)(uintptr_t)arg;
	int i, tries;

	for (i = 0; i < PER_WRITER; i++) {
		char body[160];

		snprintf(body, sizeof body, "{\"chat\":\"%s\",\"text\":\"w%s m%d\"}",
		    chats[rand_r(&r) % NCHATS], w->id, i);
		for (tries = 0; tries < 600; tries++) {
			struct http_reply rep = {0};
			long st = rt_post(w, "/messages/add", body, &rep);

			http_reply_free(&rep);
			if (st == 201)
				break;
			atomic_fetch_add(&write_retries, 1);
			sleep_ms(50);
		}
		atomic_fetch_add(&written, 1);
		sleep_ms(rand_r(&r) % 50);
	}
	http_thread_done();
	return NULL;
}

/* ---- a subscriber ---------------------------------------------------- */

static long long id_of(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

static bool has_id(const struct sub *x, long long id)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (x->ids[mid] == id)
			return true;
		if (x->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void add_id(struct sub *x, long long id)
{
	if (x->n && id <= x->ids[x->n - 1]) {
		if (has_id(x, id)) {
			x->dups++;
		} else if (!x->gaps++) {
			x->gap_id = id;
		}
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 256;
		x->ids = realloc(x->ids, x->cap * sizeof *x->ids);
		assert_non_null(x->ids);
	}
	x->ids[x->n++] = id;
}

static bool catch_up(struct sub *x)
{
	char after[ID_LEN];
	json_t *evs, *e;
	size_t i;
	long st;

	snprintf(after, sizeof after, "%lld", x->n ? x->ids[x->n - 1] : 0LL);
	evs = rt_without_presence(rt_events_get(&x->u, after, &st));
	if (!evs)
		return false;
	json_array_foreach(evs, i, e)
		add_id(x, id_of(json_string_value(json_object_get(e, "id"))));
	json_decref(evs);
	return true;
}

static void sub_connect(struct sub *x)
{
	x->s = rt_stream_new(&the_stack, &x->u, x->kind, x->cookie, NULL);
	x->need_catchup = true;
	if (stream_connect(x->s, "127.0.0.1", the_stack.port) < 0) {
		stream_free(x->s);
		x->s = NULL;
		x->retry_at = now_seconds() + 0.1;
	}
}

/* End the stream; connect again after `delay` seconds. */
static void sub_drop(struct sub *x, double delay)
{
	stream_free(x->s);
	x->s = NULL;
	x->retry_at = now_seconds() + delay;
	/* so that the next request's registration is not this one's */
	if (x->kind == STREAM_POLL)
		rt_wait_unsubscribed(&the_stack, &x->u);
}

/* One turn of the loop for x, after poll (revents of its fd, or 0). */
static void sub_turn(struct sub *x, short revents, bool chaos)
{
	struct stream_event ev;

	if (!x->s) {
		if (now_seconds() >= x->retry_at)
			sub_connect(x);
		return;
	}
	if (revents)
		stream_io(x->s);
	if (x->kind == STREAM_POLL && stream_is_done(x->s)) {
		/* An answer proves the request was registered before it: a
		 * catch-up now misses nothing; the next request gets its own. */
		if (stream_status(x->s) == 200) {
			x->doorbells++;
			if (x->need_catchup)
				catch_up(x);
		} else {
			x->refused++;
		}
		sub_drop(x, stream_status(x->s) == 200 ? 0 : 0.1);
		return;
	}
	if (x->need_catchup) {
		if (x->kind == STREAM_POLL) {
			if (!rt_wait_subscribed(&the_stack, x->u.id, 1, x->s))
				return;  /* answered meanwhile, or nginx away */
		} else if (!stream_is_open(x->s)) {
			if (stream_is_done(x->s)) {  /* 503 while PostgreSQL is away */
				x->refused++;
				sub_drop(x, 0.1);
			}
			return;
		}
		if (!catch_up(x))
			return;  /* again next turn; the stream's events wait */
		x->need_catchup = false;
	}
	while (stream_next(x->s, &ev)) {
		json_t *j = rt_event_json(&ev);
		const char *id = json_string_value(json_object_get(j, "id"));

		if (id && !rt_is_presence(j))
			add_id(x, id_of(id));
		json_decref(j);
		stream_event_free(&ev);
		if (chaos && (unsigned)rand() % 100 < CHAOS_PER_EVENT) {
			x->reconnects++;
			sub_drop(x, (rand() % 100) / 1000.0);
			return;
		}
	}
	if (stream_is_done(x->s)) {
		x->reconnects++;
		sub_drop(x, 0.05);
	} else if (chaos && (unsigned)rand() % 10000 < CHAOS_PER_10K) {
		x->reconnects++;
		sub_drop(x, (rand() % 100) / 1000.0);
	}
}

/* One poll over every subscriber with a stream, then a turn of each. */
static void loop_turn(bool chaos)
{
	static struct pollfd pfd[NSUB];
	int i;

	for (i = 0; i < NSUB; i++) {
		pfd[i].fd = subs[i].s ? stream_fd(subs[i].s) : -1;
		pfd[i].events = subs[i].s ? stream_events(subs[i].s) : 0;
		pfd[i].revents = 0;
	}
	poll(pfd, NSUB, 20);
	for (i = 0; i < NSUB; i++)
		sub_turn(&subs[i], pfd[i].revents, chaos);
}

/* ---- phases ------------------------------------------------------------ */

struct totals {
	unsigned long dups, gaps, reconnects, doorbells, refused;
};

static void totals(struct totals *t)
{
	int i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < NSUB; i++) {
		t->dups += subs[i].dups;
		t->gaps += subs[i].gaps;
		t->reconnects += subs[i].reconnects;
		t->doorbells += subs[i].doorbells;
		t->refused += subs[i].refused;
	}
}

typedef void fault_fn(void);

static void kill_relay(void)
{
	pid_t old = rt_relay_pid(&the_stack), now = -1;
	double end = now_seconds() + RT_WAIT_MS / 1000.0;

	char log[128], want[64], *since;
	long from;

	if (old <= 0)
		fail_msg_at("no relay among the master's children");
	snprintf(log, sizeof log, "%s/chatd.log", the_stack.dir);
	from = file_size(log);
	assert_int_equal(kill(old, SIGKILL), 0);
	while (now_seconds() < end) {
		now = rt_relay_pid(&the_stack);
		if (now > 0 && now != old)
			break;
		loop_turn(true);
	}
	if (now <= 0 || now == old)
		fail_msg_at("the master started no new relay after %d", (int)old);
	/* the process killed was the relay, as the master saw it */
	snprintf(want, sizeof want, "relay %d killed by signal 9", (int)old);
	since = file_since(log, from);
	if (!since || !strstr(since, want))
		fail_msg_at("chatd.log does not say \"%s\"", want);
	free(since);
	print_message("relay %d killed (SIGKILL), relay %d took over\n",
	    (int)old, (int)now);
}

static void reload_nginx(void)
{
	pid_t pid = rt_nginx_pid(&the_stack);

	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGHUP), 0);
	print_message("nginx %d reloaded (SIGHUP)\n", (int)pid);
}

static void restart_postgres(void)
{
	assert_int_equal(stack_script(&the_stack, "pg-stop"), 0);
	/* a little while without the database, with the writers at it */
	{
		double end = now_seconds() + 1.0;

		while (now_seconds() < end)
			loop_turn(true);
	}
	assert_int_equal(stack_script(&the_stack, "pg-start"), 0);
	print_message("PostgreSQL stopped and started again\n");
}

static void run_phase(const char *name, fault_fn *fault)
{
	pthread_t th[NWRITERS];
	struct totals before, after;
	json_t *db[NSUB];
	static unsigned long dbprev;
	unsigned long dbtotal = 0, missed = 0, stalled = 0;
	double end;
	int i, base = atomic_load(&written), retries0 = atomic_load(&write_retries);
	bool faulted = fault == NULL, all;

	totals(&before);
	for (i = 0; i < NWRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &writers[i]), 0);
	while (atomic_load(&written) - base < NWRITERS * PER_WRITER) {
		loop_turn(true);
		if (!faulted && atomic_load(&written) - base >= NWRITERS * PER_WRITER / 3) {
			fault();
			faulted = true;
		}
	}
	for (i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);

	/* Everything written is published: the database is the reference. */
	end = now_seconds() + CONVERGE_S;
	while (!rt_wait_relay_idle(&the_stack, 0.05)) {
		if (now_seconds() > end)
			fail_msg_at("%s: the relay did not publish everything", name);
		loop_turn(false);
	}
	for (i = 0; i < NSUB; i++) {
		long st = 0;

		do {
			db[i] = rt_without_presence(rt_events_get(&subs[i].u,
			    "0", &st));
		} while (!db[i] && now_seconds() < end && (sleep_ms(100), 1));
		if (!db[i])
			fail_msg_at("%s: events/get of subscriber %d: %ld", name, i, st);
		dbtotal += json_array_size(db[i]);
	}
	/* Every subscriber gets there: live, or by a catch-up. A stream that
	 * stays open and gets nothing for CONVERGE_S / 2 is stalled. */
	for (all = false; !all && now_seconds() < end;) {
		loop_turn(false);
		for (all = true, i = 0; i < NSUB; i++)
			all &= subs[i].n == json_array_size(db[i]) && !subs[i].need_catchup;
		if (!all && now_seconds() > end - CONVERGE_S / 2 && !stalled)
			for (i = 0; i < NSUB; i++)
				if (subs[i].n != json_array_size(db[i]) && subs[i].s &&
				    !subs[i].need_catchup) {
					stalled++;
					subs[i].reconnects++;
					sub_drop(&subs[i], 0);
				}
	}
	for (i = 0; i < NSUB; i++) {
		json_t *e;
		size_t k;

		json_array_foreach(db[i], k, e) {
			long long id = id_of(json_string_value(json_object_get(e, "id")));

			if (!has_id(&subs[i], id))
				missed++;
		}
		if (subs[i].gaps)
			fail_msg_at("%s: subscriber %d (%s): id %lld came after a larger "
			    "one it had not had", name, i, stream_kind_name[subs[i].kind],
			    subs[i].gap_id);
		if (subs[i].n != json_array_size(db[i]))
			fail_msg_at("%s: subscriber %d (%s) has %zu events, the database "
			    "%zu", name, i, stream_kind_name[subs[i].kind], subs[i].n,
			    json_array_size(db[i]));
		json_decref(db[i]);
	}
	totals(&after);
	print_message("%s: %d messages written (%d retries), %lu events due to "
	    "%d subscribers, reconnects %lu, long-poll answers %lu, refused "
	    "%lu, missed %lu, duplicates %lu, gaps %lu, stalled %lu\n", name,
	    NWRITERS * PER_WRITER, atomic_load(&write_retries) - retries0,
	    dbtotal - dbprev, NSUB, after.reconnects - before.reconnects,
	    after.doorbells - before.doorbells, after.refused - before.refused,
	    missed, after.dups - before.dups, after.gaps - before.gaps, stalled);
	dbprev = dbtotal;
	assert_int_equal(missed, 0);
	assert_int_equal(stalled, 0);
}

/* ---- tests --------------------------------------------------------------- */

static int group_setup(void **state)
{
	char members[NCHATS][4096], name[64];
	int i, c;

	if (stack_group_setup(state) != 0)
		return -1;
	seed = (unsigned)time(NULL);
	srand(seed);
	fprintf(stderr, "test_events_missed: seed %u\n", seed);
	for (i = 0; i < NWRITERS; i++)
		if (rt_signup("mw", &writers[i]) != 0)
			return -1;
	for (c = 0; c < NCHATS; c++)
		members[c][0] = '\0';
	for (i = 0; i < NSUB; i++) {
		if (rt_signup("ms", &subs[i].u) != 0)
			return -1;
		subs[i].kind = (enum stream_kind)(i % STREAM__MAX);
		subs[i].cookie = i % 2;
		/* two chats each */
		for (c = i % NCHATS; c != (i + 2) % NCHATS; c = (c + 1) % NCHATS)
			snprintf(members[c] + strlen(members[c]),
			    sizeof members[c] - strlen(members[c]), ",\"%s\"", subs[i].u.id);
	}
	for (c = 0; c < NCHATS; c++) {
		static char body[32768];
		struct http_reply r = {0};
		int w;

		uniq_name(name, sizeof name, "shared");
		snprintf(body, sizeof body, "{\"name\":\"%s\",\"users\":[\"%s\"", name,
		    writers[1].id);
		for (w = 2; w < NWRITERS; w++)
			snprintf(body + strlen(body), sizeof body - strlen(body),
			    ",\"%s\"", writers[w].id);
		snprintf(body + strlen(body), sizeof body - strlen(body), "%s]}",
		    members[c]);
		if (rt_post(&writers[0], "/chats/add", body, &r) != 201) {
			fprintf(stderr, "chats/add: %ld %s\n", r.status, r.body);
			return -1;
		}
		snprintf(chats[c], sizeof chats[c], "%s",
		    json_string_value(json_object_get(r.json, "id")));
		http_reply_free(&r);
	}
	return 0;
}

static int group_teardown(void **state)
{
	int i;

	for (i = 0; i < NSUB; i++) {
		stream_free(subs[i].s);
		free(subs[i].ids);
	}
	return stack_group_teardown(state);
}

static void test_random_disconnects(void **state)
{
	(void)state;
	run_phase("random disconnects", NULL);
}

static void test_relay_killed(void **state)
{
	(void)state;
	run_phase("relay killed", kill_relay);
}

/* The reload's old worker may answer the relay's last publishes from a
 * memory store that the streams already on the new workers do not share;
 * the relay publishes its recent events again when nginx ends its
 * connection (src/relay.c, RECENT_MS). Without that, a subscriber or two
 * ended most runs a few events short (or got one after a newer one). */
static void test_nginx_reloaded(void **state)
{
	char log[128], *since;
	long from;

	(void)state;
	snprintf(log, sizeof log, "%s/chatd.log", the_stack.dir);
	from = file_size(log);
	run_phase("nginx reloaded", reload_nginx);
	since = file_since(log, from);
	print_message("the relay %s after the reload\n", since && strstr(since,
	    "publishing again from event") ? "published its recent events again"
	    : "lost no connection");
	free(since);
}

static void test_postgres_restarted(void **state)
{
	(void)state;
	run_phase("PostgreSQL restarted", restart_postgres);
	assert_int_equal(rt_nginx_crashes(&the_stack), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_disconnects),
		cmocka_unit_test(test_relay_killed),
		cmocka_unit_test(test_nginx_reloaded),
		cmocka_unit_test(test_postgres_restarted),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
