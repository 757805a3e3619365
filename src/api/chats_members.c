/* POST /chats/members {"chat"} -> 200 [{"id", "username", "role",
 * "joined_at"}] by joined_at (then id), role "owner" or "member" (API.md
 * 2.3); 404 for no such chat, 403 when the caller is not a member. A
 * member's list is never empty (it holds the caller), so one statement
 * answers it; only an empty answer asks why. */
#include "config.h"

#include "db.h"
#include "decode.h"
#include "id.h"
#include "json_out.h"
#include "list.h"
#include "membership.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"

struct chats_members_req {
	int64_t caller, chat;
};

/* $1 chat, $2 caller: the members, none when the caller is not one.
 * Columns: id, username, is owner, joined_at. */
static const struct query chats_members_list = {"chats_members",
    "SELECT u.id, u.username, c.owner_id IS NOT DISTINCT FROM u.id,"
    "  m.joined_at"
    " FROM chats c JOIN chat_members m ON m.chat_id = c.id"
    " JOIN users u ON u.id = m.user_id"
    " WHERE c.id = $1 AND EXISTS (SELECT FROM chat_members"
    "  WHERE chat_id = $1 AND user_id = $2)"
    " ORDER BY m.joined_at, u.id", 2};

static bool chats_members_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_members_req *req = out;

	req->caller = d->caller->user;
	return decode_id(root, "chat", true, &req->chat, d);
}

static bool put_member(struct buf *b, const PGresult *res, int row,
    const void *arg)
{
	(void)arg;
	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"username\":");
	json_out_string(b, PQgetvalue(res, row, 1), (size_t)PQgetlength(res,
	    row, 1));
	buf_puts(b, *PQgetvalue(res, row, 2) ? ",\"role\":\"owner\"" :
	    ",\"role\":\"member\"");
	buf_puts(b, ",\"joined_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_putc(b, '}');
	return true;
}

static bool put_members(struct buf *b, const PGresult *res, int n,
    const void *arg)
{
	return list_rows(b, res, n, put_member, arg);
}

static enum api_error chats_members(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_members_req *in = arg;
	char chat[21], caller[21];
	const char *params[2] = {chat, caller};
	struct list l = {.q = &chats_members_list, .params = params,
	    .put = put_members};
	enum api_error err;
	bool empty;

	id_format(in->chat, chat);
	id_format(in->caller, caller);
	err = list_reply(db, r, &l, &empty);
	if (err != API_OK || !empty)
		return err;
	/* No member list: no such chat, or not the caller's (a member who
	 * joined since would see the list on asking again). */
	err = membership_check(db, chat, in->caller, r);
	if (err == API_OK)
		buf_puts(&r->body, "[]\n");
	return err;
}

const struct route route_chats_members = {
	.path = "/chats/members", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct chats_members_req),
	.decode = chats_members_decode, .handle = chats_members,
	.queries = (const struct query *const[]){&chats_members_list, NULL},
};
