/* rt.c - see rt.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rt.h"

#include <curl/curl.h>
#include <dirent.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>

#define PASSWORD "correct horse battery"

long rt_signup(const char *prefix, struct rt_user *u)
{
	struct http_reply r = {0};
	char body[256];
	const char *id, *tok;
	long st;

	uniq_name(u->name, sizeof u->name, prefix);
	snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}",
	    u->name, PASSWORD);
	st = http_post("/auth/signup", body, strlen(body), NULL, &r);
	id = json_string_value(json_object_get(r.json, "id"));
	tok = json_string_value(json_object_get(r.json, "token"));
	if (st == 201 && id && tok) {
		snprintf(u->id, sizeof u->id, "%s", id);
		snprintf(u->token, sizeof u->token, "%s", tok);
		st = 0;
	}
	http_reply_free(&r);
	return st;
}

void rt_must_signup(const char *prefix, struct rt_user *u)
{
	long st = rt_signup(prefix, u);

	if (st != 0)
		fail_msg_at("signup of %s: status %ld", prefix, st);
}

long rt_post(const struct rt_user *u, const char *path, const char *body,
	     struct http_reply *out)
{
	return http_post_as(u ? u->token : NULL, path, body, out);
}

json_t *rt_mustf(const struct rt_user *u, long want, const char *path,
		 const char *fmt, ...)
{
	struct http_reply r = {0};
	char body[4096];
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	rt_post(u, path, body, &r);
	if (r.status != want) {
		print_error_lines(r.body ? r.body : r.error);
		fail_msg_at("%s %s as %s: status %ld, want %ld", path, body,
		    u ? u->name : "nobody", r.status, want);
	}
	j = json_incref(r.json);
	http_reply_free(&r);
	return j;
}

json_t *rt_events_get(const struct rt_user *u, const char *after,
		      long *status)
{
	json_t *all = json_array();
	char from[ID_LEN], body[128];

	snprintf(from, sizeof from, "%s", after);
	for (;;) {
		struct http_reply r = {0};
		size_t n;

		snprintf(body, sizeof body, "{\"after\":\"%s\",\"limit\":1000}", from);
		*status = rt_post(u, "/events/get", body, &r);
		if (*status != 200 || !json_is_array(r.json)) {
			http_reply_free(&r);
			json_decref(all);
			return NULL;
		}
		n = json_array_size(r.json);
		json_array_extend(all, r.json);
		if (n)
			snprintf(from, sizeof from, "%s", json_string_value(
			    json_object_get(json_array_get(r.json, n - 1), "id")));
		http_reply_free(&r);
		if (n < 1000)
			return all;
	}
}

struct stream *rt_stream_new(const struct stack *st, const struct rt_user *u,
			     enum stream_kind kind, bool cookie,
			     const char *const *extra)
{
	return rt_stream_at(st, u, kind, cookie, "/events", extra);
}

struct stream *rt_stream_at(const struct stack *st, const struct rt_user *u,
			    enum stream_kind kind, bool cookie, const char *path,
			    const char *const *extra)
{
	const char *h[16];
	char auth[128], host[64];
	size_t n = 0;

	snprintf(auth, sizeof auth, cookie ? "Cookie: chatd_session=%s" :
	    "Authorization: Bearer %s", u->token);
	if (u->token[0])
		h[n++] = auth;
	while (extra && *extra && n < 15)
		h[n++] = *extra++;
	h[n] = NULL;
	snprintf(host, sizeof host, "127.0.0.1:%d", st->port);
	return stream_new(kind, host, path, h);
}

struct stream *rt_stream_open(const struct stack *st, const struct rt_user *u,
			      enum stream_kind kind, bool cookie)
{
	struct stream *s = rt_stream_new(st, u, kind, cookie, NULL);

	if (stream_connect(s, "127.0.0.1", st->port) < 0) {
		stream_free(s);
		return NULL;
	}
	stream_wait_head(s, RT_WAIT_MS);
	return s;
}

json_t *rt_event_json(const struct stream_event *ev)
{
	return json_loadb(ev->data, ev->len, 0, NULL);
}

const char *rt_jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

bool rt_is_presence(const json_t *e)
{
	const char *t = json_string_value(json_object_get(e, "type"));

	return t != NULL && strcmp(t, "presence") == 0;
}

json_t *rt_without_presence(json_t *all)
{
	json_t *kept, *e;
	size_t i;

	if (all == NULL)
		return NULL;
	kept = json_array();
	json_array_foreach(all, i, e)
		if (!rt_is_presence(e))
			json_array_append(kept, e);
	json_decref(all);
	return kept;
}

static size_t keep_body(char *p, size_t sz, size_t n, void *u)
{
	size_t have = strlen(u), take = sz * n;

	if (have + take < 1024) {
		memcpy((char *)u + have, p, take);
		((char *)u)[have + take] = '\0';
	}
	return sz * n;
}

int rt_nchan_subscribers(const struct stack *st, const char *channel)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Accept: text/plain");
	char sock[256], url[128], body[1024] = "";
	const char *p;
	long code = 0;
	int n = -1;

	snprintf(sock, sizeof sock, "%s/chatd-nchan.sock", st->dir);
	snprintf(url, sizeof url, "http://localhost/pub/%s", channel);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code == 404)
			n = 0;  /* no such channel: nobody listens */
		else if ((p = strstr(body, "active subscribers: ")))
			n = atoi(p + 20);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return n;
}

bool rt_wait_subscribed(const struct stack *st, const char *user, int n,
			struct stream *pump)
{
	char ch[ID_LEN + 2];
	double end = now_seconds() + RT_WAIT_MS / 1000.0;

	snprintf(ch, sizeof ch, "u%s", user);
	while (rt_nchan_subscribers(st, ch) < n) {
		if (now_seconds() > end || (pump && stream_is_done(pump)))
			return false;
		if (pump && !stream_is_done(pump))
			stream_wait_head(pump, 5);
		else
			sleep_ms(5);
	}
	return true;
}

const char *rt_stream_ready(const struct stack *st, const struct rt_user *u,
			    struct stream *s)
{
	static char why[512];
	enum stream_kind k = stream_kind(s);

	if (stream_connect(s, "127.0.0.1", st->port) < 0)
		return stream_error(s);
	if (k != STREAM_POLL && (stream_wait_head(s, RT_WAIT_MS) !=
	    (k == STREAM_WS ? 101 : 200) || !stream_is_open(s))) {
		snprintf(why, sizeof why, "%s: status %d (%s) %.300s",
		    stream_kind_name[k], stream_status(s), stream_error(s),
		    stream_body(s, NULL));
		return why;
	}
	if (!rt_wait_subscribed(st, u->id, 1, s)) {
		snprintf(why, sizeof why, "%s: nchan never counted it (%s)",
		    stream_kind_name[k], stream_error(s));
		return why;
	}
	return NULL;
}

bool rt_wait_unsubscribed(const struct stack *st, const struct rt_user *u)
{
	char ch[ID_LEN + 2];
	double end = now_seconds() + RT_WAIT_MS / 1000.0;

	snprintf(ch, sizeof ch, "u%s", u->id);
	while (rt_nchan_subscribers(st, ch) > 0) {
		if (now_seconds() > end)
			return false;
		sleep_ms(5);
	}
	return true;
}

pid_t rt_relay_pid(const struct stack *st)
{
	pid_t master = stack_master_pid(st), found = -1;
	struct dirent *e;
	DIR *d;

	if (master <= 0 || !(d = opendir("/proc")))
		return -1;
	/* The relay names itself (prctl) chatd-relay; proc_children skips
	 * it, since it counts workers. */
	while (found < 0 && (e = readdir(d))) {
		char path[300], stat[512];
		const char *close;
		FILE *f;
		int ppid;
		char state;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (!fgets(stat, sizeof stat, f))
			stat[0] = '\0';
		fclose(f);
		close = strrchr(stat, ')');
		if (close && sscanf(close + 1, " %c %d", &state, &ppid) == 2 &&
		    ppid == master && state != 'Z' &&
		    strstr(stat, " (chatd-relay) ") == strchr(stat, ' '))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

bool rt_wait_relay_idle(const struct stack *st, double seconds)
{
	double end = now_seconds() + seconds;

	for (;;) {
		char *out = stack_psql_output(st,
		    "SELECT (SELECT count(*) FROM event_outbox) = 0 AND "
		    "published = last_id FROM relay_state");
		bool idle = out && !strncmp(out, "t", 1);

		free(out);
		if (idle)
			return true;
		if (now_seconds() > end)
			return false;
		sleep_ms(50);
	}
}

pid_t rt_nginx_pid(const struct stack *st)
{
	char path[128];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof path, "%s/nginx.pid", st->dir);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return pid;
}

int rt_nginx_crashes(const struct stack *st)
{
	char path[128], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/nginx-error.log", st->dir);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "exited on signal"))
			n++;
	fclose(f);
	return n;
}
