#include "strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = xstrdup(str);
	s->v[s->n] = NULL;
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	char *p;
	va_list ap;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	strv_push(s, p);
	free(p);
}

void strv_pop(struct strv *s)
{
	if (!s->n)
		return;
	free(s->v[--s->n]);
	s->v[s->n] = NULL;
}

int strv_has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

static int by_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, by_strcmp);
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

const struct error *strv_split(struct strv *out, const char *line)
{
	struct buf w = BUF_INIT;
	const struct error *err = NULL;
	const char *p = line;
	int inword = 0;

	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (inword) {
				strv_push(out, buf_str(&w));
				buf_consume(&w, w.len);
				inword = 0;
			}
			if (c == '\0')
				break;
			p++;
		} else if (c == '\'' || c == '"') {
			const char *end = p + 1;

			inword = 1;
			while (*end && *end != c) {
				if (c == '"' && *end == '\\' && end[1])
					end++;
				buf_append(&w, end, 1);
				end++;
			}
			if (*end != c) {
				err = error_fmt("unterminated %c quote", c);
				break;
			}
			p = end + 1;
		} else {
			if (c == '\\' && p[1])
				p++;
			inword = 1;
			buf_append(&w, p, 1);
			p++;
		}
	}
	buf_free(&w);
	return err;
}
