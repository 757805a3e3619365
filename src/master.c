#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "master.h"

/* In a sanitizer build (configure --enable-sanitizers), workers run the
 * leak check themselves before _exit(). */
#if defined(__SANITIZE_ADDRESS__)
#define CHATD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHATD_ASAN 1
#endif
#endif
#ifdef CHATD_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define YOUNG_MS 1000		/* a worker dying younger backs off */
#define CRASH_WINDOW_MS 60000
#define CRASH_LIMIT 10		/* abnormal exits per window: a crash loop */
#define RESIGNAL_MS 200		/* repeat SIGTERM to stopping workers */

static volatile sig_atomic_t got_stop, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

/* A process the master forked: a serving worker in a slot, or one retired
 * by a rolling restart that is finishing its request. */
struct child {
	pid_t pid;		/* 0: none */
	long long started_ms;
	long long respawn_at_ms;	/* for an empty slot: when to refill */
	unsigned generation;	/* the master's generation at its spawn */
	bool retiring;
	bool auth;		/* of the /auth/ pool (its own socket) */
	long long retired_ms;	/* when it was told to go */
};

struct master {
	const struct master_config *cfg;
	/* slots serving slots: cfg->workers of the main pool, then
	 * cfg->auth_workers of the /auth/ pool; then as many retiring */
	struct child *kids;
	int slots, nkids;
	long long backoff_ms;
	long long crashes[CRASH_LIMIT];	/* ring of recent crash times */
	int ncrash;
	unsigned generation;	/* incremented by each SIGHUP */
	bool stopping;
	long long stop_started_ms, last_term_ms;
	int exit_status;
	/* The relay: respawn_at_ms and backoff as a worker's; once the
	 * workers of a stop are gone, relay_stop_ms is when it was told. */
	struct child relay;
	long long relay_backoff_ms, relay_stop_ms;
};

static pid_t spawn(struct master *m, struct child *c)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		c->respawn_at_ms = clock_ms() + BACKOFF_MAX_MS;
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;
		int rc;

		/* Every signal the master handles is still blocked (see
		 * install_signals): one that arrives now waits until
		 * worker_run() has installed the worker's own handlers and
		 * lets it in. Unblocking here would run the master's handler
		 * in the child (the stop lost) or SIGHUP's default (death). */
		struct worker_config wc = m->cfg->worker;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		/* A worker holds its own pool's socket only. An /auth/
		 * worker runs at a lower priority: its password hashes get
		 * the CPU the rest of the API leaves (a nice of 10 weighs a
		 * tenth of the default under the kernel's scheduler). */
		if (c->auth) {
			close(wc.listen_fd);
			wc.listen_fd = m->cfg->auth_fd;
			if (setpriority(PRIO_PROCESS, 0, m->cfg->auth_nice) < 0)
				log_warn("worker: setpriority: %s",
				    strerror(errno));
		} else if (m->cfg->auth_workers > 0) {
			close(m->cfg->auth_fd);
		}
		rc = worker_run(&wc);
#ifdef CHATD_ASAN
		__lsan_do_leak_check();	/* _exit() skips the check at exit */
#endif
		_exit(rc);
	}
	c->pid = pid;
	c->started_ms = clock_ms();
	c->generation = m->generation;
	c->retiring = false;
	return pid;
}

static void describe(int status, char *out, size_t n)
{
	if (WIFSIGNALED(status))
		snprintf(out, n, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
}

/* The wait before respawning a child that lived `lived` ms, when the
 * last wait was `backoff` ms: none for one that lived long, doubled up to
 * BACKOFF_MAX_MS for one that died young. */
static long long backoff_after(long long backoff, long long lived)
{
	if (lived >= YOUNG_MS)
		return 0;
	backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
	return backoff > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff;
}

/* Forks the relay. It holds no listening socket. */
static void spawn_relay(struct master *m)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		m->relay.respawn_at_ms = clock_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0) {
		int rc;

		/* Signals arrive blocked, as in a worker (see spawn()):
		 * relay_run() installs its own handlers first. */
		close(m->cfg->worker.listen_fd);
		if (m->cfg->auth_workers > 0)
			close(m->cfg->auth_fd);
		rc = relay_run(&m->cfg->relay_cfg);
#ifdef CHATD_ASAN
		__lsan_do_leak_check();
#endif
		_exit(rc);
	}
	m->relay.pid = pid;
	m->relay.started_ms = clock_ms();
}

/* The relay has exited: logged, and respawned (unless stopping) with
 * backoff when it died young. It never counts towards a crash loop: the
 * API works without it. */
static void relay_exited(struct master *m, int status, long long now)
{
	char how[64];
	bool abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	describe(status, how, sizeof how);
	if (abnormal || !m->stopping)
		log_msg(abnormal ? LOG_WARN : LOG_INFO, "relay %ld %s after "
		    "%lld ms", (long)m->relay.pid, how,
		    now - m->relay.started_ms);
	m->relay.pid = 0;
	if (m->stopping)
		return;
	m->relay_backoff_ms = backoff_after(m->relay_backoff_ms,
	    now - m->relay.started_ms);
	m->relay.respawn_at_ms = now + m->relay_backoff_ms;
}

/* Records an abnormal exit; true when the window now holds a crash loop. */
static bool crash_loop(struct master *m, long long now)
{
	int i, recent = 0;

	m->crashes[m->ncrash++ % CRASH_LIMIT] = now;
	for (i = 0; i < CRASH_LIMIT && i < m->ncrash; i++)
		if (now - m->crashes[i] < CRASH_WINDOW_MS)
			recent++;
	return recent >= CRASH_LIMIT;
}

static void begin_stop(struct master *m, int exit_status)
{
	if (!m->stopping) {
		/* nginx then fails new requests at once (502) instead of
		 * queueing them behind the drain. */
		listen_cleanup(m->cfg->listen);
		if (m->cfg->auth_workers > 0)
			listen_cleanup(m->cfg->auth_listen);
		m->stopping = true;
		m->stop_started_ms = clock_ms();
		m->last_term_ms = 0;
		m->exit_status = exit_status;
	}
}

static void reap(struct master *m)
{
	long long now = clock_ms();
	char how[64];
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = NULL;
		bool abnormal;

		if (m->relay.pid != 0 && pid == m->relay.pid) {
			relay_exited(m, status, now);
			continue;
		}
		for (i = 0; i < m->nkids; i++)
			if (m->kids[i].pid == pid)
				c = &m->kids[i];
		if (c == NULL)
			continue;
		describe(status, how, sizeof how);
		abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		if (abnormal || !(m->stopping || c->retiring))
			log_msg(abnormal ? LOG_WARN : LOG_INFO,
			    "worker %ld %s after %lld ms", (long)pid, how,
			    now - c->started_ms);
		c->pid = 0;
		if (c->retiring || m->stopping)
			continue;
		if (abnormal && crash_loop(m, now)) {
			log_error("%d workers crashed within %d s: crash loop, "
			    "not respawning; stopping", CRASH_LIMIT,
			    CRASH_WINDOW_MS / 1000);
			begin_stop(m, EXIT_FAILURE);
			continue;
		}
		m->backoff_ms = backoff_after(m->backoff_ms,
		    now - c->started_ms);
		c->respawn_at_ms = now + m->backoff_ms;
	}
}

/* SIGHUP: every serving worker of an older generation moves to a retiring
 * slot, gets SIGTERM, and a fresh worker takes its place at once. False
 * when retiring slots ran out (workers of an earlier restart still
 * finishing): the rest is replaced once they are gone. */
static bool rolling_restart(struct master *m)
{
	int i, j, n = m->slots;

	for (i = 0; i < n; i++) {
		struct child *c = &m->kids[i];

		if (c->pid == 0 || c->generation == m->generation)
			continue;
		for (j = n; j < m->nkids && m->kids[j].pid != 0; j++)
			;
		if (j == m->nkids)
			return false;
		m->kids[j] = *c;
		m->kids[j].retiring = true;
		m->kids[j].retired_ms = clock_ms();
		kill(m->kids[j].pid, SIGTERM);
		c->pid = 0;
		spawn(m, c);
	}
	return true;
}

/* Repeats SIGTERM to retiring workers (one may have been about to block in
 * accept() when the first came) and kills those past the grace period. */
static void hurry_retirees(struct master *m, long long now)
{
	bool resignal = now - m->last_term_ms >= RESIGNAL_MS;
	int i;

	for (i = m->slots; i < m->nkids; i++) {
		struct child *c = &m->kids[i];

		if (c->pid == 0)
			continue;
		if (now - c->retired_ms >= m->cfg->grace_seconds * 1000LL)
			kill(c->pid, SIGKILL);
		else if (resignal)
			kill(c->pid, SIGTERM);
	}
	if (resignal)
		m->last_term_ms = now;
}

static int live(const struct master *m)
{
	int i, n = 0;

	for (i = 0; i < m->nkids; i++)
		n += m->kids[i].pid != 0;
	return n;
}

/* One step of a stop: SIGTERM to every child, repeated (a worker may have
 * been about to block in accept() when the first one came), then SIGKILL
 * once the grace period is over. */
static void stop_children(struct master *m, long long now)
{
	int i, sig = SIGTERM;

	if (now - m->stop_started_ms >= m->cfg->grace_seconds * 1000LL)
		sig = SIGKILL;
	else if (now - m->last_term_ms < RESIGNAL_MS)
		return;
	m->last_term_ms = now;
	for (i = 0; i < m->nkids; i++)
		if (m->kids[i].pid != 0)
			kill(m->kids[i].pid, sig);
}

/* The relay's part of a stop, once the workers are gone: SIGTERM,
 * repeated, then SIGKILL after the grace period (counted from then: the
 * workers may have taken all of theirs). */
static void stop_relay(struct master *m, long long now)
{
	int sig = SIGTERM;

	if (m->relay_stop_ms == 0)
		m->relay_stop_ms = now;
	else if (now - m->relay_stop_ms >= m->cfg->grace_seconds * 1000LL)
		sig = SIGKILL;
	else if (now - m->last_term_ms < RESIGNAL_MS)
		return;
	m->last_term_ms = now;
	kill(m->relay.pid, sig);
}

/* Milliseconds until the next timed event, or -1 for none. */
static long long next_timeout(const struct master *m, long long now)
{
	long long t = -1;
	int i;

	if (m->stopping)
		return RESIGNAL_MS;
	for (i = m->slots; i < m->nkids; i++)
		if (m->kids[i].pid != 0)
			t = RESIGNAL_MS;	/* a retiree to hurry */
	for (i = 0; i < m->slots; i++) {
		const struct child *c = &m->kids[i];
		long long d;

		if (c->pid != 0)
			continue;
		d = c->respawn_at_ms - now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	if (m->cfg->relay && m->relay.pid == 0) {
		long long d = m->relay.respawn_at_ms - now;

		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	return t;
}

static void install_signals(sigset_t *blocked, sigset_t *waitmask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(blocked);
	sigaddset(blocked, SIGCHLD);
	sigaddset(blocked, SIGHUP);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGQUIT);
	sigprocmask(SIG_BLOCK, blocked, waitmask);
	/* The mask to wait with: as inherited, but with ours let in. */
	sigdelset(waitmask, SIGCHLD);
	sigdelset(waitmask, SIGHUP);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGQUIT);
}

/* Signals stay blocked but inside ppoll(), which lets them in atomically:
 * none is lost between a check of the flags and the wait. */
int master_run(const struct master_config *cfg)
{
	struct master m = {.cfg = cfg};
	sigset_t blocked, waitmask;
	bool restarting = false;
	int i;

	install_signals(&blocked, &waitmask);
	m.slots = cfg->workers + cfg->auth_workers;
	m.nkids = m.slots * 2;
	m.kids = xmalloc((size_t)m.nkids * sizeof *m.kids);
	memset(m.kids, 0, (size_t)m.nkids * sizeof *m.kids);
	for (i = cfg->workers; i < m.slots; i++)
		m.kids[i].auth = true;
	log_info("master started: %d workers, %d for /auth/, %s", cfg->workers,
	    cfg->auth_workers, cfg->relay ? "the relay" : "no relay");
	for (;;) {
		long long now = clock_ms(), t;
		struct timespec ts, *tsp = NULL;

		if (got_chld) {
			got_chld = 0;
			reap(&m);
		}
		if (got_stop) {
			got_stop = 0;
			log_info("stopping: workers finish their requests");
			begin_stop(&m, EXIT_SUCCESS);
		}
		if (got_hup) {
			got_hup = 0;
			log_info("restarting workers");
			m.generation++;
			restarting = true;
		}
		if (restarting && !m.stopping)
			restarting = !rolling_restart(&m);
		if (m.stopping) {
			if (live(&m) > 0)
				stop_children(&m, now);
			else if (m.relay.pid != 0)
				stop_relay(&m, now);
			else
				break;
		} else {
			if (cfg->relay && m.relay.pid == 0 &&
			    m.relay.respawn_at_ms <= now)
				spawn_relay(&m);
			hurry_retirees(&m, now);
			for (i = 0; i < m.slots; i++)
				if (m.kids[i].pid == 0 &&
				    m.kids[i].respawn_at_ms <= now)
					spawn(&m, &m.kids[i]);
		}
		t = next_timeout(&m, clock_ms());
		if (t >= 0) {
			ts.tv_sec = t / 1000;
			ts.tv_nsec = t % 1000 * 1000000;
			tsp = &ts;
		}
		if (ppoll(NULL, 0, tsp, &waitmask) < 0 && errno != EINTR)
			log_error("ppoll: %s", strerror(errno));
	}
	free(m.kids);
	log_info("master stopped");
	return m.exit_status;
}
