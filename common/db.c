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
	struct db *db = calloc(1, sizeof *db);
	unsigned int t = (unsigned int)connect_timeout;

	if (!db || !(db->my = mysql_init(NULL))) {
		free(db);
		return err_set("out of memory");
	}
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &t);
	if (!mysql_real_connect(db->my, host, user, password, NULL, (unsigned int)port, NULL, 0)) {
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
