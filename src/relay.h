/* The relay (contrib/doc/REALTIME.md 2): the one process that moves
 * committed changes from the outbox into the event log, numbering them
 * (chatd_events_take), and publishes each event to nchan, in id order,
 * recording how far it got (chatd_relay_published). After a restart it
 * publishes again from that position: it never skips an event, and may
 * publish one twice (clients drop ids they have seen). It also publishes
 * typing notices (no id, not stored), expires old events, and closes the
 * streams rows nchan never said were closed (presence).
 *
 * A child of the master like a worker (master.c), or alone as `chatd
 * relay`. It holds its own PostgreSQL connection, reconnecting with
 * backoff, and a session-level advisory lock on it, so that exactly one
 * relay works on a database at a time (a second one waits). */
#ifndef CHATD_RELAY_H
#define CHATD_RELAY_H

#include <stdbool.h>

#define RELAY_PUBLISH_DEFAULT "unix:/run/chatd/chatd-nchan.sock"
#define RELAY_RETENTION_DEFAULT (7 * 24 * 3600)
#define RELAY_SWEEP_DEFAULT 60
/* Its process name (Linux: /proc/PID/comm), which tells it from the
 * workers. */
#define RELAY_PROCESS_NAME "chatd-relay"

struct relay_config {
	const char *conninfo;	/* libpq conninfo; "" for the PG* variables */
	const char *publish;	/* nchan's publisher: "unix:PATH" */
	int retention_seconds;	/* events older than this are deleted */
	/* Streams rows of a user that nchan holds no stream of are closed
	 * once they are this old, looked at this often (REALTIME.md 4). */
	int sweep_seconds;
};

/* True when spec is a publisher relay_run() can use ("unix:PATH"). */
bool relay_publish_ok(const char *spec);

/* Runs until SIGTERM, SIGINT or SIGQUIT (SIGHUP is ignored), finishing
 * the event in hand. Returns the process exit status. */
int relay_run(const struct relay_config *cfg);

#endif
