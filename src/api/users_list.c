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
	const char *status;	/* "all", "active" or "inactive" */
	int64_t after;
	int limit;
};

/* $1 caller, $2 after, $3 status, $4 presence window, $5 limit. */
static const struct query users_list_page = {"users_list",
    "SELECT " USER_COLUMNS("$4") " FROM users u"
    " WHERE u.id > $2 AND u.id <> $1 AND ($3 = 'all' OR ($3 = 'active') ="
    "  " USER_ONLINE("$4") ")"
    " ORDER BY u.id LIMIT $5", 5};

static bool users_list_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	static const char *const statuses[] = {"all", "active", "inactive"};
	struct users_list_req *req = out;
	const json_t *v = json_object_get(root, "status");
	size_t i;

	req->caller = *d->caller;
	req->status = "all";
	req->after = 0;
	req->limit = USERS_PAGE_DEFAULT;
	if (v != NULL) {
		req->status = NULL;
		for (i = 0; json_is_string(v) && i < 3; i++)
			if (strcmp(json_string_value(v), statuses[i]) == 0)
				req->status = statuses[i];
		if (req->status == NULL)
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
	const char *params[5] = {user, after, in->status, auth_texts.presence,
	    limit};
	const struct list l = {.q = &users_list_page, .params = params,
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
	.queries = (const struct query *const[]){&users_list_page, NULL},
};
