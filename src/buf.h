/* A growable byte buffer. Out-of-memory policy for all of chatd: allocation
 * failure aborts the process (a worker is respawned by the master), so no
 * caller checks for NULL from these functions. */
#ifndef CHATD_BUF_H
#define CHATD_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* owned; NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empties the buffer, keeping its memory for reuse. */
void buf_reset(struct buf *b);
/* Makes room for n more bytes and returns where they go. */
char *buf_reserve(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocators that never return NULL (see the policy above). */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

#endif
