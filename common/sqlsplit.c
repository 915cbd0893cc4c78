#include "sqlsplit.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "err.h"

/* Room in the buffer beyond max_statement: the delimiter, "\r", some blanks. */
#define SLACK 64
#define EXCERPT 60
#define SANDBOX "/*M!999999\\- "

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The start of s for a message: at most EXCERPT bytes (not cutting a UTF-8
 * character), control characters as blanks, "..." if cut. */
static const char *excerpt(const char *s, char out[EXCERPT + 4])
{
	size_t n = strnlen(s, EXCERPT + 1);

	if (n > EXCERPT) {
		n = EXCERPT;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	strcpy(out + n, s[n] ? "..." : "");
	return out;
}

void sqlsplit_init(struct sqlsplit *s, size_t max_statement)
{
	memset(s, 0, sizeof *s);
	s->b = (struct buf)BUF_INIT;
	s->max = max_statement;
	s->limit = max_statement > SIZE_MAX / 2 ? SIZE_MAX / 2 : max_statement + SLACK;
	s->lineno = 1;
	memcpy(s->delim, ";", 2);
	s->delim_len = 1;
}

void sqlsplit_free(struct sqlsplit *s)
{
	buf_free(&s->b);
}

static const struct error *too_long(struct sqlsplit *s, size_t start_line)
{
	char ex[EXCERPT + 4];

	return error_fmt("line %zu: statement longer than %zu bytes (\"%s\")", start_line, s->max,
			 excerpt(buf_str(&s->b), ex));
}

/* Add to the line being read. */
static const struct error *add(struct sqlsplit *s, const char *p, size_t n)
{
	if (n > s->limit - s->b.len) {
		/* Up to the limit, for the start of the statement in the message. */
		buf_append(&s->b, p, s->limit - s->b.len);
		return too_long(s, s->line_start ? s->line : s->lineno);
	}
	buf_append(&s->b, p, n);
	return NULL;
}

static void reset(struct sqlsplit *s)
{
	s->b.len = 0;
	if (s->b.data)
		s->b.data[0] = '\0';
	s->line_start = 0;
}

/* p[0..n) is a trimmed line starting with "delimiter" and a blank. */
static const struct error *set_delimiter(struct sqlsplit *s, const char *p, size_t n)
{
	size_t i = 9, j;

	while (i < n && blank(p[i]))
		i++;
	if (i == n)
		return error_fmt("line %zu: DELIMITER without a delimiter", s->lineno);
	for (j = i; j < n && !blank(p[j]); j++)
		if (p[j] == '\\')
			return error_fmt("line %zu: a delimiter cannot hold a backslash", s->lineno);
	if (j < n)
		return error_fmt("line %zu: DELIMITER takes one word", s->lineno);
	if (j - i >= sizeof s->delim)
		return error_fmt("line %zu: delimiter longer than %zu characters", s->lineno, sizeof s->delim - 1);
	memcpy(s->delim, p + i, j - i);
	s->delim[j - i] = '\0';
	s->delim_len = j - i;
	return NULL;
}

/* Outside a statement: whether the trimmed line p[0..n) is skipped (and
 * handled then): *skip 1 if so. */
static const struct error *skip_line(struct sqlsplit *s, const char *p, size_t n, int *skip)
{
	size_t sl = strlen(SANDBOX);

	*skip = 1;
	while (n > 0 && blank(*p)) {
		p++;
		n--;
	}
	if (n == 0)
		return NULL;
	if (n >= 2 && p[0] == '-' && p[1] == '-' && (n == 2 || blank(p[2])))
		return NULL;
	if (n >= sl + 2 && memcmp(p, SANDBOX, sl) == 0 && memcmp(p + n - 2, "*/", 2) == 0)
		return NULL;
	if (n >= 9 && strncasecmp(p, "delimiter", 9) == 0 && (n == 9 || blank(p[9])))
		return set_delimiter(s, p, n);
	*skip = 0;
	return NULL;
}

/* The line being read is complete (without its "\n"). */
static const struct error *end_line(struct sqlsplit *s, sqlsplit_fn fn, void *ctx)
{
	const struct error *err = NULL;
	char *d = s->b.data;
	size_t end = s->b.len, n;
	int skip;

	while (end > s->line_start && blank(d[end - 1]))
		end--;
	if (s->line_start == 0) {
		err = skip_line(s, d, end, &skip);
		if (err || skip) {
			reset(s);
			return err;
		}
		s->line = s->lineno;
	}
	if (end - s->line_start < s->delim_len || memcmp(d + end - s->delim_len, s->delim, s->delim_len) != 0) {
		if ((err = add(s, "\n", 1)))
			return err;
		s->line_start = s->b.len;
		return NULL;
	}
	n = end - s->delim_len;
	while (n > 0 && (blank(d[n - 1]) || d[n - 1] == '\n'))
		n--;
	d[n] = '\0';
	if (n > s->max)
		err = too_long(s, s->line);
	else if (n > 0)
		err = fn(ctx, d, n);
	reset(s);
	return err;
}

const struct error *sqlsplit_feed(struct sqlsplit *s, const char *data, size_t len, sqlsplit_fn fn, void *ctx)
{
	const struct error *err;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if ((err = add(s, data, n)))
			return err;
		if (!nl)
			break;
		data += n + 1;
		len -= n + 1;
		if ((err = end_line(s, fn, ctx)))
			return err;
		s->lineno++;
	}
	return NULL;
}

const struct error *sqlsplit_finish(struct sqlsplit *s, sqlsplit_fn fn, void *ctx)
{
	const struct error *err;
	char ex[EXCERPT + 4];

	if (s->b.len > s->line_start && (err = end_line(s, fn, ctx)))
		return err;
	if (s->b.len > 0)
		return error_fmt("the dump ends inside a statement (truncated?): line %zu: \"%s\"", s->line,
				 excerpt(s->b.data, ex));
	return NULL;
}
