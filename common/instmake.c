#include "instmake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fs.h"
#include "import.h"
#include "instances.h"
#include "lock.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "searchidx.h"
#include "name.h"
#include "probe.h"
#include "proxy.h"
#include "report.h"
#include "routes.h"
#include "runtime.h"
#include "snapshot.h"

static const char *const reserved_users[] = {"root", "mysql", "sys", "test", "information_schema",
					     "performance_schema", "mariadb", NULL};

const struct error *instmake_setup(void *ctx, struct engine *e, struct instance *in)
{
	const struct error *err;
	char *dbname;
	long tables = 0;

	(void)ctx;
	if (!in->cl.tpl.setup)
		return NULL;
	/* A setup may wipe its database (Rails' db:setup does): it runs on an
	 * empty one only. */
	dbname = instance_database(in, in->env);
	err = mysqlsvc_tables(e, &in->cl, dbname, &tables);
	if (!err && tables > 0)
		err = error_fmt("database %s holds %ld tables: setup runs only on an empty database", dbname, tables);
	free(dbname);
	if (err)
		return err;
	report_line("running setup of \"%s\" (%s)", in->name, in->version);
	if ((err = runtime_task(e, in, in->env, "setup", in->cl.tpl.setup, "; nothing was kept")))
		return err;
	if (in->cl.tpl.post_setup)
		report_line("running post_setup of \"%s\"", in->name);
	return runtime_task(e, in, in->env, "post_setup", in->cl.tpl.post_setup, "; nothing was kept");
}

const struct error *instmake_check(const struct cluster *cl, const char *name, const char *version,
				   const char *portarg, const char *description, int *port)
{
	const struct error *err;

	if ((err = name_check_instance(name)))
		return err;
	for (size_t i = 0; reserved_users[i]; i++)
		if (strcmp(name, reserved_users[i]) == 0)
			return error_fmt("instance name \"%s\" is reserved by MySQL", name);
	if ((err = instance_check_version(version)) || (err = template_version_check(&cl->tpl, version)) ||
	    (err = name_check_port(portarg, port)))
		return err;
	return description ? name_check_description(description) : NULL;
}

const struct error *instmake_place(const struct cluster *cl, const char *name, int port, int *slot)
{
	const struct error *err;
	struct taken taken = {NULL, NULL, 0};
	char *dir = cluster_path(cl, "instances/%s", name), *pooled = cluster_path(cl, "pool/%s", name);

	if (fs_exists(dir))
		err = error_fmt("instance \"%s\" exists already", name);
	else if (fs_exists(pooled))
		err = error_fmt("\"%s\" is the name of an instance in the pool", name);
	else
		err = instances_scan(cl, NULL, &taken);
	free(dir);
	free(pooled);
	if (err)
		return err;
	if (port == cl->http_port || port == cl->https_port)
		err = error_fmt("port %d is a port of the cluster's hostnames (%s in cluster.ini)", port,
				port == cl->http_port ? "http_port" : "https_port");
	for (size_t i = 0; i < taken.n && !err; i++)
		if (taken.ports[i] == port)
			err = error_fmt("port %d is taken by another instance", port);
	for (*slot = 0; !err; (*slot)++) {
		size_t i;

		for (i = 0; i < taken.n && taken.slots[i] != *slot; i++)
			;
		if (i == taken.n)
			break;
	}
	instances_taken_free(&taken);
	return err ? err : probe_port_free(cl->bind, port);
}

/* The folder of a new instance: instance.ini (mode 0600), the link (not
 * for the pool: port 0), its environment's data folder and its log folder. */
static const struct error *make_folder(const char *dir, const char *name, const char *version, int port, int slot,
				       const char *dbpw, const char *skb, const char *description)
{
	const struct error *err;
	char *p, *text;

	if ((err = fs_mkdirs(dir, 0750)))
		return err;
	p = xasprintf("%s/data/blue", dir);
	err = fs_mkdirs(p, 0755);
	free(p);
	if (err)
		return err;
	p = xasprintf("%s/log", dir);
	err = fs_mkdirs(p, 0750);
	free(p);
	if (err)
		return err;
	if (port && (err = instmake_link(dir)))
		return err;
	text = instance_ini_text(name, version, port, slot, dbpw, skb, description);
	p = xasprintf("%s/instance.ini", dir);
	err = fs_write_atomic(p, text, strlen(text), 0600);
	explicit_bzero(text, strlen(text));
	free(text);
	free(p);
	return err;
}

const struct error *instmake_link(const char *dir)
{
	const struct error *err;
	char *self = NULL, *p;

	if ((err = fs_self_exe(&self)))
		return err;
	p = xasprintf("%s/instance.sh", dir);
	err = fs_symlink_atomic(self, p);
	free(p);
	free(self);
	return err;
}

const struct error *instmake_make(struct engine *e, struct db *db, const char *dir, const char *name,
				  const char *version, int port, int slot, const char *description, instmake_fill fill,
				  void *ctx, int *left)
{
	const struct error *err;
	struct instance in;
	char *dbs[3] = {instance_db_name(name, "blue"), instance_db_name(name, "green"), NULL};
	char dbpw[33], skb[65];
	int made_db = 0;

	*left = 0;
	if ((err = name_random(dbpw, 32, NAME_ALNUM)) || (err = name_random(skb, 64, NAME_ALNUM)) ||
	    (err = db_instance_create(db, name, dbpw, dbs)))
		goto out;
	made_db = 1;
	if ((err = make_folder(dir, name, version, port, slot, dbpw, skb, description)) || (err = instance_open(&in, dir)))
		goto out;
	err = fill(ctx, e, &in);
	instance_free(&in);
out:
	if (err && made_db) {
		const struct error *e2 = db_instance_drop(db, name, dbs);

		if (e2) {
			report_warn("%s", e2->msg);
			*left = 1;
		}
		fs_remove_tree(dir);
	}
	explicit_bzero(dbpw, sizeof dbpw);
	explicit_bzero(skb, sizeof skb);
	free(dbs[0]);
	free(dbs[1]);
	/* An error never points into in (errors live until the process ends). */
	/* cppcheck-suppress returnDanglingLifetime */
	return err;
}

const struct error *instmake_create(const struct cluster *cl, const char *name, const char *version,
				    const char *portarg, const char *description, instmake_fill fill, void *ctx)
{
	const struct error *err;
	struct engine *e = NULL;
	struct db *db = NULL;
	char *dir = NULL, *marker = NULL;
	int port = 0, slot = 0, lock = -1, left = 0;

	/* Every input first. */
	if ((err = instmake_check(cl, name, version, portarg, description, &port)))
		goto out;
	if ((err = lock_take(cl->root, "the cluster", &lock)))
		goto out;
	dir = cluster_path(cl, "instances/%s", name);
	if ((err = instmake_place(cl, name, port, &slot)) || (err = engine_open(&e)) ||
	    (err = mysqlsvc_connect(e, cl, &db)))
		goto out;
	/* The marker says the databases and user were made by this command:
	 * if they cannot be removed after a failure (MySQL went away, say),
	 * the next "new NAME" knows they are korcluster's to remove. */
	marker = cluster_path(cl, "instances/.%s.new", name);
	if (fs_exists(marker)) {
		char *dbs[3] = {instance_db_name(name, "blue"), instance_db_name(name, "green"), NULL};

		err = db_instance_drop(db, name, dbs);
		free(dbs[0]);
		free(dbs[1]);
		if (err)
			goto out;
		unlink(marker);
		report_note("removed the databases and user an earlier, failed \"new %s\" left", name);
	}
	if ((err = fs_write_atomic(marker, name, strlen(name), 0600)))
		goto out;
	err = instmake_make(e, db, dir, name, version, port, slot, description, fill, ctx, &left);
	/* Kept when the databases could not be removed: the next "new NAME"
	 * removes them. */
	if (left)
		report_warn("the next \"new %s\" removes them", name);
	else
		unlink(marker);
out:
	free(dir);
	free(marker);
	db_close(db);
	engine_close(e);
	lock_release(lock);
	return error_wrap(err, "creating instance \"%s\"", name);
}

static const struct error *import_clone(void *ctx, struct engine *e, struct instance *in)
{
	return import_run(e, in, ctx, 0);
}

const struct error *instmake_clone(const struct cluster *cl, const char *src, const char *name, const char *port,
				   const char *description)
{
	const struct error *err;
	struct instance from;
	struct engine *e = NULL;
	struct snapshot_result res = {0};
	char *sdir = NULL, *tmp = NULL;
	int lock = -1, loaded = 0;

	if ((err = name_check_instance(src)) || (err = name_check_instance(name)) ||
	    (description && (err = name_check_description(description))))
		goto out;
	sdir = cluster_path(cl, "instances/%s", src);
	if ((err = instance_open(&from, sdir)))
		goto out;
	loaded = 1;
	if (from.archived) {
		err = error_fmt("instance \"%s\" is archived: restore it first", src);
		goto out;
	}
	tmp = cluster_path(cl, "snapshots/.clone-%s-%d.tar.zst", name, (int)getpid());
	/* The source's current state, taken online under its lock. */
	if ((err = lock_take(from.root, "the instance", &lock)) || (err = engine_open(&e)) ||
	    (err = snapshot_take(e, &from, from.env, tmp, 0, &res)))
		goto out;
	lock_release(lock);
	lock = -1;
	report_line("took %s's state in %.1f s (writes held %.2f s)", src, res.seconds, res.held);
	if (!(err = instmake_create(cl, name, from.version, port, description, import_clone, res.path)))
		report_line("cloned \"%s\" to \"%s\" (%s) on port %s\nnext: %s/instances/%s/instance.sh start", src, name,
			    from.version, port, cl->root, name);
out:
	if (res.path)
		unlink(res.path);
	snapshot_result_free(&res);
	lock_release(lock);
	engine_close(e);
	if (loaded)
		instance_free(&from);
	free(tmp);
	free(sdir);
	return error_wrap(err, "cloning \"%s\" to \"%s\"", src, name);
}

const struct error *instmake_destroy(const struct cluster *cl, const char *name)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	struct db *db = NULL;
	char *dir = NULL, *dbs[3] = {NULL, NULL, NULL}, *ro = NULL, *no_dbs[1] = {NULL};
	char *cache = cluster_path(cl, "proxy/cache/%s", name);
	int lock = -1, ilock = -1, loaded = 0;
	struct routes no_routes = ROUTES_INIT;

	if ((err = name_check_instance(name)))
		goto out;
	dir = cluster_path(cl, "instances/%s", name);
	if (!fs_exists(dir)) {
		err = error_fmt("no such instance");
		goto out;
	}
	if ((err = lock_take(cl->root, "the cluster", &lock)) || (err = lock_take(dir, "the instance", &ilock)) ||
	    (err = instance_open(&in, dir)))
		goto out;
	loaded = 1;
	dbs[0] = instance_database(&in, "blue");
	dbs[1] = instance_database(&in, "green");
	/* Its hostnames go first: the proxy then stops listening for them if
	 * they were the cluster's last. */
	if ((err = engine_open(&e)) || (err = routes_save(dir, &no_routes)) || (err = proxy_lock(cl, name, 0)) ||
	    (err = proxy_set(e, cl, name, NULL)) ||
	    (err = runtime_stop(e, &in, NULL)) ||
	    (err = searchidx_drop(e, &in, "blue")) || (err = searchidx_drop(e, &in, "green")) ||
	    (err = mysqlsvc_connect(e, cl, &db)) || (err = db_instance_drop(db, in.db_user, dbs)) ||
	    (err = db_instance_drop(db, ro = instance_ro_user(&in), no_dbs)) || (err = fs_remove_tree(cache)) ||
	    (err = fs_remove_tree(dir)))
		goto out;
out:
	if (loaded)
		instance_free(&in);
	free(dbs[0]);
	free(dbs[1]);
	free(dir);
	free(ro);
	free(cache);
	db_close(db);
	engine_close(e);
	lock_release(ilock);
	lock_release(lock);
	return error_wrap(err, "destroying instance \"%s\"", name);
}
