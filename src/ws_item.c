#include "config.h"

#include <string.h>

#include "file_json.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"
#include "sniff.h"
#include "user_json.h"
#include "ws_item.h"

/* WS_ITEM_COLUMNS, by position. */
enum {
	COL_ID, COL_CHAT, COL_AUTHOR, COL_USERNAME, COL_TEXT, COL_CREATED,
	COL_FILE, COL_FILE_TYPE = COL_FILE + 3, COL_AVATAR
};

static const char *const ws_types[WS__MAX] = {
	[WS_SUCCESS] = "success",
	[WS_SERVER_ERROR] = "server_error",
	[WS_EVENT_NOT_FOUND] = "event_not_found",
	[WS_TOKEN_VALIDATION_ERROR] = "token_validation_error",
	[WS_CHAT_NOT_EXISTS] = "chat_not_exists",
};

void ws_item_json(struct buf *b, const PGresult *res, int row,
    int64_t caller)
{
	int64_t author = pgbin_int8(PQgetvalue(res, row, COL_AUTHOR));
	int len = PQgetlength(res, row, COL_TEXT);
	char n[21];

	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, COL_ID)));
	buf_puts(b, ",\"type\":");
	if (PQgetisnull(res, row, COL_FILE))
		buf_puts(b, "\"text\"");
	else if (sniff_is_image(PQgetvalue(res, row, COL_FILE_TYPE)))
		buf_puts(b, "\"image\"");
	else
		buf_puts(b, "\"file\"");
	buf_puts(b, ",\"text\":");
	if (len == 0)
		buf_puts(b, "null");
	else
		json_out_string(b, PQgetvalue(res, row, COL_TEXT),
		    (size_t)len);
	buf_puts(b, author == caller ? ",\"is_my\":true" : ",\"is_my\":false");
	buf_puts(b, ",\"username\":");
	json_out_string(b, PQgetvalue(res, row, COL_USERNAME),
	    (size_t)PQgetlength(res, row, COL_USERNAME));
	buf_puts(b, ",\"user_id\":");
	json_out_id(b, author);
	buf_puts(b, ",\"chat_id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, COL_CHAT)));
	id_format(pgbin_int8(PQgetvalue(res, row, COL_CREATED)), n);
	buf_puts(b, ",\"created_at\":");
	buf_puts(b, n);
	buf_puts(b, ",\"file_url\":");
	file_json_url(b, res, row, COL_FILE);
	buf_puts(b, ",\"avatar\":");
	file_json_url(b, res, row, COL_AVATAR);
	buf_putc(b, '}');
}

void ws_reply_begin(struct buf *b, enum ws_type type, const char *event,
    size_t len)
{
	buf_puts(b, "{\"type\":\"");
	buf_puts(b, ws_types[type]);
	buf_puts(b, "\",\"event_type\":");
	if (event)
		json_out_string(b, event, len);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"messages\":");
}

void ws_reply_end(struct buf *b, const char *detail)
{
	buf_puts(b, ",\"detail\":");
	if (detail)
		json_out_string(b, detail, strlen(detail));
	else
		buf_puts(b, "null");
	buf_putc(b, '}');
}
