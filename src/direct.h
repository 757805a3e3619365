/* Private chats (API.md 2.3): the one chat of a pair of users, opened by
 * chats/direct and by chats/add with "type": "private". */
#ifndef CHATD_DIRECT_H
#define CHATD_DIRECT_H

#include <stdint.h>

#include "errors.h"
#include "query.h"

struct db;
struct reply;

/* Answers the private chat of caller and other (caller != other, both
 * checked by the decoder), made now with name (NULL: named after the two
 * usernames) when the pair has none: 201 {"id"} when made now, 200 {"id"}
 * when it existed, 404 when other does not exist. */
enum api_error direct_open(struct db *db, int64_t caller, int64_t other,
    const char *name, struct reply *r);

/* Statements of direct.c, prepared with every route's (db.c). */
extern const struct query *const direct_queries[];

#endif
