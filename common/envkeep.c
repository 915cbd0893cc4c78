#include "envkeep.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "report.h"
#include "restore.h"
#include "snaplist.h"
#include "snapshot.h"

const struct error *envkeep_save(struct engine *e, struct instance *in, const char *env, int keep, char **path)
{
	const struct error *err;
	struct snapshot_result res = {0};
	int removed;

	*path = NULL;
	if (!in->env_version[instance_env_index(env)])
		return NULL;
	report_line("archiving environment %s (%s) before it is reused", env, in->env_version[instance_env_index(env)]);
	if ((err = snapshot_take(e, in, env, NULL, 0, &res)))
		goto out;
	report_line("archived to %s", res.path);
	/* The snapshot just made is the newest: pruning keeps it. */
	if (keep > 0 && (err = snaplist_prune(&in->cl, in->name, keep, &removed)))
		goto out;
	*path = res.path;
	res.path = NULL;
out:
	snapshot_result_free(&res);
	return error_wrap(err, "archiving environment %s", env);
}

const struct error *envkeep_clear(struct instance *in, const char *env)
{
	const char *active = strcmp(in->env, "blue") == 0 ? "blue" : "green";

	in->env_version[instance_env_index(env)] = NULL;
	in->env_created[instance_env_index(env)] = NULL;
	return error_wrap(instance_save(in, active), "recording environment %s as being filled", env);
}

const struct error *envkeep_restore(struct engine *e, struct instance *in, const char *env, const char *path,
				    const char *created)
{
	const struct error *err = NULL;
	struct restore *r = NULL;
	struct restore_result res = {0};
	/* in is reloaded by instance_save(): keep these as literals or copies. */
	const char *active = strcmp(in->env, "blue") == 0 ? "blue" : "green";
	char *when = created ? xstrdup(created) : NULL;
	int k = instance_env_index(env);

	if (!path) {
		err = envkeep_clear(in, env);
		goto out;
	}
	/* restore_run() stops the environment's containers itself. */
	report_line("putting environment %s back as it was, from %s", env, path);
	if ((err = restore_check(e, in, path, env, RESTORE_AS_IS, &r)) || (err = restore_run(r, &res)))
		goto out;
	in->env_version[k] = res.version;
	in->env_created[k] = when;
	err = instance_save(in, active);
out:
	restore_result_free(&res);
	restore_close(r);
	free(when);
	return error_wrap(err, "putting environment %s back", env);
}
