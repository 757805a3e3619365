/* POST /ws/frame: one frame of seed 003's WebSocket (API.md 2.7), as
 * nchan hands it on from the connection of GET /ws (REALTIME.md 5). The
 * body is the client's frame {"chat_id", "token", "event_type",
 * "message"}; the answer is always 200 with the reply frame {"type",
 * "event_type", "messages", "detail"}, which nchan publishes to that
 * connection alone. A frame is never an HTTP error: any other status
 * makes nchan close the connection. Reachable only through nginx's
 * loopback server (struct route's internal), never the public one.
 *
 * The checks, in their order, and the reply type of each failure:
 *   not a JSON object, duplicate keys       server_error
 *   event_type not a string                 server_error
 *   event_type not one of the three         event_not_found
 *   token absent, empty, malformed, or no live session
 *                                           token_validation_error
 *   chat_id not an id, no such chat, or the caller not a member
 *                                           chat_not_exists
 *   message not as the event takes it       server_error
 *   the database fails                      server_error
 * get_history answers the chat's newest WS_HISTORY messages, oldest
 * first, detail null; send_message and send_file the message written,
 * detail "Success" (seed 003's own examples). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "file_json.h"
#include "id.h"
#include "pgbin.h"
#include "reply.h"
#include "route.h"
#include "user_json.h"
#include "ws_item.h"

#define WS_HISTORY 100
#define WS_FILES_PREFIX "/files/"

enum ws_event { EV_HISTORY, EV_SEND_MESSAGE, EV_SEND_FILE, EV__MAX };

static const char *const ws_events[EV__MAX] = {
	[EV_HISTORY] = "get_history",
	[EV_SEND_MESSAGE] = "send_message",
	[EV_SEND_FILE] = "send_file",
};

struct ws_frame_req {
	const char *body;	/* borrowed: the worker's body buffer */
	size_t len;
};

/* A frame in hand and its answer so far. */
struct frame {
	json_t *root;		/* owned */
	const char *event;	/* borrowed from root; NULL: not a string */
	size_t event_len;
	enum ws_event ev;
	struct caller caller;
	int64_t chat;
	char chat_id[21];
	const char *text;	/* borrowed from root */
	int64_t file;		/* 0: none */
	PGresult *items;	/* owned: the reply's messages, or NULL */
	char detail[256];
};

/* $1 chat, $2 user -> whether the chat exists, whether user is in it. */
static const struct query ws_member_q = {"ws_member",
    "SELECT EXISTS (SELECT FROM chats WHERE id = $1),"
    " EXISTS (SELECT FROM chat_members WHERE chat_id = $1 AND"
    "  user_id = $2)", 2};
/* $1 chat -> its newest WS_HISTORY messages, oldest first. */
static const struct query ws_history_q = {"ws_history",
    "SELECT " WS_ITEM_COLUMNS " FROM (SELECT * FROM messages"
    "  WHERE chat_id = $1 ORDER BY id DESC LIMIT 100) m" WS_ITEM_JOINS
    " ORDER BY m.id", 1};
/* sql/009_files.sql: chat $1, author $2, text $3, file $4 (NULL: none). */
static const struct query ws_send_q = {"ws_send",
    "SELECT outcome, message_id FROM chatd_message_add($1, $2, $3, NULL,"
    " $4)", 4};
/* $1 a message -> its item. */
static const struct query ws_item_q = {"ws_item",
    "SELECT " WS_ITEM_COLUMNS " FROM messages m" WS_ITEM_JOINS
    " WHERE m.id = $1", 1};

_Static_assert(WS_HISTORY == 100, "ws_history_q's LIMIT is WS_HISTORY");

static enum ws_type fail(struct frame *f, enum ws_type t, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static enum ws_type fail(struct frame *f, enum ws_type t, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof f->detail, fmt, ap);
	va_end(ap);
	return t;
}

static bool ws_frame_decode(const json_t *root, void *out,
    struct decode_ctx *d)
{
	struct ws_frame_req *req = out;

	(void)root;
	req->body = d->body;
	req->len = d->body_len;
	return true;
}

/* The frame as JSON, and its event_type. */
static enum ws_type parse(struct frame *f, const struct ws_frame_req *in)
{
	json_error_t e;
	const json_t *ev;
	int i;

	f->root = json_loadb(in->body, in->len, JSON_REJECT_DUPLICATES, &e);
	if (f->root == NULL || !json_is_object(f->root))
		return fail(f, WS_SERVER_ERROR, "the frame must be a JSON "
		    "object {\"chat_id\", \"token\", \"event_type\", "
		    "\"message\"}%s%s", f->root ? "" : ": ",
		    f->root ? "" : e.text);
	ev = json_object_get(f->root, "event_type");
	if (!json_is_string(ev))
		return fail(f, WS_SERVER_ERROR, "field 'event_type' must be a "
		    "string: get_history, send_message or send_file");
	f->event = json_string_value(ev);
	f->event_len = json_string_length(ev);
	for (i = 0; i < EV__MAX; i++)
		if (strlen(ws_events[i]) == f->event_len &&
		    memcmp(ws_events[i], f->event, f->event_len) == 0) {
			f->ev = (enum ws_event)i;
			return WS_SUCCESS;
		}
	return fail(f, WS_EVENT_NOT_FOUND, "Event %.*s not found",
	    f->event_len > 64 ? 64 : (int)f->event_len, f->event);
}

/* The frame's token names a live session: f->caller is its user. */
static enum ws_type check_token(struct db *db, struct frame *f,
    struct reply *r)
{
	const json_t *t = json_object_get(f->root, "token");
	enum api_error e;

	if (t == NULL || json_is_null(t) || (json_is_string(t) &&
	    json_string_length(t) == 0))
		return fail(f, WS_TOKEN_VALIDATION_ERROR, "the token is empty: "
		    "send a session token (auth/login)");
	if (!json_is_string(t) || !auth_token(json_string_value(t),
	    json_string_length(t), &f->caller))
		return fail(f, WS_TOKEN_VALIDATION_ERROR, "the token is not a "
		    "session token");
	e = auth_lookup(db, &f->caller, r);
	r->headers_len = 0;	/* a refusal's WWW-Authenticate */
	if (e == API_UNAUTHORIZED)
		return fail(f, WS_TOKEN_VALIDATION_ERROR, "the session is "
		    "unknown, has expired or has ended; log in again");
	if (e != API_OK)
		return fail(f, WS_SERVER_ERROR, "the database is unavailable; "
		    "try again");
	return WS_SUCCESS;
}

/* The failure of a statement that did not run. */
static enum ws_type db_failed(struct frame *f)
{
	return fail(f, WS_SERVER_ERROR, "the database is unavailable; try "
	    "again");
}

static enum ws_type not_member(struct frame *f, bool exists)
{
	return exists ? fail(f, WS_CHAT_NOT_EXISTS, "you are not a member "
	    "of chat %s", f->chat_id) :
	    fail(f, WS_CHAT_NOT_EXISTS, "chat %s does not exist", f->chat_id);
}

/* chat_id is a chat's id; for get_history, one the caller is in. */
static enum ws_type check_chat(struct db *db, struct frame *f,
    struct reply *r)
{
	struct decode_ctx d = {.msg = f->detail, .msgsz = sizeof f->detail,
	    .caller = &f->caller};
	char user[21];
	const char *params[2] = {f->chat_id, user};
	enum api_error err;
	PGresult *res;
	bool exists, member;

	(void)r;
	if (!decode_id(f->root, "chat_id", true, &f->chat, &d))
		return WS_CHAT_NOT_EXISTS;
	id_format(f->chat, f->chat_id);
	if (f->ev != EV_HISTORY)	/* chatd_message_add checks it */
		return WS_SUCCESS;
	id_format(f->caller.user, user);
	res = db_query(db, &ws_member_q, params, &err);
	if (res == NULL)
		return db_failed(f);
	exists = *PQgetvalue(res, 0, 0) != 0;
	member = *PQgetvalue(res, 0, 1) != 0;
	PQclear(res);
	return member ? WS_SUCCESS : not_member(f, exists);
}

/* The id of a file URL "/files/<id>/<name>" (API.md 2.5), or 0. */
static int64_t file_of_url(const char *url, size_t len)
{
	size_t p = strlen(WS_FILES_PREFIX), n = 0;
	int64_t id;

	if (len <= p || memcmp(url, WS_FILES_PREFIX, p) != 0)
		return 0;
	while (p + n < len && url[p + n] != '/')
		n++;
	if (p + n == len || !id_parse(url + p, n, &id))
		return 0;
	return id;
}

/* The message of a send_message ({"text"} or the text alone) or a
 * send_file ({"type", "text", "file_url"}). */
static enum ws_type check_message(struct frame *f)
{
	struct decode_ctx d = {.msg = f->detail, .msgsz = sizeof f->detail,
	    .caller = &f->caller};
	json_t *m = json_object_get(f->root, "message"), *t, *u;
	json_t *wrap = NULL;
	const char *type;

	if (f->ev == EV_SEND_MESSAGE && json_is_string(m))
		m = wrap = json_pack("{sO}", "text", m);
	if (!json_is_object(m))
		return fail(f, WS_SERVER_ERROR, "field 'message' must be an "
		    "object: %s", f->ev == EV_SEND_FILE ? "{\"type\", \"text\", "
		    "\"file_url\"}" : "{\"text\"}");
	if (f->ev == EV_SEND_FILE) {
		t = json_object_get(m, "type");
		type = json_string_value(t);
		if (t != NULL && !json_is_null(t) && (type == NULL ||
		    (strcmp(type, "image") != 0 && strcmp(type, "file") != 0)))
			return fail(f, WS_SERVER_ERROR, "field 'message.type' "
			    "must be \"image\" or \"file\"");
		u = json_object_get(m, "file_url");
		if (!json_is_string(u) || (f->file = file_of_url(
		    json_string_value(u), json_string_length(u))) == 0)
			return fail(f, WS_SERVER_ERROR, "field "
			    "'message.file_url' must be the url of a file you "
			    "uploaded: /files/<id>/<name>");
		t = json_object_get(m, "text");
		if (t == NULL || json_is_null(t) || (json_is_string(t) &&
		    json_string_length(t) == 0)) {
			f->text = "";
			return WS_SUCCESS;
		}
	}
	f->text = decode_text(m, "text", decode_limits.text_max, &d);
	json_decref(wrap);	/* the text is still m's: f->root holds it */
	return f->text ? WS_SUCCESS : WS_SERVER_ERROR;
}

/* get_history: f->items the chat's newest messages. */
static enum ws_type history(struct db *db, struct frame *f)
{
	const char *params[1] = {f->chat_id};
	enum api_error err;

	f->items = db_query(db, &ws_history_q, params, &err);
	return f->items ? WS_SUCCESS : db_failed(f);
}

/* send_message, send_file: the message written, as f->items. */
static enum ws_type send_event(struct db *db, struct frame *f)
{
	char user[21], file[21], id[21];
	const char *params[4] = {f->chat_id, user, f->text, NULL};
	enum api_error err;
	PGresult *res;
	char outcome[16];

	id_format(f->caller.user, user);
	if (f->file != 0) {
		id_format(f->file, file);
		params[3] = file;
	}
	res = db_query(db, &ws_send_q, params, &err);
	if (res == NULL)
		return db_failed(f);
	snprintf(outcome, sizeof outcome, "%s", PQgetvalue(res, 0, 0));
	if (strcmp(outcome, "created") == 0)
		id_format(pgbin_int8(PQgetvalue(res, 0, 1)), id);
	PQclear(res);
	if (strcmp(outcome, "no_chat") == 0)
		return not_member(f, false);
	if (strcmp(outcome, "not_member") == 0)
		return not_member(f, true);
	if (strcmp(outcome, "no_file") == 0)
		return fail(f, WS_SERVER_ERROR, "field 'message.file_url': "
		    "not a file you uploaded");
	if (strcmp(outcome, "created") != 0)
		return fail(f, WS_SERVER_ERROR, "the message could not be "
		    "written (%s)", outcome);
	params[0] = id;
	f->items = db_query(db, &ws_item_q, params, &err);
	if (f->items == NULL)
		return db_failed(f);
	strcpy(f->detail, "Success");
	return WS_SUCCESS;
}

static enum api_error ws_frame(struct db *db, const void *arg,
    struct reply *r)
{
	const struct ws_frame_req *in = arg;
	struct frame f;
	enum ws_type t;
	int i;

	memset(&f, 0, sizeof f);
	t = parse(&f, in);
	if (t == WS_SUCCESS)
		t = check_token(db, &f, r);
	if (t == WS_SUCCESS)
		t = check_chat(db, &f, r);
	if (t == WS_SUCCESS && f.ev != EV_HISTORY)
		t = check_message(&f);
	if (t == WS_SUCCESS)
		t = f.ev == EV_HISTORY ? history(db, &f) : send_event(db, &f);
	ws_reply_begin(&r->body, t, f.event, f.event_len);
	if (t == WS_SUCCESS && f.items) {
		buf_putc(&r->body, '[');
		for (i = 0; i < PQntuples(f.items); i++) {
			if (i > 0)
				buf_putc(&r->body, ',');
			ws_item_json(&r->body, f.items, i, f.caller.user);
		}
		buf_putc(&r->body, ']');
	} else {
		buf_puts(&r->body, "null");
	}
	ws_reply_end(&r->body, f.detail[0] ? f.detail : NULL);
	PQclear(f.items);
	json_decref(f.root);
	r->status = 200;
	return API_OK;
}

const struct route route_ws_frame = {
	.path = "/ws/frame", .method = "POST", .body = BODY_RAW,
	.session = SESSION_NEVER, .internal = true,
	.events = true,
	.req_size = sizeof(struct ws_frame_req),
	.decode = ws_frame_decode, .handle = ws_frame,
	.queries = (const struct query *const[]){&ws_member_q, &ws_history_q,
	    &ws_send_q, &ws_item_q, NULL},
};
