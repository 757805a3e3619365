/* The wake-up of the relay (REALTIME.md 1): after a request that wrote
 * events has been answered, its worker notifies chatd_events in a
 * transaction of its own that commits without waiting for the disk, so
 * that no writer holds PostgreSQL's notify lock through its own commit;
 * and only when the relay asks for wake-ups (relay_wake.listening: not
 * while it is busy). */
#ifndef CHATD_EVENTS_NOTIFY_H
#define CHATD_EVENTS_NOTIFY_H

#include "query.h"

struct db;

/* Sends the notification. A failure is logged and otherwise ignored: the
 * relay re-checks the outbox once a second without one. */
void events_notify(struct db *db);

extern const struct query *const events_notify_queries[];

#endif
