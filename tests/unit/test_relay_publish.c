/* Unit tests of the relay's channel splitting (publisher_next_ids,
 * relay_publish.c): every id goes out exactly once, in order, in requests
 * of at most PUBLISH_CHANNELS_MAX ids and PUBLISH_IDS_MAX bytes; and of
 * its pipeline's queue (publisher_queue), which holds at most
 * PIPELINE_MAX requests of PIPELINE_BYTES in all. Nothing here connects:
 * the pipeline's sending is tested through nginx by the relay's
 * integration tests. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "relay_publish.h"

/* Splits list and checks each request against the limits; returns the
 * requests joined again with commas, and their number in *n. */
static char *split(const char *list, int *n)
{
	char out[PUBLISH_IDS_MAX + 1];
	struct buf all;
	size_t off = 0;

	buf_init(&all);
	*n = 0;
	while (publisher_next_ids(list, &off, out, sizeof out)) {
		size_t len = strlen(out), ids = 1, i;

		for (i = 0; i < len; i++)
			ids += out[i] == ',';
		assert_true(len <= PUBLISH_IDS_MAX);
		assert_true(ids <= PUBLISH_CHANNELS_MAX);
		assert_true(out[0] != ',' && out[len - 1] != ',');
		if (all.len > 0)
			buf_putc(&all, ',');
		buf_puts(&all, out);
		(*n)++;
	}
	assert_true(off == strlen(list));
	buf_putc(&all, '\0');
	return all.data;
}

static void test_small(void **state)
{
	char *s;
	int n;

	(void)state;
	s = split("u1,u2,u40", &n);
	assert_string_equal(s, "u1,u2,u40");
	assert_int_equal(n, 1);
	free(s);
	s = split("s7", &n);
	assert_string_equal(s, "s7");
	assert_int_equal(n, 1);
	free(s);
	s = split("", &n);
	assert_int_equal(n, 0);
	free(s);
	s = split(",,u1,,u2,", &n);	/* empty ids are no channels */
	assert_string_equal(s, "u1,u2");
	free(s);
}

/* n ids u<first>, u<first + 1>, ... */
static char *ids(int first, int n)
{
	struct buf b;
	char id[24];
	int i;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%su%d", i ? "," : "", first + i);
		buf_puts(&b, id);
	}
	buf_putc(&b, '\0');
	return b.data;
}

static void test_count_limit(void **state)
{
	/* 300 ids of 2 bytes: 899 bytes, but more ids than one request
	 * takes */
	struct buf b;
	char *s;
	int i, n;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 300; i++)
		buf_puts(&b, i ? ",u7" : "u7");
	buf_putc(&b, '\0');
	s = split(b.data, &n);
	assert_string_equal(s, b.data);
	assert_int_equal(n, 2);	/* 255 and 45 */
	free(s);
	buf_free(&b);
}

static void test_byte_limit(void **state)
{
	/* 200 ids of 11 bytes: 2,399 bytes, within the count */
	char *list = ids(1000000000, 200), *s;
	int n;

	(void)state;
	s = split(list, &n);
	assert_string_equal(s, list);
	assert_int_equal(n, 3);	/* 85 ids (1,019 bytes) a request */
	free(s);
	free(list);
}

static void test_oversized_id(void **state)
{
	char *list = malloc(PUBLISH_IDS_MAX + 20), *s;
	int n;

	(void)state;
	strcpy(list, "u1,");
	memset(list + 3, '9', PUBLISH_IDS_MAX + 1);
	strcpy(list + 3 + PUBLISH_IDS_MAX + 1, ",u2");
	s = split(list, &n);
	assert_string_equal(s, "u1,u2");	/* no request could carry it */
	free(s);
	free(list);
}

/* The subscriber count of a channel's info, as nchan 1.3 writes it for
 * "Accept: text/json"; -1 for anything else. */
static void test_subscribers(void **state)
{
	(void)state;
	assert_int_equal(publisher_subscribers("{\"messages\": 3, "
	    "\"requested\": -1, \"subscribers\": 2, "
	    "\"last_message_id\": \"1796181370:0\" }"), 2);
	assert_int_equal(publisher_subscribers("{\"messages\": 4, "
	    "\"requested\": -1, \"subscribers\": 0 }"), 0);
	assert_int_equal(publisher_subscribers("{\"subscribers\":17}"), 17);
	assert_int_equal(publisher_subscribers(""), -1);
	assert_int_equal(publisher_subscribers("active subscribers: 2"), -1);
	assert_int_equal(publisher_subscribers("{\"subscribers\": }"), -1);
	assert_int_equal(publisher_subscribers("{\"subscribers\": -3}"), -1);
	assert_int_equal(publisher_subscribers(
	    "{\"subscribers\": 99999999999999999999999}"), -1);
}

/* The queue takes requests up to PIPELINE_MAX, then refuses; unqueue
 * keeps the first ones, and the queue takes more again after. */
static void test_pipeline_count(void **state)
{
	struct publisher *p = publisher_new("unix:/nonexistent/chatd-test");
	size_t i;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < PIPELINE_MAX; i++)
		assert_true(publisher_queue(p, "POST", "u1,u2", "{}", 2));
	assert_int_equal(publisher_queued(p), PIPELINE_MAX);
	assert_false(publisher_queue(p, "POST", "u1", "{}", 2));
	assert_int_equal(publisher_queued(p), PIPELINE_MAX);
	publisher_unqueue(p, 10);
	assert_int_equal(publisher_queued(p), 10);
	assert_true(publisher_queue(p, "DELETE", "s1", NULL, 0));
	assert_int_equal(publisher_queued(p), 11);
	publisher_unqueue(p, 0);
	assert_int_equal(publisher_queued(p), 0);
	publisher_free(p);
}

/* The queue takes bodies up to PIPELINE_BYTES in all: a body that would
 * pass it is refused and leaves the queue as it was, but for the first
 * request of a batch. */
static void test_pipeline_bytes(void **state)
{
	struct publisher *p = publisher_new("unix:/nonexistent/chatd-test");
	size_t big = PIPELINE_BYTES / 3;
	char *body = malloc(big);

	(void)state;
	assert_non_null(p);
	assert_non_null(body);
	memset(body, 'x', big);
	assert_true(publisher_queue(p, "POST", "u1", body, big));
	assert_true(publisher_queue(p, "POST", "u2", body, big));
	assert_false(publisher_queue(p, "POST", "u3", body, big));
	assert_int_equal(publisher_queued(p), 2);
	assert_true(publisher_queue(p, "POST", "u3", "{}", 2));
	assert_false(publisher_queue(p, "POST", "u4", body, PIPELINE_BYTES));
	assert_int_equal(publisher_queued(p), 3);
	free(body);
	/* A first request is taken whatever its size: an event's body is
	 * never too big to publish. */
	publisher_unqueue(p, 0);
	body = calloc(1, PIPELINE_BYTES + 1);
	assert_non_null(body);
	assert_true(publisher_queue(p, "POST", "u5", body, PIPELINE_BYTES + 1));
	assert_false(publisher_queue(p, "POST", "u6", "{}", 2));
	free(body);
	publisher_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_oversized_id),
		cmocka_unit_test(test_subscribers),
		cmocka_unit_test(test_pipeline_count),
		cmocka_unit_test(test_pipeline_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
