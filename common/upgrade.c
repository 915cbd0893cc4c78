#include "upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "container.h"
#include "envcopy.h"
#include "envkeep.h"
#include "fs.h"
#include "leftover.h"
#include "mem.h"
#include "report.h"
#include "restore.h"
#include "runtime.h"
#include "snaplist.h"
#include "snapshot.h"

/* ---- the journal ---- */

static char *journal_path(const struct instance *in)
{
	return xasprintf("%s/upgrade.journal", in->root);
}

/* {op, from, to, version, previous | created, step, served, kept,
 * kept_created, snapshot}: kept is the snapshot the inactive environment
 * was archived to (envkeep.h), snapshot the one a rollback restores. */
static const struct error *journal_write(const struct instance *in, json_t *j, const char *step)
{
	const struct error *err;
	char *path = journal_path(in), *text;

	json_object_set_new(j, "step", json_string(step));
	if (!(text = json_dumps(j, JSON_COMPACT)))
		report_out_of_memory();
	err = fs_write_atomic(path, text, strlen(text), 0600);
	free(text);
	free(path);
	return err;
}

/* Absent, null, or an absolute path of printable characters. */
static int path_ok(const json_t *v)
{
	const char *p = json_string_value(v);

	if (!v || json_is_null(v))
		return 1;
	if (!p || p[0] != '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Every field a journal may hold, each of its kind: its values go into
 * messages and instance.ini. */
static int journal_valid(json_t *j)
{
	static const char *const steps[] = {"prepare", "copy", "migrate", "start", "switched", NULL};
	const char *op = json_string_value(json_object_get(j, "op"));
	const char *from = json_string_value(json_object_get(j, "from"));
	const char *to = json_string_value(json_object_get(j, "to"));
	const char *step = json_string_value(json_object_get(j, "step"));
	const char *version = json_string_value(json_object_get(j, "version"));
	json_t *previous = json_object_get(j, "previous"), *created = json_object_get(j, "created");
	json_t *kept_created = json_object_get(j, "kept_created");
	int known = 0;

	if (!path_ok(json_object_get(j, "kept")) || !path_ok(json_object_get(j, "snapshot")) ||
	    (kept_created && !json_is_null(kept_created) &&
	     (!json_is_string(kept_created) || instance_check_time(json_string_value(kept_created)))))
		return 0;

	if (!op || !from || !to || !step || !version || (strcmp(op, "upgrade") && strcmp(op, "rollback")) ||
	    (strcmp(from, "blue") && strcmp(from, "green")) || strcmp(to, instance_other_env(from)) != 0 ||
	    instance_check_version(version))
		return 0;
	for (size_t i = 0; steps[i]; i++)
		known |= strcmp(step, steps[i]) == 0;
	return known && !(previous && (!json_is_string(previous) || instance_check_version(json_string_value(previous)))) &&
	       !(created && !json_is_null(created) &&
		 (!json_is_string(created) || instance_check_time(json_string_value(created))));
}

static void journal_remove(const struct instance *in)
{
	char *path = journal_path(in);

	unlink(path);
	free(path);
}

/* ---- the steps ---- */

/* Stop every process of env but the web: background jobs write too. */
static const struct error *stop_background(struct engine *e, struct instance *in, const char *env)
{
	const struct error *err;

	for (size_t i = 0; i < in->cl.tpl.nproc; i++)
		if (strcmp(in->cl.tpl.proc[i].name, "web") != 0 &&
		    (err = runtime_stop_process(e, in, env, in->cl.tpl.proc[i].name)))
			return error_wrap(err, "stopping \"%s\" of environment %s", in->cl.tpl.proc[i].name, env);
	return NULL;
}

/* Put back what a failed or killed operation changed: the new environment
 * goes, the old one gets its processes and writes back.  When the copy had
 * begun, the inactive environment is put back from kept, the snapshot it
 * was archived to (or recorded empty if it held nothing).  The
 * operation's own error is what the command reports: these only warn.
 * Returns 0 if a step failed (the engine gone, say): the journal then
 * stays, and the next command on the instance does it again. */
static int undo(struct engine *e, struct instance *in, const char *from, const char *to, int served, int copied,
		const char *kept, const char *kept_created)
{
	const struct error *err;
	int ok = 1;

	if ((err = runtime_stop(e, in, to))) {
		report_warn("removing environment %s: %s", to, err->msg);
		ok = 0;
	}
	if (served) {
		/* The background processes were stopped, or are being stopped by
		 * the engine for a command that is gone: they start afresh. */
		if ((err = stop_background(e, in, from)) || (err = runtime_resume(e, in, from))) {
			report_warn("restarting environment %s: %s", from, err->msg);
			ok = 0;
		}
		if ((err = runtime_route(e, in, from, 0))) {
			report_warn("letting writes through to %s: %s", from, err->msg);
			ok = 0;
		}
	}
	if (copied && (err = envkeep_restore(e, in, to, kept, kept_created))) {
		report_warn("%s%s%s", err->msg, kept ? "; what it held is archived in " : "", kept ? kept : "");
		ok = 0;
	}
	return ok;
}

/* After a failure: the journal goes once everything is put back. */
static void undo_or_keep(struct engine *e, struct instance *in, const char *from, const char *to, int served,
			 int copied, const char *kept, const char *kept_created)
{
	if (undo(e, in, from, to, served, copied, kept, kept_created))
		journal_remove(in);
	else
		report_warn("not all was put back: the next command on instance \"%s\" tries again", in->name);
}

/* The switch has happened: record it, then stop the old environment. */
static const struct error *finish(struct engine *e, struct instance *in, const char *from, const char *to,
				  const char *version, const char *created)
{
	const struct error *err;

	in->env_version[instance_env_index(to)] = version;
	in->env_created[instance_env_index(to)] = created;
	if ((err = instance_save(in, to)))
		return error_wrap(err, "recording environment %s as active", to);
	/* The journal goes last: a command killed before the old environment
	 * is stopped leaves it, and the next command finishes the job. */
	if ((err = runtime_stop(e, in, from)))
		report_warn("stopping environment %s: %s", from, err->msg);
	journal_remove(in);
	return NULL;
}

const struct error *upgrade_run(struct engine *e, struct instance *in, const char *version, int keep)
{
	const struct error *err;
	/* in is reloaded by instance_save(): keep from/to as literals. */
	const char *from = strcmp(in->env, "blue") == 0 ? "blue" : "green", *to = instance_other_env(from);
	char *old = xstrdup(in->version), *ver = xstrdup(version), *now = NULL, *image = NULL, *kept = NULL;
	const char *had = in->env_version[instance_env_index(to)], *hc = in->env_created[instance_env_index(to)];
	char *had_created = hc ? xstrdup(hc) : NULL;
	json_t *j = NULL;
	double t0 = clock_seconds(), held_at = 0, held = 0, copy = 0, migrate = 0, promote = 0, at;
	struct runtime_times took = {0};
	int served = runtime_served(in), copied = 0, journaled = 0;

	if ((err = instance_check_version(version)) || (err = template_version_check(&in->cl.tpl, version)))
		goto out;
	if (strcmp(version, in->version) == 0) {
		err = error_fmt("instance \"%s\" runs %s already", in->name, version);
		goto out;
	}
	/* What the active environment holds (older instance.ini files do not
	 * say), so that rollback can return to it. */
	if (!in->env_version[instance_env_index(from)])
		in->env_version[instance_env_index(from)] = old;
	/* 1. Before it is reused, the inactive environment is archived. */
	if ((err = envkeep_save(e, in, to, keep, &kept)))
		goto out;
	/* 2. The new version's image. */
	in->env_version[instance_env_index(to)] = ver;
	if ((err = runtime_image(in, to, &image)) || (err = container_pull(e, image)))
		goto out;
	if (!(j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:s?}", "op", "upgrade", "from", from, "to", to,
			    "version", ver, "previous", old, "served", served, "kept", kept, "kept_created", had_created)))
		report_out_of_memory();
	if ((err = journal_write(in, j, "prepare")))
		goto out;
	journaled = 1;
	/* The new environment's containers are made and started now, while
	 * writes go on; they wait at its gate, which opens after the copy and
	 * migrate. */
	if ((err = runtime_stop(e, in, to)) || (served && (err = runtime_prepare(e, in, to))))
		goto out;
	/* 3. Stop background jobs (they queue meanwhile), hold writes; copy the
	 * database and files. */
	if (served) {
		report_line("stopping background processes, then holding writes to \"%s\" (reads go on)", in->name);
		if ((err = stop_background(e, in, from)))
			goto out;
		/* Counted from here: clients see writes held from the moment
		 * the hold begins, before the writes under way are waited out. */
		held_at = clock_seconds();
		if ((err = runtime_route(e, in, from, ROUTE_READONLY)))
			goto out;
	}
	copied = 1;
	if ((err = journal_write(in, j, "copy")) || (err = envkeep_clear(in, to)))
		goto out;
	in->env_version[instance_env_index(to)] = ver;
	at = clock_seconds();
	if ((err = envcopy_run(e, in, from, to)))
		goto out;
	copy = clock_seconds() - at;
	/* 4. Migrate the copy. */
	report_line("migrating environment %s to %s", to, version);
	at = clock_seconds();
	if ((err = journal_write(in, j, "migrate")) ||
	    (err = runtime_task(e, in, to, "migrate", in->cl.tpl.migrate, "")) ||
	    (err = runtime_task(e, in, to, "post_migrate", in->cl.tpl.post_migrate, "")))
		goto out;
	migrate = clock_seconds() - at;
	/* 5. Start it, wait until healthy, switch. */
	now = instance_now();
	if (served) {
		report_line("starting environment %s (%s)", to, version);
		at = clock_seconds();
		if ((err = journal_write(in, j, "start")) || (err = runtime_promote(e, in, to, &took)))
			goto out;
		promote = clock_seconds() - at;
		held = clock_seconds() - held_at;
		if ((err = journal_write(in, j, "switched")))
			goto out;
		report_line("environment %s (%s) is healthy and serving; writes go through again", to, version);
	}
	/* 6. Record the switch; stop the old environment, keep its data. */
	if ((err = finish(e, in, from, to, ver, now)))
		goto out;
	if (served)
		report_line("instance \"%s\" runs %s on environment %s (upgraded from %s in %.1f s; healthy after %.1f s; "
			    "writes held %.1f s: copy %.1f s, migrate %.1f s, start and switch %.1f s = containers %.1f s, "
			    "health %.1f s, route %.1f s)",
			    in->name, version, to, old, clock_seconds() - t0, took.healthy, held, copy, migrate, promote,
			    took.start, took.healthy, took.route);
	else
		report_line("instance \"%s\" runs %s on environment %s (upgraded from %s in %.1f s)", in->name, version, to,
			    old, clock_seconds() - t0);
	report_line("%s keeps %s as it was: \"instance.sh rollback\" goes back to it", from, old);
out:
	if (err) {
		err = error_wrap(err, "upgrading instance \"%s\" to %s (it still runs %s on %s)", in->name, version, old,
				 from);
		if (!copied) /* ver is freed below */
			in->env_version[instance_env_index(to)] = had;
		if (journaled)
			undo_or_keep(e, in, from, to, served, copied, kept, had_created);
	}
	json_decref(j);
	free(kept);
	free(had_created);
	free(image);
	free(now);
	free(old);
	free(ver);
	return err;
}

/* What "rollback --to" names: the inactive environment (*path NULL), or a
 * snapshot of the instance (*path, caller frees): ENV, a VERSION the
 * inactive environment or an archived snapshot holds (the newest), or a
 * snapshot's file name (in snapshots/) or path. */
static const struct error *rollback_target(struct instance *in, const char *what, const char *to, const char *dir,
					   char **path)
{
	const struct error *err;
	const char *held = in->env_version[instance_env_index(to)];
	json_t *list = NULL, *s;
	size_t i;

	*path = NULL;
	if (!what || strcmp(what, to) == 0)
		return NULL;
	if (strcmp(what, "blue") == 0 || strcmp(what, "green") == 0)
		return error_fmt("environment %s is the active one already", what);
	if (strchr(what, '/') || strstr(what, ".tar.")) {
		char *rel = strchr(what, '/') ? NULL : snaplist_path(&in->cl, what);

		err = fs_absolute(rel && fs_exists(rel) ? rel : what, path);
		free(rel);
		if (!err && !fs_exists(*path)) {
			err = error_fmt("snapshot \"%s\" does not exist", *path);
			free(*path);
			*path = NULL;
		}
		return err;
	}
	if (instance_check_version(what))
		return error_fmt("\"%s\" is neither an environment, a version nor a snapshot", what);
	if (held && strcmp(held, what) == 0 && fs_is_dir(dir))
		return NULL;
	if ((err = snaplist_list(&in->cl, &list)))
		return err;
	json_array_foreach(list, i, s)
		if (strcmp(json_string_value(json_object_get(s, "instance")), in->name) == 0 &&
		    strcmp(json_string_value(json_object_get(s, "version")), what) == 0) {
			*path = xstrdup(json_string_value(json_object_get(s, "path")));
			break;
		}
	json_decref(list);
	return *path ? NULL
		     : error_fmt("neither environment %s nor a snapshot of \"%s\" holds version %s "
				 "(\"instance.sh envs\" lists what there is)",
				 to, in->name, what);
}

const struct error *upgrade_rollback(struct engine *e, struct instance *in, const char *what, int keep)
{
	const struct error *err;
	const char *from = strcmp(in->env, "blue") == 0 ? "blue" : "green", *to = instance_other_env(from);
	const char *v = in->env_version[instance_env_index(to)], *c = in->env_created[instance_env_index(to)];
	char *version = NULL, *created = NULL, *kept = NULL, *kept_created = c ? xstrdup(c) : NULL, *snap = NULL;
	char *cur = xstrdup(in->version), *dir = instance_data_dir(in, to);
	struct restore *r = NULL;
	struct restore_result res = {0};
	json_t *j = NULL;
	int served = runtime_served(in), journaled = 0;

	if ((err = rollback_target(in, what, to, dir, &snap)))
		goto out;
	if (snap) {
		/* Back to a snapshot: checked whole first, at its own version. */
		if ((err = restore_check(e, in, snap, to, RESTORE_AS_IS, &r)))
			goto out;
		version = xstrdup(restore_version(r));
		created = instance_now();
	} else if (!v || !fs_is_dir(dir)) {
		err = error_fmt("environment %s holds nothing to go back to", to);
		goto out;
	} else {
		version = xstrdup(v);
		created = c ? xstrdup(c) : NULL;
	}
	if (!(j = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:s?}", "op", "rollback", "from", from, "to", to,
			    "version", version, "created", created, "served", served, "snapshot", snap)))
		report_out_of_memory();
	if ((err = journal_write(in, j, "prepare")))
		goto out;
	journaled = 1;
	if (snap) {
		/* What the inactive environment holds stays reachable too. */
		if ((err = envkeep_save(e, in, to, keep, &kept)))
			goto out;
		if (kept)
			json_object_set_new(j, "kept", json_string(kept));
		if (kept_created)
			json_object_set_new(j, "kept_created", json_string(kept_created));
		if ((err = journal_write(in, j, "copy")) || (err = envkeep_clear(in, to)) ||
		    (err = restore_run(r, &res)))
			goto out;
	}
	if (served) {
		/* Writes from now on would be lost with the environment left. */
		if ((err = runtime_route(e, in, from, ROUTE_READONLY)))
			goto out;
		report_line("starting environment %s (%s)", to, version);
		if ((err = journal_write(in, j, "start")) || (err = runtime_promote(e, in, to, NULL)) ||
		    (err = journal_write(in, j, "switched")))
			goto out;
	}
	if ((err = finish(e, in, from, to, version, created)))
		goto out;
	report_line("instance \"%s\" runs %s on environment %s %s(rolled back from %s)", in->name, version, to,
		    snap ? "" : "again ", cur);
	if (snap)
		report_line("restored from %s; %s keeps %s as it was%s%s", snap, from, cur,
			    kept ? ", and what environment held before is archived in " : "", kept ? kept : "");
out:
	if (err) {
		err = error_wrap(err, "rolling back instance \"%s\"", in->name);
		if (journaled)
			undo_or_keep(e, in, from, to, served, res.changed, kept, kept_created);
	}
	restore_result_free(&res);
	restore_close(r);
	json_decref(j);
	free(version);
	free(created);
	free(kept);
	free(kept_created);
	free(snap);
	free(cur);
	free(dir);
	return err;
}

const struct error *upgrade_recover(struct engine *e, struct instance *in, int *did)
{
	const struct error *err;
	char *path = journal_path(in), *text = NULL, *version = NULL, *created = NULL;
	size_t len;
	json_t *j = NULL;
	json_error_t je;
	const char *op, *from, *to, *step;
	int served;

	*did = 0;
	if (!fs_exists(path)) {
		/* No upgrade under way: maybe what a killed snapshot or import left. */
		free(path);
		return leftover_clear(e, in, 0, did);
	}
	if ((err = fs_read(path, &text, &len)))
		goto out;
	if (!(j = json_loadb(text, len, 0, &je)) || !journal_valid(j)) {
		err = error_fmt("%s is damaged; look at it, then remove it", path);
		goto out;
	}
	op = json_string_value(json_object_get(j, "op"));
	step = json_string_value(json_object_get(j, "step"));
	served = json_is_true(json_object_get(j, "served"));
	from = strcmp(json_string_value(json_object_get(j, "from")), "blue") == 0 ? "blue" : "green";
	to = instance_other_env(from);
	version = xstrdup(json_string_value(json_object_get(j, "version")));
	if (strcmp(step, "switched") == 0) {
		/* The proxy serves the new environment: finish the job. */
		if (json_is_string(json_object_get(j, "created")))
			created = xstrdup(json_string_value(json_object_get(j, "created")));
		else
			created = instance_now();
		if ((err = finish(e, in, from, to, version, created)))
			goto out;
		report_note("finished an interrupted %s of \"%s\": it serves %s on %s", op, in->name, version, to);
	} else {
		/* An upgrade from its copy on, a rollback to a snapshot from
		 * its restore on, had changed the inactive environment. */
		int copied = strcmp(step, "prepare") != 0 &&
			     (strcmp(op, "upgrade") == 0 || json_is_string(json_object_get(j, "snapshot"))),
		    left;

		if (!undo(e, in, from, to, served, copied, json_string_value(json_object_get(j, "kept")),
			  json_string_value(json_object_get(j, "kept_created")))) {
			err = error_fmt("not all could be put back (see above); the journal %s stays for the next try", path);
			goto out;
		}
		if ((err = leftover_clear(e, in, copied, &left)))
			goto out;
		journal_remove(in);
		report_note("undid an interrupted %s of \"%s\" to %s: it %s %s on %s", op, in->name, version,
			    served ? "serves" : "keeps", in->version, from);
	}
	*did = 1;
out:
	json_decref(j);
	free(text);
	free(path);
	free(version);
	free(created);
	return error_wrap(err, "recovering instance \"%s\" from an interrupted upgrade", in->name);
}

const struct error *upgrade_envs(struct engine *e, struct instance *in, json_t **out)
{
	const struct error *err;
	json_t *list = NULL, *c;
	size_t i;

	*out = NULL;
	if ((err = runtime_containers(e, in, &list)))
		return err;
	*out = json_array();
	for (int k = 0; k < 2; k++) {
		const char *env = k == ENV_BLUE ? "blue" : "green";
		int total = 0, running = 0;

		json_array_foreach(list, i, c) {
			json_t *labels = json_object_get(c, "Labels");
			const char *cenv = json_string_value(json_object_get(labels, LABEL_ENV));
			const char *role = json_string_value(json_object_get(labels, LABEL_ROLE));
			const char *st = json_string_value(json_object_get(c, "State"));

			if (!cenv || strcmp(cenv, env) != 0 || (role && strcmp(role, "run") == 0))
				continue;
			total++;
			running += st && strcmp(st, "running") == 0;
		}
		json_array_append_new(
			*out, json_pack("{s:s, s:s?, s:s?, s:b, s:s}", "env", env, "version",
					strcmp(env, in->env) == 0 ? in->version : in->env_version[k], "created",
					in->env_created[k], "active", strcmp(env, in->env) == 0, "state",
					!total ? (in->env_version[k] || strcmp(env, in->env) == 0 ? "stopped" : "empty")
					       : running == total ? "running" : "partial"));
	}
	json_decref(list);
	/* The archive: the instance's snapshots, which rollback --to reaches. */
	if ((err = snaplist_list(&in->cl, &list)))
		return err;
	json_array_foreach(list, i, c)
		if (strcmp(json_string_value(json_object_get(c, "instance")), in->name) == 0)
			json_array_append_new(*out, json_pack("{s:s, s:O, s:O, s:b, s:s, s:O, s:O}", "env", "archive",
							      "version", json_object_get(c, "version"), "created",
							      json_object_get(c, "created"), "active", 0, "state",
							      "archived", "file", json_object_get(c, "file"), "path",
							      json_object_get(c, "path")));
	json_decref(list);
	return NULL;
}
