#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

static int unix_path(const char *spec, struct sockaddr_un *sun)
{
	const char *path = spec + strlen("unix:");

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) == 0 || strlen(path) >= sizeof sun->sun_path) {
		log_error("listen: bad unix socket path '%s'", path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Unlinks path when it is a socket nobody listens on any more. */
static int remove_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("listen: %s exists and is not a socket",
		    sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	close(fd);
	if (rc == 0) {
		log_error("listen: %s is in use by another process",
		    sun->sun_path);
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

static int open_unix(const char *spec, mode_t mode)
{
	struct sockaddr_un sun;
	int fd = -1;

	if (unix_path(spec, &sun) < 0 || remove_stale(&sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		goto fail;
	/* Set the mode on the path, not through umask: nginx's workers must
	 * be able to connect, and a wrong mode gives 502 on every request. */
	if (chmod(sun.sun_path, mode) < 0)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	log_error("listen: %s: %s", sun.sun_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_tcp(const char *spec)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *ai = NULL, *p;
	int fd = -1, one = 1, rc;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof host) {
		log_error("listen: '%s' is neither unix:PATH nor HOST:PORT",
		    spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		log_error("listen: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		log_error("listen: %s: %s", spec, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

int listen_open(const char *spec, mode_t mode)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(spec, mode);
	return open_tcp(spec);
}

int listen_chown(const char *spec, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun;

	if (strncmp(spec, "unix:", 5) != 0 ||
	    (uid == (uid_t)-1 && gid == (gid_t)-1))
		return 0;
	if (unix_path(spec, &sun) < 0)
		return -1;
	if (chown(sun.sun_path, uid, gid) < 0) {
		log_error("listen: chown %s: %s", sun.sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

void listen_cleanup(const char *spec)
{
	struct sockaddr_un sun;

	if (strncmp(spec, "unix:", 5) == 0 && unix_path(spec, &sun) == 0)
		unlink(sun.sun_path);
}

int listen_is_socket(int fd)
{
	int val = 0;
	socklen_t len = sizeof val;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 &&
	    val;
}

bool listen_sibling(const char *spec, char *out, size_t n)
{
	const char *colon;
	size_t len = strlen(spec);
	char *end;
	long port;
	int k;

	if (strncmp(spec, "unix:", 5) == 0) {
		if (len > 5 + 5 && strcmp(spec + len - 5, ".sock") == 0)
			k = snprintf(out, n, "%.*s-auth.sock", (int)(len - 5),
			    spec);
		else
			k = snprintf(out, n, "%s-auth", spec);
		return k > 0 && (size_t)k < n;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL)
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port >= 65535)
		return false;
	k = snprintf(out, n, "%.*s:%ld", (int)(colon - spec), spec, port + 1);
	return k > 0 && (size_t)k < n;
}
