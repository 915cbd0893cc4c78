/* strv: NULL-terminated vectors of owned strings, and word splitting. */
#ifndef KC_STRV_H
#define KC_STRV_H

#include <stddef.h>

struct strv {
	char **v; /* owned, NULL-terminated once non-empty */
	size_t n, cap;
};

#define STRV_INIT {NULL, 0, 0}

int strv_push(struct strv *s, const char *str);          /* copies str */
int strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);

/* Split a command line into words: blanks separate, '...' and "..." quote,
 * backslash escapes the next character outside single quotes.  No
 * expansion of any kind.  Fails on an unterminated quote. */
int strv_split(struct strv *out, const char *line);

#endif
