#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "reply.h"
#include "sha256.h"
#include "sniff.h"
#include "store.h"

struct store_config store_config = {
	.dir = STORE_DIR_DEFAULT,
	.max_file = STORE_MAX_FILE_DEFAULT,
	.quota = STORE_QUOTA_DEFAULT,
};

#define INCOMING "/incoming/"

/* Whether path is a file directly in the incoming directory: the
 * directory's path, then a name without a slash that is not "." or "..".
 * nginx makes the names (client_body_temp_path without levels). */
static bool in_incoming(const char *path)
{
	size_t n = strlen(store_config.dir), k = strlen(INCOMING);
	const char *name = path + n + k;

	return strncmp(path, store_config.dir, n) == 0 &&
	    strncmp(path + n, INCOMING, k) == 0 && *name != '\0' &&
	    strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;
}

/* Reads fd to its end: the type from its first bytes, the SHA-256 of all,
 * the size. False on a read error. */
static bool digest(int fd, struct store_file *f)
{
	struct sha256 st;
	unsigned char buf[65536], head[SNIFF_BYTES];
	size_t have = 0;
	ssize_t n;

	sha256_init(&st, true);
	f->size = 0;
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (have < SNIFF_BYTES) {
			size_t take = (size_t)n < SNIFF_BYTES - have ?
			    (size_t)n : SNIFF_BYTES - have;

			memcpy(head + have, buf, take);
			have += take;
		}
		sha256_update(&st, buf, (size_t)n);
		f->size += n;
	}
	sha256_final(&st, f->sha256);
	f->type = sniff_type(head, have);
	return n == 0;
}

static void new_name(char out[STORE_NAME_LEN + 1])
{
	unsigned char raw[STORE_NAME_LEN / 2];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, STORE_NAME_LEN + 1, raw, sizeof raw);
}

/* dir/name into out (PATH_MAX). */
static bool stored_path(char *out, size_t outsz, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", store_config.dir, name);

	return n > 0 && (size_t)n < outsz;
}

enum api_error store_adopt(const char *path, struct store_file *f,
    struct reply *r)
{
	char dst[4096];
	struct stat st;
	bool ok;
	int fd;

	if (path == NULL || !in_incoming(path)) {
		log_error("upload body path %s is not in %s" INCOMING
		    " (nginx: client_body_temp_path, client_body_in_file_only;"
		    " nginx/chatd.conf)", path ? path : "(none)",
		    store_config.dir);
		return reply_fail(r, API_INTERNAL, "the server's upload "
		    "configuration is broken");
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("upload body %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return reply_fail(r, API_INTERNAL, "the upload could not be "
		    "read");
	}
	if (st.st_size > store_config.max_file) {
		close(fd);
		return reply_fail(r, API_PAYLOAD_TOO_LARGE, "a file may have "
		    "at most %lld bytes", (long long)store_config.max_file);
	}
	ok = digest(fd, f);
	/* The file's time is now when chatd took it in: the sweep spares it
	 * for --sweep-age from here, whenever nginx wrote its last byte. */
	if (ok && futimens(fd, NULL) != 0)
		log_warn("upload body %s: futimens: %s", path, strerror(errno));
	close(fd);
	if (!ok || f->size != st.st_size) {
		log_error("upload body %s: read failed", path);
		return reply_fail(r, API_INTERNAL, "the upload could not be "
		    "read");
	}
	new_name(f->stored);
	if (!stored_path(dst, sizeof dst, f->stored) ||
	    rename(path, dst) != 0) {
		log_error("upload body %s: rename into %s: %s", path,
		    store_config.dir, strerror(errno));
		return reply_fail(r, API_INTERNAL, "the upload could not be "
		    "stored");
	}
	return API_OK;
}

void store_discard(const char *stored)
{
	char path[4096];

	if (stored_path(path, sizeof path, stored) && unlink(path) != 0 &&
	    errno != ENOENT)
		log_error("store: unlink %s: %s", path, strerror(errno));
}

bool store_is_name(const char *name)
{
	size_t i;

	for (i = 0; i < STORE_NAME_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[STORE_NAME_LEN] == '\0';
}
