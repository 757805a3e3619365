/* Unit tests of an upload's type from its first bytes (sniff.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sniff.h"

/* The type of the literal s, its terminator excluded. */
#define TYPE(s) sniff_type((const unsigned char *)(s), sizeof(s) - 1)

static void test_signatures(void **state)
{
	(void)state;
	assert_string_equal(TYPE("\x89PNG\r\n\x1a\n"), "image/png");
	assert_string_equal(TYPE("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
			    "image/png");
	assert_string_equal(TYPE("\xff\xd8\xff"), "image/jpeg");
	assert_string_equal(TYPE("\xff\xd8\xff\xe0\0\x10JFIF\0"),
			    "image/jpeg");
	assert_string_equal(TYPE("\xff\xd8\xff\xe1\0\x10" "Exif"),
			    "image/jpeg");
	assert_string_equal(TYPE("GIF87a"), "image/gif");
	assert_string_equal(TYPE("GIF89a\x01\0\x01\0"), "image/gif");
	assert_string_equal(TYPE("RIFF\x24\0\0\0WEBP"), "image/webp");
	assert_string_equal(TYPE("RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
}

/* Every signature cut one byte short is no longer an image. */
static void test_truncated(void **state)
{
	static const char *const heads[] = {
		"\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF87a", "GIF89a",
		"RIFF\x24\0\0\0WEBP",
	};
	static const size_t lens[] = {8, 3, 6, 6, 12};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_true(sniff_is_image(sniff_type(
			(const unsigned char *)heads[i], lens[i])));
		for (n = 0; n < lens[i]; n++)
			assert_string_equal(sniff_type(
				(const unsigned char *)heads[i], n),
				SNIFF_OTHER);
	}
	/* An empty file: no head at all. */
	assert_string_equal(sniff_type(NULL, 0), SNIFF_OTHER);
}

static void test_not_images(void **state)
{
	(void)state;
	/* RIFF that is not WebP: WAV, AVI; WEBP in the wrong place. */
	assert_string_equal(TYPE("RIFF\x24\0\0\0WAVEfmt "), SNIFF_OTHER);
	assert_string_equal(TYPE("RIFF\x24\0\0\0" "AVI LIST"), SNIFF_OTHER);
	assert_string_equal(TYPE("RIFFWEBP\0\0\0\0"), SNIFF_OTHER);
	assert_string_equal(TYPE("RIFF\x24\0\0\0webp"), SNIFF_OTHER);
	assert_string_equal(TYPE("RIFX\x24\0\0\0WEBP"), SNIFF_OTHER);
	/* Near misses of the others. */
	assert_string_equal(TYPE("\x89PNG\r\n\x1a\r"), SNIFF_OTHER);
	assert_string_equal(TYPE("\x89png\r\n\x1a\n"), SNIFF_OTHER);
	assert_string_equal(TYPE(" \x89PNG\r\n\x1a\n"), SNIFF_OTHER);
	assert_string_equal(TYPE("\xff\xd8\xfe"), SNIFF_OTHER);
	assert_string_equal(TYPE("\xff\xd9\xff"), SNIFF_OTHER);
	assert_string_equal(TYPE("GIF88a"), SNIFF_OTHER);
	assert_string_equal(TYPE("gif89a"), SNIFF_OTHER);
	/* What a name or a client could claim is not looked at. */
	assert_string_equal(TYPE("<svg xmlns=\"http://www.w3.org/2000/svg\">"),
			    SNIFF_OTHER);
	assert_string_equal(TYPE("<html><script>"), SNIFF_OTHER);
	assert_string_equal(TYPE("%PDF-1.7"), SNIFF_OTHER);
	assert_string_equal(TYPE("hello.png"), SNIFF_OTHER);
}

static void test_is_image(void **state)
{
	(void)state;
	assert_true(sniff_is_image("image/png"));
	assert_true(sniff_is_image("image/jpeg"));
	assert_true(sniff_is_image("image/gif"));
	assert_true(sniff_is_image("image/webp"));
	assert_false(sniff_is_image(SNIFF_OTHER));
	assert_false(sniff_is_image("text/image/png"));
	assert_false(sniff_is_image("image"));
	assert_false(sniff_is_image(""));
}

/* A recorded type comes back as sniff_type()'s own string, or as
 * application/octet-stream when it is none of them. */
static void test_known(void **state)
{
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n....";
	char copy[] = "image/png";

	(void)state;
	assert_ptr_equal(sniff_known(copy), sniff_type(png, sizeof png - 1));
	assert_string_equal(sniff_known("image/jpeg"), "image/jpeg");
	assert_string_equal(sniff_known("image/gif"), "image/gif");
	assert_string_equal(sniff_known("image/webp"), "image/webp");
	assert_ptr_equal(sniff_known("text/html"), sniff_known("x"));
	assert_string_equal(sniff_known("text/html"), SNIFF_OTHER);
	assert_string_equal(sniff_known("image/png; x"), SNIFF_OTHER);
	assert_string_equal(sniff_known(""), SNIFF_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_images),
		cmocka_unit_test(test_is_image),
		cmocka_unit_test(test_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
