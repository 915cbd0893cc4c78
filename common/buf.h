/* buf: a growable byte buffer, always NUL-terminated.  Appending does not
 * fail (mem.h). */
#ifndef KC_BUF_H
#define KC_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len, cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_append(struct buf *b, const void *p, size_t n);
/* s without its NUL. */
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
const char *buf_str(const struct buf *b); /* "" when empty */
/* The text without trailing blanks and newlines, as "%.*s" wants it. */
int buf_trimmed_len(const struct buf *b);
void buf_free(struct buf *b);

#endif
