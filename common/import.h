/* import: a snapshot restored into an instance and served.
 *
 * The inactive environment is archived first (envkeep.h), then the
 * snapshot is restored into it (restore.h), migrated if older; a served
 * instance's new environment is started, checked healthy, and only then
 * does the proxy switch to it.  The active environment serves reads and
 * writes until the switch and stays as it was, as the rollback target; any
 * failure leaves it serving and puts the inactive one back as it was. */
#ifndef KC_IMPORT_H
#define KC_IMPORT_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* keep > 0: after archiving the inactive environment, keep the newest keep
 * snapshots of the instance. */
const struct error *import_run(struct engine *e, struct instance *in, const char *path, int keep);

#endif
