/*
 * test_cases.c - the catalogue of tests/cases/ against the real stack.
 *
 * Every folder of the catalogue is one cmocka test named after it: its
 * `request` is sent byte for byte to nginx over a TCP socket, and the
 * response must be what its `expected` says.  Around every request the
 * database is fingerprinted, so a refused request that changed anything
 * fails.  The format of a case is described in tests/cases/README.
 *
 * Environment, besides the harness's (CHATD_BIN, CHATD_SRCDIR, ...):
 *   CHATD_CASES_DIR  the catalogue (default $CHATD_SRCDIR/tests/cases)
 *   CHATD_CASES      a shell pattern: run only the cases whose name matches
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* One line that changes when any row of the API's tables is added, removed
 * or changed in a way a request could cause (a message's text, edit time
 * and file included: messages/edit). */
#define FINGERPRINT_SQL \
	"SELECT concat_ws(' ', " \
	"(SELECT count(*) || '/' || coalesce(max(id), 0) FROM users), " \
	"(SELECT md5(coalesce(string_agg(id || '=' || username, ',' " \
	"ORDER BY id), '')) FROM users), " \
	"(SELECT count(*) || '/' || coalesce(max(id), 0) FROM chats), " \
	"(SELECT md5(coalesce(string_agg(id || '=' || name || '=' || " \
	"coalesce(last_message_at::text, '-') || '=' || type || '=' || " \
	"coalesce(owner_id, 0), ',' ORDER BY id), '')) FROM chats), " \
	"(SELECT md5(coalesce(string_agg(chat_id || ':' || user_id || ':' || " \
	"coalesce(last_read, 0), ',' ORDER BY chat_id, user_id), '')) " \
	"FROM chat_members), " \
	"(SELECT count(*) || '/' || coalesce(max(id), 0) FROM messages), " \
	"(SELECT md5(coalesce(string_agg(id || ':' || text || ':' || " \
	"coalesce(edited_at::text, '-') || ':' || coalesce(file_id, 0), ',' " \
	"ORDER BY id), '')) FROM messages), " \
	"(SELECT count(*) || '/' || coalesce(max(id), 0) FROM sessions), " \
	"(SELECT md5(coalesce(string_agg(id || ':' || is_admin || ':' || " \
	"coalesce(password_hash, '-') || ':' || " \
	"coalesce(avatar_file_id, 0), ',' ORDER BY id), '')) FROM users), " \
	"(SELECT md5(coalesce(string_agg(id || ':' || coalesce(file_id, 0), " \
	"',' ORDER BY id), '')) FROM messages), " \
	"(SELECT count(*) || '/' || coalesce(max(id), 0) FROM files), " \
	"(SELECT md5(coalesce(string_agg(f::text, ',' ORDER BY f.id), '')) " \
	"FROM files f))"

#define MAX_HEADERS 8
#define MAX_CONTAINS 8
#define MAX_ITEMS 8
#define EXCERPT 200

/* A growing byte string; out of memory aborts, as in the harness. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const void *src, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
						       : sizeof(tmp) - 1);
}

/* Read a whole file into a new sbuf; false if it cannot be read. */
static bool read_file(const char *path, struct sbuf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_add(out, chunk, n);
	fclose(f);
	if (out->p == NULL)
		sb_add(out, "", 0);
	return true;
}

/* ---- the fixtures the placeholders name ---------------------------------- */

static struct {
	char user[ID_LEN], user2[ID_LEN], outsider[ID_LEN], chat[ID_LEN];
	char username[128], chatname[128];
	/* An account with a password and a live session: its id, token,
	 * and a chat of it and USER with one message. */
	char me[ID_LEN], token[64], mychat[ID_LEN];
	/* The messages of CHAT and MYCHAT. */
	char chatmsg[ID_LEN], mymsg[ID_LEN];
	/* A second account and its session. */
	char me2[ID_LEN], token2[64];
	/* A group chat owned by ME with USER and ME2, five messages (USER,
	 * ME2, ME, USER, ME2 keyed), ME's read marker on the second (ME2's),
	 * the first one's id; the private chat of ME and USER, with ME's
	 * keyed message then USER's; the private chat of ME2 and USER. */
	char mygroup[ID_LEN], mygroupread[ID_LEN], mygroupold[ID_LEN];
	char mydirect[ID_LEN], mykeyed[ID_LEN], mydirectmsg[ID_LEN];
	char direct2[ID_LEN];
	/* Uploads: ME's text file, image and image over 1 MiB; ME2's text
	 * file, ME2's image (ME2's avatar), and ME2's text file carried by
	 * ME2's message in FILECHAT, a group chat of ME2 (owner) and ME. */
	char myfile[ID_LEN], myimage[ID_LEN], mybigimage[ID_LEN];
	char file2[ID_LEN], image2[ID_LEN], sharedfile[ID_LEN];
	char filechat[ID_LEN];
} fx;

static struct psql_session db;
static char cases_dir[PATH_MAX];

/* Per case: everything a placeholder may stand for. */
struct vars {
	char uniq[16];
	const struct sbuf *gen;	/* NULL when the case has no `gen` */
};

/* A fresh 12-character [0-9a-z] string. */
static void make_uniq(char *buf, size_t n)
{
	static unsigned long counter;
	unsigned long salt = ((unsigned long)getpid() ^
			      (unsigned long)time(NULL)) & 0xfffffUL;

	snprintf(buf, n, "q%05lx%06lx", salt, ++counter & 0xffffffUL);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Append src[0..n) to out with the placeholders replaced.  @LEN@ is kept
 * as it is (the caller fills it in once the body is known).  Text between
 * two '@' that is not a placeholder is copied unchanged.  False with a
 * message in err when an @X:...@ holds something other than hex pairs or
 * @GEN@ is used without a gen file.
 */
static bool expand(const char *src, size_t n, const struct vars *v,
		   struct sbuf *out, char *err, size_t errsz)
{
	size_t i = 0;

	while (i < n) {
		const char *at = memchr(src + i, '@', n - i);
		const char *end;
		size_t nl;

		if (at == NULL) {
			sb_add(out, src + i, n - i);
			break;
		}
		sb_add(out, src + i, (size_t)(at - (src + i)));
		i = (size_t)(at - src);
		end = memchr(at + 1, '@', n - i - 1);
		nl = end != NULL ? (size_t)(end - at - 1) : 0;
#define IS(name) (nl == sizeof(name) - 1 && memcmp(at + 1, name, nl) == 0)
		if (end == NULL) {
			sb_add(out, at, 1);
			i++;
			continue;
		}
		if (IS("USER"))
			sb_str(out, fx.user);
		else if (IS("USER2"))
			sb_str(out, fx.user2);
		else if (IS("OUTSIDER"))
			sb_str(out, fx.outsider);
		else if (IS("CHAT"))
			sb_str(out, fx.chat);
		else if (IS("USERNAME"))
			sb_str(out, fx.username);
		else if (IS("CHATNAME"))
			sb_str(out, fx.chatname);
		else if (IS("ME"))
			sb_str(out, fx.me);
		else if (IS("TOKEN"))
			sb_str(out, fx.token);
		else if (IS("MYCHAT"))
			sb_str(out, fx.mychat);
		else if (IS("CHATMSG"))
			sb_str(out, fx.chatmsg);
		else if (IS("MYMSG"))
			sb_str(out, fx.mymsg);
		else if (IS("ME2"))
			sb_str(out, fx.me2);
		else if (IS("TOKEN2"))
			sb_str(out, fx.token2);
		else if (IS("MYGROUP"))
			sb_str(out, fx.mygroup);
		else if (IS("MYGROUPREAD"))
			sb_str(out, fx.mygroupread);
		else if (IS("MYGROUPOLD"))
			sb_str(out, fx.mygroupold);
		else if (IS("MYDIRECT"))
			sb_str(out, fx.mydirect);
		else if (IS("MYKEYED"))
			sb_str(out, fx.mykeyed);
		else if (IS("MYDIRECTMSG"))
			sb_str(out, fx.mydirectmsg);
		else if (IS("DIRECT2"))
			sb_str(out, fx.direct2);
		else if (IS("MYFILE"))
			sb_str(out, fx.myfile);
		else if (IS("MYIMAGE"))
			sb_str(out, fx.myimage);
		else if (IS("MYBIGIMAGE"))
			sb_str(out, fx.mybigimage);
		else if (IS("FILE2"))
			sb_str(out, fx.file2);
		else if (IS("IMAGE2"))
			sb_str(out, fx.image2);
		else if (IS("SHAREDFILE"))
			sb_str(out, fx.sharedfile);
		else if (IS("FILECHAT"))
			sb_str(out, fx.filechat);
		else if (IS("UNIQ"))
			sb_str(out, v->uniq);
		else if (IS("CRLF"))
			sb_str(out, "\r\n");
		else if (IS("LEN"))
			sb_str(out, "@LEN@");
		else if (IS("GEN")) {
			if (v->gen == NULL) {
				snprintf(err, errsz, "@GEN@ used but the case "
					 "has no gen file");
				return false;
			}
			sb_add(out, v->gen->p, v->gen->len);
		} else if (nl >= 2 && at[1] == 'X' && at[2] == ':') {
			size_t k;

			if (nl == 2 || (nl - 2) % 2 != 0) {
				snprintf(err, errsz, "@X:...@ needs hex pairs");
				return false;
			}
			for (k = 3; k < nl + 1; k += 2) {
				int hi = hexval(at[k]), lo = hexval(at[k + 1]);
				unsigned char byte;

				if (hi < 0 || lo < 0) {
					snprintf(err, errsz, "bad hex in "
						 "@X:%.*s@", (int)nl - 2,
						 at + 3);
					return false;
				}
				byte = (unsigned char)(hi * 16 + lo);
				sb_add(out, &byte, 1);
			}
		} else {
			/* Not a placeholder: the '@' is literal text. */
			sb_add(out, at, 1);
			i++;
			continue;
		}
#undef IS
		i = (size_t)(end - src) + 1;
	}
	return true;
}

/* ---- gen: the value of @GEN@ ------------------------------------------ */

/* Replace b by its chunked transfer coding in chunks of `size` bytes. */
static void to_chunked(struct sbuf *b, size_t size)
{
	struct sbuf c = { NULL, 0, 0 };
	size_t off;

	for (off = 0; off < b->len; off += size) {
		size_t n = b->len - off < size ? b->len - off : size;

		sb_printf(&c, "%zx\r\n", n);
		sb_add(&c, b->p + off, n);
		sb_str(&c, "\r\n");
	}
	sb_str(&c, "0\r\n\r\n");
	free(b->p);
	*b = c;
}

/* A decimal count at *p followed by one space; advances *p past it. */
static bool take_count(const char **p, unsigned long long *out)
{
	char *endp;

	errno = 0;
	*out = strtoull(*p, &endp, 10);
	if (endp == *p || errno != 0 || *endp != ' ')
		return false;
	*p = endp + 1;
	return true;
}

/* Apply one gen directive, line[0..len) (not empty, not a comment), to
 * out.  False with a message in err when it cannot be read or applied. */
static bool gen_line(const char *line, size_t len, const struct vars *v,
		     struct sbuf *out, char *err, size_t errsz)
{
	const char *arg = memchr(line, ' ', len), *p;
	size_t wl = arg != NULL ? (size_t)(arg - line) : len;
	unsigned long long count = 0, start = 0, k;
	struct sbuf text = { NULL, 0, 0 };
	bool ok;

#define WORD(w) (wl == sizeof(w) - 1 && memcmp(line, w, wl) == 0)
	p = arg != NULL ? arg + 1 : line + len;
	if (WORD("chunked")) {
		if (sscanf(p, "%llu", &count) != 1 || count == 0)
			return false;
		to_chunked(out, (size_t)count);
		return true;
	}
	if (WORD("repeat") || WORD("pad"))
		ok = take_count(&p, &count);
	else if (WORD("seq"))
		ok = take_count(&p, &count) && take_count(&p, &start);
	else
		ok = WORD("text");
	if (!ok)
		return false;
	sb_add(&text, "", 0);
	if (!expand(p, (size_t)(line + len - p), v, &text, err, errsz)) {
		free(text.p);
		return false;
	}
	if (WORD("text")) {
		sb_add(out, text.p, text.len);
	} else if (WORD("repeat")) {
		for (k = 0; k < count; k++)
			sb_add(out, text.p, text.len);
	} else if (WORD("pad")) {
		while (out->len < count && text.len > 0)
			sb_add(out, text.p, text.len);
		if (out->len != count) {
			snprintf(err, errsz, "pad cannot reach exactly %llu "
				 "bytes", count);
			ok = false;
		}
	} else {	/* seq */
		for (k = 0; k < count; k++) {
			size_t j;

			for (j = 0; j < text.len; j++) {
				if (text.p[j] == '#')
					sb_printf(out, "%llu", start + k);
				else
					sb_add(out, text.p + j, 1);
			}
		}
	}
#undef WORD
	free(text.p);
	return ok;
}

/* Interpret the lines of a gen file (see tests/cases/README) into out. */
static bool run_gen(const struct sbuf *spec, const struct vars *v,
		    struct sbuf *out, char *err, size_t errsz)
{
	const char *line = spec->p, *stop = spec->p + spec->len;
	struct vars plain = *v;
	int lineno = 0;

	plain.gen = NULL;	/* a gen file cannot use @GEN@ itself */
	memset(out, 0, sizeof(*out));
	sb_add(out, "", 0);
	for (; line < stop; line = line + strcspn(line, "\n") + 1) {
		size_t len = strcspn(line, "\n");
		char why[256] = "";

		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		if (!gen_line(line, len, &plain, out, why, sizeof(why))) {
			snprintf(err, errsz, "gen line %d: %s%s'%.*s'", lineno,
				 why, why[0] ? " in " : "cannot read ",
				 (int)(len > 60 ? 60 : len), line);
			return false;
		}
	}
	return true;
}

/* ---- expected ------------------------------------------------------------ */

enum db_rule { DB_DEFAULT, DB_CHANGED, DB_UNCHANGED, DB_ANY };

struct expect {
	long status;
	char code[64];			/* "" when no error body is expected */
	struct {
		char name[64];
		char value[256];	/* "" means: present, any value */
	} hdr[MAX_HEADERS];
	int nhdr;
	char contains[MAX_CONTAINS][256];
	int ncontains;
	enum db_rule db;
	json_t *json;			/* "= JSON": the body, exactly (owned) */
	json_t *subset;			/* "> JSON": fields the body object
					   has, with these values (owned) */
	json_t *items[MAX_ITEMS];	/* ">> JSON": the body is an array with
					   an item that has these fields and
					   values (owned) */
	int nitems;
	char *bytes;			/* "bytes TEXT" or "bytes-hex HEX": the
					   body is exactly these bytes, not
					   JSON (owned); NULL: JSON */
	size_t bytes_len;
};

/* The bytes of "bytes TEXT" (hex false) or "bytes-hex HEX" into e. */
static bool expect_bytes(struct expect *e, const char *arg, bool hex)
{
	size_t n = strlen(arg), i;

	free(e->bytes);
	e->bytes = malloc(n + 1);
	if (e->bytes == NULL)
		abort();
	if (!hex) {
		memcpy(e->bytes, arg, n + 1);
		e->bytes_len = n;
		return true;
	}
	if (n % 2 != 0)
		return false;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(arg[i]), lo = hexval(arg[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		e->bytes[i / 2] = (char)(hi * 16 + lo);
	}
	e->bytes_len = n / 2;
	return true;
}

static bool parse_expected(const struct sbuf *f, struct expect *e, char *err,
			   size_t errsz)
{
	char *copy = strndup(f->p, f->len), *save = NULL, *line;
	bool have_status = false, ok = true;

	if (copy == NULL)
		abort();
	memset(e, 0, sizeof(*e));
	for (line = strtok_r(copy, "\n", &save); line != NULL && ok;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		char *colon;

		while (len > 0 && (line[len - 1] == '\r' ||
				   line[len - 1] == ' '))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (!have_status) {
			char code[64] = "";
			int n = sscanf(line, "%ld %63s", &e->status, code);

			if (n < 1 || e->status < 100 || e->status > 599) {
				snprintf(err, errsz, "expected: first line "
					 "must be 'STATUS [code]': '%s'", line);
				ok = false;
			}
			snprintf(e->code, sizeof(e->code), "%s", code);
			have_status = true;
		} else if (line[0] == '~' && line[1] == ' ') {
			if (e->ncontains == MAX_CONTAINS) {
				snprintf(err, errsz, "expected: too many '~'");
				ok = false;
			} else {
				snprintf(e->contains[e->ncontains++], 256,
					 "%s", line + 2);
			}
		} else if (line[0] == '=' && line[1] == ' ') {
			json_decref(e->json);
			e->json = json_loads(line + 2, JSON_REJECT_DUPLICATES,
					     NULL);
			if (e->json == NULL) {
				snprintf(err, errsz, "expected: bad JSON '%s'",
					 line);
				ok = false;
			}
		} else if (line[0] == '>' && line[1] == '>' &&
			   line[2] == ' ') {
			json_t *it = json_loads(line + 3,
						JSON_REJECT_DUPLICATES, NULL);

			if (!json_is_object(it) || e->nitems == MAX_ITEMS) {
				snprintf(err, errsz, "expected: bad or too many "
					 "'>>' '%s'", line);
				json_decref(it);
				ok = false;
			} else {
				e->items[e->nitems++] = it;
			}
		} else if (line[0] == '>' && line[1] == ' ') {
			json_decref(e->subset);
			e->subset = json_loads(line + 2, JSON_REJECT_DUPLICATES,
					       NULL);
			if (!json_is_object(e->subset)) {
				snprintf(err, errsz, "expected: bad '>' object "
					 "'%s'", line);
				ok = false;
			}
		} else if (strncmp(line, "bytes ", 6) == 0 ||
			   strcmp(line, "bytes") == 0) {
			expect_bytes(e, line[5] ? line + 6 : "", false);
		} else if (strncmp(line, "bytes-hex ", 10) == 0) {
			if (!expect_bytes(e, line + 10, true)) {
				snprintf(err, errsz, "expected: bad hex in "
					 "'%s'", line);
				ok = false;
			}
		} else if (strncmp(line, "db:", 3) == 0) {
			const char *w = line + 3 + strspn(line + 3, " ");

			if (strcmp(w, "changed") == 0)
				e->db = DB_CHANGED;
			else if (strcmp(w, "unchanged") == 0)
				e->db = DB_UNCHANGED;
			else if (strcmp(w, "any") == 0)
				e->db = DB_ANY;
			else {
				snprintf(err, errsz, "expected: bad '%s'", line);
				ok = false;
			}
		} else if ((colon = strchr(line, ':')) != NULL &&
			   e->nhdr < MAX_HEADERS) {
			const char *val = colon + 1 + strspn(colon + 1, " \t");

			*colon = '\0';
			snprintf(e->hdr[e->nhdr].name, 64, "%s", line);
			snprintf(e->hdr[e->nhdr].value, 256, "%s", val);
			e->nhdr++;
		} else {
			snprintf(err, errsz, "expected: cannot read '%s'", line);
			ok = false;
		}
	}
	if (ok && !have_status) {
		snprintf(err, errsz, "expected: no status line");
		ok = false;
	}
	free(copy);
	return ok;
}

/* ---- the fingerprint ----------------------------------------------------- */

/* FINGERPRINT_SQL's line, then the number of files in the store and in
 * its incoming directory. nginx removes an upload's body from incoming
 * once it has answered, not before: a body still there is waited for, up
 * to 2 s. 0 on success. */
static int fingerprint(char *out, size_t outsz)
{
	size_t len;
	int files, in;

	store_census(&the_stack, 2000, &files, &in);
	if (psql_query(&db, FINGERPRINT_SQL, out, outsz) != 0)
		return -1;
	len = strlen(out);
	snprintf(out + len, outsz - len, " store %d incoming %d", files, in);
	return 0;
}

/* ---- building the request ------------------------------------------------ */

/*
 * The request of a case, ready to send: the head's lines end in CRLF, the
 * final newline of the file is dropped, placeholders are replaced and
 * @LEN@ becomes the body's length.  *is_head is set for a HEAD request.
 */
static bool build_request(const struct sbuf *file, const struct vars *v,
			  struct sbuf *out, bool *is_head, char *err,
			  size_t errsz)
{
	struct sbuf head = { NULL, 0, 0 }, body = { NULL, 0, 0 };
	const char *p = file->p, *stop = file->p + file->len, *at;
	size_t blen;
	bool ok = true;
	char num[32];

	memset(out, 0, sizeof(*out));
	*is_head = file->len >= 5 && memcmp(file->p, "HEAD ", 5) == 0;
	/* The head: every line up to and including the first empty one. */
	for (;;) {
		const char *eol = memchr(p, '\n', (size_t)(stop - p));
		size_t len;

		if (eol == NULL) {
			snprintf(err, errsz, "request: no empty line ends "
				 "the head");
			ok = false;
			break;
		}
		len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		ok = expand(p, len, v, &head, err, errsz);
		sb_str(&head, "\r\n");
		p = eol + 1;
		if (len == 0 || !ok)
			break;
	}
	if (ok) {
		blen = (size_t)(stop - p);
		if (blen > 0 && p[blen - 1] == '\n') {
			blen--;
			if (blen > 0 && p[blen - 1] == '\r')
				blen--;
		}
		sb_add(&body, "", 0);
		ok = expand(p, blen, v, &body, err, errsz);
	}
	if (ok) {
		/* @LEN@ is only ever in the head. */
		snprintf(num, sizeof(num), "%zu", body.len);
		p = head.p;
		while ((at = strstr(p, "@LEN@")) != NULL) {
			sb_add(out, p, (size_t)(at - p));
			sb_str(out, num);
			p = at + 5;
		}
		sb_str(out, p);
		sb_add(out, body.p, body.len);
	}
	free(head.p);
	free(body.p);
	return ok;
}

/* ---- running one case ------------------------------------------------------ */

struct tcase {
	char name[256];
	char dir[PATH_MAX + 300];
};

/* Printable excerpt of data into b. */
/* Every occurrence of secret (a live token) in s overwritten with '*':
 * a failure report quotes requests, and a token is a secret in a test's
 * log too. */
static void hide(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (n == 0)
		return;
	while ((p = strstr(s, secret)) != NULL)
		memset(p, '*', n);
}

static void excerpt(struct sbuf *b, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < EXCERPT; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r')
			sb_str(b, "\\r");
		else if (c == '\n')
			sb_str(b, "\\n");
		else if (c >= 0x20 && c < 0x7f)
			sb_add(b, &data[i], 1);
		else
			sb_printf(b, "\\x%02x", c);
	}
	if (i < len)
		sb_printf(b, "... (%zu bytes)", len);
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* Append the last bytes the servers logged since the given offsets. */
static void server_logs(struct sbuf *b, const long *from)
{
	static const char *const names[] = { "chatd.log", "nginx-error.log" };
	size_t i;

	for (i = 0; i < 2; i++) {
		char path[PATH_MAX], *s;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", the_stack.dir, names[i]);
		s = file_since(path, from[i]);
		len = strlen(s);
		sb_printf(b, "\n  %s during the case:\n", names[i]);
		sb_str(b, len > 2000 ? s + len - 2000 : s);
		free(s);
	}
}

/* The checks of a response against expected; problems are appended to p. */
static void check_response(const struct expect *e, const struct http_reply *r,
			   const char *hdrs, bool is_head, struct sbuf *p)
{
	const char *err, *msg;
	int i;

	if (r->status != e->status)
		sb_printf(p, "\n  status %ld, expected %ld", r->status,
			  e->status);
	for (i = 0; i < e->nhdr; i++) {
		char got[256];

		if (hdrs == NULL || !header_value(hdrs, e->hdr[i].name, got,
						  sizeof(got)))
			sb_printf(p, "\n  header %s is missing", e->hdr[i].name);
		else if (e->hdr[i].value[0] != '\0' &&
			 strcmp(got, e->hdr[i].value) != 0)
			sb_printf(p, "\n  header %s is '%s', expected '%s'",
				  e->hdr[i].name, got, e->hdr[i].value);
	}
	if (is_head || r->status == 0)
		return;
	if (e->bytes != NULL) {
		if (r->body_len != e->bytes_len ||
		    memcmp(r->body, e->bytes, r->body_len) != 0)
			sb_printf(p, "\n  the body is not the %zu bytes "
				  "expected", e->bytes_len);
		return;
	}
	if (e->status == 204 && e->code[0] == '\0') {
		if (r->body_len != 0)
			sb_str(p, "\n  a 204 must have no body");
		return;
	}
	if (!is_json_content_type(r->content_type))
		sb_printf(p, "\n  Content-Type is '%s', expected "
			  "application/json", r->content_type);
	if (e->code[0] != '\0') {
		err = json_string_value(json_object_get(r->json, "error"));
		msg = json_string_value(json_object_get(r->json, "message"));
		if (!json_is_object(r->json))
			sb_str(p, "\n  the body is not a JSON object");
		else if (err == NULL || strcmp(err, e->code) != 0)
			sb_printf(p, "\n  \"error\" is %s%s%s, expected \"%s\"",
				  err ? "\"" : "", err ? err : "missing",
				  err ? "\"" : "", e->code);
		if (json_is_object(r->json) && (msg == NULL || msg[0] == '\0'))
			sb_str(p, "\n  \"message\" is missing or empty");
		for (i = 0; i < e->ncontains && msg != NULL; i++)
			if (!contains_ci(msg, e->contains[i]))
				sb_printf(p, "\n  \"message\" does not mention "
					  "'%s'", e->contains[i]);
		return;
	}
	if (e->status == 201) {
		const char *id = json_string_value(json_object_get(r->json,
								   "id"));

		if (!json_is_object(r->json) || !is_canonical_id(id))
			sb_str(p, "\n  expected a body {\"id\": \"<id>\"}");
	}
	if (e->json != NULL) {
		if (r->json == NULL || !json_equal(r->json, e->json))
			sb_str(p, "\n  the body is not the expected JSON");
	} else if (e->subset != NULL) {
		const char *k;
		json_t *v;

		if (!json_is_object(r->json))
			sb_str(p, "\n  expected a JSON object");
		else
			json_object_foreach(e->subset, k, v)
				if (!json_equal(json_object_get(r->json, k), v))
					sb_printf(p, "\n  \"%s\" is not as "
						  "expected", k);
	} else if (e->nitems > 0) {
		for (i = 0; i < e->nitems; i++) {
			size_t j;
			json_t *item;
			bool found = false;

			json_array_foreach(r->json, j, item) {
				const char *k;
				json_t *v;
				bool all = json_is_object(item);

				json_object_foreach(e->items[i], k, v)
					all = all && json_equal(
						json_object_get(item, k), v);
				found = found || all;
			}
			if (!found)
				sb_printf(p, "\n  no item of the array has "
					  "the fields of '>>' line %d", i + 1);
		}
	} else if (e->status == 200 && !json_is_array(r->json)) {
		sb_str(p, "\n  expected a JSON array");
	}
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	struct sbuf req_file, exp_file, gen_file, gen = { NULL, 0, 0 };
	struct sbuf req = { NULL, 0, 0 }, problems = { NULL, 0, 0 };
	struct sbuf exp = { NULL, 0, 0 };
	struct http_reply r;
	struct expect e = { .status = 0 };
	struct vars v;
	char path[PATH_MAX + 320], err[512] = "", before[640], after[640];
	char *hdrs = NULL;
	long logs_at[2];
	bool is_head = false, have_gen, ok;
	enum db_rule rule;
	int k;

	memset(&r, 0, sizeof(r));
	make_uniq(v.uniq, sizeof(v.uniq));
	v.gen = NULL;
	snprintf(path, sizeof(path), "%s/request", c->dir);
	ok = read_file(path, &req_file);
	snprintf(path, sizeof(path), "%s/expected", c->dir);
	ok = read_file(path, &exp_file) && ok;
	snprintf(path, sizeof(path), "%s/gen", c->dir);
	have_gen = read_file(path, &gen_file);
	if (!ok)
		snprintf(err, sizeof(err), "the case needs the files request "
			 "and expected");
	if (ok && have_gen) {
		ok = run_gen(&gen_file, &v, &gen, err, sizeof(err));
		v.gen = &gen;
	}
	/* The placeholders of `expected` are those of the request (the same
	 * @UNIQ@), so that an answer can be checked for a fixture's id. */
	if (ok) {
		sb_add(&exp, "", 0);
		ok = expand(exp_file.p, exp_file.len, &v, &exp, err,
			    sizeof(err)) &&
		     parse_expected(&exp, &e, err, sizeof(err));
	}
	if (ok)
		ok = build_request(&req_file, &v, &req, &is_head, err,
				   sizeof(err));
	if (ok && fingerprint(before, sizeof(before)) != 0) {
		snprintf(err, sizeof(err), "the database fingerprint failed");
		ok = false;
	}
	if (ok) {
		snprintf(path, sizeof(path), "%s/chatd.log", the_stack.dir);
		logs_at[0] = file_size(path);
		snprintf(path, sizeof(path), "%s/nginx-error.log",
			 the_stack.dir);
		logs_at[1] = file_size(path);
		http_raw(&the_stack, req.p, req.len, is_head, &r, &hdrs);
		if (fingerprint(after, sizeof(after)) != 0)
			sb_str(&problems, "\n  the database fingerprint failed "
			       "after the request");
		else {
			rule = e.db;
			if (rule == DB_DEFAULT)
				rule = e.status == 201 ? DB_CHANGED
						       : DB_UNCHANGED;
			if (rule == DB_UNCHANGED && strcmp(before, after) != 0)
				sb_printf(&problems, "\n  the database changed:"
					  "\n    before %s\n    after  %s",
					  before, after);
			if (rule == DB_CHANGED && strcmp(before, after) == 0)
				sb_str(&problems, "\n  the database did not "
				       "change");
		}
		if (r.status == 0)
			sb_printf(&problems, "\n  no response: %s", r.error);
		check_response(&e, &r, hdrs, is_head, &problems);
	}
	if (!ok)
		sb_printf(&problems, "\n  bad case: %s", err);
	if (problems.len > 0) {
		struct sbuf m = { NULL, 0, 0 };

		sb_printf(&m, "case %s:", c->name);
		sb_add(&m, problems.p, problems.len);
		if (req.len > 0) {
			sb_str(&m, "\n  request: ");
			excerpt(&m, req.p, req.len);
		}
		if (r.status != 0 || r.body_len > 0) {
			sb_printf(&m, "\n  got %ld, Content-Type '%s', body: ",
				  r.status, r.content_type);
			excerpt(&m, r.body, r.body_len);
		}
		if (ok && (r.status == 0 || r.status >= 500))
			server_logs(&m, logs_at);
		hide(m.p, fx.token);
		hide(m.p, fx.token2);
		print_error_lines(m.p);
		free(m.p);
	}
	http_reply_free(&r);
	json_decref(e.json);
	json_decref(e.subset);
	free(e.bytes);
	for (k = 0; k < e.nitems; k++)
		json_decref(e.items[k]);
	free(exp.p);
	free(hdrs);
	free(req_file.p);
	free(exp_file.p);
	if (have_gen)
		free(gen_file.p);
	free(gen.p);
	free(req.p);
	if (problems.len > 0) {
		free(problems.p);
		snprintf(path, sizeof(path), "%s/expected", c->dir);
		_fail(path, 1);
	}
}

/* ---- the catalogue and its stack ------------------------------------------ */

/* POST req (stolen) to path as the session token (none when NULL);
 * returns the status, and copies the answer's "id" into id_out (ID_LEN
 * bytes) when it has one and id_out is not NULL. */
static long post_as(const char *path, const char *token, json_t *req,
		    char *id_out)
{
	struct http_reply r;
	char hdr[128];
	const char *id;
	long st;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
		 token != NULL ? token : "");
	st = http_post_json(path, req, token != NULL ? hdr : NULL, &r);
	id = r.json ? json_string_value(json_object_get(r.json, "id")) : NULL;
	if (id_out != NULL && id != NULL)
		snprintf(id_out, ID_LEN, "%s", id);
	http_reply_free(&r);
	return st;
}

/* A new account with a password: its id and a live session's token. */
static int signup(const char *prefix, char *id_out, char *token_out,
		  size_t token_size)
{
	char name[128];
	struct http_reply r;
	json_t *v;

	uniq_name(name, sizeof(name), prefix);
	http_post_json("/auth/signup", json_pack("{s:s, s:s}", "username", name,
		       "password", "case password"), NULL, &r);
	v = r.json ? json_object_get(r.json, "token") : NULL;
	if (r.status != 201 || !json_is_string(v)) {
		fprintf(stderr, "test_cases: cannot sign the fixture %s up\n",
			prefix);
		http_reply_free(&r);
		return -1;
	}
	snprintf(token_out, token_size, "%s", json_string_value(v));
	snprintf(id_out, ID_LEN, "%s",
		 json_string_value(json_object_get(r.json, "id")));
	http_reply_free(&r);
	return 0;
}

/* The chats of the accounts: @MYGROUP@ (owned by @ME@, with @USER@ and
 * @ME2@; messages by USER, ME2, ME, USER, and ME2's with Idempotency-Key
 * "case-keyed-2" and text "keyed"; ME has read up to ME2's first),
 * @MYDIRECT@ (private, ME and USER: ME's message with Idempotency-Key
 * "case-keyed" and text "keyed", then USER's) and @DIRECT2@ (private,
 * ME2 and USER, no message). */
static int membership_setup(void)
{
	char chatname[128], scratch[ID_LEN];

	uniq_name(chatname, sizeof(chatname), "case_mygroup");
	if (post_as("/chats/add", fx.token, json_pack("{s:s, s:[s,s]}",
		    "name", chatname, "users", fx.user, fx.me2),
		    fx.mygroup) != 201 ||
	    api_message_add(fx.mygroup, fx.user, "g1", NULL,
			    fx.mygroupold) != 201 ||
	    api_message_add(fx.mygroup, fx.me2, "g2", NULL,
			    fx.mygroupread) != 201 ||
	    api_message_add(fx.mygroup, fx.me, "g3", NULL, scratch) != 201 ||
	    api_message_add(fx.mygroup, fx.user, "g4", NULL, scratch) != 201 ||
	    api_message_add(fx.mygroup, fx.me2, "keyed", "case-keyed-2",
			    scratch) != 201 ||
	    post_as("/chats/read", fx.token, json_pack("{s:s, s:s}", "chat",
		    fx.mygroup, "message", fx.mygroupread), NULL) != 204) {
		fprintf(stderr, "test_cases: cannot create @MYGROUP@\n");
		return -1;
	}
	if (post_as("/chats/direct", fx.token, json_pack("{s:s}", "user",
		    fx.user), fx.mydirect) != 201 ||
	    api_message_add(fx.mydirect, fx.me, "keyed", "case-keyed",
			    fx.mykeyed) != 201 ||
	    api_message_add(fx.mydirect, fx.user, "d1", NULL,
			    fx.mydirectmsg) != 201 ||
	    post_as("/chats/direct", fx.token2, json_pack("{s:s}", "user",
		    fx.user), fx.direct2) != 201) {
		fprintf(stderr, "test_cases: cannot create the private chats\n");
		return -1;
	}
	return 0;
}

/* Uploads len bytes of body as name (a query string value, encoded)
 * with token; copies the new file's id into id_out. 0 on success. */
static int upload(const char *token, const char *name, const char *body,
		  size_t len, char *id_out)
{
	struct http_reply r;
	char path[256], auth[128];
	const char *id;
	int rc;

	snprintf(path, sizeof(path), "/files/upload?name=%s", name);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	http_request("POST", path, body, len, auth, &r);
	id = r.json ? json_string_value(json_object_get(r.json, "id")) : NULL;
	rc = r.status == 201 && id != NULL ? 0 : -1;
	if (rc == 0)
		snprintf(id_out, ID_LEN, "%s", id);
	else
		fprintf(stderr, "test_cases: cannot upload %s: %ld %s\n",
			name, r.status, r.body ? r.body : "");
	http_reply_free(&r);
	return rc;
}

#define PNG_HEAD "\x89PNG\r\n\x1a\n"
#define BIG_IMAGE ((1 << 20) + 1)	/* one byte past an avatar's limit */

/* The uploads behind @MYFILE@, @MYIMAGE@, @MYBIGIMAGE@, @FILE2@,
 * @IMAGE2@ (ME2's avatar) and @SHAREDFILE@, carried by ME2's message in
 * @FILECHAT@ (ME2's group chat with ME). */
static int file_setup(void)
{
	char chatname[128], scratch[ID_LEN], *big = malloc(BIG_IMAGE);
	int rc;

	if (big == NULL)
		abort();
	memset(big, 'x', BIG_IMAGE);
	memcpy(big, PNG_HEAD, 8);
	uniq_name(chatname, sizeof(chatname), "case_filechat");
	rc = upload(fx.token, "case.txt", "case file bytes", 15,
		    fx.myfile) == 0 &&
	     upload(fx.token, "case.png", PNG_HEAD "case", 12,
		    fx.myimage) == 0 &&
	     upload(fx.token, "big.png", big, BIG_IMAGE,
		    fx.mybigimage) == 0 &&
	     upload(fx.token2, "case2.txt", "case file2 bytes", 16,
		    fx.file2) == 0 &&
	     upload(fx.token2, "case2.png", PNG_HEAD "case2", 13,
		    fx.image2) == 0 &&
	     upload(fx.token2, "shared.txt", "shared file bytes", 17,
		    fx.sharedfile) == 0 &&
	     post_as("/users/avatar", fx.token2, json_pack("{s:s}", "file",
		     fx.image2), NULL) == 200 &&
	     post_as("/chats/add", fx.token2, json_pack("{s:s, s:[s]}",
		     "name", chatname, "users", fx.me), fx.filechat) == 201 &&
	     post_as("/messages/add", fx.token2, json_pack("{s:s, s:s}",
		     "chat", fx.filechat, "file", fx.sharedfile),
		     scratch) == 201 ? 0 : -1;
	free(big);
	if (rc != 0)
		fprintf(stderr, "test_cases: cannot make the files' "
			"fixture\n");
	return rc;
}

/* The accounts behind @ME@, @TOKEN@, @MYCHAT@, @MYMSG@, @ME2@ and
 * @TOKEN2@, and their chats. */
static int account_setup(void)
{
	char chatname[128];
	const char *users[2];

	if (signup("case_me", fx.me, fx.token, sizeof(fx.token)) != 0 ||
	    signup("case_me2", fx.me2, fx.token2, sizeof(fx.token2)) != 0)
		return -1;
	users[0] = fx.me;
	users[1] = fx.user;
	uniq_name(chatname, sizeof(chatname), "case_mychat");
	if (api_chat_add(chatname, users, 2, fx.mychat) != 201 ||
	    api_message_add(fx.mychat, fx.me, "mine", NULL, fx.mymsg) != 201) {
		fprintf(stderr, "test_cases: cannot create the fixture's chat\n");
		return -1;
	}
	if (membership_setup() != 0)
		return -1;
	return file_setup();
}

static int group_setup(void **state)
{
	const char *users[2];
	char fp[640], name2[128], name3[128];

	(void)state;
	if (stack_start(&the_stack) != 0)
		return -1;
	if (psql_open(&the_stack, &db) != 0 ||
	    fingerprint(fp, sizeof(fp)) != 0) {
		fprintf(stderr, "test_cases: psql on the stack failed\n");
		return -1;
	}
	uniq_name(fx.username, sizeof(fx.username), "case_user");
	uniq_name(fx.chatname, sizeof(fx.chatname), "case_chat");
	uniq_name(name2, sizeof(name2), "case_user2");
	uniq_name(name3, sizeof(name3), "case_outsider");
	if (api_user_add(fx.username, fx.user) != 201 ||
	    api_user_add(name2, fx.user2) != 201 ||
	    api_user_add(name3, fx.outsider) != 201) {
		fprintf(stderr, "test_cases: cannot create the fixture users\n");
		return -1;
	}
	users[0] = fx.user;
	users[1] = fx.user2;
	if (api_chat_add(fx.chatname, users, 2, fx.chat) != 201 ||
	    api_message_add(fx.chat, fx.user, "first", NULL,
			    fx.chatmsg) != 201) {
		fprintf(stderr, "test_cases: cannot create the fixture chat\n");
		return -1;
	}
	return account_setup();
}

static int group_teardown(void **state)
{
	(void)state;
	psql_close(&db);
	stack_destroy(&the_stack);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tcase *)a)->name,
		      ((const struct tcase *)b)->name);
}

/* The case folders of dir, sorted by name; NULL if dir cannot be read. */
static struct tcase *list_cases(const char *dir, const char *pattern,
				size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	struct tcase *cases = NULL;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((ent = readdir(d)) != NULL) {
		char probe[PATH_MAX + 300];

		if (ent->d_name[0] == '.')
			continue;
		snprintf(probe, sizeof(probe), "%s/%s/expected", dir,
			 ent->d_name);
		if (access(probe, F_OK) != 0) {
			snprintf(probe, sizeof(probe), "%s/%s/request", dir,
				 ent->d_name);
			if (access(probe, F_OK) != 0)
				continue;	/* README and other files */
		}
		if (pattern != NULL && fnmatch(pattern, ent->d_name, 0) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			cases = realloc(cases, cap * sizeof(*cases));
			if (cases == NULL)
				abort();
		}
		snprintf(cases[*n].name, sizeof(cases[*n].name), "%s",
			 ent->d_name);
		snprintf(cases[*n].dir, sizeof(cases[*n].dir), "%s/%s", dir,
			 ent->d_name);
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(cases, *n, sizeof(*cases), by_name);
	return cases != NULL ? cases : calloc(1, sizeof(*cases));
}

int main(void)
{
	const char *dir = getenv("CHATD_CASES_DIR");
	const char *srcdir = getenv("CHATD_SRCDIR");
	struct CMUnitTest *tests;
	struct tcase *cases;
	size_t n, i;
	int rc;

	if (dir != NULL && dir[0] != '\0')
		snprintf(cases_dir, sizeof(cases_dir), "%s", dir);
	else if (srcdir != NULL)
		snprintf(cases_dir, sizeof(cases_dir), "%s/tests/cases",
			 srcdir);
	else {
		fprintf(stderr, "test_cases: set CHATD_SRCDIR (or "
			"CHATD_CASES_DIR)\n");
		return 1;
	}
	cases = list_cases(cases_dir, getenv("CHATD_CASES"), &n);
	if (cases == NULL || n == 0) {
		fprintf(stderr, "test_cases: no cases in %s\n", cases_dir);
		free(cases);
		return 1;
	}
	tests = calloc(n, sizeof(*tests));
	if (tests == NULL)
		abort();
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("cases", tests, n, group_setup,
				     group_teardown);
	free(tests);
	free(cases);
	return rc;
}
