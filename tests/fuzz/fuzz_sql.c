/* fuzz_sql: the dump splitter (sqlsplit.h) and the statement check
 * (sqlcheck.h).
 *
 * The first byte picks how the rest is fed: in chunks of some size through
 * the splitter, each statement checked as the loader checks it, or whole as
 * one statement.  Besides memory errors, one property: a statement that
 * sqlcheck lets through must not be, as the server reads it, one that
 * sqlcheck.h promises to refuse.  "As the server reads it" is the model
 * below, written apart from sqlcheck.c after the servers' lexers (MySQL's
 * and MariaDB's sql_lex.cc): comments, executable comments at every
 * version, strings, numbers.  It says "not sure" for what it does not
 * model (bytes past ASCII, NUL, comments inside executable comments,
 * optimizer hints...), and then nothing is claimed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/err.h"
#include "../../common/sqlcheck.h"
#include "../../common/sqlsplit.h"
#include "fuzz.h"

#define MAX_STATEMENT 65536
#define MODEL_TOKENS 4096
#define MODEL_VERSIONS 48

/* ---- the model of the server's lexer ---- */

enum mkind { M_WORD, M_NUM, M_STR, M_QID, M_VAR, M_PUNCT };

struct mtok {
	enum mkind kind;
	const char *p;
	size_t n;
};

struct mread {
	struct mtok t[MODEL_TOKENS];
	size_t n;
	int unsure;  /* the model cannot tell what the server reads */
	int invalid; /* the server refuses it as a whole (unclosed string or comment) */
};

static int m_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int m_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int m_xdigit(unsigned char c)
{
	return m_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The server's ident_map for ASCII. */
static int m_ident(unsigned char c)
{
	return m_alpha(c) || m_digit(c) || c == '_' || c == '$';
}

/* my_isspace and my_iscntrl of latin1 and utf8mb4 for ASCII. */
static int m_space(unsigned char c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

static int m_cntrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static void m_push(struct mread *r, enum mkind kind, const char *p, size_t n)
{
	if (r->n == MODEL_TOKENS) {
		r->unsure = 1;
		return;
	}
	r->t[r->n++] = (struct mtok){kind, p, n};
}

/* consume_comment(): from i (past the opening "/\*"), to past the closing
 * "*\/"; a skipped versioned comment may hold one level of plain comment. */
static size_t m_consume_comment(const char *s, size_t len, size_t i, int nest, int *closed)
{
	while (i < len) {
		char c = s[i++];

		if (nest > 0 && c == '/' && i < len && s[i] == '*') {
			int inner;

			i = m_consume_comment(s, len, i + 1, nest - 1, &inner);
			continue;
		}
		if (c == '*' && i < len && s[i] == '/') {
			*closed = 1;
			return i + 1;
		}
	}
	*closed = 0;
	return len;
}

/* A quoted run from s[i] (the quote): backslash escapes but in `...`, a
 * doubled quote is one.  The index past it, or len if unclosed. */
static size_t m_quoted(const char *s, size_t len, size_t i, int *closed)
{
	char q = s[i++];

	*closed = 0;
	while (i < len) {
		if (s[i] == '\\' && q != '`') {
			i += 2;
		} else if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i += 2;
			} else {
				*closed = 1;
				return i + 1;
			}
		} else {
			i++;
		}
	}
	return len;
}

/* Read s as the server of this kind (mysql or MariaDB) and version does. */
static void m_lex(const char *s, size_t len, int mysql, long version, struct mread *r)
{
	size_t i = 0, name_end = SIZE_MAX;
	int in_exec = 0;

	r->n = 0;
	r->unsure = r->invalid = 0;
	for (size_t k = 0; k < len; k++)
		if (s[k] == '\0' || (unsigned char)s[k] >= 0x80) {
			r->unsure = 1;
			return;
		}
	while (i < len && !r->unsure && !r->invalid) {
		unsigned char c = (unsigned char)s[i];
		size_t j;
		int closed;

		if (m_space(c)) {
			i++;
		} else if (c == '#' || (c == '-' && i + 1 < len && s[i + 1] == '-' &&
					(i + 2 == len || m_space((unsigned char)s[i + 2]) ||
					 m_cntrl((unsigned char)s[i + 2])))) {
			while (i < len && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			int maria = !mysql && i + 3 < len && s[i + 2] == 'M' && s[i + 3] == '!';
			int exec = maria || (i + 2 < len && s[i + 2] == '!');
			size_t start = i + (maria ? 4 : 3), d = 0;
			long ver = -1;

			if (in_exec) {
				r->unsure = 1; /* nested comments: not modelled */
				break;
			}
			if (i + 2 < len && s[i + 2] == '+') {
				r->unsure = 1; /* optimizer hints have a lexer of their own */
				break;
			}
			if (!exec) {
				i = m_consume_comment(s, len, i + 2, 0, &closed);
				if (!closed)
					r->invalid = 1;
				continue;
			}
			while (start + d < len && d < 7 && m_digit((unsigned char)s[start + d]))
				d++;
			if (d < 5) {
				if (maria) {
					r->unsure = 1;
					break;
				}
				in_exec = 1; /* no version: always code */
				i = start;
				continue;
			}
			if (mysql || d == 5) {
				ver = strtol((char[6]){s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], 0},
					     NULL, 10);
				d = 5;
			} else {
				ver = strtol((char[7]){s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4],
						       s[start + 5], 0},
					     NULL, 10);
				d = 6;
			}
			if (ver <= version && (mysql || maria || ver < 50700 || ver > 99999)) {
				in_exec = 1;
				i = start + d;
			} else {
				i = m_consume_comment(s, len, start, 1, &closed);
				if (!closed)
					r->invalid = 1;
			}
		} else if (in_exec && c == '*' && i + 1 < len && s[i + 1] == '/') {
			in_exec = 0;
			i += 2;
		} else if (c == '\'' || c == '"' || c == '`') {
			j = m_quoted(s, len, i, &closed);
			if (!closed)
				r->invalid = 1;
			m_push(r, c == '`' ? M_QID : M_STR, s + i, j - i);
			if (c == '`')
				name_end = j;
			i = j;
		} else if (c == '@') {
			j = i + 1;
			if (j < len && s[j] == '@') {
				/* a system variable: its parts as words, never a keyword here */
				for (j++; j < len && (m_ident((unsigned char)s[j]) || s[j] == '.'); j++)
					;
			} else if (j < len && (s[j] == '\'' || s[j] == '"' || s[j] == '`')) {
				j = m_quoted(s, len, j, &closed);
				if (!closed)
					r->invalid = 1;
			} else {
				for (; j < len && (m_ident((unsigned char)s[j]) || s[j] == '.'); j++)
					;
			}
			m_push(r, M_VAR, s + i, j - i);
			i = j;
		} else if (c == '.' && i == name_end && i + 1 < len && m_ident((unsigned char)s[i + 1])) {
			/* "name.": what follows is a name, never a keyword nor a number */
			m_push(r, M_PUNCT, s + i, 1);
			for (j = i + 1; j < len && m_ident((unsigned char)s[j]); j++)
				;
			m_push(r, M_QID, s + i + 1, j - i - 1);
			name_end = j;
			i = j;
		} else if (c == '.' && i + 1 < len && m_digit((unsigned char)s[i + 1])) {
			j = i + 1;
			goto real;
		} else if (m_digit(c)) {
			j = i;
			if (c == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'b')) {
				int hex = s[i + 1] == 'x';

				for (j = i + 2; j < len && (hex ? m_xdigit((unsigned char)s[j]) : (s[j] == '0' || s[j] == '1'));
				     j++)
					;
				if (j > i + 2 && (j == len || !m_ident((unsigned char)s[j]))) {
					m_push(r, M_NUM, s + i, j - i);
					i = j;
					continue;
				}
				goto ident;
			}
			while (j < len && m_digit((unsigned char)s[j]))
				j++;
			if (j < len && (s[j] == 'e' || s[j] == 'E')) {
				size_t k = j + 1;

				if (k < len && (s[k] == '+' || s[k] == '-'))
					k++;
				if (k < len && m_digit((unsigned char)s[k])) {
					while (k < len && m_digit((unsigned char)s[k]))
						k++;
					m_push(r, M_NUM, s + i, k - i);
					i = k;
					continue;
				}
				if (k > j + 1) {
					r->unsure = 1; /* "1e+" then no digit */
					break;
				}
				goto ident;
			}
			if (j < len && m_ident((unsigned char)s[j]))
				goto ident;
			if (j < len && s[j] == '.') {
				j++;
				goto real;
			}
			m_push(r, M_NUM, s + i, j - i);
			i = j;
			continue;
		real:
			while (j < len && m_digit((unsigned char)s[j]))
				j++;
			if (j < len && (s[j] == 'e' || s[j] == 'E')) {
				size_t k = j + 1;

				if (k < len && (s[k] == '+' || s[k] == '-'))
					k++;
				if (k >= len || !m_digit((unsigned char)s[k])) {
					r->unsure = 1;
					break;
				}
				while (k < len && m_digit((unsigned char)s[k]))
					k++;
				j = k;
			}
			m_push(r, M_NUM, s + i, j - i);
			i = j;
			continue;
		ident:
			while (j < len && m_ident((unsigned char)s[j]))
				j++;
			m_push(r, M_WORD, s + i, j - i);
			name_end = j;
			i = j;
		} else if (m_ident(c)) {
			for (j = i; j < len && m_ident((unsigned char)s[j]); j++)
				;
			m_push(r, M_WORD, s + i, j - i);
			name_end = j;
			i = j;
		} else {
			m_push(r, M_PUNCT, s + i, 1);
			i++;
		}
	}
}

static int m_is(const struct mtok *t, const char *kw)
{
	return t->kind == M_WORD && strlen(kw) == t->n && strncasecmp(t->p, kw, t->n) == 0;
}

static int m_is_any(const struct mtok *t, const char *const *kws)
{
	for (; *kws; kws++)
		if (m_is(t, *kws))
			return 1;
	return 0;
}

static const char *const m_first[] = {"SET", "CREATE", "DROP", "ALTER", "INSERT", "REPLACE", "LOCK", "UNLOCK",
				      "COMMIT", NULL};
static const char *const m_objects[] = {"TABLE", "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "INDEX",
					"SEQUENCE", NULL};
static const char *const m_not_objects[] = {"DATABASE", "SCHEMA", "USER", "ROLE", "SERVER", "TABLESPACE",
					    "LOGFILE", "INSTANCE", NULL};

/* What the server would run that sqlcheck.h promises to refuse, or NULL. */
static const char *m_refused(const struct mread *r)
{
	const struct mtok *t = r->t;

	if (r->n == 0)
		return NULL;
	for (size_t i = 0; i + 1 < r->n; i++) {
		const struct mtok *a = &t[i], *b = &t[i + 1];

		if (m_is(a, "LOAD") && (m_is(b, "DATA") || m_is(b, "XML")))
			return "LOAD DATA";
		if (m_is(a, "INTO") && (m_is(b, "OUTFILE") || m_is(b, "DUMPFILE")))
			return "INTO OUTFILE";
		if ((m_is(a, "DATA") || m_is(a, "INDEX")) && m_is(b, "DIRECTORY"))
			return "DATA DIRECTORY";
		if ((m_is(a, "CREATE") || m_is(a, "DROP") || m_is(a, "ALTER")) &&
		    (m_is(b, "DATABASE") || m_is(b, "SCHEMA")))
			return "CREATE DATABASE";
	}
	for (size_t i = 0; i < r->n; i++)
		if (m_is(&t[i], "SONAME") || m_is(&t[i], "LOAD_FILE"))
			return "SONAME or LOAD_FILE";
	if (t[0].kind != M_WORD || !m_is_any(&t[0], m_first))
		return "a statement no dump holds (USE, SELECT...)";
	if (m_is(&t[0], "CREATE") || m_is(&t[0], "DROP") || m_is(&t[0], "ALTER"))
		for (size_t i = 1; i < r->n; i++) {
			if (m_is_any(&t[i], m_objects))
				break;
			if (m_is_any(&t[i], m_not_objects))
				return "CREATE DATABASE, USER, SERVER...";
		}
	return NULL;
}

/* Every reading of s the servers may make: MySQL's and MariaDB's, at every
 * version its comments name.  What one of them runs that must be refused,
 * or NULL (also when the model is not sure). */
static const char *m_check(const char *s, size_t len, char *how, size_t hown)
{
	static struct mread r;
	long v[MODEL_VERSIONS];
	size_t nv = 0;

	v[nv++] = -1;
	v[nv++] = 999999999;
	for (size_t i = 0; i + 2 < len; i++) {
		size_t k = i + 2, d = 0;

		if (s[i] != '/' || s[i + 1] != '*')
			continue;
		if (s[k] == 'M')
			k++;
		if (k >= len || s[k] != '!')
			continue;
		for (k++; k + d < len && d < 6 && m_digit((unsigned char)s[k + d]); d++)
			;
		for (size_t w = 5; w <= d; w++) {
			long x = 0;

			for (size_t q = 0; q < w; q++)
				x = x * 10 + (s[k + q] - '0');
			if (nv == MODEL_VERSIONS)
				return NULL; /* too many to read every way: not sure */
			v[nv++] = x;
		}
	}
	for (int mysql = 0; mysql < 2; mysql++)
		for (size_t k = 0; k < nv; k++) {
			const char *why;

			m_lex(s, len, mysql, v[k], &r);
			if (r.unsure || r.invalid)
				continue;
			if ((why = m_refused(&r))) {
				snprintf(how, hown, "%s %ld", mysql ? "MySQL" : "MariaDB", v[k]);
				return why;
			}
		}
	return NULL;
}

/* ---- the harness ---- */

struct run {
	struct sqlcheck check;
};

static void show(const char *stmt, size_t len)
{
	fprintf(stderr, "fuzz: statement (%zu bytes): \"", len);
	for (size_t i = 0; i < len && i < 2000; i++) {
		unsigned char c = (unsigned char)stmt[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputs("\"\n", stderr);
}

static const struct error *statement(void *ctx, const char *stmt, size_t len)
{
	struct run *r = ctx;
	const struct error *err;
	const char *why;
	char how[64];

	FUZZ_ASSERT(len > 0 && len <= MAX_STATEMENT && stmt[len] == '\0', "statement of %zu bytes", len);
	err = sqlcheck_statement(&r->check, stmt, len);
	if (!err && (why = m_check(stmt, len, how, sizeof how))) {
		show(stmt, len);
		FUZZ_ASSERT(!why, "sqlcheck accepts what %s reads as %s", how, why);
	}
	if (err)
		FUZZ_ASSERT(err->msg && *err->msg, "an error without a message");
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	struct sqlsplit s;
	const struct error *err = NULL;
	const char *p = (const char *)data + 1;
	size_t left, chunk;

	if (size < 1)
		return 0;
	left = size - 1;
	sqlcheck_init(&r.check, data[0] & 0x80 ? "museum_blue" : NULL);
	if ((data[0] & 0x7f) == 0x7f) {
		/* The whole input as one statement. */
		char *copy = malloc(left + 1);

		if (!copy)
			abort();
		memcpy(copy, p, left);
		copy[left] = '\0';
		if (left > 0 && left <= MAX_STATEMENT)
			statement(&r, copy, left);
		free(copy);
	} else {
		chunk = (size_t)(data[0] & 0x7f) + 1;
		sqlsplit_init(&s, MAX_STATEMENT);
		while (left > 0 && !err) {
			size_t n = left < chunk ? left : chunk;

			err = sqlsplit_feed(&s, p, n, statement, &r);
			p += n;
			left -= n;
		}
		if (!err)
			err = sqlsplit_finish(&s, statement, &r);
		if (err)
			FUZZ_ASSERT(err->msg && *err->msg, "an error without a message");
		sqlsplit_free(&s);
	}
	sqlcheck_free(&r.check);
	error_release();
	return 0;
}
