/* A growable byte buffer. Out-of-memory policy for all of chatd: allocation
 * failure aborts the process (a worker is respawned by the master), so no
 * caller checks for NULL from these functions. */
#ifndef CHATD_BUF_H
#define CHATD_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;	/* owned; NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empties the buffer, keeping its memory for reuse. */
void buf_reset(struct buf *b);
/* The slow path of buf_reserve(): grows the buffer. */
char *buf_grow(struct buf *b, size_t n);

/* Makes room for n more bytes (and a NUL after them) and returns where
 * they go. Inline: responses are built from many small pieces, and the
 * room is nearly always there already. */
static inline char *buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len > n)
		return b->data + b->len;
	return buf_grow(b, n);
}

static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	char *dst = buf_reserve(b, n);

	memcpy(dst, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
	char *dst = buf_reserve(b, 1);

	dst[0] = c;
	dst[1] = '\0';
	b->len++;
}

/* Allocators that never return NULL (see the policy above). */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

#endif
