/*
 * test_streaming.c - a whole-chat messages/get of a big chat is streamed:
 * the serving worker's memory does not grow with the chat, and a stop of
 * the master lets a stream in flight finish.
 *
 * The big chat (BIG_ROWS messages, some 80 MB of JSON) is written straight
 * into the database with one INSERT ... SELECT generate_series, once per
 * run.  Responses are checked as they arrive, object by object, so the
 * test never holds the whole body or a tree of it.
 *
 * The stack runs STREAM_WORKERS workers: one to serve the stream, one to
 * show that an idle worker leaves at once on a stop while the busy one is
 * still in its request.  The serving worker is told apart by its write
 * counter (/proc/PID/io wchar).
 *
 * Two more tests run on one worker (the stack is restarted with one, its
 * data kept): chats/get of a user in 100,000 chats runs in bounded worker
 * memory, like a chat's messages; and a whole-chat messages/get whose
 * client goes away stops reading from PostgreSQL at once, leaving the
 * worker's connection clean for the next request.
 *
 * Threads only collect results; all assertions run in the main thread.
 */
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#define STREAM_WORKERS 2
#define MAX_WORKERS 16
#define BIG_ROWS 300000L
/* The response must be at least this big for the memory bound to mean
 * something (it is about 80 MB). */
#define BIG_MIN_BYTES (50L * 1000 * 1000)
/* How much a worker may grow while streaming it. */
#define RSS_GROWTH_MAX_KB (8L * 1024)
/* A hang, not a timing assertion. */
#define FETCH_TIMEOUT_S 300L
#define WAIT_S 60.0
/* `contrib/stack` starts chatd with --grace 10. */
#define GRACE_S 10.0
/* How long the serving worker is held while the stop is under way. */
#define HOLD_MS 1000
/* One JSON object of the stream may not be longer than this. */
#define OBJ_MAX (1024 * 1024)


/* The big chat, loaded once (it survives a stack restart). */
static char big_chat[ID_LEN], big_author[ID_LEN];

static int group_setup(void **state)
{
	(void)state;
	/* No relay: the big chat's 300,000 messages and the 100,000 chats
	 * would be as many events to publish, for minutes, and the CPU of
	 * the tests that run beside this one with it; these tests are about
	 * the workers. (test_relay.sh stops a relay with a backlog.) */
	setenv("CHATD_SERVE_ARGS", "--no-relay", 1);
	return stack_start_workers(&the_stack, STREAM_WORKERS) == 0 ? 0 : -1;
}


/* ---- the big chat ---------------------------------------------------------- */

static const char pad[] = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
			  "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
			  "abcdefghijabcdefghij";

/* The text of message number g (1-based) as the INSERT below writes it:
 * characters JSON must escape and multi-byte UTF-8 (é € U+1F600). */
static void expected_text(long g, char *buf, size_t n)
{
	snprintf(buf, n, "big %ld: \"quoted\" back\\slash tab\t"
		 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 %s", g, pad);
}

/* Its created_at: 2026-01-01T00:00:00Z plus g milliseconds. */
static void expected_time(long g, char *buf, size_t n)
{
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 0, .tm_mday = 1 };
	time_t t = timegm(&tm) + g / 1000;
	char date[32];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%06ldZ", date, g % 1000 * 1000);
}

static void load_big_chat(void)
{
	char sql[1024];
	double t0;

	if (big_chat[0] != '\0')
		return;
	must_user("bigauthor", big_author);
	must_chat("bigchat", (const char *[]){ big_author }, 1, big_chat);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO messages (chat_id, author_id, text, created_at) "
		 "SELECT %s, %s, 'big ' || g || ': \"quoted\" back\\slash tab' "
		 "|| chr(9) || chr(233) || chr(8364) || chr(128512) || ' ' "
		 "|| repeat('abcdefghij', 12), "
		 "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 ms' "
		 "FROM generate_series(1, %ld) g ORDER BY g; "
		 "UPDATE chats SET last_message_at = timestamptz "
		 "'2026-01-01 00:00:00+00' + %ld * interval '1 ms' WHERE id = %s",
		 big_chat, big_author, BIG_ROWS, BIG_ROWS, big_chat);
	t0 = now_seconds();
	if (stack_psql(&the_stack, "chatd", sql) != 0) {
		big_chat[0] = '\0';
		fail_msg_at("could not load the big chat");
	}
	print_message("loaded %ld messages into chat %s in %.1f s\n", BIG_ROWS,
		      big_chat, now_seconds() - t0);
}

/* ---- checking a messages/get response as it arrives --------------------- */

enum scan_state { S_BEFORE, S_FIRST, S_OBJECT, S_AFTER, S_NEXT, S_DONE };

/*
 * A push parser for the one shape a messages/get answer has: an array of
 * flat objects.  Each object is cut out of the stream (strings may hold
 * braces and commas, so string state is tracked), parsed with jansson and
 * compared with the message the INSERT wrote at that position.  The first
 * problem is recorded in `why` and the rest of the stream is ignored.
 */
struct scan {
	const char *chat, *author;
	enum scan_state state;
	char *obj;
	size_t obj_len, obj_cap;
	int depth;
	bool in_string, escaped;
	long count;            /* objects checked */
	char last_id[ID_LEN];
	size_t offset;         /* bytes fed so far */
	bool failed;
	char why[600];
};

static void scan_fail(struct scan *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void scan_fail(struct scan *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->failed)
		return;
	s->failed = true;
	n = snprintf(s->why, sizeof(s->why), "at byte %zu, object %ld: ",
		     s->offset, s->count + 1);
	va_start(ap, fmt);
	vsnprintf(s->why + n, sizeof(s->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void scan_check_object(struct scan *s)
{
	char text[512], when[64];
	json_error_t err;
	const char *id, *chat, *author, *t, *at;
	json_t *o;

	o = json_loadb(s->obj, s->obj_len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL || !json_is_object(o)) {
		scan_fail(s, "not a JSON object (%s): %.200s", err.text, s->obj);
		json_decref(o);
		return;
	}
	s->count++;
	id = json_string_value(json_object_get(o, "id"));
	chat = json_string_value(json_object_get(o, "chat"));
	author = json_string_value(json_object_get(o, "author"));
	t = json_string_value(json_object_get(o, "text"));
	at = json_string_value(json_object_get(o, "created_at"));
	expected_text(s->count, text, sizeof(text));
	expected_time(s->count, when, sizeof(when));
	if (json_object_size(o) != 8 || id == NULL || chat == NULL ||
	    author == NULL || t == NULL || at == NULL ||
	    !json_is_null(json_object_get(o, "file")) ||
	    !json_is_null(json_object_get(o, "edited_at")) ||
	    !json_is_string(json_object_get(o, "type")) ||
	    strcmp(json_string_value(json_object_get(o, "type")), "text") != 0)
		scan_fail(s, "want exactly id, chat, author, text, created_at "
			  "as strings, type \"text\", file and edited_at "
			  "null: %.300s", s->obj);
	else if (!is_canonical_id(id))
		scan_fail(s, "id '%s' is not canonical", id);
	else if (s->last_id[0] != '\0' && id_cmp(id, s->last_id) <= 0)
		scan_fail(s, "id %s after id %s: not in id order", id,
			  s->last_id);
	else if (strcmp(chat, s->chat) != 0 || strcmp(author, s->author) != 0)
		scan_fail(s, "chat %s author %s, want chat %s author %s", chat,
			  author, s->chat, s->author);
	else if (strcmp(t, text) != 0)
		scan_fail(s, "text '%.200s', want '%.200s'", t, text);
	else if (strcmp(at, when) != 0)
		scan_fail(s, "created_at %s, want %s", at, when);
	else
		snprintf(s->last_id, sizeof(s->last_id), "%s", id);
	json_decref(o);
}

static void scan_obj_put(struct scan *s, char c)
{
	if (s->obj_len + 2 > s->obj_cap) {
		s->obj_cap = s->obj_cap ? s->obj_cap * 2 : 1024;
		s->obj = realloc(s->obj, s->obj_cap);
		if (s->obj == NULL)
			abort();
	}
	s->obj[s->obj_len++] = c;
	s->obj[s->obj_len] = '\0';
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void scan_feed(struct scan *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !s->failed; i++, s->offset++) {
		char c = p[i];

		switch (s->state) {
		case S_BEFORE:
		case S_FIRST:
		case S_AFTER:
		case S_NEXT:
		case S_DONE:
			if (is_ws(c))
				continue;
			if (s->state == S_BEFORE && c == '[') {
				s->state = S_FIRST;
			} else if ((s->state == S_FIRST || s->state == S_NEXT) &&
				   c == '{') {
				s->state = S_OBJECT;
				s->obj_len = 0;
				s->depth = 1;
				s->in_string = s->escaped = false;
				scan_obj_put(s, c);
			} else if ((s->state == S_FIRST || s->state == S_AFTER) &&
				   c == ']') {
				s->state = S_DONE;
			} else if (s->state == S_AFTER && c == ',') {
				s->state = S_NEXT;
			} else {
				scan_fail(s, "unexpected '%c'", c);
			}
			break;
		case S_OBJECT:
			scan_obj_put(s, c);
			if (s->obj_len > OBJ_MAX) {
				scan_fail(s, "object longer than %d bytes", OBJ_MAX);
			} else if (s->in_string) {
				if (s->escaped)
					s->escaped = false;
				else if (c == '\\')
					s->escaped = true;
				else if (c == '"')
					s->in_string = false;
			} else if (c == '"') {
				s->in_string = true;
			} else if (c == '{' || c == '[') {
				s->depth++;
			} else if ((c == '}' || c == ']') && --s->depth == 0) {
				scan_check_object(s);
				s->state = S_AFTER;
			}
			break;
		}
	}
}

/* ---- one streamed request ------------------------------------------------ */

struct fetch {
	struct scan scan;
	atomic_size_t bytes;   /* body bytes received; read while running */
	atomic_bool done;
	long status;
	char content_type[128];
	char error[CURL_ERROR_SIZE];
	double seconds;
};

static size_t fetch_on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nmemb;

	scan_feed(&f->scan, ptr, n);
	atomic_fetch_add(&f->bytes, n);
	return n;
}

static size_t fetch_on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nmemb, v;

	if (n > 13 && strncasecmp(ptr, "Content-Type:", 13) == 0) {
		for (v = 13; v < n && ptr[v] == ' '; v++)
			;
		snprintf(f->content_type, sizeof(f->content_type), "%.*s",
			 (int)strcspn(ptr + v, "\r\n"), ptr + v);
	}
	return n;
}

static void fetch_init(struct fetch *f, const char *chat, const char *author)
{
	memset(f, 0, sizeof(*f));
	f->scan.chat = chat;
	f->scan.author = author;
	atomic_init(&f->bytes, 0);
	atomic_init(&f->done, false);
}

static void fetch_free(struct fetch *f)
{
	free(f->scan.obj);
	f->scan.obj = NULL;
}

/* POST /messages/get {"chat": chat} (no limit), checking the body as it
 * comes.  Any thread; no assertions. */
static void fetch_run(struct fetch *f)
{
	char url[256], body[128];
	struct curl_slist *hdrs;
	CURLcode rc;
	double t0 = now_seconds();
	CURL *h = curl_easy_init();

	if (h == NULL)
		abort();
	snprintf(url, sizeof(url), "%s/messages/get", the_stack.url);
	snprintf(body, sizeof(body), "{\"chat\": \"%s\"}", f->scan.chat);
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fetch_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->error);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
	else if (f->error[0] == '\0')
		snprintf(f->error, sizeof(f->error), "%s",
			 curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	f->seconds = now_seconds() - t0;
	atomic_store(&f->done, true);
}

static void *fetch_thread(void *arg)
{
	fetch_run(arg);
	return NULL;
}

/* The whole chat arrived: 200, JSON, every message once, in order. */
static void check_complete(const struct fetch *f, const char *what)
{
	size_t bytes = atomic_load(&f->bytes);

	if (f->status != 200)
		fail_msg_at("%s: status %ld (curl: %s) after %zu bytes", what,
			    f->status, f->error[0] ? f->error : "ok", bytes);
	if (!is_json_content_type(f->content_type))
		fail_msg_at("%s: Content-Type '%s'", what, f->content_type);
	if (f->scan.failed)
		fail_msg_at("%s: bad body %s", what, f->scan.why);
	if (f->scan.state != S_DONE)
		fail_msg_at("%s: body cut short after %zu bytes (%ld messages)",
			    what, bytes, f->scan.count);
	if (f->scan.count != BIG_ROWS)
		fail_msg_at("%s: %ld messages, want %ld", what, f->scan.count,
			    BIG_ROWS);
}

/* ---- /proc ------------------------------------------------------------------ */

/* The value of a "Name:   value" line of /proc/PID/FILE, or -1. */
/* Bytes the process has written (to sockets and files alike). */
static long long proc_wchar(pid_t pid)
{
	return proc_value(pid, "io", "wchar");
}

static long long proc_kb(pid_t pid, const char *name)
{
	return proc_value(pid, "status", name);
}

/* Reset VmHWM to the current VmRSS (Linux >= 4.0); false if refused. */
static bool reset_peak_rss(pid_t pid)
{
	char path[64];
	FILE *fp;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%ld/clear_refs", (long)pid);
	fp = fopen(path, "w");
	if (fp == NULL)
		return false;
	ok = fputs("5", fp) >= 0;
	return fclose(fp) == 0 && ok;
}

/* The worker that wrote the most since `before` was taken (the one
 * serving the stream); -1 if none wrote anything. */
static int busiest(const pid_t *w, const long long *before, int n,
		   long long *delta_out)
{
	long long best = 0;
	int i, at = -1;

	for (i = 0; i < n; i++) {
		long long d = proc_wchar(w[i]) - before[i];

		if (before[i] >= 0 && d > best) {
			best = d;
			at = i;
		}
	}
	*delta_out = best;
	return at;
}

/* ---- (a) memory stays flat while a big chat is streamed ----------------- */

static void test_big_chat_streams_in_constant_memory(void **state)
{
	pid_t master, w[MAX_WORKERS];
	long long wchar0[MAX_WORKERS], rss0[MAX_WORKERS], delta;
	long long rss1, hwm1;
	bool peak_reset = true;
	struct fetch f;
	size_t bytes;
	int n, i, at;

	(void)state;
	load_big_chat();
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);
	n = stack_wait_workers(&the_stack, master, w, MAX_WORKERS, WAIT_S);
	for (i = 0; i < n; i++) {
		wchar0[i] = proc_wchar(w[i]);
		if (!reset_peak_rss(w[i]))
			peak_reset = false;
		rss0[i] = proc_kb(w[i], "VmRSS");
		if (wchar0[i] < 0 || rss0[i] <= 0)
			fail_msg_at("cannot read /proc/%ld/io or status",
				    (long)w[i]);
	}
	if (!peak_reset)
		print_message("note: VmHWM could not be reset; the peak below "
			      "covers the worker's whole life\n");

	fetch_init(&f, big_chat, big_author);
	fetch_run(&f);
	bytes = atomic_load(&f.bytes);
	at = busiest(w, wchar0, n, &delta);
	if (at < 0)
		fail_msg_at("no worker wrote anything: did one serve the "
			    "request? (status %ld)", f.status);
	rss1 = proc_kb(w[at], "VmRSS");
	hwm1 = proc_kb(w[at], "VmHWM");
	print_message("streamed %zu bytes, %ld messages in %.2f s from worker "
		      "%ld (wrote %lld bytes)\n", bytes, f.scan.count, f.seconds,
		      (long)w[at], delta);
	print_message("worker VmRSS before %lld kB, after %lld kB, peak "
		      "(VmHWM) %lld kB: growth %lld kB, peak growth %lld kB\n",
		      rss0[at], rss1, hwm1, rss1 - rss0[at], hwm1 - rss0[at]);
	check_complete(&f, "whole big chat");
	fetch_free(&f);
	if (bytes < (size_t)BIG_MIN_BYTES)
		fail_msg_at("the response is %zu bytes; the test needs more than "
			    "%ld to mean anything", bytes, BIG_MIN_BYTES);
	/* The same process served it start to end. */
	assert_false(proc_exited(w[at]));
	assert_true(rss1 > 0 && hwm1 > 0);
	if (rss1 - rss0[at] >= RSS_GROWTH_MAX_KB ||
	    hwm1 - rss0[at] >= RSS_GROWTH_MAX_KB)
		fail_msg_at("worker %ld grew from %lld kB to %lld kB (peak %lld "
			    "kB) streaming %zu bytes; the bound is %ld kB",
			    (long)w[at], rss0[at], rss1, hwm1, bytes,
			    RSS_GROWTH_MAX_KB);
}

/* ---- (b) SIGTERM to the master lets a stream in flight finish ----------- */

static void test_stop_finishes_stream_in_flight(void **state)
{
	char log[128], *tail;
	pid_t master, w[MAX_WORKERS];
	long long wchar0[MAX_WORKERS], written_at_stop = -1;
	double deadline, t_term, stop_s;
	pthread_t th;
	struct fetch f;
	size_t bytes_at_term = 0, bytes;
	long log_from;
	char held[256] = "";
	int n, i, at = -1;
	bool others_gone = true, master_waited = true;

	(void)state;
	load_big_chat();
	master = stack_master_pid(&the_stack);
	assert_true(master > 0);
	n = stack_wait_workers(&the_stack, master, w, MAX_WORKERS, WAIT_S);
	assert_true(n >= 2);
	for (i = 0; i < n; i++)
		wchar0[i] = proc_wchar(w[i]);
	snprintf(log, sizeof(log), "%s/chatd.log", the_stack.dir);
	log_from = file_size(log);

	fetch_init(&f, big_chat, big_author);
	assert_int_equal(pthread_create(&th, NULL, fetch_thread, &f), 0);
	/* The response has started: its first bytes are here. */
	deadline = now_seconds() + WAIT_S;
	while (atomic_load(&f.bytes) == 0 && !atomic_load(&f.done) &&
	       now_seconds() < deadline)
		sleep_ms(1);

	/*
	 * Hold the serving worker (SIGSTOP) while the stop begins, so the
	 * request is certainly in hand, however fast the machine streams.
	 * Nothing here may assert until it runs again.
	 */
	if (atomic_load(&f.bytes) > 0 && !atomic_load(&f.done)) {
		long long d;

		at = busiest(w, wchar0, n, &d);
		if (at >= 0 && kill(w[at], SIGSTOP) == 0) {
			deadline = now_seconds() + WAIT_S;
			while (proc_state(w[at]) != 'T' &&
			       now_seconds() < deadline)
				sleep_ms(1);
			written_at_stop = proc_wchar(w[at]) - wchar0[at];
		} else {
			at = -1;
		}
	}
	t_term = now_seconds();
	bytes_at_term = atomic_load(&f.bytes);
	kill(master, SIGTERM);
	if (at >= 0) {
		/* Idle workers leave; the master waits for the busy one. */
		deadline = now_seconds() + GRACE_S / 2;
		for (;;) {
			others_gone = true;
			for (i = 0; i < n; i++)
				if (i != at && !proc_exited(w[i]))
					others_gone = false;
			if (others_gone || now_seconds() > deadline)
				break;
			sleep_ms(10);
		}
		while (now_seconds() < t_term + HOLD_MS / 1000.0)
			sleep_ms(10);
		master_waited = !proc_exited(master) && proc_state(w[at]) == 'T';
		snprintf(held, sizeof(held), "worker %ld held %.2f s, %lld bytes "
			 "written when stopped", (long)w[at],
			 now_seconds() - t_term, written_at_stop);
		kill(w[at], SIGCONT);
	}
	/*
	 * Then the master and all its workers go.  (nginx buffers the
	 * answer, so they may be gone well before the client has read it.)
	 * At the end of the grace period the master kills what is left and
	 * exits; the bound here only stops a hang.
	 */
	deadline = t_term + GRACE_S + WAIT_S;
	for (;;) {
		bool all = proc_exited(master);

		for (i = 0; i < n; i++)
			all = all && proc_exited(w[i]);
		if (all || now_seconds() > deadline)
			break;
		sleep_ms(10);
	}
	stop_s = now_seconds() - t_term;
	pthread_join(th, NULL);
	bytes = atomic_load(&f.bytes);
	print_message("SIGTERM after %zu of %zu bytes; %s; response took "
		      "%.2f s; everything gone %.2f s after SIGTERM\n",
		      bytes_at_term, bytes, held[0] ? held : "worker not held",
		      f.seconds, stop_s);

	if (at < 0)
		fail_msg_at("could not catch the stream in flight (first bytes "
			    "%zu, done %d)", bytes_at_term,
			    (int)atomic_load(&f.done));
	if (!others_gone)
		fail_msg_at("idle workers did not exit after SIGTERM");
	if (!master_waited)
		fail_msg_at("the master did not wait for the worker in its "
			    "request");
	check_complete(&f, "stream during a stop");
	/* The worker had not written the whole answer when the stop began. */
	if (written_at_stop < 0 || (size_t)written_at_stop >= bytes)
		fail_msg_at("worker had written %lld of %zu bytes when stopped: "
			    "not in flight", written_at_stop, bytes);
	fetch_free(&f);
	if (!proc_exited(master))
		fail_msg_at("master %ld still running %.0f s after SIGTERM",
			    (long)master, stop_s);
	for (i = 0; i < n; i++)
		if (!proc_exited(w[i]))
			fail_msg_at("worker %ld still running %.0f s after "
				    "SIGTERM", (long)w[i], stop_s);
	/* Everything left by itself, within the grace period: nothing was
	 * killed at its end (the master logs every abnormal exit). */
	if (stop_s > GRACE_S + 2.0)
		fail_msg_at("the stop took %.1f s; the grace period is %.0f s",
			    stop_s, GRACE_S);
	tail = file_since(log, log_from);
	if (strstr(tail, "killed by signal") != NULL ||
	    strstr(tail, "stopping: workers finish their requests") == NULL ||
	    strstr(tail, "master stopped") == NULL) {
		fprintf(stderr, "chatd.log since SIGTERM:\n%s\n", tail);
		free(tail);
		fail_msg_at("chatd.log does not show a clean stop");
	}
	free(tail);

	/* Leave a running stack behind; the data is still there. */
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("stack restart failed (logs above)");
	{
		json_t *page;
		struct http_reply r;
		char body[128];

		snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"limit\": 3}",
			 big_chat);
		http_post("/messages/get", body, strlen(body), NULL, &r);
		check_status(&r, 200, "messages/get after the restart");
		page = r.json;
		assert_true(json_is_array(page));
		assert_int_equal(json_array_size(page), 3);
		http_reply_free(&r);
	}
}

/* ---- one worker --------------------------------------------------------- */

/* Restart the stack on its directory with `n` workers unless it has them
 * already (the data survives), so that every request of a test is served
 * by the same, known worker. */
static void use_workers(int n)
{
	if (the_stack.running && the_stack.workers == n)
		return;
	the_stack.workers = n;
	if (stack_restart(&the_stack) != 0)
		fail_msg_at("could not restart the stack with %d worker(s) "
			    "(logs above)", n);
}

/* The one worker of a one-worker stack (fails the test if there is not
 * exactly one). */
static pid_t only_worker(pid_t *master_out)
{
	pid_t master = stack_master_pid(&the_stack), w[MAX_WORKERS];

	assert_true(master > 0);
	assert_int_equal(stack_wait_workers(&the_stack, master, w, MAX_WORKERS,
					    WAIT_S), 1);
	*master_out = master;
	return w[0];
}

/* The lines of `log` after byte `from` that tell of a crash: a worker
 * that exited or was killed outside a stop (the master logs each), a
 * crash loop, an nginx worker lost to a signal, an alert.  NULL when
 * there is none; else a new string (caller frees). */
static char *crash_lines(const char *log, long from)
{
	static const char *const marks[] = {
		"killed by signal", "exited with status", "crash loop",
		"exited on signal", "core dumped", "[alert]", "[emerg]",
		"[crit]",
	};
	char *tail = file_since(log, from), *line, *save = NULL, *out = NULL;
	size_t len = 0, i;

	for (line = strtok_r(tail, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			if (strstr(line, marks[i]) != NULL) {
				size_t l = strlen(line);

				out = realloc(out, len + l + 2);
				if (out == NULL)
					abort();
				memcpy(out + len, line, l);
				len += l;
				out[len++] = '\n';
				out[len] = '\0';
				break;
			}
	free(tail);
	return out;
}

/* ---- (c) chats/get of a user in very many chats: bounded memory ---------- */

/*
 * The chats of one user are streamed like a chat's messages: a worker's
 * memory does not grow with the number of chats.  MANY_CHATS chats with
 * 128-character names (multi-byte UTF-8 and a quote to escape: some 29 MB
 * of JSON) are written with INSERT ... SELECT generate_series; each has the
 * user and one or two others as members.  A third of them have a message
 * (and last_message_at), at times that many chats share, so the order's
 * tie-break by id is exercised; the others are ordered by created_at,
 * which runs in an order unrelated to their ids and which pairs of them
 * share.
 */
#define MANY_CHATS 100000L
/* The response must be at least this big for the memory bound to mean
 * something. */
#define MANY_MIN_BYTES (25L * 1000 * 1000)
/* A streaming worker holds a few rows and its 32 KiB output buffer. */
#define CHATS_GROWTH_MAX_KB (16L * 1024)

/* The user of the many chats, loaded once (it survives a restart). */
static char many_user[ID_LEN];

static void load_many_chats(void)
{
	char other[3][ID_LEN], tag[64], sql[4096], *out;
	double t0;

	if (many_user[0] != '\0')
		return;
	/* Member ids below and above the user's: "users" must be sorted. */
	must_user("manyo1", other[0]);
	must_user("manyuser", many_user);
	must_user("manyo2", other[1]);
	must_user("manyo3", other[2]);
	uniq_name(tag, sizeof(tag), "many");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO chats (name, created_at, last_message_at) "
		 "SELECT rpad('%s ' || g || ' ', 128, 'ab\"cd\u00e9\u20acfgh'), "
		 "timestamptz '2026-03-01 00:00:00+00' "
		 "+ (g * 7919 %% 50000) * interval '1 ms', "
		 "CASE WHEN g %% 3 = 0 THEN timestamptz '2026-04-01 00:00:00+00' "
		 "+ (g %% 997) * interval '1 s' END "
		 "FROM generate_series(1, %ld) g ORDER BY g; "
		 "INSERT INTO chat_members (chat_id, user_id) "
		 "SELECT c.id, u.id FROM chats c, (VALUES (%s::bigint), (%s)) "
		 "u(id) WHERE c.name LIKE '%s %%' "
		 "UNION ALL SELECT c.id, CASE WHEN c.id %% 2 = 0 THEN %s ELSE %s "
		 "END FROM chats c WHERE c.name LIKE '%s %%' AND c.id %% 3 <> 1; "
		 "INSERT INTO messages (chat_id, author_id, text, created_at) "
		 "SELECT id, %s, 'the last word of ' || id, last_message_at "
		 "FROM chats WHERE name LIKE '%s %%' "
		 "AND last_message_at IS NOT NULL ORDER BY id",
		 tag, MANY_CHATS, many_user, other[0], tag, other[1], other[2],
		 tag, many_user, tag);
	t0 = now_seconds();
	if (stack_psql(&the_stack, "chatd", sql) != 0) {
		many_user[0] = '\0';
		fail_msg_at("could not load the many chats");
	}
	/* The statement triggers filled chats.members from chat_members. */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*), count(*) FILTER (WHERE c.members = "
		 "(SELECT array_agg(m.user_id ORDER BY m.user_id) FROM "
		 "chat_members m WHERE m.chat_id = c.id) "
		 "AND %s = ANY (c.members) AND cardinality(c.members) "
		 "BETWEEN 2 AND 3) FROM chats c WHERE c.name LIKE '%s %%'",
		 many_user, tag);
	out = stack_psql_output(&the_stack, sql);
	if (out == NULL)
		fail_msg_at("could not count the many chats");
	{
		long all = -1, synced = -1;

		if (sscanf(out, "%ld|%ld", &all, &synced) != 2 ||
		    all != MANY_CHATS || synced != MANY_CHATS) {
			free(out);
			fail_msg_at("%ld chats loaded, %ld with chats.members "
				    "equal to chat_members; want %ld", all,
				    synced, MANY_CHATS);
		}
	}
	free(out);
	print_message("loaded %ld chats of user %s in %.1f s\n", MANY_CHATS,
		      many_user, now_seconds() - t0);
}

/* "a,b,c" from a JSON array of strings into buf; false if it is not one
 * or does not fit. */
static bool join_ids(json_t *arr, char *buf, size_t n)
{
	size_t i, len = 0;

	if (!json_is_array(arr))
		return false;
	buf[0] = '\0';
	for (i = 0; i < json_array_size(arr); i++) {
		const char *id = json_string_value(json_array_get(arr, i));
		int w;

		if (id == NULL)
			return false;
		w = snprintf(buf + len, n - len, "%s%s", i ? "," : "", id);
		if (w < 0 || (size_t)w >= n - len)
			return false;
		len += (size_t)w;
	}
	return true;
}

/*
 * Item b follows item a in the order of chats/get (API.md): chats with a
 * message first, by last_message_at newest first; then chats without, by
 * created_at newest first; ties by id, higher first.  The times have one
 * fixed width, so they compare as strings.
 */
static bool chats_in_order(json_t *a, json_t *b)
{
	const char *la = json_string_value(json_object_get(a, "last_message_at"));
	const char *lb = json_string_value(json_object_get(b, "last_message_at"));
	const char *ka, *kb;
	int c;

	if (la == NULL && lb != NULL)
		return false;
	if (la != NULL && lb == NULL)
		return true;
	ka = la != NULL ? la : json_string_value(json_object_get(a, "created_at"));
	kb = lb != NULL ? lb : json_string_value(json_object_get(b, "created_at"));
	c = strcmp(ka, kb);
	if (c != 0)
		return c > 0;
	return id_cmp(json_string_value(json_object_get(a, "id")),
		      json_string_value(json_object_get(b, "id"))) > 0;
}

/* The answer lists exactly the chats of many_user, each as the database
 * has it, in the order of the rule; fails the test at the first
 * difference. */
static void check_many_chats(json_t *arr)
{
	char sql[1024], users[128], why[2048] = "", *want, *line, *save = NULL;
	size_t i, n = json_array_size(arr);

	if (n != (size_t)MANY_CHATS)
		fail_msg_at("chats/get listed %zu chats, want %ld", n,
			    MANY_CHATS);
	/* What the database says, in the rule's order written another way. */
	snprintf(sql, sizeof(sql),
		 "SELECT c.id, c.name, (SELECT string_agg(x.user_id::text, ',' "
		 "ORDER BY x.user_id) FROM chat_members x WHERE x.chat_id = c.id), "
		 "to_char(c.created_at AT TIME ZONE 'UTC', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
		 "coalesce(to_char(c.last_message_at AT TIME ZONE 'UTC', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'null') "
		 "FROM chat_members m JOIN chats c ON c.id = m.chat_id "
		 "WHERE m.user_id = %s ORDER BY c.last_message_at IS NULL, "
		 "coalesce(c.last_message_at, c.created_at) DESC, c.id DESC",
		 many_user);
	want = stack_psql_output(&the_stack, sql);
	if (want == NULL)
		fail_msg_at("could not list the chats with psql");
	line = strtok_r(want, "\n", &save);
	for (i = 0; i < n && why[0] == '\0';
	     i++, line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_array_get(arr, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *at = json_string_value(json_object_get(o,
							 "created_at"));
		json_t *last = json_object_get(o, "last_message_at");
		const char *lm = json_string_value(last);
		char got[1024];

		if (!json_is_object(o) || id == NULL || name == NULL ||
		    at == NULL || !join_ids(json_object_get(o, "users"), users,
					    sizeof(users)) ||
		    (lm == NULL && !json_is_null(last))) {
			char *d = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);

			snprintf(why, sizeof(why), "item %zu lacks id, name, "
				 "users, created_at or last_message_at: %.400s",
				 i, d ? d : "?");
			free(d);
		} else if (!is_canonical_id(id) || !is_rfc3339_micro(at) ||
			   (lm != NULL && !is_rfc3339_micro(lm))) {
			snprintf(why, sizeof(why), "item %zu: malformed id or "
				 "time: id %s, created_at %s, last_message_at "
				 "%s", i, id, at, lm ? lm : "null");
		} else if (i > 0 &&
			   !chats_in_order(json_array_get(arr, i - 1), o)) {
			snprintf(why, sizeof(why), "item %zu (chat %s) is out "
				 "of order after chat %s", i, id,
				 json_string_value(json_object_get(
				     json_array_get(arr, i - 1), "id")));
		} else {
			snprintf(got, sizeof(got), "%s|%s|%s|%s|%s", id, name,
				 users, at, lm ? lm : "null");
			if (line == NULL || strcmp(got, line) != 0)
				snprintf(why, sizeof(why), "item %zu is\n  %s\n"
					 "the database has\n  %.700s", i, got,
					 line ? line : "(nothing)");
		}
	}
	free(want);
	if (why[0] != '\0')
		fail_msg_at("chats/get: %s", why);
}

static void test_chats_get_of_many_chats_in_bounded_memory(void **state)
{
	struct http_reply r;
	char body[64];
	long long rss0, rss1, hwm1;
	bool peak_reset;
	double t0, secs;
	pid_t master, w;

	(void)state;
	use_workers(1);
	load_many_chats();
	w = only_worker(&master);
	peak_reset = reset_peak_rss(w);
	rss0 = proc_kb(w, "VmRSS");
	if (rss0 <= 0)
		fail_msg_at("cannot read /proc/%ld/status", (long)w);
	if (!peak_reset)
		print_message("note: VmHWM could not be reset; the peak below "
			      "covers the worker's whole life\n");

	snprintf(body, sizeof(body), "{\"user\": \"%s\"}", many_user);
	t0 = now_seconds();
	http_post("/chats/get", body, strlen(body), NULL, &r);
	secs = now_seconds() - t0;
	rss1 = proc_kb(w, "VmRSS");
	hwm1 = proc_kb(w, "VmHWM");
	print_message("chats/get: %zu bytes, status %ld in %.2f s from worker "
		      "%ld\n", r.body_len, r.status, secs, (long)w);
	print_message("worker VmRSS before %lld kB, after %lld kB, peak "
		      "(VmHWM) %lld kB: growth %lld kB, peak growth %lld kB\n",
		      rss0, rss1, hwm1, rss1 - rss0, hwm1 - rss0);

	/* The answer is right... */
	check_status(&r, 200, "chats/get of a user in many chats");
	if (!is_json_content_type(r.content_type))
		fail_msg_at("chats/get: Content-Type '%s'", r.content_type);
	if (!json_is_array(r.json))
		fail_msg_at("chats/get: %zu bytes that are not a JSON array",
			    r.body_len);
	if (r.body_len < (size_t)MANY_MIN_BYTES)
		fail_msg_at("the response is %zu bytes; the test needs more than "
			    "%ld to mean anything", r.body_len, MANY_MIN_BYTES);
	check_many_chats(r.json);
	/* ...and came from the same process. */
	assert_false(proc_exited(w));
	assert_true(only_worker(&master) == w);
	assert_true(rss1 > 0 && hwm1 > 0);
	/* It did not hold the list: neither the rows nor the JSON. */
	if (hwm1 - rss0 >= CHATS_GROWTH_MAX_KB)
		fail_msg_at("worker %ld grew from %lld kB to a peak of %lld kB "
			    "(+%lld kB) answering %zu bytes of chats/get; the "
			    "bound is %ld kB", (long)w, rss0, hwm1, hwm1 - rss0,
			    r.body_len, CHATS_GROWTH_MAX_KB);
	http_reply_free(&r);
}

/* ---- (d) a client that leaves stops a whole-chat messages/get ------------ */

/*
 * A whole-chat messages/get whose client goes away after the first
 * ABANDON_KEEP bytes: nginx hangs up on the worker, the worker's next write
 * fails, and it must stop reading the chat from PostgreSQL there and leave
 * its connection ready for the next request (no rows of the aborted query
 * left to read, no statement still running).
 *
 * What the worker read from PostgreSQL is not in /proc/PID/io (libpq reads
 * with recv(2), which rchar does not count), nor in PostgreSQL's
 * statistics (a plan that sorts fetches every row before it sends the
 * first).  So the worker's connection is made through a counting relay
 * (pg_tap in the harness) and the bytes PostgreSQL sent it are counted
 * there.
 */
#define ABANDON_KEEP (64 * 1024)
/* "Eventually idle", not a timing assertion. */
#define IDLE_WAIT_S 20.0
#define SMALL_MESSAGES 5

/* Polls pg_stat_activity until no backend of chatd runs a statement.
 * Returns the seconds it took, or -1 after `wait_s` (or if psql failed). */
static double wait_chatd_idle(struct psql_session *ps, double wait_s)
{
	double t0 = now_seconds();
	char out[64];

	for (;;) {
		if (psql_query(ps, "SELECT count(*) FROM pg_stat_activity "
			       "WHERE application_name = 'chatd' AND state "
			       "<> 'idle'", out, sizeof(out)) != 0)
			return -1;
		if (strcmp(out, "0") == 0)
			return now_seconds() - t0;
		if (now_seconds() - t0 > wait_s)
			return -1;
		sleep_ms(20);
	}
}

/* SIGHUP to the master: its one worker is replaced.  Returns the new
 * worker once it answers a request (so it has its database connection),
 * or -1 after WAIT_S. */
static pid_t replace_worker(pid_t master, pid_t old, const char *user)
{
	double deadline = now_seconds() + WAIT_S;
	char body[64];

	snprintf(body, sizeof(body), "{\"user\": \"%s\"}", user);
	if (kill(master, SIGHUP) != 0)
		return -1;
	while (now_seconds() < deadline) {
		pid_t w[MAX_WORKERS];
		struct http_reply r;
		long st;

		if (proc_children(master, w, MAX_WORKERS) == 1 && w[0] != old &&
		    proc_exited(old)) {
			st = http_post("/chats/get", body, strlen(body), NULL, &r);
			http_reply_free(&r);
			if (st == 200)
				return w[0];
		}
		sleep_ms(20);
	}
	return -1;
}

/* CPU time the process has used, in ms (/proc/PID/schedstat), or -1. */
static long long proc_cpu_ms(pid_t pid)
{
	char path[64];
	unsigned long long ns;
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	ok = fscanf(fp, "%llu", &ns) == 1;
	fclose(fp);
	return ok ? (long long)(ns / 1000000) : -1;
}

static void test_abandoned_stream_stops_reading(void **state)
{
	char small_chat[ID_LEN], small_author[ID_LEN];
	char small_ids[SMALL_MESSAGES][ID_LEN], texts[SMALL_MESSAGES][64];
	char req[512], body[160], err[256], busy[256] = "", clog[128];
	char nlog[128], *crash_c, *crash_n;
	struct psql_session ps;
	struct http_reply page, add;
	struct pg_tap *tap;
	long long chat_bytes, read0, read1, wchar0, wchar1, rchar0, rchar1;
	long long cpu0, cpu1;
	long clog_from, nlog_from, status;
	double t_close, idle_s;
	bool same;
	size_t got;
	pid_t master, w, w_after;
	int i, restored;

	(void)state;
	use_workers(1);
	load_big_chat();
	/* A small chat for the request that follows. */
	must_user("smallauthor", small_author);
	must_chat("smallchat", (const char *[]){ small_author }, 1, small_chat);
	for (i = 0; i < SMALL_MESSAGES; i++) {
		snprintf(texts[i], sizeof(texts[i]), "small message %d", i + 1);
		must_message(small_chat, small_author, texts[i], small_ids[i]);
	}
	/* What the worker must read to carry the whole chat: the texts and
	 * the three 8-byte binary fields of each row, as load_big_chat wrote
	 * them (the protocol's framing left out: a lower bound). */
	chat_bytes = 0;
	for (i = 1; i <= BIG_ROWS; i++) {
		char text[512];

		expected_text(i, text, sizeof(text));
		chat_bytes += (long long)strlen(text) + 24;
	}

	/* The worker's database connection through the relay. */
	w = only_worker(&master);
	tap = pg_tap_start(&the_stack);
	if (tap == NULL)
		fail_msg_at("could not put a relay in front of PostgreSQL");
	w = replace_worker(master, w, small_author);
	if (w < 0 || pg_tap_bytes_to(tap, w) < 0) {
		pg_tap_stop(tap);
		fail_msg_at("the new worker (%ld) does not talk to PostgreSQL "
			    "through the relay", (long)w);
	}
	if (psql_open(&the_stack, &ps) != 0) {
		pg_tap_stop(tap);
		fail_msg_at("could not start psql");
	}
	read0 = pg_tap_bytes_to(tap, w);
	wchar0 = proc_value(w, "io", "wchar");
	rchar0 = proc_value(w, "io", "rchar");
	cpu0 = proc_cpu_ms(w);
	snprintf(clog, sizeof(clog), "%s/chatd.log", the_stack.dir);
	snprintf(nlog, sizeof(nlog), "%s/nginx-error.log", the_stack.dir);
	clog_from = file_size(clog);
	nlog_from = file_size(nlog);

	/* The client reads the first ABANDON_KEEP bytes and leaves. */
	snprintf(body, sizeof(body), "{\"chat\": \"%s\"}", big_chat);
	snprintf(req, sizeof(req), "POST /messages/get HTTP/1.1\r\n"
		 "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 strlen(body), body);
	status = http_raw_abandon(&the_stack, req, strlen(req), ABANDON_KEEP,
				  &got, err, sizeof(err));
	t_close = now_seconds();
	/* The worker's statement ends (at once, or when the chat is read). */
	idle_s = wait_chatd_idle(&ps, IDLE_WAIT_S);
	if (idle_s < 0)
		psql_query(&ps, "SELECT string_agg(state || ': ' || "
			   "left(query, 60), '; ') FROM pg_stat_activity "
			   "WHERE application_name = 'chatd'", busy,
			   sizeof(busy));
	psql_close(&ps);

	/* The next requests, on the same worker. */
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"limit\": %d}",
		 small_chat, SMALL_MESSAGES);
	http_post("/messages/get", body, strlen(body), NULL, &page);
	{
		char name[128];

		uniq_name(name, sizeof(name), "afterabort");
		http_post_json("/users/add", json_pack("{s:s}", "username",
						       name), NULL, &add);
	}
	/* The worker answered both, so it had finished the aborted request:
	 * the counts are final. */
	read1 = pg_tap_bytes_to(tap, w);
	wchar1 = proc_value(w, "io", "wchar");
	rchar1 = proc_value(w, "io", "rchar");
	cpu1 = proc_cpu_ms(w);
	{
		pid_t kids[MAX_WORKERS];

		same = !proc_exited(w) &&
		       proc_children(master, kids, MAX_WORKERS) == 1 &&
		       kids[0] == w;
	}
	crash_c = crash_lines(clog, clog_from);
	crash_n = crash_lines(nlog, nlog_from);
	/* Put the socket back, and a worker on a direct connection. */
	restored = pg_tap_restore(tap);
	w_after = restored == 0 ? replace_worker(master, w, small_author) : -1;
	pg_tap_stop(tap);
	print_message("client read %zu bytes (status %ld) and left; chatd idle "
		      "%.2f s later\n", got, status, idle_s);
	print_message("worker %ld read %lld bytes from PostgreSQL (the chat is "
		      "%lld bytes without framing), wrote %lld bytes, used %lld "
		      "ms of CPU (rchar +%lld: not counting recv)\n", (long)w,
		      read1 - read0, chat_bytes, wchar1 - wchar0, cpu1 - cpu0,
		      rchar1 - rchar0);

	if (restored != 0 || w_after < 0)
		fail_msg_at("could not take the relay away again");
	if (status != 200 || got < ABANDON_KEEP)
		fail_msg_at("the abandoned request: status %ld, %zu bytes "
			    "read (%s)", status, got, err);
	if (idle_s < 0)
		fail_msg_at("chatd's backend still busy %.0f s after the client "
			    "left: %s", now_seconds() - t_close, busy);
	/* The same process served all three, still the master's only
	 * worker. */
	if (!same)
		fail_msg_at("worker %ld exited or was replaced", (long)w);
	/* The premise: nginx hung up on the worker (which then wrote little)
	 * rather than reading the whole answer into its buffers. */
	if (wchar1 - wchar0 >= chat_bytes / 2)
		fail_msg_at("worker %ld wrote %lld bytes: nginx did not hang up "
			    "when the client left, so the test proves nothing",
			    (long)w, wchar1 - wchar0);
	/* The connection was clean: the next answers are their own. */
	check_status(&page, 200, "messages/get with limit after the abort");
	if (!json_is_array(page.json) ||
	    json_array_size(page.json) != SMALL_MESSAGES)
		fail_msg_at("messages/get of chat %s with limit %d after the "
			    "abort: %.300s", small_chat, SMALL_MESSAGES,
			    page.body);
	for (i = 0; i < SMALL_MESSAGES; i++) {
		json_t *m = json_array_get(page.json, (size_t)i);
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *chat = json_string_value(json_object_get(m, "chat"));
		const char *text = json_string_value(json_object_get(m, "text"));
		const char *author = json_string_value(json_object_get(m,
							     "author"));

		if (id == NULL || chat == NULL || text == NULL ||
		    author == NULL || strcmp(id, small_ids[i]) != 0 ||
		    strcmp(chat, small_chat) != 0 ||
		    strcmp(author, small_author) != 0 ||
		    strcmp(text, texts[i]) != 0)
			fail_msg_at("message %d after the abort is %.300s; want "
				    "id %s of chat %s, text '%s'", i + 1,
				    page.body, small_ids[i], small_chat,
				    texts[i]);
	}
	http_reply_free(&page);
	check_created(&add, NULL, "users/add after the abort");
	http_reply_free(&add);
	/* Nothing crashed. */
	if (crash_c != NULL || crash_n != NULL) {
		fprintf(stderr, "chatd.log:\n%s\nnginx-error.log:\n%s\n",
			crash_c ? crash_c : "", crash_n ? crash_n : "");
		free(crash_c);
		free(crash_n);
		fail_msg_at("the logs tell of a crash");
	}
	/* The worker stopped reading the chat when its client had gone. */
	if (read1 - read0 >= chat_bytes / 2)
		fail_msg_at("worker %ld read %lld bytes from PostgreSQL for a "
			    "client that left after %zu; the chat is %lld bytes, "
			    "the bound half of it", (long)w, read1 - read0, got,
			    chat_bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_chat_streams_in_constant_memory),
		cmocka_unit_test(test_stop_finishes_stream_in_flight),
		cmocka_unit_test(test_chats_get_of_many_chats_in_bounded_memory),
		cmocka_unit_test(test_abandoned_stream_stops_reading),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    stack_group_teardown);
}
