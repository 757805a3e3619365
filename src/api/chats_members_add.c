/* POST /chats/members/add {"chat", "user"} -> 204: the owner of a group
 * chat adds user (API.md 2.3); a user already in it is 204 with nothing
 * changed. The refusals are membership_change's. */
#include "config.h"

#include "membership.h"
#include "reply.h"
#include "route.h"

static enum api_error chats_members_add(struct db *db, const void *arg,
    struct reply *r)
{
	return membership_change(db, arg, true, r);
}

const struct route route_chats_members_add = {
	.path = "/chats/members/add", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct membership_req),
	.decode = membership_decode, .handle = chats_members_add,
};
