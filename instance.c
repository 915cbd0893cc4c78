/* instance.c: the instance commands (instance.sh CMD, korcluster -C DIR CMD).
 *
 * One function per command, cmd_NAME, each a few calls into common/; the
 * options are in the table at the end.  Commands that change the instance
 * run between begin() and end(): its lock, the engine, and first what a
 * killed command left put right. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "korcluster.h"
#include "common/backup.h"
#include "common/engine.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/instcfg.h"
#include "common/instmake.h"
#include "common/lock.h"
#include "common/mem.h"
#include "common/mysqlsvc.h"
#include "common/proxy.h"
#include "common/report.h"
#include "common/routes.h"
#include "common/routing.h"
#include "common/runtime.h"
#include "common/snaplist.h"
#include "common/snapshot.h"
#include "common/import.h"
#include "common/strv.h"
#include "common/upgrade.h"

/* An instance whose command holds its lock. */
struct held {
	struct instance in;
	struct engine *e;
	int lock;
};

/* Open the instance, take its lock and reach the engine; finish or undo
 * what a killed command left, and narrow a grant made before database
 * names were escaped. */
static const struct error *begin(struct ctx *ctx, struct held *h)
{
	const struct error *err;
	int did, fixed = 0;

	h->e = NULL;
	h->lock = -1;
	if ((err = instance_open(&h->in, ctx->root)))
		return err;
	if (h->in.archived) {
		err = error_fmt("instance \"%s\" is archived (since %s): \"cluster.sh restore %s\" brings it back",
				h->in.name, h->in.archived, h->in.name);
		goto fail;
	}
	if ((err = lock_take(h->in.root, "the instance", &h->lock)) || (err = engine_open(&h->e)) ||
	    (err = upgrade_recover(h->e, &h->in, &did)))
		goto fail;
	if ((err = mysqlsvc_fix_grants(h->e, &h->in, &fixed))) {
		err = error_wrap(err, "narrowing the database grant of instance \"%s\"", h->in.name);
		goto fail;
	}
	if (fixed)
		report_note("instance \"%s\": its database user was granted other instances' databases too (\"_\" in "
			    "the name); now only its own",
			    h->in.name);
	return NULL;
fail:
	engine_close(h->e);
	lock_release(h->lock);
	instance_free(&h->in);
	return err;
}

static void end(struct held *h)
{
	engine_close(h->e);
	lock_release(h->lock);
	instance_free(&h->in);
}

/* For commands that take no lock: what a killed command left is put right
 * if nobody works on the instance now. */
static const struct error *recover_quietly(struct engine *e, struct instance *in)
{
	const struct error *err;
	int did, lock;

	if (lock_take(in->root, "the instance", &lock))
		return NULL;
	err = upgrade_recover(e, in, &did);
	lock_release(lock);
	return err;
}

/* ---- start, stop, restart ---- */

static const struct error *lifecycle(struct ctx *ctx, const char *doing,
				     const struct error *(*op)(struct engine *e, struct instance *in))
{
	const struct error *err;
	struct held h;

	if ((err = begin(ctx, &h)))
		return err;
	err = error_wrap(op(h.e, &h.in), "%s instance \"%s\"", doing, h.in.name);
	end(&h);
	return err;
}

static const struct error *restart(struct engine *e, struct instance *in)
{
	const struct error *err = runtime_unserve(e, in);

	return err ? err : runtime_serve(e, in);
}

static const struct error *cmd_start(struct ctx *ctx, const struct args *a)
{
	(void)a;
	return lifecycle(ctx, "starting", runtime_serve);
}

static const struct error *cmd_stop(struct ctx *ctx, const struct args *a)
{
	(void)a;
	return lifecycle(ctx, "stopping", runtime_unserve);
}

static const struct error *cmd_restart(struct ctx *ctx, const struct args *a)
{
	(void)a;
	return lifecycle(ctx, "restarting", restart);
}

/* ---- lock, unlock ---- */

static const struct error *lock_to(struct ctx *ctx, int on)
{
	const struct error *err;
	struct held h;

	if ((err = begin(ctx, &h)))
		return err;
	if (!(err = runtime_lock(h.e, &h.in, on)))
		report_line(on ? "instance \"%s\" is locked: reads are served, writes get 423 until \"unlock\""
			       : "instance \"%s\" is unlocked: writes go through",
			    h.in.name);
	err = error_wrap(err, "%s instance \"%s\"", on ? "locking" : "unlocking", h.in.name);
	end(&h);
	return err;
}

static const struct error *cmd_lock(struct ctx *ctx, const struct args *a)
{
	(void)a;
	return lock_to(ctx, 1);
}

static const struct error *cmd_unlock(struct ctx *ctx, const struct args *a)
{
	(void)a;
	return lock_to(ctx, 0);
}

/* ---- cache ---- */

static const struct error *cmd_cache(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;

	(void)a;
	if (strcmp(a->operand[0], "clear") != 0)
		return error_new(ERR_USAGE, "cache takes clear, not \"%s\"", a->operand[0]);
	if ((err = instance_open(&in, ctx->root)))
		return err;
	if (!template_frontend(&in.cl.tpl))
		err = error_fmt("template \"%s\" has no read-only frontend: nothing is cached", in.cl.template_name);
	else if (!(err = proxy_cache_clear(&in.cl, in.name)))
		report_line("the cache of instance \"%s\" is empty: the next request for each page goes to its frontend",
			    in.name);
	err = error_wrap(err, "clearing the cache of instance \"%s\"", in.name);
	instance_free(&in);
	return err;
}

/* ---- status, envs, logs ---- */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static const struct error *cmd_status(struct ctx *ctx, const struct args *a)
{
	const struct error *err, *verdict = NULL;
	struct instance in;
	struct engine *e = NULL;
	json_t *st = NULL, *c;
	size_t i;

	if ((err = instance_open(&in, ctx->root)))
		return err;
	if ((err = engine_open(&e)) || (err = recover_quietly(e, &in)) || (err = runtime_status(e, &in, a->set[OPT_LIVE], &st)))
		goto out;
	if (a->set[OPT_JSON]) {
		report_json(st);
	} else {
		report_text(REPORT_STDOUT, "instance %s: version %s, port %d, env %s, %s, %s%s\n", in.name, in.version,
			    in.port, in.env, str(st, "state"), str(st, "health"),
			    json_is_true(json_object_get(st, "locked")) ? ", locked (read-only)" : "");
		json_array_foreach(json_object_get(st, "containers"), i, c)
			report_text(REPORT_STDOUT, "  %-40s %s\n", str(c, "name"), str(c, "state"));
	}
	/* The verdict, for monitoring. */
	if (!json_is_true(json_object_get(st, "ok")))
		verdict = error_fmt("instance \"%s\" is not healthy: %s", in.name, str(st, "problem"));
out:
	err = err ? error_wrap(err, "reading status of instance \"%s\"", in.name) : verdict;
	json_decref(st);
	engine_close(e);
	instance_free(&in);
	return err;
}

static const struct error *cmd_envs(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	json_t *envs = NULL, *v;
	size_t i;

	if ((err = instance_open(&in, ctx->root)))
		return err;
	if ((err = engine_open(&e)) || (err = recover_quietly(e, &in)) || (err = upgrade_envs(e, &in, &envs)))
		goto out;
	if (a->set[OPT_JSON]) {
		report_json(envs);
	} else {
		report_text(REPORT_STDOUT, "%-6s %-7s %-12s %-9s %s\n", "ENV", "ACTIVE", "VERSION", "STATE", "CREATED");
		json_array_foreach(envs, i, v)
			report_text(REPORT_STDOUT, "%-6s %-7s %-12s %-9s %s%s%s\n", str(v, "env"),
				    json_is_true(json_object_get(v, "active")) ? "*" : "", str(v, "version"),
				    str(v, "state"), str(v, "created"), json_object_get(v, "file") ? "  " : "",
				    json_object_get(v, "file") ? str(v, "file") : "");
	}
out:
	err = error_wrap(err, "listing environments of instance \"%s\"", in.name);
	json_decref(envs);
	engine_close(e);
	instance_free(&in);
	return err;
}

static const struct error *cmd_logs(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	const char *process = a->n ? a->operand[0] : "web";
	char *name = NULL;
	size_t i;

	if ((err = instance_open(&in, ctx->root)))
		return err;
	for (i = 0; i < in.cl.tpl.nproc && strcmp(in.cl.tpl.proc[i].name, process) != 0; i++)
		;
	if (i == in.cl.tpl.nproc) {
		err = error_fmt("template \"%s\" has no process \"%s\"", in.cl.template_name, process);
		goto out;
	}
	name = instance_container(&in, in.env, process);
	if ((err = engine_open(&e)))
		goto out;
	err = engine_logs(e, name, a->set[OPT_FOLLOW], a->set[OPT_TAIL] ? (int)a->num[OPT_TAIL] : -1,
			  runtime_print_frame, NULL);
out:
	err = error_wrap(err, "reading logs of instance \"%s\"", in.name);
	free(name);
	engine_close(e);
	instance_free(&in);
	return err;
}

/* ---- run ---- */

/* Run argv with stdin and stdout a terminal: raw mode, a TTY in the
 * container, its size ours (as docker run -it). */
static const struct error *run_tty(struct engine *e, struct instance *in, char *const *argv, int *code)
{
	const struct error *err;
	struct runtime_tty tty = {STDIN_FILENO, 0, 0};
	struct winsize ws = {0};
	struct termios saved, raw;
	int restore = 0;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		tty.rows = ws.ws_row;
		tty.cols = ws.ws_col;
	}
	if (tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	err = runtime_oneoff(e, in, in->env, argv, runtime_print_frame, NULL, code, &tty);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return err;
}

static const struct error *cmd_run(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	struct strv words = STRV_INIT;
	char **argv = a->operand;
	int code = 0;

	/* KorCluster's users write run "rake db:migrate": one word, split here. */
	if (a->n == 1 && strpbrk(argv[0], " \t")) {
		if (strv_split(&words, argv[0]) || words.n == 0) {
			strv_free(&words);
			return error_new(ERR_USAGE, "cannot split \"%s\" into words", argv[0]);
		}
		argv = words.v;
	}
	if ((err = instance_open(&in, ctx->root)))
		goto done;
	if (!(err = engine_open(&e))) {
		if (isatty(STDIN_FILENO) && report_tty())
			err = run_tty(e, &in, argv, &code);
		else
			err = runtime_oneoff(e, &in, in.env, argv, runtime_print_frame, NULL, &code, NULL);
	}
	if (!err)
		ctx->exit_code = code;
	err = error_wrap(err, "running \"%s\" in instance \"%s\"", argv[0], in.name);
	engine_close(e);
	instance_free(&in);
done:
	strv_free(&words);
	return err;
}

/* ---- snapshot, import ---- */

static const struct error *cmd_snapshot(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct held h;
	struct snapshot_result res = {0};
	char held[64];
	int removed = 0;

	if ((err = begin(ctx, &h)))
		return err;
	if ((err = snapshot_take(h.e, &h.in, h.in.env, a->text[OPT_OUTPUT], a->set[OPT_GZIP], &res)))
		goto out;
	snprintf(held, sizeof held, "; writes held %.2f s", res.held);
	report_line("snapshot of \"%s\" (%s): %s\n  %.1f MiB (%.1f MiB before compression) in %.1f s%s", h.in.name,
		    h.in.version, res.path, (double)res.bytes / (1 << 20), (double)res.raw / (1 << 20), res.seconds,
		    res.held > 0 ? held : "");
	if (a->set[OPT_KEEP] && (err = snaplist_prune(&h.in.cl, h.in.name, (int)a->num[OPT_KEEP], &removed)))
		err = error_wrap(err, "pruning snapshots of instance \"%s\"", h.in.name);
out:
	snapshot_result_free(&res);
	end(&h);
	return err;
}

/* FILE as import takes it: a path, or the name of a snapshot (as "backup
 * list" gives it, ".kcs" or not) in snapshots/, else fetched from the
 * cluster's backup target into snapshots/. */
static const struct error *import_source(const struct instance *in, const char *file, char **path)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	size_t n = strlen(base);
	char *name;
	const struct error *err;

	*path = NULL;
	if ((err = fs_absolute(file, path)) || fs_exists(*path))
		return err;
	free(*path);
	name = n > 4 && strcmp(base + n - 4, ".kcs") == 0 ? xstrndup(base, n - 4) : xstrdup(base);
	*path = snaplist_path(&in->cl, name);
	if (!fs_exists(*path)) {
		free(*path);
		*path = NULL;
		if (in->cl.backup_target)
			err = backup_get(&in->cl, name, path);
		else
			err = error_fmt("importing \"%s\": it does not exist (and the cluster has no backup target to "
					"fetch it from)",
					file);
	}
	free(name);
	return err;
}

static const struct error *cmd_import(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct held h;
	char *path = NULL;

	if ((err = begin(ctx, &h)))
		return err;
	if (!(err = import_source(&h.in, a->operand[0], &path)))
		err = import_run(h.e, &h.in, path, a->set[OPT_KEEP] ? (int)a->num[OPT_KEEP] : 0);
	end(&h);
	free(path);
	return err;
}

/* ---- upgrade, rollback ---- */

static const struct error *cmd_upgrade(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct held h;

	if ((err = begin(ctx, &h)))
		return err;
	err = upgrade_run(h.e, &h.in, a->operand[0], a->set[OPT_KEEP] ? (int)a->num[OPT_KEEP] : 0);
	end(&h);
	return err;
}

static const struct error *cmd_rollback(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct held h;

	if ((err = begin(ctx, &h)))
		return err;
	err = upgrade_rollback(h.e, &h.in, a->text[OPT_TO], a->set[OPT_KEEP] ? (int)a->num[OPT_KEEP] : 0);
	end(&h);
	return err;
}

/* ---- clone, validate ---- */

/* cluster.sh clone with this instance as SRC. */
static const struct error *cmd_clone(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;

	if ((err = instance_open(&in, ctx->root)))
		return err;
	err = instmake_clone(&in.cl, in.name, a->operand[0], a->text[OPT_PORT], a->text[OPT_DESCRIPTION]);
	instance_free(&in);
	return err;
}

static const struct error *cmd_validate(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;
	struct diag d = DIAG_INIT;
	struct routes r;

	(void)a;
	if ((err = instance_load(&in, ctx->root, &d)))
		goto out; /* instance.ini could not be read at all */
	if ((err = routes_load(in.root, &r)))
		diag_add(&d, "routes", 0, "%s", err->msg);
	routes_free(&r);
	err = NULL;
	if (d.lines.n) {
		diag_sort(&d);
		for (size_t i = 0; i < d.lines.n; i++)
			report_text(REPORT_STDOUT, "%s\n", d.lines.v[i]);
		err = error_fmt("validating instance \"%s\": %zu problem%s", in.root, d.lines.n,
				d.lines.n == 1 ? "" : "s");
	} else {
		report_text(REPORT_STDOUT, "%s/instance.ini: ok\n", in.root);
	}
out:
	diag_free(&d);
	instance_free(&in);
	return err;
}

/* ---- route ---- */

static const struct error *route_list(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	struct instance in;
	struct routes r;
	json_t *list;

	if ((err = instance_open(&in, ctx->root)))
		return err;
	if ((err = routes_load(in.root, &r)))
		goto out;
	list = json_array();
	for (size_t i = 0; i < r.n; i++) {
		char *url = routing_url(&in, r.v[i].host, r.v[i].tls);

		json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:b, s:s}", "host", r.v[i].host, "kind",
						      routes_kind_name(r.v[i].kind), "tls", r.v[i].tls, "admin",
						      r.v[i].admin, "url", r.v[i].target ? r.v[i].target : url));
		free(url);
	}
	if (a->set[OPT_JSON]) {
		report_json(list);
	} else {
		json_t *v;
		size_t i;

		report_text(REPORT_STDOUT, "%-40s %-9s %-4s %-6s %s\n", "HOST", "KIND", "TLS", "ADMIN",
			    "URL (of a redirect: its target)");
		json_array_foreach(list, i, v)
			report_text(REPORT_STDOUT, "%-40s %-9s %-4s %-6s %s\n", str(v, "host"), str(v, "kind"),
				    json_is_true(json_object_get(v, "tls")) ? "yes" : "no",
				    json_is_true(json_object_get(v, "admin")) ? "yes" : "no", str(v, "url"));
	}
	json_decref(list);
	routes_free(&r);
out:
	instance_free(&in);
	return error_wrap(err, "listing routes of instance \"%s\"", ctx->root);
}

static const struct error *cmd_route(struct ctx *ctx, const struct args *a)
{
	const struct error *err;
	const char *verb = a->operand[0];
	int add = strcmp(verb, "add") == 0, rm = strcmp(verb, "rm") == 0;
	struct held h;

	if (strcmp(verb, "list") == 0) {
		if (a->n != 1 || a->set[OPT_PRIMARY] || a->set[OPT_REDIRECT] || a->set[OPT_TLS] || a->set[OPT_ADMIN])
			return error_new(ERR_USAGE, "route list takes no hostname, --primary, --redirect-to, --tls or --admin");
		return route_list(ctx, a);
	}
	if (!add && !rm)
		return error_new(ERR_USAGE, "route takes add, rm or list, not \"%s\"", verb);
	if (a->n != 2)
		return error_new(ERR_USAGE, "route %s needs a hostname", verb);
	if (rm && (a->set[OPT_PRIMARY] || a->set[OPT_REDIRECT] || a->set[OPT_TLS] || a->set[OPT_ADMIN]))
		return error_new(ERR_USAGE, "route rm takes no --primary, --redirect-to, --tls or --admin");
	if (a->set[OPT_JSON])
		return error_new(ERR_USAGE, "--json is for route list");
	if ((err = begin(ctx, &h)))
		return err;
	if (add && !(err = routing_add(h.e, &h.in, a->operand[1], a->set[OPT_PRIMARY], a->text[OPT_REDIRECT],
				       a->set[OPT_TLS], a->set[OPT_ADMIN]))) {
		char *url = routing_url(&h.in, a->operand[1], a->set[OPT_TLS]);

		report_line("%s now %s %s", url, a->text[OPT_REDIRECT] ? "redirects to" : "serves instance",
			    a->text[OPT_REDIRECT] ? a->text[OPT_REDIRECT] : h.in.name);
		free(url);
	} else if (rm && !(err = routing_remove(h.e, &h.in, a->operand[1]))) {
		report_line("route \"%s\" of instance \"%s\" is removed", a->operand[1], h.in.name);
	}
	end(&h);
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

static const struct opt logs_opts[] = {
	{OPT_FOLLOW, 'f', "follow", OPT_FLAG, NULL, "go on printing what comes, until Ctrl-C", 0, NULL, 0},
	{OPT_TAIL, 'n', "tail", OPT_NUMBER, "N", "only the last N lines", 0, NULL, 0},
	OPT_END,
};

static const struct opt snapshot_opts[] = {
	{OPT_GZIP, 'z', "gzip", OPT_FLAG, NULL, "write .tar.gz instead of .tar.zst (multi-threaded zstd)", 0, NULL, 0},
	{OPT_OUTPUT, 'o', "output", OPT_TEXT, "FILE",
	 "where to write (default snapshots/NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst)", 0, NULL, 0},
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "then remove all but the newest N snapshots of this instance", 1,
	 NULL, 0},
	OPT_END,
};

static const struct opt upgrade_opts[] = {
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "then keep only the newest N snapshots of the instance", 1, NULL, 0},
	OPT_END,
};

static const struct opt rollback_opts[] = {
	{OPT_TO, 't', "to", OPT_TEXT, "WHERE",
	 "ENV, VERSION, or a snapshot (file name in snapshots/ or path): see \"envs\"", 0, NULL, 0},
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "then keep only the newest N snapshots of the instance", 1, NULL, 0},
	OPT_END,
};

static const struct opt route_opts[] = {
	{OPT_PRIMARY, 0, "primary", OPT_FLAG, NULL, "add: make it the instance's primary hostname", 0, NULL, 0},
	{OPT_REDIRECT, 0, "redirect-to", OPT_TEXT, "URL", "add: answer 301 to URL instead of serving the instance", 0,
	 NULL, 0},
	{OPT_TLS, 0, "tls", OPT_FLAG, NULL, "add: serve it over HTTPS (certificate in the cluster's proxy/tls/)", 0, NULL,
	 0},
	{OPT_ADMIN, 0, "admin", OPT_FLAG, NULL,
	 "add: serve it by the full app, not the read-only frontend (templates that have one)", 0, NULL, 0},
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "list: print JSON instead of a table", 0, NULL, 0},
	OPT_END,
};

static const struct opt clone_opts[] = {
	{OPT_PORT, 'p', "port", OPT_TEXT, "P", "the port the new instance is served on", 0, "PORT", OPTF_REQUIRED},
	{OPT_DESCRIPTION, 'd', "description", OPT_TEXT, "TEXT", "what the new instance is for (shown by list)", 0, NULL,
	 0},
	OPT_END,
};

const struct cmd instance_cmds[] = {
	{"start", cmd_start, "", 0, 0, "start the instance, wait until healthy, and serve its port through the proxy",
	 NULL, NULL, CMD_NEEDS_SCOPE},
	{"stop", cmd_stop, "", 0, 0, "stop serving the port and remove the instance's containers; data stays", NULL,
	 NULL, CMD_NEEDS_SCOPE},
	{"restart", cmd_restart, "", 0, 0, "stop, then start", NULL, NULL, CMD_NEEDS_SCOPE},
	{"lock", cmd_lock, "", 0, 0, "make the instance read-only: reads are served, writes get 423 Locked",
	 "Kept across stop, start, upgrades, imports and reboots until \"unlock\".  On return no\n"
	 "write begun before is still under way.\n",
	 NULL, CMD_NEEDS_SCOPE},
	{"unlock", cmd_unlock, "", 0, 0, "let writes through again after \"lock\"", NULL, NULL, CMD_NEEDS_SCOPE},
	{"cache", cmd_cache, "clear", 1, 1, "empty the proxy's cache of the read-only frontend's pages",
	 "For templates with a frontend (frontend = yes): the public hostnames are served from\n"
	 "it through the proxy's cache, each page kept a minute.  After a change made on an admin\n"
	 "hostname, \"cache clear\" makes the next request for each page go to the frontend.\n",
	 NULL, CMD_NEEDS_SCOPE},
	{"status", cmd_status, "", 0, 0, "the instance's containers, state and health",
	 "Exit status 0: served, running and healthy, or stopped on purpose; 1: served but\n"
	 "down or unhealthy, said on stderr (and in \"problem\" with --json, \"ok\" false).\n",
	 status_opts, CMD_NEEDS_SCOPE},
	{"logs", cmd_logs, "[PROCESS]", 0, 1, "the output of a process (default web)", NULL, logs_opts,
	 CMD_NEEDS_SCOPE},
	{"run", cmd_run, "COMMAND [ARG...]", 1, -1,
	 "run a command once in a new container with the instance's environment; its exit code is ours",
	 "A single argument with blanks is split into words (run \"rake db:migrate\").\n"
	 "With a terminal it is interactive, as docker run -it.\n",
	 NULL, CMD_NEEDS_SCOPE | CMD_RAW},
	{"snapshot", cmd_snapshot, "", 0, 0, "archive the database and files, online: the instance keeps serving",
	 "Writes (non-GET requests) get 503 with Retry-After for the moment the dump's transaction\n"
	 "takes to start; reads are served throughout.  The file appears only when complete.\n",
	 snapshot_opts, CMD_NEEDS_SCOPE},
	{"import", cmd_import, "FILE", 1, 1, "restore a snapshot (korcluster's or KorCluster's) into the instance",
	 "FILE is a path, or a snapshot's name: from snapshots/, or else fetched from the cluster's\n"
	 "backup target (an object \"backup list\" shows).\n"
	 "The archive is checked whole first (checksums, paths, links, size, what the dump does,\n"
	 "template); then it is restored into the inactive environment (the dump loaded by a user\n"
	 "granted on that database only, within [limits] of cluster.ini), migrated if older,\n"
	 "started, checked healthy, and only then served.  The state before stays in the other\n"
	 "environment; what the inactive one held is archived to snapshots/ first.  A failure\n"
	 "leaves the instance as it was, serving, and puts the inactive environment back.\n",
	 upgrade_opts, CMD_NEEDS_SCOPE},
	{"upgrade", cmd_upgrade, "VERSION", 1, 1,
	 "move to VERSION on the other environment, switching only when it is healthy",
	 "The inactive environment gets a consistent copy of the database and a copy of the files,\n"
	 "the template's migrate, and the new version's containers; once they are healthy the proxy\n"
	 "switches to them and the old environment stops, its database and files kept for rollback.\n"
	 "Until the switch, reads are served and writes get 503 with Retry-After.  Any failure, or\n"
	 "Ctrl-C, removes the new environment and leaves the old one serving.\n"
	 "The inactive environment's earlier state is archived to snapshots/ first, and put back\n"
	 "from there if the upgrade fails: \"rollback\" still finds it.\n",
	 upgrade_opts, CMD_NEEDS_SCOPE},
	{"rollback", cmd_rollback, "", 0, 0, "go back to the other environment, or with --to to any archived one",
	 "Writes made since the switch stay in the environment left, which becomes the inactive one.\n"
	 "--to VERSION takes the inactive environment if it holds VERSION, else the newest snapshot\n"
	 "of the instance of that version; a snapshot is restored at its own version into the\n"
	 "inactive environment (archived first), started, checked healthy, and only then served.\n",
	 rollback_opts, CMD_NEEDS_SCOPE},
	{"envs", cmd_envs, "", 0, 0, "the environments: blue, green and the archive of earlier ones (snapshots)",
	 NULL, json_opts, CMD_NEEDS_SCOPE},
	{"clone", cmd_clone, "NEW", 1, 1, "make instance NEW from this one's current state (see cluster.sh clone)",
	 NULL, clone_opts, CMD_NEEDS_SCOPE},
	{"route", cmd_route, "add|rm|list [HOST]", 1, 2, "serve the instance on hostnames: add, remove or list routes",
	 "The front proxy serves each route by its Host header on the cluster's http_port\n"
	 "(cluster.ini, default 80), beside the instance's own port.  A hostname belongs to one\n"
	 "instance.  The first one added is the primary (--primary moves that); the primary of\n"
	 "an instance being served cannot be removed.  --redirect-to URL answers 301 to URL,\n"
	 "followed by the request's path when URL has none.  --tls serves it on https_port\n"
	 "(default 443) with proxy/tls/HOST.crt and HOST.key (mode 0600), else the cluster's\n"
	 "_cluster.crt and _cluster.key, TLS 1.2 and up, HSTS; plain HTTP redirects there.\n"
	 "Every change is checked by the proxy before a graceful reload: a refused one changes\n"
	 "nothing.\n",
	 route_opts, CMD_NEEDS_SCOPE},
	{"validate", cmd_validate, "", 0, 0, "check instance.ini, its routes and its cluster, listing every problem",
	 NULL, NULL,
	 CMD_NEEDS_SCOPE},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};
