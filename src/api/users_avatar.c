/* POST /users/avatar {"file"} -> 200 the caller's user object with its
 * new avatar (API.md 2.2): file an image the caller uploaded, of at most
 * AVATAR_MAX bytes, or null for none. 404 for a file that is not one of
 * the caller's uploads (or does not exist: ids cannot be probed), 400 for
 * one that is not an image by its content, 413 past AVATAR_MAX. An
 * avatar is readable by any signed-in user (files/get). */
#include "config.h"

#include <string.h>

#include "db.h"
#include "decode.h"
#include "id.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "user_json.h"

#define AVATAR_MAX (1 << 20)
#define STR(x) #x
#define XSTR(x) STR(x)

struct users_avatar_req {
	int64_t caller, file;	/* file 0: none */
};

/* sql/009_files.sql: outcome, a word. */
static const struct query users_avatar_set = {"users_avatar",
    "SELECT outcome FROM chatd_avatar($1, $2, " XSTR(AVATAR_MAX) ")", 2};
static const struct query users_avatar_user = {"users_avatar_user",
    "SELECT " USER_COLUMNS " FROM users u WHERE u.id = $1", 1};

static bool users_avatar_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct users_avatar_req *req = out;
	const json_t *v = json_object_get(root, "file");

	req->caller = d->caller->user;
	req->file = 0;
	if (v == NULL)
		return decode_fail(d, "field 'file' is required (an uploaded "
		    "image's id, or null for none)");
	if (json_is_null(v))
		return true;
	if (!decode_id(root, "file", true, &req->file, d))
		return false;
	return req->file != 0 ||
	    decode_fail(d, "field 'file': no file has id 0");
}

static enum api_error refused(const char *outcome, const char *file,
    struct reply *r)
{
	if (strcmp(outcome, "no_file") == 0)
		return reply_fail(r, API_NOT_FOUND, "file %s not found among "
		    "your uploads", file);
	if (strcmp(outcome, "not_image") == 0)
		return reply_fail(r, API_BAD_REQUEST, "field 'file': file %s "
		    "is not an image (PNG, JPEG, GIF or WebP)", file);
	if (strcmp(outcome, "too_large") == 0)
		return reply_fail(r, API_PAYLOAD_TOO_LARGE, "field 'file': an "
		    "avatar may have at most %d bytes", AVATAR_MAX);
	log_error("users/avatar: unexpected outcome '%s'", outcome);
	return reply_fail(r, API_INTERNAL, "internal error");
}

static enum api_error users_avatar(struct db *db, const void *arg,
    struct reply *r)
{
	const struct users_avatar_req *in = arg;
	char caller[21], file[21] = "", outcome[16];
	const char *params[2] = {caller, NULL};
	enum api_error err;
	PGresult *res;

	id_format(in->caller, caller);
	if (in->file != 0) {
		id_format(in->file, file);
		params[1] = file;
	}
	if (!db_word(db, &users_avatar_set, params, outcome, sizeof outcome,
	    &err))
		return reply_db_error(r, err);
	if (strcmp(outcome, "set") != 0)
		return refused(outcome, file, r);
	res = db_query(db, &users_avatar_user, params, &err);
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return reply_fail(r, API_INTERNAL, "internal error");
	}
	user_json(&r->body, res, 0, false);
	buf_putc(&r->body, '\n');
	PQclear(res);
	return API_OK;
}

const struct route route_users_avatar = {
	.path = "/users/avatar", .method = "POST", .body = BODY_JSON,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct users_avatar_req),
	.decode = users_avatar_decode, .handle = users_avatar,
	.queries = (const struct query *const[]){&users_avatar_set,
	    &users_avatar_user, NULL},
};
