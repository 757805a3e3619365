/* POST /chats/get {"user"} -> 200 [chat...], the user's chats by latest
 * message, newest first; 404 for an unknown user. With a session, user
 * may be left out (the caller) and must be the caller (403 otherwise),
 * and each chat has the caller's "last_read" and "unread" (API.md 2.3):
 * the messages after the read marker that others wrote, counted when
 * asked (never a stored counter, so always exact).
 *
 * Memory stays flat however many chats the user is in: a list of up to
 * CHATS_WHOLE_MAX chats is fetched in one result (one round trip, the
 * cheapest way for libpq), a longer one is streamed row by row (which costs
 * libpq a result per row, ~1,400 instructions). One statement decides
 * which: the whole-list query yields nothing at all for a user in more
 * chats, having counted at most CHATS_WHOLE_MAX + 1 of their memberships. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "list.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

#define CHATS_WHOLE_MAX 500
#define STR(x) #x
#define XSTR(x) STR(x)

struct chats_get_req {
	int64_t user;	/* -1: the caller, not known yet (auth.h) */
	bool other;	/* a session reading another user's list */
	struct caller *caller;
};

/* The unread messages of member m of chat c (user the member): others'
 * messages after the read marker, counted (exact at every moment), or 0
 * without counting when the marker is at or past the chat's newest. */
#define UNREAD(user) \
    " (CASE WHEN m.last_read >= c.last_message_id THEN 0 ELSE" \
    "  (SELECT count(*) FROM messages x WHERE x.chat_id = m.chat_id" \
    "   AND x.id > coalesce(m.last_read, 0) AND x.author_id <> " user \
    "  ) END)"
/* The columns of chat c of member m (user the member; $2 whether to count
 * unread messages: a CASE runs its subquery only when taken): id, name,
 * created_at, last_message_at, members int8[], type, owner_id, last_read,
 * unread. */
#define CHAT_COLUMNS(user) \
    "SELECT c.id, c.name, c.created_at, c.last_message_at, c.members," \
    "  c.type, c.owner_id, m.last_read, CASE WHEN $2::boolean THEN" \
    UNREAD(user) " END"
/* Chat c of membership m, fetched by its primary key (the OFFSET 0 keeps
 * the planner from turning that into a hash join over every chat, which
 * it prefers for a user in thousands of chats: 52 ms instead of 24 with
 * 140,000 chats). */
#define CHAT_OF_MEMBER \
    " CROSS JOIN LATERAL" \
    "  (SELECT * FROM chats WHERE chats.id = m.chat_id OFFSET 0) c"
/* The chats of user $1. */
#define CHATS_OF_USER \
    CHAT_COLUMNS("$1") " FROM chat_members m" CHAT_OF_MEMBER \
    " WHERE m.user_id = $1"
/* Newest latest message first; chats without messages after all others,
 * newest chat first; ties by id, higher first. */
#define CHATS_ORDER \
    " ORDER BY c.last_message_at DESC NULLS LAST," \
    "  CASE WHEN c.last_message_at IS NULL THEN c.created_at END DESC," \
    "  c.id DESC"

/* Whether user is in at most CHATS_WHOLE_MAX chats, having counted at
 * most one more of their memberships. */
#define FEW_CHATS(user) \
    " (SELECT count(*) FROM (SELECT FROM chat_members WHERE user_id = " \
    user " LIMIT " XSTR(CHATS_WHOLE_MAX) " + 1) n) <= " XSTR(CHATS_WHOLE_MAX)

/* All of them, when they are at most CHATS_WHOLE_MAX; otherwise nothing
 * (the count is a one-time filter, evaluated before any chat is read). */
static const struct query chats_get_few = {"chats_get_few",
    CHATS_OF_USER " AND" FEW_CHATS("$1") CHATS_ORDER, 2};
static const struct query chats_get_all = {"chats_get_all",
    CHATS_OF_USER CHATS_ORDER, 2};
static const struct query chats_get_user = {"chats_get_user",
    "SELECT FROM users WHERE id = $1", 1};
/* With a token: the caller's own list as few has it, unread counted, as
 * the session of $3/$4 (idle less than $5) and only when $1 is
 * NULL or the caller. No row when any of that fails, or the caller is in
 * no chat or in more than CHATS_WHOLE_MAX: the handler then asks the
 * other statements, which tell those apart. $2 is unused (true), so that
 * the columns are those of few. */
static const struct query chats_get_mine = {"chats_get_mine",
    "WITH me AS (SELECT s.user_id FROM sessions s WHERE"
    AUTH_SESSION_IS("$3", "$4", "$5", "true") " AND ($1::bigint IS NULL"
    "  OR $1::bigint = s.user_id) AND" FEW_CHATS("s.user_id") ")"
    " " CHAT_COLUMNS("me.user_id")
    " FROM me JOIN chat_members m ON m.user_id = me.user_id" CHAT_OF_MEMBER
    CHATS_ORDER, 5};

static bool chats_get_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_get_req *req = out;

	req->caller = d->caller;
	return decode_acting_user(root, "user", &req->user, &req->other, d);
}

/* An id column that may be NULL. */
static void put_opt_id(struct buf *b, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		buf_puts(b, "null");
	else
		json_out_id(b, pgbin_int8(PQgetvalue(res, row, col)));
}

/* One row of few or all as a JSON object; arg points to the request's
 * unread flag. False when the members array is malformed. */
static bool put_chat(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	const bool *unread = arg;
	struct pgbin_array it;
	int64_t member;
	bool first = true;

	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"name\":");
	json_out_string(b, PQgetvalue(res, row, 1), (size_t)PQgetlength(res,
	    row, 1));
	buf_puts(b, ",\"users\":[");
	if (!PQgetisnull(res, row, 4)) {
		if (!pgbin_array_begin(&it, PQgetvalue(res, row, 4),
		    (size_t)PQgetlength(res, row, 4)))
			return false;
		while (pgbin_array_next(&it, &member)) {
			if (!first)
				buf_putc(b, ',');
			first = false;
			json_out_id(b, member);
		}
	}
	buf_puts(b, "],\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 2)));
	buf_puts(b, ",\"last_message_at\":");
	if (PQgetisnull(res, row, 3))
		buf_puts(b, "null");
	else
		json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_puts(b, ",\"type\":");
	json_out_string(b, PQgetvalue(res, row, 5), (size_t)PQgetlength(res,
	    row, 5));
	buf_puts(b, ",\"owner\":");
	put_opt_id(b, res, row, 6);
	if (*unread) {
		char n[21];

		buf_puts(b, ",\"last_read\":");
		put_opt_id(b, res, row, 7);
		id_format(pgbin_int8(PQgetvalue(res, row, 8)), n);
		buf_puts(b, ",\"unread\":");
		buf_puts(b, n);
	}
	buf_putc(b, '}');
	return true;
}

static bool put_chats(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_chat, arg);
}

/* The list l (few's parameters) of a user in more than CHATS_WHOLE_MAX
 * chats, or in none, or of no such user: all, streamed. */
static enum api_error chats_get_all_chats(struct db *db, struct reply *r,
    struct list *l)
{
	l->q = &chats_get_all;
	l->stream = true;
	l->owner_q = &chats_get_user;
	l->owner = "user";
	return list_reply(db, r, l, NULL);
}

static enum api_error chats_get_refuse_other(struct reply *r)
{
	return reply_fail(r, API_FORBIDDEN, "field 'user' is not the "
	    "session's user: a session reads its own chats");
}

static enum api_error chats_get(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_get_req *in = arg;
	char id[21] = "";
	int64_t user = in->user;
	bool unread = true, other = in->other, empty;
	const char *params[5] = {id, "true", in->caller->token_id,
	    in->caller->token_check, auth_texts.idle};
	struct list l = {.q = &chats_get_mine, .params = params,
	    .put = put_chats, .arg = &unread};
	enum api_error err;

	if (in->caller->pending) {
		/* One statement for the common case: a session's own list. */
		if (user >= 0)
			id_format(user, id);
		else
			params[0] = NULL;
		err = list_reply(db, r, &l, &empty);
		if (err != API_OK || !empty)
			return err;
		err = auth_lookup(db, in->caller, r);
		if (err != API_OK)
			return err;
		if (caller_other(in->caller, &user))
			return chats_get_refuse_other(r);
		/* The caller's own list, in no chat or in more than
		 * CHATS_WHOLE_MAX: few would yield nothing either. */
		id_format(user, id);
		params[0] = id;
		return chats_get_all_chats(db, r, &l);
	}
	if (other)
		return chats_get_refuse_other(r);
	unread = in->caller->user != 0;
	params[1] = unread ? "true" : "false";
	id_format(user, id);
	l.q = &chats_get_few;
	err = list_reply(db, r, &l, &empty);
	if (err != API_OK || !empty)
		return err;
	return chats_get_all_chats(db, r, &l);
}

const struct route route_chats_get = {
	.path = "/chats/get", .method = "POST", .body = BODY_JSON,
	.session = SESSION_IF_REQUIRED, .inline_session = true,
	.req_size = sizeof(struct chats_get_req),
	.decode = chats_get_decode, .handle = chats_get,
	.queries = (const struct query *const[]){&chats_get_few,
	    &chats_get_all, &chats_get_user, &chats_get_mine, NULL},
};
