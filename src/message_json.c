#include "config.h"

#include "json_out.h"
#include "message_json.h"
#include "pgbin.h"
#include "sniff.h"

void message_json(struct buf *b, const PGresult *res, int row)
{
	const int file = 6, edited = 5;

	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"chat\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 1)));
	buf_puts(b, ",\"author\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 2)));
	buf_puts(b, ",\"text\":");
	json_out_string(b, PQgetvalue(res, row, 3), (size_t)PQgetlength(res,
	    row, 3));
	buf_puts(b, ",\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 4)));
	buf_puts(b, ",\"type\":");
	if (PQgetisnull(res, row, file))
		buf_puts(b, "\"text\"");
	else if (sniff_is_image(PQgetvalue(res, row, file + 3)))
		buf_puts(b, "\"image\"");
	else
		buf_puts(b, "\"file\"");
	buf_puts(b, ",\"file\":");
	file_json(b, res, row, file);
	buf_puts(b, ",\"edited_at\":");
	if (PQgetisnull(res, row, edited))
		buf_puts(b, "null");
	else
		json_out_time(b, pgbin_int8(PQgetvalue(res, row, edited)));
	buf_putc(b, '}');
}
