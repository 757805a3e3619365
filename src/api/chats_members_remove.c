/* POST /chats/members/remove {"chat", "user"} -> 204: the owner of a
 * group chat removes user, or a member leaves (user is the caller); an
 * owner who leaves passes the chat to the longest-standing member (API.md
 * 2.3). The refusals are membership_change's. */
#include "config.h"

#include "membership.h"
#include "reply.h"
#include "route.h"

static enum api_error chats_members_remove(struct db *db, const void *arg,
    struct reply *r)
{
	return membership_change(db, arg, false, r);
}

const struct route route_chats_members_remove = {
	.path = "/chats/members/remove", .method = "POST", .body = BODY_JSON,
	.events = true,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct membership_req),
	.decode = membership_decode, .handle = chats_members_remove,
};
