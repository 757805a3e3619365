/* The file store (API.md 2.5): a directory chatd owns, where every
 * uploaded file lives under a name chatd chose, and its "incoming"
 * subdirectory, where nginx writes upload bodies (client_body_temp_path,
 * on the same filesystem, so that taking a file in is a rename). A worker
 * never holds a file's bytes in memory: it reads them once, in pieces, for
 * the type and the SHA-256. */
#ifndef CHATD_STORE_H
#define CHATD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"

struct reply;

#define STORE_DIR_DEFAULT "/var/lib/chatd/files"
#define STORE_MAX_FILE_DEFAULT (25LL << 20)	/* --max-file */
#define STORE_QUOTA_DEFAULT (1LL << 30)	/* --quota, per user */
#define STORE_NAME_LEN 32		/* hex digits of a stored name */
#define STORE_GRACE_DEFAULT 3600	/* sweep: seconds a stray file is spared */

/* Set from the command line (main.c). */
struct store_config {
	const char *dir;	/* the store; incoming is dir/incoming */
	int64_t max_file;	/* bytes of one file */
	int64_t quota;		/* bytes of all of one user's files; 0: none */
};
extern struct store_config store_config;

/* A file taken into the store. */
struct store_file {
	char stored[STORE_NAME_LEN + 1];	/* its name in the store */
	int64_t size;
	const char *type;		/* sniff_type() */
	unsigned char sha256[32];
};

/* Takes the upload body nginx wrote at path into the store: path must
 * name a regular file directly in the incoming directory (anything else is
 * a configuration error: 500), of at most max_file bytes (413). Reads it
 * once for its type and SHA-256, then renames it to a new random name.
 * On API_OK the file is in the store and f describes it; the caller
 * records it or calls store_discard(). */
enum api_error store_adopt(const char *path, struct store_file *f,
    struct reply *r);

/* Removes stored file name from the store (a file whose record was not
 * committed). */
void store_discard(const char *stored);

/* Whether name is one that store_adopt() makes (32 lowercase hex digits). */
bool store_is_name(const char *name);

#endif
