/*
 * slow_sigmask.so — an LD_PRELOAD shim that widens the moments at which a
 * forked process lets SIGHUP or SIGTERM in, so that a test can deliver a
 * signal inside them deterministically.
 *
 * Build: cc -shared -fPIC -o slow_sigmask.so slow_sigmask.c -ldl
 *
 * Contract:
 *   - sigprocmask() and pthread_sigmask() are wrapped: the real function
 *     (dlsym(RTLD_NEXT)) is always called first, with the caller's
 *     arguments, and its return value and errno are what the caller gets.
 *   - Then, only if all of these hold, the calling thread sleeps:
 *       * the environment variable SLOW_SIGMASK_MS is set to a positive
 *         decimal number of milliseconds (read once, at load);
 *       * the process is not the one that loaded the shim: getpid() differs
 *         from the pid recorded by the constructor, i.e. this is a forked
 *         child (a chatd worker), never the process that was exec'd with
 *         the shim (the chatd master);
 *       * the call succeeded and left SIGHUP or SIGTERM unblocked where it
 *         was blocked before the call.
 *   - The sleep lasts SLOW_SIGMASK_MS of CLOCK_MONOTONIC time in all: a
 *     signal handler that runs during it (exactly what the test provokes)
 *     interrupts it, and it is resumed until the deadline has passed.
 *   - Nothing else changes: with SLOW_SIGMASK_MS unset, or in the first
 *     process, the wrappers are plain pass-throughs.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int mask_fn(int, const sigset_t *, sigset_t *);

static pid_t first_pid;
static long delay_ms;		/* 0: never sleep */

__attribute__((constructor))
static void slow_sigmask_init(void)
{
	const char *s = getenv("SLOW_SIGMASK_MS");
	char *end;
	long v;

	first_pid = getpid();
	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == 0 && *end == '\0' && v > 0)
		delay_ms = v;
}

/* The next definition of name (libc's). Resolved at the first call;
 * chatd's processes are single-threaded, so no lock guards the slot. */
static mask_fn *real(mask_fn **slot, const char *name)
{
	if (*slot == NULL) {
		void *sym = dlsym(RTLD_NEXT, name);

		/* ISO C has no cast from void * to a function pointer. */
		memcpy(slot, &sym, sizeof *slot);
	}
	return *slot;
}

static bool opened(const sigset_t *before, const sigset_t *after, int sig)
{
	return sigismember(before, sig) == 1 && sigismember(after, sig) == 0;
}

/* Sleeps delay_ms in all, however often a signal handler interrupts it. */
static void slow_down(void)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += delay_ms % 1000 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until,
	    NULL) == EINTR)
		;
}

/* The real call, then the sleep if the contract above asks for it.
 * fails_with_errno: sigprocmask reports failure as -1 and errno,
 * pthread_sigmask as a returned error number. */
static int wrap(mask_fn *fn, bool fails_with_errno, int how,
    const sigset_t *set, sigset_t *oldset)
{
	sigset_t before, after;
	int rc, saved;

	if (fn == NULL) {
		if (fails_with_errno) {
			errno = ENOSYS;
			return -1;
		}
		return ENOSYS;
	}
	if (delay_ms == 0 || getpid() == first_pid || set == NULL)
		return fn(how, set, oldset);
	/* set may alias oldset: the real call reads set before writing. */
	rc = fn(how, set, &before);
	saved = errno;
	if (rc != 0)
		return rc;
	if (oldset != NULL)
		*oldset = before;
	if (fn(SIG_BLOCK, NULL, &after) == 0 &&
	    (opened(&before, &after, SIGHUP) || opened(&before, &after, SIGTERM)))
		slow_down();
	errno = saved;
	return rc;
}

static mask_fn *real_sigprocmask, *real_pthread_sigmask;

int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return wrap(real(&real_sigprocmask, "sigprocmask"), true, how, set,
	    oldset);
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return wrap(real(&real_pthread_sigmask, "pthread_sigmask"), false, how,
	    set, oldset);
}
