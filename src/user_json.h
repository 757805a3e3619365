/* The user object of API.md 2.2, written from a row whose first columns
 * are USER_COLUMNS: {"id", "username", "created_at", "last_seen_at",
 * "online", "avatar"}, avatar the URL of the user's avatar (users/avatar)
 * or null. */
#ifndef CHATD_USER_JSON_H
#define CHATD_USER_JSON_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "buf.h"

/* Whether the time col is within the presence window (--presence-window):
 * the setting chatd.presence_seconds, which db.c makes on every
 * connection. A setting and not a parameter, because the planner reads it
 * when it plans, and so can estimate from the statistics how few users
 * were seen within it (users/list of the online); a parameter is unknown
 * to a cached plan. */
#define USER_SEEN_LATELY(col) \
    " " col " > now() - make_interval(secs =>" \
    "  current_setting('chatd.presence_seconds')::int)"
/* Whether user u holds a session that has not expired: true, or NULL.
 * A scalar subquery, which PostgreSQL runs for each user it is asked
 * about (an index probe), where it may answer an EXISTS by reading every
 * session into a hash table first. */
#define USER_HAS_SESSION \
    "(SELECT true FROM sessions s WHERE s.user_id = u.id" \
    " AND s.expires_at > now() LIMIT 1)"
/* Whether user u is online (API.md 2.2): with an open event stream, or
 * seen (an authenticated request, a signup or a login) within the
 * presence window and holding a session that has not expired (who logged
 * out everywhere is offline at once). */
/* Whether user u has an open event stream (sql/012_presence.sql): true,
 * or NULL. */
#define USER_STREAMING \
    "(SELECT true FROM streams st WHERE st.user_id = u.id LIMIT 1)"
#define USER_ONLINE \
    "coalesce((" USER_SEEN_LATELY("u.last_seen_at") " AND " \
    USER_HAS_SESSION ") OR " USER_STREAMING ", false)"
/* The avatar's id and name, as file_json_url() reads them: the name is
 * looked up only for a user who has one. */
#define USER_AVATAR \
    "u.avatar_file_id, CASE WHEN u.avatar_file_id IS NOT NULL THEN" \
    " (SELECT a.name FROM files a WHERE a.id = u.avatar_file_id) END"
#define USER_COLUMNS \
    "u.id, u.username, u.created_at, u.last_seen_at, " USER_ONLINE ", " \
    USER_AVATAR
#define USER_NCOLUMNS 7

/* Appends the object of row's user, without its closing brace when open
 * (for the owner's own fields). */
void user_json(struct buf *b, const PGresult *res, int row, bool open);

#endif
