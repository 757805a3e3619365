/* POST /messages/delete {"message"} -> 204: the message's author or the
 * chat's owner, a member of the chat, deletes it (API.md 2.4). The row is
 * deleted: its id leaves a gap in messages/get, no other message changes,
 * and the chat's newest message (chats/get's last_message_at, unread
 * counts) is recomputed under the chat's row lock. 404 for no such
 * message, 403 for anyone else. */
#include "config.h"

#include "decode.h"
#include "message_change.h"
#include "route.h"

struct messages_delete_req {
	int64_t caller, message;
};

/* sql/010_edit_search.sql: outcome, a word. */
static const struct query messages_delete_q = {"messages_delete",
    "SELECT outcome FROM chatd_message_delete($1, $2)", 2};

static bool messages_delete_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct messages_delete_req *req = out;

	req->caller = d->caller->user;
	return decode_id(root, "message", true, &req->message, d);
}

static enum api_error messages_delete(struct db *db, const void *arg,
    struct reply *r)
{
	const struct messages_delete_req *in = arg;

	return message_change(db, &messages_delete_q, in->caller, in->message,
	    NULL, r);
}

const struct route route_messages_delete = {
	.path = "/messages/delete", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct messages_delete_req),
	.decode = messages_delete_decode, .handle = messages_delete,
	.queries = (const struct query *const[]){&messages_delete_q, NULL},
};
