/* POST /users/list {"status", "limit", "after"} -> 200 [user...]: the other
 * users, by id ascending, a page of limit (1..1000, default 100) after the
 * id after. status: "all" (the default), "active" (online: seen within
 * the presence window) or "inactive" (the others). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "id.h"
#include "list.h"
#include "reply.h"
#include "route.h"
#include "user_json.h"

#define USERS_PAGE_DEFAULT 100
#define USERS_PAGE_MAX 1000

struct users_list_req {
	struct caller caller;
	const struct query *q;	/* of the status asked for */
	int64_t after;
	int limit;
};

/* A page of the users after $2 but the caller $1, by id, with the
 * condition cond; $3 the limit. */
#define USERS_PAGE(cond) \
    "SELECT " USER_COLUMNS " FROM users u" \
    " WHERE u.id > $2 AND u.id <> $1" cond " ORDER BY u.id LIMIT $3"

static const struct query users_list_all = {"users_list_all",
    USERS_PAGE(""), 3};
/* The online: the users seen lately, found by users_seen_idx
 * (sql/008_quiet_marks.sql), and those with an open stream
 * (sql/012_presence.sql), then a page of them by id that are online. Its cost grows with the users seen lately, not with all users
 * (the few online among two million, read by id until a page was full,
 * took 1.9 s; now 0.01 ms, and 5 ms with 9,000 online). */
static const struct query users_list_active = {"users_list_active",
    "WITH seen AS MATERIALIZED (SELECT id FROM users WHERE"
    USER_SEEN_LATELY("last_seen_at")
    "  UNION SELECT user_id FROM streams)"
    " SELECT " USER_COLUMNS " FROM (SELECT id FROM seen"
    "  WHERE id > $2 AND id <> $1 ORDER BY id) n JOIN users u ON u.id = n.id"
    " WHERE " USER_ONLINE " ORDER BY u.id LIMIT $3", 3};
/* The others, who are most users: read by id. */
static const struct query users_list_inactive = {"users_list_inactive",
    USERS_PAGE(" AND NOT " USER_ONLINE), 3};

static bool users_list_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	static const char *const statuses[] = {"all", "active", "inactive"};
	static const struct query *const queries[] = {&users_list_all,
	    &users_list_active, &users_list_inactive};
	struct users_list_req *req = out;
	const json_t *v = json_object_get(root, "status");
	size_t i;

	req->caller = *d->caller;
	req->q = &users_list_all;
	req->after = 0;
	req->limit = USERS_PAGE_DEFAULT;
	if (v != NULL) {
		req->q = NULL;
		for (i = 0; json_is_string(v) && i < 3; i++)
			if (strcmp(json_string_value(v), statuses[i]) == 0)
				req->q = queries[i];
		if (req->q == NULL)
			return decode_fail(d, "field 'status' must be \"all\", "
			    "\"active\" or \"inactive\"");
	}
	return decode_id(root, "after", false, &req->after, d) &&
	    decode_int(root, "limit", 1, USERS_PAGE_MAX, &req->limit, d);
}

static bool put_user(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	user_json(b, res, row, false);
	return true;
}

static bool put_users(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_user, arg);
}

static enum api_error users_list(struct db *db, const void *arg,
    struct reply *r)
{
	const struct users_list_req *in = arg;
	char user[21], after[21], limit[12];
	const char *params[3] = {user, after, limit};
	const struct list l = {.q = in->q, .params = params,
	    .put = put_users};

	id_format(in->caller.user, user);
	id_format(in->after, after);
	snprintf(limit, sizeof limit, "%d", in->limit);
	return list_reply(db, r, &l, NULL);
}

const struct route route_users_list = {
	.path = "/users/list", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct users_list_req),
	.decode = users_list_decode, .handle = users_list,
	.queries = (const struct query *const[]){&users_list_all,
	    &users_list_active, &users_list_inactive, NULL},
};
