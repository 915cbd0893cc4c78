#include "leftover.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbload.h"
#include "fs.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "proxy.h"
#include "report.h"
#include "runtime.h"

/* Remove snapshots/ENTRY when it belongs to instance in and was left by a
 * killed command: its work trees, partial archives, dump folders (and
 * their containers). */
static const struct error *clean_entry(struct engine *e, struct instance *in, const char *entry, int *did)
{
	const struct error *err = NULL;
	size_t n = strlen(in->name), len = strlen(entry);
	char *path = NULL, *container = NULL;
	const char *rnd;

	if (strncmp(entry, ".work-", 6) == 0 && strncmp(entry + 6, in->name, n) == 0 && entry[6 + n] == '-') {
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	} else if (strncmp(entry, in->name, n) == 0 && entry[n] == '.' && len > 4 && strcmp(entry + len - 4, ".tmp") == 0) {
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	} else if (strncmp(entry, ".dump-", 6) == 0 && strncmp(entry + 6, in->name, n) == 0 && entry[6 + n] == '_' &&
		   (rnd = strrchr(entry, '-')) && rnd > entry + 6 &&
		   ((rnd - entry == 6 + (long)n + 5 && strncmp(entry + 6 + n, "_blue", 5) == 0) ||
		    (rnd - entry == 6 + (long)n + 6 && strncmp(entry + 6 + n, "_green", 6) == 0))) {
		/* .dump-DBNAME-RND and its container CLUSTER_dump_DBNAME_RND, as
		 * earlier versions dumped, for exactly NAME_blue or NAME_green:
		 * instance "a" leaves "a_b"'s alone. */
		json_t *info = NULL;

		container = xasprintf("%s_dump_%.*s_%s", in->cl.name, (int)(rnd - entry - 6), entry + 6, rnd + 1);
		if (!(err = engine_container_inspect(e, container, &info)) && info) {
			engine_container_stop(e, container, 1);
			err = engine_container_remove(e, container);
		}
		json_decref(info);
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	}
	if (!err && path) {
		err = fs_remove_tree(path);
		*did = 1;
	}
	free(path);
	free(container);
	return err;
}

/* name as a GRANT stores it, escaped, in a string literal: a_b -> a\\_b. */
static void like_literal(const char *name, char *out, size_t n)
{
	size_t k = 0;

	for (; *name && k + 4 < n; name++) {
		if (*name == '_' || *name == '%') {
			out[k++] = '\\';
			out[k++] = '\\';
		}
		out[k++] = *name;
	}
	out[k] = '\0';
}

/* Loading users of this instance's databases left by a killed load. */
static const struct error *drop_loading_users(struct engine *e, struct instance *in, int *did)
{
	const struct error *err;
	char *blue = instance_database(in, "blue"), *green = instance_database(in, "green");
	char sql[512], users[4096], pb[160], pg[160];
	struct db *root = NULL;

	/* Granted as patterns ("a\_b\_blue"), or as names before they were. */
	like_literal(blue, pb, sizeof pb);
	like_literal(green, pg, sizeof pg);
	snprintf(sql, sizeof sql,
		 "SELECT IFNULL(GROUP_CONCAT(DISTINCT User), '') FROM mysql.db WHERE Db IN ('%s', '%s', '%s', '%s') "
		 "AND User LIKE '%s%%'",
		 blue, green, pb, pg, "kcload\\\\_");
	if ((err = mysqlsvc_connect(e, &in->cl, &root)) || (err = db_query_value(root, sql, users, sizeof users)))
		goto out;
	for (char *u = strtok(users, ","); u && !err; u = strtok(NULL, ",")) {
		if (strncmp(u, DBLOAD_USER_PREFIX, strlen(DBLOAD_USER_PREFIX)) != 0 ||
		    strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(u))
			continue;
		snprintf(sql, sizeof sql, "DROP USER IF EXISTS '%s'@'%%'", u);
		err = db_exec(root, sql);
		*did = 1;
	}
out:
	db_close(root);
	free(blue);
	free(green);
	return err;
}

const struct error *leftover_clear(struct engine *e, struct instance *in, int loads, int *did)
{
	const struct error *err = NULL;
	char *staging[2] = {xasprintf("%s/data/blue.import", in->root), xasprintf("%s/data/green.import", in->root)};
	char *snaps = cluster_path(&in->cl, "snapshots"), *conf = NULL;
	char *confpath = cluster_path(&in->cl, "proxy/conf.d/%s.conf", in->name);
	DIR *d;
	struct dirent *de;
	size_t clen;

	*did = 0;
	if ((d = opendir(snaps))) {
		while (!err && (de = readdir(d)))
			err = clean_entry(e, in, de->d_name, did);
		closedir(d);
	}
	for (int i = 0; i < 2 && !err; i++) {
		char *db = instance_database(in, i ? "green" : "blue");

		if (fs_exists(staging[i]))
			loads = *did = 1;
		if (!(err = fs_remove_tree(staging[i])))
			err = mysqlsvc_dump_clear(&in->cl, db, did);
		free(db);
	}
	/* Containers a killed upgrade started ahead in the inactive
	 * environment would wait at its shut gate for ever. */
	if (!err)
		err = runtime_clear_waiting(e, in, instance_other_env(in->env), did);
	if (err)
		goto out;
	/* Writes held by a command that is gone (by its hold file, or by the
	 * read-only variant of the configuration earlier versions wrote);
	 * after any killed command the proxy may not have loaded its file
	 * yet: it is applied again. */
	if (fs_exists(confpath) && !fs_read(confpath, &conf, &clen)) {
		int held = proxy_held(&in->cl, in->name) || strstr(conf, "$request_method") != NULL;

		if ((held || *did) && (err = runtime_route(e, in, in->env, 0)))
			goto out;
		if (held)
			report_note("writes to \"%s\" were held by an interrupted command; they go through again", in->name);
		*did |= held;
	}
	if (loads)
		err = drop_loading_users(e, in, did);
out:
	free(conf);
	free(confpath);
	free(snaps);
	free(staging[0]);
	free(staging[1]);
	return error_wrap(err, "removing what an interrupted command left");
}
