/* The stop signals of a child process (stop_signal.h). */
#include "config.h"

#include <string.h>

#include "stop_signal.h"

volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop_signal_install(sigset_t *stops)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(stops);
	sigaddset(stops, SIGTERM);
	sigaddset(stops, SIGINT);
	sigaddset(stops, SIGQUIT);
}
