#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

/* A whole decimal number in s, or -1. */
static long numeric(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return *s && !*end && !errno && v >= 0 ? v : -1;
}

int privs_lookup(const char *user, const char *group, uid_t *uid,
    gid_t *gid)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (user) {
		struct passwd *pw = getpwnam(user);

		if (pw)
			*uid = pw->pw_uid;
		else if (numeric(user) >= 0)
			*uid = (uid_t)numeric(user);
		else {
			log_error("no such user: %s", user);
			return -1;
		}
	}
	if (group) {
		struct group *gr = getgrnam(group);

		if (gr)
			*gid = gr->gr_gid;
		else if (numeric(group) >= 0)
			*gid = (gid_t)numeric(group);
		else {
			log_error("no such group: %s", group);
			return -1;
		}
	}
	return 0;
}

int privs_drop(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	gid_t gid = pw ? pw->pw_gid : (gid_t)uid;

	if (geteuid() != 0) {
		log_error("--user needs chatd to be started as root");
		return -1;
	}
	if ((pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL)) < 0 ||
	    setgid(gid) < 0 || setuid(uid) < 0) {
		log_error("dropping privileges: %s", strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_error("dropping privileges: root could be regained");
		return -1;
	}
	log_info("running as uid %ld, gid %ld", (long)getuid(), (long)getgid());
	return 0;
}
