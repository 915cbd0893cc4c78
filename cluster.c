/* cluster.c: the cluster commands (cluster.sh CMD, korcluster -C DIR CMD).
 *
 * One function per command, cmd_NAME, each a few calls into common/: the
 * checks, the locks and the work are there; here are the options (in the
 * table at the end), what is said, and the order of things. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "korcluster.h"
#include "common/adopt.h"
#include "common/backup.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/clustercfg.h"
#include "common/clustermake.h"
#include "common/container.h"
#include "common/engine.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/imagebuild.h"
#include "common/instances.h"
#include "common/instarchive.h"
#include "common/instmake.h"
#include "common/lock.h"
#include "common/mem.h"
#include "common/mysqlsvc.h"
#include "common/name.h"
#include "common/pool.h"
#include "common/recover.h"
#include "common/report.h"
#include "common/routing.h"
#include "common/runtime.h"
#include "common/services.h"
#include "common/snaplist.h"

/* ---- create ---- */

static const struct error *cmd_create(struct ctx *ctx, const struct args *a)
{
	const char *tname = a->set[OPT_TEMPLATE] ? a->text[OPT_TEMPLATE] : "kor";
	const char *bind = a->set[OPT_BIND] ? a->text[OPT_BIND] : "0.0.0.0";
	const struct error *err;
	char *root = NULL, *name = NULL;

	(void)ctx;
	err = clustermake_create(a->operand[0], a->n > 1 ? a->operand[1] : NULL, tname, bind, &root, &name);
	if (!err) {
		struct cluster cl;
		struct diag d = DIAG_INIT;

		report_line("created cluster \"%s\" in %s (template %s)", name, root, tname);
		/* settings the template needs and nobody gave yet */
		if (!cluster_load(&cl, root, &d) && d.lines.n) {
			diag_sort(&d);
			report_line("before it boots, %s/cluster.ini needs:", root);
			for (size_t i = 0; i < d.lines.n; i++)
				report_line("  %s", d.lines.v[i]);
		}
		report_line("next: %s/cluster.sh boot", root);
		diag_free(&d);
		cluster_free(&cl);
	}
	free(root);
	free(name);
	return err;
}

/* ---- restore-cluster ---- */

/* The backup key for restoring into dir: its file there, else its recovery
 * phrase typed (asked for on a terminal) or piped on standard input. */
static const struct error *key_for(const char *dir, struct seal_key *k, int *given)
{
	const struct error *err;
	char line[256], *abs = NULL, *path;
	struct termios saved, quiet;
	int hidden = 0, got;

	*given = 0;
	if ((err = fs_absolute(dir, &abs)))
		return err;
	path = xasprintf("%s/secrets/backup.key", abs);
	free(abs);
	if (fs_exists(path)) {
		free(path);
		return NULL;
	}
	free(path);
	/* Typed on a terminal: not shown. */
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		hidden = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
		report_text(REPORT_STDOUT, "The backup's recovery phrase (16 groups of 4 hex digits): ");
	}
	got = fgets(line, sizeof line, stdin) != NULL;
	if (hidden) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		report_text(REPORT_STDOUT, "\n");
	}
	if (!got)
		return error_fmt("no backup key: put it in %s/secrets/backup.key (mode 0600), or give its recovery "
				 "phrase on standard input",
				 dir);
	err = seal_key_from_phrase(line, k);
	explicit_bzero(line, sizeof line);
	*given = !err;
	return err;
}

static const struct error *cmd_restore_cluster(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct seal_key k;
	int given;

	(void)ctx;
	if (!(err = key_for(a->operand[1], &k, &given)))
		err = recover_cluster(a->operand[0], a->operand[1], a->text[OPT_CLUSTER], given ? &k : NULL);
	explicit_bzero(&k, sizeof k);
	if (!err)
		report_line("next: %s/cluster.sh status", a->operand[1]);
	return err;
}

/* ---- boot ---- */

/* An instance that was served when the cluster went down is served again. */
static const struct error *serve_again(void *ctx, struct instance *in)
{
	const struct error *err;
	int lock = -1;

	if (!runtime_served(in))
		return NULL;
	if (!(err = lock_take(in->root, "the instance", &lock)))
		err = runtime_serve(ctx, in);
	lock_release(lock);
	return error_wrap(err, "starting instance \"%s\"", in->name);
}

/* A grant of an instance made before database names were escaped ("_"
 * matched any character) is narrowed to the instance's own databases. */
static const struct error *narrow_grant(void *ctx, struct instance *in)
{
	const struct error *err;
	int fixed = 0;

	if (!strchr(in->name, '_') || in->archived)
		return NULL;
	if ((err = mysqlsvc_fix_grants(ctx, in, &fixed)))
		return error_wrap(err, "narrowing the database grant of instance \"%s\"", in->name);
	if (fixed)
		report_line("instance \"%s\": its database user was granted other instances' databases too (\"_\" in "
			    "the name); now only its own",
			    in->name);
	return NULL;
}

static const struct error *cmd_boot(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct engine *e = NULL;
	int lock = -1, changed = 0;
	double t0 = clock_seconds();

	(void)a;
	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if ((err = lock_take(cl.root, "the cluster", &lock)) || (err = engine_open(&e)) ||
	    (err = services_boot(e, &cl, &changed)))
		goto out;
	if (changed && (err = instances_each(&cl, serve_again, e)))
		goto out;
	if ((err = instances_each(&cl, narrow_grant, e)))
		goto out;
	if (changed)
		report_line("cluster \"%s\" is up: %zu services ready in %.1f s", cl.name, cl.tpl.nsvc,
			    clock_seconds() - t0);
	else
		report_line("cluster \"%s\" is already booted", cl.name);
out:
	err = error_wrap(err, "booting cluster \"%s\"", cl.name);
	engine_close(e);
	lock_release(lock);
	cluster_free(&cl);
	return err;
}

/* ---- shutdown ---- */

static const struct error *cmd_shutdown(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct diag d = DIAG_INIT;
	struct engine *e = NULL;
	int lock = -1, had = 0;

	(void)a;
	/* Shutting down needs only the cluster's name: a broken template or
	 * cluster.ini must not keep the containers running. */
	if ((err = cluster_load(&cl, ctx->root, &d)))
		goto out;
	diag_sort(&d);
	for (size_t i = 0; i < d.lines.n; i++)
		report_warn("%s", d.lines.v[i]);
	if (!cl.name) {
		err = error_fmt("cluster.ini names no valid cluster");
		goto out;
	}
	if ((err = lock_take(cl.root, "the cluster", &lock)) || (err = engine_open(&e)) ||
	    (err = services_shutdown(e, &cl, &had)))
		goto out;
	if (had)
		report_line("cluster \"%s\" is shut down; its data stays in %s", cl.name, cl.root);
	else
		report_line("cluster \"%s\" was not running", cl.name);
out:
	if (err)
		err = cl.name ? error_wrap(err, "shutting down cluster \"%s\"", cl.name)
			      : error_wrap(err, "shutting down the cluster in \"%s\"", ctx->root);
	diag_free(&d);
	engine_close(e);
	lock_release(lock);
	cluster_free(&cl);
	return err;
}

/* ---- archive, restore ---- */

static const struct error *cmd_archive(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	const char *name = a->operand[0];

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if (!(err = instarchive_take(&cl, name)))
		report_line("instance \"%s\" is archived: its snapshot is in %s/instances/%s/archive.tar.zst\n"
			    "next, to bring it back: %s/cluster.sh restore %s",
			    name, cl.root, name, cl.root, name);
	cluster_free(&cl);
	return err;
}

static const struct error *cmd_restore(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	err = instarchive_restore(&cl, a->operand[0]);
	cluster_free(&cl);
	return err;
}

/* ---- reload ---- */

static const struct error *cmd_reload(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct engine *e = NULL;

	(void)a;
	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if (!(err = engine_open(&e)) && !(err = routing_reload(e, &cl)))
		report_line("the front proxy of cluster \"%s\" checked its configuration and certificates, and reloaded",
			    cl.name);
	err = error_wrap(err, "reloading cluster \"%s\"", cl.name);
	engine_close(e);
	cluster_free(&cl);
	return err;
}

/* ---- status, list ---- */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_instances(const json_t *all)
{
	size_t i;
	json_t *s;

	report_text(REPORT_STDOUT, "%-20s %-10s %-6s %-6s %-8s %-10s %s\n", "INSTANCE", "VERSION", "PORT", "ENV",
		    "STATE", "HEALTH", "URL");
	json_array_foreach(all, i, s) {
		const char *d = json_string_value(json_object_get(s, "description"));

		report_text(REPORT_STDOUT, "%-20s %-10s %-6lld %-6s %-8s %-10s %s%s%s%s\n", str(s, "name"), str(s, "version"),
			    (long long)json_integer_value(json_object_get(s, "port")), str(s, "env"), str(s, "state"),
			    str(s, "health"), str(s, "url"),
			    json_is_true(json_object_get(s, "locked")) ? "  (locked: read-only)" : "", d ? "  " : "",
			    d ? d : "");
	}
}

/* How the pool stands, as status --json and pool --json say it. */
static json_t *pool_json(const struct cluster *cl, const struct pool_state *ps)
{
	return json_pack("{s:i, s:i, s:s}", "size", ps->size, "ready", ps->ready, "version", cl->tpl.default_version);
}

/* seconds as the largest whole unit: "40 s", "12 min", "5 h", "3 d". */
static void age_text(json_int_t s, char *out, size_t n)
{
	if (s < 0)
		snprintf(out, n, "unknown");
	else if (s < 120)
		snprintf(out, n, "%lld s", (long long)s);
	else if (s < 2 * 3600)
		snprintf(out, n, "%lld min", (long long)s / 60);
	else if (s < 2 * 86400)
		snprintf(out, n, "%lld h", (long long)s / 3600);
	else
		snprintf(out, n, "%lld d", (long long)s / 86400);
}

/* Each instance's newest off-site copy into st's instances as "backup"
 * ({snapshot, time, age} or null), and st's "backup_warnings" for those
 * older than [backup] warn_age or never sent; nothing without a target. */
static void status_backups(const struct cluster *cl, json_t *st)
{
	json_t *ages = NULL, *warnings, *in;
	size_t i;
	char age[32];

	if (!cl->backup_target || backup_ages(cl, &ages))
		return;
	warnings = json_array();
	json_array_foreach(json_object_get(st, "instances"), i, in) {
		json_t *b = json_object_get(ages, str(in, "name"));
		json_int_t a = json_integer_value(json_object_get(b, "age"));

		if (!strcmp(str(in, "state"), "archived"))
			continue;
		json_object_set(in, "backup", b ? b : json_null());
		if (!b) {
			json_array_append_new(warnings, json_sprintf("instance %s has no off-site backup yet",
								     str(in, "name")));
		} else if (a < 0 || a > cl->backup_warn_age) {
			age_text(a, age, sizeof age);
			json_array_append_new(warnings,
					      json_sprintf("instance %s: its newest off-site backup is %s old "
							   "([backup] warn_age is %d s)",
							   str(in, "name"), age, cl->backup_warn_age));
		}
	}
	json_object_set_new(st, "backup_warnings", warnings);
	json_decref(ages);
}

static void print_backups(const json_t *st)
{
	json_t *in;
	size_t i;
	char age[32];

	if (!json_object_get(st, "backup_warnings"))
		return;
	report_text(REPORT_STDOUT, "\n%-16s %-44s %s\n", "OFF-SITE", "NEWEST COPY", "AGE");
	json_array_foreach(json_object_get(st, "instances"), i, in) {
		json_t *b = json_object_get(in, "backup");

		if (!b)
			continue;
		age_text(json_integer_value(json_object_get(b, "age")), age, sizeof age);
		report_text(REPORT_STDOUT, "%-16s %-44s %s\n", str(in, "name"), json_is_null(b) ? "-" : str(b, "snapshot"),
			    json_is_null(b) ? "never" : age);
	}
}

static void print_status(const json_t *st)
{
	const json_t *proxy = json_object_get(st, "proxy"), *insts = json_object_get(st, "instances"), *pool;
	size_t i;
	json_t *s;

	report_text(REPORT_STDOUT, "cluster %s (template %s): %s\n", str(st, "cluster"), str(st, "template"),
		    str(st, "state"));
	report_text(REPORT_STDOUT, "%-10s %-24s %-10s %-10s %s\n", "SERVICE", "CONTAINER", "STATE", "HEALTH", "IMAGE");
	json_array_foreach(json_object_get(st, "services"), i, s) {
		report_text(REPORT_STDOUT, "%-10s %-24s %-10s %-10s %s\n", str(s, "name"), str(s, "container"),
			    str(s, "state"), str(s, "health"), str(s, "image"));
		if (*str(s, "detail") && strcmp(str(s, "detail"), "-") != 0)
			report_text(REPORT_STDOUT, "           %s\n", str(s, "detail"));
	}
	report_text(REPORT_STDOUT, "%-10s %-24s %-10s\n", "proxy", str(proxy, "container"), str(proxy, "state"));
	if ((pool = json_object_get(st, "pool")))
		report_text(REPORT_STDOUT, "%-10s %lld ready of %lld kept (%s)\n", "pool",
			    json_integer_value(json_object_get(pool, "ready")),
			    json_integer_value(json_object_get(pool, "size")), str(pool, "version"));
	if (json_array_size(insts)) {
		report_text(REPORT_STDOUT, "\n");
		print_instances(insts);
	}
	print_backups(st);
}

static const struct error *cmd_status(struct ctx *ctx, const struct args *a)
{
	const struct error *err, *verdict = NULL;
	struct cluster cl;
	struct engine *e = NULL;
	json_t *st = NULL, *insts = NULL, *listed = NULL, *problems, *in;
	struct pool_state ps;
	size_t i;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	/* One listing of the cluster's containers serves both. */
	if ((err = engine_open(&e)) || (err = container_list_cluster(e, &cl, &listed)) ||
	    (err = services_status(e, &cl, listed, a->set[OPT_LIVE], &st)) ||
	    (err = instances_status(e, &cl, listed, a->set[OPT_LIVE], &insts)))
		goto out;
	/* The verdict, for monitoring: every service and the proxy up and
	 * healthy, every served instance too. */
	problems = json_object_get(st, "problems");
	json_array_foreach(insts, i, in)
		if (!json_is_true(json_object_get(in, "ok")))
			json_array_append_new(problems, json_sprintf("instance %s: %s", str(in, "name"), str(in, "problem")));
	json_object_set_new(st, "ok", json_boolean(json_array_size(problems) == 0));
	json_object_set_new(st, "instances", insts);
	if (!pool_state(&cl, &ps) && (ps.size || ps.ready || ps.other))
		json_object_set_new(st, "pool", pool_json(&cl, &ps));
	status_backups(&cl, st);
	if (a->set[OPT_JSON])
		report_json(st);
	else
		print_status(st);
	if (!a->set[OPT_JSON])
		json_array_foreach(json_object_get(st, "backup_warnings"), i, in)
			report_warn("%s", json_string_value(in));
	if (json_array_size(problems)) {
		struct buf b = BUF_INIT;

		json_array_foreach(problems, i, in)
			buf_printf(&b, "%s%s", i ? "; " : "", json_string_value(in));
		verdict = error_fmt("cluster \"%s\" is not healthy: %s", cl.name, buf_str(&b));
		buf_free(&b);
	}
out:
	err = err ? error_wrap(err, "reading status of cluster \"%s\"", cl.name) : verdict;
	json_decref(listed);
	json_decref(st);
	engine_close(e);
	cluster_free(&cl);
	return err;
}

static const struct error *cmd_list(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct engine *e = NULL;
	json_t *all = NULL;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if ((err = engine_open(&e)) || (err = instances_status(e, &cl, NULL, a->set[OPT_LIVE], &all)))
		goto out;
	if (a->set[OPT_JSON])
		report_json(all);
	else
		print_instances(all);
out:
	err = error_wrap(err, "listing instances of cluster \"%s\"", cl.name);
	json_decref(all);
	engine_close(e);
	cluster_free(&cl);
	return err;
}

/* ---- backup ---- */

static const struct error *backup_list_cmd(const struct cluster *cl, int json)
{
	const struct error *err;
	json_t *list = NULL, *v;
	size_t i;

	if ((err = backup_list(cl, &list)))
		return err;
	if (json) {
		report_json(list);
	} else {
		report_text(REPORT_STDOUT, "%-10s %-20s %s\n", "KIND", "INSTANCE", "OBJECT");
		json_array_foreach(list, i, v)
			report_text(REPORT_STDOUT, "%-10s %-20s %s\n", str(v, "kind"), str(v, "instance"), str(v, "object"));
	}
	json_decref(list);
	return NULL;
}

/* backup schedule: systemd's units where systemd runs, else a cron.d file. */
static const struct error *backup_schedule_cmd(const struct cluster *cl, int install)
{
	const struct error *err;
	int systemd = fs_is_dir("/run/systemd/system");
	json_t *s = NULL;

	if ((err = backup_schedule(cl, install, systemd ? "/etc/systemd/system" : NULL, systemd ? NULL : "/etc/cron.d",
				   &s)))
		return err;
	if (!install) {
		report_text(REPORT_STDOUT, "# %s\n%s", str(s, "file"), str(s, "text"));
		if (json_object_get(s, "timer"))
			report_text(REPORT_STDOUT, "\n# %s\n%s", str(s, "timer_file"), str(s, "timer"));
		report_line("\n(add --install to write %s)", json_object_get(s, "timer") ? "these files" : "this file");
	} else if (systemd) {
		report_line("wrote %s and %s\nnext: systemctl daemon-reload && systemctl enable --now %s", str(s, "file"),
			    str(s, "timer_file"), strrchr(str(s, "timer_file"), '/') + 1);
	} else {
		report_line("wrote %s: cron runs \"backup push\" from it", str(s, "file"));
	}
	json_decref(s);
	return NULL;
}

static const struct error *cmd_backup(struct ctx *ctx, const struct args *a)
{
	static const char *const verbs[] = {"push", "list", "verify", "get", "prune", "schedule", NULL};
	const struct error *err;
	struct cluster cl;
	const char *verb = a->operand[0];
	struct strv names = STRV_INIT;
	char *path = NULL;
	int ok = 0, bad = 0, known = 0;

	for (size_t i = 0; verbs[i]; i++)
		known |= strcmp(verb, verbs[i]) == 0;
	if (!known)
		return error_new(ERR_USAGE, "backup takes push, list, verify, get, prune or schedule, not \"%s\"", verb);
	if (a->set[OPT_JSON] && strcmp(verb, "list"))
		return error_new(ERR_USAGE, "--json is for backup list");
	if (a->set[OPT_KEEP] != (strcmp(verb, "prune") == 0))
		return error_new(ERR_USAGE, "--keep N is for backup prune, which needs it");
	if (a->set[OPT_INSTALL] && strcmp(verb, "schedule"))
		return error_new(ERR_USAGE, "--install is for backup schedule");
	if (a->set[OPT_TO] && strcmp(verb, "push"))
		return error_new(ERR_USAGE, "--to is for backup push");
	if ((!strcmp(verb, "list") || !strcmp(verb, "verify") || !strcmp(verb, "schedule")) && a->n != 1)
		return error_new(ERR_USAGE, "backup %s takes nothing more", verb);
	if (strcmp(verb, "get") == 0 && a->n != 2)
		return error_new(ERR_USAGE, "backup get takes one snapshot's file name");
	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	for (int i = 1; i < a->n; i++)
		strv_push(&names, a->operand[i]);
	if (strcmp(verb, "push") == 0) {
		if (!(err = backup_push(&cl, a->text[OPT_TO], &names)))
			report_line("the backup of cluster \"%s\" is sent", cl.name);
	} else if (strcmp(verb, "list") == 0) {
		err = backup_list_cmd(&cl, a->set[OPT_JSON]);
	} else if (strcmp(verb, "verify") == 0) {
		if (!(err = backup_verify(&cl, &ok, &bad)) && bad)
			err = error_fmt("%d of %d backup objects of cluster \"%s\" fail their check (said above)", bad,
					ok + bad, cl.name);
		else if (!err)
			report_line("all %d backup objects of cluster \"%s\" are whole and open with its key", ok, cl.name);
	} else if (strcmp(verb, "prune") == 0) {
		if (!(err = backup_prune(&cl, (int)a->num[OPT_KEEP], &names, &ok)))
			report_line("removed %d backup objects of cluster \"%s\"; the newest %ld of each stay", ok, cl.name,
				    a->num[OPT_KEEP]);
	} else if (strcmp(verb, "schedule") == 0) {
		err = backup_schedule_cmd(&cl, a->set[OPT_INSTALL]);
	} else if (!(err = backup_get(&cl, a->operand[1], &path))) {
		report_line("fetched %s\nnext, to import it into instance NAME: instances/NAME/instance.sh import %s", path,
			    path);
	}
	free(path);
	strv_free(&names);
	cluster_free(&cl);
	return err;
}

/* ---- new, clone, destroy ---- */

static const struct error *cmd_new(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	const char *name = a->operand[0], *port = a->text[OPT_PORT], *version = a->text[OPT_VERSION];
	struct pool_state ps;
	int taken = 0;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if (!version || !*version)
		version = cl.tpl.default_version;
	if (!a->set[OPT_NO_POOL])
		err = pool_take(&cl, name, version, port, a->text[OPT_DESCRIPTION], &taken);
	if (!err && !taken)
		err = instmake_create(&cl, name, version, port, a->text[OPT_DESCRIPTION], instmake_setup, NULL);
	if (!err)
		report_line("created instance \"%s\" (%s) on port %s%s\nnext: %s/instances/%s/instance.sh start", name,
			    version, port, taken ? " from the pool" : "", cl.root, name);
	if (!err && taken && !pool_state(&cl, &ps))
		report_line("the pool holds %d of %d ready; \"%s/cluster.sh pool\" fills it again", ps.ready, ps.size,
			    cl.root);
	cluster_free(&cl);
	return err;
}

static const struct error *cmd_pool(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct pool_state ps;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	err = pool_fill(&cl, a->set[OPT_SIZE] ? (int)a->num[OPT_SIZE] : -1, &ps);
	if (!err && a->set[OPT_JSON]) {
		json_t *o = pool_json(&cl, &ps);

		report_json(o);
		json_decref(o);
	} else if (!err) {
		report_line("the pool of cluster \"%s\" holds %d ready instance%s of %s (it keeps %d)", cl.name, ps.ready,
			    ps.ready == 1 ? "" : "s", cl.tpl.default_version, ps.size);
	}
	cluster_free(&cl);
	return err;
}

static const struct error *cmd_clone(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	err = instmake_clone(&cl, a->operand[0], a->operand[1], a->text[OPT_PORT], a->text[OPT_DESCRIPTION]);
	cluster_free(&cl);
	return err;
}

/* The instance's name typed back on a terminal. */
static const struct error *confirm(const char *name)
{
	char line[128];

	if (!isatty(STDIN_FILENO))
		return error_fmt("not confirmed: add --yes to destroy without a question");
	report_text(REPORT_STDOUT,
		    "This removes instance \"%s\": its containers, databases and files.\n"
		    "Type the instance's name to go on: ",
		    name);
	if (!fgets(line, sizeof line, stdin))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, name) != 0)
		return error_fmt("not confirmed; nothing was removed");
	return NULL;
}

static const struct error *cmd_destroy(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	const char *name = a->operand[0];
	char *dir = NULL;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	/* What is asked about must exist, and be asked about before anything. */
	if (!(err = name_check_instance(name))) {
		dir = cluster_path(&cl, "instances/%s", name);
		if (!fs_exists(dir))
			err = error_fmt("no such instance");
	}
	if (!err && !a->set[OPT_YES])
		err = confirm(name);
	if (err)
		err = error_wrap(err, "destroying instance \"%s\"", name);
	else if (!(err = instmake_destroy(&cl, name)))
		report_line("instance \"%s\" is destroyed", name);
	free(dir);
	cluster_free(&cl);
	return err;
}

/* ---- adopt ---- */

static const struct error *cmd_adopt(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct engine *e = NULL;
	struct adopt_plan *p = NULL;
	struct buf b = BUF_INIT;
	char line[64];

	(void)ctx;
	if ((err = engine_open(&e)) ||
	    (err = adopt_read(e, a->operand[0], a->set[OPT_TEMPLATE] ? a->text[OPT_TEMPLATE] : "kor-legacy", &p)))
		goto out;
	adopt_describe(p, &b);
	report_text(REPORT_STDOUT, "%s", buf_str(&b));
	if (!a->set[OPT_YES]) {
		if (!isatty(STDIN_FILENO)) {
			err = error_fmt("not confirmed: nothing was changed; add --yes to adopt without a question");
			goto out;
		}
		report_text(REPORT_STDOUT, "Type yes to go on: ");
		if (!fgets(line, sizeof line, stdin) || strcmp(line, "yes\n") != 0) {
			err = error_fmt("not confirmed; nothing was changed");
			goto out;
		}
	}
	if (!(err = adopt_run(e, p)))
		report_line("cluster \"%s\" in %s is korcluster's now\nnext: %s/cluster.sh status", adopt_name(p),
			    adopt_root(p), adopt_root(p));
out:
	buf_free(&b);
	adopt_free(p);
	engine_close(e);
	return err;
}

/* ---- build ---- */

static const struct error *cmd_build(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct engine *e = NULL;
	char *built = NULL;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if (!(err = engine_open(&e)))
		err = imagebuild_run(e, &cl, a->n ? a->operand[0] : cl.tpl.default_version, a->text[OPT_SOURCE],
				     a->text[OPT_TAG], &built);
	if (!err && !a->set[OPT_TAG])
		report_line("next: instances of version %s use it (\"cluster.sh new\", \"instance.sh upgrade\")",
			    a->n ? a->operand[0] : cl.tpl.default_version);
	free(built);
	engine_close(e);
	cluster_free(&cl);
	return err;
}

/* ---- validate ---- */

static const struct error *cmd_validate(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	struct diag d = DIAG_INIT;

	(void)a;
	if ((err = cluster_load(&cl, ctx->root, &d))) {
		/* cluster.ini could not be read at all */
	} else if (d.lines.n) {
		diag_sort(&d);
		for (size_t i = 0; i < d.lines.n; i++)
			report_text(REPORT_STDOUT, "%s\n", d.lines.v[i]);
		err = error_fmt("validating \"%s/cluster.ini\": %zu problem%s", cl.root, d.lines.n,
				d.lines.n == 1 ? "" : "s");
	} else {
		report_text(REPORT_STDOUT, "%s/cluster.ini: ok (template %s)\n", cl.root, cl.template_name);
	}
	diag_free(&d);
	cluster_free(&cl);
	return err;
}

/* ---- snapshots, prune ---- */

static const struct error *cmd_snapshots(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	json_t *all = NULL, *s;
	size_t i;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if (!(err = snaplist_list(&cl, &all))) {
		if (a->set[OPT_JSON]) {
			report_json(all);
		} else {
			report_text(REPORT_STDOUT, "%-20s %-12s %-20s %10s  %s\n", "INSTANCE", "VERSION", "CREATED",
				    "SIZE", "FILE");
			json_array_foreach(all, i, s)
				report_text(REPORT_STDOUT, "%-20s %-12s %-20s %8.1f M  %s\n", str(s, "instance"),
					    str(s, "version"), str(s, "created"),
					    (double)json_integer_value(json_object_get(s, "size")) / (1 << 20),
					    str(s, "file"));
		}
	}
	err = error_wrap(err, "listing snapshots of cluster \"%s\"", cl.name);
	json_decref(all);
	cluster_free(&cl);
	return err;
}

static const struct error *cmd_prune(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct cluster cl;
	const char *instance = a->n ? a->operand[0] : NULL;
	int removed = 0, lock = -1;

	if ((err = cluster_open(&cl, ctx->root)))
		return err;
	if ((!instance || !(err = name_check_instance(instance))) &&
	    !(err = lock_take(cl.root, "the cluster", &lock)) &&
	    !(err = snaplist_prune(&cl, instance, (int)a->num[OPT_KEEP], &removed)))
		report_line("removed %d snapshot%s; kept the newest %ld of %s", removed, removed == 1 ? "" : "s",
			    a->num[OPT_KEEP], instance ? instance : "each instance");
	err = error_wrap(err, "pruning snapshots of cluster \"%s\"", cl.name);
	lock_release(lock);
	cluster_free(&cl);
	return err;
}

/* ---- the table ---- */

static const struct opt json_opts[] = {
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "print JSON instead of a table", 0, NULL, 0},
	OPT_END,
};

static const struct opt status_opts[] = {
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "print JSON instead of a table", 0, NULL, 0},
	{OPT_LIVE, 0, "live", OPT_FLAG, NULL, "probe every health path now instead of reading the engine's last check",
	 0, NULL, 0},
	OPT_END,
};

static const struct opt create_opts[] = {
	{OPT_TEMPLATE, 't', "template", OPT_TEXT, "NAME", "app template (default kor; see templates/)", 0, NULL, 0},
	{OPT_BIND, 'b', "bind", OPT_TEXT, "ADDR", "address instance ports are published on (default 0.0.0.0)", 0,
	 NULL, 0},
	OPT_END,
};

static const struct opt backup_opts[] = {
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "list: print JSON instead of a table", 0, NULL, 0},
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "prune: how many of the newest copies stay, of each", 1, NULL, 0},
	{OPT_INSTALL, 0, "install", OPT_FLAG, NULL, "schedule: write the files, not only print them", 0, NULL, 0},
	{OPT_TO, 0, "to", OPT_TEXT, "TARGET", "push: to this target URL, not [backup] target (same login files)", 0,
	 NULL, 0},
	OPT_END,
};

static const struct opt restore_cluster_opts[] = {
	{OPT_CLUSTER, 0, "cluster", OPT_TEXT, "NAME", "which cluster of the target (when it holds several)", 0, NULL,
	 0},
	OPT_END,
};

static const struct opt new_opts[] = {
	{OPT_VERSION, 'v', "version", OPT_TEXT, "V", "the app's version (default: the template's)", 0, "VERSION", 0},
	{OPT_PORT, 'p', "port", OPT_TEXT, "P", "the port it is served on", 0, "PORT", OPTF_REQUIRED},
	{OPT_DESCRIPTION, 'd', "description", OPT_TEXT, "TEXT", "what the instance is for (shown by list)", 0, NULL, 0},
	{OPT_NO_POOL, 0, "no-pool", OPT_FLAG, NULL, "make it from scratch even when the pool holds one", 0, NULL, 0},
	OPT_END,
};

static const struct opt pool_opts[] = {
	{OPT_SIZE, 's', "size", OPT_NUMBER, "N", "how many instances the pool keeps from now on (0 empties it)", 0, NULL,
	 0},
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "print JSON", 0, NULL, 0},
	OPT_END,
};

static const struct opt clone_opts[] = {
	{OPT_PORT, 'p', "port", OPT_TEXT, "P", "the port the new instance is served on", 0, "PORT", OPTF_REQUIRED},
	{OPT_DESCRIPTION, 'd', "description", OPT_TEXT, "TEXT", "what the new instance is for, e.g. a training copy", 0,
	 NULL, 0},
	OPT_END,
};

static const struct opt prune_opts[] = {
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "how many of each instance's newest snapshots stay", 0, NULL,
	 OPTF_REQUIRED},
	OPT_END,
};

static const struct opt adopt_opts[] = {
	{OPT_TEMPLATE, 't', "template", OPT_TEXT, "NAME", "the template it gets (default kor-legacy)", 0, NULL, 0},
	{OPT_YES, 'y', "yes", OPT_FLAG, NULL, "do not ask before changing anything", 0, NULL, 0},
	OPT_END,
};

static const struct opt build_opts[] = {
	{OPT_SOURCE, 's', "source", OPT_TEXT, "DIR", "the app's source tree (or a Git URL); default: the template's", 0,
	 NULL, 0},
	{OPT_TAG, 0, "tag", OPT_TEXT, "T", "tag the image T instead of the cluster's image for VERSION", 0, NULL, 0},
	OPT_END,
};

static const struct opt destroy_opts[] = {
	{OPT_YES, 'y', "yes", OPT_FLAG, NULL, "do not ask for the instance's name", 0, NULL, 0},
	OPT_END,
};

const struct cmd cluster_cmds[] = {
	{"create", cmd_create, "DIR [NAME]", 1, 2, "make a new cluster in DIR (NAME: 6 random characters if not given)",
	 "DIR gets cluster.ini, cluster.sh (a link to this binary), secrets/ (mode 0700),\n"
	 "services/, instances/ and snapshots/.  A folder that is not empty is refused.\n",
	 create_opts, 0},
	{"restore-cluster", cmd_restore_cluster, "TARGET DIR", 2, 2,
	 "rebuild a cluster from its off-site backups in DIR, on a host that has nothing of it",
	 "TARGET is the backup target's URL, as in the lost cluster's [backup] target.  Before,\n"
	 "put its login in DIR/secrets/ as on the old host (backup_ssh_key and backup_known_hosts,\n"
	 "or backup_s3, mode 0600); the key is DIR/secrets/backup.key, or else its recovery phrase\n"
	 "is read from standard input.  The newest configuration is fetched and checked before\n"
	 "anything is made; then the cluster is written, booted, each instance restored from its\n"
	 "newest off-site snapshot, and the instances served at the push served again.  An\n"
	 "instance that fails stays archived with its snapshot: cluster.sh restore NAME retries.\n",
	 restore_cluster_opts, 0},
	{"boot", cmd_boot, "", 0, 0, "start the cluster's network and shared services and wait until they are ready",
	 "Missing images are pulled.  Instances that were served when the cluster went down are\n"
	 "served again.  On a booted cluster it only says so.\n",
	 NULL, CMD_NEEDS_SCOPE},
	{"shutdown", cmd_shutdown, "", 0, 0, "stop and remove the cluster's containers, instances first; data stays",
	 NULL, NULL, CMD_NEEDS_SCOPE},
	{"archive", cmd_archive, "NAME", 1, 1,
	 "put an instance away: stopped, a final checked snapshot, then its databases and files go",
	 "The instance stops first (no write comes after its snapshot); the snapshot is read back\n"
	 "whole before anything is removed, and stays in instances/NAME/archive.tar.zst with\n"
	 "instance.ini (secrets, port, routes).  \"list\" shows the instance as archived; other\n"
	 "commands refuse it until \"restore\".  A failure serves it again as it was.\n",
	 NULL, CMD_NEEDS_SCOPE | CMD_INSTANCES},
	{"restore", cmd_restore, "NAME", 1, 1, "bring an archived instance back from its snapshot, left stopped",
	 "Its databases and user are made again and the snapshot is restored at its own version;\n"
	 "then the snapshot moves to snapshots/ as the instance's newest.  A failure leaves it\n"
	 "archived, its snapshot in place.\n",
	 NULL, CMD_NEEDS_SCOPE | CMD_INSTANCES},
	{"backup", cmd_backup, "push [INSTANCE...]|list|verify|get FILE|prune [INSTANCE...]|schedule", 1, -1,
	 "copies away from this host, sealed here first: push, list, verify, get, prune, schedule",
	 "push: the cluster's configuration and secrets, and each instance's newest snapshot (one\n"
	 "is taken online when none is younger than [backup] max_age), sealed with\n"
	 "secrets/backup.key (made by the first push, which shows its recovery phrase once), to\n"
	 "cluster.ini's [backup] target or --to's; what the target has already is not sent again,\n"
	 "and a send that was cut off goes on where it stopped.  list: what the target holds.\n"
	 "verify: fetch every object and check it whole with the key.  get FILE: fetch a snapshot,\n"
	 "checked and opened, into snapshots/ (then instance.sh import it).  prune --keep N:\n"
	 "remove all but the newest N copies of each instance (and of the configuration) on the\n"
	 "target.  schedule: the systemd timer (or cron.d line) that runs push every max_age;\n"
	 "--install writes it.  status shows each instance's newest off-site copy and warns when\n"
	 "it is older than [backup] warn_age.  \"korcluster restore-cluster\" rebuilds a cluster\n"
	 "from the target on a new host.\n",
	 backup_opts, CMD_NEEDS_SCOPE},
	{"reload", cmd_reload, "", 0, 0, "check the front proxy's configuration and certificates, then reload it",
	 "For renewed certificates (proxy/tls/): every route's certificate and key must be there,\n"
	 "keys mode 0600, and nginx -t must pass; then a graceful reload (no request dropped).\n"
	 "Refused, nothing is reloaded: the proxy goes on with what it loaded before.\n",
	 NULL, CMD_NEEDS_SCOPE},
	{"status", cmd_status, "", 0, 0, "show each service's state and health, and the instances'",
	 "Exit status 0: every service and the proxy run and are healthy, and so is every\n"
	 "instance that is served (a stopped one is fine); 1: something is down or unhealthy,\n"
	 "named on stderr (and under \"problems\" with --json, \"ok\" false).  An instance's\n"
	 "health is the engine's last check when the template has a healthcheck, else a GET\n"
	 "of its health path (all at once); --live makes that GET for every instance.\n",
	 status_opts, CMD_NEEDS_SCOPE},
	{"new", cmd_new, "NAME", 1, 1, "make an instance: its database and user, folder, secrets, and the app's setup",
	 "The port must be free on this host and among the cluster's instances.\n"
	 "If anything fails, nothing is kept: no database, no user, no folder.\n"
	 "When the pool (\"pool\") holds an instance of the version, it is taken: renamed and given\n"
	 "its port, in a moment; its database and user keep their pool names.\n",
	 new_opts, CMD_NEEDS_SCOPE},
	{"pool", cmd_pool, "", 0, 0, "keep instances made ahead (database, user, secrets, setup) for \"new\"",
	 "They are made at the template's default version, in pool/, under names of their own;\n"
	 "\"new\" takes one when its version matches.  Without --size the pool is filled again\n"
	 "to the size it keeps; ones of another version (the template's default changed) are\n"
	 "removed and made again.  \"new\" goes on meanwhile.\n",
	 pool_opts, CMD_NEEDS_SCOPE},
	{"list", cmd_list, "", 0, 0, "every instance with version, port, state and health", NULL, status_opts,
	 CMD_NEEDS_SCOPE},
	{"clone", cmd_clone, "SRC NEW", 2, 2,
	 "make instance NEW from SRC's current state, taken online: own database, user, secrets and port",
	 "SRC keeps serving; NEW gets SRC's version and is left stopped.\n", clone_opts,
	 CMD_NEEDS_SCOPE | CMD_INSTANCES},
	{"snapshots", cmd_snapshots, "", 0, 0, "the snapshots in snapshots/, newest first", NULL, json_opts,
	 CMD_NEEDS_SCOPE},
	{"prune", cmd_prune, "[INSTANCE]", 0, 1, "remove all but the newest N snapshots of each instance",
	 "Only files named as snapshots are touched (NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst|gz).\n", prune_opts,
	 CMD_NEEDS_SCOPE | CMD_INSTANCES},
	{"destroy", cmd_destroy, "NAME", 1, 1, "remove an instance: containers, databases, user and folder",
	 "Asks for the instance's name on a terminal unless --yes is given.\n", destroy_opts,
	 CMD_NEEDS_SCOPE | CMD_INSTANCES},
	{"adopt", cmd_adopt, "DIR", 1, 1, "turn a cluster made by KorCluster's cluster.sh into a korcluster cluster, in place",
	 "It first says what it will do and asks (unless --yes).  Instances keep their ports,\n"
	 "versions, databases and files (moved from data/ to data/blue/ by a rename); MySQL's\n"
	 "data stays in DIR/mysql.  The old containers are stopped and removed once the new\n"
	 "cluster serves what they served; on any failure everything is put back as it was.\n",
	 adopt_opts, 0},
	{"build", cmd_build, "[VERSION]", 0, 1, "build the app's image for VERSION (default: the template's) from its source",
	 "The source folder is sent to the engine as the build context, without what its\n"
	 ".dockerignore leaves out; a URL (a Git repository) is fetched by the engine.  The\n"
	 "image is tagged as the cluster runs it (cluster.ini [app] image, else the template's\n"
	 "image), so new instances and upgrades use it.  A failed build shows its last lines.\n",
	 build_opts, CMD_NEEDS_SCOPE},
	{"validate", cmd_validate, "", 0, 0, "check cluster.ini and its template, listing every problem", NULL, NULL,
	 CMD_NEEDS_SCOPE},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};
