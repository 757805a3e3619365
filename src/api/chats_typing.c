/* POST /chats/typing {"chat"} -> 204: the other members of chat get a
 * typing event of the caller, which is not stored (API.md 2.6,
 * REALTIME.md 4). At most one notice per member and chat is sent on every
 * 3 s; a faster one is 204 as well and sends nothing. 403 for a
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

struct chats_typing_req {
	int64_t caller, chat;
};

/* sql/011_events.sql: outcome, a word; 'typed' has notified
 * chatd_typing in the same statement. */
static const struct query chats_typing_note = {"chats_typing",
    "SELECT outcome FROM chatd_typing($1, $2)", 2};

static bool chats_typing_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_typing_req *req = out;

	req->caller = d->caller->user;
	return decode_id(root, "chat", true, &req->chat, d);
}

static enum api_error chats_typing(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_typing_req *in = arg;
	char chat[21], caller[21];
	const char *params[2] = {chat, caller};
	char outcome[16];
	enum api_error err;

	id_format(in->chat, chat);
	id_format(in->caller, caller);
	if (!db_word(db, &chats_typing_note, params, outcome, sizeof outcome,
	    &err))
		return reply_db_error(r, err);
	if (strcmp(outcome, "typed") == 0 || strcmp(outcome, "throttled") == 0) {
		reply_no_content(r);
		return API_OK;
	}
	if (membership_refused(outcome, chat, r, &err))
		return err;
	log_error("chats/typing: unexpected outcome '%s'", outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}

const struct route route_chats_typing = {
	.path = "/chats/typing", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct chats_typing_req),
	.decode = chats_typing_decode, .handle = chats_typing,
	.queries = (const struct query *const[]){&chats_typing_note, NULL},
};
