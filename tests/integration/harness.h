/*
 * harness.h - fixture and HTTP client shared by the integration tests.
 *
 * A test binary starts one private stack (PostgreSQL, `chatd serve`, nginx)
 * through contrib/stack in a fresh directory under /tmp, talks to it over
 * HTTP with libcurl, and destroys it at the end.  Nothing is mocked.
 *
 * Environment read here:
 *   CHATD_BIN       the chatd binary (required)
 *   CHATD_SRCDIR    absolute top source directory (required; the script is
 *                   $CHATD_SRCDIR/contrib/stack)
 *   CHATD_WORKERS   worker count passed to the stack (default 4)
 *   CHATD_TEST_KEEP if set and not "0", stack_destroy() keeps the directory
 *
 * By hand, from the top of the tree after a build:
 *   CHATD_BIN=$PWD/build/src/chatd CHATD_SRCDIR=$PWD \
 *       build/tests/integration/test_api
 *
 * Thread rules: the http_* and api_* functions may be called from any
 * thread (each thread gets its own CURL handle).  The stack_* functions and
 * everything that asserts (the check_* helpers) belong to the main thread,
 * because cmocka's assertions are not thread-safe.
 */
#ifndef CHATD_TEST_HARNESS_H
#define CHATD_TEST_HARNESS_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>

#include <jansson.h>

/* Longest id text: 19 digits of INT64_MAX plus the terminator. */
#define ID_LEN 32

struct stack {
	char dir[64];      /* the private directory, "" when none */
	char url[128];     /* base URL without a trailing slash */
	int port;
	int workers;       /* CHATD_WORKERS passed to the stack */
	bool running;
};

struct http_reply {
	long status;          /* HTTP status, 0 when the transfer failed */
	char *body;           /* NUL-terminated copy of the body (owned) */
	size_t body_len;
	json_t *json;         /* parsed body (owned), NULL if not JSON */
	char content_type[128];
	char allow[128];
	char retry_after[64];
	char error[256];      /* curl's error text when status is 0 */
};

/* ---- stack control (main thread only) ---------------------------------- */

/* The stack of a test binary: cmocka group fixtures that start it in a new
 * directory and destroy it. */
extern struct stack the_stack;
int stack_group_setup(void **state);
int stack_group_teardown(void **state);

/* Create a fresh directory and start a stack in it.  0 on success; on
 * failure the stack's logs are printed to stderr and -1 is returned. */
int stack_start(struct stack *st);
/* The same with a given worker count instead of CHATD_WORKERS. */
int stack_start_workers(struct stack *st, int workers);
/* Stop every server of the stack; the directory stays.  0 on success. */
int stack_stop(struct stack *st);
/* Stop, then start again on the same directory (data must survive). */
int stack_restart(struct stack *st);
/* Stop and remove the directory (kept if CHATD_TEST_KEEP is set). */
void stack_destroy(struct stack *st);
/* The master's pid as written in DIR/chatd.pid, or -1. */
pid_t stack_master_pid(const struct stack *st);
/* Fill `out` with up to `max` live (non-zombie) children of `parent`,
 * chatd's relay (a child of the master named chatd-relay) excepted: a
 * master's workers; returns how many there are in total. */
int proc_children(pid_t parent, pid_t *out, int max);
/* Fill `out` (room for `max`) with the live children of the stack's
 * master, waiting up to `wait_s` seconds for there to be exactly
 * st->workers of them (a replacement may be under way); fails the
 * current test, after printing the stack's logs, if there are not.
 * Returns their count. */
int stack_wait_workers(const struct stack *st, pid_t master, pid_t *out,
		       int max, double wait_s);
/* Run one SQL command with psql (through `contrib/stack psql`) on database
 * `dbname` of the stack's cluster, as its superuser.  0 on success. */
int stack_psql(const struct stack *st, const char *dbname, const char *sql);
/* Print the stack's log files to stderr (for a failing test). */
void stack_dump_logs(const struct stack *st);

/* ---- HTTP client (any thread) ------------------------------------------ */

/*
 * Send one request to the current stack and fill `out` (which the caller
 * frees with http_reply_free).  `method` is "POST", "GET", "PUT", ...;
 * `body` may be NULL.  Unless `extra_header` sets Content-Type itself,
 * "Content-Type: application/json" is sent.  `extra_header` is one raw
 * header line such as "Idempotency-Key: k1"; curl's conventions apply
 * ("Name:" removes a header, "Name;" sends it with an empty value).
 * Returns out->status.
 */
long http_request(const char *method, const char *path, const char *body,
		  size_t len, const char *extra_header, struct http_reply *out);
long http_post(const char *path, const char *body, size_t len,
	       const char *extra_header, struct http_reply *out);
/* cmocka's print_error of s one line at a time (it cuts a message at
 * 1 KiB), lines longer than 900 bytes split. */
void print_error_lines(const char *s);

/* POST body to path with "Authorization: Bearer <token>" (token NULL:
 * none); out is the caller's to free. Returns out->status. Any thread. */
long http_post_as(const char *token, const char *path, const char *body,
		  struct http_reply *out);
/* POST json_dumps(req); steals the reference to `req`. */
long http_post_json(const char *path, json_t *req, const char *extra_header,
		    struct http_reply *out);
void http_reply_free(struct http_reply *r);
/* Release the calling thread's CURL handle (optional; threads that end
 * release theirs automatically). */
void http_thread_done(void);

/* ---- API shortcuts (any thread; no assertions) ------------------------- */

/* Each returns the HTTP status and, on 201, copies the new id into
 * id_out (ID_LEN bytes) when id_out is not NULL. */
long api_user_add(const char *username, char *id_out);
long api_chat_add(const char *name, const char *const *user_ids, size_t n,
		  char *id_out);
long api_message_add(const char *chat, const char *author, const char *text,
		     const char *idempotency_key, char *id_out);
/* messages/get of a whole chat: returns the status; on 200 *out is a new
 * reference to the array. */
long api_messages_get(const char *chat, json_t **out);

/* ---- small utilities ---------------------------------------------------- */

/* "prefix_<pid>_<counter>" into buf; thread-safe. */
void uniq_name(char *buf, size_t n, const char *prefix);
/* `s` repeated `count` times; caller frees. */
char *str_repeat(const char *s, size_t count);
/* Canonical decimal id: digits, no sign, no leading zero, <= INT64_MAX. */
bool is_canonical_id(const char *s);
/* Exactly YYYY-MM-DDTHH:MM:SS.ffffffZ. */
bool is_rfc3339_micro(const char *s);
/* Seconds between the given timestamp and now (absolute), or -1. */
double ts_age_seconds(const char *s);
/* Content-Type is application/json (parameters such as charset allowed). */
bool is_json_content_type(const char *ct);
/* Numeric comparison of two canonical id strings (<0, 0, >0). */
int id_cmp(const char *a, const char *b);
/* Size of the file at path (0 if absent). */
long file_size(const char *path);
/* What was appended to path after byte `from` (all of it if it shrank);
 * caller frees. */
char *file_since(const char *path, long from);
/* Monotonic clock in seconds. */
double now_seconds(void);
void sleep_ms(long ms);

/* ---- assertions (main thread; need cmocka) ------------------------------ */

/*
 * check_status: the reply has the expected status.  On mismatch the
 * request's description and the reply body are printed before failing.
 * check_error: status plus a JSON error body {"error": code, "message":
 * non-empty string} with a JSON Content-Type.
 * check_created: 201 {"id": canonical id} with a JSON Content-Type; copies
 * the id out when id_out is not NULL.
 */
#define check_status(r, st, what) \
	check_status_at((r), (st), (what), __FILE__, __LINE__)
#define check_error(r, st, code, what) \
	check_error_at((r), (st), (code), (what), __FILE__, __LINE__)
#define check_created(r, id_out, what) \
	check_created_at((r), (id_out), (what), __FILE__, __LINE__)

void check_status_at(const struct http_reply *r, long status, const char *what,
		     const char *file, int line);
void check_error_at(const struct http_reply *r, long status, const char *code,
		    const char *what, const char *file, int line);
void check_created_at(const struct http_reply *r, char *id_out,
		      const char *what, const char *file, int line);

/* Fail the current test with a formatted message (main thread). */
void fail_msgf(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define fail_msg_at(...) fail_msgf(__FILE__, __LINE__, __VA_ARGS__)

/* Shortcuts that must succeed (assert): create a user or chat with a
 * unique name made from `prefix`; post a message. */
void must_user(const char *prefix, char *id_out);
void must_chat(const char *prefix, const char *const *user_ids, size_t n,
	       char *id_out);
void must_message(const char *chat, const char *author, const char *text,
		  char *id_out);
/* messages/get of a whole chat, must answer 200 with an array (new ref). */
json_t *must_messages(const char *chat);
/* chats/get of a user, must answer 200 with an array (new ref). */
json_t *must_chats(const char *user);

/* ---- raw HTTP and a persistent psql (main thread) ----------------------- */

/*
 * Send `len` bytes of `req` as they are over a new TCP connection to the
 * stack's nginx and read one response (1xx interim responses are skipped;
 * the body is delimited by Content-Length, chunked encoding or the end of
 * the connection; a response to HEAD, a 204 and a 304 have none).  Fills
 * `out` like http_request (body de-chunked, json parsed when it is JSON);
 * when headers_out is not NULL it receives a new string with the
 * response's header lines, status line excluded (caller frees).  A peer
 * that stops reading early (nginx answering 413) is not an error: sending
 * stops and the response is read.  Returns out->status, 0 on failure with
 * the reason in out->error.
 */
long http_raw(const struct stack *st, const char *req, size_t len,
	      bool head, struct http_reply *out, char **headers_out);
/*
 * A client that goes away in the middle of an answer: send `len` bytes of
 * `req` over a new TCP connection to the stack's nginx, read until at least
 * `keep` bytes of the response (status line and headers included) have
 * arrived, the connection ends or 30 s pass, then close the socket with the
 * rest unread (the kernel answers what still arrives with a reset).  *got
 * receives the number of bytes read.  Returns the status of the response's
 * status line, or 0 with the reason in err (errlen bytes).
 */
long http_raw_abandon(const struct stack *st, const char *req, size_t len,
		      size_t keep, size_t *got, char *err, size_t errlen);
/* Copy the value of header `name` (case-insensitive; the first of several)
 * from a header block of http_raw into dst, trimmed.  False if absent. */
bool header_value(const char *headers, const char *name, char *dst,
		  size_t dstlen);

/* One psql process on the stack's database, kept open so that many small
 * queries cost no process start each (`contrib/stack psql DIR -XAtq`). */
struct psql_session {
	pid_t pid;
	int to_fd;	/* psql's stdin */
	int from_fd;	/* psql's stdout */
};
/* 0 on success, -1 if psql could not be started. */
int psql_open(const struct stack *st, struct psql_session *ps);
/* Run one SQL statement and copy its unaligned, tuples-only output (rows
 * separated by '\n', no trailing newline) into out.  0 on success; -1 when
 * the statement failed (psql's message went to stderr; the session is
 * closed) or the output did not fit. */
int psql_query(struct psql_session *ps, const char *sql, char *out,
	       size_t outsz);
void psql_close(struct psql_session *ps);

/* ---- more stack control and /proc (main thread) ----------------------- */

/* Run `contrib/stack VERB DIR` (pg-stop, pg-kill, pg-start, ...) and return
 * its exit status, or -1; a failure is reported on stderr. */
int stack_script(const struct stack *st, const char *verb);
/* Run one SQL command with psql on the chatd database; returns what it
 * printed, unaligned and without headers (-A -t: one line per row, fields
 * separated by '|'), as a new string, or NULL when psql failed. */
char *stack_psql_output(const struct stack *st, const char *sql);
/* Start psql with one SQL command on the chatd database in the background,
 * in a process group of its own, output to the script log.  Returns its pid
 * (reap it with stack_child_wait), or -1. */
pid_t stack_psql_spawn(const struct stack *st, const char *sql);
/* Wait up to `seconds` for a child started by stack_psql_spawn, then kill
 * its process group.  Its exit status, or -1 if it was killed or failed. */
int stack_child_wait(pid_t pid, double seconds);
/* Live (non-zombie) processes whose command line, arguments joined by
 * spaces, contains `text` (the caller excepted): up to `max` into `out`;
 * returns how many there are in total. */
int procs_with_cmdline(const char *text, pid_t *out, int max);
/* The process state letter of /proc/PID/stat ('R', 'S', 'T', 'Z', ...),
 * or 0 when it is gone. */
char proc_state(pid_t pid);
/* True once `pid` has exited (gone, or a zombie: orphans are not always
 * reaped promptly). */
bool proc_exited(pid_t pid);
/* The number of a "Name:  value" line of /proc/PID/FILE ("status": VmRSS
 * and the like, in kB; "io": wchar ...), or -1. */
long long proc_value(pid_t pid, const char *file, const char *name);
/* True when p is one of set[0..n). */
bool pid_in(pid_t p, const pid_t *set, int n);

/* ---- the file store (main thread) -------------------------------------- */

/* The number of entries of directory path, "." and ".." and skip (NULL:
 * none) excepted, or -1 when it cannot be read. */
int dir_entries(const char *path, const char *skip);
/* The files of the stack's store: *stored those in DIR/files (its
 * incoming directory not counted), *incoming those in DIR/files/incoming,
 * where nginx writes upload bodies. nginx removes a body once it has
 * answered (or noticed the client gone), not before: while incoming is
 * not empty this waits, up to wait_ms, for it to be. -1 for a directory
 * that cannot be read. */
void store_census(const struct stack *st, long wait_ms, int *stored,
		  int *incoming);


/* ---- a counting relay in front of PostgreSQL (main thread) -------------- */

/*
 * What a process read from PostgreSQL, which /proc/PID/io cannot tell
 * (libpq reads its socket with recv(2), which rchar does not count): the
 * stack's PostgreSQL socket file ($DIR/pg/.s.PGSQL.PORT) is renamed and a
 * relay, a thread of the test, listens at its path and passes every
 * connection made from then on through to it, counting the bytes it
 * delivers from the server to each connecting process (SO_PEERCRED).
 * Connections made before stay direct: replace the workers (SIGHUP to the
 * master) to have theirs relayed.  The relay adds its own buffer of 64 KiB
 * each way to what the kernel buffers.
 */
struct pg_tap;
/* Starts the relay; NULL (with the reason on stderr) on failure. */
struct pg_tap *pg_tap_start(const struct stack *st);
/* Bytes delivered from the server to the connections of `pid` so far, or
 * -1 when `pid` has made none. */
long long pg_tap_bytes_to(struct pg_tap *t, pid_t pid);
/* Puts PostgreSQL's own socket back at its path (new connections go
 * straight to it again); relayed connections carry on.  0 on success. */
int pg_tap_restore(struct pg_tap *t);
/* Restores if need be, closes every relayed connection, ends the thread
 * and frees t (NULL is fine). */
void pg_tap_stop(struct pg_tap *t);

#endif
