#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "buf.h"
#include "db.h"
#include "decode.h"
#include "log.h"
#include "reply.h"
#include "router.h"
#include "worker.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct worker {
	const struct worker_config *cfg;
	struct db *db;
	struct buf body;	/* the request body; reused */
	struct reply reply;
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

/* Everything between accepting a request and sending its reply. */
static enum api_error serve(struct worker *w, FCGX_Request *fr)
{
	struct reply *r = &w->reply;
	const struct route *route;
	const char *path, *method, *key;
	union request req;
	enum api_error e;
	json_t *root;
	size_t len;

	path = router_path(FCGX_GetParam("DOCUMENT_URI", fr->envp),
	    FCGX_GetParam("REQUEST_URI", fr->envp), &len);
	route = router_find(path, len);
	if (route == NULL)
		return reply_fail(r, API_NOT_FOUND, "unknown path");
	method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	if (method == NULL || strcmp(method, "POST") != 0) {
		r->allow = "POST";
		return reply_fail(r, API_METHOD_NOT_ALLOWED, "%s accepts only "
		    "POST", route->path);
	}
	e = read_body(w, fr);
	if (e != API_OK)
		return e;
	root = decode_body(w->body.data, w->body.len, r->message,
	    sizeof r->message);
	if (root == NULL)
		return API_BAD_REQUEST;
	if (!decode_request(route->id, root, &req, r->message,
	    sizeof r->message)) {
		json_decref(root);
		return API_BAD_REQUEST;
	}
	e = API_OK;
	if (route->id == ROUTE_MESSAGES_ADD) {
		key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", fr->envp);
		if (key && !decode_idempotency_key(key, r->message,
		    sizeof r->message))
			e = API_BAD_REQUEST;
		req.messages_add.idempotency_key = key;
	}
	if (e == API_OK)
		e = route->handle(w->db, &req, r);
	request_free(route->id, &req);
	json_decref(root);
	return e;
}

static void handle(struct worker *w, FCGX_Request *fr)
{
	enum api_error e;

	reply_reset(&w->reply, fr->out);
	e = serve(w, fr);
	if (e == API_INTERNAL)
		log_error("request failed: %s", w->reply.message);
	reply_finish(&w->reply, e);
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

static void install_signals(sigset_t *stops)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() must fail */
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

/* Stop signals are blocked while a request is handled, so no system call
 * of a request is interrupted; they are let in only around accept. A stop
 * that lands between the check of `stop` and accept() itself is caught by
 * the master, which repeats SIGTERM until the worker is gone. */
int worker_run(const struct worker_config *cfg)
{
	struct worker w = {.cfg = cfg};
	FCGX_Request fr;
	sigset_t stops;
	int rc, status = EXIT_SUCCESS;

	install_signals(&stops);
	sigprocmask(SIG_BLOCK, &stops, NULL);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, cfg->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)) {
		log_error("worker: FastCGI initialisation failed");
		return EXIT_FAILURE;
	}
	w.db = db_new(cfg->conninfo, cfg->statement_timeout_ms);
	buf_init(&w.body);
	reply_init(&w.reply, NULL);
	db_ready(w.db);		/* connect early; failure is retried later */
	while (!stop) {
		sigprocmask(SIG_UNBLOCK, &stops, NULL);
		rc = stop ? -1 : FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &stops, NULL);
		if (rc < 0) {
			if (stop || errno == EINTR)
				continue;
			log_error("worker: accept failed: %s", strerror(errno));
			status = EXIT_FAILURE;
			break;
		}
		handle(&w, &fr);
		finish(&fr);
	}
	reply_free(&w.reply);
	buf_free(&w.body);
	db_free(w.db);
	return status;
}
