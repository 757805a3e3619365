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
	if (json_object_size(o) != 5 || id == NULL || chat == NULL ||
	    author == NULL || t == NULL || at == NULL)
		scan_fail(s, "want exactly id, chat, author, text, created_at "
			  "as strings: %.300s", s->obj);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_chat_streams_in_constant_memory),
		cmocka_unit_test(test_stop_finishes_stream_in_flight),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    stack_group_teardown);
}
