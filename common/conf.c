#include "conf.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "report.h"

/* inih cuts section names at this many characters. */
#define SECTION_MAX 49

void diag_add(struct diag *d, const char *path, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Values quoted from a file stay text: no terminal escapes. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	if (line > 0)
		strv_pushf(&d->lines, "%s:%d: %s", path, line, msg);
	else
		strv_pushf(&d->lines, "%s: %s", path, msg);
}

/* "path:line: message": order by path, then line number. */
static int by_place(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	const char *cx = strchr(x, ':'), *cy = strchr(y, ':');
	size_t lx = cx ? (size_t)(cx - x) : strlen(x), ly = cy ? (size_t)(cy - y) : strlen(y);
	int r = strncmp(x, y, lx < ly ? lx : ly);

	if (r || lx != ly)
		return r ? r : lx < ly ? -1 : 1;
	return (int)(cx ? strtol(cx + 1, NULL, 10) : 0) - (int)(cy ? strtol(cy + 1, NULL, 10) : 0);
}

void diag_sort(struct diag *d)
{
	if (d->lines.n > 1)
		qsort(d->lines.v, d->lines.n, sizeof *d->lines.v, by_place);
}

const struct error *diag_report(struct diag *d, const char *what)
{
	if (d->lines.n == 0)
		return NULL;
	diag_sort(d);
	for (size_t i = 0; i < d->lines.n; i++)
		report_text(REPORT_STDERR, "%s\n", d->lines.v[i]);
	return error_fmt("%s: %zu problem%s (listed above)", what, d->lines.n, d->lines.n == 1 ? "" : "s");
}

void diag_free(struct diag *d)
{
	strv_free(&d->lines);
}

/* State of one parse: inih tells us no line numbers, so the reader counts
 * them and notes section headers as it passes them. */
struct parse {
	struct conf *c;
	struct diag *d;
	int line;
	FILE *f;            /* either f ... */
	const char *text;   /* ... or text */
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

static void note_section(struct parse *p, const char *raw)
{
	char tmp[512], *s, *end;
	struct conf *c = p->c;

	snprintf(tmp, sizeof tmp, "%s", raw);
	s = trim(tmp);
	if (s[0] != '[' || !(end = strchr(s, ']')))
		return;
	*end = '\0';
	if (strlen(s + 1) > SECTION_MAX) {
		diag_add(p->d, c->path, p->line, "section name \"%.20s...\" is longer than %d characters", s + 1,
			 SECTION_MAX);
		return;
	}
	if (c->ns == c->scap) {
		c->scap = c->scap ? c->scap * 2 : 8;
		c->s = xrealloc(c->s, c->scap * sizeof *c->s);
	}
	for (size_t i = 0; i < c->ns; i++)
		if (strcmp(c->s[i].name, s + 1) == 0) {
			diag_add(p->d, c->path, p->line, "section [%s] appears twice (first on line %d)",
				 s + 1, c->s[i].line);
			return;
		}
	c->s[c->ns].name = xstrdup(s + 1);
	c->s[c->ns].line = p->line;
	c->ns++;
}

/* One whole line into str.  A line too long for inih's buffer is cut and
 * reported (the rest skipped, so line numbers stay right); leading blanks
 * are dropped so that an indented key is a key, not a continuation. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t n = 0, max = (size_t)num - 2; /* room for "\n\0" */
	int c, cut = 0, nul = 0;

	if (p->f ? feof(p->f) : !*p->text)
		return NULL;
	for (;;) {
		c = p->f ? getc(p->f) : (*p->text ? (unsigned char)*p->text++ : EOF);
		if (c == EOF || c == '\n')
			break;
		if (c == '\0') {
			/* inih would end the line there: "x\0evil" read as "x". */
			nul = 1;
			continue;
		}
		if (n < max)
			str[n++] = (char)c;
		else
			cut = 1;
	}
	if (c == EOF && n == 0 && !cut)
		return NULL;
	str[n++] = '\n';
	str[n] = '\0';
	p->line++;
	if (cut)
		diag_add(p->d, p->c->path, p->line, "line longer than %zu characters", max);
	if (nul)
		diag_add(p->d, p->c->path, p->line, "the line holds a NUL byte");
	n = strspn(str, " \t");
	memmove(str, str + n, strlen(str + n) + 1);
	note_section(p, str);
	return str;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct conf *c = p->c;
	struct conf_entry *e;

	if (!key)
		return 1;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0) {
			diag_add(p->d, c->path, p->line, "key \"%s\" appears twice in [%s] (first on line %d)",
				 key, section, c->e[i].line);
			return 1;
		}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->e = xrealloc(c->e, c->cap * sizeof *c->e);
	}
	e = &c->e[c->n++];
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->line = p->line;
	e->used = 0;
	return 1;
}

static void run(struct conf *c, const char *path, FILE *f, const char *text, struct diag *d)
{
	struct parse p = {c, d, 0, f, text};
	int r;

	memset(c, 0, sizeof *c);
	c->path = xstrdup(path);
	r = ini_parse_stream(reader, &p, handler, &p);
	if (r > 0)
		diag_add(d, path, r, "not a key = value line, a [section] or a comment");
	else if (r < 0)
		report_out_of_memory();
}

const struct error *conf_load(struct conf *c, const char *path, struct diag *d)
{
	FILE *f = fopen(path, "re");

	if (!f) {
		memset(c, 0, sizeof *c);
		return error_errno("reading \"%s\"", path);
	}
	run(c, path, f, NULL, d);
	fclose(f);
	return NULL;
}

void conf_load_string(struct conf *c, const char *path, const char *text, struct diag *d)
{
	run(c, path, NULL, text, d);
}

struct conf_entry *conf_get(struct conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0) {
			c->e[i].used = 1;
			return &c->e[i];
		}
	return NULL;
}

const char *conf_peek(const struct conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0)
			return c->e[i].value;
	return NULL;
}

const char *conf_value(struct conf *c, const char *section, const char *key)
{
	struct conf_entry *e = conf_get(c, section, key);

	return e ? e->value : NULL;
}

int conf_section_line(const struct conf *c, const char *section)
{
	for (size_t i = 0; i < c->ns; i++)
		if (strcmp(c->s[i].name, section) == 0)
			return c->s[i].line;
	return 0;
}

void conf_unknown(struct conf *c, struct diag *d)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->e[i].used)
			diag_add(d, c->path, c->e[i].line, "unknown key \"%s\" in [%s]",
				 c->e[i].key, c->e[i].section);
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
	}
	for (size_t i = 0; i < c->ns; i++)
		free(c->s[i].name);
	free(c->e);
	free(c->s);
	free(c->path);
	memset(c, 0, sizeof *c);
}
