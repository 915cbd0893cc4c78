/* envcopy: one environment of an instance made a copy of the other, as an
 * upgrade needs: its database (one consistent dump of the other's, loaded
 * as dbload.h does) and its files (real copies, treecopy.h).  What it held
 * before is gone; the caller holds writes if the source is in use. */
#ifndef KC_ENVCOPY_H
#define KC_ENVCOPY_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

const struct error *envcopy_run(struct engine *e, struct instance *in, const char *from, const char *to);

#endif
