/* mem: allocation that does not fail.  korcluster is a command that runs
 * to its end: when memory runs out it stops with "out of memory" (exit 1),
 * as git does, rather than carry the case through every string it builds. */
#ifndef KC_MEM_H
#define KC_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

#endif
