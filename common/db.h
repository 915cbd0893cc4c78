/* db: the cluster's MySQL/MariaDB server through the MySQL C API. */
#ifndef KC_DB_H
#define KC_DB_H

#include <stddef.h>

#include "err.h"

struct db;

/* Where the cluster's MySQL server answers, and its root password. */
struct db_server {
	char host[64];
	int port;
	char *root_password; /* owned; wiped by db_server_free() */
};

void db_server_free(struct db_server *s);
/* Log in to s as root, io_timeout seconds for each statement. */
const struct error *db_server_root(const struct db_server *s, int io_timeout, struct db **out);

/* Log in; connect_timeout in seconds.  Fails with the server's message. */
const struct error *db_connect(struct db **out, const char *host, int port, const char *user,
	       const char *password, int connect_timeout);
/* Run one statement that returns no rows. */
const struct error *db_exec(struct db *db, const char *sql);
/* Connect with a default database and an I/O timeout for long statements.
 * Every connection refuses LOAD DATA LOCAL: it does not announce it, and a
 * server asking for a file of this host gets none. */
const struct error *db_connect_to(struct db **out, const char *host, int port, const char *user, const char *password,
		  const char *database, int connect_timeout, int io_timeout);
/* The connection's id on the server (for KILL). */
unsigned long db_thread_id(struct db *db);
/* One statement of len bytes (may hold NULs); results are discarded. */
const struct error *db_exec_n(struct db *db, const char *sql, size_t len);
/* First column of the first row of a query, copied into out. */
const struct error *db_query_value(struct db *db, const char *sql, char *out, size_t outlen);
void db_close(struct db *db);

/* An instance's account: user (no other rights) granted all on each of
 * dbs (NULL-terminated), and dbs[0] created.  Works on MySQL 8 and
 * MariaDB: CREATE USER ... IDENTIFIED BY, then GRANT.  Fails if the user
 * or one of the databases exists already, leaving it alone. */
const struct error *db_instance_create(struct db *db, const char *user, const char *password, char *const *dbs);
/* GRANT ALL on database dbname (that one only: "_" and "%" in its name
 * are escaped, not wildcards) to 'user'@'%'. */
const struct error *db_grant_all(struct db *db, const char *dbname, const char *user);
/* Grants made before names were escaped: a grant of user on a database of
 * dbs whose name holds "_" matched other databases too; it is replaced by
 * the escaped one.  *fixed says whether there was one. */
const struct error *db_instance_fix_grants(struct db *db, const char *user, char *const *dbs, int *fixed);
/* Drop dbs and user, whichever exist. */
/* user (made if missing, password set) granted SELECT on each of dbs. */
const struct error *db_readonly_user(struct db *db, const char *user, const char *password, char *const *dbs);
const struct error *db_instance_drop(struct db *db, const char *user, char *const *dbs);
/* Create database name unless it exists. */
const struct error *db_create_database(struct db *db, const char *name);

/* A database or user name: [a-z][a-z0-9_]{0,63}. */
const struct error *db_ident_check(const char *s);
/* `ident` with backquotes doubled, after db_ident_check(). */
const struct error *db_ident_quote(const char *s, char *out, size_t outlen);
/* `ident` as a database-level GRANT reads it: its "_", "%" and "\\"
 * escaped with a backslash, so that it names that database only. */
const struct error *db_pattern_quote(const char *s, char *out, size_t outlen);
/* The longest statement the server takes (max_allowed_packet). */
const struct error *db_max_statement(struct db *db, size_t *out);

#endif
