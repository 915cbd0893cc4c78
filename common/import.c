#include "import.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envkeep.h"
#include "fs.h"
#include "mem.h"
#include "report.h"
#include "restore.h"
#include "runtime.h"

const struct error *import_run(struct engine *e, struct instance *in, const char *path, int keep)
{
	const struct error *err, *e2;
	struct restore *r = NULL;
	struct restore_result res = {0};
	/* in is reloaded by instance_save(): keep these as literals or copies. */
	const char *target = strcmp(in->env, "blue") == 0 ? "green" : "blue", *active = instance_other_env(target);
	const char *had = in->env_created[instance_env_index(target)];
	char *kept = NULL, *now = NULL, *extra = xasprintf("%s/imported", in->root);
	char *had_created = had ? xstrdup(had) : NULL;
	int served = runtime_served(in), started = 0;
	double t0 = clock_seconds();
	struct runtime_times took;

	/* 1. What the archive is of, before anything changes (a snapshot
	 * korcluster made is checked whole as step 3 reads it; any other
	 * archive is checked whole here). */
	if ((err = restore_check(e, in, path, target, RESTORE_MIGRATE, &r)))
		goto out;
	/* 2. What the inactive environment holds is archived: the way back
	 * to it survives whatever happens next. */
	if ((err = envkeep_save(e, in, target, keep, &kept)))
		goto out;
	/* 3. The snapshot into it.  The active one serves reads and writes
	 * meanwhile: a hostile dump cannot hold them for as long as its load
	 * takes (which is bounded, [limits]); a check that fails on the way
	 * stops it, and the inactive environment is put back (below). */
	if ((err = envkeep_clear(in, target)) || (err = restore_run(r, &res)))
		goto out;
	/* 4. Switch: start, wait until healthy, route, then stop the old one. */
	if (served) {
		started = 1;
		if ((err = runtime_promote(e, in, target, &took)))
			goto out;
		report_line("environment %s is serving: started and switched in %.1f s (containers %.1f s, health %.1f s, "
			    "route %.1f s)",
			    target, took.start + took.healthy + took.route, took.start, took.healthy, took.route);
	}
	now = instance_now();
	in->env_version[instance_env_index(target)] = res.version;
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
	if (kept)
		report_line("what %s held before is archived in %s", target, kept);
	if (res.legacy && fs_nonempty_dir(extra) > 0)
		report_line("KorCluster's configuration files are in %s", extra);
out:
	if (err) {
		err = error_wrap(err, "importing \"%s\" into instance \"%s\"", path, in->name);
		/* The active environment serves as before; the inactive one
		 * goes back to what it held. */
		/* A scheduler, stopped for the target's, runs again. */
		if (started && !runtime_stop(e, in, target))
			runtime_resume_scheduler(e, in, active);
		if (res.changed && (e2 = envkeep_restore(e, in, target, kept, had_created)))
			report_warn("%s%s%s", e2->msg, kept ? "; it is archived in " : "", kept ? kept : "");
	}
	restore_result_free(&res);
	restore_close(r);
	free(kept);
	free(now);
	free(extra);
	free(had_created);
	return err;
}
