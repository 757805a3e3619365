/* GET /files/<id>/<name> -> the file's bytes (API.md 2.5), for its
 * uploader, a member of a chat where a message carries it, or, for an
 * avatar, any signed-in user; anyone else 404, as for no such file, so
 * that ids cannot be probed. chatd only decides: it answers
 * X-Accel-Redirect to the store's internal location with the file's type
 * and Content-Disposition (inline for an image, an attachment otherwise),
 * and nginx sends the bytes, Range requests included (nginx/chatd.conf).
 * The name segment is what a browser saves the file as; the file is the
 * id's, whatever the segment says (filename_url()). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "filename.h"
#include "id.h"
#include "reply.h"
#include "route.h"
#include "sniff.h"
#include "store.h"

#define FILES_PREFIX "/files/"

struct files_get_req {
	int64_t file;
	struct caller *caller;
};

/* Whether user may read file f: its uploader, a member of a chat where a
 * message carries it, or anyone for an avatar. */
#define MAY_READ(user) \
    " (f.uploader_id = " user \
    "  OR EXISTS (SELECT FROM messages m JOIN chat_members cm" \
    "   ON cm.chat_id = m.chat_id AND cm.user_id = " user \
    "   WHERE m.file_id = f.id)" \
    "  OR EXISTS (SELECT FROM users u WHERE u.avatar_file_id = f.id))"
/* $1 the file, $2 the caller -> stored, name, content_type, when the
 * caller may read it. */
static const struct query files_get_q = {"files_get",
    "SELECT f.stored, f.name, f.content_type FROM files f"
    " WHERE f.id = $1 AND" MAY_READ("$2"), 2};
/* The same as the session of $2/$3 (idle less than $4), which it checks
 * itself, so that a download costs one statement: no row when the session
 * or the file fails, which the handler then tells apart. */
static const struct query files_get_as = {"files_get_as",
    "SELECT f.stored, f.name, f.content_type FROM sessions s"
    " JOIN files f ON f.id = $1"
    " WHERE" AUTH_SESSION_IS("$2", "$3", "$4", "true") " AND"
    MAY_READ("s.user_id"), 4};

static bool files_get_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct files_get_req *req = out;
	size_t len, n;
	const char *path = route_path(decode_header(d, "DOCUMENT_URI"),
	    decode_header(d, "REQUEST_URI"), &len), *id;

	(void)root;
	req->caller = d->caller;
	/* The route is FILES_PREFIX's: path continues it. */
	id = path + strlen(FILES_PREFIX);
	len -= strlen(FILES_PREFIX);
	n = 0;
	while (n < len && id[n] != '/')
		n++;
	if (n == len || !id_parse(id, n, &req->file))
		return decode_fail(d, "a file's URL is /files/<id>/<name>, "
		    "its id a decimal number");
	return true;
}

static enum api_error files_get(struct db *db, const void *arg,
    struct reply *r)
{
	const struct files_get_req *in = arg;
	char file[21], caller[21], to[sizeof "/_chatd/files/" + STORE_NAME_LEN];
	const char *params[4] = {file, in->caller->token_id,
	    in->caller->token_check, auth_texts.idle}, *stored, *type;
	struct buf disp;
	enum api_error err;
	PGresult *res;
	size_t saved;
	bool ok;

	id_format(in->file, file);
	res = db_query(db, &files_get_as, params, &err);
	if (res != NULL && PQntuples(res) == 0) {
		/* The session, or the file? */
		PQclear(res);
		err = auth_lookup(db, in->caller, r);
		if (err != API_OK)
			return err;
		id_format(in->caller->user, caller);
		params[1] = caller;
		res = db_query(db, &files_get_q, params, &err);
	}
	if (res == NULL)
		return reply_db_error(r, err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return reply_fail(r, API_NOT_FOUND, "file %s not found", file);
	}
	stored = PQgetvalue(res, 0, 0);
	type = sniff_known(PQgetvalue(res, 0, 2));
	buf_init(&disp);
	filename_disposition(&disp, sniff_is_image(type), PQgetvalue(res, 0,
	    1), (size_t)PQgetlength(res, 0, 1));
	buf_putc(&disp, '\0');
	snprintf(to, sizeof to, "/_chatd/files/%s", stored);
	saved = r->headers_len;
	ok = store_is_name(stored) && reply_header(r, "X-Accel-Redirect", to) &&
	    reply_header(r, "Content-Disposition", disp.data);
	if (!ok)	/* an error must not carry the redirect */
		r->headers_len = saved;
	buf_free(&disp);
	PQclear(res);
	if (!ok)
		return reply_fail(r, API_INTERNAL, "file %s cannot be sent",
		    file);
	r->content_type = type;
	return API_OK;
}

const struct route route_files_get = {
	.path = FILES_PREFIX, .prefix = true, .method = "GET",
	.body = BODY_NONE, .session = SESSION_ALWAYS, .inline_session = true,
	.req_size = sizeof(struct files_get_req),
	.decode = files_get_decode, .handle = files_get,
	.queries = (const struct query *const[]){&files_get_q, &files_get_as,
	    NULL},
};
