/*
 * load.h - a concurrent write load that remembers every answer.
 *
 * Threads post messages/add requests numbered 0, 1, 2, ... into a few
 * chats, each with its own Idempotency-Key "<tag>-<number>", and record
 * for each request when it started and ended, the status (0: no HTTP
 * answer at all), and the id of a 201.  The load is bounded by a request
 * count and a duration, and stops early on load_stop().
 *
 * Afterwards load_check_db() reads the database (through psql) and says,
 * for every request, whether its message is stored, under which id and how
 * many times: an acknowledged message must be there exactly once, under
 * the id it was acknowledged with.
 *
 * Thread rules as in harness.h: the load's own threads only record; every
 * load_* function is called from the main thread.
 */
#ifndef CHATD_TEST_LOAD_H
#define CHATD_TEST_LOAD_H

#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#define LOAD_MAX_THREADS 32
#define LOAD_MAX_CHATS 16

/* One request and what came of it.  The fields are written by the thread
 * that sent it and may be read once `complete` is true. */
struct load_rec {
	atomic_bool complete;
	double t_start, t_end;	/* seconds since the load started */
	long status;		/* HTTP status, 0 when there was no answer */
	bool retry_after;	/* the answer had a Retry-After header */
	char id[ID_LEN];	/* the id of a 201 ("" if malformed) */
	char what[48];		/* the "error" code of an error body, or
				 * curl's message when there was no answer */
	/* filled by load_check_db */
	int db_count;		/* messages stored with this key */
	char db_id[ID_LEN];	/* the id of (one of) them */
};

struct load_config {
	const char *tag;	/* key prefix: letters and digits only */
	int threads;		/* <= LOAD_MAX_THREADS */
	int fail_pause_ms;	/* a thread's pause after an answer other
				 * than 201, as a client would back off */
	long max_requests;
	double max_seconds;
	int nchats;		/* <= LOAD_MAX_CHATS */
	char chats[LOAD_MAX_CHATS][ID_LEN];
	char authors[LOAD_MAX_CHATS][ID_LEN];	/* a member of chats[i] */
};

struct load {
	struct load_config cfg;
	struct load_rec *recs;	/* cfg.max_requests of them */
	atomic_long next;	/* the next number to send */
	atomic_long done;	/* requests answered (or failed) */
	atomic_bool stop;
	double t0;		/* now_seconds() at the start */
	pthread_t th[LOAD_MAX_THREADS];
	int nthreads;
	bool running;
};

/* Summary of a finished load, after load_check_db. */
struct load_summary {
	long sent, acknowledged, failed;
	int nstatus;		/* distinct failure statuses */
	long fail_status[16], fail_count[16];
	long found;		/* requests whose message is stored */
	long found_unacked;	/* ... although the request failed */
	long lost;		/* acknowledged, not stored */
	long wrong_id;		/* acknowledged, stored under another id */
	long duplicated;	/* stored more than once */
};

/* Create `n` users and `n` chats, each chat with two of the users as
 * members, and fill cfg's chats and authors (main thread; asserts). */
void load_setup_chats(struct load_config *cfg, int n, const char *prefix);

/* Start cfg->threads threads; returns at once. */
void load_start(struct load *l, const struct load_config *cfg);
/* Tell the threads to stop after the request in hand and join them.
 * Idempotent. */
void load_stop(struct load *l);
/* Join the threads once the load has run its course (count or time). */
void load_join(struct load *l);
/* Seconds since the load started. */
double load_now(const struct load *l);
/* Requests answered so far (any status). */
long load_done(const struct load *l);
/* Requests sent so far (claimed by a thread). */
long load_sent(const struct load *l);
/* Wait until `count` more requests than now have been answered, at most
 * `seconds`; true if they were. */
bool load_wait_more(const struct load *l, long count, double seconds);
/* The record of request i if it is complete, else NULL. */
const struct load_rec *load_rec(const struct load *l, long i);
/* Free the records. */
void load_free(struct load *l);

/* The Idempotency-Key, chat, author and text of request i. */
void load_key(const struct load *l, long i, char *buf, size_t n);
/* Send request i again (same key, chat, author, text) until it is
 * answered 201 or `seconds` pass; waits 100 ms after each failure.  The
 * last status is returned and a 201's id copied to id_out (ID_LEN);
 * *attempts counts the sends. */
long load_resend(const struct load *l, long i, double seconds, char *id_out,
		 int *attempts);

/* Read every message whose key has this load's tag, fill each record's
 * db_count and db_id, and summarise into *s.  False if the database could
 * not be read. */
bool load_check_db(struct load *l, const struct stack *st,
		   struct load_summary *s);
/* Print the summary in one block: "<what>: sent N, acknowledged (201) A,
 * failed F (502 x2, 503 x40, no answer x0), found in the database D (U of
 * them unacknowledged)". */
void load_print(const char *what, const struct load_summary *s);
/* Describe the first few records for which `bad` is true into buf. */
void load_describe(const struct load *l, bool (*bad)(const struct load_rec *),
		   char *buf, size_t n);

#endif
