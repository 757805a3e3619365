/* The outcomes of chatd_message_add (its words are listed in
 * sql/004_message_outcomes.sql) as answers: what messages/add and
 * messages/send share. */
#ifndef CHATD_MESSAGE_OUTCOME_H
#define CHATD_MESSAGE_OUTCOME_H

#include "errors.h"

struct reply;

/* API_OK for 'created' and 'replayed' (the caller writes its success);
 * otherwise the refusal, recorded in r: 404 no chat, author or file of
 * the author's, 403 not a member, 422 an Idempotency-Key reused, 500 for
 * a word not listed. chat, author and file are the request's ids in
 * decimal (file "" without one). */
enum api_error message_outcome(const char *outcome, const char *chat,
    const char *author, const char *file, struct reply *r);

#endif
