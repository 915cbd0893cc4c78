/* leftover: what a killed snapshot, import or environment copy of an
 * instance left, put right by the next command on the instance: writes
 * held at the proxy, work trees, partial archives and dump folders in
 * snapshots/ (and their dump containers), staging folders
 * (data/ENV.import), temporary loading users, and containers an upgrade
 * started ahead in the inactive environment, waiting at its shut gate. */
#ifndef KC_LEFTOVER_H
#define KC_LEFTOVER_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* loads: drop the instance's loading users even without a staging folder
 * (a killed upgrade's copy).  *did says whether there was anything.  The
 * caller holds the instance's lock. */
const struct error *leftover_clear(struct engine *e, struct instance *in, int loads, int *did);

#endif
