/* A FastCGI worker: accepts one request at a time on the listening socket
 * and answers it, holding one database connection for its whole life. */
#ifndef CHATD_WORKER_H
#define CHATD_WORKER_H

#include <stddef.h>

struct worker_config {
	int listen_fd;
	const char *conninfo;
	size_t max_body;	/* bytes; larger bodies get 413 */
	int statement_timeout_ms;	/* 0: none */
};

/* Serves requests until SIGTERM, SIGINT or SIGQUIT, finishing the request
 * in hand before it returns. Returns the process exit status. */
int worker_run(const struct worker_config *cfg);

#endif
