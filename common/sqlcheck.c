#include "sqlcheck.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mem.h"

#define EXCERPT 60
/* Versioned comments with more distinct versions than this in one
 * statement are refused rather than read every way. */
#define VERSIONS_MAX 32

/* ---- the lexer ---- */

enum kind { T_WORD, T_QIDENT, T_STRING, T_DQSTRING, T_VAR, T_PUNCT };

struct tok {
	enum kind kind;
	const char *p; /* the token's text, quotes included */
	size_t n;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

/* How one server reads executable comments. */
struct view {
	int mysql;      /* MySQL's rules, else MariaDB's */
	long threshold; /* the server's version; -1: no versioned comment runs */
};

static int word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	       c >= 0x80;
}

static int space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int digits(const char *s, size_t len, size_t i)
{
	size_t n = 0;

	while (i + n < len && s[i + n] >= '0' && s[i + n] <= '9')
		n++;
	return (int)n;
}

static long number(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n && i < 10; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void push(struct toks *t, enum kind kind, const char *p, size_t n)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = (struct tok){kind, p, n};
}

/* The end of a quoted run starting at s[i] (the quote); backslashes escape
 * in strings, not in `identifiers`; a doubled quote is part of the text. */
static size_t quoted_end(const char *s, size_t len, size_t i)
{
	char q = s[i++];

	while (i < len) {
		if (s[i] == '\\' && q != '`') {
			i += 2;
		} else if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q)
				i += 2;
			else
				return i + 1;
		} else {
			i++;
		}
	}
	return len;
}

/* The first "ab" in s[0..len), or NULL (memchr is much faster than a
 * two-byte memmem). */
static const char *find2(const char *s, size_t len, char a, char b)
{
	const char *end = s + len, *p = s;

	while (p + 1 < end && (p = memchr(p, a, (size_t)(end - p - 1)))) {
		if (p[1] == b)
			return p;
		p++;
	}
	return NULL;
}

/* Where the comment that starts at s[i] ("/\*") ends.  A versioned comment
 * that does not run may hold plain comments (nest 1), as the servers skip
 * it: "/\*!99999 /\* *\/ x *\/" ends at the second "*\/". */
static size_t comment_end(const char *s, size_t len, size_t i, int nest)
{
	for (i += 2; i < len;) {
		const char *e = find2(s + i, len - i, '*', '/');
		const char *o = nest ? find2(s + i, len - i, '/', '*') : NULL;

		if (!o || (e && e < o))
			return e ? (size_t)(e - s) + 2 : len;
		i = comment_end(s, len, (size_t)(o - s), 0);
	}
	return len;
}

/* Where the number the servers read at s[i] (a digit, or "." and a digit)
 * ends: 0x and hex digits, 0b and bits, or digits, "." and digits, an
 * exponent; "1e1x" is 1e1 and x, ".5x" is .5 and x.  Digits followed by a name's characters are a name ("1x",
 * "0x1g"): *name 1, and its end. */
static size_t number_end(const char *s, size_t len, size_t i, int *name)
{
	size_t j = i + (size_t)digits(s, len, i), k;

	*name = 0;
	if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'b')) {
		for (k = i + 2; k < len && (s[i + 1] == 'x' ? isxdigit((unsigned char)s[k]) : s[k] == '0' || s[k] == '1');
		     k++)
			;
		if (k > i + 2 && (k == len || !word_char((unsigned char)s[k])))
			return k; /* 0x1f, 0b101 */
	}
	if (j < len && s[j] != '.' && word_char((unsigned char)s[j])) {
		k = j + 1 + (j + 1 < len && (s[j + 1] == '+' || s[j + 1] == '-'));
		if ((s[j] == 'e' || s[j] == 'E') && digits(s, len, k) > 0)
			return k + (size_t)digits(s, len, k);
		while (j < len && word_char((unsigned char)s[j]))
			j++;
		*name = 1;
		return j;
	}
	if (j < len && s[j] == '.') {
		j += 1 + (size_t)digits(s, len, j + 1);
		k = j + 1 + (j + 1 < len && (s[j + 1] == '+' || s[j + 1] == '-'));
		if (j < len && (s[j] == 'e' || s[j] == 'E') && digits(s, len, k) > 0)
			return k + (size_t)digits(s, len, k);
	}
	return j;
}

/* Tokens of s as the server of view v reads them. */
static void lex(const char *s, size_t len, const struct view *v, struct toks *out)
{
	size_t i = 0, name_end = SIZE_MAX, sep_end = SIZE_MAX;
	int in_exec = 0, name;

	out->n = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t j;

		if (space(c)) {
			i++;
		} else if (in_exec && c == '*' && i + 1 < len && s[i + 1] == '/') {
			in_exec = 0;
			i += 2;
		} else if (c == '#' || (c == '-' && i + 1 < len && s[i + 1] == '-' &&
					(i + 2 >= len || (unsigned char)s[i + 2] <= ' ' || s[i + 2] == 0x7f))) {
			const char *nl = memchr(s + i, '\n', len - i);

			i = nl ? (size_t)(nl - s) + 1 : len;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			int maria = i + 3 < len && s[i + 2] == 'M' && s[i + 3] == '!';
			int exec = maria || (i + 2 < len && s[i + 2] == '!');
			size_t start = i + (maria ? 4 : 3);
			int d = exec ? digits(s, len, start) : 0, run = 0;

			if (!exec || (maria && v->mysql)) {
				run = 0; /* a plain comment (MySQL reads "/\*M!" as one) */
			} else if (d < 5) {
				run = 1; /* no version: always code */
			} else if (v->mysql) {
				long ver = number(s + start, 5);

				run = ver <= v->threshold;
				start += 5;
			} else {
				long ver = number(s + start, d >= 6 ? 6 : 5);

				run = ver <= v->threshold && (ver < 50700 || ver > 99999 || maria);
				start += d >= 6 ? 6 : 5;
			}
			if (run) {
				in_exec = 1;
				i = start;
			} else {
				i = comment_end(s, len, i, exec && !(maria && v->mysql));
			}
		} else if (c == '\'' || c == '"' || c == '`') {
			j = quoted_end(s, len, i);
			push(out, c == '\'' ? T_STRING : c == '"' ? T_DQSTRING : T_QIDENT, s + i, j - i);
			if (c == '`')
				name_end = j;
			i = j;
		} else if (c == '@') {
			j = i + 1;
			if (j < len && s[j] == '@')
				j++;
			if (j < len && (s[j] == '\'' || s[j] == '"' || s[j] == '`'))
				j = quoted_end(s, len, j);
			else
				while (j < len && (word_char((unsigned char)s[j]) || (s[j] == '.' && j > i + 2 && s[i + 1] == '@')))
					j++;
			push(out, j == i + 1 ? T_PUNCT : T_VAR, s + i, j - i);
			i = j;
		} else if ((c >= '0' && c <= '9' && i != sep_end) ||
			   (c == '.' && i != name_end && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')) {
			/* a number; after "name." a name ("t.1e1x") */
			j = number_end(s, len, i, &name);
			push(out, T_WORD, s + i, j - i);
			if (name)
				name_end = j;
			i = j;
		} else if (word_char(c)) {
			for (j = i + 1; j < len && word_char((unsigned char)s[j]); j++)
				;
			push(out, T_WORD, s + i, j - i);
			name_end = j;
			i = j;
		} else {
			if (c == '.' && i == name_end)
				sep_end = i + 1;
			push(out, T_PUNCT, s + i, 1);
			i++;
		}
	}
}

/* The version thresholds at which the statement reads differently: every
 * number after "/\*!" or "/\*M!" read as five digits, six, or all of them
 * (a superset: numbers inside strings count too), sorted, -1 first. */
static int thresholds(const char *s, size_t len, long *out, size_t *n)
{
	*n = 0;
	out[(*n)++] = -1;
	for (const char *p = s; (p = find2(p, len - (size_t)(p - s), '/', '*')); p += 2) {
		size_t i = (size_t)(p - s) + 2;
		int d;

		if (i < len && s[i] == 'M')
			i++;
		if (i >= len || s[i] != '!')
			continue;
		d = digits(s, len, i + 1);
		if (d < 5)
			continue;
		for (int k = 0; k < 3; k++) {
			long v = number(s + i + 1, k == 0 ? 5 : k == 1 ? (d >= 6 ? 6 : 5) : d);
			size_t j;

			for (j = 0; j < *n && out[j] != v; j++)
				;
			if (j < *n)
				continue;
			if (*n > VERSIONS_MAX)
				return -1;
			out[(*n)++] = v;
		}
	}
	for (size_t a = 1; a < *n; a++)
		for (size_t b = a; b > 0 && out[b - 1] > out[b]; b--) {
			long t = out[b];

			out[b] = out[b - 1];
			out[b - 1] = t;
		}
	return 0;
}

/* ---- the rules ---- */

static const char *excerpt(const char *s, size_t len, char out[EXCERPT + 4])
{
	size_t n = len < EXCERPT ? len : EXCERPT;

	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	strcpy(out + n, n < len ? "..." : "");
	return out;
}

static int is(const struct tok *t, const char *kw)
{
	size_t n = strlen(kw);

	return t->kind == T_WORD && t->n == n && strncasecmp(t->p, kw, n) == 0;
}

static int is_any(const struct tok *t, const char *const *kws)
{
	for (; *kws; kws++)
		if (is(t, *kws))
			return 1;
	return 0;
}

static int is_punct(const struct tok *t, char c)
{
	return t->kind == T_PUNCT && t->p[0] == c;
}

/* The name a word or quoted token stands for, lowercase and unquoted,
 * in out (at most n - 1 bytes; longer names are cut). */
static void name_of(const struct tok *t, char *out, size_t n)
{
	size_t k = 0;

	if (t->kind == T_WORD) {
		for (size_t i = 0; i < t->n && k + 1 < n; i++)
			out[k++] = (char)(t->p[i] >= 'A' && t->p[i] <= 'Z' ? t->p[i] + 32 : t->p[i]);
	} else if (t->n >= 2) {
		char q = t->p[0];

		for (size_t i = 1; i + 1 < t->n && k + 1 < n; i++) {
			char c = t->p[i];

			if (c == q && t->p[i + 1] == q)
				i++;
			else if (c == '\\' && q != '`' && i + 2 < t->n)
				c = t->p[++i];
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	out[k] = '\0';
}

struct stmt {
	struct sqlcheck *c;
	const char *text;
	size_t len;
};

static const struct error *refuse(const struct stmt *st, const char *what)
{
	char ex[EXCERPT + 4];

	return error_fmt("the dump %s (\"%s\"): a snapshot holds the tables of one database, as mysqldump or "
		       "mariadb-dump write them", what, excerpt(st->text, st->len, ex));
}

static const char *const system_schemas[] = {"mysql", "information_schema", "performance_schema", "sys", NULL};

/* A qualified name's first part that is another database. */
static int other_database(const struct sqlcheck *c, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; system_schemas[i]; i++)
		if (strcmp(name, system_schemas[i]) == 0)
			return 1;
	if ((n > 5 && strcmp(name + n - 5, "_blue") == 0) || (n > 6 && strcmp(name + n - 6, "_green") == 0))
		return strcmp(name, c->target) != 0;
	return 0;
}

static const char *const objects[] = {"TABLE", "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT",
				       "INDEX", "SEQUENCE", NULL};
static const char *const not_objects[] = {"DATABASE", "SCHEMA", "USER", "ROLE", "SERVER", "TABLESPACE",
					  "LOGFILE", "INSTANCE", NULL};
static const char *const first_words[] = {"SET", "CREATE", "DROP", "ALTER", "INSERT", "REPLACE", "LOCK",
					  "UNLOCK", "COMMIT", NULL};

static const char *const routines[] = {"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", NULL};

/* What a CREATE, ALTER or DROP acts on: the first word naming a kind of
 * object (after OR REPLACE, ALGORITHM=, DEFINER=, SQL SECURITY...).
 * *program: a stored program (its body holds statements). */
static const struct error *check_object(const struct stmt *st, const struct tok *t, size_t n, int *program)
{
	for (size_t i = 1; i < n; i++) {
		if (t[i].kind != T_WORD)
			continue;
		/* "name.PROCEDURE": a word right after a "." is a name, never a
		 * keyword; what kind of object it is comes later, if at all. */
		if (is_punct(&t[i - 1], '.') && t[i - 1].p + 1 == t[i].p)
			continue;
		if (is_any(&t[i], not_objects))
			return refuse(st, is(&t[i], "DATABASE") || is(&t[i], "SCHEMA") ? "switches or creates databases"
										: "changes users, roles, servers or tablespaces");
		if (is_any(&t[i], objects)) {
			*program = is_any(&t[i], routines);
			return NULL;
		}
	}
	return refuse(st, "holds a statement of a kind no dump holds");
}

static const char *const bad_modes[] = {"ANSI", "ANSI_QUOTES", "NO_BACKSLASH_ESCAPES", "ORACLE", "MSSQL", "DB2",
					"POSTGRESQL", "MAXDB", NULL};

/* A sql_mode string: no mode that changes how strings and names are read. */
static int mode_ok(const struct tok *t)
{
	char v[512], *save = NULL;

	name_of(t, v, sizeof v);
	for (char *m = strtok_r(v, ", ", &save); m; m = strtok_r(NULL, ", ", &save))
		for (size_t i = 0; bad_modes[i]; i++)
			if (strcasecmp(m, bad_modes[i]) == 0)
				return 0;
	return 1;
}

static int var_is(const struct tok *t, const char *name)
{
	return t->kind == T_VAR && strlen(name) == t->n && strncasecmp(t->p, name, t->n) == 0;
}

/* @@sql_mode, @@session.sql_mode, @@local.sql_mode */
static int is_sql_mode_var(const struct tok *t)
{
	return var_is(t, "@@sql_mode") || var_is(t, "@@session.sql_mode") || var_is(t, "@@local.sql_mode");
}

static int has(const struct strv *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return 1;
	return 0;
}

static int user_var(const struct tok *t)
{
	return t && t->kind == T_VAR && t->p[1] != '@';
}

static void lower_var(const struct tok *t, char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n && k + 1 < n; i++)
		out[k++] = (char)(t->p[i] >= 'A' && t->p[i] <= 'Z' ? t->p[i] + 32 : t->p[i]);
	out[k] = '\0';
}

/* User variables assigned anything but @@sql_mode ("@x = ...", "@x :=
 * ..." anywhere, a comparison included) can no longer restore sql_mode. */
static void taint(struct sqlcheck *c, const struct tok *t, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		size_t v = i + 1;
		char name[80];

		if (!user_var(&t[i]))
			continue;
		if (is_punct(&t[v], ':') && v + 1 < n)
			v++;
		if (!is_punct(&t[v], '='))
			continue;
		if (v + 1 < n && is_sql_mode_var(&t[v + 1]) && (v + 2 == n || is_punct(&t[v + 2], ',')))
			continue;
		lower_var(&t[i], name, sizeof name);
		if (!has(&c->tainted, name))
			strv_push(&c->tainted, name);
	}
}

/* SET a = x, b = y...: no global variable, password, role or statement;
 * sql_mode only as the header describes. */
static const struct error *check_set(const struct stmt *st, const struct tok *t, size_t n)
{
	static const char *const refused[] = {"GLOBAL", "PASSWORD", "ROLE", "DEFAULT", "STATEMENT", "PERSIST",
					      "PERSIST_ONLY", NULL};
	size_t i = 1;

	if (n > 1 && is_any(&t[1], refused))
		return refuse(st, "changes global settings, passwords or roles");
	while (i < n) {
		size_t end = i, eq;
		int depth = 0;
		const struct tok *target, *val;

		for (; end < n; end++) {
			if (is_punct(&t[end], '('))
				depth++;
			else if (is_punct(&t[end], ')'))
				depth--;
			else if (depth == 0 && is_punct(&t[end], ','))
				break;
		}
		if (is(&t[i], "SESSION") || is(&t[i], "LOCAL"))
			i++;
		target = i < end ? &t[i] : NULL;
		for (eq = i + 1; eq < end && !is_punct(&t[eq], '='); eq++)
			;
		val = eq + 1 < end ? &t[eq + 1] : NULL;
		if (target && (is(target, "sql_mode") || is_sql_mode_var(target))) {
			char name[80] = "";
			int ok = 0;

			if (val && eq + 2 == end) {
				if (val->kind == T_STRING || val->kind == T_DQSTRING)
					ok = mode_ok(val);
				else if (user_var(val))
					lower_var(val, name, sizeof name), ok = !has(&st->c->tainted, name);
				else
					ok = is(val, "DEFAULT") || is_sql_mode_var(val);
			}
			if (!ok)
				return refuse(st, "sets sql_mode to a mode that changes how it is read");
		}
		i = end + 1;
	}
	return NULL;
}

/* Every rule on the tokens of one view. */
static const struct error *check_view(const struct stmt *st, const struct tok *t, size_t n)
{
	const struct error *err = NULL;
	char name[80];
	int program = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tok *a = &t[i], *b = i + 1 < n ? &t[i + 1] : NULL;

		/* Most tokens of a dump are data: numbers, strings, commas. */
		if (a->kind == T_PUNCT || a->kind == T_STRING ||
		    (a->kind == T_WORD && a->p[0] >= '0' && a->p[0] <= '9'))
			continue;
		if (b && is_punct(b, '.') && a->kind != T_VAR && i + 2 < n &&
		    (t[i + 2].kind == T_WORD || t[i + 2].kind == T_QIDENT || t[i + 2].kind == T_DQSTRING ||
		     is_punct(&t[i + 2], '*'))) {
			name_of(a, name, sizeof name);
			if (other_database(st->c, name)) {
				char what[160];

				snprintf(what, sizeof what, "names another database (\"%s\")", name);
				return refuse(st, what);
			}
		}
		if (a->kind == T_VAR) {
			if (strncasecmp(a->p, "@@global.", 9) == 0 || strncasecmp(a->p, "@@persist", 9) == 0)
				return refuse(st, "changes global settings, passwords or roles");
			continue;
		}
		if (a->kind != T_WORD || a->n < 4 || a->n > 9)
			continue;
		if ((is(a, "CREATE") || is(a, "DROP") || is(a, "ALTER")) && b) {
			const struct tok *o = b;

			if (is(b, "OR") && i + 3 < n && is(&t[i + 2], "REPLACE"))
				o = &t[i + 3];
			if (is(o, "DATABASE") || is(o, "SCHEMA"))
				return refuse(st, "switches or creates databases");
		}
		if (is(a, "LOAD") && b && (is(b, "DATA") || is(b, "XML")))
			return refuse(st, "reads files (LOAD DATA)");
		if (is(a, "INTO") && b && (is(b, "OUTFILE") || is(b, "DUMPFILE")))
			return refuse(st, "writes files (INTO OUTFILE)");
		if ((is(a, "DATA") || is(a, "INDEX")) && b && is(b, "DIRECTORY"))
			return refuse(st, "places tables outside the database (DATA DIRECTORY)");
		if (is(a, "SONAME"))
			return refuse(st, "loads a library (SONAME)");
		if (is(a, "LOAD_FILE"))
			return refuse(st, "reads files (LOAD_FILE)");
	}
	if (n == 0)
		return NULL;
	st->c->first |= is(&t[0], "INSERT") ? SQLCHECK_INSERT
			: is(&t[0], "SET")  ? SQLCHECK_SET
			: is(&t[0], "LOCK") || is(&t[0], "UNLOCK") ? SQLCHECK_LOCK
						      : SQLCHECK_OTHER;
	if (is(&t[0], "USE"))
		return refuse(st, "switches or creates databases");
	if (!is_any(&t[0], first_words))
		return refuse(st, "holds a statement of a kind no dump holds");
	if (is(&t[0], "CREATE") || is(&t[0], "ALTER") || is(&t[0], "DROP"))
		err = check_object(st, t, n, &program);
	else if (is(&t[0], "SET"))
		err = check_set(st, t, n);
	if (err)
		return err;
	/* One statement a query (the server refuses more anyway), but for
	 * the body of a stored program. */
	for (size_t i = 0; i + 1 < n && !program; i++)
		if (is_punct(&t[i], ';'))
			return refuse(st, "holds more than one statement");
	return NULL;
}

void sqlcheck_init(struct sqlcheck *c, const char *target)
{
	size_t k = 0;

	memset(c, 0, sizeof *c);
	for (; target && target[k] && k + 1 < sizeof c->target; k++)
		c->target[k] = (char)(target[k] >= 'A' && target[k] <= 'Z' ? target[k] + 32 : target[k]);
	c->target[k] = '\0';
}

void sqlcheck_free(struct sqlcheck *c)
{
	strv_free(&c->tainted);
}

const struct error *sqlcheck_statement(struct sqlcheck *c, const char *stmt, size_t len)
{
	const struct error *err = NULL;
	struct stmt st = {c, stmt, len};
	struct toks t = {0};
	long th[VERSIONS_MAX + 4];
	size_t nth;
	int modes = find2(stmt, len, '/', '*') ? 2 : 1, single;

	c->first = 0;
	if (thresholds(stmt, len, th, &nth) < 0)
		return refuse(&st, "holds more versioned comments than korcluster reads");
	/* Every reading's assignments first: one reading may set a variable
	 * that another uses.  A single reading needs one pass. */
	single = modes * nth == 1;
	for (int pass = single; pass < 2 && !err; pass++)
		for (int m = 0; m < modes && !err; m++)
			for (size_t k = 0; k < nth && !err; k++) {
				struct view v = {m, th[k]};

				lex(stmt, len, &v, &t);
				if (pass == 0 || single)
					taint(c, t.v, t.n);
				if (pass == 1)
					err = check_view(&st, t.v, t.n);
			}
	free(t.v);
	return err;
}
