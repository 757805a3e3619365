#include "config.h"

#include <libpq-fe.h>

#include "db.h"
#include "events_notify.h"
#include "log.h"

/* Only while the relay listens (sql/015_quiet_wakeups.sql): a busy one
 * takes again a few milliseconds later anyway, and every notify signals
 * every listening backend. */
static const struct query events_notify_q = {"events_notify",
    "SELECT set_config('synchronous_commit', 'off', true),"
    " pg_notify('chatd_events', '') FROM relay_wake WHERE listening", 0};

const struct query *const events_notify_queries[] = {&events_notify_q,
    NULL};

void events_notify(struct db *db)
{
	enum api_error err;
	PGresult *res = db_query(db, &events_notify_q, NULL, &err);

	if (res == NULL)
		log_info("events: no wake-up sent to the relay");
	PQclear(res);
}
