/*
 * Files (API.md 2.4, 2.5; contrib/doc/API.md 2.11) through nginx -> chatd
 * -> PostgreSQL: uploads at the size limit and past it, types decided by
 * content whatever the name says, hostile names, the SHA-256, downloads by
 * every kind of caller, Range requests, an upload cut off by its client,
 * the quota, the sweep, messages carrying files, and a worker's memory
 * while many MiB go through. Every case prints what it saw.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#define PASSWORD "files password"
#define MAX_FILE (25L << 20)	/* chatd's and nginx's default limit */
#define QUOTA 1000		/* test_quota's --quota */
#define MAX_KIDS 64

struct account {
	char name[64];
	char id[ID_LEN];
	char token[64];
};

/* The uploader, a member of the uploader's chat, and an outsider. */
static struct account alice, bob, carol;
static char chat[ID_LEN];	/* alice's group chat with bob */

static const char *field(const struct http_reply *r, const char *name)
{
	json_t *v = json_is_object(r->json) ? json_object_get(r->json, name)
					    : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void must_account(const char *prefix, struct account *a)
{
	struct http_reply r;

	uniq_name(a->name, sizeof(a->name), prefix);
	http_post_json("/auth/signup", json_pack("{s:s, s:s}", "username",
		       a->name, "password", PASSWORD), NULL, &r);
	check_status(&r, 201, "signup");
	snprintf(a->id, sizeof(a->id), "%s", field(&r, "id"));
	snprintf(a->token, sizeof(a->token), "%s", field(&r, "token"));
	http_reply_free(&r);
}

/* POST /files/upload?name=<encoded> with len bytes of data as token (NULL:
 * none), over a raw connection; out and *hdrs (may be NULL) the caller's. */
static long upload_raw(const char *token, const char *encoded,
		       const char *data, size_t len, struct http_reply *out,
		       char **hdrs)
{
	size_t cap = len + 1024;
	char *req = malloc(cap);
	int n;
	long st;

	if (req == NULL)
		abort();
	n = snprintf(req, cap, "POST /files/upload?name=%s HTTP/1.1\r\n"
		     "Host: files\r\nConnection: close\r\n%s%s%s"
		     "Content-Type: application/octet-stream\r\n"
		     "Content-Length: %zu\r\n\r\n", encoded,
		     token ? "Authorization: Bearer " : "", token ? token : "",
		     token ? "\r\n" : "", len);
	memcpy(req + n, data, len);
	st = http_raw(&the_stack, req, (size_t)n + len, false, out, hdrs);
	free(req);
	return st;
}

/* An upload that must answer 201: its id into id (may be NULL); the
 * answer stays in out. */
static void must_upload(const char *token, const char *encoded,
			const char *data, size_t len, char *id,
			struct http_reply *out)
{
	upload_raw(token, encoded, data, len, out, NULL);
	check_status(out, 201, encoded);
	if (field(out, "id") == NULL || !is_canonical_id(field(out, "id")))
		fail_msg_at("upload %s: no id in %s", encoded, out->body);
	if (id != NULL)
		snprintf(id, ID_LEN, "%s", field(out, "id"));
}

/* GET path as token (NULL: none) with one more header line (NULL: none). */
static long download(const char *token, const char *path, const char *extra,
		     struct http_reply *out, char **hdrs)
{
	char req[1024];
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: files\r\n"
		     "Connection: close\r\n%s%s%s%s%s\r\n", path,
		     token ? "Authorization: Bearer " : "", token ? token : "",
		     token ? "\r\n" : "", extra ? extra : "",
		     extra ? "\r\n" : "");
	return http_raw(&the_stack, req, (size_t)n, false, out, hdrs);
}

/* The lowercase hex SHA-256 of data. */
static void sha256_hex(const char *data, size_t len, char hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)data, len);
	sodium_bin2hex(hex, 65, d, sizeof(d));
}

static long long sql_count(const char *q)
{
	char *out = stack_psql_output(&the_stack, q);
	long long n = out ? atoll(out) : -1;

	free(out);
	return n;
}

static char *buffer_of(size_t len, char fill)
{
	char *b = malloc(len ? len : 1);

	if (b == NULL)
		abort();
	memset(b, fill, len);
	return b;
}

/* Header name of hdrs equals want, or the test fails. */
static void check_header(const char *hdrs, const char *name, const char *want)
{
	char got[1024];

	if (hdrs == NULL || !header_value(hdrs, name, got, sizeof(got)))
		fail_msg_at("no %s header (wanted '%s')", name, want);
	if (strcmp(got, want) != 0)
		fail_msg_at("%s is '%s', expected '%s'", name, got, want);
}

/* ---- sizes ------------------------------------------------------------- */

/* One upload of len bytes: 201 with the size and the SHA-256 of the bytes,
 * which a download gives back; returns its id in id. */
static void upload_and_compare(size_t len, char *id)
{
	char *data = buffer_of(len, 'z'), hex[65], path[96], name[32];
	struct http_reply r, d;
	json_t *size;

	if (len > 0)
		data[0] = 'a';
	snprintf(name, sizeof(name), "size-%zu.bin", len);
	must_upload(alice.token, name, data, len, id, &r);
	size = json_object_get(r.json, "size");
	sha256_hex(data, len, hex);
	assert_true(json_is_integer(size));
	assert_int_equal(json_integer_value(size), (long long)len);
	assert_string_equal(field(&r, "sha256"), hex);
	assert_string_equal(field(&r, "content_type"),
			    "application/octet-stream");
	snprintf(path, sizeof(path), "/files/%s/%s", id, name);
	assert_string_equal(field(&r, "url"), path);
	download(alice.token, path, NULL, &d, NULL);
	check_status(&d, 200, "download");
	assert_int_equal(d.body_len, len);
	assert_true(len == 0 || memcmp(d.body, data, len) == 0);
	print_message("upload of %zu bytes: 201, sha256 %.16s..., download "
		      "%zu bytes identical\n", len, hex, d.body_len);
	http_reply_free(&r);
	http_reply_free(&d);
	free(data);
}

static void test_sizes(void **state)
{
	char id[ID_LEN], *data;
	struct http_reply r;
	long long before;
	int stored0, in0, stored, in;

	(void)state;
	upload_and_compare(0, id);
	upload_and_compare(1, id);
	upload_and_compare((size_t)MAX_FILE, id);
	/* One byte over: nginx's 413, and nothing anywhere. */
	before = sql_count("SELECT count(*) FROM files");
	store_census(&the_stack, 2000, &stored0, &in0);
	data = buffer_of((size_t)MAX_FILE + 1, 'o');
	upload_raw(alice.token, "over.bin", data, (size_t)MAX_FILE + 1, &r,
		   NULL);
	check_error(&r, 413, "payload_too_large", "25 MiB + 1");
	store_census(&the_stack, 5000, &stored, &in);
	print_message("upload of %ld bytes: %ld %s; files %lld -> %lld, "
		      "store %d -> %d, incoming %d\n", MAX_FILE + 1, r.status,
		      r.body, before, sql_count("SELECT count(*) FROM files"),
		      stored0, stored, in);
	assert_int_equal(sql_count("SELECT count(*) FROM files"), before);
	assert_int_equal(stored, stored0);
	assert_int_equal(in, 0);
	http_reply_free(&r);
	free(data);
}

/* ---- types and names --------------------------------------------------- */

struct typed {
	const char *encoded, *name;	/* in the query string; decoded */
	const char *data;
	size_t len;
	const char *type, *disposition;
};

static void test_types_and_names(void **state)
{
	static const struct typed cases[] = {
		{"cat.txt", "cat.txt", "\x89PNG\r\n\x1a\n....", 12,
		 "image/png",
		 "inline; filename=\"cat.txt\"; filename*=UTF-8''cat.txt"},
		{"photo.txt", "photo.txt", "\xff\xd8\xff\xe0\0\x10JFIF", 10,
		 "image/jpeg", "inline; filename=\"photo.txt\"; "
		 "filename*=UTF-8''photo.txt"},
		{"anim.txt", "anim.txt", "GIF89a\1\0\1\0", 10, "image/gif",
		 "inline; filename=\"anim.txt\"; filename*=UTF-8''anim.txt"},
		{"pic.txt", "pic.txt", "RIFF\x24\0\0\0WEBPVP8 ", 16,
		 "image/webp",
		 "inline; filename=\"pic.txt\"; filename*=UTF-8''pic.txt"},
		{"notes.png", "notes.png", "just some text\n", 15,
		 "application/octet-stream", "attachment; "
		 "filename=\"notes.png\"; filename*=UTF-8''notes.png"},
		{"..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "root:x:0:0\n",
		 11, "application/octet-stream", "attachment; "
		 "filename=\".._.._etc_passwd\"; "
		 "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd"},
		{"%22%3B%20rm%20-rf%20%2F", "\"; rm -rf /", "x", 1,
		 "application/octet-stream", "attachment; "
		 "filename=\"_; rm -rf _\"; "
		 "filename*=UTF-8''%22%3B%20rm%20-rf%20%2F"},
		{"a%0D%0AX-Evil:%201%01", "a\r\nX-Evil: 1\x01", "x", 1,
		 "application/octet-stream", "attachment; "
		 "filename=\"a__X-Evil: 1_\"; "
		 "filename*=UTF-8''a%0D%0AX-Evil%3A%201%01"},
		{"%D0%BA%D0%BE%D1%82.png", "\xd0\xba\xd0\xbe\xd1\x82.png",
		 "\x89PNG\r\n\x1a\n", 8, "image/png", "inline; "
		 "filename=\"______.png\"; "
		 "filename*=UTF-8''%D0%BA%D0%BE%D1%82.png"},
	};
	char id[ID_LEN], q[256], path[600], *hdrs = NULL, *stored;
	struct http_reply r, d;
	struct stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct typed *c = &cases[i];

		must_upload(alice.token, c->encoded, c->data, c->len, id, &r);
		assert_string_equal(field(&r, "name"), c->name);
		assert_string_equal(field(&r, "content_type"), c->type);
		/* Stored under chatd's own name, inside the store. */
		snprintf(q, sizeof(q), "SELECT stored FROM files WHERE id = %s",
			 id);
		stored = stack_psql_output(&the_stack, q);
		assert_non_null(stored);
		stored[strcspn(stored, "\n")] = '\0';
		assert_int_equal(strlen(stored), 32);
		assert_int_equal(strspn(stored, "0123456789abcdef"), 32);
		snprintf(path, sizeof(path), "%s/files/%s", the_stack.dir,
			 stored);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, (off_t)c->len);
		/* The download: the type, the disposition, the bytes. */
		download(alice.token, field(&r, "url"), NULL, &d, &hdrs);
		check_status(&d, 200, c->encoded);
		check_header(hdrs, "Content-Type", c->type);
		check_header(hdrs, "Content-Disposition", c->disposition);
		check_header(hdrs, "X-Content-Type-Options", "nosniff");
		check_header(hdrs, "Content-Security-Policy", "sandbox");
		assert_int_equal(d.body_len, c->len);
		assert_memory_equal(d.body, c->data, c->len);
		print_message("%-24s -> %s, stored as %s, url %s,\n"
			      "    Content-Disposition: %s\n", c->encoded,
			      c->type, stored, field(&r, "url"),
			      c->disposition);
		free(stored);
		free(hdrs);
		hdrs = NULL;
		http_reply_free(&r);
		http_reply_free(&d);
	}
	/* Nothing but chatd's names in the store. */
	assert_int_equal(sql_count("SELECT count(*) FROM files WHERE stored "
				   "!~ '^[0-9a-f]{32}$'"), 0);
}

/* ---- who may download -------------------------------------------------- */

static void expect_download(const char *who, const char *token,
			    const char *path, long status, const char *body)
{
	struct http_reply r;
	char *hdrs = NULL;

	download(token, path, NULL, &r, &hdrs);
	print_message("%-34s GET %s: %ld %.60s\n", who, path, r.status,
		      r.body ? r.body : "");
	if (status == 200) {
		check_status(&r, 200, who);
		assert_int_equal(r.body_len, strlen(body));
		assert_memory_equal(r.body, body, r.body_len);
	} else {
		check_error(&r, status, status == 401 ? "unauthorized"
			    : "not_found", who);
		if (status == 401)
			check_header(hdrs, "WWW-Authenticate", "Bearer");
	}
	free(hdrs);
	http_reply_free(&r);
}

static void test_download_callers(void **state)
{
	static const char bytes[] = "a file for bob\n";
	char id[ID_LEN], img[ID_LEN], mid[ID_LEN], path[96], ipath[96];
	char body[256], expired[64], revoked[64], q[256], *sid;
	struct http_reply r;
	struct account tmp;

	(void)state;
	must_upload(alice.token, "for-bob.txt", bytes, sizeof(bytes) - 1, id,
		    &r);
	snprintf(path, sizeof(path), "%s", field(&r, "url"));
	http_reply_free(&r);
	/* A session that expired, one that logged out. */
	must_account("files_exp", &tmp);
	snprintf(expired, sizeof(expired), "%s", tmp.token);
	snprintf(q, sizeof(q), "UPDATE sessions SET expires_at = now() - "
		 "interval '1 s' WHERE user_id = %s", tmp.id);
	sid = stack_psql_output(&the_stack, q);
	free(sid);
	must_account("files_rev", &tmp);
	snprintf(revoked, sizeof(revoked), "%s", tmp.token);
	http_post_as(revoked, "/auth/logout", "{}", &r);
	check_status(&r, 204, "logout");
	http_reply_free(&r);

	expect_download("bob before the message", bob.token, path, 404, NULL);
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"file\": \"%s\"}",
		 chat, id);
	http_post_as(alice.token, "/messages/add", body, &r);
	check_created(&r, mid, "messages/add with a file");
	http_reply_free(&r);
	expect_download("no token", NULL, path, 401, NULL);
	expect_download("malformed token", "files.not.a.token", path, 401,
			NULL);
	expect_download("unknown token",
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", path, 401,
			NULL);
	expect_download("expired session", expired, path, 401, NULL);
	expect_download("logged-out session", revoked, path, 401, NULL);
	expect_download("the uploader", alice.token, path, 200, bytes);
	expect_download("bob, a member of the message's chat", bob.token, path,
			200, bytes);
	expect_download("carol, an outsider", carol.token, path, 404, NULL);
	expect_download("alice, unknown id", alice.token, "/files/999999999/x",
			404, NULL);
	/* Deleted, the message no longer lends bob its file (API.md 2.4);
	 * the uploader still has it. */
	snprintf(body, sizeof(body), "{\"message\": \"%s\"}", mid);
	http_post_as(alice.token, "/messages/delete", body, &r);
	check_status(&r, 204, "messages/delete");
	http_reply_free(&r);
	expect_download("bob, the message deleted", bob.token, path, 404, NULL);
	expect_download("the uploader, the message deleted", alice.token, path,
			200, bytes);
	/* An avatar: carol reads it once it is one, not before. */
	must_upload(alice.token, "me.png", "\x89PNG\r\n\x1a\nme", 10, img, &r);
	snprintf(ipath, sizeof(ipath), "%s", field(&r, "url"));
	http_reply_free(&r);
	expect_download("carol, the image before", carol.token, ipath, 404,
			NULL);
	snprintf(body, sizeof(body), "{\"file\": \"%s\"}", img);
	http_post_as(alice.token, "/users/avatar", body, &r);
	check_status(&r, 200, "users/avatar");
	assert_string_equal(field(&r, "avatar"), ipath);
	http_reply_free(&r);
	expect_download("carol, the image as an avatar", carol.token, ipath,
			200, "\x89PNG\r\n\x1a\nme");
	expect_download("no token, the avatar", NULL, ipath, 401, NULL);
	http_post_as(alice.token, "/users/avatar", "{\"file\": null}", &r);
	check_status(&r, 200, "users/avatar null");
	assert_true(json_is_null(json_object_get(r.json, "avatar")));
	http_reply_free(&r);
	expect_download("carol, the avatar taken back", carol.token, ipath,
			404, NULL);
}

/* ---- Range ------------------------------------------------------------- */

static void expect_range(const char *path, const char *range, long status,
			 const char *body, const char *content_range)
{
	struct http_reply r;
	char *hdrs = NULL, hdr[128];

	snprintf(hdr, sizeof(hdr), "Range: %s", range);
	download(alice.token, path, hdr, &r, &hdrs);
	print_message("Range: %-14s -> %ld, Content-Range: %s, body '%.*s'\n",
		      range, r.status, content_range, status == 206 ?
		      (int)r.body_len : 0, r.body ? r.body : "");
	check_status(&r, status, range);
	check_header(hdrs, "Content-Range", content_range);
	if (body != NULL) {
		assert_int_equal(r.body_len, strlen(body));
		assert_memory_equal(r.body, body, r.body_len);
	}
	free(hdrs);
	http_reply_free(&r);
}

static void test_ranges(void **state)
{
	char id[ID_LEN], path[96];
	struct http_reply r;

	(void)state;
	must_upload(alice.token, "digits.txt", "0123456789", 10, id, &r);
	snprintf(path, sizeof(path), "%s", field(&r, "url"));
	http_reply_free(&r);
	expect_range(path, "bytes=0-0", 206, "0", "bytes 0-0/10");
	expect_range(path, "bytes=2-5", 206, "2345", "bytes 2-5/10");
	expect_range(path, "bytes=-3", 206, "789", "bytes 7-9/10");
	expect_range(path, "bytes=8-", 206, "89", "bytes 8-9/10");
	expect_range(path, "bytes=5-100", 206, "56789", "bytes 5-9/10");
	expect_range(path, "bytes=10-20", 416, NULL, "bytes */10");
}

/* ---- an upload cut off by its client ----------------------------------- */

static void test_cut_off(void **state)
{
	enum { LEN = 4 << 20 };
	struct sockaddr_in sa;
	char head[512], *half = buffer_of(LEN / 2, 'h');
	long long before = sql_count("SELECT count(*) FROM files");
	int fd, n, stored0, in0, stored, in, seen_in = 0;
	double t0, until;
	size_t off;

	(void)state;
	store_census(&the_stack, 2000, &stored0, &in0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)the_stack.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(head, sizeof(head), "POST /files/upload?name=cut.bin "
		     "HTTP/1.1\r\nHost: files\r\nAuthorization: Bearer %s\r\n"
		     "Content-Length: %d\r\n\r\n", alice.token, LEN);
	assert_int_equal(write(fd, head, (size_t)n), n);
	for (off = 0; off < LEN / 2;) {
		ssize_t w = write(fd, half + off, LEN / 2 - off);

		assert_true(w > 0);
		off += (size_t)w;
	}
	/* nginx is writing the body to incoming: see it there. */
	for (until = now_seconds() + 3; now_seconds() < until && !seen_in;
	     sleep_ms(20))
		store_census(&the_stack, 0, &stored, &seen_in);
	close(fd);
	t0 = now_seconds();
	store_census(&the_stack, 5000, &stored, &in);
	print_message("cut off after %d of %d bytes: the body was in incoming "
		      "(%d file), %.2f s after the close incoming has %d, "
		      "store %d -> %d, files %lld -> %lld\n", LEN / 2, LEN,
		      seen_in, now_seconds() - t0, in, stored0, stored, before,
		      sql_count("SELECT count(*) FROM files"));
	assert_int_equal(seen_in, 1);
	assert_int_equal(in, 0);
	assert_int_equal(stored, stored0);
	assert_int_equal(sql_count("SELECT count(*) FROM files"), before);
	free(half);
}

/* ---- the sweep --------------------------------------------------------- */

static void make_file(const char *path, long age_s)
{
	struct timespec ts[2];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "stray", 5), 5);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age_s;
	ts[1] = ts[0];
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void test_sweep(void **state)
{
	char old_stray[160], young_stray[160], old_incoming[160];
	char young_incoming[160], recorded[160], q[160], cmd[1024], *stored;
	char id[ID_LEN], url[96];
	struct http_reply r;
	struct timespec ts[2];
	int rc;

	(void)state;
	must_upload(alice.token, "kept.txt", "kept", 4, id, &r);
	snprintf(url, sizeof(url), "%s", field(&r, "url"));
	http_reply_free(&r);
	snprintf(q, sizeof(q), "SELECT stored FROM files WHERE id = %s", id);
	stored = stack_psql_output(&the_stack, q);
	assert_non_null(stored);
	stored[strcspn(stored, "\n")] = '\0';
	snprintf(recorded, sizeof(recorded), "%s/files/%s", the_stack.dir,
		 stored);
	free(stored);
	/* The recorded file made old too: its record keeps it. */
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 3600;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, recorded, ts, 0), 0);
	snprintf(old_stray, sizeof(old_stray), "%s/files/"
		 "0123456789abcdef0123456789abcdef", the_stack.dir);
	snprintf(young_stray, sizeof(young_stray), "%s/files/"
		 "fedcba9876543210fedcba9876543210", the_stack.dir);
	snprintf(old_incoming, sizeof(old_incoming), "%s/files/incoming/"
		 "0000099998", the_stack.dir);
	snprintf(young_incoming, sizeof(young_incoming), "%s/files/incoming/"
		 "0000099999", the_stack.dir);
	make_file(old_stray, 3600);
	make_file(young_stray, 10);
	make_file(old_incoming, 3600);
	make_file(young_incoming, 10);
	snprintf(cmd, sizeof(cmd), "'%s' sweep --db 'host=%s/pg dbname=chatd "
		 "user=chatd' --store '%s/files' --sweep-age 60 >>'%s/sweep.log' "
		 "2>&1", getenv("CHATD_BIN"), the_stack.dir, the_stack.dir,
		 the_stack.dir);
	rc = system(cmd);
	print_message("chatd sweep --sweep-age 60: exit %d; old stray %s, "
		      "young stray %s, old incoming %s, young incoming %s, "
		      "recorded (old) %s\n", WEXITSTATUS(rc),
		      exists(old_stray) ? "kept" : "removed",
		      exists(young_stray) ? "kept" : "removed",
		      exists(old_incoming) ? "kept" : "removed",
		      exists(young_incoming) ? "kept" : "removed",
		      exists(recorded) ? "kept" : "removed");
	assert_int_equal(WEXITSTATUS(rc), 0);
	assert_false(exists(old_stray));
	assert_false(exists(old_incoming));
	assert_true(exists(young_stray));
	assert_true(exists(young_incoming));
	assert_true(exists(recorded));
	/* The recorded file still downloads. */
	expect_download("alice, the recorded file after the sweep",
			alice.token, url, 200, "kept");
	unlink(young_stray);
	unlink(young_incoming);
}

/* ---- messages with files ----------------------------------------------- */

/* The item of messages/get of chat c (as token) with id mid. */
static json_t *message_item(const char *token, const char *c, const char *mid)
{
	struct http_reply r;
	char body[128];
	json_t *it, *found = NULL;
	size_t i;

	snprintf(body, sizeof(body), "{\"chat\": \"%s\"}", c);
	http_post_as(token, "/messages/get", body, &r);
	check_status(&r, 200, "messages/get");
	json_array_foreach(r.json, i, it)
		if (strcmp(json_string_value(json_object_get(it, "id")), mid) == 0)
			found = json_incref(it);
	http_reply_free(&r);
	if (found == NULL)
		fail_msg_at("message %s not in chat %s", mid, c);
	return found;
}

static void test_messages_with_files(void **state)
{
	char doc[ID_LEN], img[ID_LEN], theirs[ID_LEN], mid[ID_LEN], body[256];
	char direct[ID_LEN], want[256], *dump;
	struct http_reply r;
	json_t *it, *f, *wanted;
	long long before;

	(void)state;
	must_upload(alice.token, "report.pdf", "%PDF-1.7 report", 15, doc, &r);
	http_reply_free(&r);
	must_upload(alice.token, "cat.png", "\x89PNG\r\n\x1a\ncat", 11, img,
		    &r);
	http_reply_free(&r);
	must_upload(carol.token, "carols.txt", "carol's", 7, theirs, &r);
	http_reply_free(&r);

	/* A file without text: type "file", text "". */
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"file\": \"%s\"}",
		 chat, doc);
	http_post_as(alice.token, "/messages/add", body, &r);
	check_created(&r, mid, "messages/add with a file");
	http_reply_free(&r);
	it = message_item(bob.token, chat, mid);
	dump = json_dumps(it, JSON_SORT_KEYS | JSON_COMPACT);
	print_message("messages/get item: %s\n", dump);
	free(dump);
	assert_string_equal(json_string_value(json_object_get(it, "type")),
			    "file");
	assert_string_equal(json_string_value(json_object_get(it, "text")), "");
	assert_true(json_is_null(json_object_get(it, "edited_at")));
	f = json_object_get(it, "file");
	snprintf(want, sizeof(want), "{\"id\": \"%s\", \"name\": \"report.pdf\", "
		 "\"size\": 15, \"content_type\": \"application/octet-stream\", "
		 "\"url\": \"/files/%s/report.pdf\"}", doc, doc);
	wanted = json_loads(want, 0, NULL);
	if (!json_equal(f, wanted))
		fail_msg_at("file is not %s", want);
	json_decref(wanted);
	json_decref(it);

	/* An image with text: type "image". */
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"text\": \"look\", "
		 "\"file\": \"%s\"}", chat, img);
	http_post_as(alice.token, "/messages/add", body, &r);
	check_created(&r, mid, "messages/add with an image");
	http_reply_free(&r);
	it = message_item(alice.token, chat, mid);
	assert_string_equal(json_string_value(json_object_get(it, "type")),
			    "image");
	assert_string_equal(json_string_value(json_object_get(it, "text")),
			    "look");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		it, "file"), "content_type")), "image/png");
	json_decref(it);

	/* Another user's file: 404, nothing stored. */
	before = sql_count("SELECT count(*) FROM messages");
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"file\": \"%s\"}",
		 chat, theirs);
	http_post_as(alice.token, "/messages/add", body, &r);
	print_message("messages/add with carol's file by alice: %ld %s", r.status,
		      r.body);
	check_error(&r, 404, "not_found", "another user's file");
	http_reply_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM messages"), before);
	/* Without a session: 401, whoever the author. */
	snprintf(body, sizeof(body), "{\"chat\": \"%s\", \"author\": \"%s\", "
		 "\"file\": \"%s\"}", chat, alice.id, doc);
	http_post("/messages/add", body, strlen(body), NULL, &r);
	check_error(&r, 401, "unauthorized", "messages/add with a file, no "
		    "session");
	http_reply_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM messages"), before);

	/* messages/send with a file: carol receives it and may read it. */
	snprintf(body, sizeof(body), "{\"to\": \"%s\", \"file\": \"%s\"}",
		 carol.id, doc);
	http_post_as(alice.token, "/messages/send", body, &r);
	check_status(&r, 201, "messages/send with a file");
	snprintf(mid, sizeof(mid), "%s", field(&r, "id"));
	snprintf(direct, sizeof(direct), "%s", field(&r, "chat"));
	http_reply_free(&r);
	it = message_item(carol.token, direct, mid);
	assert_string_equal(json_string_value(json_object_get(it, "type")),
			    "file");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		it, "file"), "id")), doc);
	json_decref(it);
	snprintf(want, sizeof(want), "/files/%s/report.pdf", doc);
	expect_download("carol, through messages/send", carol.token, want, 200,
			"%PDF-1.7 report");
	snprintf(body, sizeof(body), "{\"to\": \"%s\", \"file\": \"%s\"}",
		 bob.id, theirs);
	http_post_as(alice.token, "/messages/send", body, &r);
	check_error(&r, 404, "not_found", "messages/send, another's file");
	http_reply_free(&r);
}

/* ---- a worker's memory ------------------------------------------------- */

static void worker_memory(pid_t *kids, int n, long long *rss, long long *hwm)
{
	int i;

	for (i = 0; i < n; i++) {
		rss[i] = proc_value(kids[i], "status", "VmRSS");
		hwm[i] = proc_value(kids[i], "status", "VmHWM");
	}
}

static void test_worker_memory(void **state)
{
	enum { FILES = 20, SIZE = 5 << 20 };
	pid_t master = stack_master_pid(&the_stack), kids[MAX_KIDS];
	long long rss0[MAX_KIDS], hwm0[MAX_KIDS], rss1[MAX_KIDS];
	long long hwm1[MAX_KIDS], worst = 0;
	char *data = buffer_of(SIZE, 'm'), name[32];
	struct http_reply r;
	int n, i;

	(void)state;
	n = stack_wait_workers(&the_stack, master, kids, MAX_KIDS, 10);
	/* One small upload per worker first, so that what an upload needs
	 * once (its statement prepared, libsodium's tables) is counted
	 * before. */
	for (i = 0; i < 2 * n; i++) {
		must_upload(alice.token, "warm.bin", "warm", 4, NULL, &r);
		http_reply_free(&r);
	}
	worker_memory(kids, n, rss0, hwm0);
	for (i = 0; i < FILES; i++) {
		data[0] = (char)('A' + i);
		snprintf(name, sizeof(name), "rss-%d.bin", i);
		must_upload(alice.token, name, data, SIZE, NULL, &r);
		http_reply_free(&r);
	}
	worker_memory(kids, n, rss1, hwm1);
	for (i = 0; i < n; i++) {
		print_message("worker %d: VmRSS %lld -> %lld kB, VmHWM %lld -> "
			      "%lld kB\n", (int)kids[i], rss0[i], rss1[i],
			      hwm0[i], hwm1[i]);
		assert_true(hwm0[i] > 0 && hwm1[i] > 0);
		if (hwm1[i] - hwm0[i] > worst)
			worst = hwm1[i] - hwm0[i];
		if (rss1[i] - rss0[i] > worst)
			worst = rss1[i] - rss0[i];
	}
	print_message("%d uploads of %d MiB: the largest growth of a worker "
		      "is %lld kB\n", FILES, SIZE >> 20, worst);
	/* A worker that held a file would grow by its 5120 kB. */
	assert_true(worst < (SIZE >> 10) / 4);
	free(data);
}

/* ---- the quota (last: it restarts the stack) --------------------------- */

#define QUOTA_SHOTS 8		/* uploads at once of QUOTA_SHOT bytes */
#define QUOTA_SHOT 300		/* 3 fit in QUOTA, the 4th does not */

struct quota_shot {
	pthread_barrier_t *start;
	const char *token, *data;
	long status;
};

static void *quota_thread(void *arg)
{
	struct quota_shot *s = arg;
	struct http_reply r;

	pthread_barrier_wait(s->start);
	s->status = upload_raw(s->token, "race.bin", s->data, QUOTA_SHOT, &r,
			       NULL);
	http_reply_free(&r);
	return NULL;
}

/* QUOTA_SHOTS uploads of one user at once: exactly as many are stored as
 * fit in the quota (the uploader's row lock orders them), the rest are
 * 403, and the bytes chatd counts for the user are those of their files. */
static void quota_race(const char *data)
{
	struct quota_shot s[QUOTA_SHOTS];
	pthread_t th[QUOTA_SHOTS];
	pthread_barrier_t start;
	struct account erin;
	int i, stored = 0, refused = 0;
	char q[256];

	must_account("files_quota3", &erin);
	pthread_barrier_init(&start, NULL, QUOTA_SHOTS);
	for (i = 0; i < QUOTA_SHOTS; i++) {
		s[i] = (struct quota_shot){&start, erin.token, data, 0};
		assert_int_equal(pthread_create(&th[i], NULL, quota_thread,
						&s[i]), 0);
	}
	for (i = 0; i < QUOTA_SHOTS; i++) {
		pthread_join(th[i], NULL);
		stored += s[i].status == 201;
		refused += s[i].status == 403;
	}
	pthread_barrier_destroy(&start);
	snprintf(q, sizeof(q), "SELECT count(*) FROM files WHERE uploader_id "
		 "= %s", erin.id);
	print_message("%d uploads of %d bytes at once, quota %d: %d stored, "
		      "%d refused (403); files recorded %lld\n", QUOTA_SHOTS,
		      QUOTA_SHOT, QUOTA, stored, refused, sql_count(q));
	assert_int_equal(stored, QUOTA / QUOTA_SHOT);
	assert_int_equal(refused, QUOTA_SHOTS - QUOTA / QUOTA_SHOT);
	assert_int_equal(sql_count(q), QUOTA / QUOTA_SHOT);
}

static void test_quota(void **state)
{
	char *data = buffer_of(QUOTA, 'q');
	struct http_reply r;
	struct account dave;
	long long before;
	int stored0, in0, stored, in;
	char args[96];

	(void)state;
	snprintf(args, sizeof(args), "--pwhash-mem 19 --pwhash-ops 2 "
		 "--quota %d", QUOTA);
	setenv("CHATD_SERVE_ARGS", args, 1);
	assert_int_equal(stack_restart(&the_stack), 0);
	must_account("files_quota", &dave);
	must_upload(dave.token, "600.bin", data, 600, NULL, &r);
	http_reply_free(&r);
	before = sql_count("SELECT count(*) FROM files");
	store_census(&the_stack, 2000, &stored0, &in0);
	upload_raw(dave.token, "401.bin", data, 401, &r, NULL);
	store_census(&the_stack, 3000, &stored, &in);
	print_message("--quota %d: 600 bytes held, 401 more: %ld %s; files "
		      "%lld -> %lld, store %d -> %d, incoming %d\n", QUOTA,
		      r.status, r.body, before,
		      sql_count("SELECT count(*) FROM files"), stored0, stored,
		      in);
	check_error(&r, 403, "forbidden", "past the quota");
	http_reply_free(&r);
	assert_int_equal(sql_count("SELECT count(*) FROM files"), before);
	assert_int_equal(stored, stored0);
	assert_int_equal(in, 0);
	/* Exactly up to it is allowed. */
	must_upload(dave.token, "400.bin", data, 400, NULL, &r);
	print_message("then 400 bytes, exactly up to the quota: %ld\n",
		      r.status);
	http_reply_free(&r);
	upload_raw(dave.token, "1.bin", data, 1, &r, NULL);
	check_error(&r, 403, "forbidden", "one byte past the quota");
	print_message("then 1 byte more: %ld %s", r.status, r.body);
	http_reply_free(&r);
	/* Another user has a quota of their own: all of it at once. */
	must_account("files_quota2", &dave);
	must_upload(dave.token, "all.bin", data, QUOTA, NULL, &r);
	http_reply_free(&r);
	quota_race(data);
	/* users.files_bytes (sql/017), which the quota reads, is the sum of
	 * each user's files after every upload of the suite. */
	before = sql_count("SELECT count(*) FROM users u WHERE files_bytes <> "
			   "(SELECT coalesce(sum(size), 0) FROM files f "
			   "WHERE f.uploader_id = u.id)");
	print_message("users whose counted bytes differ from their files' "
		      "sum: %lld of %lld\n", before,
		      sql_count("SELECT count(*) FROM users"));
	assert_int_equal(before, 0);
	free(data);
}

static int setup(void **state)
{
	const char *users[1];
	struct http_reply r;
	char body[256], name[64];

	setenv("CHATD_SERVE_ARGS", "--pwhash-mem 19 --pwhash-ops 2", 1);
	if (sodium_init() < 0 || stack_group_setup(state) != 0)
		return -1;
	must_account("files_alice", &alice);
	must_account("files_bob", &bob);
	must_account("files_carol", &carol);
	users[0] = bob.id;
	uniq_name(name, sizeof(name), "files_chat");
	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"users\": [\"%s\"]}",
		 name, users[0]);
	http_post_as(alice.token, "/chats/add", body, &r);
	if (r.status != 201 || field(&r, "id") == NULL) {
		fprintf(stderr, "test_files: chats/add: %ld %s\n", r.status,
			r.body);
		http_reply_free(&r);
		return -1;
	}
	snprintf(chat, sizeof(chat), "%s", field(&r, "id"));
	http_reply_free(&r);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_types_and_names),
		cmocka_unit_test(test_download_callers),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_cut_off),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_messages_with_files),
		cmocka_unit_test(test_worker_memory),
		cmocka_unit_test(test_quota),
	};

	return cmocka_run_group_tests(tests, setup, stack_group_teardown);
}
