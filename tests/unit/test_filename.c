/* Unit tests of a file name's download URL and Content-Disposition
 * (filename.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "filename.h"

/* filename_url() of file "7" named name[0..len) equals want. */
static void url_is(const char *name, size_t len, const char *want)
{
	struct buf b;

	buf_init(&b);
	filename_url(&b, "7", name, len);
	buf_putc(&b, '\0');
	assert_string_equal(b.data, want);
	buf_free(&b);
}

/* filename_disposition() of name[0..len) equals want. */
static void disp_is(bool inline_, const char *name, size_t len,
		    const char *want)
{
	struct buf b;

	buf_init(&b);
	filename_disposition(&b, inline_, name, len);
	buf_putc(&b, '\0');
	assert_string_equal(b.data, want);
	buf_free(&b);
}

#define URL(s, want) url_is(s, sizeof(s) - 1, want)
#define DISP(s, want) disp_is(false, s, sizeof(s) - 1, want)

static void test_url(void **state)
{
	(void)state;
	URL("cat.png", "/files/7/cat.png");
	URL("A-Z_a.z~0", "/files/7/A-Z_a.z~0");
	URL("a b+c", "/files/7/a%20b%2Bc");
	URL("../../etc/passwd", "/files/7/.._.._etc_passwd");
	URL("\"; rm -rf /", "/files/7/%22%3B%20rm%20-rf%20_");
	URL("a\\b", "/files/7/a_b");
	URL("..", "/files/7/__");
	URL(".", "/files/7/_");
	URL("...", "/files/7/...");
	URL("100%", "/files/7/100%25");
	URL("?#&=", "/files/7/%3F%23%26%3D");
	URL("a\r\nb\t\x01\x7f", "/files/7/a%0D%0Ab%09%01%7F");
	URL("\xc3\xa9t\xc3\xa9.txt", "/files/7/%C3%A9t%C3%A9.txt");
	URL("\xff", "/files/7/%FF");
	URL("a\0b", "/files/7/a%00b");
	URL("", "/files/7/");
}

static void test_disposition(void **state)
{
	(void)state;
	disp_is(true, "cat.png", 7,
		"inline; filename=\"cat.png\"; filename*=UTF-8''cat.png");
	DISP("notes.txt",
	     "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt");
	/* Quotes, backslash and slash: never out of the quoted string, nor
	 * a path. */
	DISP("a\"b\\c/d", "attachment; filename=\"a_b_c_d\"; "
	     "filename*=UTF-8''a%22b%5Cc%2Fd");
	DISP("\"; rm -rf /", "attachment; filename=\"_; rm -rf _\"; "
	     "filename*=UTF-8''%22%3B%20rm%20-rf%20%2F");
	DISP("../../etc/passwd", "attachment; filename=\".._.._etc_passwd\"; "
	     "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd");
	DISP("..", "attachment; filename=\"..\"; filename*=UTF-8''..");
	/* Control bytes: no header can be ended or added. */
	DISP("a\r\nSet-Cookie: x\x01\x7f", "attachment; "
	     "filename=\"a__Set-Cookie: x__\"; "
	     "filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%01%7F");
	DISP("a\0b", "attachment; filename=\"a_b\"; filename*=UTF-8''a%00b");
	/* UTF-8: each byte '_' in the plain form, encoded in the other. */
	DISP("\xc3\xa9t\xc3\xa9.txt", "attachment; filename=\"__t__.txt\"; "
	     "filename*=UTF-8''%C3%A9t%C3%A9.txt");
	DISP("\xe2\x82\xac", "attachment; filename=\"___\"; "
	     "filename*=UTF-8''%E2%82%AC");
	/* RFC 8187 attr-chars pass; the rest, ' * % ; = space, are encoded. */
	DISP("!#$&+-.^_`|~", "attachment; filename=\"!#$&+-.^_`|~\"; "
	     "filename*=UTF-8''!#$&+-.^_`|~");
	DISP("it's *100%*; x=y", "attachment; filename=\"it's *100%*; x=y\"; "
	     "filename*=UTF-8''it%27s%20%2A100%25%2A%3B%20x%3Dy");
	DISP("", "attachment; filename=\"\"; filename*=UTF-8''");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_disposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
