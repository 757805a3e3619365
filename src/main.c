/* chatd: the command line. `serve` runs the pre-fork master, `migrate`
 * brings the schema up to date, `relay` runs the relay alone, and a chatd
 * started with a listening socket on fd 0 (spawn-fcgi) runs as one plain
 * worker. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "db.h"
#include "decode.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "migrate.h"
#include "password.h"
#include "privs.h"
#include "relay.h"
#include "store.h"
#include "sweep.h"
#include "worker.h"

struct options {
	const char *listen;
	const char *auth_listen;	/* NULL: listen_sibling() of listen */
	long auth_workers;
	long auth_nice;
	const char *db;
	const char *user;
	const char *socket_group;
	long workers;
	long statement_timeout;
	long socket_mode;
	long max_body;
	long grace;
	long sweep_age;
	const char *relay_publish;
	bool no_relay;
	long event_retention;
	long presence_sweep;
};

static const char usage[] =
"usage: chatd serve [--listen unix:PATH|HOST:PORT] [--workers N] [--db CONNINFO]\n"
"                   [--user NAME] [--socket-group GROUP] [--socket-mode MODE]\n"
"                   [--max-body BYTES] [--grace SECONDS] [--statement-timeout MS]\n"
"                   [auth options] [relay options] [limits] [--verbose]\n"
"       chatd migrate [--db CONNINFO]\n"
"       chatd relay [--db CONNINFO] [relay options] [--verbose]\n"
"             (the relay alone, beside workers that spawn-fcgi started)\n"
"       chatd admin grant|revoke USERNAME [--db CONNINFO]\n"
"       chatd sweep [--db CONNINFO] [--store DIR] [--sweep-age SECONDS]\n"
"       chatd [worker] [--db CONNINFO] [--max-body BYTES] [limits]\n"
"             (a FastCGI listening socket on fd 0, as spawn-fcgi gives it)\n"
"       chatd --help | --version\n"
"\n"
"  --listen SPEC       FastCGI socket to create (default unix:/run/chatd/chatd.sock)\n"
"  --workers N         worker processes (default 4)\n"
"  --auth-workers N    more workers, on a socket of their own, for /auth/:\n"
"                      password hashes never take the others (default 1;\n"
"                      0: none, /auth/ is served by the main pool)\n"
"  --auth-nice N       their nice value, -20..19 (default 10: hashes get\n"
"                      the CPU the rest of the API leaves)\n"
"  --auth-listen SPEC  their socket (default: --listen's path with -auth\n"
"                      before .sock, or its port + 1)\n"
"  --db CONNINFO       libpq conninfo or URI; empty uses the PG* environment\n"
"  --user NAME         started as root: bind the socket, then run as NAME\n"
"  --socket-group GROUP  group of a unix socket (the web server's), with\n"
"                      --socket-mode letting that group connect\n"
"  --socket-mode MODE  octal mode of a unix socket (default 0660)\n"
"  --max-body BYTES    largest request body (default 1048576)\n"
"  --grace SECONDS     wait for workers on stop before SIGKILL (default 30)\n"
"  --statement-timeout MS  cancel a query running longer (503; default 5000,\n"
"                      0: no limit)\n"
"  --auth open|required  whether section 1's endpoints need a session\n"
"                      (default open; the others always do)\n"
"  --session-idle SECONDS  a session unused this long ends (default 604800)\n"
"  --session-lifetime SECONDS  and any session this long after login\n"
"                      (default 2592000, 30 days)\n"
"  --login-failures N  failed logins of an account within the window\n"
"                      before 429 (default 100)\n"
"  --login-window SECONDS  that window (default 3600)\n"
"  --broadcast admins|anyone  who may send messages/broadcast (default\n"
"                      admins: users granted by `chatd admin grant`)\n"
"  --presence-window SECONDS  a user seen this recently is online\n"
"                      (default 300)\n"
"  --pwhash-ops N, --pwhash-mem MIB  Argon2id cost of new password hashes\n"
"                      (defaults 2 and 64; at least 2 and 19)\n"
"  --store DIR         the file store (default " STORE_DIR_DEFAULT "); nginx\n"
"                      writes upload bodies to DIR/incoming (nginx/chatd.conf)\n"
"  --max-file BYTES    largest upload (default 26214400, 25 MiB; nginx's\n"
"                      client_max_body_size of /files/upload must agree)\n"
"  --quota BYTES       all of one user's uploads (default 1073741824; 0: none)\n"
"  --sweep-age SECONDS  sweep: remove stray files older than this, at least\n"
"                      60 (default 3600): in DIR/incoming, and in DIR\n"
"                      without a record\n"
"  --relay-publish unix:PATH  nginx's nchan publisher, where the relay\n"
"                      publishes events (default " RELAY_PUBLISH_DEFAULT ")\n"
"  --no-relay          serve without the relay (one runs elsewhere, as\n"
"                      `chatd relay`: one per database works, others wait)\n"
"  --event-retention SECONDS  events are kept this long for events/get\n"
"                      (default 604800, 7 days; at least 60)\n"
"  --presence-sweep SECONDS  the relay closes the streams of users that\n"
"                      nchan holds none of, once their rows are this old,\n"
"                      and looks this often (default 60)\n"
"  --limit-username N, --limit-chat-name N, --limit-text N\n"
"                      limits in characters (defaults 64, 128, 4096)\n"
"  --verbose           log debug messages\n"
"\n"
"Signals to serve: SIGTERM/SIGINT stop gracefully (the relay last),\n"
"SIGHUP restarts workers.\n";

enum {
	OPT_LISTEN = 256, OPT_WORKERS, OPT_DB, OPT_SOCKET_MODE, OPT_MAX_BODY,
	OPT_GRACE, OPT_LIMIT_USERNAME, OPT_LIMIT_CHAT_NAME, OPT_LIMIT_TEXT,
	OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_USER, OPT_SOCKET_GROUP,
	OPT_STATEMENT_TIMEOUT, OPT_AUTH, OPT_SESSION_IDLE,
	OPT_SESSION_LIFETIME, OPT_LOGIN_FAILURES, OPT_LOGIN_WINDOW,
	OPT_PWHASH_OPS, OPT_PWHASH_MEM, OPT_AUTH_WORKERS, OPT_AUTH_LISTEN,
	OPT_PRESENCE, OPT_BROADCAST, OPT_AUTH_NICE, OPT_STORE, OPT_MAX_FILE,
	OPT_QUOTA, OPT_SWEEP_AGE, OPT_RELAY_PUBLISH, OPT_NO_RELAY,
	OPT_EVENT_RETENTION, OPT_PRESENCE_SWEEP
};

static const struct option longopts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"db", required_argument, NULL, OPT_DB},
	{"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"limit-username", required_argument, NULL, OPT_LIMIT_USERNAME},
	{"limit-chat-name", required_argument, NULL, OPT_LIMIT_CHAT_NAME},
	{"limit-text", required_argument, NULL, OPT_LIMIT_TEXT},
	{"user", required_argument, NULL, OPT_USER},
	{"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
	{"statement-timeout", required_argument, NULL, OPT_STATEMENT_TIMEOUT},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"auth-workers", required_argument, NULL, OPT_AUTH_WORKERS},
	{"auth-listen", required_argument, NULL, OPT_AUTH_LISTEN},
	{"auth-nice", required_argument, NULL, OPT_AUTH_NICE},
	{"session-idle", required_argument, NULL, OPT_SESSION_IDLE},
	{"session-lifetime", required_argument, NULL, OPT_SESSION_LIFETIME},
	{"login-failures", required_argument, NULL, OPT_LOGIN_FAILURES},
	{"login-window", required_argument, NULL, OPT_LOGIN_WINDOW},
	{"presence-window", required_argument, NULL, OPT_PRESENCE},
	{"broadcast", required_argument, NULL, OPT_BROADCAST},
	{"pwhash-ops", required_argument, NULL, OPT_PWHASH_OPS},
	{"pwhash-mem", required_argument, NULL, OPT_PWHASH_MEM},
	{"store", required_argument, NULL, OPT_STORE},
	{"max-file", required_argument, NULL, OPT_MAX_FILE},
	{"quota", required_argument, NULL, OPT_QUOTA},
	{"sweep-age", required_argument, NULL, OPT_SWEEP_AGE},
	{"relay-publish", required_argument, NULL, OPT_RELAY_PUBLISH},
	{"no-relay", no_argument, NULL, OPT_NO_RELAY},
	{"event-retention", required_argument, NULL, OPT_EVENT_RETENTION},
	{"presence-sweep", required_argument, NULL, OPT_PRESENCE_SWEEP},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Parses a whole number in [min, max] in the given base, or exits. */
static long number(const char *opt, const char *s, int base, long min,
    long max)
{
	char *end;
	long v = strtol(s, &end, base);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "chatd: bad value for --%s: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct options *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_AUTH_LISTEN: o->auth_listen = optarg; break;
		case OPT_AUTH_NICE:
			o->auth_nice = number("auth-nice", optarg, 10, -20, 19);
			break;
		case OPT_AUTH_WORKERS:
			o->auth_workers = number("auth-workers", optarg, 10, 0,
			    1024);
			break;
		case OPT_USER: o->user = optarg; break;
		case OPT_SOCKET_GROUP: o->socket_group = optarg; break;
		case OPT_STATEMENT_TIMEOUT:
			o->statement_timeout = number("statement-timeout",
			    optarg, 10, 0, 24L * 3600 * 1000);
			break;
		case OPT_DB: o->db = optarg; break;
		case OPT_WORKERS:
			o->workers = number("workers", optarg, 10, 1, 1024);
			break;
		case OPT_SOCKET_MODE:
			o->socket_mode = number("socket-mode", optarg, 8, 0,
			    0777);
			break;
		case OPT_MAX_BODY:
			o->max_body = number("max-body", optarg, 10, 1,
			    1L << 30);
			break;
		case OPT_GRACE:
			o->grace = number("grace", optarg, 10, 0, 3600);
			break;
		case OPT_LIMIT_USERNAME:
			decode_limits.username_max = (size_t)number(
			    "limit-username", optarg, 10, 1, 1 << 20);
			break;
		case OPT_LIMIT_CHAT_NAME:
			decode_limits.chat_name_max = (size_t)number(
			    "limit-chat-name", optarg, 10, 1, 1 << 20);
			break;
		case OPT_LIMIT_TEXT:
			decode_limits.text_max = (size_t)number("limit-text",
			    optarg, 10, 1, 1 << 20);
			break;
		case OPT_AUTH:
			if (strcmp(optarg, "open") == 0)
				auth_config.mode = AUTH_OPEN;
			else if (strcmp(optarg, "required") == 0)
				auth_config.mode = AUTH_REQUIRED;
			else {
				fprintf(stderr, "chatd: bad value for --auth: "
				    "'%s' (open or required)\n", optarg);
				exit(2);
			}
			break;
		case OPT_SESSION_IDLE:
			auth_config.idle_seconds = (int)number("session-idle",
			    optarg, 10, 60, 366L * 24 * 3600);
			break;
		case OPT_SESSION_LIFETIME:
			auth_config.lifetime_seconds = (int)number(
			    "session-lifetime", optarg, 10, 60,
			    366L * 24 * 3600);
			break;
		case OPT_LOGIN_FAILURES:
			auth_config.failures_max = (int)number(
			    "login-failures", optarg, 10, 1, 1000000);
			break;
		case OPT_LOGIN_WINDOW:
			auth_config.failure_window_seconds = (int)number(
			    "login-window", optarg, 10, 1, 366L * 24 * 3600);
			break;
		case OPT_BROADCAST:
			if (strcmp(optarg, "admins") == 0)
				auth_config.broadcast_anyone = false;
			else if (strcmp(optarg, "anyone") == 0)
				auth_config.broadcast_anyone = true;
			else {
				fprintf(stderr, "chatd: bad value for --broadcast: "
				    "'%s' (admins or anyone)\n", optarg);
				exit(2);
			}
			break;
		case OPT_PRESENCE:
			auth_config.presence_seconds = (int)number(
			    "presence-window", optarg, 10, 1, 366L * 24 * 3600);
			break;
		case OPT_PWHASH_OPS:
			password_cost.ops = (unsigned long long)number(
			    "pwhash-ops", optarg, 10, PASSWORD_OPS_MIN, 64);
			break;
		case OPT_PWHASH_MEM:
			password_cost.mem = (size_t)number("pwhash-mem", optarg,
			    10, PASSWORD_MEM_MIN >> 20, 4096) << 20;
			break;
		case OPT_STORE: store_config.dir = optarg; break;
		case OPT_MAX_FILE:
			store_config.max_file = number("max-file", optarg, 10,
			    0, LONG_MAX);
			break;
		case OPT_QUOTA:
			store_config.quota = number("quota", optarg, 10, 0,
			    LONG_MAX);
			break;
		case OPT_SWEEP_AGE:
			o->sweep_age = number("sweep-age", optarg, 10, 60,
			    366L * 24 * 3600);
			break;
		case OPT_RELAY_PUBLISH:
			if (!relay_publish_ok(optarg)) {
				fprintf(stderr, "chatd: bad value for "
				    "--relay-publish: '%s' (unix:PATH)\n",
				    optarg);
				exit(2);
			}
			o->relay_publish = optarg;
			break;
		case OPT_NO_RELAY: o->no_relay = true; break;
		case OPT_EVENT_RETENTION:
			o->event_retention = number("event-retention", optarg,
			    10, 60, 3660L * 24 * 3600);
			break;
		case OPT_PRESENCE_SWEEP:
			o->presence_sweep = number("presence-sweep", optarg,
			    10, 1, 24 * 3600);
			break;
		case OPT_VERBOSE: log_set_level(LOG_DEBUG); break;
		case OPT_HELP: fputs(usage, stdout); exit(0);
		case OPT_VERSION: puts(PACKAGE_STRING); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chatd: unexpected argument '%s'\n",
		    argv[optind]);
		exit(2);
	}
}

static int cmd_migrate(const struct options *o)
{
	PGconn *conn = db_connect(o->db);
	int rc;

	if (PQstatus(conn) != CONNECTION_OK) {
		log_error("cannot connect to the database: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return EXIT_FAILURE;
	}
	rc = migrate_apply(conn);
	PQfinish(conn);
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* `chatd admin grant|revoke USERNAME`: makes the user an administrator
 * (messages/broadcast) or no longer one. Exit 1 for an unknown user, a
 * database that cannot be reached or is not migrated. */
static int cmd_admin(const struct options *o, const char *verb,
    const char *username)
{
	const char *params[2] = {username, strcmp(verb, "grant") == 0 ?
	    "true" : "false"};
	PGconn *conn = migrate_connect_current(o->db);
	PGresult *res;
	int rc = EXIT_FAILURE;

	if (conn != NULL) {
		res = PQexecParams(conn, "UPDATE users SET is_admin = $2 "
		    "WHERE username = $1", 2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			log_error("admin: %s", PQresultErrorMessage(res));
		else if (strcmp(PQcmdTuples(res), "1") != 0)
			log_error("admin: no user named '%s'", username);
		else {
			log_info("%s is %s an administrator", username,
			    params[1][0] == 't' ? "now" : "no longer");
			rc = EXIT_SUCCESS;
		}
		PQclear(res);
	}
	PQfinish(conn);
	return rc;
}

/* Refuses to serve a database whose schema is behind. One that cannot be
 * reached now is not refused: workers answer 503 until it comes. */
static int check_schema(const struct options *o)
{
	PGconn *conn = db_connect(o->db);
	int version;

	if (PQstatus(conn) != CONNECTION_OK) {
		log_warn("database unavailable at start: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return 0;
	}
	version = migrate_current(conn);
	PQfinish(conn);
	if (version != migrate_latest()) {
		log_error("database schema is at version %d, this chatd needs "
		    "%d: run `chatd migrate` first", version, migrate_latest());
		return -1;
	}
	return 0;
}

/* Binds the socket of spec and hands it to --user and --socket-group.
 * Returns the listening descriptor or -1. */
static int open_socket(const struct options *o, const char *spec, uid_t uid,
    gid_t gid)
{
	int fd = listen_open(spec, (mode_t)o->socket_mode);

	if (fd < 0)
		return -1;
	if (listen_chown(spec, uid, gid) < 0) {
		close(fd);
		listen_cleanup(spec);
		return -1;
	}
	return fd;
}

/* Both sockets (the /auth/ one when there is an /auth/ pool) into fd[0]
 * and fd[1], then becomes --user. False, with nothing left behind, when
 * any of it fails. */
static bool open_sockets(const struct options *o, const char *auth_spec,
    int fd[2])
{
	uid_t uid;
	gid_t gid;

	fd[0] = fd[1] = -1;
	if (privs_lookup(o->user, o->socket_group, &uid, &gid) < 0)
		return false;
	if (o->user && geteuid() != 0) {
		log_error("--user needs chatd to be started as root");
		return false;
	}
	fd[0] = open_socket(o, o->listen, uid, gid);
	if (fd[0] < 0)
		return false;
	if (o->auth_workers > 0) {
		fd[1] = open_socket(o, auth_spec, uid, gid);
		if (fd[1] < 0)
			goto fail;
	}
	if (o->user && privs_drop(uid) < 0)
		goto fail;
	return true;
fail:
	close(fd[0]);
	listen_cleanup(o->listen);
	if (fd[1] >= 0) {
		close(fd[1]);
		listen_cleanup(auth_spec);
	}
	return false;
}

static void close_sockets(const struct options *o, const char *auth_spec,
    const int fd[2], bool cleanup)
{
	close(fd[0]);
	if (cleanup)
		listen_cleanup(o->listen);
	if (fd[1] >= 0) {
		close(fd[1]);
		if (cleanup)
			listen_cleanup(auth_spec);
	}
}

static struct relay_config relay_options(const struct options *o)
{
	struct relay_config rc = {
		.conninfo = o->db,
		.publish = o->relay_publish,
		.retention_seconds = (int)o->event_retention,
		.sweep_seconds = (int)o->presence_sweep,
	};

	return rc;
}

static int cmd_serve(const struct options *o)
{
	struct master_config mc;
	char auth_spec[512];
	int fd[2], rc;

	if (o->auth_listen)
		snprintf(auth_spec, sizeof auth_spec, "%s", o->auth_listen);
	else if (!listen_sibling(o->listen, auth_spec, sizeof auth_spec)) {
		log_error("no /auth/ socket goes with --listen %s: give "
		    "--auth-listen", o->listen);
		return EXIT_FAILURE;
	}
	if (o->auth_workers > 0 && strcmp(auth_spec, o->listen) == 0) {
		log_error("--auth-listen must differ from --listen");
		return EXIT_FAILURE;
	}
	if (!open_sockets(o, auth_spec, fd))
		return EXIT_FAILURE;
	if (check_schema(o) < 0) {
		close_sockets(o, auth_spec, fd, true);
		return EXIT_FAILURE;
	}
	mc.listen = o->listen;
	mc.worker.listen_fd = fd[0];
	mc.worker.conninfo = o->db;
	mc.worker.statement_timeout_ms = (int)o->statement_timeout;
	mc.worker.max_body = (size_t)o->max_body;
	mc.workers = (int)o->workers;
	mc.auth_workers = (int)o->auth_workers;
	mc.auth_fd = fd[1];
	mc.auth_nice = (int)o->auth_nice;
	mc.auth_listen = auth_spec;
	mc.grace_seconds = (int)o->grace;
	mc.relay = !o->no_relay;
	mc.relay_cfg = relay_options(o);
	log_info("listening on %s", o->listen);
	if (o->auth_workers > 0)
		log_info("listening for /auth/ on %s", auth_spec);
	rc = master_run(&mc);	/* it removed the sockets' paths already */
	close_sockets(o, auth_spec, fd, false);
	return rc;
}

static int cmd_worker(const struct options *o)
{
	struct worker_config wc = {
		.listen_fd = STDIN_FILENO,
		.conninfo = o->db,
		.statement_timeout_ms = (int)o->statement_timeout,
		.max_body = (size_t)o->max_body,
	};

	if (!listen_is_socket(STDIN_FILENO)) {
		fputs("chatd: fd 0 is not a listening socket; use `chatd serve` "
		    "or start chatd under spawn-fcgi\n", stderr);
		fputs(usage, stderr);
		return 2;
	}
	return worker_run(&wc);
}

int main(int argc, char **argv)
{
	struct options o = {
		.listen = "unix:/run/chatd/chatd.sock",
		.db = "",
		.workers = 4,
		.auth_workers = 1,
		.auth_nice = 10,
		.socket_mode = 0660,
		.max_body = 1 << 20,
		.grace = 30,
		.statement_timeout = 5000,
		.sweep_age = STORE_GRACE_DEFAULT,
		.relay_publish = RELAY_PUBLISH_DEFAULT,
		.event_retention = RELAY_RETENTION_DEFAULT,
		.presence_sweep = RELAY_SWEEP_DEFAULT,
	};
	const char *cmd = "worker", *verb = NULL, *username = NULL;

	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argv++;
		argc--;
	}
	if (strcmp(cmd, "admin") == 0) {
		if (argc < 3 || (strcmp(argv[1], "grant") != 0 &&
		    strcmp(argv[1], "revoke") != 0) || argv[2][0] == '-') {
			fputs("usage: chatd admin grant|revoke USERNAME "
			    "[--db CONNINFO]\n", stderr);
			return 2;
		}
		verb = argv[1];
		username = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	parse(argc, argv, &o);
	if (strcmp(cmd, "admin") == 0)
		return cmd_admin(&o, verb, username);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&o);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(&o);
	if (strcmp(cmd, "worker") == 0)
		return cmd_worker(&o);
	if (strcmp(cmd, "relay") == 0) {
		struct relay_config rc = relay_options(&o);

		return relay_run(&rc);
	}
	if (strcmp(cmd, "sweep") == 0)
		return sweep_run(o.db, (int)o.sweep_age) ? EXIT_SUCCESS :
		    EXIT_FAILURE;
	fprintf(stderr, "chatd: unknown command '%s'\n", cmd);
	fputs(usage, stderr);
	return 2;
}
