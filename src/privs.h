/* Least privilege for `chatd serve` started as root: the socket is bound
 * and handed over first, then the process becomes an ordinary user for
 * good, before any request is read. */
#ifndef CHATD_PRIVS_H
#define CHATD_PRIVS_H

#include <sys/types.h>

/* Looks up a user name (or numeric uid) and a group name (or numeric gid);
 * NULL names give -1. Returns 0, or -1 with the reason logged. */
int privs_lookup(const char *user, const char *group, uid_t *uid,
    gid_t *gid);

/* Becomes user uid with its primary group and supplementary groups, for
 * good (no way back to root). Must be root; returns 0 or -1 (logged). */
int privs_drop(uid_t uid);

#endif
