/* instmake: an instance made and removed.
 *
 * Made: every input checked first (name, version, port free among the
 * cluster's instances and on the host at its bind address); then its
 * database (NAME_blue) and user granted on NAME_blue and NAME_green, its
 * folder (instance.ini with its secrets, mode 0600; the instance.sh link;
 * data/blue/; log/), and its content: the template's setup, or a snapshot
 * imported (clone).  On any failure nothing is kept: no database, no user,
 * no folder.  One make or removal at a time per cluster (its lock). */
#ifndef KC_INSTMAKE_H
#define KC_INSTMAKE_H

#include "clustercfg.h"
#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* What fills a new instance while everything made so far can still be
 * undone. */
typedef const struct error *(*instmake_fill)(void *ctx, struct engine *e, struct instance *in);

/* The template's setup, run once in a one-off container. */
const struct error *instmake_setup(void *ctx, struct engine *e, struct instance *in);
/* Make instance name of version on port (text as given: checked here),
 * with description (or NULL). */
const struct error *instmake_create(const struct cluster *cl, const char *name, const char *version, const char *port,
				    const char *description, instmake_fill fill, void *ctx);
/* Make instance name from src's current state, taken online (src keeps
 * serving): its own database, user, secrets and port, src's version;
 * left stopped. */
const struct error *instmake_clone(const struct cluster *cl, const char *src, const char *name, const char *port,
				   const char *description);
/* Remove instance name: its port from the proxy, its containers, its
 * databases and user, its folder. */
const struct error *instmake_destroy(const struct cluster *cl, const char *name);

#endif
