/* POST /chats/direct {"user"} -> the private chat of the caller and user
 * (API.md 2.3): 201 {"id"} when made now, 200 {"id"} when it existed; 400
 * when user is the caller, 404 when user does not exist. Concurrent
 * requests for one pair make one chat (sql/006_membership.sql). */
#include "config.h"

#include "auth.h"
#include "decode.h"
#include "direct.h"
#include "reply.h"
#include "route.h"

struct chats_direct_req {
	int64_t caller, user;
};

static bool chats_direct_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct chats_direct_req *req = out;

	req->caller = d->caller->user;
	if (!decode_id(root, "user", true, &req->user, d))
		return false;
	if (req->user == req->caller)
		return decode_fail(d, "field 'user' is the caller: a private "
		    "chat is with someone else");
	return true;
}

static enum api_error chats_direct(struct db *db, const void *arg,
    struct reply *r)
{
	const struct chats_direct_req *in = arg;

	return direct_open(db, in->caller, in->user, NULL, r);
}

const struct route route_chats_direct = {
	.path = "/chats/direct", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct chats_direct_req),
	.decode = chats_direct_decode, .handle = chats_direct,
};
