#include "restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archread.h"
#include "clock.h"
#include "dbload.h"
#include "fs.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "name.h"
#include "report.h"
#include "runtime.h"
#include "searchidx.h"
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

/* What the archive says it is, against the instance; *older < 0 when it
 * is of an older version than the instance's. */
static const struct error *check_info(const struct instance *in, const char *path, struct archread_info *info,
				      enum restore_mode mode, int *older)
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
	if (mode == RESTORE_AS_IS)
		return template_version_check(&in->cl.tpl, info->version);
	if (*older > 0)
		return error_fmt("the snapshot is of version %s, newer than the instance's %s: upgrade the instance first",
				 info->version, in->version);
	return NULL;
}

struct restore {
	struct engine *e;
	struct instance *in;
	const char *env;
	enum restore_mode mode;
	struct archread *r;
	struct archread_info info;
	struct archread_limits lim;
	struct db_server srv;
	char *dbname, *path;
	int older;
};

static void report_archive_ok(const struct restore *r)
{
	report_line("archive ok: %s of %s, %zu files (%.1f MiB), dump %.1f MiB",
		    r->info.legacy ? "KorCluster snapshot" : "snapshot", r->info.version, r->info.files,
		    (double)r->info.data_bytes / (1 << 20), (double)r->info.dump_bytes / (1 << 20));
}

const struct error *restore_check(struct engine *e, struct instance *in, const char *path, const char *env,
				  enum restore_mode mode, struct restore **out)
{
	const struct error *err;
	struct restore *r = xcalloc(1, sizeof *r);

	r->e = e;
	r->in = in;
	r->env = env;
	r->mode = mode;
	r->dbname = instance_database(in, env);
	r->path = xstrdup(path);
	report_line("checking %s", path);
	if ((err = archread_open(&r->r, path)) || (err = mysqlsvc_server(e, &in->cl, &r->srv)) ||
	    (err = server_statement_max(&r->srv, &r->lim.max_statement)))
		goto out;
	r->lim.space = fs_free_space(in->root);
	r->lim.unpack_max = in->cl.limits.unpack_max;
	r->lim.ratio = in->cl.limits.unpack_ratio;
	r->lim.target_db = r->dbname;
	if ((err = archread_inspect(r->r, &r->lim, &r->info)) || (err = check_info(in, path, &r->info, mode, &r->older)))
		goto out;
	if (r->info.members)
		report_archive_ok(r);
	else
		report_line("snapshot of %s: each part is checked as it is restored", r->info.version);
out:
	if (err) {
		restore_close(r);
		r = NULL;
	}
	*out = r;
	return err;
}

const char *restore_version(const struct restore *r)
{
	return r->info.version;
}

const struct error *restore_run(struct restore *r, struct restore_result *res)
{
	const struct error *err;
	struct engine *e = r->e;
	struct instance *in = r->in;
	const char *env = r->env;
	struct dbload_limits dl;
	struct dbload *l = NULL;
	char *staging = xasprintf("%s/data/%s.import", in->root, env);
	char *final = instance_data_dir(in, env), *extra = xasprintf("%s/imported", in->root), *dbdir = NULL;
	double t0 = clock_seconds();

	memset(res, 0, sizeof *res);
	res->legacy = r->info.legacy;
	res->version = xstrdup(r->mode == RESTORE_AS_IS ? r->info.version : in->version);
	/* Into the environment: its containers go, its index, then its
	 * database and files, from the open file that was checked. */
	in->env_version[instance_env_index(env)] = res->version;
	res->changed = 1;
	if ((err = runtime_stop(e, in, env)) || (err = searchidx_drop(e, in, env)))
		goto out;
	/* The database may grow load_growth times the dump fed so far. */
	mysqlsvc_load_limits(&in->cl, r->dbname, 0, &dbdir, &dl);
	dl.growth = dbdir ? in->cl.limits.load_growth : 0;
	dl.max_statement = r->lim.max_statement;
	if ((err = dbload_open(&l, &r->srv, r->dbname, &dl)) || (err = fs_remove_tree(staging)) ||
	    (err = fs_mkdirs(staging, 0755)) ||
	    (r->info.legacy && ((err = fs_remove_tree(extra)) || (err = fs_mkdirs(extra, 0750)))))
		goto out;
	{
		struct archread_sink sink = {load_data, l, staging, r->info.legacy ? extra : NULL};
		int once = !r->info.members; /* checked as it is read */

		report_line("restoring into environment %s", env);
		if ((err = archread_restore(r->r, &r->info, &sink)) || (err = dbload_finish(l))) {
			const struct error *refusal = dbload_refusal(l);

			if (refusal)
				err = error_wrap(refusal, "refusing archive \"%s\": checking the database dump", r->path);
			goto out;
		}
		if (once)
			report_archive_ok(r);
	}
	res->files = r->info.files;
	res->statements = dbload_statements(l);
	report_line("restored %zu files and %zu statements in %.1f s", res->files, res->statements,
		    clock_seconds() - t0);
	dbload_close(l);
	l = NULL;
	if ((err = fs_remove_tree(final)))
		goto out;
	if (rename(staging, final) < 0) {
		err = error_errno("moving the restored files to \"%s\"", final);
		goto out;
	}
	/* An older snapshot is migrated to the instance's version. */
	if (r->mode == RESTORE_MIGRATE && r->older < 0 && in->cl.tpl.migrate) {
		report_line("migrating from %s to %s", r->info.version, in->version);
		if ((err = runtime_task(e, in, env, "migrate", in->cl.tpl.migrate, "")))
			goto out;
	}
	/* What the app makes from its data (a search index, say). */
	if (in->cl.tpl.post_import) {
		report_line("running post_import of environment %s", env);
		if ((err = runtime_task(e, in, env, "post_import", in->cl.tpl.post_import, "")))
			goto out;
	}
out:
	report_progress_clear();
	if (err) {
		fs_remove_tree(staging);
		/* Not what it was, nor the snapshot: the caller puts it back. */
		in->env_version[instance_env_index(env)] = NULL;
	}
	dbload_close(l);
	free(staging);
	free(final);
	free(extra);
	free(dbdir);
	return err;
}

void restore_close(struct restore *r)
{
	if (!r)
		return;
	db_server_free(&r->srv);
	archread_info_free(&r->info);
	archread_close(r->r);
	free(r->dbname);
	free(r->path);
	free(r);
}

void restore_result_free(struct restore_result *res)
{
	free(res->version);
	res->version = NULL;
}
