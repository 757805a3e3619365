/*
 * test_memory.c - a worker does not grow with the number of requests it
 * has served.
 *
 * The stack runs one worker, so one process takes every request.  Several
 * client threads send it TOTAL_REQUESTS requests that go round a fixed mix
 * of all five endpoints, valid and invalid (every status chatd produces:
 * 200, 201, 400, 403, 404, 405, 409), each checked against the status it
 * must have.  The worker's resident size after the whole run may exceed
 * its size after the first WARMUP_REQUESTS (by which time every kind of
 * request has been served thousands of times and every buffer has reached
 * its working size; under AddressSanitizer its allocator settles only after
 * some 30,000 requests: +700 kB from 10,000 to 40,000, flat after) by at
 * most RSS_GROWTH_MAX_KB.
 *
 * Sizes are read from /proc/PID/status between phases, while the worker is
 * idle.  Threads only count; all assertions run in the main thread.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MEMORY_WORKERS 1
#define CLIENT_THREADS 4
#define WARMUP_REQUESTS 40000L
#define TOTAL_REQUESTS 120000L
/* Sizes are printed after every this many requests. */
#define REPORT_EVERY 20000L
#define RSS_GROWTH_MAX_KB 1024L
/* A bound against a hang, not a timing assertion. */
#define PHASE_MAX_S 600.0

static int group_setup(void **state)
{
	(void)state;
	return stack_start_workers(&the_stack, MEMORY_WORKERS) == 0 ? 0 : -1;
}

/* ---- the data the requests refer to --------------------------------------- */

static struct {
	char member[ID_LEN];	/* of every chat below */
	char second[ID_LEN];	/* of busy and small too */
	char outsider[ID_LEN];	/* of no chat */
	char other1[ID_LEN], other2[ID_LEN];	/* members of new chats */
	char busy[ID_LEN];	/* messages are added here */
	char small[ID_LEN];	/* a few messages, read whole */
	char taken_user[64];	/* a username in use */
	char taken_chat[64];	/* a chat name in use */
	char *long_text;	/* 4096 code points, 2 bytes each */
	char *too_long_text;	/* 4097 */
	char *long_key;		/* a 256-character Idempotency-Key */
	char run[32];		/* makes new names unique to this run */
} d;

static void setup_data(void)
{
	char name[64];
	int i;

	uniq_name(d.taken_user, sizeof(d.taken_user), "memtaken");
	assert_int_equal(api_user_add(d.taken_user, d.member), 201);
	must_user("mem", d.second);
	must_user("mem", d.outsider);
	must_user("mem", d.other1);
	must_user("mem", d.other2);
	uniq_name(d.taken_chat, sizeof(d.taken_chat), "memtakenchat");
	assert_int_equal(api_chat_add(d.taken_chat,
				      (const char *[]){ d.member, d.second }, 2,
				      d.busy), 201);
	must_chat("memsmall", (const char *[]){ d.member, d.second }, 2,
		  d.small);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "small chat message %d "
			 "\"quoted\" \xc3\xa9\xe2\x82\xac", i);
		must_message(d.small, i % 2 ? d.member : d.second, name, NULL);
	}
	d.long_text = str_repeat("\xc3\xa9", 4096);
	d.too_long_text = str_repeat("x", 4097);
	d.long_key = str_repeat("k", 256);
	uniq_name(d.run, sizeof(d.run), "r");
}

/* ---- the mix ----------------------------------------------------------------- */

struct req {
	const char *method, *path;
	char *body;		/* owned */
	size_t len;
	char header[300];	/* "" for none */
};

/* Build request kind `kind` for request number `k` into *r; returns the
 * status it must get.  Kinds cover the five endpoints, valid and not. */
static long build(int kind, long k, struct req *r)
{
	char buf[512];
	const char *body = buf;
	long want;

	r->method = "POST";
	r->header[0] = '\0';
	buf[0] = '\0';
	switch (kind) {
	case 0:
		r->path = "/users/add";
		snprintf(buf, sizeof(buf), "{\"username\": \"mem_%s_%ld\"}",
			 d.run, k);
		want = 201;
		break;
	case 1:
		r->path = "/users/add";
		snprintf(buf, sizeof(buf), "{\"username\": \"%s\"}",
			 d.taken_user);
		want = 409;
		break;
	case 2:
		r->path = "/users/add";
		body = "{\"username\": ";
		want = 400;
		break;
	case 3:
		r->path = "/users/add";
		snprintf(buf, sizeof(buf), "{\"username\": \"%065d\"}", 0);
		want = 400;
		break;
	case 4:
		r->path = "/chats/add";
		snprintf(buf, sizeof(buf), "{\"name\": \"memchat_%s_%ld\", "
			 "\"users\": [\"%s\", %s, \"%s\"], \"extra\": [1, {}]}",
			 d.run, k, d.other1, d.other2, d.other1);
		want = 201;
		break;
	case 5:
		r->path = "/chats/add";
		snprintf(buf, sizeof(buf), "{\"name\": \"memnochat_%s_%ld\", "
			 "\"users\": [\"%s\", \"9223372036854775807\"]}",
			 d.run, k, d.other1);
		want = 404;
		break;
	case 6:
		r->path = "/chats/add";
		snprintf(buf, sizeof(buf), "{\"name\": \"%s\", \"users\": []}",
			 d.taken_chat);
		want = 409;
		break;
	case 7:
		r->path = "/chats/add";
		body = "{\"name\": \"x\", \"users\": \"1\"}";
		want = 400;
		break;
	case 8:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"author\": "
			 "\"%s\", \"text\": \"message %ld \\u00e9\\n\"}", d.busy,
			 d.member, k);
		want = 201;
		break;
	case 9: {
		size_t n = strlen(d.long_text) + 128;

		r->path = "/messages/add";
		r->body = malloc(n);
		if (r->body == NULL)
			abort();
		r->len = (size_t)snprintf(r->body, n, "{\"chat\": %s, "
					  "\"author\": %s, \"text\": \"%s\"}",
					  d.busy, d.second, d.long_text);
		return 201;
	}
	case 10:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"author\": "
			 "\"%s\", \"text\": \"replayed\"}", d.busy, d.member);
		snprintf(r->header, sizeof(r->header),
			 "Idempotency-Key: mem-replay-%s", d.run);
		want = 201;
		break;
	case 11:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"author\": "
			 "\"%s\", \"text\": \"not a member\"}", d.busy,
			 d.outsider);
		want = 403;
		break;
	case 12:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"9223372036854775806\", "
			 "\"author\": \"%s\", \"text\": \"no chat\"}", d.member);
		want = 404;
		break;
	case 13: {
		size_t n = strlen(d.too_long_text) + 128;

		r->path = "/messages/add";
		r->body = malloc(n);
		if (r->body == NULL)
			abort();
		r->len = (size_t)snprintf(r->body, n, "{\"chat\": \"%s\", "
					  "\"author\": \"%s\", \"text\": \"%s\"}",
					  d.busy, d.member, d.too_long_text);
		return 400;
	}
	case 14:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"author\": "
			 "\"%s\", \"text\": \"bad \xc3\x28 utf-8\"}", d.busy,
			 d.member);
		want = 400;
		break;
	case 15:
		r->path = "/messages/add";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"author\": "
			 "\"%s\", \"text\": \"long key\"}", d.busy, d.member);
		snprintf(r->header, sizeof(r->header), "Idempotency-Key: %s",
			 d.long_key);
		want = 400;
		break;
	case 16:
		r->path = "/chats/get";
		snprintf(buf, sizeof(buf), "{\"user\": \"%s\"}", d.member);
		want = 200;
		break;
	case 17:
		r->path = "/chats/get";
		body = "{\"user\": 9223372036854775807}";
		want = 404;
		break;
	case 18:
		r->path = "/chats/get";
		body = "{\"user\": \"abc\"}";
		want = 400;
		break;
	case 19:
		r->path = "/messages/get";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\"}", d.small);
		want = 200;
		break;
	case 20:
		r->path = "/messages/get";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"limit\": 10, "
			 "\"before\": \"9223372036854775807\"}", d.busy);
		want = 200;
		break;
	case 21:
		r->path = "/messages/get";
		snprintf(buf, sizeof(buf), "{\"chat\": %s, \"limit\": 10, "
			 "\"after\": \"%ld\"}", d.busy, k / 4);
		want = 200;
		break;
	case 22:
		r->path = "/messages/get";
		body = "{\"chat\": \"9223372036854775807\"}";
		want = 404;
		break;
	case 23:
		r->path = "/messages/get";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"limit\": 0}",
			 d.busy);
		want = 400;
		break;
	case 24:
		r->method = "GET";
		r->path = "/chats/get";
		body = NULL;
		want = 405;
		break;
	case 25:
		r->path = "/messages/get";
		snprintf(buf, sizeof(buf), "{\"chat\": \"%s\", \"chat\": \"%s\"}",
			 d.small, d.small);
		want = 400;
		break;
	case 26:
		r->path = "/users/add";
		body = "[\"username\", \"x\"]";
		want = 400;
		break;
	default:
		r->path = "/chats/add";
		body = "";
		want = 400;
		break;
	}
	if (body == NULL) {
		r->body = NULL;
		r->len = 0;
	} else {
		r->len = strlen(body);
		r->body = malloc(r->len + 1);
		if (r->body == NULL)
			abort();
		memcpy(r->body, body, r->len + 1);
	}
	return want;
}

#define KINDS 28

/* ---- the clients ----------------------------------------------------------------- */

struct phase {
	long from, to;			/* request numbers [from, to) */
	atomic_long next;
	atomic_long wrong;		/* answered another status */
	atomic_flag first_taken;
	char first_wrong[600];
	long per_kind[KINDS];		/* filled by the main thread */
};

struct client {
	struct phase *ph;
	pthread_t th;
};

static void *client_thread(void *arg)
{
	struct phase *ph = ((struct client *)arg)->ph;
	long k;

	while ((k = atomic_fetch_add(&ph->next, 1)) < ph->to) {
		int kind = (int)(k % KINDS);
		struct http_reply reply;
		struct req r;
		long want = build(kind, k, &r);

		http_request(r.method, r.path, r.body, r.len,
			     r.header[0] ? r.header : NULL, &reply);
		if (reply.status != want) {
			atomic_fetch_add(&ph->wrong, 1);
			if (!atomic_flag_test_and_set(&ph->first_taken))
				snprintf(ph->first_wrong, sizeof(ph->first_wrong),
					 "request %ld (kind %d) %s %s %.120s: "
					 "status %ld, want %ld; %.200s%s", k,
					 kind, r.method, r.path,
					 r.body ? r.body : "", reply.status,
					 want, reply.body ? reply.body : "",
					 reply.error);
		}
		http_reply_free(&reply);
		free(r.body);
	}
	http_thread_done();
	return NULL;
}

/* Send requests [from, to) from CLIENT_THREADS threads; asserts that each
 * got its status. */
static void run_phase(long from, long to)
{
	struct client c[CLIENT_THREADS];
	struct phase ph;
	double t0 = now_seconds();
	int i;

	memset(&ph, 0, sizeof(ph));
	ph.from = from;
	ph.to = to;
	atomic_init(&ph.next, from);
	atomic_init(&ph.wrong, 0);
	atomic_flag_clear(&ph.first_taken);
	for (i = 0; i < CLIENT_THREADS; i++) {
		c[i].ph = &ph;
		assert_int_equal(pthread_create(&c[i].th, NULL, client_thread,
						&c[i]), 0);
	}
	for (i = 0; i < CLIENT_THREADS; i++)
		pthread_join(c[i].th, NULL);
	if (atomic_load(&ph.wrong) != 0)
		fail_msg_at("%ld of requests %ld..%ld got an unexpected status; "
			    "first: %s", atomic_load(&ph.wrong), from, to - 1,
			    ph.first_wrong);
	if (now_seconds() - t0 > PHASE_MAX_S)
		fail_msg_at("requests %ld..%ld took %.0f s", from, to - 1,
			    now_seconds() - t0);
}

/* ---- the test ---------------------------------------------------------------------- */

struct sizes {
	long long rss, anon, file, hwm, data;
};

static void read_sizes(pid_t pid, struct sizes *s)
{
	s->rss = proc_value(pid, "status", "VmRSS");
	s->anon = proc_value(pid, "status", "RssAnon");
	s->file = proc_value(pid, "status", "RssFile");
	s->hwm = proc_value(pid, "status", "VmHWM");
	s->data = proc_value(pid, "status", "VmData");
	if (s->rss <= 0)
		fail_msg_at("cannot read /proc/%ld/status", (long)pid);
}

static void print_sizes(long served, const struct sizes *s, double secs)
{
	print_message("after %6ld requests (%5.1f s): VmRSS %lld kB (RssAnon "
		      "%lld, RssFile %lld), VmHWM %lld kB, VmData %lld kB\n",
		      served, secs, s->rss, s->anon, s->file, s->hwm, s->data);
}

static void test_worker_memory_is_flat(void **state)
{
	pid_t master, w[4];
	struct sizes warm, now;
	double t0;
	long done;

	(void)state;
	setup_data();
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);
	assert_int_equal(proc_children(master, w, 4), 1);

	t0 = now_seconds();
	run_phase(0, WARMUP_REQUESTS);
	read_sizes(w[0], &warm);
	print_sizes(WARMUP_REQUESTS, &warm, now_seconds() - t0);
	for (done = WARMUP_REQUESTS; done < TOTAL_REQUESTS;) {
		long to = (done / REPORT_EVERY + 1) * REPORT_EVERY;

		if (to > TOTAL_REQUESTS)
			to = TOTAL_REQUESTS;
		run_phase(done, to);
		done = to;
		read_sizes(w[0], &now);
		print_sizes(done, &now, now_seconds() - t0);
	}
	print_message("worker %ld: VmRSS %lld kB after %ld requests, %lld kB "
		      "after %ld: %+lld kB (bound %ld kB)\n", (long)w[0],
		      warm.rss, WARMUP_REQUESTS, now.rss, TOTAL_REQUESTS,
		      now.rss - warm.rss, RSS_GROWTH_MAX_KB);

	/* One process served them all. */
	{
		pid_t after[4];

		assert_int_equal(proc_children(master, after, 4), 1);
		assert_int_equal(after[0], w[0]);
	}
	if (now.rss - warm.rss > RSS_GROWTH_MAX_KB)
		fail_msg_at("worker %ld grew from %lld kB to %lld kB between "
			    "request %ld and request %ld; the bound is %ld kB",
			    (long)w[0], warm.rss, now.rss, WARMUP_REQUESTS,
			    TOTAL_REQUESTS, RSS_GROWTH_MAX_KB);
	free(d.long_text);
	free(d.too_long_text);
	free(d.long_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_memory_is_flat),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    stack_group_teardown);
}
