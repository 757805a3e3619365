/* The file object of API.md 2.4: {"id", "name", "size", "content_type",
 * "url"}, in message objects, user objects' avatar and the answer of an
 * upload. */
#ifndef CHATD_FILE_JSON_H
#define CHATD_FILE_JSON_H

#include <stdint.h>

#include <libpq-fe.h>

#include "buf.h"

/* The columns file_json() reads, of files f ("f" with its dot, "f."),
 * named apart from the columns beside them (a message's id). Binary
 * results: id int8, name text, size int8, content_type text. */
#define FILE_COLUMNS(f) \
    f "id AS file_id, " f "name AS file_name, " f "size AS file_size, " \
    f "content_type AS file_type"

/* Appends the fields of a file object, without its braces (an upload's
 * answer adds its sha256). */
void file_json_fields(struct buf *b, int64_t id, const char *name,
    size_t len, int64_t size, const char *type);

/* Appends the file object of row's columns col.. (FILE_COLUMNS), or null
 * when they are NULL (a LEFT JOIN that found no file). */
void file_json(struct buf *b, const PGresult *res, int row, int col);

/* Appends row's file's URL (columns col.., FILE_COLUMNS) as a JSON
 * string, or null. */
void file_json_url(struct buf *b, const PGresult *res, int row, int col);

#endif
