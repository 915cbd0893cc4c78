/* envkeep: the way back survives failures.
 *
 * Before an upgrade, an import or a rollback to a snapshot reuses the
 * inactive environment, what it holds is archived: a snapshot in the
 * cluster's snapshots/ folder (snapshot.h; the instance's snapshots are its
 * archive of environments, which "rollback --to" reaches).  When the
 * operation then fails, the environment is put back from that snapshot, at
 * its own version, so that "rollback" finds it as it was. */
#ifndef KC_ENVKEEP_H
#define KC_ENVKEEP_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* Archive env if it holds a version; *path: the snapshot (caller frees),
 * NULL when env held nothing.  keep > 0: then keep only the newest keep
 * snapshots of the instance. */
const struct error *envkeep_save(struct engine *e, struct instance *in, const char *env, int keep, char **path);
/* Record env as empty in instance.ini, just before it changes: until it is
 * filled or put back, nothing offers it as a way back (its archive does). */
const struct error *envkeep_clear(struct instance *in, const char *env);
/* Put env back as envkeep_save() found it: restored from path, with its
 * version and creation time recorded again (created may be NULL); with
 * path NULL, recorded as empty.  The active environment is not touched. */
const struct error *envkeep_restore(struct engine *e, struct instance *in, const char *env, const char *path,
				    const char *created);

#endif
