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
 * environment and lets writes through to the old one again; what the
 * inactive environment held before is archived first and put back.
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
 * snapshots of the instance.  A failure puts the inactive environment back
 * as it was (envkeep.h). */
const struct error *upgrade_run(struct engine *e, struct instance *in, const char *version, int keep);
/* Switch to what "what" names, started and checked healthy as an upgrade
 * is: NULL or the inactive environment's name, as it was at the switch
 * away from it; a VERSION the inactive environment or (the newest of) the
 * instance's snapshots holds; a snapshot's file name or path, restored at
 * its own version into the inactive environment, which is archived first
 * (keep as for upgrade_run). */
const struct error *upgrade_rollback(struct engine *e, struct instance *in, const char *what, int keep);
/* Finish or undo what a killed upgrade or rollback left, or clear what a
 * killed snapshot or import left (leftover.h); *did says whether there was
 * anything. */
const struct error *upgrade_recover(struct engine *e, struct instance *in, int *did);
/* [{env, version, created, active, state}] for blue and green, then
 * {env: "archive", version, created, file, path, state: "archived"} for
 * each snapshot of the instance, newest first. */
const struct error *upgrade_envs(struct engine *e, struct instance *in, json_t **out);

#endif
