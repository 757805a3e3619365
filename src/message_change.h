/* Changing a message that exists (API.md 2.4): what messages/edit and
 * messages/delete share. Both take {"message", ...} and answer 204. */
#ifndef CHATD_MESSAGE_CHANGE_H
#define CHATD_MESSAGE_CHANGE_H

#include <stdint.h>

#include "errors.h"
#include "query.h"

struct db;
struct reply;

/* Runs q, a call of chatd_message_edit or chatd_message_delete
 * (sql/010_edit_search.sql) with $1 caller, $2 message and, when text is
 * not NULL, $3 text, in one transaction, and answers its outcome: 204
 * ('edited', 'deleted'), 404 ('no_message'), 403 ('not_author',
 * 'forbidden'), 400 ('no_text'), 500 for a word not listed. */
enum api_error message_change(struct db *db, const struct query *q,
    int64_t caller, int64_t message, const char *text, struct reply *r);

#endif
