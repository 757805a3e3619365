#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

enum log_level log_max_level = LOG_INFO;

static const char *const level_names[LOG_LEVEL__MAX] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	log_max_level = level;
}

/* Formats the whole line first and writes it with one write(2), so lines
 * of concurrent workers sharing stderr never interleave. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int n, m;
	va_list ap;

	if (!log_enabled(level))
		return;
	n = snprintf(line, sizeof line, "chatd[%ld]: %s: ", (long)getpid(),
	    level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
