/* strv: NULL-terminated vectors of owned strings, and word splitting. */
#ifndef KC_STRV_H
#define KC_STRV_H

#include <stddef.h>

#include "err.h"

struct strv {
	char **v; /* owned, NULL-terminated once non-empty */
	size_t n, cap;
};

#define STRV_INIT {NULL, 0, 0}

void strv_push(struct strv *s, const char *str); /* copies str */
void strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Remove and free the last string. */
void strv_pop(struct strv *s);
/* 1 if s holds str. */
int strv_has(const struct strv *s, const char *str);
/* Sort s's strings in strcmp() order. */
void strv_sort(struct strv *s);
void strv_free(struct strv *s);

/* Split a command line into words: blanks separate, '...' and "..." quote,
 * backslash escapes the next character outside single quotes.  No
 * expansion of any kind.  Fails on an unterminated quote. */
const struct error *strv_split(struct strv *out, const char *line);

#endif
