/* pool: instances made ahead, so that "new" takes one in a moment.
 *
 *   CLUSTER/pool/size        how many "pool" keeps (a number; absent: 0)
 *   CLUSTER/pool/ID/         an instance's folder (instcfg.h) named ID,
 *                            "pool_" and 8 random letters and digits, at
 *                            the template's default version: its database
 *                            ID_blue (and ID_green), its user ID, its
 *                            secrets, the template's setup done; port 0
 *   CLUSTER/pool/ID/ready    written last: only then can "new" take it
 *
 * "new NAME" takes a ready one of its version: instance.ini gets the name,
 * port, slot and description and keeps the database and user (db_user and
 * [env.ENV] database), then the folder moves to instances/NAME by one
 * rename.  Containers are made by "start", as for any instance: their
 * names and configuration carry the instance's name and port.  When the
 * template names a search index after the instance, the pooled one is
 * dropped and post_setup runs again under the new name.
 *
 * Filling holds the pool's lock (pool/.lock) while it makes instances, so
 * "new" (the cluster's lock) goes on meanwhile; what it removes that "new"
 * could take, it removes under the cluster's lock.  A folder without ready
 * is an interrupted fill's: the next fill removes it, its database and
 * user (named after its folder). */
#ifndef KC_POOL_H
#define KC_POOL_H

#include "clustercfg.h"
#include "err.h"

struct pool_state {
	int size;      /* how many it keeps */
	int ready;     /* ready at the default version */
	int other;     /* ready at another version (the next fill removes them) */
};

/* How the pool stands, without a lock. */
const struct error *pool_state(const struct cluster *cl, struct pool_state *out);
/* Keep size instances ready (size < 0: the size kept in pool/size), making
 * or removing as needed; *out says how it stands after. */
const struct error *pool_fill(const struct cluster *cl, int size, struct pool_state *out);
/* Make instance name of version on port (text as given) from a ready one
 * of the pool, with description (or NULL).  *taken is 0 when the pool
 * holds none of that version: nothing was done then.  On failure after the
 * move, the new instance is removed whole (as a failed "new"). */
const struct error *pool_take(const struct cluster *cl, const char *name, const char *version, const char *port,
			      const char *description, int *taken);

#endif
