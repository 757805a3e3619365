/* POST /files/upload?name=<file name> with the file as the raw body ->
 * 201 {"id", "name", "size", "content_type", "sha256", "url"} (API.md
 * 2.5). nginx has written the body to a file in the store's incoming
 * directory and passes its path as CHATD_BODY_FILE, not the body
 * (nginx/chatd.conf): the worker reads the file once, in pieces, for its
 * type and SHA-256, moves it into the store under a name of its own, and
 * records it in one transaction that also checks the uploader's quota
 * (403 past it). A file moved in whose record does not commit is removed
 * again; one left by a worker that died in between is the sweep's
 * (chatd sweep). */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "db.h"
#include "decode.h"
#include "file_json.h"
#include "filename.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"
#include "query_string.h"
#include "reply.h"
#include "route.h"
#include "store.h"
#include "utf8.h"

struct files_upload_req {
	int64_t caller;
	const char *name;	/* in the decoder's scratch buffer */
	size_t name_len;
	const char *body_file;	/* nginx's $request_body_file */
};

/* sql/009_files.sql: the new file's id, or NULL past the quota; and the
 * bytes the uploader's files held before. */
static const struct query files_upload_add = {"files_upload",
    "SELECT file_id, used FROM chatd_file_add($1, $2, $3, $4, $5, $6, $7)",
    7};

static bool files_upload_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct files_upload_req *req = out;
	struct buf *s = d->scratch;
	const char *uri = decode_header(d, "REQUEST_URI");
	const char *qs = uri ? strchr(uri, '?') : NULL;

	(void)root;
	req->caller = d->caller->user;
	req->body_file = decode_header(d, "CHATD_BODY_FILE");
	/* nginx makes no body file for a request that announces no body:
	 * neither Content-Length nor chunked. */
	if (req->body_file == NULL || *req->body_file == '\0')
		return decode_fail(d, "an upload needs a body, the file itself "
		    "(with Content-Length or chunked)");
	/* The query string as the client sent it: REQUEST_URI's, after '?'. */
	switch (qs_get(qs ? qs + 1 : NULL, "name", s)) {
	case QS_ABSENT:
		return decode_fail(d, "query parameter 'name' is required: "
		    "/files/upload?name=<file name>");
	case QS_REPEATED:
		return decode_fail(d, "query parameter 'name' is given more "
		    "than once");
	case QS_MALFORMED:
		return decode_fail(d, "query parameter 'name': malformed "
		    "percent-encoding");
	case QS_FOUND:
		break;
	}
	req->name_len = s->len;
	buf_putc(s, '\0');
	req->name = s->data;
	if (!utf8_valid(req->name, req->name_len) ||
	    memchr(req->name, '\0', req->name_len) != NULL)
		return decode_fail(d, "query parameter 'name' must be valid "
		    "UTF-8 without U+0000");
	if (req->name_len == 0 || utf8_blank(req->name, req->name_len))
		return decode_fail(d, "query parameter 'name' must not be "
		    "empty");
	if (req->name_len > FILENAME_MAX_BYTES)
		return decode_fail(d, "query parameter 'name' must be at most "
		    "%d bytes", FILENAME_MAX_BYTES);
	return true;
}

/* 201 and the new file's object, with its SHA-256. */
static void answer(struct reply *r, int64_t id,
    const struct files_upload_req *in, const struct store_file *f)
{
	char hex[2 * sizeof f->sha256 + 1];

	sodium_bin2hex(hex, sizeof hex, f->sha256, sizeof f->sha256);
	buf_putc(&r->body, '{');
	file_json_fields(&r->body, id, in->name, in->name_len, f->size,
	    f->type);
	buf_puts(&r->body, ",\"sha256\":\"");
	buf_puts(&r->body, hex);
	buf_puts(&r->body, "\"}\n");
	r->status = 201;
}

static enum api_error files_upload(struct db *db, const void *arg,
    struct reply *r)
{
	const struct files_upload_req *in = arg;
	char caller[21], size[21], quota[21], sha[2 + 64 + 1] = "\\x";
	const char *params[7] = {caller, in->name, size, NULL, sha, NULL,
	    quota};
	struct store_file f;
	enum api_error err;
	PGresult *res;

	err = store_adopt(in->body_file, &f, r);
	if (err != API_OK)
		return err;
	id_format(in->caller, caller);
	id_format(f.size, size);
	id_format(store_config.quota, quota);
	sodium_bin2hex(sha + 2, sizeof sha - 2, f.sha256, sizeof f.sha256);
	params[3] = f.type;
	params[5] = f.stored;
	res = db_query(db, &files_upload_add, params, &err);
	if (res == NULL) {
		/* A lost connection may have lost the answer of a commit: the
		 * file stays for the sweep, which removes it if no record
		 * names it. */
		if (err != API_UNAVAILABLE)
			store_discard(f.stored);
		return reply_db_error(r, err);
	}
	if (PQgetisnull(res, 0, 0)) {
		long long used = pgbin_int8(PQgetvalue(res, 0, 1));

		PQclear(res);
		store_discard(f.stored);
		return reply_fail(r, API_FORBIDDEN, "upload quota exceeded: "
		    "your files hold %lld of %lld bytes, this one has %lld",
		    used, (long long)store_config.quota, (long long)f.size);
	}
	answer(r, pgbin_int8(PQgetvalue(res, 0, 0)), in, &f);
	PQclear(res);
	return API_OK;
}

const struct route route_files_upload = {
	.path = "/files/upload", .method = "POST", .body = BODY_NONE,
	.session = SESSION_ALWAYS,
	.req_size = sizeof(struct files_upload_req),
	.decode = files_upload_decode, .handle = files_upload,
	.queries = (const struct query *const[]){&files_upload_add, NULL},
};
