/* db: the cluster's MySQL/MariaDB server through the MySQL C API. */
#ifndef KC_DB_H
#define KC_DB_H

#include <stddef.h>

struct db;

/* Log in; connect_timeout in seconds.  Fails with the server's message. */
int db_connect(struct db **out, const char *host, int port, const char *user,
	       const char *password, int connect_timeout);
/* Run one statement that returns no rows. */
int db_exec(struct db *db, const char *sql);
/* Connect with a default database and an I/O timeout for long statements. */
int db_connect_to(struct db **out, const char *host, int port, const char *user, const char *password,
		  const char *database, int connect_timeout, int io_timeout);
/* One statement of len bytes (may hold NULs); results are discarded. */
int db_exec_n(struct db *db, const char *sql, size_t len);
/* First column of the first row of a query, copied into out. */
int db_query_value(struct db *db, const char *sql, char *out, size_t outlen);
void db_close(struct db *db);

/* An instance's account: user (no other rights) granted all on each of
 * dbs (NULL-terminated), and dbs[0] created.  Works on MySQL 8 and
 * MariaDB: CREATE USER ... IDENTIFIED BY, then GRANT.  Fails if the user
 * exists already, leaving it alone. */
int db_instance_create(struct db *db, const char *user, const char *password, char *const *dbs);
/* Drop dbs and user, whichever exist. */
int db_instance_drop(struct db *db, const char *user, char *const *dbs);
/* Create database name unless it exists. */
int db_create_database(struct db *db, const char *name);

/* A database or user name: [a-z][a-z0-9_]{0,63}. */
int db_ident_check(const char *s);
/* `ident` with backquotes doubled, after db_ident_check(). */
int db_ident_quote(const char *s, char *out, size_t outlen);

#endif
