/* Logging to stderr, one line per event, prefixed "chatd[pid]: level: ".
 * Under systemd or spawn-fcgi stderr is the journal or a file; nginx keeps
 * the access log, so chatd logs only what an operator has to act on. */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_LEVEL__MAX };

/* Messages above this level are dropped; LOG_INFO unless changed. */
void log_set_level(enum log_level level);

extern enum log_level log_max_level;	/* read through log_enabled() */

/* True when messages of level are written: a caller can skip the work of
 * a message nobody will read. */
static inline bool log_enabled(enum log_level level)
{
	return level <= log_max_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
