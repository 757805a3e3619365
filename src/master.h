/* The pre-fork master: owns the listening sockets, keeps N workers running
 * on the main one and M on the /auth/ one, and the relay, and is the only
 * process that acts on operator signals.
 *   SIGTERM, SIGINT  graceful stop: workers finish the request in hand;
 *                    new connections are refused at once
 *   SIGHUP           rolling restart: each worker is replaced in turn
 *                    (the relay keeps running)
 * A worker that dies is respawned, with backoff when it dies young; after
 * too many deaths in a short window the master stops and exits 1. The
 * relay is respawned the same way, but never stops the master. */
#ifndef CHATD_MASTER_H
#define CHATD_MASTER_H

#include <stdbool.h>

#include "relay.h"
#include "worker.h"

struct master_config {
	struct worker_config worker;
	const char *listen;	/* its spec: a unix socket's path is removed
				   as soon as a stop begins */
	int workers;
	/* The /auth/ pool: auth_workers more workers on auth_fd (auth_listen
	 * its spec), so that password hashes cannot take the main pool's
	 * workers; 0 for none (then nothing else of it is used). */
	int auth_workers;
	int auth_nice;		/* their scheduling priority (nice) */
	int auth_fd;
	const char *auth_listen;
	int grace_seconds;	/* before SIGKILL on stop */
	/* The relay (relay.h): one more child, respawned like a worker,
	 * stopped once the workers have exited (their last writes are then
	 * committed, and it publishes them); none when relay is false. */
	bool relay;
	struct relay_config relay_cfg;
};

/* Runs until stopped. Returns the process exit status. */
int master_run(const struct master_config *cfg);

#endif
