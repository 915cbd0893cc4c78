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
/* First column of the first row of a query, copied into out. */
int db_query_value(struct db *db, const char *sql, char *out, size_t outlen);
void db_close(struct db *db);

/* A database or user name: [a-z][a-z0-9_]{0,63}. */
int db_ident_check(const char *s);
/* `ident` with backquotes doubled, after db_ident_check(). */
int db_ident_quote(const char *s, char *out, size_t outlen);

#endif
