/* GET /health -> 200 {"status":"ok"} when this worker can run a statement
 * on the database; 503 (unavailable, Retry-After) when it cannot. For load
 * balancers and test suites: no body, no session. */
#include "config.h"

#include "db.h"
#include "reply.h"
#include "route.h"

static const struct query health_ping = {"health", "SELECT", 0};

static enum api_error health(struct db *db, const void *arg,
    struct reply *r)
{
	enum api_error err;
	PGresult *res;

	(void)arg;
	res = db_query(db, &health_ping, NULL, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	PQclear(res);
	buf_puts(&r->body, "{\"status\":\"ok\"}\n");
	return API_OK;
}

const struct route route_health = {
	.path = "/health", .method = "GET", .body = BODY_NONE,
	.handle = health,
	.queries = (const struct query *const[]){&health_ping, NULL},
};
