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

/* Whatever a server asks, no file of this host is read for it: LOAD DATA
 * LOCAL is neither announced (CLIENT_LOCAL_FILES) nor served. */
static int refuse_infile(void **ptr, const char *name, void *userdata)
{
	(void)ptr;
	(void)name;
	(void)userdata;
	return 1;
}

static int no_infile_read(void *ptr, char *buf, unsigned int len)
{
	(void)ptr;
	(void)buf;
	(void)len;
	return -1;
}

static void no_infile_end(void *ptr)
{
	(void)ptr;
}

static int no_infile_error(void *ptr, char *msg, unsigned int len)
{
	(void)ptr;
	snprintf(msg, len, "korcluster reads no local file for the server");
	return 2000;
}

int db_connect_to(struct db **out, const char *host, int port, const char *user, const char *password,
		  const char *database, int connect_timeout, int io_timeout)
{
	struct db *db = calloc(1, sizeof *db);
	unsigned int t = (unsigned int)connect_timeout, io = (unsigned int)io_timeout, off = 0;

	if (!db || !(db->my = mysql_init(NULL))) {
		free(db);
		return err_set("out of memory");
	}
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &io);
	mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &io);
	mysql_options(db->my, MYSQL_OPT_LOCAL_INFILE, &off);
	mysql_set_local_infile_handler(db->my, refuse_infile, no_infile_read, no_infile_end, no_infile_error, NULL);
	/* No CLIENT_MULTI_STATEMENTS: one statement a query. */
	if (!mysql_real_connect(db->my, host, user, password, database, (unsigned int)port, NULL, 0)) {
		err_set("%s", mysql_error(db->my));
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

void db_server_free(struct db_server *s)
{
	if (s->root_password) {
		explicit_bzero(s->root_password, strlen(s->root_password));
		free(s->root_password);
	}
	memset(s, 0, sizeof *s);
}

int db_server_root(const struct db_server *s, int io_timeout, struct db **out)
{
	if (db_connect_to(out, s->host, s->port, "root", s->root_password ? s->root_password : "", NULL, 5,
			  io_timeout) < 0)
		return err_wrap("logging in to the MySQL server at %s as root", s->host);
	return 0;
}

unsigned long db_thread_id(struct db *db)
{
	return mysql_thread_id(db->my);
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

int db_pattern_quote(const char *s, char *out, size_t outlen)
{
	size_t j = 0;

	if (db_ident_check(s) < 0)
		return -1;
	if (outlen < 3)
		return err_set("identifier buffer too small");
	out[j++] = '`';
	for (; *s; s++) {
		if (j + 4 >= outlen)
			return err_set("identifier too long");
		if (*s == '_' || *s == '%' || *s == '\\')
			out[j++] = '\\';
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

int db_grant_all(struct db *db, const char *dbname, const char *user)
{
	char acct[100], q[160], sql[512];

	if (account(user, acct, sizeof acct) < 0 || db_pattern_quote(dbname, q, sizeof q) < 0)
		return -1;
	snprintf(sql, sizeof sql, "GRANT ALL PRIVILEGES ON %s.* TO %s", q, acct);
	return db_exec(db, sql) < 0 ? err_wrap("granting \"%s\" to \"%s\"", dbname, user) : 0;
}

int db_instance_create(struct db *db, const char *user, const char *password, char *const *dbs)
{
	char acct[100], esc[256], sql[512], n[16];
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
	for (size_t i = 0; dbs[i]; i++)
		if (db_grant_all(db, dbs[i], user) < 0)
			return -1;
	return dbs[0] ? db_create_database(db, dbs[0]) : 0;
}

int db_instance_fix_grants(struct db *db, const char *user, char *const *dbs, int *fixed)
{
	char acct[100], q[80], sql[512], n[16];

	*fixed = 0;
	if (account(user, acct, sizeof acct) < 0)
		return -1;
	for (size_t i = 0; dbs[i]; i++) {
		if (!strchr(dbs[i], '_') || db_ident_quote(dbs[i], q, sizeof q) < 0)
			continue;
		/* The stored pattern is the name as written: unescaped. */
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mysql.db WHERE User = '%s' AND Host = '%%' AND Db = '%s'",
			 user, dbs[i]);
		if (db_query_value(db, sql, n, sizeof n) < 0)
			return err_wrap("reading the grants of \"%s\"", user);
		if (strcmp(n, "0") == 0)
			continue;
		snprintf(sql, sizeof sql, "REVOKE ALL PRIVILEGES ON %s.* FROM %s", q, acct);
		if (db_exec(db, sql) < 0 || db_grant_all(db, dbs[i], user) < 0)
			return err_wrap("narrowing the grant of \"%s\" on \"%s\"", user, dbs[i]);
		*fixed = 1;
	}
	return 0;
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

int db_max_statement(struct db *db, size_t *out)
{
	char v[32];
	char *end;
	unsigned long long n;

	if (db_query_value(db, "SELECT @@max_allowed_packet", v, sizeof v) < 0)
		return err_wrap("reading max_allowed_packet");
	n = strtoull(v, &end, 10);
	if (*end || n < 1024)
		return err_set("the server's max_allowed_packet is \"%s\"", v);
	*out = (size_t)n;
	return 0;
}
