#include "config.h"

#include <string.h>

#include "file_json.h"
#include "filename.h"
#include "id.h"
#include "json_out.h"
#include "pgbin.h"

/* The URL as a JSON string: filename_url() writes nothing that JSON
 * escapes. */
static void put_url(struct buf *b, int64_t id, const char *name, size_t len)
{
	char n[21];

	id_format(id, n);
	buf_putc(b, '"');
	filename_url(b, n, name, len);
	buf_putc(b, '"');
}

void file_json_fields(struct buf *b, int64_t id, const char *name,
    size_t len, int64_t size, const char *type)
{
	char n[21];

	buf_puts(b, "\"id\":");
	json_out_id(b, id);
	buf_puts(b, ",\"name\":");
	json_out_string(b, name, len);
	id_format(size, n);
	buf_puts(b, ",\"size\":");
	buf_puts(b, n);
	buf_puts(b, ",\"content_type\":");
	json_out_string(b, type, strlen(type));
	buf_puts(b, ",\"url\":");
	put_url(b, id, name, len);
}

void file_json(struct buf *b, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col)) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '{');
	file_json_fields(b, pgbin_int8(PQgetvalue(res, row, col)),
	    PQgetvalue(res, row, col + 1),
	    (size_t)PQgetlength(res, row, col + 1),
	    pgbin_int8(PQgetvalue(res, row, col + 2)),
	    PQgetvalue(res, row, col + 3));
	buf_putc(b, '}');
}

void file_json_url(struct buf *b, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		buf_puts(b, "null");
	else
		put_url(b, pgbin_int8(PQgetvalue(res, row, col)),
		    PQgetvalue(res, row, col + 1),
		    (size_t)PQgetlength(res, row, col + 1));
}
