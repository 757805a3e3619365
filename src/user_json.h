/* The user object of API.md 2.2, written from a row whose first columns
 * are USER_COLUMNS: {"id", "username", "created_at", "last_seen_at",
 * "online", "avatar"}. avatar is null until users can have one. */
#ifndef CHATD_USER_JSON_H
#define CHATD_USER_JSON_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "buf.h"

/* $presence is the parameter holding the presence window in seconds. */
#define USER_COLUMNS(presence) \
    "u.id, u.username, u.created_at, u.last_seen_at," \
    " coalesce(u.last_seen_at > now() - make_interval(secs => " \
    presence "::int), false)"
#define USER_NCOLUMNS 5

/* Appends the object of row's user, without its closing brace when open
 * (for the owner's own fields). */
void user_json(struct buf *b, const PGresult *res, int row, bool open);

#endif
