#include "strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

int strv_push(struct strv *s, const char *str)
{
	char *copy;

	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		char **v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return err_set("out of memory");
		s->v = v;
		s->cap = cap;
	}
	if (!(copy = strdup(str)))
		return err_set("out of memory");
	s->v[s->n++] = copy;
	s->v[s->n] = NULL;
	return 0;
}

int strv_pushf(struct strv *s, const char *fmt, ...)
{
	char *p;
	int r;
	va_list ap;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err_set("out of memory");
	r = strv_push(s, p);
	free(p);
	return r;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int strv_split(struct strv *out, const char *line)
{
	struct buf w = BUF_INIT;
	const char *p = line;
	int inword = 0, rc = -1;

	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (inword) {
				if (strv_push(out, buf_str(&w)) < 0)
					goto out;
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
				if (buf_append(&w, end, 1) < 0)
					goto out;
				end++;
			}
			if (*end != c) {
				err_set("unterminated %c quote", c);
				goto out;
			}
			p = end + 1;
		} else {
			if (c == '\\' && p[1])
				p++;
			inword = 1;
			if (buf_append(&w, p, 1) < 0)
				goto out;
			p++;
		}
	}
	rc = 0;
out:
	buf_free(&w);
	return rc;
}
