/* container: what every container korcluster runs needs, whatever it is:
 * its image here (pulled with progress), and for the long-lived ones (the
 * shared services, the front proxy) one call that makes it exist, run the
 * wanted configuration and run. */
#ifndef KC_CONTAINER_H
#define KC_CONTAINER_H

#include <jansson.h>

#include "buf.h"
#include "clustercfg.h"
#include "engine.h"
#include "err.h"

/* Pull ref unless it is here, with progress on a terminal. */
const struct error *container_pull(struct engine *e, const char *ref);
/* Make the container name run cfg: create it, start it if stopped, or
 * replace it if its configuration changed (label korcluster.config).
 * Refuses a container of another cluster.  *changed says whether anything
 * was done. */
const struct error *container_ensure(struct engine *e, const struct cluster *cl, const char *name, json_t *cfg,
				     int *changed);
/* Every container of cluster cl the engine has (running or not), as it
 * lists them (GET /containers/json), the label korcluster.cluster the
 * filter; a container of another cluster of that name is in it too
 * (cluster_foreign() tells). */
const struct error *container_list_cluster(struct engine *e, const struct cluster *cl, json_t **out);
/* The last tail lines of a container's output into out (nothing if it
 * cannot be read). */
void container_last_output(struct engine *e, const char *name, int tail, struct buf *out);

#endif
