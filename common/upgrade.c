#include "upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "err.h"
#include "fs.h"
#include "progress.h"
#include "runtime.h"

/* ---- the journal ---- */

static char *journal_path(const struct instance *in)
{
	return fs_pathf("%s/upgrade.journal", in->root);
}

/* {op, from, to, version, step, served, copied} */
static int journal_write(const struct instance *in, json_t *j, const char *step)
{
	char *path = journal_path(in), *text;
	int rc = -1;

	json_object_set_new(j, "step", json_string(step));
	if (path && (text = json_dumps(j, JSON_COMPACT))) {
		rc = fs_write_atomic(path, text, strlen(text), 0600);
		free(text);
	}
	free(path);
	return rc;
}

/* Every field a journal may hold, each of its kind: its values go into
 * messages and instance.ini. */
static int journal_check(json_t *j)
{
	static const char *const steps[] = {"prepare", "copy", "migrate", "start", "switched", NULL};
	const char *op = json_string_value(json_object_get(j, "op"));
	const char *from = json_string_value(json_object_get(j, "from"));
	const char *to = json_string_value(json_object_get(j, "to"));
	const char *step = json_string_value(json_object_get(j, "step"));
	const char *version = json_string_value(json_object_get(j, "version"));
	json_t *previous = json_object_get(j, "previous"), *created = json_object_get(j, "created");
	int known = 0;

	if (!op || !from || !to || !step || !version || (strcmp(op, "upgrade") && strcmp(op, "rollback")) ||
	    (strcmp(from, "blue") && strcmp(from, "green")) || strcmp(to, instance_other_env(from)) != 0 ||
	    instance_check_version(version) < 0)
		return -1;
	for (size_t i = 0; steps[i]; i++)
		known |= strcmp(step, steps[i]) == 0;
	if (!known || (previous && (!json_is_string(previous) || instance_check_version(json_string_value(previous)) < 0)) ||
	    (created && !json_is_null(created) &&
	     (!json_is_string(created) || instance_check_time(json_string_value(created)) < 0)))
		return -1;
	return 0;
}

static void journal_remove(const struct instance *in)
{
	char *path = journal_path(in);

	if (path)
		unlink(path);
	free(path);
}

/* ---- the steps ---- */

/* Stop every process of env but the web: background jobs write too. */
static int stop_background(struct engine *e, struct instance *in, const char *env)
{
	for (size_t i = 0; i < in->cl.tpl.nproc; i++)
		if (strcmp(in->cl.tpl.proc[i].name, "web") != 0 &&
		    runtime_stop_process(e, in, env, in->cl.tpl.proc[i].name) < 0)
			return err_wrap("stopping \"%s\" of environment %s", in->cl.tpl.proc[i].name, env);
	return 0;
}

/* Put back what a failed or killed operation changed: the new environment
 * goes, the old one gets its processes and writes back.  When the copy had
 * begun, the inactive environment no longer holds its earlier state. */
static void undo(struct engine *e, struct instance *in, const char *from, const char *to, int served, int copied)
{
	char why[2048];

	/* The reason of the failure is what the command reports. */
	snprintf(why, sizeof why, "%s", err_msg());
	if (runtime_stop(e, in, to) < 0)
		fprintf(stderr, "korcluster: warning: removing environment %s: %s\n", to, err_msg());
	if (served) {
		/* The background processes were stopped, or are being stopped by
		 * the engine for a command that is gone: they start afresh. */
		if (stop_background(e, in, from) < 0 || runtime_resume(e, in, from) < 0)
			fprintf(stderr, "korcluster: warning: restarting environment %s: %s\n", from, err_msg());
		if (runtime_route(e, in, from, 0) < 0)
			fprintf(stderr, "korcluster: warning: letting writes through to %s: %s\n", from, err_msg());
	}
	if (copied) {
		in->env_version[instance_env_index(to)] = NULL;
		in->env_created[instance_env_index(to)] = NULL;
		if (instance_save(in, from) < 0)
			fprintf(stderr, "korcluster: warning: recording environment %s as empty: %s\n", to, err_msg());
	}
	err_set("%s", why);
}

/* The switch has happened: record it, then stop the old environment. */
static int finish(struct engine *e, struct instance *in, const char *from, const char *to, const char *version,
		  const char *created)
{
	in->env_version[instance_env_index(to)] = version;
	in->env_created[instance_env_index(to)] = created;
	if (instance_save(in, to) < 0)
		return err_wrap("recording environment %s as active", to);
	journal_remove(in);
	if (runtime_stop(e, in, from) < 0)
		fprintf(stderr, "korcluster: warning: stopping environment %s: %s\n", from, err_msg());
	return 0;
}

int upgrade_run(struct engine *e, struct instance *in, const char *version, int keep)
{
	const char *from = in->env, *to = instance_other_env(in->env);
	char *old = strdup(in->version), *ver = strdup(version), *now = NULL, *image = NULL;
	const char *had = in->env_version[instance_env_index(to)];
	json_t *j = NULL;
	struct backup_result res = {0};
	double t0 = progress_now(), held_at = 0, held = 0, took = 0;
	int served = runtime_served(in), copied = 0, journaled = 0, rc = -1, removed;

	/* in is reloaded by instance_save(): keep from/to as literals. */
	from = strcmp(from, "blue") == 0 ? "blue" : "green";
	if (!old || !ver || instance_check_version(version) < 0)
		goto out;
	if (strcmp(version, in->version) == 0) {
		err_set("instance \"%s\" runs %s already", in->name, version);
		goto out;
	}
	/* What the active environment holds (older instance.ini files do not
	 * say), so that rollback can return to it. */
	if (!in->env_version[instance_env_index(from)])
		in->env_version[instance_env_index(from)] = old;
	/* 1. Before it is reused, the inactive environment is archived. */
	if (in->env_version[instance_env_index(to)]) {
		printf("archiving environment %s (%s) before it is reused\n", to, in->env_version[instance_env_index(to)]);
		fflush(stdout);
		if (backup_snapshot(e, in, to, NULL, 0, &res) < 0)
			goto out;
		printf("archived to %s\n", res.path);
		if (keep > 0 && backup_prune(&in->cl, in->name, keep, &removed) < 0)
			goto out;
	}
	/* 2. The new version's image. */
	in->env_version[instance_env_index(to)] = ver;
	if (!(image = runtime_image(in, to)) || runtime_pull(e, image) < 0)
		goto out;
	if (!(j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "op", "upgrade", "from", from, "to", to, "version", ver,
			    "previous", old, "served", served)) ||
	    journal_write(in, j, "prepare") < 0)
		goto out;
	journaled = 1;
	/* 3. Stop background jobs (they queue meanwhile), hold writes; copy the
	 * database and files. */
	if (served) {
		printf("stopping background processes, then holding writes to \"%s\" (reads go on)\n", in->name);
		fflush(stdout);
		if (stop_background(e, in, from) < 0 || runtime_route(e, in, from, 1) < 0)
			goto out;
		held_at = progress_now();
	}
	copied = 1;
	if (journal_write(in, j, "copy") < 0 || runtime_stop(e, in, to) < 0 || backup_copy_env(e, in, from, to) < 0)
		goto out;
	/* 4. Migrate the copy. */
	printf("migrating environment %s to %s\n", to, version);
	fflush(stdout);
	if (journal_write(in, j, "migrate") < 0 || runtime_task(e, in, to, "migrate", in->cl.tpl.migrate, "") < 0)
		goto out;
	/* 5. Start it, wait until healthy, switch. */
	if (!(now = instance_now()))
		goto out;
	if (served) {
		printf("starting environment %s (%s)\n", to, version);
		fflush(stdout);
		if (journal_write(in, j, "start") < 0 || runtime_promote(e, in, to, &took) < 0)
			goto out;
		held = progress_now() - held_at;
		if (journal_write(in, j, "switched") < 0)
			goto out;
		printf("environment %s (%s) is healthy and serving; writes go through again\n", to, version);
		fflush(stdout);
	}
	/* 6. Record the switch; stop the old environment, keep its data. */
	if (finish(e, in, from, to, ver, now) < 0)
		goto out;
	printf("instance \"%s\" runs %s on environment %s (upgraded from %s in %.1f s", in->name, version, to, old,
	       progress_now() - t0);
	if (served)
		printf("; healthy after %.1f s; writes held %.1f s", took, held);
	printf(")\n%s keeps %s as it was: \"instance.sh rollback\" goes back to it\n", from, old);
	rc = 0;
out:
	if (rc < 0) {
		err_wrap("upgrading instance \"%s\" to %s (it still runs %s on %s)", in->name, version, old ? old : "?",
			 from);
		if (journaled)
			undo(e, in, from, to, served, copied);
		journal_remove(in);
		if (!copied) /* ver is freed below */
			in->env_version[instance_env_index(to)] = had;
	}
	backup_result_free(&res);
	json_decref(j);
	free(image);
	free(now);
	free(old);
	free(ver);
	return rc;
}

int upgrade_rollback(struct engine *e, struct instance *in)
{
	const char *from = strcmp(in->env, "blue") == 0 ? "blue" : "green", *to = instance_other_env(from);
	char *version = in->env_version[instance_env_index(to)] ? strdup(in->env_version[instance_env_index(to)]) : NULL;
	char *created = in->env_created[instance_env_index(to)] ? strdup(in->env_created[instance_env_index(to)])
								 : NULL;
	char *cur = strdup(in->version), *dir = instance_data_dir(in, to);
	json_t *j = NULL;
	double took = 0;
	int served = runtime_served(in), journaled = 0, rc = -1;

	if (!cur || !dir)
		goto out;
	if (!version || !fs_is_dir(dir)) {
		err_set("environment %s holds nothing to go back to", to);
		goto out;
	}
	if (!(j = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b}", "op", "rollback", "from", from, "to", to, "version",
			    version, "created", created, "served", served)) ||
	    journal_write(in, j, "prepare") < 0)
		goto out;
	journaled = 1;
	if (served) {
		/* Writes from now on would be lost with the environment left. */
		if (runtime_route(e, in, from, 1) < 0)
			goto out;
		printf("starting environment %s (%s)\n", to, version);
		fflush(stdout);
		if (journal_write(in, j, "start") < 0 || runtime_promote(e, in, to, &took) < 0)
			goto out;
		if (journal_write(in, j, "switched") < 0)
			goto out;
	}
	if (finish(e, in, from, to, version, created) < 0)
		goto out;
	printf("instance \"%s\" runs %s on environment %s again (rolled back from %s)\n", in->name, version, to, cur);
	rc = 0;
out:
	if (rc < 0) {
		err_wrap("rolling back instance \"%s\"", in->name);
		if (journaled)
			undo(e, in, from, to, served, 0);
		journal_remove(in);
	}
	json_decref(j);
	free(version);
	free(created);
	free(cur);
	free(dir);
	return rc;
}

int upgrade_recover(struct engine *e, struct instance *in, int *did)
{
	char *path = journal_path(in), *text = NULL, *version = NULL, *created = NULL;
	size_t len;
	json_t *j = NULL;
	json_error_t je;
	const char *op, *from, *to, *step;
	int served, rc = -1;

	*did = 0;
	if (!path)
		return -1;
	if (!fs_exists(path)) {
		/* No upgrade under way: maybe what a killed snapshot or import left. */
		free(path);
		return backup_cleanup(e, in, 0, did);
	}
	if (fs_read(path, &text, &len) < 0)
		goto out;
	if (!(j = json_loadb(text, len, 0, &je)) || journal_check(j) < 0) {
		err_set("%s is damaged; look at it, then remove it", path);
		goto out;
	}
	op = json_string_value(json_object_get(j, "op"));
	from = json_string_value(json_object_get(j, "from"));
	step = json_string_value(json_object_get(j, "step"));
	served = json_is_true(json_object_get(j, "served"));
	from = strcmp(from, "blue") == 0 ? "blue" : "green";
	to = instance_other_env(from);
	if (!(version = strdup(json_string_value(json_object_get(j, "version")))))
		goto out;
	if (strcmp(step, "switched") == 0) {
		/* The proxy serves the new environment: finish the job. */
		if (json_is_string(json_object_get(j, "created")))
			created = strdup(json_string_value(json_object_get(j, "created")));
		else
			created = instance_now();
		if (!created || finish(e, in, from, to, version, created) < 0)
			goto out;
		printf("korcluster: finished an interrupted %s of \"%s\": it serves %s on %s\n", op, in->name, version,
		       to);
	} else {
		int copied = strcmp(op, "upgrade") == 0 && strcmp(step, "prepare") != 0, left;

		undo(e, in, from, to, served, copied);
		if (backup_cleanup(e, in, copied, &left) < 0)
			goto out;
		journal_remove(in);
		printf("korcluster: undid an interrupted %s of \"%s\" to %s: it %s %s on %s\n", op, in->name, version,
		       served ? "serves" : "keeps", in->version, from);
	}
	fflush(stdout);
	*did = 1;
	rc = 0;
out:
	if (rc < 0)
		err_wrap("recovering instance \"%s\" from an interrupted upgrade", in->name);
	json_decref(j);
	free(text);
	free(path);
	free(version);
	free(created);
	return rc;
}

json_t *upgrade_envs(struct engine *e, struct instance *in)
{
	json_t *out = json_array(), *list = NULL, *c;
	size_t i;

	if (runtime_containers(e, in, &list) < 0) {
		json_decref(out);
		return NULL;
	}
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
			out, json_pack("{s:s, s:s?, s:s?, s:b, s:s}", "env", env, "version",
				       strcmp(env, in->env) == 0 ? in->version : in->env_version[k], "created",
				       in->env_created[k], "active", strcmp(env, in->env) == 0, "state",
				       !total ? (in->env_version[k] || strcmp(env, in->env) == 0 ? "stopped" : "empty")
					      : running == total ? "running" : "partial"));
	}
	json_decref(list);
	return out;
}
