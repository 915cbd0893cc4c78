#include "ignore.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* "./a//b/../c/" -> "a/c"; a leading "/" goes; "" stays "" ("." too). */
static char *clean(const char *p)
{
	char *out = xmalloc(strlen(p) + 1), *o = out;

	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* up one part, not above the context */
			while (o > out && o[-1] != '/')
				o--;
			if (o > out)
				o--;
		} else {
			if (o > out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

void ignore_load(struct ignore *ig, const char *text)
{
	const char *l = text;

	while (l && *l) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char *line = xstrndup(l, n), *p = line, *c;
		int exception = 0;

		l = end ? end + 1 : NULL;
		/* blanks around it do not count */
		p += strspn(p, " \t\r");
		for (size_t k = strlen(p); k && strchr(" \t\r", p[k - 1]); k--)
			p[k - 1] = '\0';
		if (!*p || *p == '#') {
			free(line);
			continue;
		}
		if (*p == '!') {
			exception = 1;
			p++;
			p += strspn(p, " \t");
		}
		c = clean(p);
		if (*c) {
			strv_pushf(&ig->pat, "%s%s", exception ? "!" : "", c);
			ig->exceptions |= exception;
		}
		free(c);
		free(line);
	}
}

/* [...] at p against ch; *next gets the character after "]". */
static int class_match(const char *p, char ch, const char **next)
{
	int neg = 0, hit = 0;

	p++;
	if (*p == '^' || *p == '!') {
		neg = 1;
		p++;
	}
	for (int first = 1; *p && (*p != ']' || first); first = 0) {
		char lo = *p == '\\' && p[1] ? *++p : *p, hi = lo;

		p++;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = p[1] == '\\' && p[2] ? p[2] : p[1];
			p += p[1] == '\\' && p[2] ? 3 : 2;
		}
		if (ch >= lo && ch <= hi)
			hit = 1;
	}
	if (*p != ']') /* an unclosed class matches nothing */
		return -1;
	*next = p + 1;
	return hit != neg && ch != '/';
}

/* Pairs (place in the pattern, place in the name) known not to match,
 * for glob() and for skip() (a "**" + "/" moving past one part of the
 * name): each is worked out once, and each step of a star either moves on
 * in the pattern or by one character in the name, so matching takes
 * O(pattern x name) time, whatever runs of stars it holds. */
struct memo {
	const char *p0, *s0;
	size_t slen;         /* strlen(s0) + 1 */
	unsigned char *no, *noskip;
};

static int glob(struct memo *m, const char *p, const char *s);

static int known(const unsigned char *no, const struct memo *m, const char *p, const char *s)
{
	size_t bit = (size_t)(p - m->p0) * m->slen + (size_t)(s - m->s0);

	return no[bit / 8] & (1u << (bit % 8));
}

static void learn(unsigned char *no, const struct memo *m, const char *p, const char *s)
{
	size_t bit = (size_t)(p - m->p0) * m->slen + (size_t)(s - m->s0);

	no[bit / 8] |= (unsigned char)(1u << (bit % 8));
}

/* p is "**" + "/": the rest of the current part of s goes, then p again
 * from the next part. */
static int skip(struct memo *m, const char *p, const char *s)
{
	int r;

	if (!*s || known(m->noskip, m, p, s))
		return 0;
	r = *s == '/' ? glob(m, p, s + 1) : skip(m, p, s + 1);
	if (!r)
		learn(m->noskip, m, p, s);
	return r;
}

static int glob_from(struct memo *m, const char *p, const char *s)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			const char *rest = p + 2;

			if (*rest == '/')
				/* "**" + "/": any number of whole parts, none too */
				return glob(m, rest + 1, s) || skip(m, p, s);
			/* any run at all, "/" too; more stars add nothing ("***" is
			 * "**") */
			while (*rest == '*')
				rest++;
			return glob(m, rest, s) || (*s && glob(m, p, s + 1));
		}
		if (*p == '*')
			return glob(m, p + 1, s) || (*s && *s != '/' && glob(m, p, s + 1));
		if (!*s)
			return 0;
		if (*p == '?') {
			if (*s == '/')
				return 0;
			p++;
		} else if (*p == '[') {
			const char *next;
			int hit = class_match(p, *s, &next);

			if (hit <= 0)
				return 0;
			p = next;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return 0;
			p++;
		}
		s++;
	}
	return !*s;
}

static int glob(struct memo *m, const char *p, const char *s)
{
	if (known(m->no, m, p, s))
		return 0;
	if (glob_from(m, p, s))
		return 1;
	learn(m->no, m, p, s);
	return 0;
}

int ignore_glob(const char *p, const char *s)
{
	struct memo m = {p, s, strlen(s) + 1, NULL, NULL};
	size_t bytes = (strlen(p) + 1) * m.slen / 8 + 1;
	int r;

	m.no = xcalloc(bytes, 1);
	m.noskip = xcalloc(bytes, 1);
	r = glob(&m, p, s);
	free(m.no);
	free(m.noskip);
	return r;
}

int ignore_match(const struct ignore *ig, const char *path)
{
	int out = 0;

	for (size_t i = 0; i < ig->pat.n; i++) {
		const char *pat = ig->pat.v[i];
		int exception = *pat == '!', hit;

		pat += exception;
		hit = ignore_glob(pat, path);
		/* a pattern that matches a parent folder matches what is in it */
		for (const char *q = path; !hit && (q = strchr(q, '/')); q++) {
			char *parent = xstrndup(path, (size_t)(q - path));

			hit = ignore_glob(pat, parent);
			free(parent);
		}
		if (hit)
			out = !exception;
	}
	return out;
}

void ignore_free(struct ignore *ig)
{
	strv_free(&ig->pat);
	ig->exceptions = 0;
}
