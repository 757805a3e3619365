/* POST /auth/logout {} -> 204: the caller's session ends (and the
 * browser's cookie with it). */
#include "config.h"

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "reply.h"
#include "route.h"
#include "session_end.h"

static const struct query auth_logout_delete = {"auth_logout",
    "DELETE FROM sessions WHERE id = $1", 1};

static enum api_error auth_logout(struct db *db, const void *arg,
    struct reply *r)
{
	return session_end(db, &auth_logout_delete, arg, false, r);
}

const struct route route_auth_logout = {
	.path = "/auth/logout", .method = "POST",
	.events = true,
	.session = SESSION_ALWAYS,
	.body = BODY_JSON, .req_size = sizeof(struct session_end_req),
	.decode = session_end_decode, .handle = auth_logout,
	.queries = (const struct query *const[]){&auth_logout_delete, NULL},
};
