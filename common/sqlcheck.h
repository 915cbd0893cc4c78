/* sqlcheck: what a dump restored into one database may hold.
 *
 * Each statement the splitter (sqlsplit.h) passes on is tokenised the way
 * the server's lexer reads it: strings ('...', "..." and `...` with their
 * doubled quotes and backslashes), comments ("#", "-- " where the second
 * dash is followed by a blank or a control character, and "/\* *\/"), and
 * executable comments, whose content is code when the server's version is
 * at least the comment's: "/\*!NNNNN ... *\/" (MySQL reads five digits,
 * MariaDB five or six and ignores 50700-99999 unless written "/\*M!"),
 * "/\*M!NNNNNN ... *\/" (MariaDB only) and "/\*! ... *\/" (always).  Since
 * the server's version is not known here, the statement is checked as
 * every server would read it: as MariaDB and as MySQL, at every version
 * threshold its comments name.
 *
 * A statement passes when, read every way:
 *  - it begins with SET, CREATE, DROP, ALTER, INSERT, REPLACE, LOCK,
 *    UNLOCK or COMMIT (what mysqldump and mariadb-dump write; USE, SELECT,
 *    LOAD, PREPARE, CALL, GRANT... are refused);
 *  - CREATE, ALTER and DROP act on tables, views, triggers, routines,
 *    events, indexes or sequences, never on a database, schema, user,
 *    role, server or tablespace;
 *  - nowhere does it read or write files (LOAD DATA/XML, INTO OUTFILE or
 *    DUMPFILE, DATA or INDEX DIRECTORY, SONAME);
 *  - it names no other database: a qualified name whose first part is a
 *    system schema (mysql, information_schema, performance_schema, sys) or
 *    an instance's database (NAME_blue, NAME_green) other than the target;
 *  - a SET touches no global variable, password or role, and sets sql_mode
 *    only to a string literal without ANSI_QUOTES, NO_BACKSLASH_ESCAPES or
 *    a mode that implies them, to DEFAULT, or back to a user variable that
 *    was never assigned anything but @@sql_mode in the dump (mysqldump
 *    saves and restores it so): the rules above read strings as the
 *    default mode does, so it must stay the mode in force.
 *
 * The real guard is the loading user, granted on the target database only
 * (db.h); these rules refuse a hostile statement with a clear message
 * before it runs. */
#ifndef KC_SQLCHECK_H
#define KC_SQLCHECK_H

#include <stddef.h>

#include "err.h"
#include "strv.h"

/* What the last statement checked begins with, read every way. */
#define SQLCHECK_INSERT 1u /* INSERT */
#define SQLCHECK_SET 2u    /* SET */
#define SQLCHECK_LOCK 4u   /* LOCK or UNLOCK */
#define SQLCHECK_OTHER 8u  /* any other word; none of these: nothing (a comment) */

struct sqlcheck {
	char target[72];        /* the database loaded into, lowercase; "" if not known */
	struct strv tainted;    /* user variables (lowercase, with "@") assigned anything but @@sql_mode */
	unsigned first;         /* SQLCHECK_* of the last statement that passed */
};

/* target may be NULL: then no instance database may be named at all. */
void sqlcheck_init(struct sqlcheck *c, const char *target);
/* One statement of len bytes (without its delimiter); NULL, or why it is
 * refused, quoting the statement's start. */
const struct error *sqlcheck_statement(struct sqlcheck *c, const char *stmt, size_t len);
void sqlcheck_free(struct sqlcheck *c);

#endif
