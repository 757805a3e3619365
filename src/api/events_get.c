/* POST /events/get {"after", "limit"} -> 200 [event...], the caller's
 * events after the event id after, oldest first, at most limit (1..1000,
 * default 100). after "0" reads from the oldest event kept and is never
 * 410; without after, the newest limit events (still oldest first); an
 * after > 0 below the horizon of expired events is 410 gone (API.md 2.6).
 * The caller's events: those of the chats the caller is a member of now
 * and joined at or before the event was numbered, those naming the
 * caller, and the presence events of the caller's partners: of a user who
 * shares a chat with the caller now, both members of it since at or
 * before the event was numbered (sql/011_events.sql). Each is the JSON
 * text stored with it, sent as it is, row by row. */
#include "config.h"

#include <stdio.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "list.h"
#include "reply.h"
#include "route.h"

#define EVENTS_PAGE_DEFAULT 100
#define EVENTS_PAGE_MAX 1000

struct events_get_req {
	int64_t caller;
	int64_t after;		/* -1 when absent: the newest page */
	int limit;
};

/* The ids of the caller $1's events in the range cond, the first (dir
 * ASC) or last (DESC) $3 of them: per chat of the caller, its first $3 by
 * the index events_chat_idx (a probe of each membership, so a user in
 * 5,000 chats costs 5,000 short index scans, not a scan of every event);
 * the caller's own by events_user_idx; per partner (a user in one of the
 * caller's chats, since the later of the two joins, the earliest over the
 * chats they share), the first $3 of the partner's presence events by
 * events_presence_idx: one short index scan per partner. */
#define EVENT_IDS(cond, dir) \
    "SELECT x.id FROM (" \
    " SELECT l.id FROM chat_members cm CROSS JOIN LATERAL (SELECT ev.id" \
    "   FROM events ev WHERE ev.members AND ev.chat_id = cm.chat_id" \
    "    AND ev.created_at >= cm.joined_at AND " cond("ev") \
    "   ORDER BY ev.id " dir " LIMIT $3) l WHERE cm.user_id = $1" \
    " UNION (SELECT u.id FROM events u WHERE u.user_id = $1" \
    "   AND u.data IS NOT NULL AND " cond("u") \
    "   ORDER BY u.id " dir " LIMIT $3)" \
    " UNION SELECT p.id FROM (SELECT pm.user_id," \
    "   min(greatest(mine.joined_at, pm.joined_at)) AS since" \
    "   FROM chat_members mine JOIN chat_members pm" \
    "    ON pm.chat_id = mine.chat_id AND pm.user_id <> mine.user_id" \
    "   WHERE mine.user_id = $1 GROUP BY pm.user_id) pt" \
    "  CROSS JOIN LATERAL (SELECT ev.id FROM events ev" \
    "   WHERE ev.type = 'presence' AND ev.user_id = pt.user_id" \
    "    AND ev.created_at >= pt.since AND " cond("ev") \
    "   ORDER BY ev.id " dir " LIMIT $3) p" \
    ") x ORDER BY x.id " dir " LIMIT $3"
#define AFTER(e) e ".id > $2"
#define ANY(e) "true"

/* $1 caller, $2 after, $3 limit -> the events' data, oldest first; no
 * row at all when $2 > 0 is below the horizon (a one-time filter: the
 * handler then asks which). */
static const struct query events_get_after = {"events_get_after",
    "SELECT e.data FROM events e WHERE e.id IN (" EVENT_IDS(AFTER, "ASC") ")"
    " AND ($2 = 0 OR $2 >= (SELECT horizon FROM relay_state))"
    " ORDER BY e.id", 3};
/* $1 caller, $3 limit -> the newest events' data, oldest first ($2 is
 * unused but keeps the parameters of events_get_after). */
static const struct query events_get_newest = {"events_get_newest",
    "SELECT e.data FROM events e WHERE e.id IN (" EVENT_IDS(ANY, "DESC") ")"
    " AND $2::bigint IS NULL ORDER BY e.id", 3};
/* Whether $1 is below the horizon: 410. */
static const struct query events_get_gone = {"events_get_gone",
    "SELECT FROM relay_state WHERE $1 > 0 AND $1 < horizon", 1};

static bool events_get_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct events_get_req *req = out;

	req->caller = d->caller->user;
	req->after = -1;
	req->limit = EVENTS_PAGE_DEFAULT;
	return decode_id(root, "after", false, &req->after, d) &&
	    decode_int(root, "limit", 1, EVENTS_PAGE_MAX, &req->limit, d);
}

/* A row's data, the event's whole JSON text, as it is. */
static bool put_event(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	if (PQgetisnull(res, row, 0))
		return false;
	buf_add(b, PQgetvalue(res, row, 0), (size_t)PQgetlength(res, row, 0));
	return true;
}

static bool put_events(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_event, arg);
}

static enum api_error events_get(struct db *db, const void *arg,
    struct reply *r)
{
	const struct events_get_req *in = arg;
	char caller[21], after[21], limit[12];
	const char *params[3] = {caller, in->after < 0 ? NULL : after, limit};
	struct list l = {.q = &events_get_after, .params = params,
	    .put = put_events, .stream = true};
	enum api_error err;
	PGresult *res;
	bool empty, gone;

	id_format(in->caller, caller);
	id_format(in->after < 0 ? 0 : in->after, after);
	snprintf(limit, sizeof limit, "%d", in->limit);
	if (in->after < 0)
		l.q = &events_get_newest;
	err = list_reply(db, r, &l, &empty);
	if (err != API_OK || !empty)
		return err;
	if (in->after > 0) {
		res = db_query(db, &events_get_gone, &params[1], &err);
		if (res == NULL)
			return reply_db_error(r, err);
		gone = PQntuples(res) > 0;
		PQclear(res);
		if (gone)
			return reply_fail(r, API_GONE, "field 'after': event %s "
			    "is older than the events kept", after);
	}
	buf_puts(&r->body, "[]\n");
	return API_OK;
}

const struct route route_events_get = {
	.path = "/events/get", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct events_get_req),
	.decode = events_get_decode, .handle = events_get,
	.queries = (const struct query *const[]){&events_get_after,
	    &events_get_newest, &events_get_gone, NULL},
};
