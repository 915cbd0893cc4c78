/* import: a snapshot restored into an instance.
 *
 * The archive is verified whole (archread.h), then restored into the
 * inactive environment: its database (loaded as dbload.h does) and
 * data/ENV; an older snapshot is migrated; a served instance's new
 * environment is started, checked healthy, and only then does the proxy
 * switch to it.  The active environment serves reads and writes until the
 * switch and stays as it was, as the rollback target; any failure leaves it
 * serving.  KorCluster's snapshots are taken too; their config files go to
 * instances/NAME/imported/. */
#ifndef KC_IMPORT_H
#define KC_IMPORT_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

const struct error *import_run(struct engine *e, struct instance *in, const char *path);

#endif
