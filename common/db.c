#include "db.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct db {
	MYSQL *my;
};

int db_connect(struct db **out, const char *host, int port, const char *user,
	       const char *password, int connect_timeout)
{
	return db_connect_to(out, host, port, user, password, NULL, connect_timeout, connect_timeout);
}

int db_connect_to(struct db **out, const char *host, int port, const char *user, const char *password,
		  const char *database, int connect_timeout, int io_timeout)
{
	struct db *db = calloc(1, sizeof *db);
	unsigned int t = (unsigned int)connect_timeout, io = (unsigned int)io_timeout;

	if (!db || !(db->my = mysql_init(NULL))) {
		free(db);
		return err_set("out of memory");
	}
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &io);
	mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &io);
	if (!mysql_real_connect(db->my, host, user, password, database, (unsigned int)port, NULL, 0)) {
		err_set("%s", mysql_error(db->my));
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int db_exec(struct db *db, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_query(db->my, sql) != 0)
		return err_set("%s", mysql_error(db->my));
	if ((res = mysql_store_result(db->my)))
		mysql_free_result(res);
	return 0;
}

int db_exec_n(struct db *db, const char *sql, size_t len)
{
	MYSQL_RES *res;

	if (mysql_real_query(db->my, sql, (unsigned long)len) != 0)
		return err_set("%s", mysql_error(db->my));
	if ((res = mysql_store_result(db->my)))
		mysql_free_result(res);
	else if (mysql_field_count(db->my) != 0)
		return err_set("%s", mysql_error(db->my));
	return 0;
}

int db_query_value(struct db *db, const char *sql, char *out, size_t outlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -1;

	if (mysql_query(db->my, sql) != 0)
		return err_set("%s", mysql_error(db->my));
	if (!(res = mysql_store_result(db->my)))
		return err_set("%s", mysql_error(db->my));
	if ((row = mysql_fetch_row(res)) && row[0]) {
		snprintf(out, outlen, "%s", row[0]);
		rc = 0;
	} else {
		err_set("query returned no value");
	}
	mysql_free_result(res);
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->my)
		mysql_close(db->my);
	free(db);
}

int db_ident_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z')
		return err_set("\"%s\" is not a valid database name ([a-z][a-z0-9_]{0,63})", s);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return err_set("\"%s\" is not a valid database name ([a-z][a-z0-9_]{0,63})", s);
	return 0;
}

int db_ident_quote(const char *s, char *out, size_t outlen)
{
	size_t j = 0;

	if (db_ident_check(s) < 0)
		return -1;
	if (outlen < 3)
		return err_set("identifier buffer too small");
	out[j++] = '`';
	for (; *s; s++) {
		if (j + 3 >= outlen)
			return err_set("identifier too long");
		if (*s == '`')
			out[j++] = '`';
		out[j++] = *s;
	}
	out[j++] = '`';
	out[j] = '\0';
	return 0;
}

/* 'user'@'%' for a checked user name. */
static int account(const char *user, char *out, size_t n)
{
	if (db_ident_check(user) < 0)
		return -1;
	snprintf(out, n, "'%s'@'%%'", user);
	return 0;
}

int db_create_database(struct db *db, const char *name)
{
	char q[80], sql[256];

	if (db_ident_quote(name, q, sizeof q) < 0)
		return -1;
	snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4", q);
	return db_exec(db, sql) < 0 ? err_wrap("creating database \"%s\"", name) : 0;
}

int db_instance_create(struct db *db, const char *user, const char *password, char *const *dbs)
{
	char acct[100], esc[256], sql[512], q[80], n[16];
	size_t plen = strlen(password);

	if (account(user, acct, sizeof acct) < 0)
		return -1;
	if (plen * 2 + 1 > sizeof esc)
		return err_set("password too long");
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mysql.user WHERE User = '%s'", user);
	if (db_query_value(db, sql, n, sizeof n) < 0)
		return err_wrap("looking up user \"%s\"", user);
	if (strcmp(n, "0") != 0)
		return err_set("database user \"%s\" exists already; korcluster leaves it alone", user);
	mysql_real_escape_string(db->my, esc, password, (unsigned long)plen);
	snprintf(sql, sizeof sql, "CREATE USER %s IDENTIFIED BY '%s'", acct, esc);
	if (db_exec(db, sql) < 0)
		return err_wrap("creating database user \"%s\"", user);
	for (size_t i = 0; dbs[i]; i++) {
		if (db_ident_quote(dbs[i], q, sizeof q) < 0)
			return -1;
		snprintf(sql, sizeof sql, "GRANT ALL PRIVILEGES ON %s.* TO %s", q, acct);
		if (db_exec(db, sql) < 0)
			return err_wrap("granting \"%s\" to \"%s\"", dbs[i], user);
	}
	return dbs[0] ? db_create_database(db, dbs[0]) : 0;
}

int db_instance_drop(struct db *db, const char *user, char *const *dbs)
{
	char acct[100], sql[256], q[80];

	for (size_t i = 0; dbs[i]; i++) {
		if (db_ident_quote(dbs[i], q, sizeof q) < 0)
			return -1;
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", q);
		if (db_exec(db, sql) < 0)
			return err_wrap("dropping database \"%s\"", dbs[i]);
	}
	if (account(user, acct, sizeof acct) < 0)
		return -1;
	snprintf(sql, sizeof sql, "DROP USER IF EXISTS %s", acct);
	return db_exec(db, sql) < 0 ? err_wrap("dropping database user \"%s\"", user) : 0;
}
