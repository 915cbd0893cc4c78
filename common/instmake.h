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
#include "db.h"
#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* What fills a new instance while everything made so far can still be
 * undone. */
typedef const struct error *(*instmake_fill)(void *ctx, struct engine *e, struct instance *in);

/* A new instance's inputs: name (the pattern, and not one of MySQL's own
 * users), version (one the template runs), port (text as given, into
 * *port) and description (or NULL). */
const struct error *instmake_check(const struct cluster *cl, const char *name, const char *version,
				   const char *portarg, const char *description, int *port);
/* Where a new instance name goes: name free (among the instances and the
 * pool), port free among the instances' and the cluster's and on the host;
 * *slot: the first free fixed-address slot.  The caller holds the
 * cluster's lock. */
const struct error *instmake_place(const struct cluster *cl, const char *name, int port, int *slot);
/* dir/instance.sh, a link to this binary. */
const struct error *instmake_link(const char *dir);
/* The making itself, under the caller's lock, with e and db open: user
 * name and its databases NAME_blue and NAME_green with new secrets, folder
 * dir (port 0 and no link for the pool), then fill.  On failure what it
 * made is removed; *left is set when the databases and user could not be
 * (said as a warning). */
const struct error *instmake_make(struct engine *e, struct db *db, const char *dir, const char *name,
				  const char *version, int port, int slot, const char *description, instmake_fill fill,
				  void *ctx, int *left);
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
