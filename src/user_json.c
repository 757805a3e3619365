#include "config.h"

#include <stdbool.h>

#include "file_json.h"
#include "json_out.h"
#include "pgbin.h"
#include "user_json.h"

void user_json(struct buf *b, const PGresult *res, int row, bool open)
{
	buf_puts(b, "{\"id\":");
	json_out_id(b, pgbin_int8(PQgetvalue(res, row, 0)));
	buf_puts(b, ",\"username\":");
	json_out_string(b, PQgetvalue(res, row, 1),
	    (size_t)PQgetlength(res, row, 1));
	buf_puts(b, ",\"created_at\":");
	json_out_time(b, pgbin_int8(PQgetvalue(res, row, 2)));
	buf_puts(b, ",\"last_seen_at\":");
	if (PQgetisnull(res, row, 3))
		buf_puts(b, "null");
	else
		json_out_time(b, pgbin_int8(PQgetvalue(res, row, 3)));
	buf_puts(b, *PQgetvalue(res, row, 4) ? ",\"online\":true" :
	    ",\"online\":false");
	buf_puts(b, ",\"avatar\":");
	file_json_url(b, res, row, 5);
	if (!open)
		buf_putc(b, '}');
}
