/* The relay's loop (relay.h, contrib/doc/REALTIME.md 2). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <libpq-fe.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "id.h"
#include "log.h"
#include "migrate.h"
#include "relay.h"
#include "relay_publish.h"
#include "stop_signal.h"

#define TAKE_BATCH "100"	/* events per take, and per republish */
#define TAKE_BATCH_N 100
#define IDLE_MS 1000		/* re-check with no notification */
/* After a take that found events but not a full batch, the relay waits
 * this long before the next one, so that the commits of that time share
 * a take: a take is a transaction of its own, whose commit waits for the
 * WAL, and at a thousand messages a second one take per message cost
 * PostgreSQL more than the messages' own transactions (REALTIME.md 2).
 * It adds at most this much to a delivery. */
#define GATHER_MS 3
/* The position is recorded when the relay goes idle, and at least this
 * often while it is busy: not after every take, which was a second
 * transaction per take. A crash republishes what was published since
 * (duplicates carry their ids). */
#define RECORD_EVERY_MS 200
/* The outbox is a queue: every event taken leaves a dead row and a dead
 * index entry, which each later take steps over until a vacuum removes
 * them, and autovacuum comes once a minute at most (at a thousand events
 * a second, 60,000 of them). The relay vacuums it itself after this many
 * events (a few milliseconds each time). */
#define VACUUM_ROWS 1000
/* Consecutive takes that found events after which the relay stops
 * listening for wake-ups (it is busy: it takes again after GATHER_MS
 * anyway). With the relay listening, each worker's notify after each
 * write signals the relay's backend, which wakes to pass it on: measured
 * with nothing to take, the listening alone cost the writers a fifth of
 * their throughput. It listens again when a take finds nothing. */
#define BUSY_TAKES 2
/* After nginx ended the publisher's connection unannounced (a reload, a
 * stop: publisher_lost), the events published in the last RECENT_MS at
 * least, up to twice that, are published again: the old worker may have
 * taken them into a memory store that the streams opened on the new
 * workers do not share, after those streams had caught up. Duplicates
 * carry their ids. */
#define RECENT_MS 1000
#define SWEEP_USERS "1000"	/* users asked of nchan per presence sweep */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define DRAIN_MS 1000		/* publishing the outbox on a stop */
#define EXPIRE_EVERY_MS 60000
#define EXPIRE_BATCH "1000"	/* events deleted per statement */
#define EXPIRE_BATCH_N 1000
#define EXPIRE_ROUNDS 20	/* statements per minute at most */
#define TAKE_SQL "SELECT id, channels, body FROM chatd_events_take($1::int)"
/* The session-level lock that makes one relay per database. */
#define LOCK_SQL "SELECT pg_try_advisory_lock(hashtext('chatd_relay'))"

struct relay {
	const struct relay_config *cfg;
	PGconn *conn;
	struct publisher *pub;
	sigset_t waitmask;	/* the mask inside ppoll(): stops let in */
	int64_t published;	/* the last event published */
	int64_t recorded;	/* the position relay_state holds */
	int64_t recent;		/* the position RECENT_MS ago at least */
	int64_t recent_next;	/* the position when recent_at_ms was set */
	long long recent_at_ms;	/* when recent moves up next */
	bool lost;		/* publish again from recent (RECENT_MS) */
	long long record_at_ms;	/* when it is recorded next, busy */
	long unvacuumed;	/* events taken since the outbox's vacuum */
	bool listening;		/* LISTEN chatd_events is on (wake-ups) */
	long long sweep_at_ms;	/* the next presence sweep */
	char sweep_age[24];	/* sweep_seconds, an interval's text */
	struct buf info;	/* a channel's info, from nchan */
	long long expire_at_ms;
	char keep[24];		/* the retention, an interval's text */
	bool failing;		/* publishing fails: said once */
};

/* Stop signals stay blocked (no libpq call or publish is cut short by
 * one) except inside ppoll(), which lets them in atomically. */
static void install_signals(struct relay *rl)
{
	struct sigaction sa;
	sigset_t stops;

	stop_signal_install(&stops);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* Forked by the master, every signal it handles arrives blocked. */
	sigprocmask(SIG_SETMASK, &stops, NULL);
	sigemptyset(&rl->waitmask);
}

/* Whether a stop came. A stop signal that is pending is let in first:
 * they are blocked but inside ppoll(), and a relay with a backlog does not
 * wait. */
static bool stopping(const struct relay *rl)
{
	sigset_t pending, old;

	if (!stop_requested && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) == 1 ||
	    sigismember(&pending, SIGINT) == 1 ||
	    sigismember(&pending, SIGQUIT) == 1)) {
		sigprocmask(SIG_SETMASK, &rl->waitmask, &old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return stop_requested;
}

/* Waits up to ms for fd to be readable (fd < 0: only the time), or for a
 * stop. */
static void wait_for(struct relay *rl, int fd, long long ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = ms / 1000,
	    .tv_nsec = ms % 1000 * 1000000};

	if (!stop_requested)
		ppoll(&pfd, fd >= 0 ? 1 : 0, &ts, &rl->waitmask);
}

static long long backoff_next(long long ms)
{
	ms = ms ? ms * 2 : BACKOFF_MIN_MS;
	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

/* res when it succeeded (the caller PQclear()s it); NULL otherwise, which
 * makes the caller drop the connection (an error on a live one is logged
 * here). */
static PGresult *checked(struct relay *rl, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	if (PQstatus(rl->conn) == CONNECTION_OK) {
		const char *m = PQresultErrorMessage(res);

		log_error("relay: %.*s", (int)strcspn(m, "\n"), m);
	}
	PQclear(res);
	return NULL;
}

/* Runs sql with text parameters, as checked() answers. */
static PGresult *run(struct relay *rl, const char *sql, int n,
    const char *const *params)
{
	return checked(rl, PQexecParams(rl->conn, sql, n, NULL, params, NULL,
	    NULL, 0));
}

/* What an answer of nchan's publisher means for an event. */
enum outcome { PUBLISHED, REFUSED, FAILED };

static enum outcome judge(int status, bool delete)
{
	if (status == 200 || status == 201 || status == 202)
		return PUBLISHED;
	if (delete && status == 404)	/* nobody had subscribed */
		return PUBLISHED;
	if (status == 0 || status >= 500 || status == 408 || status == 429)
		return FAILED;
	return REFUSED;
}

/* Sends body (NULL: deletes the channels, a session's) to every channel
 * of the comma-separated list, a request per PUBLISH_CHANNELS_MAX of
 * them. A failure is retried with backoff until nchan takes it (false
 * when a stop came first); with retry false (typing) it is
 * given up. A refusal (a 4xx: retrying cannot help) is logged and
 * skipped: the event is still in the log for events/get. */
static bool publish(struct relay *rl, const char *channels,
    const char *body, bool retry)
{
	const char *method = body ? "POST" : "DELETE";
	size_t len = body ? strlen(body) : 0, off = 0;
	char ids[PUBLISH_IDS_MAX + 1];

	while (publisher_next_ids(channels, &off, ids, sizeof ids)) {
		long long backoff = 0;
		enum outcome o;
		int status;

		while ((o = judge(status = publisher_send(rl->pub, method, ids,
		    body, len), body == NULL)) == FAILED) {
			if (!rl->failing)
				log_warn("relay: nchan's publisher at %s: %s; "
				    "retrying", rl->cfg->publish, status ?
				    "an error status" : "no answer");
			rl->failing = true;
			if (!retry)
				return true;
			backoff = backoff_next(backoff);
			wait_for(rl, -1, backoff);
			if (stop_requested)
				return false;
		}
		if (rl->failing)
			log_info("relay: publishing again");
		rl->failing = false;
		if (o == REFUSED)
			log_error("relay: nchan refused %s /pub/%s with %d; "
			    "not retried", method, ids, status);
	}
	return true;
}

/* Records the position (relay_state.published) when it moved: always
 * with now true, else only when RECORD_EVERY_MS has passed since the
 * last record. False when the connection broke. */
static bool record(struct relay *rl, bool now)
{
	char text[21];
	const char *params[1] = {text};
	PGresult *res;

	if (rl->recorded == rl->published ||
	    (!now && clock_ms() < rl->record_at_ms))
		return true;
	id_format(rl->published, text);
	/* Asynchronous commit: a position lost in a crash of PostgreSQL
	 * only means publishing some events again (duplicates carry their
	 * ids), and the relay does not wait for a WAL flush per batch that
	 * the writers' commits would queue behind. */
	res = run(rl, "SELECT set_config('synchronous_commit', 'off', true),"
	    " chatd_relay_published($1::bigint)", 1, params);
	if (res == NULL)
		return false;
	PQclear(res);
	rl->recorded = rl->published;
	rl->record_at_ms = clock_ms() + RECORD_EVERY_MS;
	return true;
}

/* Row i of res, (id, channels, body): its body, NULL for a session's
 * channels to delete. */
static const char *row_body(PGresult *res, int i)
{
	return PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
}

/* Moves the position past row i of res, published. */
static void published(struct relay *rl, PGresult *res, int i)
{
	const char *v = PQgetvalue(res, i, 0);
	int64_t id;

	if (id_parse(v, strlen(v), &id))
		rl->published = id;
}

/* Queues the requests of the rows of res from row from on, each row's
 * as publish() would send them, as many whole rows as a batch holds;
 * owner[k] is the row of the k-th request. Nothing is queued when even
 * row from's requests do not fit in a batch. */
static void queue_rows(struct relay *rl, PGresult *res, int from, int n,
    int *owner)
{
	char ids[PUBLISH_IDS_MAX + 1];
	int i;

	for (i = from; i < n; i++) {
		const char *body = row_body(res, i);
		size_t off = 0, mark = publisher_queued(rl->pub);

		while (publisher_next_ids(PQgetvalue(res, i, 1), &off, ids,
		    sizeof ids)) {
			if (!publisher_queue(rl->pub, body ? "POST" : "DELETE",
			    ids, body, body ? strlen(body) : 0)) {
				publisher_unqueue(rl->pub, mark);
				return;
			}
			owner[publisher_queued(rl->pub) - 1] = i;
		}
	}
}

/* Whether the publisher reports a loss now (publisher_lost). If so, what
 * nginx may have lost is to be published again (rl->lost, RECENT_MS), and
 * the position moves back to recent at once, so that no record of it (and
 * no relay after a crash) skips those events. */
static bool note_loss(struct relay *rl)
{
	if (!publisher_lost(rl->pub))
		return false;
	rl->lost = true;
	if (rl->recent < rl->published)
		rl->published = rl->recent;
	return true;
}

/* Publishes the rows of res, (id, channels, body) in id order, moving
 * the position past each one published, and records it when that is due
 * (record()). The requests of whole rows go out pipelined
 * (publisher_flush). The first row with a request that failed or was
 * not answered, or too big for a batch, is then published on its own by
 * publish(), which retries until nchan takes it (a request carried out
 * twice delivers a duplicate, with its id). A refusal is logged and
 * skipped, as publish() does. False when the connection broke or a stop
 * came. */
static bool publish_rows(struct relay *rl, PGresult *res)
{
	int status[PIPELINE_MAX], owner[PIPELINE_MAX];
	int i = 0, n = PQntuples(res);

	while (i < n) {
		size_t k = 0, q, got;

		queue_rows(rl, res, i, n, owner);
		q = publisher_queued(rl->pub);
		got = q > 0 ? publisher_flush(rl->pub, status) : 0;
		if (note_loss(rl))
			break;	/* the rest goes out after it, in order */
		for (; k < q; k++) {
			int row = owner[k];
			enum outcome o = k < got ? judge(status[k],
			    row_body(res, row) == NULL) : FAILED;

			if (o == FAILED)
				break;
			if (o == REFUSED)
				log_error("relay: nchan refused event %s with %d;"
				    " not retried", PQgetvalue(res, row, 0),
				    status[k]);
			if (k + 1 == q || owner[k + 1] != row) {
				published(rl, res, row);
				i = row + 1;
			}
		}
		if (k < q || q == 0) {
			if (!publish(rl, PQgetvalue(res, i, 1),
			    row_body(res, i), true))
				break;
			published(rl, res, i);
			i++;
		}
	}
	if (!record(rl, i < n))
		return false;
	return i == n || rl->lost;
}

/* A typing notice, payload "<chat>:<user>" (sql/011_events.sql,
 * chatd_typing): published once, without an id or a position. False
 * when the connection broke. */
static bool typing(struct relay *rl, const char *payload)
{
	const char *colon = strchr(payload, ':');
	char chat[21], user[21];
	const char *params[2] = {chat, user};
	int64_t c, u;
	PGresult *res;

	if (colon == NULL ||
	    !id_parse(payload, (size_t)(colon - payload), &c) ||
	    !id_parse(colon + 1, strlen(colon + 1), &u)) {
		log_warn("relay: a chatd_typing notification without "
		    "<chat>:<user>");
		return true;
	}
	id_format(c, chat);
	id_format(u, user);
	res = run(rl, "SELECT channels, body FROM chatd_typing_channels("
	    "$1::bigint, $2::bigint)", 2, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		publish(rl, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    false);
	PQclear(res);
	return true;
}

/* Handles the notifications that arrived: typing is published, a
 * chatd_events only wakes us (*woke). False when the connection broke. */
static bool notifications(struct relay *rl, bool *woke)
{
	PGnotify *nf;

	*woke = false;
	if (!PQconsumeInput(rl->conn))
		return false;
	while ((nf = PQnotifies(rl->conn)) != NULL) {
		bool events = strcmp(nf->relname, "chatd_typing") != 0;
		bool ok = events || typing(rl, nf->extra);

		*woke |= events;
		PQfreemem(nf);
		if (!ok)
			return false;
	}
	return true;
}

/* Deletes events past the retention, EXPIRE_BATCH per statement (each
 * its own short transaction, so no writer waits on it), and comes back
 * in a minute, or at once when it stopped with more to do. */
static bool expire(struct relay *rl)
{
	const char *params[2] = {rl->keep, EXPIRE_BATCH};
	int rounds, n = EXPIRE_BATCH_N;
	long total = 0;

	for (rounds = 0; rounds < EXPIRE_ROUNDS && n == EXPIRE_BATCH_N &&
	    !stop_requested; rounds++) {
		PGresult *res = run(rl, "SELECT chatd_events_expire("
		    "$1::interval, $2::int)", 2, params);

		if (res == NULL)
			return false;
		n = atoi(PQgetvalue(res, 0, 0));
		total += n;
		PQclear(res);
	}
	if (total > 0)
		log_info("relay: %ld events older than %d s deleted", total,
		    rl->cfg->retention_seconds);
	rl->expire_at_ms = clock_ms() + (n == EXPIRE_BATCH_N ? 0 :
	    EXPIRE_EVERY_MS);
	return true;
}

/* Vacuums the outbox when VACUUM_ROWS events were taken since the last
 * time. SKIP_LOCKED: when autovacuum is at it already, it is done.
 * TRUNCATE false: a queue's pages are empty after each take, and giving
 * them back to the filesystem takes an exclusive lock on the table that
 * the writers' next inserts would wait for (and then extend it again). A
 * refusal (a role that does not own the table gets a warning, not an
 * error) leaves it to autovacuum. False when the connection broke. */
static bool vacuum(struct relay *rl, int taken)
{
	PGresult *res;

	rl->unvacuumed += taken;
	if (rl->unvacuumed < VACUUM_ROWS)
		return true;
	rl->unvacuumed = 0;
	res = PQexec(rl->conn, "VACUUM (SKIP_LOCKED, TRUNCATE false) event_outbox");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		if (PQstatus(rl->conn) != CONNECTION_OK)
			return false;
		log_warn("relay: could not vacuum event_outbox: %s",
		    PQerrorMessage(rl->conn));
		return true;
	}
	PQclear(res);
	return true;
}

/* Whether nchan holds no subscriber of channel: 1 none, 0 some, -1 it
 * did not say (no answer, an error). */
static int unheld(struct relay *rl, const char *channel)
{
	int status = publisher_get(rl->pub, channel, &rl->info);
	long n;

	if (status == 404)	/* no such channel: no subscriber, no message */
		return 1;
	if (status != 200)
		return -1;
	n = publisher_subscribers(rl->info.data);
	return n < 0 ? -1 : n == 0;
}

/* Presence's repair (REALTIME.md 4): nchan does not always send its
 * unsubscribe request when a stream closes, which leaves the stream's row,
 * and its user online, until the session ends. Every sweep_seconds, the
 * users whose rows are all older than that are asked of nchan (GET
 * /pub/u<id>: the subscribers of the user's channel, which every stream
 * of theirs is); where it holds none, their rows older than that are
 * closed as the unsubscribe would have closed them (chatd_stream_close:
 * the last one writes the offline event). A stream opened meanwhile has a
 * newer row, which stays. *closed: the rows closed. False when the
 * connection broke. */
static bool sweep(struct relay *rl, int *closed)
{
	const char *params[2] = {NULL, rl->sweep_age};
	char channel[24];
	PGresult *users, *res;
	int i, held = 0;

	*closed = 0;
	rl->sweep_at_ms = clock_ms() + rl->cfg->sweep_seconds * 1000LL;
	users = run(rl, "SELECT user_id FROM streams GROUP BY user_id"
	    " HAVING max(opened_at) < now() - $1::interval"
	    " ORDER BY user_id LIMIT " SWEEP_USERS, 1, params + 1);
	if (users == NULL)
		return false;
	for (i = 0; i < PQntuples(users) && !stopping(rl); i++) {
		int none;

		params[0] = PQgetvalue(users, i, 0);
		snprintf(channel, sizeof channel, "u%s", params[0]);
		if ((none = unheld(rl, channel)) < 0)
			break;	/* nchan is away: the next sweep asks again */
		if (!none) {
			held++;
			continue;
		}
		res = run(rl, "SELECT count(*) FROM (SELECT chatd_stream_close("
		    "id) FROM streams WHERE user_id = $1::bigint AND"
		    " opened_at < now() - $2::interval) closed", 2, params);
		if (res == NULL) {
			PQclear(users);
			return false;
		}
		*closed += atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (*closed > 0)
		log_info("relay: closed %d streams that nchan no longer held "
		    "(%d users asked, %d online)", *closed, i, held);
	PQclear(users);
	return true;
}

/* Runs sql, a query of rows (id, channels, body), and publishes them
 * (publish_rows). Their number, or -1 when the connection broke or a
 * stop came. */
static int publish_query(struct relay *rl, const char *sql, int n,
    const char *const *params)
{
	PGresult *res = run(rl, sql, n, params);
	int rows;
	bool ok;

	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	ok = publish_rows(rl, res);
	PQclear(res);
	return ok ? rows : -1;
}

/* Turns the wake-ups on or off: relay_wake.listening, which the workers
 * read before they notify, and LISTEN chatd_events, in that order and in
 * one transaction (sql/015_quiet_wakeups.sql: why no commit is missed).
 * Asynchronous commit: a flag lost in a crash of PostgreSQL is set again
 * when the relay connects. False when the connection broke. */
static bool listen_events(struct relay *rl, bool on)
{
	PGresult *res = checked(rl, PQexec(rl->conn, on ?
	    "SELECT set_config('synchronous_commit', 'off', true);"
	    " UPDATE relay_wake SET listening = true; LISTEN chatd_events" :
	    "SELECT set_config('synchronous_commit', 'off', true);"
	    " UPDATE relay_wake SET listening = false; UNLISTEN chatd_events"));

	if (res == NULL)
		return false;
	PQclear(res);
	rl->listening = on;
	return true;
}

/* The lock, LISTEN and the recorded position: what a new connection
 * needs before it publishes. False when it broke or a stop came. */
static bool prepare(struct relay *rl)
{
	bool said = false;
	PGresult *res;

	while ((res = run(rl, LOCK_SQL, 0, NULL)) != NULL &&
	    PQgetvalue(res, 0, 0)[0] != 't') {
		PQclear(res);
		if (!said)
			log_info("relay: another relay works on this database; "
			    "waiting until it stops");
		said = true;
		wait_for(rl, -1, 1000);
		if (stop_requested)
			return false;
	}
	if (res == NULL)
		return false;
	PQclear(res);
	/* Named, so that pg_stat_activity tells it from the workers (the
	 * benchmark's "no database" ceiling counts the workers' sessions). */
	if ((res = run(rl, "SET application_name TO 'chatd-relay'", 0,
	    NULL)) == NULL)
		return false;
	PQclear(res);
	if (!listen_events(rl, true))
		return false;
	if ((res = run(rl, "LISTEN chatd_typing", 0, NULL)) == NULL)
		return false;
	PQclear(res);
	if ((res = run(rl, "SELECT published FROM relay_state", 0, NULL)) ==
	    NULL)
		return false;
	if (PQntuples(res) != 1 || !id_parse(PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), &rl->published)) {
		log_error("relay: relay_state has no position");
		PQclear(res);
		return false;
	}
	PQclear(res);
	rl->recorded = rl->published;
	return true;
}

/* Publishes again every event taken after the position, a batch at a
 * time, as far as the log goes. False when the connection broke, or a
 * stop came before the end (the rest is the next relay's: no take may
 * move the position past events not yet published again). */
static bool republish(struct relay *rl)
{
	char after[21];
	const char *params[2] = {after, TAKE_BATCH};
	int n;

	do {
		id_format(rl->published, after);
		n = publish_query(rl, "SELECT id, channels, body FROM "
		    "chatd_events_since($1::bigint, $2::int)", 2, params);
		if (n < 0 || (n == TAKE_BATCH_N && stopping(rl)))
			return false;
	} while (n == TAKE_BATCH_N);
	return true;
}

/* Moves recent up to the position of RECENT_MS ago, and, when the
 * publisher lost its connection (in publish_rows, or in a typing notice's
 * publish or a sweep's GET since), publishes again from there, before
 * anything newer goes out (RECENT_MS). False as republish(). */
static bool recent_check(struct relay *rl)
{
	long long now = clock_ms();

	if (now >= rl->recent_at_ms) {
		rl->recent = rl->recent_next;
		rl->recent_next = rl->published;
		rl->recent_at_ms = now + RECENT_MS;
	}
	note_loss(rl);
	if (!rl->lost)
		return true;
	rl->lost = false;
	log_info("relay: nginx closed the publisher's connection unannounced; "
	    "publishing again from event %lld", (long long)rl->published + 1);
	return republish(rl);
}

/* Publishes on one connection until it breaks or a stop comes: first
 * again whatever was taken after the recorded position (a relay that
 * died between a take and its record), then each batch taken, waking on
 * a notification or after IDLE_MS; on a stop, what is left in the
 * outbox. */
static void serve(struct relay *rl)
{
	const char *params[1] = {TAKE_BATCH};
	long long drain_until;
	int n, busy = 0;

	if (!prepare(rl))
		return;
	log_info("relay: publishing from event %lld to %s",
	    (long long)rl->published, rl->cfg->publish);
	rl->recent = rl->recent_next = rl->published;
	rl->recent_at_ms = clock_ms() + RECENT_MS;
	if (!republish(rl))
		return;
	while (!stopping(rl)) {
		bool woke;

		if (!notifications(rl, &woke) || !recent_check(rl))
			return;
		n = publish_query(rl, TAKE_SQL, 1, params);
		if (n < 0)
			return;
		if (n > 0) {
			busy = busy < BUSY_TAKES ? busy + 1 : busy;
			if (!vacuum(rl, n) || (busy == BUSY_TAKES &&
			    rl->listening && !listen_events(rl, false)))
				return;
			if (n < TAKE_BATCH_N)
				wait_for(rl, -1, GATHER_MS);
			continue;
		}
		busy = 0;
		/* Idle again: wake-ups back on, and one more take for what
		 * committed while nobody listened. */
		if (!rl->listening) {
			if (!listen_events(rl, true))
				return;
			continue;
		}
		if (!record(rl, true))
			return;
		if (clock_ms() >= rl->expire_at_ms && !expire(rl))
			return;
		if (clock_ms() >= rl->sweep_at_ms) {
			int closed;

			if (!sweep(rl, &closed))
				return;
			if (closed > 0)
				continue;	/* their offline events */
		}
		/* libpq reads a notification that comes while a statement
		 * runs into its own queue, where the socket no longer shows
		 * it: one for a commit the take just missed would wait for
		 * IDLE_MS. Look there before waiting. */
		if (!notifications(rl, &woke))
			return;
		if (!woke)
			wait_for(rl, PQsocket(rl->conn), IDLE_MS);
	}
	/* Stopped: the master stops the relay after the workers, so what
	 * they committed last is in the outbox now; it goes out before the
	 * relay does, for DRAIN_MS at most (a backlog is the next relay's,
	 * and the master's grace period must not end first; a publish that
	 * fails now is not retried either). */
	drain_until = clock_ms() + DRAIN_MS;
	while (publish_query(rl, TAKE_SQL, 1, params) == TAKE_BATCH_N &&
	    clock_ms() < drain_until)
		;
	record(rl, true);
}

/* A connection to a database of the current schema, or NULL. *said:
 * whether the failure was logged already (once per outage). */
static PGconn *connect_db(struct relay *rl, bool *said)
{
	PGconn *conn = db_connect(rl->cfg->conninfo);
	int version;

	if (PQstatus(conn) != CONNECTION_OK) {
		if (!*said)
			log_warn("relay: database unavailable: %s; retrying",
			    PQerrorMessage(conn));
		*said = true;
		PQfinish(conn);
		return NULL;
	}
	version = migrate_current(conn);
	if (version != migrate_latest()) {
		if (!*said)
			log_error("relay: the database schema is at version "
			    "%d, this chatd needs %d: run `chatd migrate`",
			    version, migrate_latest());
		*said = true;
		PQfinish(conn);
		return NULL;
	}
	if (*said)
		log_info("relay: database connection back");
	*said = false;
	return conn;
}

bool relay_publish_ok(const char *spec)
{
	struct publisher *p = publisher_new(spec);

	publisher_free(p);
	return p != NULL;
}

int relay_run(const struct relay_config *cfg)
{
	struct relay rl = {.cfg = cfg};
	long long backoff = 0, started;
	bool said = false;

	install_signals(&rl);
#ifdef __linux__
	/* ps -o comm and top tell it from the workers, forks of the same
	 * program (and so do the tests' counts of workers). */
	prctl(PR_SET_NAME, RELAY_PROCESS_NAME, 0, 0, 0);
#endif
	rl.pub = publisher_new(cfg->publish);
	if (rl.pub == NULL) {
		log_error("relay: --relay-publish %s is not unix:PATH",
		    cfg->publish);
		return EXIT_FAILURE;
	}
	snprintf(rl.keep, sizeof rl.keep, "%d s", cfg->retention_seconds);
	snprintf(rl.sweep_age, sizeof rl.sweep_age, "%d s", cfg->sweep_seconds);
	rl.expire_at_ms = clock_ms();
	rl.sweep_at_ms = clock_ms() + cfg->sweep_seconds * 1000LL;
	buf_init(&rl.info);
	while (!stop_requested) {
		started = clock_ms();
		rl.conn = connect_db(&rl, &said);
		if (rl.conn != NULL) {
			serve(&rl);
			if (!stop_requested &&
			    PQstatus(rl.conn) != CONNECTION_OK) {
				log_warn("relay: database connection lost");
				said = true;
			}
			PQfinish(rl.conn);
			rl.conn = NULL;
		}
		if (stop_requested)
			break;
		/* A connection that served a while starts the backoff
		 * again; one that broke at once (or none) waits longer. */
		backoff = clock_ms() - started > 10000 ? BACKOFF_MIN_MS :
		    backoff_next(backoff);
		wait_for(&rl, -1, backoff);
	}
	publisher_free(rl.pub);
	buf_free(&rl.info);
	log_info("relay: stopped at event %lld", (long long)rl.published);
	return EXIT_SUCCESS;
}
