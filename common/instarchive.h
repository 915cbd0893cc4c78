/* instarchive: an instance put away (cluster.sh archive) and brought back
 * (cluster.sh restore).
 *
 * Archiving stops the instance (nothing is written after its snapshot),
 * takes a final snapshot of the active environment into
 * instances/NAME/archive.tar.zst, reads it back whole (every checksum),
 * marks the instance archived in instance.ini, and only then removes its
 * proxy files, databases, user, search indexes and files.  The folder stays,
 * with instance.ini (secrets, port, routes, description): the instance is
 * listed as archived and commands other than restore and destroy refuse it.
 * Restoring makes its databases and user again, restores the snapshot into
 * the active environment at its own version, and leaves it stopped; the
 * snapshot then moves to snapshots/ as the instance's newest.  A failure at
 * any step leaves the instance as it was before that command: serving again
 * (or stopped) with its data, or archived with its snapshot. */
#ifndef KC_INSTARCHIVE_H
#define KC_INSTARCHIVE_H

#include "clustercfg.h"
#include "err.h"

const struct error *instarchive_take(const struct cluster *cl, const char *name);
const struct error *instarchive_restore(const struct cluster *cl, const char *name);

#endif
