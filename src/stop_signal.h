/* The signals of a child of the master (a worker, the relay), and of the
 * same programs run alone: SIGTERM, SIGINT and SIGQUIT ask it to stop,
 * SIGPIPE (a peer gone) and SIGHUP (the master's business) are ignored. */
#ifndef CHATD_STOP_SIGNAL_H
#define CHATD_STOP_SIGNAL_H

#include <signal.h>

/* Set by the handler; the process stops once it sees it. */
extern volatile sig_atomic_t stop_requested;

/* Installs the handlers, without SA_RESTART (a blocking call that a stop
 * interrupts fails with EINTR), and fills stops with the three stop
 * signals, for the caller to block and let in where it waits. */
void stop_signal_install(sigset_t *stops);

#endif
