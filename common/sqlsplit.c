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

static int too_long(struct sqlsplit *s, size_t start_line)
{
	char ex[EXCERPT + 4];

	return err_set("line %zu: statement longer than %zu bytes (\"%s\")", start_line, s->max,
		       excerpt(buf_str(&s->b), ex));
}

/* Add to the line being read. */
static int add(struct sqlsplit *s, const char *p, size_t n)
{
	if (n > s->limit - s->b.len) {
		/* Up to the limit, for the start of the statement in the message. */
		buf_append(&s->b, p, s->limit - s->b.len);
		return too_long(s, s->line_start ? s->line : s->lineno);
	}
	return buf_append(&s->b, p, n);
}

static void reset(struct sqlsplit *s)
{
	s->b.len = 0;
	if (s->b.data)
		s->b.data[0] = '\0';
	s->line_start = 0;
}

/* p[0..n) is a trimmed line starting with "delimiter" and a blank. */
static int set_delimiter(struct sqlsplit *s, const char *p, size_t n)
{
	size_t i = 9, j;

	while (i < n && blank(p[i]))
		i++;
	if (i == n)
		return err_set("line %zu: DELIMITER without a delimiter", s->lineno);
	for (j = i; j < n && !blank(p[j]); j++)
		if (p[j] == '\\')
			return err_set("line %zu: a delimiter cannot hold a backslash", s->lineno);
	if (j < n)
		return err_set("line %zu: DELIMITER takes one word", s->lineno);
	if (j - i >= sizeof s->delim)
		return err_set("line %zu: delimiter longer than %zu characters", s->lineno, sizeof s->delim - 1);
	memcpy(s->delim, p + i, j - i);
	s->delim[j - i] = '\0';
	s->delim_len = j - i;
	return 0;
}

/* Outside a statement: whether the trimmed line p[0..n) is skipped (and
 * handle it then), 1 if so, 0 if not, -1 on error. */
static int skip_line(struct sqlsplit *s, const char *p, size_t n)
{
	size_t sl = strlen(SANDBOX);

	while (n > 0 && blank(*p)) {
		p++;
		n--;
	}
	if (n == 0)
		return 1;
	if (n >= 2 && p[0] == '-' && p[1] == '-' && (n == 2 || blank(p[2])))
		return 1;
	if (n >= sl + 2 && memcmp(p, SANDBOX, sl) == 0 && memcmp(p + n - 2, "*/", 2) == 0)
		return 1;
	if (n >= 9 && strncasecmp(p, "delimiter", 9) == 0 && (n == 9 || blank(p[9])))
		return set_delimiter(s, p, n) < 0 ? -1 : 1;
	return 0;
}

/* The line being read is complete (without its "\n"). */
static int end_line(struct sqlsplit *s, sqlsplit_fn fn, void *ctx)
{
	char *d = s->b.data;
	size_t end = s->b.len, n;
	int rc;

	while (end > s->line_start && blank(d[end - 1]))
		end--;
	if (s->line_start == 0) {
		rc = skip_line(s, d, end);
		if (rc != 0) {
			reset(s);
			return rc < 0 ? -1 : 0;
		}
		s->line = s->lineno;
	}
	if (end - s->line_start < s->delim_len || memcmp(d + end - s->delim_len, s->delim, s->delim_len) != 0) {
		if (add(s, "\n", 1) < 0)
			return -1;
		s->line_start = s->b.len;
		return 0;
	}
	n = end - s->delim_len;
	while (n > 0 && (blank(d[n - 1]) || d[n - 1] == '\n'))
		n--;
	d[n] = '\0';
	rc = 0;
	if (n > s->max)
		rc = too_long(s, s->line);
	else if (n > 0)
		rc = fn(ctx, d, n);
	reset(s);
	return rc;
}

int sqlsplit_feed(struct sqlsplit *s, const char *data, size_t len, sqlsplit_fn fn, void *ctx)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (add(s, data, n) < 0)
			return -1;
		if (!nl)
			break;
		data += n + 1;
		len -= n + 1;
		if (end_line(s, fn, ctx) < 0)
			return -1;
		s->lineno++;
	}
	return 0;
}

int sqlsplit_finish(struct sqlsplit *s, sqlsplit_fn fn, void *ctx)
{
	char ex[EXCERPT + 4];

	if (s->b.len > s->line_start && end_line(s, fn, ctx) < 0)
		return -1;
	if (s->b.len > 0)
		return err_set("the dump ends inside a statement (truncated?): line %zu: \"%s\"", s->line,
			       excerpt(s->b.data, ex));
	return 0;
}
