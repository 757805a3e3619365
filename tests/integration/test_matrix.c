/*
 * test_matrix.c - the authorization matrix of tests/matrix/ against the
 * real stack (nginx -> chatd -> PostgreSQL).
 *
 * The table says what every endpoint answers, in `--auth open` and in
 * `--auth required`, to ten callers: no token, four kinds of bad token,
 * and live sessions of users in different roles towards one group chat.
 * One cmocka test per endpoint and mode asks its cells one by one. Before
 * every cell the fixture is put back as it was made and every session a
 * column sends is made sure of, so a cell that succeeds (a removal, a
 * logout, a password change, a broadcast) changes nothing for the next;
 * around every refused one the database is fingerprinted. The format, the
 * fixture and the columns are described in tests/matrix/README.
 *
 * Environment, besides the harness's (CHATD_BIN, CHATD_SRCDIR, ...):
 *   CHATD_MATRIX       the table (default
 *                      $CHATD_SRCDIR/tests/matrix/matrix.txt)
 *   CHATD_MATRIX_ONLY  a shell pattern: check only the endpoints it matches
 */
#include "harness.h"
#include "stream.h"

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PASSWORD "matrix password"
/* The owner's two uploads: @FILE@, carried by @MESSAGE@, and @IMAGE@ (a
 * PNG by its signature), in no message. */
#define FILE_BYTES "matrix file bytes\n"
#define IMAGE_BYTES "\x89PNG\r\n\x1a\nmatrix image"
#define MALFORMED_TOKEN "matrix.not.a.token"
#define TOKEN_CHARS 43
/* Cheap hashes: the fixture's accounts log in again whenever a cell has
 * ended their session. The minimum chatd accepts (OWASP's). */
#define SERVE_ARGS "--pwhash-mem 19 --pwhash-ops 2 --auth "
#define MAX_REQUESTS 64
#define MAX_WORDS 32
#define EXCERPT 300
/* Only against a hang: how long a stream's answer may take to come. */
#define STREAM_WAIT_MS 15000

/* ---- the callers: the table's columns ---------------------------------- */

/* The users of the fixture (tests/matrix/README). The first WHO_ACCOUNTS
 * have a password and a live session; the others were made by users/add. */
enum who {
	WHO_OWNER,	/* owns @CHAT@; the administrator */
	WHO_MEMBER,	/* a member of @CHAT@, not its owner */
	WHO_OUTSIDER,	/* not a member of @CHAT@ */
	WHO_MEMBER2,	/* another member, without a password */
	WHO_NEWBIE,	/* not a member: whom members/add adds */
	WHO_PEER,	/* in no chat: the other end of a private chat */
	WHO__MAX
};
#define WHO_ACCOUNTS 3

/* Their roles, which their usernames start with ("mx_owner_..."). */
static const char *const who_names[WHO__MAX] = {
	"owner", "member", "outsider", "member2", "newbie", "peer",
};

/* What a column sends as "Authorization: Bearer". */
enum token_kind {
	TOK_NONE,	/* no Authorization header */
	TOK_MALFORMED,	/* not 43 base64url characters */
	TOK_UNKNOWN,	/* well-formed, never issued */
	TOK_EXPIRED,	/* the owner's session, expires_at in the past */
	TOK_REVOKED,	/* the owner's session, logged out */
	TOK_LIVE	/* a live session of the column's caller */
};

/* One caller: its token, and whom the request names. Every column but
 * the live ones sends the owner's request (self is the owner), so that a
 * bad token is all that differs from the owner's cell; "other" sends the
 * owner's request with the member's session. */
struct column {
	const char *name;
	enum token_kind token;
	enum who caller;	/* whose session it sends (or sent once) */
	enum who self;		/* @SELF@ and @SELFNAME@ */
	enum who target;	/* @TARGET@: whom members/remove removes */
};

enum {
	COL_NONE, COL_MALFORMED, COL_UNKNOWN, COL_EXPIRED, COL_REVOKED,
	COL_OTHER, COL_OUTSIDER, COL_MEMBER, COL_NONOWNER, COL_OWNER,
	COL__MAX
};

static const struct column columns[COL__MAX] = {
	{"none", TOK_NONE, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
	{"malformed", TOK_MALFORMED, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
	{"unknown", TOK_UNKNOWN, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
	{"expired", TOK_EXPIRED, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
	{"revoked", TOK_REVOKED, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
	{"other", TOK_LIVE, WHO_MEMBER, WHO_OWNER, WHO_MEMBER},
	{"outsider", TOK_LIVE, WHO_OUTSIDER, WHO_OUTSIDER, WHO_MEMBER},
	{"member", TOK_LIVE, WHO_MEMBER, WHO_MEMBER, WHO_MEMBER},
	{"nonowner", TOK_LIVE, WHO_MEMBER, WHO_MEMBER, WHO_MEMBER2},
	{"owner", TOK_LIVE, WHO_OWNER, WHO_OWNER, WHO_MEMBER},
};

enum mode { MODE_OPEN, MODE_REQUIRED, MODE__MAX };
static const char *const mode_names[MODE__MAX] = {"open", "required"};

/* ---- the table --------------------------------------------------------- */

struct request {
	char endpoint[64];	/* "chats/members/add": its path without '/' */
	char method[8];
	char *target;		/* the path's template without its '/', query
				   string included (owned); NULL: endpoint */
	char *body;		/* the template (owned); NULL: no body */
	bool raw;		/* the body is bytes, not JSON */
	bool bytes;		/* a success answers @FILE@'s bytes */
	int stream;		/* a success opens a stream of this kind
				   (enum stream_kind); -1: no stream */
	int line;
};

struct cell {
	bool applies;		/* false for "-" */
	long status;
	char code[32];		/* the "error" of a 4xx/5xx, else "" */
};

struct row {
	const struct request *req;
	enum mode mode;
	struct cell cells[COL__MAX];
	int line;
	char name[96];		/* the test's: "open chats/get" */
};

static struct request requests[MAX_REQUESTS];
static int nrequests;
static struct row rows[MODE__MAX][MAX_REQUESTS];
static int nrows[MODE__MAX];
static char table_path[PATH_MAX];

/* ---- the fixture ------------------------------------------------------- */

struct user {
	char id[ID_LEN];
	char name[64];
	char token[64];		/* accounts: a live session's token */
	char session[ID_LEN];	/* and that session's id */
};

static struct {
	struct user u[WHO__MAX];
	char chat[ID_LEN], message[ID_LEN];
	char file[ID_LEN], image[ID_LEN];	/* the owner's uploads */
	char expired[64], expired_session[ID_LEN];
	char revoked[64], unknown[64];
} fx;

static struct psql_session db;
static bool fixture_made;
static int cells_checked, cells_na, cells_failed;

/* ---- a growing string -------------------------------------------------- */

/* Out of memory aborts, as in the harness. */
struct text {
	char *p;
	size_t len, cap;
};

/* Room for n more bytes and a terminator. */
static void text_room(struct text *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 256;

	if (t->len + n + 1 <= t->cap)
		return;
	while (cap < t->len + n + 1)
		cap *= 2;
	t->p = realloc(t->p, cap);
	if (t->p == NULL)
		abort();
	t->cap = cap;
}

static void text_add(struct text *t, const char *s, size_t n)
{
	text_room(t, n);
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	text_room(t, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* ---- placeholders ------------------------------------------------------ */

/* The value of the placeholder name[0..n) in a cell of column col whose
 * fresh string is uniq; NULL when there is no such placeholder. Borrowed
 * from the fixture. */
static const char *placeholder(const char *name, size_t n,
			       const struct column *col, const char *uniq)
{
	static const struct {
		const char *name;
		enum who who;
	} users[] = {
		{"OWNER", WHO_OWNER}, {"MEMBER", WHO_MEMBER},
		{"OUTSIDER", WHO_OUTSIDER}, {"MEMBER2", WHO_MEMBER2},
		{"NEWBIE", WHO_NEWBIE}, {"PEER", WHO_PEER},
	};
	size_t i;

#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strlen(users[i].name) == n &&
		    memcmp(name, users[i].name, n) == 0)
			return fx.u[users[i].who].id;
	if (IS("CHAT"))
		return fx.chat;
	if (IS("MESSAGE"))
		return fx.message;
	if (IS("FILE"))
		return fx.file;
	if (IS("IMAGE"))
		return fx.image;
	if (IS("SELF"))
		return fx.u[col->self].id;
	if (IS("SELFNAME"))
		return fx.u[col->self].name;
	if (IS("TARGET"))
		return fx.u[col->target].id;
	if (IS("SESSION"))
		return fx.u[col->caller].session;
	if (IS("PASSWORD"))
		return PASSWORD;
	if (IS("UNIQ"))
		return uniq;
#undef IS
	return NULL;
}

/* Appends template to out with its placeholders replaced. False, with the
 * unknown name in err, for an @NAME@ that is no placeholder; an '@' with
 * no second one after it is text. */
static bool expand(const char *template, const struct column *col,
		   const char *uniq, struct text *out, char *err, size_t errsz)
{
	const char *p = template, *at, *end, *v;

	text_add(out, "", 0);
	while ((at = strchr(p, '@')) != NULL &&
	       (end = strchr(at + 1, '@')) != NULL) {
		text_add(out, p, (size_t)(at - p));
		v = placeholder(at + 1, (size_t)(end - at - 1), col, uniq);
		if (v == NULL) {
			snprintf(err, errsz, "unknown placeholder %.*s",
				 (int)(end - at + 1), at);
			return false;
		}
		text_add(out, v, strlen(v));
		p = end + 1;
	}
	text_add(out, p, strlen(p));
	return true;
}

/* ---- reading the table ------------------------------------------------- */

/* The next blank-separated word at *s, ended in place ("" when there is
 * none); *s moves to what follows it. */
static char *next_word(char **s)
{
	char *w = *s + strspn(*s, " \t");

	*s = w + strcspn(w, " \t");
	if (**s != '\0')
		*(*s)++ = '\0';
	return w;
}

/* Splits s in place at blanks into at most max words; returns how many. */
static int split(char *s, char **words, int max)
{
	int n = 0;

	while (n < max && *(words[n] = next_word(&s)) != '\0')
		n++;
	return n;
}

static const struct request *find_request(const char *endpoint)
{
	int i;

	for (i = 0; i < nrequests; i++)
		if (strcmp(requests[i].endpoint, endpoint) == 0)
			return &requests[i];
	return NULL;
}

/* Whether s starts with the word w, then a blank or its end. */
static bool is_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	return strncmp(s, w, n) == 0 &&
	       (s[n] == '\0' || s[n] == ' ' || s[n] == '\t');
}

/* Copies the template s, or fails with err: every placeholder of it must
 * be known, whatever the column. */
static bool template_copy(const char *s, char **out, char *err, size_t errsz)
{
	struct text probe = { NULL, 0, 0 };
	int c;
	bool ok = true;

	for (c = 0; c < COL__MAX && ok; c++) {
		probe.len = 0;
		ok = expand(s, &columns[c], "x", &probe, err, errsz);
	}
	free(probe.p);
	*out = strdup(s);
	if (*out == NULL)
		abort();
	return ok;
}

/* The stream kind named by the word at s ("websocket", "eventsource"),
 * or -1. */
static int stream_word(const char *s)
{
	int k;

	for (k = 0; k < STREAM__MAX; k++)
		if (k != STREAM_POLL && is_word(s, stream_kind_name[k]))
			return k;
	return -1;
}

/* "request ENDPOINT METHOD [/TARGET] [raw] [bytes] [websocket|eventsource]
 * [BODY]"; rest is the line after "request". */
static bool parse_request(char *rest, int line, char *err, size_t errsz)
{
	struct request *rq;
	char *endpoint, *method, *body, *target = NULL;
	bool ok = true, raw = false, bytes = false;
	int stream = -1;

	endpoint = next_word(&rest);
	method = next_word(&rest);
	/* The options, each a word: a target, raw, bytes, a stream. */
	for (;;) {
		body = rest + strspn(rest, " \t");
		if (*body == '/' && target == NULL)
			target = next_word(&rest) + 1;
		else if (!raw && is_word(body, "raw"))
			raw = *next_word(&rest) != '\0';
		else if (!bytes && is_word(body, "bytes"))
			bytes = *next_word(&rest) != '\0';
		else if (stream < 0 && (stream = stream_word(body)) >= 0)
			next_word(&rest);
		else
			break;
	}
	if (*endpoint == '\0' || *method == '\0') {
		snprintf(err, errsz, "'request' needs an endpoint and a "
			 "method");
		return false;
	}
	if (nrequests == MAX_REQUESTS || find_request(endpoint) != NULL ||
	    strlen(endpoint) >= sizeof(rq->endpoint) ||
	    strlen(method) >= sizeof(rq->method)) {
		snprintf(err, errsz, "request %s: repeated, too long or too "
			 "many", endpoint);
		return false;
	}
	rq = &requests[nrequests++];
	snprintf(rq->endpoint, sizeof(rq->endpoint), "%s", endpoint);
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	rq->line = line;
	rq->body = NULL;
	rq->target = NULL;
	rq->raw = raw;
	rq->bytes = bytes;
	rq->stream = stream;
	if (target != NULL)
		ok = template_copy(target, &rq->target, err, errsz);
	if (ok && *body != '\0')
		ok = template_copy(body, &rq->body, err, errsz);
	if (ok && raw && rq->body == NULL) {
		snprintf(err, errsz, "request %s: 'raw' needs a body",
			 endpoint);
		ok = false;
	}
	if (ok && stream >= 0 && (rq->body != NULL || bytes ||
				  strcmp(method, "GET") != 0)) {
		snprintf(err, errsz, "request %s: a stream is a GET without a "
			 "body", endpoint);
		ok = false;
	}
	return ok;
}

/* "endpoint NAME..." of a mode: the columns' order, each exactly once. */
static bool parse_header(char **words, int n, int *order, char *err,
			 size_t errsz)
{
	bool seen[COL__MAX] = { false };
	int i, c;

	if (n != COL__MAX + 1) {
		snprintf(err, errsz, "the header must name the %d columns",
			 COL__MAX);
		return false;
	}
	for (i = 1; i < n; i++) {
		for (c = 0; c < COL__MAX; c++)
			if (strcmp(words[i], columns[c].name) == 0)
				break;
		if (c == COL__MAX || seen[c]) {
			snprintf(err, errsz, "column '%s' is unknown or "
				 "repeated", words[i]);
			return false;
		}
		seen[c] = true;
		order[i - 1] = c;
	}
	return true;
}

/* One cell from words[*i...]: "-", "STATUS" or "STATUS CODE". */
static bool parse_cell(char **words, int n, int *i, struct cell *cell,
		       char *err, size_t errsz)
{
	const char *w = words[(*i)++];
	char *end;

	memset(cell, 0, sizeof(*cell));
	if (strcmp(w, "-") == 0)
		return true;
	cell->applies = true;
	cell->status = strtol(w, &end, 10);
	if (*end != '\0' || cell->status < 100 || cell->status > 599) {
		snprintf(err, errsz, "'%s' is neither a status nor '-'", w);
		return false;
	}
	if (*i < n && isalpha((unsigned char)words[*i][0]))
		snprintf(cell->code, sizeof(cell->code), "%s", words[(*i)++]);
	if ((cell->status >= 400) != (cell->code[0] != '\0')) {
		snprintf(err, errsz, "status %ld %s", cell->status,
			 cell->status >= 400 ? "needs its error code"
					     : "takes no error code");
		return false;
	}
	return true;
}

/* "ENDPOINT CELL..." in the table of mode m, cells in the header's order. */
static bool parse_row(char **words, int n, enum mode m, const int *order,
		      int line, char *err, size_t errsz)
{
	const struct request *rq = find_request(words[0]);
	struct row *rw;
	int i = 1, k;

	if (rq == NULL) {
		snprintf(err, errsz, "no 'request' line for %s", words[0]);
		return false;
	}
	for (k = 0; k < nrows[m]; k++)
		if (rows[m][k].req == rq) {
			snprintf(err, errsz, "%s is twice in mode %s", words[0],
				 mode_names[m]);
			return false;
		}
	rw = &rows[m][nrows[m]];
	for (k = 0; k < COL__MAX; k++) {
		if (i == n) {
			snprintf(err, errsz, "%d cells, expected %d", k,
				 COL__MAX);
			return false;
		}
		if (!parse_cell(words, n, &i, &rw->cells[order[k]], err, errsz))
			return false;
	}
	if (i != n) {
		snprintf(err, errsz, "more than %d cells", COL__MAX);
		return false;
	}
	rw->req = rq;
	rw->mode = m;
	rw->line = line;
	snprintf(rw->name, sizeof(rw->name), "%s %s", mode_names[m],
		 rq->endpoint);
	nrows[m]++;
	return true;
}

/* Reads the table at path (format: tests/matrix/README). False with the
 * first problem, and its line, on stderr. */
static bool read_table(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *words[MAX_WORDS], err[256] = "";
	size_t cap = 0;
	int order[COL__MAX], lineno = 0, m = -1, i, n;
	bool have_header = false, ok = true;
	ssize_t len;

	if (f == NULL) {
		fprintf(stderr, "test_matrix: cannot read %s\n", path);
		return false;
	}
	while (ok && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "request ", 8) == 0) {
			ok = parse_request(line + 8, lineno, err, sizeof(err));
			continue;
		}
		n = split(line, words, MAX_WORDS);
		if (strcmp(words[0], "mode") == 0) {
			for (m = 0; m < MODE__MAX; m++)
				if (n == 2 &&
				    strcmp(words[1], mode_names[m]) == 0)
					break;
			if (m == MODE__MAX) {
				snprintf(err, sizeof(err), "'mode open' or "
					 "'mode required'");
				ok = false;
			}
			have_header = false;
		} else if (strcmp(words[0], "endpoint") == 0 && m >= 0) {
			ok = have_header = parse_header(words, n, order, err,
							sizeof(err));
		} else if (m < 0 || !have_header) {
			snprintf(err, sizeof(err), "a row before 'mode' and "
				 "its 'endpoint' header");
			ok = false;
		} else {
			ok = parse_row(words, n, m, order, lineno, err,
				       sizeof(err));
		}
	}
	free(line);
	fclose(f);
	for (i = 0; ok && i < nrequests; i++)
		for (m = 0; ok && m < MODE__MAX; m++) {
			for (n = 0; n < nrows[m]; n++)
				if (rows[m][n].req == &requests[i])
					break;
			if (n == nrows[m]) {
				lineno = requests[i].line;
				snprintf(err, sizeof(err), "%.63s has no row "
					 "in mode %s", requests[i].endpoint,
					 mode_names[m]);
				ok = false;
			}
		}
	if (!ok)
		fprintf(stderr, "test_matrix: %s:%d: %s\n", path, lineno, err);
	return ok;
}

/* ---- talking to the stack ---------------------------------------------- */

/* Sends one request over a new connection to target (a path without its
 * leading '/', query string included): "Authorization: Bearer token"
 * unless token is NULL, a body unless body is NULL, JSON unless raw (then
 * application/octet-stream). Fills out (freed by the caller) and, when
 * hdrs is not NULL, the response's header block (a new string). Returns
 * the status, 0 when there was no answer. */
static long send_raw(const char *method, const char *target,
		     const char *token, const char *body, bool raw,
		     struct http_reply *out, char **hdrs)
{
	struct text req = { NULL, 0, 0 };
	long status;

	text_printf(&req, "%s /%s HTTP/1.1\r\nHost: matrix\r\n"
		    "Connection: close\r\n", method, target);
	if (token != NULL)
		text_printf(&req, "Authorization: Bearer %s\r\n", token);
	if (body != NULL)
		text_printf(&req, "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n", raw ?
			    "application/octet-stream" : "application/json",
			    strlen(body));
	text_add(&req, "\r\n", 2);
	if (body != NULL)
		text_add(&req, body, strlen(body));
	status = http_raw(&the_stack, req.p, req.len, false, out, hdrs);
	free(req.p);
	return status;
}

/* send_raw() of a JSON body (or none). */
static long send_request(const char *method, const char *endpoint,
			 const char *token, const char *body,
			 struct http_reply *out, char **hdrs)
{
	return send_raw(method, endpoint, token, body, false, out, hdrs);
}

/* Opens a stream of kind (enum stream_kind) on target as send_raw()
 * sends a request, with the token unless it is NULL, and closes it again
 * once it is open or refused. Fills out (freed by the caller) with the
 * answer of a refusal (status, Content-Type, body), *opened with whether
 * it became a stream, and *hdrs with the header lines the judge looks at
 * (a new string). Returns the status, 0 when there was no answer. */
static long send_stream(int kind, const char *target, const char *token,
			struct http_reply *out, char **hdrs, bool *opened)
{
	struct text path = { NULL, 0, 0 }, auth = { NULL, 0, 0 };
	struct text block = { NULL, 0, 0 };
	const char *headers[2] = { NULL, NULL };
	const char *body;
	char value[sizeof(out->content_type)];
	struct stream *s;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	*opened = false;
	text_printf(&path, "/%s", target);
	if (token != NULL) {
		text_printf(&auth, "Authorization: Bearer %s", token);
		headers[0] = auth.p;
	}
	s = stream_open((enum stream_kind)kind, "127.0.0.1", the_stack.port,
			path.p, headers, STREAM_WAIT_MS);
	free(path.p);
	free(auth.p);
	text_add(&block, "", 0);
	if (s == NULL) {
		snprintf(out->error, sizeof(out->error), "no connection");
		*hdrs = block.p;
		return 0;
	}
	out->status = stream_status(s);
	*opened = stream_is_open(s);
	if (!*opened && out->status != 0)
		stream_wait_end(s, STREAM_WAIT_MS);
	body = stream_body(s, &len);
	out->body = strndup(body != NULL ? body : "", len);
	if (out->body == NULL)
		abort();
	out->body_len = strlen(out->body);
	out->json = json_loads(out->body, 0, NULL);
	if (stream_header(s, "Content-Type", value, sizeof(value)))
		snprintf(out->content_type, sizeof(out->content_type), "%s",
			 value);
	if (stream_header(s, "WWW-Authenticate", value, sizeof(value)))
		text_printf(&block, "WWW-Authenticate: %s\r\n", value);
	if (out->status == 0)
		snprintf(out->error, sizeof(out->error), "%s",
			 stream_error(s));
	stream_free(s);
	*hdrs = block.p;
	return out->status;
}

/* A string field of a JSON object answer, or NULL. Borrowed from r. */
static const char *field(const struct http_reply *r, const char *name)
{
	json_t *v = json_is_object(r->json) ? json_object_get(r->json, name)
					    : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Runs sql on the persistent psql and copies its one line of output into
 * out; false (with the statement on stderr) when it fails. */
static bool sql(const char *statement, char *out, size_t outsz)
{
	char ignored[64];

	if (out == NULL) {
		out = ignored;
		outsz = sizeof(ignored);
	}
	if (psql_query(&db, statement, out, outsz) != 0) {
		fprintf(stderr, "test_matrix: SQL failed: %.300s\n", statement);
		return false;
	}
	return true;
}

/* A new session of account w by auth/login: its token and id. */
static bool login(enum who w, char *token, size_t tokensz, char *session)
{
	struct http_reply r;
	char body[256], q[128];
	const char *t;
	bool ok;

	snprintf(body, sizeof(body), "{\"username\": \"%s\", \"password\": "
		 "\"" PASSWORD "\"}", fx.u[w].name);
	send_request("POST", "auth/login", NULL, body, &r, NULL);
	t = field(&r, "token");
	ok = r.status == 200 && t != NULL && strlen(t) < tokensz;
	if (ok)
		snprintf(token, tokensz, "%s", t);
	else
		fprintf(stderr, "test_matrix: login of %s: %ld %s\n",
			fx.u[w].name, r.status, r.body);
	http_reply_free(&r);
	/* Nothing else makes sessions meanwhile: the newest is this one. */
	snprintf(q, sizeof(q), "SELECT max(id) FROM sessions "
		 "WHERE user_id = %s", fx.u[w].id);
	return ok && sql(q, session, ID_LEN);
}

/* The owner's expired session: logged in, then expires_at moved into the
 * past. */
static bool make_expired(void)
{
	char q[160];

	if (!login(WHO_OWNER, fx.expired, sizeof(fx.expired),
		   fx.expired_session))
		return false;
	snprintf(q, sizeof(q), "UPDATE sessions SET expires_at = now() - "
		 "interval '1 second' WHERE id = %s", fx.expired_session);
	return sql(q, NULL, 0);
}

/* A well-formed token that was never issued: 43 base64url characters
 * for 32 random bytes (the last character's two low bits are padding,
 * zero). */
static void make_unknown_token(char *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789-_";
	unsigned char bytes[TOKEN_CHARS];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f != NULL ? fread(bytes, 1, sizeof(bytes), f) : 0;
	int i;

	if (f != NULL)
		fclose(f);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (i = 0; i < TOKEN_CHARS; i++) {
		unsigned v = (size_t)i < got ? bytes[i] : (unsigned)rand();

		out[i] = b64[i == TOKEN_CHARS - 1 ? v & 0x3c : v & 0x3f];
	}
	out[TOKEN_CHARS] = '\0';
}

/* ---- making the fixture and putting it back ---------------------------- */

/* POST body to endpoint with token (NULL: none), which must answer 201
 * with an "id", copied into id; and, when token_out is not NULL, a
 * "token", copied there (64 bytes). False, with the answer on stderr,
 * when it does not. */
static bool create(const char *endpoint, const char *token, const char *body,
		   char *id, char *token_out)
{
	struct http_reply r;
	const char *v, *t;
	bool ok;

	send_request("POST", endpoint, token, body, &r, NULL);
	v = field(&r, "id");
	t = token_out != NULL ? field(&r, "token") : "";
	ok = r.status == 201 && v != NULL && t != NULL;
	if (ok) {
		snprintf(id, ID_LEN, "%s", v);
		if (token_out != NULL)
			snprintf(token_out, 64, "%s", t);
	} else {
		fprintf(stderr, "test_matrix: %s %s: %ld %s\n", endpoint, body,
			r.status, r.body);
	}
	http_reply_free(&r);
	return ok;
}

/* Uploads body as name with token, which must answer 201 with an "id",
 * copied into id. False, with the answer on stderr, when it does not. */
static bool upload(const char *token, const char *name, const char *body,
		   char *id)
{
	struct http_reply r;
	char target[128];
	const char *v;
	bool ok;

	snprintf(target, sizeof(target), "files/upload?name=%s", name);
	send_raw("POST", target, token, body, true, &r, NULL);
	v = field(&r, "id");
	ok = r.status == 201 && v != NULL;
	if (ok)
		snprintf(id, ID_LEN, "%s", v);
	else
		fprintf(stderr, "test_matrix: upload of %s: %ld %s\n", name,
			r.status, r.body);
	http_reply_free(&r);
	return ok;
}

/* The accounts (signup), the other users (users/add), the group chat of
 * the owner with the member and member2 and one message of the owner, the
 * revoked, expired and unknown tokens, the owner made administrator; then
 * a copy of what a cell may change, in the schema matrix_fixture, for
 * fixture_reset(). */
static bool fixture_make(void)
{
	struct http_reply r;
	char body[512], q[1024], name[64], session[ID_LEN];
	int w;
	bool ok = true;

	for (w = 0; w < WHO__MAX && ok; w++) {
		struct user *u = &fx.u[w];
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "mx_%s", who_names[w]);
		uniq_name(u->name, sizeof(u->name), prefix);
		if (w < WHO_ACCOUNTS) {
			snprintf(body, sizeof(body), "{\"username\": \"%s\", "
				 "\"password\": \"" PASSWORD "\"}", u->name);
			ok = create("auth/signup", NULL, body, u->id,
				    u->token);
			snprintf(q, sizeof(q), "SELECT max(id) FROM sessions "
				 "WHERE user_id = %s", u->id);
			ok = ok && sql(q, u->session, sizeof(u->session));
		} else {
			snprintf(body, sizeof(body), "{\"username\": \"%s\"}",
				 u->name);
			ok = create("users/add", NULL, body, u->id, NULL);
		}
	}
	uniq_name(name, sizeof(name), "mx_chat");
	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"users\": "
		 "[\"%s\", \"%s\"]}", name, fx.u[WHO_MEMBER].id,
		 fx.u[WHO_MEMBER2].id);
	ok = ok && create("chats/add", fx.u[WHO_OWNER].token, body, fx.chat,
			  NULL);
	ok = ok && upload(fx.u[WHO_OWNER].token, "matrix.txt", FILE_BYTES,
			  fx.file) &&
	     upload(fx.u[WHO_OWNER].token, "matrix.png", IMAGE_BYTES,
		    fx.image);
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"text\": "
		 "\"the fixture's message\", \"file\": \"%s\"}", fx.chat,
		 fx.file);
	ok = ok && create("messages/add", fx.u[WHO_OWNER].token, body,
			  fx.message, NULL);
	if (ok && login(WHO_OWNER, fx.revoked, sizeof(fx.revoked), session)) {
		send_request("POST", "auth/logout", fx.revoked, "{}", &r, NULL);
		ok = r.status == 204;
		http_reply_free(&r);
	} else {
		ok = false;
	}
	ok = ok && make_expired();
	make_unknown_token(fx.unknown);
	if (ok) {
		snprintf(q, sizeof(q),
			 "UPDATE users SET is_admin = true WHERE id = %s; "
			 "CREATE SCHEMA matrix_fixture; "
			 "CREATE TABLE matrix_fixture.chat AS "
			 "SELECT * FROM chats WHERE id = %s; "
			 "CREATE TABLE matrix_fixture.members AS "
			 "SELECT * FROM chat_members WHERE chat_id = %s; "
			 "CREATE TABLE matrix_fixture.message AS "
			 "SELECT * FROM messages WHERE id = %s; "
			 "CREATE TABLE matrix_fixture.users AS "
			 "SELECT id, password_hash, is_admin, avatar_file_id "
			 "FROM users "
			 "WHERE id IN (%s, %s, %s, %s, %s, %s)",
			 fx.u[WHO_OWNER].id, fx.chat, fx.chat, fx.message,
			 fx.u[0].id, fx.u[1].id, fx.u[2].id, fx.u[3].id,
			 fx.u[4].id, fx.u[5].id);
		ok = sql(q, NULL, 0);
	}
	if (!ok)
		fprintf(stderr, "test_matrix: the fixture could not be made\n");
	return ok;
}

/* Puts the fixture back as fixture_make() left it: every private chat
 * gone (chats/direct, messages/send and messages/broadcast open them
 * anew), the group chat with its owner, members, read markers and one
 * message (as it was made: messages/edit and messages/delete change it),
 * the fixture users' passwords and roles, no failed logins.
 * Then makes sure of the sessions the columns send, logging in again
 * where a cell ended one. False with the reason on stderr. */
static bool fixture_reset(void)
{
	char q[2048], alive[64];
	int live[WHO_ACCOUNTS], expired, w;

	snprintf(q, sizeof(q),
		 "DELETE FROM messages m USING chats c WHERE m.chat_id = c.id "
		 "AND (c.type = 'private' OR (c.id = %s AND m.id <> %s)); "
		 "DELETE FROM chat_members m USING chats c "
		 "WHERE m.chat_id = c.id "
		 "AND (c.type = 'private' OR c.id = %s); "
		 "DELETE FROM chats WHERE type = 'private'; "
		 "DELETE FROM messages WHERE id = %s; "
		 "INSERT INTO messages OVERRIDING SYSTEM VALUE "
		 "SELECT * FROM matrix_fixture.message; "
		 "INSERT INTO chat_members "
		 "SELECT * FROM matrix_fixture.members; "
		 "UPDATE chats c SET name = s.name, owner_id = s.owner_id, "
		 "last_message_at = s.last_message_at, "
		 "last_message_id = s.last_message_id "
		 "FROM matrix_fixture.chat s WHERE c.id = s.id; "
		 "UPDATE users u SET password_hash = s.password_hash, "
		 "is_admin = s.is_admin, avatar_file_id = s.avatar_file_id "
		 "FROM matrix_fixture.users s "
		 "WHERE u.id = s.id; "
		 "DELETE FROM login_failures; "
		 "SELECT concat_ws(' ', "
		 "(SELECT count(*) FROM sessions WHERE id = %s "
		 "AND expires_at > now()), "
		 "(SELECT count(*) FROM sessions WHERE id = %s "
		 "AND expires_at > now()), "
		 "(SELECT count(*) FROM sessions WHERE id = %s "
		 "AND expires_at > now()), "
		 "(SELECT count(*) FROM sessions WHERE id = %s))",
		 fx.chat, fx.message, fx.chat, fx.message, fx.u[0].session,
		 fx.u[1].session, fx.u[2].session, fx.expired_session);
	if (!sql(q, alive, sizeof(alive)))
		return false;
	if (sscanf(alive, "%d %d %d %d", &live[0], &live[1], &live[2],
		   &expired) != 4) {
		fprintf(stderr, "test_matrix: the reset answered '%s'\n",
			alive);
		return false;
	}
	for (w = 0; w < WHO_ACCOUNTS; w++)
		if (live[w] == 0 && !login(w, fx.u[w].token,
					   sizeof(fx.u[w].token),
					   fx.u[w].session))
			return false;
	return expired == 1 || make_expired();
}

/*
 * One line that changes when a request writes anything: the rows of
 * users, chats, chat_members, messages, sessions, login_failures and
 * files, with every column a request may set, except the two that merely
 * using a session touches (users.last_seen_at, sessions.last_used_at);
 * then the files in the store and in its incoming directory. The counts
 * come first, for the reader of a failure. nginx removes an upload's body
 * from incoming when it has answered, not before: a body still there is
 * waited for, up to 2 s. False when psql fails.
 */
static bool fingerprint(char *out, size_t outsz)
{
	size_t len;
	int files, in;

	store_census(&the_stack, 2000, &files, &in);
	if (!sql("SELECT concat_ws(' ', "
		   "'users', (SELECT count(*) FROM users), "
		   "'chats', (SELECT count(*) FROM chats), "
		   "'members', (SELECT count(*) FROM chat_members), "
		   "'messages', (SELECT count(*) FROM messages), "
		   "'sessions', (SELECT count(*) FROM sessions), "
		   "'failures', (SELECT count(*) FROM login_failures), "
		   "'files', (SELECT count(*) FROM files), "
		   "md5(concat_ws('|', "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.id) FROM "
		   "(SELECT id, username, password_hash, email, is_admin, "
		   "avatar_file_id FROM users) t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.id) FROM "
		   "files t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.id) FROM "
		   "(SELECT id, name, type, owner_id, pair_low, pair_high, "
		   "members, created_at, last_message_at FROM chats) t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.chat_id, "
		   "t.user_id) FROM chat_members t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.id) FROM "
		   "messages t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.id) FROM "
		   "(SELECT id, user_id, token_id, created_at, expires_at "
		   "FROM sessions) t), "
		   "(SELECT string_agg(t::text, ';' ORDER BY t.user_id, t.at) "
		   "FROM login_failures t))))", out, outsz))
		return false;
	len = strlen(out);
	snprintf(out + len, outsz - len, " store %d incoming %d", files, in);
	return true;
}

/* ---- one cell ---------------------------------------------------------- */

/* The token that column col sends, or NULL. Borrowed from the fixture. */
static const char *column_token(const struct column *col)
{
	switch (col->token) {
	case TOK_NONE:
		return NULL;
	case TOK_MALFORMED:
		return MALFORMED_TOKEN;
	case TOK_UNKNOWN:
		return fx.unknown;
	case TOK_EXPIRED:
		return fx.expired;
	case TOK_REVOKED:
		return fx.revoked;
	case TOK_LIVE:
		break;
	}
	return fx.u[col->caller].token;
}

/* What column col sends, for a report: never a live token itself. */
static void describe_token(struct text *t, const struct column *col)
{
	switch (col->token) {
	case TOK_NONE:
		text_printf(t, "no token");
		break;
	case TOK_MALFORMED:
		text_printf(t, "Bearer " MALFORMED_TOKEN);
		break;
	case TOK_UNKNOWN:
		text_printf(t, "Bearer %s (never issued)", fx.unknown);
		break;
	case TOK_EXPIRED:
		text_printf(t, "Bearer <the %s's expired session>",
			    who_names[col->caller]);
		break;
	case TOK_REVOKED:
		text_printf(t, "Bearer <the %s's logged-out session>",
			    who_names[col->caller]);
		break;
	case TOK_LIVE:
		text_printf(t, "Bearer <a live session of the %s>",
			    who_names[col->caller]);
		break;
	}
}

/* Printable excerpt of s into t, without its final newline. */
static void excerpt(struct text *t, const char *s, size_t len)
{
	size_t i;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	for (i = 0; i < len && i < EXCERPT; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			text_add(t, s + i, 1);
		else
			text_printf(t, "\\x%02x", c);
	}
	if (i < len)
		text_printf(t, "... (%zu bytes)", len);
}

/* What is wrong with answer r (header block hdrs) to a cell that expects
 * want, appended to p. changed: the fingerprint moved; opened: the
 * request of a stream became one. */
static void judge(const struct request *rq, const struct cell *want,
		  const struct http_reply *r, const char *hdrs, bool changed,
		  bool opened, struct text *p)
{
	bool refused = want->status >= 400 || (r->status >= 400 &&
					       r->status < 500);
	const char *err = field(r, "error"), *msg = field(r, "message");
	char www[128];

	if (r->status == 0) {
		text_printf(p, "; no answer: %s", r->error);
		return;
	}
	if (r->status != want->status)
		text_printf(p, "; status %ld, expected %ld", r->status,
			    want->status);
	if (refused && changed)
		text_printf(p, "; refused, but the database changed");
	if (r->status != want->status)
		return;		/* the shape of another answer is no matter */
	if (want->code[0] != '\0') {
		if (!is_json_content_type(r->content_type))
			text_printf(p, "; Content-Type '%s', not JSON",
				    r->content_type);
		if (err == NULL || strcmp(err, want->code) != 0)
			text_printf(p, "; \"error\" is %s, expected \"%s\"",
				    err ? err : "missing", want->code);
		if (msg == NULL || msg[0] == '\0')
			text_printf(p, "; no \"message\"");
	} else if (want->status == 204) {
		if (r->body_len != 0)
			text_printf(p, "; a 204 with a body");
	} else if (rq->stream >= 0) {
		if (!opened)
			text_printf(p, "; the %s did not open",
				    stream_kind_name[rq->stream]);
	} else if (rq->bytes) {
		if (r->body_len != strlen(FILE_BYTES) ||
		    memcmp(r->body, FILE_BYTES, r->body_len) != 0)
			text_printf(p, "; the body is not @FILE@'s bytes");
		if (hdrs == NULL || !header_value(hdrs,
		    "X-Content-Type-Options", www, sizeof(www)) ||
		    strcmp(www, "nosniff") != 0)
			text_printf(p, "; no X-Content-Type-Options: nosniff");
	} else if (!is_json_content_type(r->content_type) ||
		   r->json == NULL) {
		text_printf(p, "; the body is not JSON");
	}
	if (want->status == 401 &&
	    (hdrs == NULL || !header_value(hdrs, "WWW-Authenticate", www,
					   sizeof(www)) ||
	     strncasecmp(www, "Bearer", 6) != 0 ||
	     (www[6] != '\0' && www[6] != ' ')))
		text_printf(p, "; no WWW-Authenticate: Bearer");
}

/* Asks cell c of rw, on a fixture put back first; appends what is wrong
 * to problems. False when something is. */
static bool check_cell(const struct row *rw, int c, struct text *problems)
{
	const struct column *col = &columns[c];
	const struct cell *want = &rw->cells[c];
	struct text body = { NULL, 0, 0 }, p = { NULL, 0, 0 };
	struct text target = { NULL, 0, 0 };
	struct http_reply r;
	char uniq[48], err[128], before[600], after[600], *hdrs = NULL;
	bool ok, changed = false, opened = false;

	memset(&r, 0, sizeof(r));
	uniq_name(uniq, sizeof(uniq), "mx");
	if (rw->req->body != NULL)
		expand(rw->req->body, col, uniq, &body, err, sizeof(err));
	expand(rw->req->target ? rw->req->target : rw->req->endpoint, col,
	       uniq, &target, err, sizeof(err));
	if (!fixture_reset() || !fingerprint(before, sizeof(before))) {
		text_printf(&p, "; the fixture could not be put back");
	} else {
		if (rw->req->stream >= 0)
			send_stream(rw->req->stream, target.p,
				    column_token(col), &r, &hdrs, &opened);
		else
			send_raw(rw->req->method, target.p, column_token(col),
				 body.p, rw->req->raw, &r, &hdrs);
		if (!fingerprint(after, sizeof(after)))
			text_printf(&p, "; the database fingerprint failed");
		else
			changed = strcmp(before, after) != 0;
		judge(rw->req, want, &r, hdrs, changed, opened, &p);
	}
	ok = p.len == 0;
	if (!ok) {
		text_printf(problems, "%s: column %s, expected %ld%s%s:\n  %s",
			    rw->name, col->name, want->status,
			    want->code[0] ? " " : "", want->code, p.p + 2);
		text_printf(problems, "\n  request: %s /%s, ",
			    rw->req->method, target.p);
		describe_token(problems, col);
		text_printf(problems, ", %s", body.p ? body.p : "no body");
		text_printf(problems, "\n  answer: %ld ", r.status);
		excerpt(problems, r.body ? r.body : "", r.body_len);
		if (changed && (want->status >= 400 || r.status >= 400))
			text_printf(problems, "\n  database before %s\n"
				    "           after  %s", before, after);
		text_add(problems, "\n", 1);
	}
	http_reply_free(&r);
	free(hdrs);
	free(body.p);
	free(target.p);
	free(p.p);
	return ok;
}

/* One cmocka test: every cell of one endpoint in one mode. */
static void run_row(void **state)
{
	const struct row *rw = *state;
	struct text problems = { NULL, 0, 0 };
	int c, wrong = 0, asked = 0;

	for (c = 0; c < COL__MAX; c++) {
		if (!rw->cells[c].applies) {
			cells_na++;
			continue;
		}
		asked++;
		cells_checked++;
		if (!check_cell(rw, c, &problems))
			wrong++;
	}
	cells_failed += wrong;
	if (wrong > 0) {
		print_error_lines(problems.p);
		free(problems.p);
		fail_msg("%s (%s:%d): %d of %d cells are not as the table "
			 "says", rw->name, table_path, rw->line, wrong, asked);
	}
}

/* Every route of src/routes.def has a row (in both modes: read_table
 * checks that), and every row is a route: ROUTE(chats_members_add) is
 * the endpoint chats/members/add. */
static void test_routes_covered(void **state)
{
	const char *srcdir = getenv("CHATD_SRCDIR");
	char path[PATH_MAX], line[256], name[64];
	bool used[MAX_REQUESTS] = { false };
	int i, missing = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/src/routes.def",
		 srcdir ? srcdir : ".");
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot read %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "ROUTE(%63[a-z0-9_])", name) != 1)
			continue;
		for (i = 0; i < nrequests; i++) {
			char flat[64];
			size_t k;

			snprintf(flat, sizeof(flat), "%.63s",
				 requests[i].endpoint);
			for (k = 0; flat[k] != '\0'; k++)
				if (flat[k] == '/')
					flat[k] = '_';
			if (strcmp(flat, name) == 0)
				break;
		}
		if (i < nrequests) {
			used[i] = true;
		} else {
			print_error("route %s has no row in %s\n", name,
				    table_path);
			missing++;
		}
	}
	fclose(f);
	for (i = 0; i < nrequests; i++)
		if (!used[i]) {
			print_error("%s:%d: %s is no route of %s\n", table_path,
				    requests[i].line, requests[i].endpoint,
				    path);
			missing++;
		}
	if (missing > 0)
		fail_msg("the matrix and src/routes.def disagree");
}

/* ---- the two modes ----------------------------------------------------- */

static void serve_args(enum mode m)
{
	char args[128];

	snprintf(args, sizeof(args), SERVE_ARGS "%s", mode_names[m]);
	setenv("CHATD_SERVE_ARGS", args, 1);
}

/* --auth open: a new stack, and the fixture in it. */
static int setup_open(void **state)
{
	(void)state;
	serve_args(MODE_OPEN);
	if (stack_start(&the_stack) != 0)
		return -1;
	if (psql_open(&the_stack, &db) != 0) {
		fprintf(stderr, "test_matrix: psql on the stack failed\n");
		return -1;
	}
	fixture_made = fixture_make();
	return fixture_made ? 0 : -1;
}

/* --auth required: the same stack and data, restarted. */
static int setup_required(void **state)
{
	(void)state;
	if (!fixture_made)
		return -1;
	psql_close(&db);
	serve_args(MODE_REQUIRED);
	if (stack_restart(&the_stack) != 0)
		return -1;
	if (psql_open(&the_stack, &db) != 0) {
		fprintf(stderr, "test_matrix: psql on the stack failed\n");
		return -1;
	}
	return 0;
}

int main(void)
{
	static int (*const setups[MODE__MAX])(void **) = {setup_open,
							  setup_required};
	const char *table = getenv("CHATD_MATRIX");
	const char *srcdir = getenv("CHATD_SRCDIR");
	const char *only = getenv("CHATD_MATRIX_ONLY");
	struct CMUnitTest *tests;
	int m, i, n, rc = 0, endpoints = 0;

	if (table != NULL && table[0] != '\0')
		snprintf(table_path, sizeof(table_path), "%s", table);
	else if (srcdir != NULL)
		snprintf(table_path, sizeof(table_path),
			 "%s/tests/matrix/matrix.txt", srcdir);
	else {
		fprintf(stderr, "test_matrix: set CHATD_SRCDIR (or "
			"CHATD_MATRIX)\n");
		return 1;
	}
	if (!read_table(table_path))
		return 1;
	for (i = 0; i < nrequests; i++)
		endpoints += only == NULL ||
			     fnmatch(only, requests[i].endpoint, 0) == 0;
	tests = calloc(MAX_REQUESTS + 1, sizeof(*tests));
	if (tests == NULL)
		abort();
	for (m = 0; m < MODE__MAX; m++) {
		n = 0;
		if (m == 0 && only == NULL) {
			tests[n].name = "routes covered";
			tests[n++].test_func = test_routes_covered;
		}
		for (i = 0; i < nrows[m]; i++) {
			if (only != NULL && fnmatch(only,
			    rows[m][i].req->endpoint, 0) != 0)
				continue;
			tests[n].name = rows[m][i].name;
			tests[n].test_func = run_row;
			tests[n++].initial_state = &rows[m][i];
		}
		rc |= _cmocka_run_group_tests(mode_names[m], tests, (size_t)n,
					      setups[m], NULL);
		memset(tests, 0, (MAX_REQUESTS + 1) * sizeof(*tests));
	}
	psql_close(&db);
	stack_destroy(&the_stack);
	printf("matrix: %d rows x %d columns x %d modes: %d cells checked, "
	       "%d not applicable", endpoints, COL__MAX, MODE__MAX,
	       cells_checked, cells_na);
	if (cells_failed > 0)
		printf("; %d of the cells checked are wrong", cells_failed);
	printf("\n");
	free(tests);
	for (i = 0; i < nrequests; i++) {
		free(requests[i].body);
		free(requests[i].target);
	}
	return rc != 0 || cells_failed != 0;
}
