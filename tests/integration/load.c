/*
 * load.c - see load.h.
 */
#include "load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void load_setup_chats(struct load_config *cfg, int n, const char *prefix)
{
	char user_prefix[64], chat_prefix[64];
	int i;

	assert_true(n > 0 && n <= LOAD_MAX_CHATS);
	snprintf(user_prefix, sizeof(user_prefix), "%su", prefix);
	snprintf(chat_prefix, sizeof(chat_prefix), "%sc", prefix);
	cfg->nchats = n;
	for (i = 0; i < n; i++) {
		char other[ID_LEN];

		must_user(user_prefix, cfg->authors[i]);
		must_user(user_prefix, other);
		must_chat(chat_prefix,
			  (const char *[]){ cfg->authors[i], other }, 2,
			  cfg->chats[i]);
	}
}

double load_now(const struct load *l)
{
	return now_seconds() - l->t0;
}

void load_key(const struct load *l, long i, char *buf, size_t n)
{
	snprintf(buf, n, "%s-%ld", l->cfg.tag, i);
}

/* The body of request i; the text names the request. */
static void load_body(const struct load *l, long i, char *buf, size_t n)
{
	int c = (int)(i % l->cfg.nchats);

	snprintf(buf, n, "{\"chat\": \"%s\", \"author\": \"%s\", "
		 "\"text\": \"load %s message %ld\"}", l->cfg.chats[c],
		 l->cfg.authors[c], l->cfg.tag, i);
}

/* Send request i once and record the answer into *rec (not `complete`). */
static void load_send(const struct load *l, long i, struct load_rec *rec)
{
	char key[64], hdr[96], body[256];
	struct http_reply r;

	load_key(l, i, key, sizeof(key));
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	load_body(l, i, body, sizeof(body));
	rec->t_start = load_now(l);
	http_post("/messages/add", body, strlen(body), hdr, &r);
	rec->t_end = load_now(l);
	rec->status = r.status;
	rec->retry_after = r.retry_after[0] != '\0';
	rec->id[0] = rec->what[0] = '\0';
	if (r.status == 201) {
		const char *id = json_string_value(json_object_get(r.json, "id"));

		if (is_canonical_id(id))
			snprintf(rec->id, sizeof(rec->id), "%s", id);
	} else if (r.status == 0) {
		snprintf(rec->what, sizeof(rec->what), "%.47s", r.error);
	} else {
		const char *e = json_string_value(json_object_get(r.json,
								  "error"));

		snprintf(rec->what, sizeof(rec->what), "%.47s",
			 e != NULL ? e : "(no JSON error body)");
	}
	http_reply_free(&r);
}

static void *load_thread(void *arg)
{
	struct load *l = arg;

	while (!atomic_load(&l->stop) && load_now(l) < l->cfg.max_seconds) {
		long i = atomic_fetch_add(&l->next, 1);

		if (i >= l->cfg.max_requests)
			break;
		load_send(l, i, &l->recs[i]);
		atomic_store_explicit(&l->recs[i].complete, true,
				      memory_order_release);
		atomic_fetch_add(&l->done, 1);
		if (l->recs[i].status != 201 && l->cfg.fail_pause_ms > 0)
			sleep_ms(l->cfg.fail_pause_ms);
	}
	http_thread_done();
	return NULL;
}

void load_start(struct load *l, const struct load_config *cfg)
{
	long i;
	int k;

	assert_true(cfg->threads > 0 && cfg->threads <= LOAD_MAX_THREADS);
	assert_true(cfg->nchats > 0 && cfg->max_requests > 0);
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->recs = calloc((size_t)cfg->max_requests, sizeof(*l->recs));
	assert_non_null(l->recs);
	for (i = 0; i < cfg->max_requests; i++)
		atomic_init(&l->recs[i].complete, false);
	atomic_init(&l->next, 0);
	atomic_init(&l->done, 0);
	atomic_init(&l->stop, false);
	l->t0 = now_seconds();
	for (k = 0; k < cfg->threads; k++)
		assert_int_equal(pthread_create(&l->th[k], NULL, load_thread, l),
				 0);
	l->nthreads = cfg->threads;
	l->running = true;
}

void load_join(struct load *l)
{
	int k;

	if (!l->running)
		return;
	for (k = 0; k < l->nthreads; k++)
		pthread_join(l->th[k], NULL);
	l->running = false;
}

void load_stop(struct load *l)
{
	atomic_store(&l->stop, true);
	load_join(l);
}

long load_done(const struct load *l)
{
	return atomic_load(&l->done);
}

long load_sent(const struct load *l)
{
	long n = atomic_load(&l->next);

	return n < l->cfg.max_requests ? n : l->cfg.max_requests;
}

bool load_wait_more(const struct load *l, long count, double seconds)
{
	long target = load_done(l) + count;
	double deadline = now_seconds() + seconds;

	while (load_done(l) < target) {
		if (now_seconds() > deadline)
			return false;
		sleep_ms(5);
	}
	return true;
}

const struct load_rec *load_rec(const struct load *l, long i)
{
	if (i < 0 || i >= l->cfg.max_requests ||
	    !atomic_load_explicit(&l->recs[i].complete, memory_order_acquire))
		return NULL;
	return &l->recs[i];
}

void load_free(struct load *l)
{
	load_stop(l);
	free(l->recs);
	l->recs = NULL;
}

long load_resend(const struct load *l, long i, double seconds, char *id_out,
		 int *attempts)
{
	double deadline = now_seconds() + seconds;
	struct load_rec rec;

	*attempts = 0;
	id_out[0] = '\0';
	for (;;) {
		memset(&rec, 0, sizeof(rec));
		load_send(l, i, &rec);
		++*attempts;
		if (rec.status == 201 || now_seconds() > deadline)
			break;
		sleep_ms(100);
	}
	if (rec.status == 201)
		snprintf(id_out, ID_LEN, "%s", rec.id);
	return rec.status;
}

static void count_failure(struct load_summary *s, long status)
{
	int k;

	for (k = 0; k < s->nstatus; k++)
		if (s->fail_status[k] == status) {
			s->fail_count[k]++;
			return;
		}
	if (s->nstatus < 16) {
		s->fail_status[s->nstatus] = status;
		s->fail_count[s->nstatus++] = 1;
	}
}

bool load_check_db(struct load *l, const struct stack *st,
		   struct load_summary *s)
{
	char sql[256], prefix[64], *out, *line, *save = NULL;
	size_t plen;
	long i, sent = load_sent(l);

	memset(s, 0, sizeof(*s));
	snprintf(prefix, sizeof(prefix), "%s-", l->cfg.tag);
	plen = strlen(prefix);
	snprintf(sql, sizeof(sql), "SELECT idempotency_key, id FROM messages "
		 "WHERE idempotency_key LIKE '%s%%'", prefix);
	out = stack_psql_output(st, sql);
	if (out == NULL)
		return false;
	for (i = 0; i < l->cfg.max_requests; i++) {
		l->recs[i].db_count = 0;
		l->recs[i].db_id[0] = '\0';
	}
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *bar = strchr(line, '|'), *end;

		if (strncmp(line, prefix, plen) != 0 || bar == NULL)
			continue;
		i = strtol(line + plen, &end, 10);
		if (end != bar || i < 0 || i >= l->cfg.max_requests)
			continue;
		if (l->recs[i].db_count++ == 0)
			snprintf(l->recs[i].db_id, ID_LEN, "%s", bar + 1);
	}
	free(out);

	s->sent = sent;
	for (i = 0; i < sent; i++) {
		const struct load_rec *r = &l->recs[i];

		if (r->status == 201) {
			s->acknowledged++;
			if (r->db_count == 0)
				s->lost++;
			else if (strcmp(r->db_id, r->id) != 0)
				s->wrong_id++;
		} else {
			s->failed++;
			count_failure(s, r->status);
			if (r->db_count > 0)
				s->found_unacked++;
		}
		if (r->db_count > 0)
			s->found++;
		if (r->db_count > 1)
			s->duplicated++;
	}
	return true;
}

void load_print(const char *what, const struct load_summary *s)
{
	char fails[256] = "";
	size_t n = 0;
	int k;

	for (k = 0; k < s->nstatus && n < sizeof(fails); k++) {
		if (s->fail_status[k] == 0)
			n += (size_t)snprintf(fails + n, sizeof(fails) - n,
					      "%sno answer x%ld", k ? ", " : "",
					      s->fail_count[k]);
		else
			n += (size_t)snprintf(fails + n, sizeof(fails) - n,
					      "%s%ld x%ld", k ? ", " : "",
					      s->fail_status[k], s->fail_count[k]);
	}
	print_message("%s: sent %ld, acknowledged (201) %ld, failed %ld%s%s%s, "
		      "found in the database %ld (%ld of them unacknowledged)"
		      "%s\n", what, s->sent, s->acknowledged, s->failed,
		      s->failed ? " (" : "", fails, s->failed ? ")" : "",
		      s->found, s->found_unacked,
		      s->lost || s->wrong_id || s->duplicated ?
		      "; PROBLEMS below" : "");
	if (s->lost || s->wrong_id || s->duplicated)
		print_message("  acknowledged but not stored %ld, stored under "
			      "another id %ld, stored more than once %ld\n",
			      s->lost, s->wrong_id, s->duplicated);
}

void load_describe(const struct load *l, bool (*bad)(const struct load_rec *),
		   char *buf, size_t n)
{
	long i, sent = load_sent(l), shown = 0, total = 0;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < sent; i++) {
		const struct load_rec *r = load_rec(l, i);

		if (r == NULL || !bad(r))
			continue;
		total++;
		if (shown < 5 && used < n) {
			used += (size_t)snprintf(buf + used, n - used,
				"\n  request %ld: status %ld%s%s%s, %.3f s to "
				"%.3f s%s, stored %d time(s)", i, r->status,
				r->what[0] ? " (" : "", r->what,
				r->what[0] ? ")" : "", r->t_start, r->t_end,
				r->retry_after ? ", Retry-After" : "",
				r->db_count);
			shown++;
		}
	}
	if (total > shown && used < n)
		snprintf(buf + used, n - used, "\n  ... %ld in all", total);
}
