/* services: the cluster's shared services (its MySQL server, a search
 * server...) and front proxy, as containers on the cluster's network:
 * booted and waited for, their state and health, shut down.
 *
 * Each service runs as NAME_SERVICE (restart policy unless-stopped, labels
 * korcluster.cluster, korcluster.root, korcluster.role = SERVICE), its data
 * bind-mounted from services/SERVICE/, a MySQL root password as a file
 * from secrets/; no port is published on the host. */
#ifndef KC_SERVICES_H
#define KC_SERVICES_H

#include <jansson.h>

#include "clustercfg.h"
#include "engine.h"
#include "err.h"

/* The network, every service and the proxy made to exist and run the
 * configured images, then each waited for until ready.  *changed says
 * whether anything had to be started. */
const struct error *services_boot(struct engine *e, const struct cluster *cl, int *changed);
/* {cluster, template, folder, state: booted | down | partial, services:
 * [{name, container, image, state, health, detail}], proxy: {container,
 * state}, problems: ["service redis is exited", ...]}: from listed (the
 * cluster's containers, container_list_cluster(); NULL: listed now), plus
 * each running service's readiness check, where a command run inside is
 * only a TCP connect to its port unless live. */
const struct error *services_status(struct engine *e, const struct cluster *cl, json_t *listed, int live,
				    json_t **out);
/* Stop and remove every container of the cluster, instances before
 * services, and its network; *had says whether any was there. */
const struct error *services_shutdown(struct engine *e, const struct cluster *cl, int *had);

#endif
