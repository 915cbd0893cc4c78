#include "db.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "report.h"

struct db {
	MYSQL *my;
};

const struct error *db_connect(struct db **out, const char *host, int port, const char *user, const char *password,
			       int connect_timeout)
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

const struct error *db_connect_to(struct db **out, const char *host, int port, const char *user,
				  const char *password, const char *database, int connect_timeout, int io_timeout)
{
	struct db *db = xcalloc(1, sizeof *db);
	unsigned int t = (unsigned int)connect_timeout, io = (unsigned int)io_timeout, off = 0;
	const struct error *err;

	*out = NULL;
	if (!(db->my = mysql_init(NULL))) {
		free(db);
		report_out_of_memory();
	}
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &io);
	mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &io);
	mysql_options(db->my, MYSQL_OPT_LOCAL_INFILE, &off);
	mysql_set_local_infile_handler(db->my, refuse_infile, no_infile_read, no_infile_end, no_infile_error, NULL);
	/* No CLIENT_MULTI_STATEMENTS: one statement a query. */
	if (!mysql_real_connect(db->my, host, user, password, database, (unsigned int)port, NULL, 0)) {
		err = error_fmt("%s", mysql_error(db->my));
		db_close(db);
		return err;
	}
	*out = db;
	return NULL;
}

void db_server_free(struct db_server *s)
{
	if (s->root_password) {
		explicit_bzero(s->root_password, strlen(s->root_password));
		free(s->root_password);
	}
	memset(s, 0, sizeof *s);
}

const struct error *db_server_root(const struct db_server *s, int io_timeout, struct db **out)
{
	return error_wrap(db_connect_to(out, s->host, s->port, "root", s->root_password ? s->root_password : "", NULL,
					5, io_timeout),
			  "logging in to the MySQL server at %s as root", s->host);
}

unsigned long db_thread_id(struct db *db)
{
	return mysql_thread_id(db->my);
}

const struct error *db_exec(struct db *db, const char *sql)
{
	return db_exec_n(db, sql, strlen(sql));
}

const struct error *db_exec_n(struct db *db, const char *sql, size_t len)
{
	MYSQL_RES *res;

	if (mysql_real_query(db->my, sql, (unsigned long)len) != 0)
		return error_fmt("%s", mysql_error(db->my));
	if ((res = mysql_store_result(db->my)))
		mysql_free_result(res);
	else if (mysql_field_count(db->my) != 0)
		return error_fmt("%s", mysql_error(db->my));
	return NULL;
}

const struct error *db_query_value(struct db *db, const char *sql, char *out, size_t outlen)
{
	const struct error *err = NULL;
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_query(db->my, sql) != 0)
		return error_fmt("%s", mysql_error(db->my));
	if (!(res = mysql_store_result(db->my)))
		return error_fmt("%s", mysql_error(db->my));
	if ((row = mysql_fetch_row(res)) && row[0])
		snprintf(out, outlen, "%s", row[0]);
	else
		err = error_fmt("query returned no value");
	mysql_free_result(res);
	return err;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->my)
		mysql_close(db->my);
	free(db);
}

const struct error *db_ident_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z' || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return error_fmt("\"%s\" is not a valid database name ([a-z][a-z0-9_]{0,63})", s);
	return NULL;
}

/* s in backquotes, the characters of escape escaped with a backslash. */
static const struct error *quote(const char *s, const char *escape, char *out, size_t outlen)
{
	const struct error *err;
	size_t j = 0;

	if ((err = db_ident_check(s)))
		return err;
	if (outlen < 3)
		return error_fmt("identifier buffer too small");
	out[j++] = '`';
	for (; *s; s++) {
		int esc = *escape && strchr(escape, *s);

		/* this character (escaped or not), then "`" and the NUL */
		if (j + 1 + (size_t)esc + 2 > outlen)
			return error_fmt("identifier too long");
		if (esc)
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j++] = '`';
	out[j] = '\0';
	return NULL;
}

const struct error *db_ident_quote(const char *s, char *out, size_t outlen)
{
	return quote(s, "", out, outlen);
}

const struct error *db_pattern_quote(const char *s, char *out, size_t outlen)
{
	return quote(s, "_%\\", out, outlen);
}

/* 'user'@'%' for a checked user name. */
static const struct error *account(const char *user, char *out, size_t n)
{
	const struct error *err;

	if ((err = db_ident_check(user)))
		return err;
	snprintf(out, n, "'%s'@'%%'", user);
	return NULL;
}

const struct error *db_create_database(struct db *db, const char *name)
{
	const struct error *err;
	char q[80], sql[256];

	if ((err = db_ident_quote(name, q, sizeof q)))
		return err;
	snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4", q);
	return error_wrap(db_exec(db, sql), "creating database \"%s\"", name);
}

const struct error *db_grant_all(struct db *db, const char *dbname, const char *user)
{
	const struct error *err;
	char acct[100], q[160], sql[512];

	if ((err = account(user, acct, sizeof acct)) || (err = db_pattern_quote(dbname, q, sizeof q)))
		return err;
	snprintf(sql, sizeof sql, "GRANT ALL PRIVILEGES ON %s.* TO %s", q, acct);
	return error_wrap(db_exec(db, sql), "granting \"%s\" to \"%s\"", dbname, user);
}

/* "VERB acct IDENTIFIED BY 'password'" (verb: CREATE USER, ALTER USER...),
 * the password escaped, and wiped from memory after. */
static const struct error *with_password(struct db *db, const char *verb, const char *acct, const char *password)
{
	const struct error *err;
	char esc[256], sql[512];
	size_t plen = strlen(password);

	if (plen * 2 + 1 > sizeof esc)
		return error_fmt("password too long");
	mysql_real_escape_string(db->my, esc, password, (unsigned long)plen);
	snprintf(sql, sizeof sql, "%s %s IDENTIFIED BY '%s'", verb, acct, esc);
	err = db_exec(db, sql);
	explicit_bzero(esc, sizeof esc);
	explicit_bzero(sql, sizeof sql);
	return err;
}

const struct error *db_readonly_user(struct db *db, const char *user, const char *password, char *const *dbs)
{
	const struct error *err;
	char acct[100], sql[512], q[160];

	if ((err = account(user, acct, sizeof acct)))
		return err;
	if ((err = with_password(db, "CREATE USER IF NOT EXISTS", acct, password)) ||
	    (err = with_password(db, "ALTER USER", acct, password)))
		return error_wrap(err, "making the read-only database user \"%s\"", user);
	/* SELECT on each database: korcluster grants it nothing else (and
	 * revoking first would deny a running frontend for a moment). */
	for (size_t i = 0; dbs[i]; i++) {
		if ((err = db_pattern_quote(dbs[i], q, sizeof q)))
			return err;
		snprintf(sql, sizeof sql, "GRANT SELECT ON %s.* TO %s", q, acct);
		if ((err = db_exec(db, sql)))
			return error_wrap(err, "granting SELECT on \"%s\" to \"%s\"", dbs[i], user);
	}
	return NULL;
}

const struct error *db_instance_create(struct db *db, const char *user, const char *password, char *const *dbs)
{
	const struct error *err;
	char acct[100], sql[512], n[16];

	if ((err = account(user, acct, sizeof acct)))
		return err;
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mysql.user WHERE User = '%s'", user);
	if ((err = db_query_value(db, sql, n, sizeof n)))
		return error_wrap(err, "looking up user \"%s\"", user);
	if (strcmp(n, "0") != 0)
		return error_fmt("database user \"%s\" exists already; korcluster leaves it alone", user);
	/* A database of that name may hold someone's data: never set up over
	 * it, never dropped when making the instance fails. */
	for (size_t i = 0; dbs[i]; i++) {
		if ((err = db_ident_check(dbs[i])))
			return err;
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '%s'", dbs[i]);
		if ((err = db_query_value(db, sql, n, sizeof n)))
			return error_wrap(err, "looking up database \"%s\"", dbs[i]);
		if (strcmp(n, "0") != 0)
			return error_fmt("database \"%s\" exists already; korcluster leaves it alone", dbs[i]);
	}
	if ((err = with_password(db, "CREATE USER", acct, password)))
		return error_wrap(err, "creating database user \"%s\"", user);
	for (size_t i = 0; dbs[i]; i++)
		if ((err = db_grant_all(db, dbs[i], user)))
			return err;
	return dbs[0] ? db_create_database(db, dbs[0]) : NULL;
}

const struct error *db_instance_fix_grants(struct db *db, const char *user, char *const *dbs, int *fixed)
{
	const struct error *err;
	char acct[100], q[80], sql[512], n[16];

	*fixed = 0;
	if ((err = account(user, acct, sizeof acct)))
		return err;
	for (size_t i = 0; dbs[i]; i++) {
		if (!strchr(dbs[i], '_') || db_ident_quote(dbs[i], q, sizeof q))
			continue;
		/* The stored pattern is the name as written: unescaped. */
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mysql.db WHERE User = '%s' AND Host = '%%' AND Db = '%s'",
			 user, dbs[i]);
		if ((err = db_query_value(db, sql, n, sizeof n)))
			return error_wrap(err, "reading the grants of \"%s\"", user);
		if (strcmp(n, "0") == 0)
			continue;
		snprintf(sql, sizeof sql, "REVOKE ALL PRIVILEGES ON %s.* FROM %s", q, acct);
		if ((err = db_exec(db, sql)) || (err = db_grant_all(db, dbs[i], user)))
			return error_wrap(err, "narrowing the grant of \"%s\" on \"%s\"", user, dbs[i]);
		*fixed = 1;
	}
	return NULL;
}

const struct error *db_instance_drop(struct db *db, const char *user, char *const *dbs)
{
	const struct error *err;
	char acct[100], sql[256], q[80];

	for (size_t i = 0; dbs[i]; i++) {
		if ((err = db_ident_quote(dbs[i], q, sizeof q)))
			return err;
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", q);
		if ((err = db_exec(db, sql)))
			return error_wrap(err, "dropping database \"%s\"", dbs[i]);
	}
	if ((err = account(user, acct, sizeof acct)))
		return err;
	snprintf(sql, sizeof sql, "DROP USER IF EXISTS %s", acct);
	return error_wrap(db_exec(db, sql), "dropping database user \"%s\"", user);
}

const struct error *db_max_statement(struct db *db, size_t *out)
{
	const struct error *err;
	char v[32];
	char *end;
	unsigned long long n;

	if ((err = db_query_value(db, "SELECT @@max_allowed_packet", v, sizeof v)))
		return error_wrap(err, "reading max_allowed_packet");
	n = strtoull(v, &end, 10);
	if (*end || n < 1024)
		return error_fmt("the server's max_allowed_packet is \"%s\"", v);
	*out = (size_t)n;
	return NULL;
}
