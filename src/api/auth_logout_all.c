/* POST /auth/logout_all {} -> 204: every session of the caller ends. */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "reply.h"
#include "route.h"
#include "session_end.h"

static const struct query auth_logout_all_delete = {"auth_logout_all",
    "DELETE FROM sessions WHERE user_id = $1", 1};

static enum api_error auth_logout_all(struct db *db, const void *arg,
    struct reply *r)
{
	return session_end(db, &auth_logout_all_delete, arg, true, r);
}

const struct route route_auth_logout_all = {
	.path = "/auth/logout_all", .method = "POST",
	.events = true,
	.session = SESSION_ALWAYS,
	.body = BODY_JSON, .req_size = sizeof(struct session_end_req),
	.decode = session_end_decode, .handle = auth_logout_all,
	.queries = (const struct query *const[]){&auth_logout_all_delete,
	    NULL},
};
