#include "clustermake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clustercfg.h"
#include "engine.h"
#include "fs.h"
#include "lock.h"
#include "mem.h"
#include "name.h"
#include "template.h"

static const struct error *write_secret(const char *path)
{
	const struct error *err;
	char pw[33];

	if ((err = name_random(pw, 32, NAME_ALNUM)))
		return err;
	err = fs_write_atomic(path, pw, strlen(pw), 0600);
	explicit_bzero(pw, sizeof pw);
	return err;
}

/* DIR/rel, made (with mode); "" for dir itself. */
static const struct error *mkdir_in(const char *dir, const char *rel, mode_t mode)
{
	char *p = xasprintf("%s/%s", dir, rel);
	const struct error *err = fs_mkdirs(p, mode);

	if (!err && chmod(p, mode) < 0)
		err = error_errno("setting mode of \"%s\"", p);
	free(p);
	return err;
}

/* Whether dir holds only secrets/ with only the files named in allowed (and
 * the lock an earlier, refused restore-cluster left). */
static int only_secrets(const char *dir, const char *const *allowed)
{
	char *sec = xasprintf("%s/secrets", dir);
	const char *top[] = {"secrets", ".lock", NULL};
	int ok = fs_only(dir, top) && (!fs_exists(sec) || fs_only(sec, allowed));

	free(sec);
	return ok;
}

const struct error *clustermake_check_folder(const char *dir, const char *const *secrets)
{
	char *p = xasprintf("%s/cluster.ini", dir), *q = xasprintf("%s/instance.ini", dir);
	const struct error *err = NULL;

	if (fs_exists(p))
		err = error_fmt("it already holds a cluster");
	else if (fs_exists(q))
		err = error_fmt("it holds an instance");
	else if (strchr(dir, ':'))
		err = error_fmt("a folder name with \":\" cannot be mounted into containers");
	else if (fs_exists(dir) && !fs_is_dir(dir))
		err = error_fmt("it is not a folder");
	else if (fs_nonempty_dir(dir) && !(secrets && only_secrets(dir, secrets)))
		err = error_fmt("it is not empty; give a new or empty folder");
	for (const char *c = dir; *c && !err; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			err = error_fmt("a folder name with a control character (a newline, a tab...) is refused");
	free(p);
	free(q);
	return err;
}

/* A name in use on this engine would make two clusters share containers;
 * no engine here is no objection. */
const struct error *clustermake_check_name(const char *name)
{
	const struct error *err = NULL;
	struct engine *e = NULL;
	json_t *list = NULL;
	char *label = xasprintf("%s=%s", LABEL_CLUSTER, name);

	if (!engine_open(&e) && !engine_container_list(e, label, &list) && json_array_size(list)) {
		const char *other =
			json_string_value(json_object_get(json_object_get(json_array_get(list, 0), "Labels"), LABEL_ROOT));

		err = error_fmt("cluster name \"%s\" is in use on this engine%s%s%s", name, other ? " (by " : "",
				other ? other : "", other ? ")" : "");
	}
	json_decref(list);
	engine_close(e);
	free(label);
	return err;
}

const struct error *clustermake_fill(const char *dir, const struct template *t, const char *ini)
{
	const struct error *err;
	char *p, *self;

	if ((err = mkdir_in(dir, "instances", 0755)) || (err = mkdir_in(dir, "snapshots", 0755)) ||
	    (err = mkdir_in(dir, "services", 0755)) || (err = mkdir_in(dir, "secrets", 0700)))
		return err;
	for (size_t i = 0; i < t->nsvc && !err; i++) {
		p = xasprintf("services/%s", t->svc[i].name);
		err = mkdir_in(dir, p, 0755);
		free(p);
		if (!err && t->svc[i].ready == READY_MYSQL) {
			p = xasprintf("%s/secrets/%s_root_password", dir, t->svc[i].name);
			if (!fs_exists(p))
				err = write_secret(p);
			free(p);
		}
	}
	if (err || (err = fs_self_exe(&self)))
		return err;
	p = xasprintf("%s/cluster.sh", dir);
	err = fs_symlink_atomic(self, p);
	free(p);
	free(self);
	if (err)
		return err;
	/* cluster.ini last: its presence is what makes the folder a cluster. */
	p = xasprintf("%s/cluster.ini", dir);
	err = fs_write_atomic(p, ini, strlen(ini), 0644);
	free(p);
	return err;
}

const struct error *clustermake_create(const char *dirarg, const char *name, const char *tname, const char *bind,
				       char **root, char **made_name)
{
	const struct error *err;
	char rname[7], *dir = NULL, *p = NULL, *text = NULL, *parent;
	struct template t = {0};
	struct diag d = DIAG_INIT;
	int made_dir = 0, clean_on_fail = 0, lock = -1;

	*root = *made_name = NULL;
	/* Check every input before touching the disk. */
	if (!name) {
		if ((err = name_random(rname, 6, NAME_ALNUM_LOWER)))
			goto out;
		name = rname;
	}
	if ((err = name_check_cluster(name)) || (err = name_check_address(bind)) ||
	    (err = template_load(&t, tname, &d)) || (err = diag_report(&d, "checking template")) ||
	    (err = fs_absolute(dirarg, &dir)) || (err = clustermake_check_folder(dir, NULL)))
		goto out;
	parent = xstrdup(dir);
	if (strrchr(parent, '/') != parent)
		*strrchr(parent, '/') = '\0';
	err = fs_mkdirs(parent, 0755);
	free(parent);
	if (err || (err = clustermake_check_name(name)))
		goto out;
	/* Only a folder this run made is removed on failure. */
	if (mkdir(dir, 0755) == 0)
		made_dir = 1;
	else if (errno != EEXIST || !fs_is_dir(dir)) {
		err = error_errno("making folder");
		goto out;
	}
	if ((err = lock_take(dir, "the new cluster's folder", &lock))) {
		made_dir = 0;
		goto out;
	}
	/* The same check under the lock: another create may have won. */
	p = xasprintf("%s/cluster.ini", dir);
	if (fs_exists(p)) {
		err = error_fmt("it already holds a cluster");
		made_dir = 0;
		goto out;
	}
	clean_on_fail = 1;
	text = cluster_ini_text(name, tname, bind, &t);
	if ((err = clustermake_fill(dir, &t, text)))
		goto out;
	*root = dir;
	*made_name = xstrdup(name);
	dir = NULL;
out:
	if (err) {
		err = error_wrap(err, "creating cluster in \"%s\"", dirarg);
		if (made_dir) {
			fs_remove_tree(dir);
		} else if (clean_on_fail) {
			/* The folder was empty under our lock: empty it again. */
			const char *made[] = {"cluster.sh", "secrets", "services", "instances", "snapshots", ".lock"};

			for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
				char *m = xasprintf("%s/%s", dir, made[i]);

				fs_remove_tree(m);
				free(m);
			}
		}
	}
	lock_release(lock);
	diag_free(&d);
	template_free(&t);
	free(text);
	free(p);
	free(dir);
	return err;
}
