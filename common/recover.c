#include "recover.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "buf.h"
#include "clock.h"
#include "clustercfg.h"
#include "clustermake.h"
#include "conf.h"
#include "engine.h"
#include "fs.h"
#include "instances.h"
#include "instarchive.h"
#include "instcfg.h"
#include "instmake.h"
#include "lock.h"
#include "mem.h"
#include "name.h"
#include "offsite.h"
#include "report.h"
#include "runtime.h"
#include "services.h"
#include "strv.h"
#include "template.h"

/* The configuration's files, as the tar held them. */
struct files {
	struct strv path;
	struct buf *data;
	mode_t *mode;
	size_t n;
};

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->data[i].data)
			explicit_bzero(f->data[i].data, f->data[i].len);
		buf_free(&f->data[i]);
	}
	free(f->data);
	free(f->mode);
	strv_free(&f->path);
}

/* The data of path, or NULL. */
static const struct buf *files_get(const struct files *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->path.v[i], path) == 0)
			return &f->data[i];
	return NULL;
}

/* The tar in t, checked whole, into f. */
static const struct error *untar(const struct buf *t, struct files *f)
{
	const struct error *err = NULL;
	struct archive *a = archive_read_new();
	struct archive_entry *en;
	int rc;

	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, t->data, t->len) != ARCHIVE_OK) {
		err = error_fmt("it is no tar: %s", archive_error_string(a));
		goto out;
	}
	while (!err && (rc = archive_read_next_header(a, &en)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(en);
		la_int64_t size = archive_entry_size(en);
		struct buf b = BUF_INIT;
		char chunk[16384];
		la_ssize_t got;

		if (!p || (err = backup_check_file(p)))
			break;
		if (archive_entry_filetype(en) != AE_IFREG || size < 0 || size > BACKUP_FILE_MAX || files_get(f, p)) {
			err = error_fmt("\"%s\" is not a plain file of at most 1 MiB, once", p);
			break;
		}
		while ((got = archive_read_data(a, chunk, sizeof chunk)) > 0)
			buf_append(&b, chunk, (size_t)got);
		explicit_bzero(chunk, sizeof chunk);
		if (got < 0 || b.len != (size_t)size) {
			err = error_fmt("reading \"%s\": %s", p, archive_error_string(a));
			buf_free(&b);
			break;
		}
		f->data = xrealloc(f->data, (f->n + 1) * sizeof *f->data);
		f->mode = xrealloc(f->mode, (f->n + 1) * sizeof *f->mode);
		f->data[f->n] = b;
		f->mode[f->n] = archive_entry_perm(en) & 0755;
		strv_push(&f->path, p);
		f->n++;
	}
	if (!err && rc != ARCHIVE_EOF)
		err = error_fmt("it is no whole tar: %s", archive_error_string(a));
	if (!err && !files_get(f, "cluster.ini"))
		err = error_fmt("it holds no cluster.ini");
out:
	archive_read_free(a);
	return err;
}

/* The cluster to restore: name, or the target's only one. */
static const struct error *which(struct offsite *o, const char *name, char **out)
{
	const struct error *err;
	struct strv names = STRV_INIT;
	struct buf all = BUF_INIT;

	*out = NULL;
	if ((err = offsite_list(o, "", &names)))
		return err;
	if (name && !strv_has(&names, name))
		err = error_fmt("%s holds no cluster \"%s\"", offsite_where(o), name);
	else if (!name && names.n == 0)
		err = error_fmt("%s holds no backup", offsite_where(o));
	else if (!name && names.n > 1) {
		for (size_t i = 0; i < names.n; i++)
			buf_printf(&all, "%s%s", i ? ", " : "", names.v[i]);
		err = error_fmt("%s holds the backups of %zu clusters (%s): say which with --cluster", offsite_where(o),
				names.n, buf_str(&all));
	} else {
		err = name_check_cluster(name ? name : names.v[0]);
	}
	if (!err)
		*out = xstrdup(name ? name : names.n ? names.v[0] : "");
	buf_free(&all);
	strv_free(&names);
	return err;
}

/* An instance archived at the push: its data was not sent. */
static int was_archived(const struct buf *ini)
{
	struct conf c = {0};
	struct diag d = DIAG_INIT;
	int archived;

	conf_load_string(&c, "instance.ini", buf_str(ini), &d);
	archived = conf_peek(&c, "instance", "archived") != NULL;
	conf_free(&c);
	diag_free(&d);
	return archived;
}

/* The instance that path (instances/NAME/...) is of, into name. */
static void instance_of(const char *path, char name[64])
{
	size_t n = strcspn(path + 10, "/");

	snprintf(name, 64, "%.*s", (int)n, path + 10);
}

/* The files but cluster.ini and the manifest into dir, under its lock;
 * then what create makes, and cluster.ini. */
static const struct error *write_files(const char *dir, const struct files *f, const struct template *t,
				       const struct seal_key *k)
{
	const struct error *err = NULL;
	struct strv skipped = STRV_INIT;
	char *keypath = xasprintf("%s/secrets/backup.key", dir);

	for (size_t i = 0; i < f->n && !err; i++) {
		const char *p = f->path.v[i];
		char *path, *parent, inst[64], *ini;
		int private;

		if (!strcmp(p, "cluster.ini") || !strcmp(p, BACKUP_MANIFEST))
			continue;
		if (!strncmp(p, "instances/", 10)) {
			instance_of(p, inst);
			ini = xasprintf("instances/%s/instance.ini", inst);
			if (files_get(f, ini) && was_archived(files_get(f, ini))) {
				if (!strv_has(&skipped, inst)) {
					report_warn("instance \"%s\" was archived when the backup was made, and its archive "
						    "stayed on the old host: it is not restored",
						    inst);
					strv_push(&skipped, inst);
				}
				free(ini);
				continue;
			}
			free(ini);
		}
		path = xasprintf("%s/%s", dir, p);
		parent = xstrdup(path);
		*strrchr(parent, '/') = '\0';
		/* secrets/ and proxy/tls/ are the owner's alone (proxy/ is not). */
		private = !strncmp(p, "secrets/", 8) || !strncmp(p, "proxy/tls/", 10);
		if (!strncmp(p, "proxy/tls/", 10)) {
			char *proxy = xasprintf("%s/proxy", dir);

			err = fs_mkdirs(proxy, 0755);
			free(proxy);
		}
		if (!err && !(err = fs_mkdirs(parent, private ? 0700 : 0755)))
			err = fs_write_atomic(path, f->data[i].data, f->data[i].len,
					      strncmp(p, "secrets/", 8) ? f->mode[i] : 0600);
		free(parent);
		free(path);
	}
	if (!err && !fs_exists(keypath)) {
		char *sec = xasprintf("%s/secrets", dir);

		if (!(err = fs_mkdirs(sec, 0700)))
			err = seal_key_save(keypath, k);
		free(sec);
	}
	if (!err)
		err = clustermake_fill(dir, t, buf_str(files_get(f, "cluster.ini")));
	strv_free(&skipped);
	free(keypath);
	return err;
}

/* dir back to what the operator brought: secrets/ with only the target's
 * login and the key. */
static void unmake(const char *dir)
{
	const char *mine[] = {"cluster.ini", "cluster.sh", "services", "instances", "snapshots", "proxy", "pool", "backup"};
	char *sec = xasprintf("%s/secrets", dir);
	DIR *d;
	struct dirent *de;

	for (size_t i = 0; i < sizeof mine / sizeof *mine; i++) {
		char *m = xasprintf("%s/%s", dir, mine[i]);

		fs_remove_tree(m);
		free(m);
	}
	if ((d = opendir(sec))) {
		while ((de = readdir(d))) {
			int own = de->d_name[0] == '.';

			for (size_t i = 0; backup_own_secrets[i] && !own; i++)
				own = strcmp(de->d_name, backup_own_secrets[i]) == 0;
			if (!own)
				unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	free(sec);
}

/* Steps 1 and 2: the configuration, checked, then written. */
static const struct error *configure(struct offsite *o, const char *dir, const char *name, const struct seal_key *k,
				     json_t **served)
{
	const struct error *err;
	struct files f = {STRV_INIT, NULL, NULL, 0};
	struct buf tar = BUF_INIT;
	struct template t = {0};
	struct conf c = {0};
	struct diag d = DIAG_INIT;
	json_error_t je;
	char *cdir = xasprintf("%s/cluster", name), *object = NULL;
	const char *cname, *tname;
	int made = 0, lock = -1;

	*served = NULL;
	if ((err = backup_newest(o, cdir, &object)))
		goto out;
	if (!object) {
		err = error_fmt("%s holds no configuration of cluster \"%s\"", offsite_where(o), name);
		goto out;
	}
	if ((err = backup_fetch_mem(o, k, object, &tar)) || (err = error_wrap(untar(&tar, &f), "reading %s", object)))
		goto out;
	conf_load_string(&c, "cluster.ini", buf_str(files_get(&f, "cluster.ini")), &d);
	cname = conf_peek(&c, "cluster", "name");
	tname = conf_peek(&c, "cluster", "template");
	if (!cname || strcmp(cname, name) != 0) {
		err = error_fmt("%s: its cluster.ini names cluster \"%s\"", object, cname ? cname : "");
		goto out;
	}
	if ((err = template_load(&t, tname ? tname : "kor", &d)) || (err = diag_report(&d, "checking template")) ||
	    (err = clustermake_check_name(name)))
		goto out;
	if (files_get(&f, BACKUP_MANIFEST) &&
	    !(*served = json_loads(buf_str(files_get(&f, BACKUP_MANIFEST)), 0, &je))) {
		err = error_fmt("%s: its %s is no JSON: %s", object, BACKUP_MANIFEST, je.text);
		goto out;
	}
	report_line("restoring cluster \"%s\" from %s into %s", name, object, dir);
	/* From here the folder is changed: on failure it goes back to what the
	 * operator brought. */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = error_errno("making \"%s\"", dir);
		goto out;
	}
	/* The same check under the lock: another restore may have won. */
	if ((err = lock_take(dir, "the new cluster's folder", &lock)) ||
	    (err = clustermake_check_folder(dir, backup_own_secrets)))
		goto out;
	made = 1;
	err = write_files(dir, &f, &t, k);
out:
	if (err && made)
		unmake(dir);
	if (err) {
		json_decref(*served);
		*served = NULL;
	}
	lock_release(lock);
	files_free(&f);
	if (tar.data)
		explicit_bzero(tar.data, tar.len);
	buf_free(&tar);
	template_free(&t);
	conf_free(&c);
	diag_free(&d);
	free(cdir);
	free(object);
	return err;
}

/* Step 3, as cluster.sh boot does it.  When it fails, what it started is
 * removed and the folder goes back to what the operator brought, so that
 * restore-cluster can run again once the cause is put right. */
static const struct error *boot(const struct cluster *cl)
{
	const struct error *err;
	struct engine *e = NULL;
	int lock = -1, changed, had;

	if (!(err = lock_take(cl->root, "the cluster", &lock)) && !(err = engine_open(&e)) &&
	    (err = services_boot(e, cl, &changed))) {
		services_shutdown(e, cl, &had);
		unmake(cl->root);
	}
	engine_close(e);
	lock_release(lock);
	return error_wrap(err, "booting cluster \"%s\"", cl->name);
}

/* Step 4 for instance name: marked archived first, so that whatever
 * fails below, "cluster.sh restore NAME" takes it up again (fetching its
 * snapshot from the cluster's target when it is not there); then its
 * newest snapshot from o as its archive (noted as its newest off-site copy,
 * which status reports on), restored. */
static const struct error *restore_instance(struct offsite *o, const struct seal_key *k, const struct cluster *cl,
					    const char *name)
{
	const struct error *err;
	struct instance in;
	char *root = cluster_path(cl, "instances/%s", name), *archive = NULL, *file = NULL, *now = NULL;
	int opened = 0;

	if ((err = instmake_link(root)) || (err = instance_open(&in, root)))
		goto out;
	opened = 1;
	in.archived = now = instance_now();
	if ((err = instance_save(&in, in.env)))
		goto out;
	archive = xasprintf("%s/archive.tar.zst", root);
	if (!(err = backup_fetch_newest_from(o, k, cl, name, archive, &file)))
		err = instarchive_restore(cl, name);
out:
	if (opened)
		instance_free(&in);
	free(now);
	free(root);
	free(archive);
	free(file);
	return err;
}

/* Step 5 for instance name. */
static const struct error *serve(const struct cluster *cl, const char *name)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	char *root = cluster_path(cl, "instances/%s", name);
	int lock = -1;

	if ((err = instance_open(&in, root))) {
		free(root);
		return err;
	}
	if (!(err = lock_take(in.root, "the instance", &lock)) && !(err = engine_open(&e)))
		err = runtime_serve(e, &in);
	engine_close(e);
	lock_release(lock);
	instance_free(&in);
	free(root);
	return err;
}

const struct error *recover_cluster(const char *url, const char *dirarg, const char *want, const struct seal_key *key)
{
	const struct error *err;
	struct cluster shell = {0}, cl = {0};
	struct offsite *o = NULL;
	struct seal_key k;
	struct strv names = STRV_INIT, failed = STRV_INIT;
	json_t *manifest = NULL, *served;
	char *dir = NULL, *name = NULL, *keypath = NULL;
	int opened = 0;
	size_t restored = 0, nserved = 0;
	double t0 = clock_seconds();

	if ((err = fs_absolute(dirarg, &dir)) || (err = clustermake_check_folder(dir, backup_own_secrets)))
		goto out;
	keypath = xasprintf("%s/secrets/backup.key", dir);
	if (key)
		k = *key;
	else if (!fs_exists(keypath))
		err = error_fmt("no backup key: put it in %s (mode 0600), or give its recovery phrase", keypath);
	else
		err = seal_key_load(keypath, &k);
	if (err)
		goto out;
	/* The target's login is read from dir's secrets/, as a cluster's is. */
	shell.root = dir;
	if ((err = offsite_open(&shell, url, &o)) || (err = which(o, want, &name)) ||
	    (err = configure(o, dir, name, &k, &manifest)) || (err = cluster_open(&cl, dir)))
		goto out;
	opened = 1;
	if ((err = boot(&cl))) {
		err = error_fmt("%s; %s is as it was: restore again once that is put right", err->msg, dir);
		goto out;
	}
	if ((err = instances_scan(&cl, &names, NULL)))
		goto out;
	for (size_t i = 0; i < names.n; i++) {
		const struct error *e2 = restore_instance(o, &k, &cl, names.v[i]);

		if (e2) {
			report_warn("instance \"%s\" is not restored: %s", names.v[i], e2->msg);
			strv_push(&failed, names.v[i]);
		} else {
			restored++;
		}
	}
	served = json_object_get(manifest, "served");
	for (size_t i = 0; i < json_array_size(served); i++) {
		const char *s = json_string_value(json_array_get(served, i));
		const struct error *e2;

		if (!s || !strv_has(&names, s) || strv_has(&failed, s))
			continue;
		if ((e2 = serve(&cl, s))) {
			report_warn("instance \"%s\" is restored but not served: %s", s, e2->msg);
			strv_push(&failed, s);
		} else {
			nserved++;
		}
	}
	report_line("cluster \"%s\" is restored in %s: %zu of %zu instances, %zu served again, in %.1f s", name, dir,
		    restored, names.n, nserved, clock_seconds() - t0);
	if (failed.n)
		err = error_fmt("%zu instances need a look (said above); \"%s/cluster.sh restore NAME\" takes an "
				"instance that is not restored up again (fetching its newest snapshot from the target "
				"when it is not there)",
				failed.n, dir);
out:
	err = error_wrap(err, "restoring a cluster from %s into \"%s\"", o ? offsite_where(o) : url, dirarg);
	explicit_bzero(&k, sizeof k);
	if (opened)
		cluster_free(&cl);
	offsite_close(o);
	json_decref(manifest);
	strv_free(&names);
	strv_free(&failed);
	free(dir);
	free(name);
	free(keypath);
	return err;
}
