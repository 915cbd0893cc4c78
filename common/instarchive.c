#include "instarchive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archread.h"
#include "backup.h"
#include "db.h"
#include "fs.h"
#include "instcfg.h"
#include "lock.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "name.h"
#include "report.h"
#include "restore.h"
#include "runtime.h"
#include "searchidx.h"
#include "snaplist.h"
#include "snapshot.h"
#include "upgrade.h"

/* An instance opened under the cluster's lock and its own, the engine
 * reached, and what a killed command left put right. */
struct opened {
	struct instance in;
	struct engine *e;
	struct db *db;
	int lock, ilock, loaded;
	char *dbs[3];
};

static const struct error *open_locked(const struct cluster *cl, const char *name, struct opened *o)
{
	const struct error *err;
	char *dir = NULL;
	int did;

	memset(o, 0, sizeof *o);
	o->lock = o->ilock = -1;
	if ((err = name_check_instance(name)))
		return err;
	dir = cluster_path(cl, "instances/%s", name);
	if (!fs_exists(dir))
		err = error_fmt("no such instance");
	else if (!(err = lock_take(cl->root, "the cluster", &o->lock)) &&
		 !(err = lock_take(dir, "the instance", &o->ilock)) && !(err = instance_open(&o->in, dir))) {
		o->loaded = 1;
		o->dbs[0] = instance_database(&o->in, "blue");
		o->dbs[1] = instance_database(&o->in, "green");
		if (!(err = engine_open(&o->e)) && !o->in.archived)
			err = upgrade_recover(o->e, &o->in, &did);
		if (!err)
			err = mysqlsvc_connect(o->e, cl, &o->db);
	}
	free(dir);
	return err;
}

static void close_locked(struct opened *o)
{
	if (o->loaded)
		instance_free(&o->in);
	free(o->dbs[0]);
	free(o->dbs[1]);
	db_close(o->db);
	engine_close(o->e);
	lock_release(o->ilock);
	lock_release(o->lock);
}

/* Every member of the archive at path read and checked against its
 * manifest; nothing is written. */
static const struct error *verify(const char *path)
{
	const struct error *err;
	struct archread *r = NULL;
	struct archread_info info;
	struct archread_limits lim = {UINT64_MAX, 0, 0, SIZE_MAX, NULL};

	memset(&info, 0, sizeof info);
	if (!(err = archread_open(&r, path)))
		err = archread_verify(r, &lim, &info);
	archread_info_free(&info);
	archread_close(r);
	return error_wrap(err, "checking the archive \"%s\"", path);
}

const struct error *instarchive_take(const struct cluster *cl, const char *name)
{
	const struct error *err;
	struct opened o;
	struct snapshot_result res = {0};
	char *path = NULL, *now = NULL, *data[2] = {NULL, NULL}, *ro = NULL, *no_dbs[1] = {NULL};
	int served = 0, stopped = 0;

	if ((err = open_locked(cl, name, &o)))
		goto out;
	if (o.in.archived) {
		err = error_fmt("it is archived already (since %s)", o.in.archived);
		goto out;
	}
	path = xasprintf("%s/archive.tar.zst", o.in.root);
	/* A snapshot there now is one an interrupted archive left (the
	 * instance was not marked archived): it goes. */
	if (unlink(path) == 0)
		report_note("removed the snapshot an interrupted archive of \"%s\" left", name);
	/* 1. Stopped first, so that nothing is written after the snapshot;
	 * then the snapshot, read back whole. */
	served = runtime_served(&o.in);
	if ((err = served ? runtime_unserve(o.e, &o.in) : runtime_stop(o.e, &o.in, NULL)))
		goto out;
	stopped = 1;
	report_line("taking the final snapshot of \"%s\" (%s)", name, o.in.version);
	if ((err = snapshot_take(o.e, &o.in, o.in.env, path, 0, &res)) || (err = verify(path)))
		goto out;
	report_line("snapshot checked: %.1f MiB in %s", (double)res.bytes / (1 << 20), path);
	/* 2. From here the instance is archived: a crash below leaves it so,
	 * its snapshot in place, and restore makes what is missing again. */
	now = instance_now();
	o.in.archived = now;
	if ((err = instance_save(&o.in, o.in.env))) {
		o.in.archived = NULL;
		goto out;
	}
	/* 3. What it ran on goes. */
	data[0] = instance_data_dir(&o.in, "blue");
	data[1] = instance_data_dir(&o.in, "green");
	ro = instance_ro_user(&o.in);
	if ((err = searchidx_drop(o.e, &o.in, "blue")) || (err = searchidx_drop(o.e, &o.in, "green")) ||
	    (err = db_instance_drop(o.db, o.in.db_user, o.dbs)) || (err = db_instance_drop(o.db, ro, no_dbs)) ||
	    (err = fs_remove_tree(data[0])) || (err = fs_remove_tree(data[1])))
		err = error_wrap(err, "the snapshot is kept and the instance is archived; \"cluster.sh archive\" cannot "
				      "finish removing it");
out:
	if (err && path && !(o.loaded && o.in.archived)) {
		/* Not archived: as it was, serving again if it served. */
		unlink(path);
		if (served && stopped) {
			const struct error *e2 = runtime_serve(o.e, &o.in);

			if (e2)
				report_warn("instance \"%s\" could not be served again: %s", name, e2->msg);
		}
	}
	err = error_wrap(err, "archiving instance \"%s\"", name);
	close_locked(&o);
	snapshot_result_free(&res);
	free(data[0]);
	free(data[1]);
	free(now);
	free(ro);
	free(path);
	return err;
}

const struct error *instarchive_restore(const struct cluster *cl, const char *name)
{
	const struct error *err;
	struct opened o;
	struct restore *r = NULL;
	struct restore_result res = {0};
	char *path = NULL, *dir = NULL, *keep = NULL, *fetched = NULL;
	int made = 0;

	if ((err = open_locked(cl, name, &o)))
		goto out;
	if (!o.in.archived) {
		err = error_fmt("it is not archived");
		goto out;
	}
	path = xasprintf("%s/archive.tar.zst", o.in.root);
	dir = instance_data_dir(&o.in, o.in.env);
	/* Marked archived without its snapshot (restore-cluster could not
	 * fetch it): the newest off-site one, when there is a target. */
	if (!fs_exists(path) && cl->backup_target && (err = backup_fetch_newest(cl, name, path, &fetched)))
		goto out;
	/* What an archive cut short left goes first. */
	if ((err = db_instance_drop(o.db, o.in.db_user, o.dbs)) ||
	    (err = db_instance_create(o.db, o.in.db_user, o.in.db_password, o.dbs)))
		goto out;
	made = 1;
	report_line("restoring \"%s\" from %s", name, path);
	if ((err = fs_mkdirs(dir, 0755)) || (err = restore_check(o.e, &o.in, path, o.in.env, RESTORE_AS_IS, &r)) ||
	    (err = restore_run(r, &res)))
		goto out;
	/* Its snapshot becomes the newest of its archive in snapshots/. */
	keep = snaplist_default_path(&o.in, o.in.env, 0);
	if (rename(path, keep) < 0) {
		err = error_errno("moving \"%s\" to \"%s\"", path, keep);
		goto out;
	}
	o.in.archived = NULL;
	if ((err = instance_save(&o.in, o.in.env))) {
		rename(keep, path);
		goto out;
	}
	report_line("instance \"%s\" (%s) is restored, %zu files; its snapshot is now %s\nnext: %s/instances/%s/"
		    "instance.sh start",
		    name, res.version ? res.version : o.in.version, res.files, keep, cl->root, name);
out:
	if (err && made) {
		/* Archived as before: its snapshot, and nothing else. */
		db_instance_drop(o.db, o.in.db_user, o.dbs);
		fs_remove_tree(dir);
	}
	restore_close(r);
	restore_result_free(&res);
	err = error_wrap(err, "restoring instance \"%s\"", name);
	close_locked(&o);
	free(fetched);
	free(keep);
	free(path);
	free(dir);
	return err;
}
