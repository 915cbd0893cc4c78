/* upgrade: blue/green upgrades, rollback, and recovery from a killed one.
 *
 * An upgrade prepares the inactive environment while the active one serves
 * reads: a consistent copy of the database, a copy of the files, the
 * template's migrate, the new version's containers, a health check; only
 * then does the proxy switch (a graceful reload) and the old environment
 * stop, its database and files kept as they were, for rollback.  From the
 * copy to the switch, writes get 503 with Retry-After from the proxy and
 * the old environment's background processes are stopped, so no write is
 * accepted and then lost.  Any failure (or SIGINT/SIGTERM) removes the new
 * environment and lets writes through to the old one again.
 *
 * A journal, instances/NAME/upgrade.journal, records the step under way;
 * the next command on the instance finds one left by a killed korcluster
 * and finishes the switch if it had happened, or undoes the rest. */
#ifndef KC_UPGRADE_H
#define KC_UPGRADE_H

#include <jansson.h>

#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* keep > 0: after archiving the inactive environment, keep the newest keep
 * snapshots of the instance. */
const struct error *upgrade_run(struct engine *e, struct instance *in, const char *version, int keep);
/* Switch back to the other environment, with its database and files as
 * they were at the switch away from it. */
const struct error *upgrade_rollback(struct engine *e, struct instance *in);
/* Finish or undo what a killed upgrade or rollback left, or clear what a
 * killed snapshot or import left (leftover.h); *did says whether there was
 * anything. */
const struct error *upgrade_recover(struct engine *e, struct instance *in, int *did);
/* [{env, version, created, active, state}] for blue and green. */
const struct error *upgrade_envs(struct engine *e, struct instance *in, json_t **out);

#endif
