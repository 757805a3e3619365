#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "decode.h"
#include "events_notify.h"
#include "log.h"
#include "password.h"
#include "reply.h"
#include "route.h"
#include "stop_signal.h"
#include "worker.h"

struct worker {
	const struct worker_config *cfg;
	struct db *db;
	struct buf body;	/* the request body; reused */
	struct buf scratch;	/* the decoders' (decode_ctx); reused */
	struct reply reply;
	/* the decoded request of the route in hand */
	alignas(max_align_t) unsigned char req[ROUTE_REQ_MAX];
};

/* Reads the whole body into w->body, refusing more than max_body bytes
 * whatever CONTENT_LENGTH says (a chunked body may come without it). */
static enum api_error read_body(struct worker *w, FCGX_Request *fr)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	size_t max = w->cfg->max_body;
	int n;

	buf_reset(&w->body);
	if (cl && *cl && strtoull(cl, NULL, 10) > max)
		return reply_fail(&w->reply, API_PAYLOAD_TOO_LARGE,
		    "request body is larger than %zu bytes", max);
	for (;;) {
		char *dst = buf_reserve(&w->body, 16384);

		n = FCGX_GetStr(dst, 16384, fr->in);
		if (n <= 0)
			break;
		w->body.len += (size_t)n;
		if (w->body.len > max)
			return reply_fail(&w->reply, API_PAYLOAD_TOO_LARGE,
			    "request body is larger than %zu bytes", max);
	}
	if (FCGX_GetError(fr->in) != 0)
		return reply_fail(&w->reply, API_BAD_REQUEST,
		    "request body could not be read");
	return API_OK;
}

/* Everything between accepting a request and sending its reply: the
 * route (404), its method (405), the session its token names (401, 403;
 * auth.h; not for a route that never takes one, and looked up by the
 * handler's own statement for an inline_session route) and whether the
 * route needs one (401), its body and decoder (413, 400), then its
 * handler.
 * *route is the route found, or NULL. */
static enum api_error serve(struct worker *w, FCGX_Request *fr,
    const struct route **route)
{
	struct reply *r = &w->reply;
	struct caller caller;
	struct decode_ctx d = {.envp = fr->envp, .scratch = &w->scratch,
	    .msg = r->message, .msgsz = sizeof r->message, .caller = &caller};
	const char *method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	const struct route *rt;
	enum api_error e;
	json_t *root = NULL;
	const char *path;
	size_t len;

	path = route_path(FCGX_GetParam("DOCUMENT_URI", fr->envp),
	    FCGX_GetParam("REQUEST_URI", fr->envp), &len);
	*route = rt = route_find(path, len);
	if (rt != NULL && rt->internal &&
	    FCGX_GetParam("CHATD_INTERNAL", fr->envp) == NULL)
		*route = rt = NULL;
	if (rt == NULL)
		return reply_fail(r, API_NOT_FOUND, "unknown path");
	e = route_admit_method(rt, method, r);
	/* Signup, login and health ignore any token: a browser whose
	 * session ended elsewhere still sends its cookie, and must be able
	 * to log in again. */
	memset(&caller, 0, sizeof caller);
	if (e == API_OK && rt->session != SESSION_NEVER)
		e = auth_parse(fr->envp, method, &caller, r);
	if (e == API_OK && !rt->inline_session)
		e = auth_lookup(w->db, &caller, r);
	if (e == API_OK)
		e = route_admit_session(rt, caller.user != 0 || caller.pending,
		    r);
	if (e != API_OK)
		return e;
	if (rt->body == BODY_RAW) {
		e = read_body(w, fr);
		if (e != API_OK)
			return e;
		d.body = w->body.data ? w->body.data : "";
		d.body_len = w->body.len;
	} else if (rt->body == BODY_JSON) {
		e = read_body(w, fr);
		if (e != API_OK)
			return e;
		root = decode_body(w->body.data, w->body.len, r->message,
		    sizeof r->message);
		if (root == NULL)
			return API_BAD_REQUEST;
	}
	buf_reset(&w->scratch);
	if (rt->decode && !rt->decode(root, w->req, &d))
		e = API_BAD_REQUEST;
	else
		e = rt->handle(w->db, w->req, r);
	json_decref(root);
	return e;
}

/* With --verbose, one line per request: method, path, status, time. A
 * path that is no route's is the client's: at most 200 bytes of it, every
 * byte that is not printable ASCII shown as '?', so no line can be forged
 * or garbled (nginx has decoded %0A into a newline by now). */
static void log_request(const struct route *rt, FCGX_Request *fr,
    int status, long long start_us)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	char shown[201];
	const char *path;
	size_t len, i;

	if (rt) {
		path = rt->path;
	} else {
		path = route_path(FCGX_GetParam("DOCUMENT_URI", fr->envp),
		    FCGX_GetParam("REQUEST_URI", fr->envp), &len);
		for (i = 0; i < len && i < sizeof shown - 1; i++)
			shown[i] = path[i] >= 0x20 && path[i] < 0x7F ?
			    path[i] : '?';
		shown[i] = '\0';
		path = shown;
	}
	if (method == NULL || strlen(method) > 16)
		method = "-";
	log_debug("request %s %s %d %.2f ms", method, path, status,
	    (double)(clock_us() - start_us) / 1000.0);
}

/* Serves one request and sends its reply; true when it was answered 2xx
 * by a route that may have written events (the relay is to be woken). */
static bool handle(struct worker *w, FCGX_Request *fr)
{
	bool verbose = log_enabled(LOG_DEBUG);
	long long start_us = verbose ? clock_us() : 0;
	const struct route *rt;
	enum api_error e;
	int status;

	reply_reset(&w->reply, fr->out);
	e = serve(w, fr, &rt);
	if (e == API_INTERNAL)
		log_error("request failed: %s", w->reply.message);
	reply_finish(&w->reply, e);
	status = reply_status(&w->reply, e);
	if (verbose)
		log_request(rt, fr, status, start_us);
	return rt != NULL && rt->events && status >= 200 && status < 300;
}

/* Sends the rest of the reply and closes the connection. libfcgi's own
 * close shuts down the sending side and then waits, up to 2 s, for the
 * web server to close its end: a lingering close, so that input we never
 * read cannot make the kernel reset the connection and destroy the reply
 * in flight. When the whole request has been read there is no such input,
 * and a plain close() saves the wait and three system calls; a detached
 * request is closed that way. */
static void finish(FCGX_Request *fr)
{
	if (FCGX_HasSeenEOF(fr->in) == EOF)
		FCGX_Detach(fr);
	FCGX_Finish_r(fr);
}

/* Stop signals are blocked while a request is handled, so no system call
 * of a request is interrupted; they are let in only around accept. A stop
 * that lands between the check of `stop` and accept() itself is caught by
 * the master, which repeats SIGTERM until the worker is gone. Forked by the
 * master, the worker starts with every signal the master handles blocked
 * (master.c, spawn) and lets them in only here, once its own handlers are
 * in place: a signal that comes earlier waits for them. */
int worker_run(const struct worker_config *cfg)
{
	struct worker *w = xmalloc(sizeof *w);
	FCGX_Request fr;
	sigset_t stops;
	int rc, status = EXIT_SUCCESS;
	bool woke;
	char why[256];

	stop_signal_install(&stops);	/* accept() must fail on a stop */
	sigprocmask(SIG_SETMASK, &stops, NULL);
	if (!route_table_check(why, sizeof why)) {
		log_error("worker: bad route table: %s", why);
		free(w);
		return EXIT_FAILURE;
	}
	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	auth_config_done();
	if (!password_init()) {
		log_error("worker: libsodium could not be initialised");
		free(w);
		return EXIT_FAILURE;
	}
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, cfg->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)) {
		log_error("worker: FastCGI initialisation failed");
		free(w);
		return EXIT_FAILURE;
	}
	w->db = db_new(cfg->conninfo, cfg->statement_timeout_ms);
	buf_init(&w->body);
	buf_init(&w->scratch);
	reply_init(&w->reply, NULL);
	db_ready(w->db);	/* connect early; failure is retried later */
	while (!stop_requested) {
		sigprocmask(SIG_UNBLOCK, &stops, NULL);
		rc = stop_requested ? -1 : FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &stops, NULL);
		if (rc < 0) {
			if (stop_requested || errno == EINTR)
				continue;
			log_error("worker: accept failed: %s", strerror(errno));
			status = EXIT_FAILURE;
			break;
		}
		woke = handle(w, &fr);
		finish(&fr);
		/* After the reply has gone: the client does not wait for it. */
		if (woke)
			events_notify(w->db);
	}
	reply_free(&w->reply);
	buf_free(&w->scratch);
	buf_free(&w->body);
	db_free(w->db);
	free(w);
	return status;
}
