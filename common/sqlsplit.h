/* sqlsplit: split the text of mysqldump / mariadb-dump, fed in chunks of any
 * size, into statements to send one by one (mysql_real_query).
 *
 * The rules, a subset of what the mysql client does, enough for dumps:
 *  - Line-based: a line ends at "\n" (or at the end of the dump).  A
 *    statement ends at the end of a line whose text, trailing blanks and
 *    "\r" ignored, ends with the current delimiter (default ";").  The
 *    statement passed on is its lines joined with "\n" (inner lines byte for
 *    byte), without the delimiter and the blanks and newlines before it.
 *  - Outside a statement (leading blanks allowed):
 *     - a line "DELIMITER xx" (case-insensitive) changes the delimiter to xx
 *       (1 to 15 characters, no blank nor backslash, nothing after it) and
 *       is not passed on: mysqldump --routines/--triggers writes
 *       "DELIMITER ;;" ... "DELIMITER ;";
 *     - empty lines, lines starting with "-- " (or "--" and a tab) or equal
 *       to "--" are skipped;
 *     - so is the MariaDB sandbox marker line "/\*M!999999\- ... *\/" that
 *       newer mariadb-dump writes first (it has no delimiter);
 *     - a statement that is empty (a lone delimiter) is not passed on.
 *  - No quote tracking: mysqldump escapes newlines inside strings, so a line
 *    ending with the delimiter inside a string does not happen in its output
 *    (bar a routine body, dumped as written, with a multi-line string one of
 *    whose lines ends with ";;").
 *  - One buffer holds the statement being read; it grows to the longest
 *    statement and is reused.  A statement longer than
 *    max_statement bytes (without its delimiter) is an error; so is a dump
 *    that ends inside a statement (sqlsplit_finish).
 *
 * The errors of the splitter give the line number and the start of the
 * statement.  An error of fn is passed on as it is; s->line then gives the
 * line where the failing statement started, for error_wrap().  After an error
 * only sqlsplit_free() is left. */
#ifndef KC_SQLSPLIT_H
#define KC_SQLSPLIT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* stmt is NUL-terminated (len bytes before the NUL).  Return NULL to go
 * on, or an error to stop. */
typedef const struct error *(*sqlsplit_fn)(void *ctx, const char *stmt, size_t len);

struct sqlsplit {
	struct buf b;      /* the lines read of the current statement, then the line being read */
	size_t line_start; /* offset in b of the line being read; 0 outside a statement */
	size_t max;        /* max_statement */
	size_t limit;      /* the most b may hold: max plus room for the delimiter and blanks */
	size_t line;       /* line where the current (or last) statement started, from 1; 0 before any */
	size_t lineno;     /* the line being read, from 1 */
	char delim[16];    /* the current delimiter */
	size_t delim_len;
};

void sqlsplit_init(struct sqlsplit *s, size_t max_statement);
/* Calls fn for each statement completed by data. */
const struct error *sqlsplit_feed(struct sqlsplit *s, const char *data, size_t len, sqlsplit_fn fn, void *ctx);
/* At the end of the dump: passes on a last statement without a final
 * newline; fails if the dump ends inside a statement. */
const struct error *sqlsplit_finish(struct sqlsplit *s, sqlsplit_fn fn, void *ctx);
void sqlsplit_free(struct sqlsplit *s);

#endif
