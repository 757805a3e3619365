/* POST /chats/read {"chat", "message"} -> 204: the caller's read marker in
 * chat is at least message (API.md 2.3; it never moves back). 400 when
 * message is of another chat or beyond the chat's last message, 403 for a
 * non-member, 404 for no such chat. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "log.h"
#include "membership.h"
#include "reply.h"
#include "route.h"

struct chats_read_req {
	int64_t caller, chat, message;
};

/* sql/006_membership.sql: outcome, a word. */
static const struct query chats_read_mark = {"chats_read",
    "SELECT outcome FROM chatd_read($1, $2, $3)", 3};

static bool chats_read_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_read_req *req = out;

	req->caller = d->caller->user;
	return decode_id(root, "chat", true, &req->chat, d) &&
	    decode_id(root, "message", true, &req->message, d);
}

static enum api_error answer(const char *outcome, const char *chat,
    const char *message, struct reply *r)
{
	enum api_error err;

	if (strcmp(outcome, "read") == 0) {
		reply_no_content(r);
		return API_OK;
	}
	if (membership_refused(outcome, chat, r, &err))
		return err;
	if (strcmp(outcome, "bad_message") == 0)
		return reply_fail(r, API_BAD_REQUEST, "field 'message': message "
		    "%s is not in chat %s", message, chat);
	log_error("chats/read: unexpected outcome '%s'", outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}

static enum api_error chats_read(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_read_req *in = arg;
	char caller[21], chat[21], message[21];
	const char *params[3] = {caller, chat, message};
	char outcome[16];
	enum api_error err;

	id_format(in->caller, caller);
	id_format(in->chat, chat);
	id_format(in->message, message);
	if (!db_word(db, &chats_read_mark, params, outcome, sizeof outcome,
	    &err))
		return reply_db_error(r, err);
	return answer(outcome, chat, message, r);
}

const struct route route_chats_read = {
	.path = "/chats/read", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct chats_read_req),
	.decode = chats_read_decode, .handle = chats_read,
	.queries = (const struct query *const[]){&chats_read_mark, NULL},
};
