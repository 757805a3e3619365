/* The FastCGI listening socket: "unix:PATH" or "HOST:PORT". */
#ifndef CHATD_LISTEN_H
#define CHATD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LISTEN_BACKLOG 1024

/* Binds and listens on spec. A unix socket is created with mode (its
 * stale file from an earlier run is replaced, a live one is an error).
 * Returns the descriptor, or -1 with the reason logged. */
int listen_open(const char *spec, mode_t mode);
/* Gives the socket file of a unix spec to uid and gid ((uid_t)-1 or
 * (gid_t)-1 keep that one); no-op for TCP. Returns 0 or -1 (logged). */
int listen_chown(const char *spec, uid_t uid, gid_t gid);
/* Removes the socket file of a unix spec (no-op for TCP). */
void listen_cleanup(const char *spec);
/* The spec of the /auth/ pool's socket that goes with spec when none is
 * given: "unix:DIR/NAME.sock" -> "unix:DIR/NAME-auth.sock" (any other unix
 * path gets "-auth" appended), "HOST:PORT" -> "HOST:PORT+1". False when
 * it does not fit in out[n] or the port is the last one. */
bool listen_sibling(const char *spec, char *out, size_t n);
/* True when fd is a listening socket, as under spawn-fcgi on fd 0. */
int listen_is_socket(int fd);

#endif
