/*
 * harness.c - see harness.h.
 */
#define _GNU_SOURCE /* struct ucred, accept4 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <curl/curl.h>

/* Generous bounds: the stack script waits for the servers itself. */
#define SCRIPT_TIMEOUT_S 180
#define REQUEST_TIMEOUT_S 60

/* Base URL of the running stack; written by the main thread before any
 * worker thread exists, read-only afterwards. */
static char base_url[128];
/* The running stack, for log excerpts when a request fails. */
static const struct stack *current_stack;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key;

static void curl_handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	pthread_key_create(&curl_key, curl_handle_free);
}

/* Returns the calling thread's handle (borrowed), creating it once. */
static CURL *thread_curl(void)
{
	CURL *h;

	pthread_once(&curl_once, curl_setup);
	h = pthread_getspecific(curl_key);
	if (h == NULL) {
		h = curl_easy_init();
		if (h == NULL)
			abort();
		pthread_setspecific(curl_key, h);
	}
	return h;
}

void http_thread_done(void)
{
	CURL *h;

	pthread_once(&curl_once, curl_setup);
	h = pthread_getspecific(curl_key);
	if (h != NULL) {
		curl_easy_cleanup(h);
		pthread_setspecific(curl_key, NULL);
	}
}

/* ---- utilities ---------------------------------------------------------- */

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void uniq_name(char *buf, size_t n, const char *prefix)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static unsigned long counter;
	unsigned long c;

	pthread_mutex_lock(&mu);
	c = ++counter;
	pthread_mutex_unlock(&mu);
	snprintf(buf, n, "%s_%ld_%lu", prefix, (long)getpid(), c);
}

char *str_repeat(const char *s, size_t count)
{
	size_t len = strlen(s);
	char *out = malloc(len * count + 1);
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i < count; i++)
		memcpy(out + i * len, s, len);
	out[len * count] = '\0';
	return out;
}

bool is_canonical_id(const char *s)
{
	size_t len;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return false;
	len = strspn(s, "0123456789");
	if (s[len] != '\0' || len > 19)
		return false;
	return len < 19 || strcmp(s, "9223372036854775807") <= 0;
}

int id_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

bool is_rfc3339_micro(const char *s)
{
	/* 'd' is a digit, anything else must match literally. */
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	if (s == NULL || strlen(s) != sizeof(pat) - 1)
		return false;
	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i])
				  : s[i] != pat[i])
			return false;
	}
	return true;
}

double ts_age_seconds(const char *s)
{
	struct tm tm;
	time_t t;
	double d;

	if (!is_rfc3339_micro(s))
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	d = difftime(time(NULL), t);
	return d < 0 ? -d : d;
}

bool is_json_content_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (strncasecmp(ct, want, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* ---- processes ---------------------------------------------------------- */

/* Read a whole small file into a new string, or NULL. */
static char *slurp(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

/* Whether the process of /proc/PID/stat text stat, whose command name
 * ends at close, is chatd's relay (it names itself "chatd-relay"). */
static bool is_relay(const char *stat, const char *close)
{
	const char *open = strchr(stat, '(');

	return open != NULL && close - open - 1 == 11 &&
	       strncmp(open + 1, "chatd-relay", 11) == 0;
}

int proc_children(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], *stat, *p;
		char state;
		long ppid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		stat = slurp(path, NULL);
		if (stat == NULL)
			continue;
		/* The command name may hold ") ", so parse after the last ')'. */
		p = strrchr(stat, ')');
		if (p != NULL && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 &&
		    ppid == (long)parent && state != 'Z' && state != 'X' &&
		    !is_relay(stat, p)) {
			if (count < max)
				out[count] = (pid_t)atol(e->d_name);
			count++;
		}
		free(stat);
	}
	closedir(d);
	return count;
}

int stack_wait_workers(const struct stack *st, pid_t master, pid_t *out,
		       int max, double wait_s)
{
	double deadline = now_seconds() + wait_s;
	int n;

	while ((n = proc_children(master, out, max)) != st->workers &&
	       now_seconds() < deadline)
		sleep_ms(20);
	if (n != st->workers) {
		stack_dump_logs(st);
		fail_msg_at("master %ld has %d live children, want %d workers",
			    (long)master, n, st->workers);
	}
	return n;
}

pid_t stack_master_pid(const struct stack *st)
{
	char path[128], *s;
	long pid;

	snprintf(path, sizeof(path), "%s/chatd.pid", st->dir);
	s = slurp(path, NULL);
	if (s == NULL)
		return -1;
	pid = strtol(s, NULL, 10);
	free(s);
	return pid > 0 ? (pid_t)pid : -1;
}

/* Writes the path of contrib/stack into buf; false (with a message) when
 * the test runs without CHATD_BIN and CHATD_SRCDIR. */
static bool stack_script_path(char *buf, size_t n)
{
	const char *srcdir = getenv("CHATD_SRCDIR");

	if (srcdir == NULL || getenv("CHATD_BIN") == NULL) {
		fprintf(stderr, "harness: CHATD_BIN and CHATD_SRCDIR must be set\n");
		return false;
	}
	snprintf(buf, n, "%s/contrib/stack", srcdir);
	return true;
}

/* The script's output goes next to DIR, not into it: the script refuses
 * to take over a non-empty directory that is not yet a stack's. */
static void script_log_path(const struct stack *st, char *buf, size_t n)
{
	snprintf(buf, n, "%s.stack-script.log", st->dir);
}

/* Run `contrib/stack VERB DIR [EXTRA...]` (extra is NULL-terminated, may be
 * NULL) with its output appended to the stack's script log; returns its
 * exit status, or -1. */
static int run_stack_script_args(const struct stack *st, const char *verb,
				 const char *const *extra)
{
	char script[PATH_MAX], log[128], portbuf[16], workbuf[16];
	double deadline;
	pid_t pid;
	int status;

	if (!stack_script_path(script, sizeof(script)))
		return -1;
	script_log_path(st, log, sizeof(log));
	snprintf(portbuf, sizeof(portbuf), "%d", st->port);
	snprintf(workbuf, sizeof(workbuf), "%d", st->workers);

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		setenv("CHATD_PORT", portbuf, 1);
		setenv("CHATD_HOST", "127.0.0.1", 1);
		setenv("CHATD_WORKERS", workbuf, 1);
		/* The workers a test counts, kills and pauses are the main
		 * pool; a test of the /auth/ pool sets this itself. */
		setenv("CHATD_AUTH_WORKERS", "0", 0);
		{
			const char *argv[64];
			size_t n = 0;

			argv[n++] = "bash";
			argv[n++] = script;
			argv[n++] = verb;
			argv[n++] = st->dir;
			while (extra != NULL && *extra != NULL && n < 63)
				argv[n++] = *extra++;
			argv[n] = NULL;
			execv("/bin/bash", (char *const *)argv);
		}
		_exit(127);
	}
	deadline = now_seconds() + SCRIPT_TIMEOUT_S;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_seconds() > deadline) {
			fprintf(stderr, "harness: 'stack %s' timed out after %d s\n",
				verb, SCRIPT_TIMEOUT_S);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(50);
	}
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int run_stack_script(const struct stack *st, const char *verb)
{
	return run_stack_script_args(st, verb, NULL);
}

int stack_psql(const struct stack *st, const char *dbname, const char *sql)
{
	const char *const args[] = { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
		dbname, "-c", sql, NULL };
	int rc = run_stack_script_args(st, "psql", args);

	if (rc != 0)
		fprintf(stderr, "harness: psql on %s failed (exit %d): %s\n",
			dbname, rc, sql);
	return rc == 0 ? 0 : -1;
}

/* Print the last `keep` bytes of a file to stderr. */
static void dump_file(const char *path, size_t keep)
{
	size_t len;
	char *s = slurp(path, &len);

	if (s == NULL) {
		fprintf(stderr, "----- %s: (absent)\n", path);
		return;
	}
	if (len > keep)
		fprintf(stderr, "----- %s (last %zu bytes):\n%s\n", path, keep,
			s + len - keep);
	else
		fprintf(stderr, "----- %s:\n%s\n", path, s);
	free(s);
}

static void dump_logs(const struct stack *st, bool all, size_t keep)
{
	static const char *const names[] = {
		"chatd.log", "nginx-error.log", "postgres.log",
	};
	char path[256];
	size_t i;

	if (all) {
		script_log_path(st, path, sizeof(path));
		dump_file(path, keep);
	}
	for (i = 0; i < (all ? 3u : 2u); i++) {
		snprintf(path, sizeof(path), "%s/%s", st->dir, names[i]);
		dump_file(path, keep);
	}
}

void stack_dump_logs(const struct stack *st)
{
	dump_logs(st, true, 16384);
}

/* Read CHATD_URL from DIR/env into st->url. */
static int read_env_file(struct stack *st)
{
	char path[128], *s, *line, *save = NULL;
	bool found = false;

	snprintf(path, sizeof(path), "%s/env", st->dir);
	s = slurp(path, NULL);
	if (s == NULL) {
		fprintf(stderr, "harness: %s is missing\n", path);
		return -1;
	}
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "CHATD_URL=", 10) == 0) {
			size_t n = strlen(line + 10);

			while (n > 0 && (line[10 + n - 1] == '/' ||
					 line[10 + n - 1] == '\r'))
				n--;
			if (n >= sizeof(st->url))
				break;
			memcpy(st->url, line + 10, n);
			st->url[n] = '\0';
			found = true;
		}
	}
	free(s);
	if (!found)
		fprintf(stderr, "harness: no CHATD_URL in %s\n", path);
	return found ? 0 : -1;
}

static int free_loopback_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Start the servers on st->dir (which exists). */
static int stack_start_in_dir(struct stack *st)
{
	int rc = run_stack_script(st, "start");

	if (rc != 0 || read_env_file(st) != 0) {
		fprintf(stderr, "harness: 'contrib/stack start %s' failed "
			"(exit %d); logs follow\n", st->dir, rc);
		stack_dump_logs(st);
		run_stack_script(st, "stop");
		return -1;
	}
	st->running = true;
	memcpy(base_url, st->url, sizeof(base_url));
	current_stack = st;
	return 0;
}

/* CHATD_TEST_KEEP is set to something other than "" or "0". */
static bool keep_requested(void)
{
	const char *keep = getenv("CHATD_TEST_KEEP");

	return keep != NULL && keep[0] != '\0' && strcmp(keep, "0") != 0;
}

/*
 * If the test binary is interrupted (Ctrl-C, a test driver's SIGTERM), stop
 * the stack rather than leave PostgreSQL, chatd and nginx running.  The
 * handler only forks, execs and waits (all async-signal-safe); its argv is
 * built beforehand.
 */
static char stop_script[PATH_MAX];
static char stop_dir[64];
static char stop_log[128];
static char *stop_argv[] = { "bash", stop_script, "stop", stop_dir, NULL };
static char *rm_argv[] = { "rm", "-rf", stop_dir, stop_log, NULL };
static bool keep_dir;

/* Run the program `path` with argv and wait for it. */
static void run_and_wait(const char *path, char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static void on_fatal_signal(int sig)
{
	if (stop_dir[0] != '\0') {
		run_and_wait("/bin/bash", stop_argv);
		if (!keep_dir)
			run_and_wait("/bin/rm", rm_argv);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_cleanup(const struct stack *st)
{
	struct sigaction sa;

	if (!stack_script_path(stop_script, sizeof(stop_script)))
		return;
	snprintf(stop_dir, sizeof(stop_dir), "%s", st->dir);
	script_log_path(st, stop_log, sizeof(stop_log));
	keep_dir = keep_requested();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

int stack_start(struct stack *st)
{
	const char *w = getenv("CHATD_WORKERS");

	return stack_start_workers(st, (w != NULL && atoi(w) > 0) ? atoi(w) : 4);
}

int stack_start_workers(struct stack *st, int workers)
{
	memset(st, 0, sizeof(*st));
	pthread_once(&curl_once, curl_setup);
	signal(SIGPIPE, SIG_IGN);
	st->workers = workers;
	st->port = free_loopback_port();
	if (st->port <= 0) {
		fprintf(stderr, "harness: no free loopback port\n");
		return -1;
	}
	strcpy(st->dir, "/tmp/chatd-test-XXXXXX");
	if (mkdtemp(st->dir) == NULL) {
		perror("harness: mkdtemp");
		st->dir[0] = '\0';
		return -1;
	}
	if (chmod(st->dir, 0755) != 0) {
		perror("harness: chmod");
		return -1;
	}
	arm_cleanup(st);
	return stack_start_in_dir(st);
}

int stack_stop(struct stack *st)
{
	int rc;

	if (st->dir[0] == '\0')
		return 0;
	rc = run_stack_script(st, "stop");
	st->running = false;
	if (rc != 0) {
		fprintf(stderr, "harness: 'contrib/stack stop %s' failed (exit %d)\n",
			st->dir, rc);
		return -1;
	}
	return 0;
}

int stack_restart(struct stack *st)
{
	if (stack_stop(st) != 0)
		return -1;
	return stack_start_in_dir(st);
}

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

void stack_destroy(struct stack *st)
{
	char log[256];

	if (st->dir[0] == '\0')
		return;
	stack_stop(st);
	stop_dir[0] = '\0';
	if (current_stack == st)
		current_stack = NULL;
	http_thread_done();
	if (keep_requested()) {
		fprintf(stderr, "harness: keeping %s\n", st->dir);
		return;
	}
	script_log_path(st, log, sizeof(log));
	unlink(log);
	nftw(st->dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	st->dir[0] = '\0';
}

/* ---- HTTP client -------------------------------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Copy the value of header `name` from `line` into dst if it matches. */
static void take_header(const char *line, size_t len, const char *name,
			char *dst, size_t dstlen)
{
	size_t nl = strlen(name), vlen;
	const char *v;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	vlen = len - nl - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
			    v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_reply *r = userdata;
	size_t n = size * nmemb;

	/* A new status line (after 100 Continue, say) starts over. */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		r->content_type[0] = r->allow[0] = r->retry_after[0] = '\0';
		return n;
	}
	take_header(ptr, n, "Content-Type", r->content_type,
		    sizeof(r->content_type));
	take_header(ptr, n, "Allow", r->allow, sizeof(r->allow));
	take_header(ptr, n, "Retry-After", r->retry_after,
		    sizeof(r->retry_after));
	return n;
}

long http_request(const char *method, const char *path, const char *body,
		  size_t len, const char *extra_header, struct http_reply *out)
{
	CURL *h = thread_curl();
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0, 0 };
	char url[1024];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->error);

	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL || strcmp(method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)len);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					 body != NULL ? body : "");
		}
	}
	if (extra_header == NULL ||
	    strncasecmp(extra_header, "Content-Type", 12) != 0)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (extra_header != NULL)
		hdrs = curl_slist_append(hdrs, extra_header);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	} else {
		out->status = 0;
		if (out->error[0] == '\0')
			snprintf(out->error, sizeof(out->error), "%s",
				 curl_easy_strerror(rc));
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);

	if (b.data == NULL) {
		b.data = calloc(1, 1);
		if (b.data == NULL)
			abort();
	}
	out->body = b.data;
	out->body_len = b.len;
	if (b.len > 0)
		out->json = json_loadb(b.data, b.len,
				       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				       NULL);
	return out->status;
}

long http_post(const char *path, const char *body, size_t len,
	       const char *extra_header, struct http_reply *out)
{
	return http_request("POST", path, body, len, extra_header, out);
}

void print_error_lines(const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, "\n");
		size_t k = n > 900 ? 900 : n;

		print_error("%.*s\n", (int)k, s);
		s += k;
		if (k == n && *s == '\n')
			s++;
	}
}

long http_post_as(const char *token, const char *path, const char *body,
		  struct http_reply *out)
{
	char auth[128];

	if (token == NULL)
		return http_post(path, body, strlen(body), NULL, out);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	return http_post(path, body, strlen(body), auth, out);
}

long http_post_json(const char *path, json_t *req, const char *extra_header,
		    struct http_reply *out)
{
	char *s = json_dumps(req, JSON_COMPACT);
	long st;

	if (s == NULL)
		abort();
	st = http_post(path, s, strlen(s), extra_header, out);
	free(s);
	json_decref(req);
	return st;
}

void http_reply_free(struct http_reply *r)
{
	free(r->body);
	json_decref(r->json);
	r->body = NULL;
	r->json = NULL;
}

/* ---- API shortcuts ------------------------------------------------------ */

/* Copy a 201 reply's id into id_out if it is a canonical id. */
static long take_id(struct http_reply *r, char *id_out)
{
	long st = r->status;

	if (st == 201 && id_out != NULL) {
		const char *id = json_string_value(json_object_get(r->json, "id"));

		id_out[0] = '\0';
		if (is_canonical_id(id))
			snprintf(id_out, ID_LEN, "%s", id);
		else
			st = -201; /* created, but the id is malformed */
	}
	http_reply_free(r);
	return st;
}

long api_user_add(const char *username, char *id_out)
{
	struct http_reply r;

	http_post_json("/users/add", json_pack("{s:s}", "username", username),
		       NULL, &r);
	return take_id(&r, id_out);
}

long api_chat_add(const char *name, const char *const *user_ids, size_t n,
		  char *id_out)
{
	struct http_reply r;
	json_t *users = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(users, json_string(user_ids[i]));
	http_post_json("/chats/add",
		       json_pack("{s:s,s:o}", "name", name, "users", users),
		       NULL, &r);
	return take_id(&r, id_out);
}

long api_message_add(const char *chat, const char *author, const char *text,
		     const char *idempotency_key, char *id_out)
{
	struct http_reply r;
	char hdr[512];

	if (idempotency_key != NULL)
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s",
			 idempotency_key);
	http_post_json("/messages/add",
		       json_pack("{s:s,s:s,s:s}", "chat", chat, "author",
				 author, "text", text),
		       idempotency_key != NULL ? hdr : NULL, &r);
	return take_id(&r, id_out);
}

long api_messages_get(const char *chat, json_t **out)
{
	struct http_reply r;
	long st;

	*out = NULL;
	st = http_post_json("/messages/get", json_pack("{s:s}", "chat", chat),
			    NULL, &r);
	if (st == 200 && json_is_array(r.json))
		*out = json_incref(r.json);
	else if (st == 200)
		st = -200; /* 200 but not an array */
	http_reply_free(&r);
	return st;
}

/* ---- assertions --------------------------------------------------------- */

void fail_msgf(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("%s\n", msg);
	_fail(file, line);
}

static void describe_failure(const struct http_reply *r, const char *what,
			     const char *file, int line, const char *why)
{
	int shown = r->body_len > 600 ? 600 : (int)r->body_len;

	/* A server-side failure: show what the servers said about it. */
	if ((r->status == 0 || r->status >= 500) && current_stack != NULL &&
	    current_stack->dir[0] != '\0')
		dump_logs(current_stack, false, 3000);

	fail_msgf(file, line,
		  "%s: %s\n  got status %ld, Content-Type '%s'%s%s\n  body: %.*s%s",
		  what, why, r->status, r->content_type,
		  r->error[0] ? ", curl error: " : "", r->error, shown,
		  r->body ? r->body : "", r->body_len > 600 ? "..." : "");
}

void check_status_at(const struct http_reply *r, long status, const char *what,
		     const char *file, int line)
{
	char why[64];

	if (r->status != status) {
		snprintf(why, sizeof(why), "expected status %ld", status);
		describe_failure(r, what, file, line, why);
	}
}

void check_error_at(const struct http_reply *r, long status, const char *code,
		    const char *what, const char *file, int line)
{
	char why[160];
	const char *err, *msg;

	snprintf(why, sizeof(why), "expected %ld {\"error\": \"%s\", "
		 "\"message\": ...} as application/json", status, code);
	if (r->status != status || !is_json_content_type(r->content_type) ||
	    !json_is_object(r->json))
		describe_failure(r, what, file, line, why);
	err = json_string_value(json_object_get(r->json, "error"));
	msg = json_string_value(json_object_get(r->json, "message"));
	if (err == NULL || strcmp(err, code) != 0 || msg == NULL ||
	    msg[0] == '\0')
		describe_failure(r, what, file, line, why);
}

void check_created_at(const struct http_reply *r, char *id_out,
		      const char *what, const char *file, int line)
{
	const char *id;

	if (r->status != 201 || !is_json_content_type(r->content_type) ||
	    !json_is_object(r->json))
		describe_failure(r, what, file, line,
				 "expected 201 {\"id\": \"<id>\"} as application/json");
	id = json_string_value(json_object_get(r->json, "id"));
	if (!is_canonical_id(id))
		describe_failure(r, what, file, line,
				 "\"id\" is not a canonical decimal string");
	if (id_out != NULL)
		snprintf(id_out, ID_LEN, "%s", id);
}

void must_user(const char *prefix, char *id_out)
{
	struct http_reply r;
	char name[128];

	uniq_name(name, sizeof(name), prefix);
	http_post_json("/users/add", json_pack("{s:s}", "username", name),
		       NULL, &r);
	check_created(&r, id_out, "users/add");
	http_reply_free(&r);
}

void must_chat(const char *prefix, const char *const *user_ids, size_t n,
	       char *id_out)
{
	struct http_reply r;
	char name[128];
	json_t *users = json_array();
	size_t i;

	uniq_name(name, sizeof(name), prefix);
	for (i = 0; i < n; i++)
		json_array_append_new(users, json_string(user_ids[i]));
	http_post_json("/chats/add",
		       json_pack("{s:s,s:o}", "name", name, "users", users),
		       NULL, &r);
	check_created(&r, id_out, "chats/add");
	http_reply_free(&r);
}

void must_message(const char *chat, const char *author, const char *text,
		  char *id_out)
{
	struct http_reply r;

	http_post_json("/messages/add",
		       json_pack("{s:s,s:s,s:s}", "chat", chat, "author",
				 author, "text", text),
		       NULL, &r);
	check_created(&r, id_out, "messages/add");
	http_reply_free(&r);
}

static json_t *must_list(const char *path, const char *field, const char *id)
{
	struct http_reply r;
	json_t *arr;

	http_post_json(path, json_pack("{s:s}", field, id), NULL, &r);
	check_status(&r, 200, path);
	if (!is_json_content_type(r.content_type) || !json_is_array(r.json))
		describe_failure(&r, path, __FILE__, __LINE__,
				 "expected a JSON array as application/json");
	arr = json_incref(r.json);
	http_reply_free(&r);
	return arr;
}

json_t *must_messages(const char *chat)
{
	return must_list("/messages/get", "chat", chat);
}

json_t *must_chats(const char *user)
{
	return must_list("/chats/get", "user", user);
}

struct stack the_stack;

int stack_group_setup(void **state)
{
	(void)state;
	return stack_start(&the_stack) == 0 ? 0 : -1;
}

int stack_group_teardown(void **state)
{
	(void)state;
	stack_destroy(&the_stack);
	return 0;
}

long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n < 0 ? 0 : n;
}

char *file_since(const char *path, long from)
{
	FILE *f = fopen(path, "rb");
	long end;
	size_t got;
	char *s;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	end = ftell(f);
	if (end < from)
		from = 0;
	fseek(f, from, SEEK_SET);
	s = malloc((size_t)(end - from) + 1);
	if (s == NULL)
		abort();
	got = fread(s, 1, (size_t)(end - from), f);
	s[got] = '\0';
	fclose(f);
	return s;
}

/* ---- more stack control and /proc (fault and memory tests) -------------- */

int stack_script(const struct stack *st, const char *verb)
{
	int rc = run_stack_script(st, verb);

	if (rc != 0)
		fprintf(stderr, "harness: 'contrib/stack %s %s' failed (exit %d)\n",
			verb, st->dir, rc);
	return rc;
}

/* Fork `bash contrib/stack psql DIR ARGS...` in a process group of its own,
 * stdin from /dev/null, stdout to `out_fd` (or the script log when -1),
 * stderr to the script log.  Returns the pid, or -1. */
static pid_t spawn_psql(const struct stack *st, const char *const *args,
			int out_fd)
{
	char script[PATH_MAX], log[128];
	pid_t pid;

	if (!stack_script_path(script, sizeof(script)))
		return -1;
	script_log_path(st, log, sizeof(log));
	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nul = open("/dev/null", O_RDONLY);
		const char *argv[64];
		size_t n = 0;

		setpgid(0, 0);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		else if (fd >= 0)
			dup2(fd, 1);
		if (fd >= 0)
			dup2(fd, 2);
		if (nul >= 0)
			dup2(nul, 0);
		argv[n++] = "bash";
		argv[n++] = script;
		argv[n++] = "psql";
		argv[n++] = st->dir;
		while (*args != NULL && n < 63)
			argv[n++] = *args++;
		argv[n] = NULL;
		execv("/bin/bash", (char *const *)argv);
		_exit(127);
	}
}

int stack_child_wait(pid_t pid, double seconds)
{
	double deadline = now_seconds() + seconds;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_seconds() > deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		sleep_ms(10);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *stack_psql_output(const struct stack *st, const char *sql)
{
	const char *const args[] = { "-X", "-q", "-A", "-t", "-v",
		"ON_ERROR_STOP=1", "-d", "chatd", "-c", sql, NULL };
	double deadline = now_seconds() + SCRIPT_TIMEOUT_S;
	struct buf b = { NULL, 0, 0 };
	int fds[2], rc;
	pid_t pid;

	if (pipe(fds) != 0)
		return NULL;
	pid = spawn_psql(st, args, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		char chunk[65536];
		ssize_t got;

		if (now_seconds() > deadline)
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		got = read(fds[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		on_body(chunk, 1, (size_t)got, &b);
	}
	close(fds[0]);
	rc = stack_child_wait(pid, deadline - now_seconds() + 1);
	if (rc != 0) {
		fprintf(stderr, "harness: psql failed (exit %d): %s\n", rc, sql);
		free(b.data);
		return NULL;
	}
	return b.data != NULL ? b.data : strdup("");
}

pid_t stack_psql_spawn(const struct stack *st, const char *sql)
{
	const char *const args[] = { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
		"chatd", "-c", sql, NULL };

	return spawn_psql(st, args, -1);
}

long long proc_value(pid_t pid, const char *file, const char *name)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	long long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			v = strtoll(line + nl + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

bool proc_exited(pid_t pid)
{
	char st = proc_state(pid);

	return st == 0 || st == 'Z' || st == 'X';
}

bool pid_in(pid_t p, const pid_t *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (set[i] == p)
			return true;
	return false;
}

int procs_with_cmdline(const char *text, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], *s;
		size_t len, i;
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)atol(e->d_name);
		if (pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		s = slurp(path, &len);
		if (s == NULL)
			continue;
		for (i = 0; i + 1 < len; i++)	/* arguments joined by spaces */
			if (s[i] == '\0')
				s[i] = ' ';
		if (strstr(s, text) != NULL && !proc_exited(pid)) {
			if (count < max)
				out[count] = pid;
			count++;
		}
		free(s);
	}
	closedir(d);
	return count;
}

/* ---- raw HTTP over a socket (data-driven cases) -------------------------- */

#define RAW_TIMEOUT_S 30

/* The length of the head (status line and headers, with the empty line
 * that ends them) at the start of data, or 0 if it is not complete. */
static size_t raw_head_len(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

bool header_value(const char *headers, const char *name, char *dst,
		  size_t dstlen)
{
	size_t nl = strlen(name);
	const char *line = headers;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);

		if (len > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vlen = len - nl - 1;

			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen > 0 && (v[vlen - 1] == '\r' ||
					    v[vlen - 1] == ' ' ||
					    v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= dstlen)
				vlen = dstlen - 1;
			memcpy(dst, v, vlen);
			dst[vlen] = '\0';
			return true;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* Decode the chunked body in data[0..len) into out.  1 when the last
 * chunk and the trailer are complete, 0 when more bytes are needed, -1
 * when the encoding is malformed. */
static int raw_dechunk(const char *data, size_t len, struct buf *out)
{
	size_t pos = 0;

	out->len = 0;
	for (;;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		unsigned long long size;
		char *endp;

		if (nl == NULL)
			return 0;
		errno = 0;
		size = strtoull(data + pos, &endp, 16);
		if (endp == data + pos || errno != 0)
			return -1;
		pos = (size_t)(nl - data) + 1;
		if (size == 0) {
			/* Trailer fields, then an empty line. */
			for (;;) {
				nl = memchr(data + pos, '\n', len - pos);
				if (nl == NULL)
					return 0;
				if (nl == data + pos ||
				    (nl == data + pos + 1 && data[pos] == '\r'))
					return 1;
				pos = (size_t)(nl - data) + 1;
			}
		}
		if (size > len - pos)
			return 0;
		on_body((char *)data + pos, 1, (size_t)size, out);
		pos += (size_t)size;
		if (pos < len && data[pos] == '\r')
			pos++;
		if (pos >= len)
			return 0;
		if (data[pos] != '\n')
			return -1;
		pos++;
	}
}

/* State of one response being read. */
struct raw_read {
	struct buf in;		/* everything received */
	size_t start;		/* where the current response begins */
	size_t head;		/* its head's length once complete, else 0 */
	long status;
	bool no_body, chunked, has_length;
	unsigned long long length;
	struct buf body;	/* the decoded body */
};

/* 1 when the response in r->in is complete, 0 when more bytes are needed
 * (or the end of the connection ends it), -1 when it is malformed. */
static int raw_parse(struct raw_read *r, bool head_request)
{
	const char *data;
	size_t len;
	char v[64];
	int rc;

	for (;;) {
		data = r->in.data + r->start;
		len = r->in.len - r->start;
		if (r->head == 0) {
			char *hdrs;

			r->head = raw_head_len(data, len);
			if (r->head == 0)
				return 0;
			if (sscanf(data, "HTTP/%*d.%*d %ld", &r->status) != 1)
				return -1;
			if (r->status >= 100 && r->status < 200) {
				/* An interim response: the final one follows. */
				r->start += r->head;
				r->head = 0;
				continue;
			}
			hdrs = strndup(data, r->head);
			if (hdrs == NULL)
				abort();
			r->no_body = head_request || r->status == 204 ||
				     r->status == 304;
			r->chunked = header_value(hdrs, "Transfer-Encoding", v,
						  sizeof(v)) &&
				     strcasecmp(v, "chunked") == 0;
			r->has_length = header_value(hdrs, "Content-Length", v,
						     sizeof(v));
			if (r->has_length)
				r->length = strtoull(v, NULL, 10);
			free(hdrs);
		}
		break;
	}
	data += r->head;
	len -= r->head;
	if (r->no_body)
		return 1;
	if (r->chunked) {
		rc = raw_dechunk(data, len, &r->body);
		return rc;
	}
	if (r->has_length) {
		if (len < r->length)
			return 0;
		r->body.len = 0;
		on_body((char *)data, 1, (size_t)r->length, &r->body);
		return 1;
	}
	r->body.len = 0;
	on_body((char *)data, 1, len, &r->body);
	return 0; /* delimited by the end of the connection */
}

static int raw_connect(const struct stack *st)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)st->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

long http_raw(const struct stack *st, const char *req, size_t len,
	      bool head, struct http_reply *out, char **headers_out)
{
	struct raw_read r;
	double deadline = now_seconds() + RAW_TIMEOUT_S;
	size_t sent = 0;
	bool eof = false, sending = true;
	int fd, done = 0;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (headers_out != NULL)
		*headers_out = NULL;
	fd = raw_connect(st);
	if (fd < 0) {
		snprintf(out->error, sizeof(out->error), "connect to port %d: %s",
			 st->port, strerror(errno));
		return 0;
	}
	while (done == 0 && !eof) {
		struct pollfd p = { fd, POLLIN, 0 };
		double left = deadline - now_seconds();
		ssize_t n;

		if (left <= 0) {
			snprintf(out->error, sizeof(out->error),
				 "no complete response within %d s (%zu of %zu "
				 "request bytes sent)", RAW_TIMEOUT_S, sent, len);
			break;
		}
		if (sending && sent < len)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p.revents & POLLOUT) && sending) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				sending = false; /* the peer has stopped reading */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[65536];

			n = recv(fd, chunk, sizeof(chunk), 0);
			if (n > 0) {
				on_body(chunk, 1, (size_t)n, &r.in);
				done = raw_parse(&r, head);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				eof = true;
			}
		}
	}
	close(fd);
	if (done == 0 && eof && r.head != 0 && !r.chunked && !r.has_length)
		done = 1; /* a body that the end of the connection delimits */
	if (done == 1) {
		const char *h = r.in.data + r.start;
		const char *eol = memchr(h, '\n', r.head);
		size_t hl = eol != NULL ? (size_t)(eol - h) + 1 : 0;

		out->status = r.status;
		if (headers_out != NULL) {
			*headers_out = strndup(h + hl, r.head - hl);
			if (*headers_out == NULL)
				abort();
		}
		{
			char *hdrs = strndup(h + hl, r.head - hl);

			if (hdrs == NULL)
				abort();
			header_value(hdrs, "Content-Type", out->content_type,
				     sizeof(out->content_type));
			header_value(hdrs, "Allow", out->allow,
				     sizeof(out->allow));
			header_value(hdrs, "Retry-After", out->retry_after,
				     sizeof(out->retry_after));
			free(hdrs);
		}
	} else if (out->error[0] == '\0') {
		snprintf(out->error, sizeof(out->error), "%s after %zu bytes "
			 "of response", done < 0 ? "malformed response" :
			 "connection closed before a complete response",
			 r.in.len);
	}
	if (r.body.data == NULL) {
		r.body.data = calloc(1, 1);
		if (r.body.data == NULL)
			abort();
	}
	out->body = r.body.data;
	out->body_len = r.body.len;
	if (out->status != 0 && out->body_len > 0)
		out->json = json_loadb(out->body, out->body_len,
				       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				       NULL);
	free(r.in.data);
	return out->status;
}

long http_raw_abandon(const struct stack *st, const char *req, size_t len,
		      size_t keep, size_t *got, char *err, size_t errlen)
{
	double deadline = now_seconds() + RAW_TIMEOUT_S;
	char head[64] = "";
	size_t sent = 0, head_len = 0;
	long status = 0;
	int fd;

	*got = 0;
	err[0] = '\0';
	fd = raw_connect(st);
	if (fd < 0) {
		snprintf(err, errlen, "connect to port %d: %s", st->port,
			 strerror(errno));
		return 0;
	}
	while (*got < keep) {
		struct pollfd p = { fd, POLLIN, 0 };
		double left = deadline - now_seconds();
		char chunk[16384];
		ssize_t n;

		if (left <= 0) {
			snprintf(err, errlen, "only %zu of %zu response bytes "
				 "within %d s (%zu of %zu request bytes sent)",
				 *got, keep, RAW_TIMEOUT_S, sent, len);
			break;
		}
		if (sent < len)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			break;
		}
		if ((p.revents & POLLOUT) && sent < len) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/* Never more than `keep`: the rest stays unread. */
		n = recv(fd, chunk, keep - *got < sizeof(chunk) ?
			 keep - *got : sizeof(chunk), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "connection ended after %zu "
				 "response bytes", *got);
			break;
		}
		/* Keep the start of the status line. */
		if (head_len + 1 < sizeof(head)) {
			size_t c = (size_t)n < sizeof(head) - 1 - head_len ?
				   (size_t)n : sizeof(head) - 1 - head_len;

			memcpy(head + head_len, chunk, c);
			head_len += c;
			head[head_len] = '\0';
		}
		*got += (size_t)n;
	}
	close(fd);
	if (sscanf(head, "HTTP/%*d.%*d %ld", &status) != 1) {
		status = 0;
		if (err[0] == '\0')
			snprintf(err, errlen, "no status line in '%.40s'", head);
	}
	return status;
}

/* ---- a persistent psql session ------------------------------------------ */

/* What psql echoes after each statement, to find where its output ends. */
#define PSQL_MARK "@@chatd-psql-done@@"

int psql_open(const struct stack *st, struct psql_session *ps)
{
	char script[PATH_MAX];
	int in[2], out[2];
	pid_t pid;

	ps->pid = -1;
	ps->to_fd = ps->from_fd = -1;
	if (!stack_script_path(script, sizeof(script)))
		return -1;
	if (pipe(in) != 0)
		return -1;
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	/* psql must not hold our ends, or it would never see end of input. */
	fcntl(in[1], F_SETFD, FD_CLOEXEC);
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/bin/bash", "bash", script, "psql", st->dir, "-X", "-A",
		      "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", "chatd",
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	ps->pid = pid;
	ps->to_fd = in[1];
	ps->from_fd = out[0];
	return 0;
}

void psql_close(struct psql_session *ps)
{
	if (ps->to_fd >= 0)
		close(ps->to_fd);	/* end of input: psql exits */
	if (ps->from_fd >= 0)
		close(ps->from_fd);
	if (ps->pid > 0)
		while (waitpid(ps->pid, NULL, 0) < 0 && errno == EINTR)
			;
	ps->pid = -1;
	ps->to_fd = ps->from_fd = -1;
}

int psql_query(struct psql_session *ps, const char *sql, char *out,
	       size_t outsz)
{
	static const char mark[] = PSQL_MARK "\n";
	const size_t ml = sizeof(mark) - 1;
	double deadline = now_seconds() + SCRIPT_TIMEOUT_S;
	struct buf b = { NULL, 0, 0 };
	size_t len = strlen(sql), off = 0;
	char *cmd, *end = NULL;
	int rc = -1;

	if (ps->to_fd < 0)
		return -1;
	/* The statement, then \echo of the mark on a line of its own. */
	cmd = malloc(len + sizeof(PSQL_MARK) + 16);
	if (cmd == NULL)
		abort();
	len = (size_t)sprintf(cmd, "%s;\n\\echo %s\n", sql, PSQL_MARK);
	while (off < len) {
		ssize_t n = write(ps->to_fd, cmd + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(cmd);
	while (off == len && now_seconds() < deadline) {
		struct pollfd p = { ps->from_fd, POLLIN, 0 };
		char chunk[4096];
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(ps->from_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* psql exited: the statement failed */
		on_body(chunk, 1, (size_t)n, &b);
		/* Done when the output ends with the mark on a line of its own
		 * (every row before it ends with a newline). */
		if (b.len >= ml && strcmp(b.data + b.len - ml, mark) == 0 &&
		    (b.len == ml || b.data[b.len - ml - 1] == '\n')) {
			end = b.data + b.len - ml;
			break;
		}
	}
	if (end != NULL) {
		if (end > b.data)
			end--;	/* the newline that ends the last row */
		if ((size_t)(end - b.data) < outsz) {
			memcpy(out, b.data, (size_t)(end - b.data));
			out[end - b.data] = '\0';
			rc = 0;
		}
	} else {
		psql_close(ps);
	}
	free(b.data);
	return rc;
}

/* ---- a counting relay in front of PostgreSQL ----------------------------- */

#define TAP_CONNS 64
#define TAP_PIDS 64
#define TAP_BUF 65536

/* Bytes read from one side, not yet written to the other. */
struct tap_flow {
	char buf[TAP_BUF];
	size_t len, off;
	bool eof;		/* the reading side has ended */
};

struct tap_conn {
	bool used;
	int client, server;
	pid_t pid;
	struct tap_flow up;	/* client -> server */
	struct tap_flow down;	/* server -> client (counted) */
};

struct pg_tap {
	char path[PATH_MAX];	/* where PostgreSQL's socket was: ours now */
	char real[PATH_MAX];	/* where it is while the relay runs */
	int listen_fd;		/* -1 once restored */
	bool moved;		/* PostgreSQL's socket is at real */
	int wake[2];
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool restore_asked, restored, stop;
	int restore_rc;
	struct { pid_t pid; long long bytes; } totals[TAP_PIDS];
	int ntotals;
	struct tap_conn conns[TAP_CONNS];
};

static void tap_count(struct pg_tap *t, pid_t pid, long long n)
{
	int i;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->ntotals; i++)
		if (t->totals[i].pid == pid)
			break;
	if (i == t->ntotals && t->ntotals < TAP_PIDS) {
		t->totals[i].pid = pid;
		t->totals[i].bytes = 0;
		t->ntotals++;
	}
	if (i < t->ntotals)
		t->totals[i].bytes += n;
	pthread_mutex_unlock(&t->mu);
}

long long pg_tap_bytes_to(struct pg_tap *t, pid_t pid)
{
	long long n = -1;
	int i;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->ntotals; i++)
		if (t->totals[i].pid == pid)
			n = t->totals[i].bytes;
	pthread_mutex_unlock(&t->mu);
	return n;
}

static void tap_close(struct tap_conn *c)
{
	close(c->client);
	close(c->server);
	c->used = false;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa;
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void tap_accept(struct pg_tap *t)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC), server, i;

	if (fd < 0)
		return;
	server = unix_connect(t->real);
	for (i = 0; i < TAP_CONNS && t->conns[i].used; i++)
		;
	if (server < 0 || i == TAP_CONNS) {
		fprintf(stderr, "harness: relay: %s\n", server < 0 ?
			"cannot reach PostgreSQL" : "too many connections");
		if (server >= 0)
			close(server);
		close(fd);
		return;
	}
	memset(&cred, 0, sizeof(cred));
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(server, F_SETFL, fcntl(server, F_GETFL) | O_NONBLOCK);
	t->conns[i].used = true;
	t->conns[i].client = fd;
	t->conns[i].server = server;
	t->conns[i].pid = cred.pid;
	t->conns[i].up.len = t->conns[i].up.off = 0;
	t->conns[i].down.len = t->conns[i].down.off = 0;
	t->conns[i].up.eof = t->conns[i].down.eof = false;
	tap_count(t, cred.pid, 0);
}

/* Moves what it can of one flow; false when the connection is broken. */
static bool tap_pump(struct tap_flow *f, int from, int to, bool can_read,
		     bool can_write, long long *moved)
{
	ssize_t n;

	*moved = 0;
	if (can_read && f->len == 0 && !f->eof) {
		n = read(from, f->buf, sizeof(f->buf));
		if (n > 0) {
			f->len = (size_t)n;
			f->off = 0;
		} else if (n == 0) {
			f->eof = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			return false;
		}
	}
	if ((can_write || f->len > 0) && f->len > f->off) {
		n = send(to, f->buf + f->off, f->len - f->off, MSG_NOSIGNAL);
		if (n > 0) {
			f->off += (size_t)n;
			*moved = n;
			if (f->off == f->len)
				f->len = f->off = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		}
	}
	return true;
}

static void tap_do_restore(struct pg_tap *t)
{
	int rc = 0;

	if (t->listen_fd >= 0) {
		close(t->listen_fd);
		t->listen_fd = -1;
	}
	if (t->moved) {
		if ((unlink(t->path) != 0 && errno != ENOENT) ||
		    rename(t->real, t->path) != 0) {
			fprintf(stderr, "harness: relay: cannot put %s back at "
				"%s: %s\n", t->real, t->path, strerror(errno));
			rc = -1;
		}
		t->moved = false;
	}
	pthread_mutex_lock(&t->mu);
	t->restored = true;
	t->restore_rc = rc;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static void *tap_thread(void *arg)
{
	struct pg_tap *t = arg;
	struct pollfd p[2 + 2 * TAP_CONNS];
	int map[2 + 2 * TAP_CONNS];

	for (;;) {
		bool stop, restore;
		int n = 0, i, k;

		pthread_mutex_lock(&t->mu);
		stop = t->stop;
		restore = t->restore_asked && !t->restored;
		pthread_mutex_unlock(&t->mu);
		if (restore || stop)
			tap_do_restore(t);
		if (stop)
			break;
		p[n].fd = t->wake[0];
		p[n].events = POLLIN;
		map[n++] = -1;
		if (t->listen_fd >= 0) {
			p[n].fd = t->listen_fd;
			p[n].events = POLLIN;
			map[n++] = -2;
		}
		for (i = 0; i < TAP_CONNS; i++) {
			struct tap_conn *c = &t->conns[i];

			if (!c->used)
				continue;
			p[n].fd = c->client;
			p[n].events = (c->up.len == 0 && !c->up.eof ? POLLIN : 0) |
				      (c->down.len > 0 ? POLLOUT : 0);
			map[n++] = i;
			p[n].fd = c->server;
			p[n].events = (c->down.len == 0 && !c->down.eof ?
				       POLLIN : 0) |
				      (c->up.len > 0 ? POLLOUT : 0);
			map[n++] = i;
		}
		if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		for (k = 0; k < n; k++) {
			struct tap_conn *c;
			bool ready, ok;
			long long moved;

			if (p[k].revents == 0)
				continue;
			if (map[k] == -1) {
				char junk[64];

				while (read(t->wake[0], junk, sizeof(junk)) > 0)
					;
				continue;
			}
			if (map[k] == -2) {
				tap_accept(t);
				continue;
			}
			c = &t->conns[map[k]];
			if (!c->used)
				continue;
			ready = (p[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
			if (p[k].fd == c->client) {
				ok = tap_pump(&c->up, c->client, c->server, ready,
					      false, &moved) &&
				     tap_pump(&c->down, c->server, c->client,
					      false, true, &moved);
				if (moved > 0)
					tap_count(t, c->pid, moved);
			} else {
				ok = tap_pump(&c->down, c->server, c->client,
					      ready, false, &moved);
				if (moved > 0)
					tap_count(t, c->pid, moved);
				ok = ok && tap_pump(&c->up, c->client, c->server,
						    false, true, &moved);
			}
			/* One side ended and all it sent is through: done
			 * (a cancel request ends with the server's close). */
			if (!ok || (c->up.eof && c->up.len == 0) ||
			    (c->down.eof && c->down.len == 0))
				tap_close(c);
		}
	}
	for (int i = 0; i < TAP_CONNS; i++)
		if (t->conns[i].used)
			tap_close(&t->conns[i]);
	return NULL;
}

struct pg_tap *pg_tap_start(const struct stack *st)
{
	struct sockaddr_un sa;
	struct pg_tap *t;
	struct dirent *e;
	struct stat dst;
	char dir[128];
	DIR *d;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	t->listen_fd = t->wake[0] = t->wake[1] = -1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	snprintf(dir, sizeof(dir), "%s/pg", st->dir);
	d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".s.PGSQL.", 9) == 0 &&
		    strchr(e->d_name + 9, '.') == NULL)
			snprintf(t->path, sizeof(t->path), "%s/%s", dir,
				 e->d_name);
	if (d != NULL)
		closedir(d);
	if (t->path[0] == '\0' || strlen(t->path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "harness: relay: no usable PostgreSQL socket "
			"in %s\n", dir);
		free(t);
		return NULL;
	}
	snprintf(t->real, sizeof(t->real), "%s.relayed", t->path);
	if (pipe(t->wake) != 0 || rename(t->path, t->real) != 0) {
		fprintf(stderr, "harness: relay: %s: %s\n", t->path,
			strerror(errno));
		pg_tap_stop(t);
		return NULL;
	}
	t->moved = true;
	t->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, t->path, strlen(t->path));
	if (t->listen_fd < 0 ||
	    bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(t->listen_fd, 64) != 0) {
		fprintf(stderr, "harness: relay: listen on %s: %s\n", t->path,
			strerror(errno));
		pg_tap_stop(t);
		return NULL;
	}
	/* The servers' user must be able to connect, as to the real one. */
	chmod(t->path, 0777);
	if (stat(dir, &dst) == 0 && geteuid() == 0 &&
	    chown(t->path, dst.st_uid, dst.st_gid) != 0)
		fprintf(stderr, "harness: relay: chown %s: %s\n", t->path,
			strerror(errno));
	fcntl(t->wake[0], F_SETFL, O_NONBLOCK);
	fcntl(t->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(t->wake[1], F_SETFD, FD_CLOEXEC);
	if (pthread_create(&t->thread, NULL, tap_thread, t) != 0) {
		pg_tap_stop(t);
		return NULL;
	}
	t->running = true;
	return t;
}

/* Wakes the relay thread and waits until it has restored the socket. */
static int tap_ask_restore(struct pg_tap *t, bool stop)
{
	int rc;

	pthread_mutex_lock(&t->mu);
	t->restore_asked = true;
	t->stop = t->stop || stop;
	pthread_mutex_unlock(&t->mu);
	/* If this write fails the thread still wakes within a second. */
	(void)!write(t->wake[1], "x", 1);
	pthread_mutex_lock(&t->mu);
	while (!t->restored)
		pthread_cond_wait(&t->cv, &t->mu);
	rc = t->restore_rc;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int pg_tap_restore(struct pg_tap *t)
{
	if (!t->running) {
		tap_do_restore(t);
		return t->restore_rc;
	}
	return tap_ask_restore(t, false);
}

void pg_tap_stop(struct pg_tap *t)
{
	if (t == NULL)
		return;
	if (t->running) {
		tap_ask_restore(t, true);
		pthread_join(t->thread, NULL);
	} else {
		tap_do_restore(t);
	}
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

/* ---- the file store ------------------------------------------------------ */

int dir_entries(const char *path, const char *skip)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 &&
		     strcmp(e->d_name, "..") != 0 &&
		     (skip == NULL || strcmp(e->d_name, skip) != 0);
	closedir(d);
	return n;
}

void store_census(const struct stack *st, long wait_ms, int *stored,
		  int *incoming)
{
	char store[128], in[160];
	double until = now_seconds() + (double)wait_ms / 1000.0;

	snprintf(store, sizeof(store), "%s/files", st->dir);
	snprintf(in, sizeof(in), "%s/incoming", store);
	while ((*incoming = dir_entries(in, NULL)) > 0 &&
	       now_seconds() < until)
		sleep_ms(20);
	*stored = dir_entries(store, "incoming");
}
