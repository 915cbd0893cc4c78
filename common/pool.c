#include "pool.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "fs.h"
#include "instcfg.h"
#include "instmake.h"
#include "lock.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "name.h"
#include "report.h"
#include "runtime.h"
#include "searchidx.h"
#include "strv.h"

#define PREFIX "pool_"

/* The IDs of pool/ (sorted; every folder named as the pool names them). */
static const struct error *entries(const struct cluster *cl, struct strv *ids)
{
	char *dir = cluster_path(cl, "pool");
	DIR *d = opendir(dir);
	struct dirent *de;

	free(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) == 0 && !name_check_instance(de->d_name))
			strv_push(ids, de->d_name);
	closedir(d);
	strv_sort(ids);
	return NULL;
}

/* Entry id: -1 not ready, 1 ready at version, 0 ready at another. */
static int ready_at(const struct cluster *cl, const char *id, const char *version)
{
	char *p = cluster_path(cl, "pool/%s/ready", id);
	struct conf c;
	struct diag d = DIAG_INIT;
	int r = -1;

	if (fs_exists(p)) {
		free(p);
		p = cluster_path(cl, "pool/%s/instance.ini", id);
		r = 0;
		if (!conf_load(&c, p, &d)) {
			const char *v = conf_value(&c, "instance", "version");

			r = v && strcmp(v, version) == 0;
			conf_free(&c);
		}
		diag_free(&d);
	}
	free(p);
	return r;
}

static const struct error *read_size(const struct cluster *cl, int *size)
{
	const struct error *err;
	char *p = cluster_path(cl, "pool/size"), *text = NULL, *end;
	size_t len;
	long n;

	*size = 0;
	if (!fs_exists(p)) {
		free(p);
		return NULL;
	}
	if (!(err = fs_read(p, &text, &len))) {
		n = strtol(text, &end, 10);
		if (end == text || (*end && strcmp(end, "\n")) || n < 0 || n > 1000)
			err = error_fmt("%s must hold a number from 0 to 1000", p);
		else
			*size = (int)n;
	}
	free(text);
	free(p);
	return err;
}

const struct error *pool_state(const struct cluster *cl, struct pool_state *out)
{
	const struct error *err;
	struct strv ids = STRV_INIT;

	memset(out, 0, sizeof *out);
	if ((err = read_size(cl, &out->size)) || (err = entries(cl, &ids)))
		return err;
	for (size_t i = 0; i < ids.n; i++) {
		int r = ready_at(cl, ids.v[i], cl->tpl.default_version);

		out->ready += r == 1;
		out->other += r == 0;
	}
	strv_free(&ids);
	return NULL;
}

/* Remove entry id: its index when it can be read as an instance, its
 * databases and user (named after id), its folder.  Not ready any more:
 * nothing else touches it. */
static const struct error *remove_entry(struct engine *e, struct db *db, const struct cluster *cl, const char *id)
{
	const struct error *err;
	char *dir = cluster_path(cl, "pool/%s", id);
	char *dbs[3] = {instance_db_name(id, "blue"), instance_db_name(id, "green"), NULL};
	struct instance in;
	struct diag d = DIAG_INIT;

	if (!instance_load(&in, dir, &d) && !d.lines.n && cl->tpl.index_name)
		searchidx_drop(e, &in, "blue");
	instance_free(&in);
	diag_free(&d);
	if (!(err = db_instance_drop(db, id, dbs)))
		err = fs_remove_tree(dir);
	free(dbs[0]);
	free(dbs[1]);
	free(dir);
	return error_wrap(err, "removing \"%s\" from the pool", id);
}

/* Make a ready entry no longer ready, under the cluster's lock so that no
 * "new" is taking it meanwhile; *was: it was ready. */
static const struct error *unready(const struct cluster *cl, const char *id, int *was)
{
	const struct error *err;
	char *p;
	int lock = -1;

	if ((err = lock_take(cl->root, "the cluster", &lock)))
		return err;
	p = cluster_path(cl, "pool/%s/ready", id);
	*was = fs_exists(p);
	if (*was)
		err = fs_unlink_durable(p);
	free(p);
	lock_release(lock);
	return err;
}

/* A new ready entry at the template's default version. */
static const struct error *make_entry(struct engine *e, struct db *db, const struct cluster *cl)
{
	const struct error *err;
	char id[sizeof PREFIX + 8] = PREFIX, *dir = NULL, *inst = NULL, *p;
	int left = 0;

	for (int tries = 0; tries < 10; tries++) {
		if ((err = name_random(id + strlen(PREFIX), 8, "abcdefghijklmnopqrstuvwxyz0123456789")))
			return err;
		free(dir);
		free(inst);
		dir = cluster_path(cl, "pool/%s", id);
		inst = cluster_path(cl, "instances/%s", id);
		if (!fs_exists(dir) && !fs_exists(inst))
			break;
	}
	/* The folder first: should this be interrupted, the next fill finds
	 * the folder without ready and removes what is named after it. */
	if (!(err = fs_mkdirs(dir, 0750))) {
		err = instmake_make(e, db, dir, id, cl->tpl.default_version, 0, 0, NULL, instmake_setup, NULL, &left);
		if (err && left)
			fs_mkdirs(dir, 0750);
	}
	if (!err) {
		p = cluster_path(cl, "pool/%s/ready", id);
		err = fs_write_atomic(p, "", 0, 0644);
		free(p);
	}
	free(dir);
	free(inst);
	return error_wrap(err, "making an instance for the pool");
}

const struct error *pool_fill(const struct cluster *cl, int size, struct pool_state *out)
{
	const struct error *err;
	struct engine *e = NULL;
	struct db *db = NULL;
	struct strv ids = STRV_INIT;
	char *dir = cluster_path(cl, "pool"), *p = NULL;
	int lock = -1;

	memset(out, 0, sizeof *out);
	if ((err = fs_mkdirs(dir, 0750)) || (err = lock_take(dir, "the pool", &lock)))
		goto out;
	if (size >= 0) {
		char text[16];

		snprintf(text, sizeof text, "%d\n", size);
		p = cluster_path(cl, "pool/size");
		if ((err = fs_write_atomic(p, text, strlen(text), 0644)))
			goto out;
	}
	if ((err = pool_state(cl, out)) || (err = entries(cl, &ids)))
		goto out;
	if (out->ready == out->size && !out->other && ids.n == (size_t)out->ready)
		goto out;
	if ((err = engine_open(&e)) || (err = mysqlsvc_connect(e, cl, &db)))
		goto out;
	/* What an interrupted fill left, what another version made, and what
	 * is more than the size. */
	for (size_t i = 0; i < ids.n; i++) {
		int was = 0, r = ready_at(cl, ids.v[i], cl->tpl.default_version);

		if (r >= 0) {
			if (r == 1 && out->ready <= out->size)
				continue;
			if ((err = unready(cl, ids.v[i], &was)))
				goto out;
			if (was && r == 1)
				out->ready--;
			else if (was)
				out->other--;
		}
		report_progress("removing %s from the pool", ids.v[i]);
		if ((err = remove_entry(e, db, cl, ids.v[i])))
			goto out;
	}
	while (out->ready < out->size) {
		report_progress("making instance %d of %d for the pool (%s)", out->ready + 1, out->size,
				cl->tpl.default_version);
		if ((err = make_entry(e, db, cl)))
			goto out;
		out->ready++;
	}
out:
	report_progress_clear();
	strv_free(&ids);
	db_close(db);
	engine_close(e);
	lock_release(lock);
	free(dir);
	free(p);
	return error_wrap(err, "filling the pool");
}

/* The first ready entry at version (caller frees), or NULL. */
static char *find(const struct cluster *cl, const char *version)
{
	struct strv ids = STRV_INIT;
	char *found = NULL;

	entries(cl, &ids);
	for (size_t i = 0; i < ids.n && !found; i++)
		if (ready_at(cl, ids.v[i], version) == 1)
			found = xstrdup(ids.v[i]);
	strv_free(&ids);
	return found;
}

/* The name-derived part of a taken instance: its search index again,
 * under its name.  On failure the instance is removed whole. */
static const struct error *rename_index(struct engine *e, const struct cluster *cl, const char *name)
{
	const struct error *err, *e2;
	struct instance in;
	struct db *db = NULL;
	char *dir = cluster_path(cl, "instances/%s", name), *dbs[3] = {NULL, NULL, NULL};

	if ((err = instance_open(&in, dir))) {
		free(dir);
		return err;
	}
	if (!in.cl.tpl.post_setup ||
	    !(err = runtime_task(e, &in, in.env, "post_setup", in.cl.tpl.post_setup, "; the instance was removed")))
		goto out;
	dbs[0] = instance_database(&in, "blue");
	dbs[1] = instance_database(&in, "green");
	searchidx_drop(e, &in, "blue");
	if ((e2 = mysqlsvc_connect(e, cl, &db)) || (e2 = db_instance_drop(db, in.db_user, dbs)))
		report_warn("%s: database user \"%s\" and its databases stay", e2->msg, in.db_user);
	fs_remove_tree(dir);
out:
	instance_free(&in);
	db_close(db);
	free(dbs[0]);
	free(dbs[1]);
	free(dir);
	return err;
}

const struct error *pool_take(const struct cluster *cl, const char *name, const char *version, const char *portarg,
			      const char *description, int *taken)
{
	const struct error *err;
	struct engine *e = NULL;
	struct instance in;
	char *id = NULL, *from = NULL, *to = NULL, *p = NULL, *dbs[2] = {NULL, NULL};
	int port, slot, lock = -1, loaded = 0;

	*taken = 0;
	if ((err = instmake_check(cl, name, version, portarg, description, &port)))
		goto out;
	if ((err = lock_take(cl->root, "the cluster", &lock)) || !(id = find(cl, version)))
		goto out;
	from = cluster_path(cl, "pool/%s", id);
	to = cluster_path(cl, "instances/%s", name);
	if ((err = instmake_place(cl, name, port, &slot)) || (err = instance_open(&in, from)))
		goto out;
	loaded = 1;
	if (in.cl.tpl.index_name && ((err = engine_open(&e)) || (err = searchidx_drop(e, &in, "blue"))))
		goto out;
	/* From here on the entry is not the pool's: should this be
	 * interrupted before the move, the next fill removes it. */
	p = cluster_path(cl, "pool/%s/ready", id);
	if ((err = fs_unlink_durable(p)))
		goto out;
	dbs[0] = instance_db_name(id, "blue");
	dbs[1] = instance_db_name(id, "green");
	in.db_user = in.name;
	in.name = name;
	in.port = port;
	in.slot = slot;
	in.description = description;
	in.env_database[0] = dbs[0];
	in.env_database[1] = dbs[1];
	free(p);
	p = cluster_path(cl, "pool/%s/instance.ini", id);
	if ((err = instance_write(&in, in.env, p)) || (err = instmake_link(from)) || (err = fs_sync_rename(from, to)))
		goto out;
	*taken = 1;
	if (in.cl.tpl.index_name)
		err = rename_index(e, cl, name);
out:
	if (loaded)
		instance_free(&in);
	engine_close(e);
	lock_release(lock);
	free(dbs[0]);
	free(dbs[1]);
	free(from);
	free(to);
	free(p);
	/* Refused before the pool had one to give: as "new" says it. */
	err = id ? error_wrap(err, "creating instance \"%s\" from the pool", name)
		 : error_wrap(err, "creating instance \"%s\"", name);
	free(id);
	return err;
}
