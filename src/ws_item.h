/* The shapes of seed 003's WebSocket protocol (API.md 2.7): its message
 * item {"id", "type", "text", "is_my", "username", "user_id", "chat_id",
 * "created_at", "file_url", "avatar"} and its reply frame {"type",
 * "event_type", "messages", "detail"}. */
#ifndef CHATD_WS_ITEM_H
#define CHATD_WS_ITEM_H

#include <stdint.h>

#include <libpq-fe.h>

#include "buf.h"

/* The columns ws_item_json() reads: of messages m, its author users u
 * and the LEFT JOIN of its file f (WS_ITEM_FROM). created_at in whole
 * Unix seconds, as seed 003 has it. */
#define WS_ITEM_COLUMNS \
    "m.id, m.chat_id, m.author_id, u.username, m.text," \
    " floor(extract(epoch FROM m.created_at))::int8, " FILE_COLUMNS("f.") \
    ", " USER_AVATAR
/* What WS_ITEM_COLUMNS read, after "FROM <messages m>". */
#define WS_ITEM_JOINS \
    " JOIN users u ON u.id = m.author_id" \
    " LEFT JOIN files f ON f.id = m.file_id"

/* Appends the item of row (WS_ITEM_COLUMNS) as caller sees it: is_my
 * when caller wrote it; text null when the message has none (a file
 * alone), as seed 003 shows it; file_url and avatar download URLs
 * (API.md 2.5) or null. */
void ws_item_json(struct buf *b, const PGresult *res, int row,
    int64_t caller);

/* The reply frame's type: seed 003's five words. */
enum ws_type {
	WS_SUCCESS,
	WS_SERVER_ERROR,
	WS_EVENT_NOT_FOUND,
	WS_TOKEN_VALIDATION_ERROR,
	WS_CHAT_NOT_EXISTS,
	WS__MAX
};

/* Starts a reply frame in b: {"type":<type>,"event_type":<event or
 * null> (event[0..len), valid UTF-8),"messages": -- the caller appends
 * the array (or null) and ends it with ws_reply_end(). */
void ws_reply_begin(struct buf *b, enum ws_type type, const char *event,
    size_t len);
/* Ends the frame with ,"detail":<detail or null>}. */
void ws_reply_end(struct buf *b, const char *detail);

#endif
