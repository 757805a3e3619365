/* The message object of API.md 1 and 2.4, items of messages/get and
 * messages/search: {"id", "chat", "author", "text", "created_at", "type",
 * "file", "edited_at"}. type is "text" without a file, "image" with an
 * image (by its content, sniff.h), "file" with anything else. */
#ifndef CHATD_MESSAGE_JSON_H
#define CHATD_MESSAGE_JSON_H

#include <libpq-fe.h>

#include "buf.h"
#include "file_json.h"

/* The columns message_json() reads, of messages m and the LEFT JOIN of its
 * file f (each with its dot: "m.", "f."). */
#define MESSAGE_COLUMNS(m, f) \
    m "id, " m "chat_id, " m "author_id, " m "text, " m "created_at, " \
    m "edited_at, " FILE_COLUMNS(f)
/* Its file, the LEFT JOIN that MESSAGE_COLUMNS reads. */
#define MESSAGE_FILE(m, f) \
    " LEFT JOIN files " f " ON " f ".id = " m ".file_id"

/* Appends the message of row (MESSAGE_COLUMNS first). */
void message_json(struct buf *b, const PGresult *res, int row);

#endif
