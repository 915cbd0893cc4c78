#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archread.h"
#include "clock.h"
#include "dbload.h"
#include "fs.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "name.h"
#include "report.h"
#include "searchidx.h"
#include "runtime.h"
#include "snaplist.h"

/* The app version a KorCluster archive is of: version.txt, else the file
 * name's VERSION part. */
static const struct error *legacy_version(const char *path, struct archread_info *info)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char name[128], ts[128], version[128];

	if (info->version)
		return NULL;
	if (snaplist_parse_name(base, name, ts, version, sizeof name) < 0)
		return error_fmt("the KorCluster snapshot has no version.txt and its name is not NAME.TIMESTAMP.VERSION.tar.gz");
	info->version = xstrdup(version);
	return NULL;
}

/* The longest statement the cluster's server takes. */
static const struct error *server_statement_max(const struct db_server *srv, size_t *out)
{
	const struct error *err;
	struct db *root = NULL;

	if (!(err = db_server_root(srv, 30, &root)))
		err = db_max_statement(root, out);
	db_close(root);
	return err;
}

static const struct error *load_data(void *ctx, const char *data, size_t len)
{
	return dbload_feed(ctx, data, len);
}

/* What the archive says it is, against the instance. */
static const struct error *check_info(const struct instance *in, const char *path, struct archread_info *info,
				      int *older)
{
	const struct error *err;

	if (info->legacy && (err = legacy_version(path, info)))
		return err;
	if (!info->legacy && name_check_template(info->template))
		return error_fmt("the snapshot names no valid template");
	if (!info->legacy && strcmp(info->template, in->cl.template_name) != 0)
		return error_fmt("the snapshot is of template \"%s\", this instance runs \"%s\"", info->template,
				 in->cl.template_name);
	if ((err = instance_check_version(info->version)))
		return err;
	*older = strverscmp(info->version, in->version);
	if (*older > 0)
		return error_fmt("the snapshot is of version %s, newer than the instance's %s: upgrade the instance first",
				 info->version, in->version);
	return NULL;
}

const struct error *import_run(struct engine *e, struct instance *in, const char *path)
{
	const struct error *err;
	struct archread *r = NULL;
	struct archread_info info = {0};
	struct archread_limits lim = {0};
	struct dbload_limits dl;
	struct db_server srv = {0};
	struct dbload *l = NULL;
	const char *target = instance_other_env(in->env), *active = instance_other_env(target);
	char *dbname = instance_database(in, target), *staging = xasprintf("%s/data/%s.import", in->root, target);
	char *final = instance_data_dir(in, target), *extra = xasprintf("%s/imported", in->root);
	char *now = NULL, *dbdir = NULL;
	int served = runtime_served(in), started = 0, older = 0;
	double t0 = clock_seconds(), took;

	/* 1. The whole archive, before anything changes; the same open file
	 * is restored from. */
	report_line("checking %s", path);
	if ((err = archread_open(&r, path)) || (err = mysqlsvc_server(e, &in->cl, &srv)) ||
	    (err = server_statement_max(&srv, &lim.max_statement)))
		goto out;
	lim.space = fs_free_space(in->root);
	lim.unpack_max = in->cl.limits.unpack_max;
	lim.ratio = in->cl.limits.unpack_ratio;
	lim.target_db = dbname;
	if ((err = archread_verify(r, &lim, &info)) || (err = check_info(in, path, &info, &older)))
		goto out;
	report_line("archive ok: %s of %s, %zu files (%.1f MiB), dump %.1f MiB",
		    info.legacy ? "KorCluster snapshot" : "snapshot", info.version, info.files,
		    (double)info.data_bytes / (1 << 20), (double)info.dump_bytes / (1 << 20));
	/* 2. Restore into the inactive environment.  The active one serves
	 * reads and writes meanwhile: a hostile dump cannot hold them for as
	 * long as its load takes (which is bounded, [limits]). */
	in->env_version[instance_env_index(target)] = in->version;
	if ((err = runtime_stop(e, in, target)) || (err = searchidx_drop(e, in, target)))
		goto out;
	mysqlsvc_load_limits(&in->cl, dbname, info.dump_bytes, &dbdir, &dl);
	dl.max_statement = lim.max_statement;
	if ((err = dbload_open(&l, &srv, dbname, &dl)) || (err = fs_remove_tree(staging)) ||
	    (err = fs_mkdirs(staging, 0755)) ||
	    (info.legacy && ((err = fs_remove_tree(extra)) || (err = fs_mkdirs(extra, 0750)))))
		goto out;
	{
		struct archread_sink sink = {load_data, l, staging, info.legacy ? extra : NULL};

		report_line("restoring into environment %s", target);
		if ((err = archread_restore(r, &info, &sink)) || (err = dbload_finish(l)))
			goto out;
	}
	report_line("restored %zu files and %zu statements in %.1f s", info.files, dbload_statements(l),
		    clock_seconds() - t0);
	dbload_close(l);
	l = NULL;
	if ((err = fs_remove_tree(final)))
		goto out;
	if (rename(staging, final) < 0) {
		err = error_errno("moving the restored files to \"%s\"", final);
		goto out;
	}
	/* 3. An older snapshot is migrated to the instance's version. */
	if (older < 0 && in->cl.tpl.migrate) {
		report_line("migrating from %s to %s", info.version, in->version);
		if ((err = runtime_task(e, in, target, "migrate", in->cl.tpl.migrate, "")))
			goto out;
	}
	/* What the app makes from its data (a search index, say). */
	if (in->cl.tpl.post_import) {
		report_line("running post_import of environment %s", target);
		if ((err = runtime_task(e, in, target, "post_import", in->cl.tpl.post_import, "")))
			goto out;
	}
	/* 4. Switch: start, wait until healthy, route, then stop the old one. */
	if (served) {
		started = 1;
		if ((err = runtime_promote(e, in, target, &took)))
			goto out;
		report_line("environment %s is healthy (%.1f s) and serving", target, took);
	}
	now = instance_now();
	in->env_version[instance_env_index(target)] = in->version;
	in->env_created[instance_env_index(target)] = now;
	if ((err = instance_save(in, target)))
		goto out;
	started = 0;
	if (served && (err = runtime_stop(e, in, active))) {
		report_warn("stopping the old environment %s: %s", active, err->msg);
		err = NULL;
	}
	report_line("imported %s into instance \"%s\" in %.1f s: environment %s is active%s; %s keeps the state before",
		    path, in->name, clock_seconds() - t0, target, served ? " and serving" : "", active);
	if (info.legacy && fs_nonempty_dir(extra) > 0)
		report_line("KorCluster's configuration files are in %s", extra);
out:
	report_progress_clear();
	if (err) {
		err = error_wrap(err, "importing \"%s\" into instance \"%s\"", path, in->name);
		/* The active environment serves as before. */
		if (started)
			runtime_stop(e, in, target);
		fs_remove_tree(staging);
	}
	dbload_close(l);
	db_server_free(&srv);
	archread_info_free(&info);
	archread_close(r);
	free(dbname);
	free(staging);
	free(final);
	free(extra);
	free(now);
	free(dbdir);
	return err;
}
