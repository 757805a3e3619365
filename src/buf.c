#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

void *xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		log_error("out of memory (%zu bytes)", n);
		abort();
	}
	return q;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;

	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2) {
			log_error("buffer size overflow");
			abort();
		}
		cap *= 2;
	}
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return b->data + b->len;
}
