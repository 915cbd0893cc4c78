/* proxy: the cluster's front proxy.
 *
 * One nginx container per cluster, NAME_proxy, in the host's network
 * namespace so that it can listen on any instance's port without being
 * recreated; it forwards each port to the fixed address of the instance's
 * active web container.  Its configuration lives in the cluster folder:
 * proxy/nginx.conf and proxy/conf.d/INSTANCE.conf (the instance's port, and
 * its hostnames on the cluster's http_port: routes.h), with
 * proxy/conf.d/_default.conf answering 404 to other hostnames while any
 * instance has a route; every change is
 * checked (nginx -t) and applied with a graceful reload (SIGHUP): requests
 * in flight finish on the old workers.  Writes to an instance (any method
 * but GET, HEAD, OPTIONS) are answered 503 with Retry-After while the file
 * proxy/hold/INSTANCE.writes exists, and 423 while
 * proxy/hold/INSTANCE.writes.locked does (instance.sh lock): holding them
 * or letting them through needs no reload (nginx looks for the file at
 * each request). */
#ifndef KC_PROXY_H
#define KC_PROXY_H

#include <jansson.h>

#include "clustercfg.h"
#include "engine.h"
#include "err.h"
#include "routes.h"

/* Write nginx.conf and make the proxy container exist and run; *changed
 * says whether it had to be started. */
const struct error *proxy_ensure(struct engine *e, const struct cluster *cl, int *changed);
/* The server blocks for an instance: its port, and its routes (may be
 * NULL) on the cluster's http_port and https_port (certificates from
 * proxy/tls/, ACME's challenges from proxy/acme/); caller frees.  With
 * front (the read-only frontend's address, else NULL), the hostnames not
 * marked admin are served from it through the instance's cache
 * (proxy/cache/NAME, answers 200, 301, 302 and 404 kept a minute, and
 * served stale while the frontend is away), GET and HEAD only: others get
 * 403; the port and the admin hostnames go to upstream, the full app. */
char *proxy_instance_conf(const char *instance, const struct cluster *cl, int port, const char *upstream,
			  const char *front, int upstream_port, const struct routes *routes);
/* Empty the instance's cache of the frontend's answers (proxy/cache/NAME):
 * the next request for each page goes to the frontend. */
const struct error *proxy_cache_clear(const struct cluster *cl, const char *instance);
/* Hold writes to instance (on), or let them through: takes effect at the
 * next request, while requests under way go on (proxy_drain() after a
 * reload waits for them). */
const struct error *proxy_hold(const struct cluster *cl, const char *instance, int on);
/* Whether writes to instance are held. */
int proxy_held(const struct cluster *cl, const char *instance);
/* Lock instance (on: writes are answered 423 until unlocked, across
 * restarts, upgrades and reboots), or unlock it: the file
 * proxy/hold/INSTANCE.writes.locked, looked for at each request; a
 * configuration written before locks existed needs proxy_set() again. */
const struct error *proxy_lock(const struct cluster *cl, const char *instance, int on);
int proxy_locked(const struct cluster *cl, const char *instance);
/* nginx -t of the configuration with conf as instance's, not installed:
 * run while the instance starts, so that proxy_set() of the same conf
 * next needs no check of its own. */
const struct error *proxy_check(struct engine *e, const struct cluster *cl, const char *instance, const char *conf);
/* Install conf for instance (NULL removes it), check it (nginx -t, unless
 * it is the file already there or proxy_check() passed it), reload.  On a bad check the previous
 * file is put back and nothing is reloaded. */
const struct error *proxy_set(struct engine *e, const struct cluster *cl, const char *instance, const char *conf);
/* After a change of routes of an instance not served: the catch-all for
 * unknown hostnames on http_port is there while any instance has a route
 * (checked and reloaded when that changes). */
const struct error *proxy_routes_changed(struct engine *e, const struct cluster *cl);
/* Check the whole configuration as it is on disk (renewed certificates
 * too) with nginx -t and reload gracefully; on return the old workers are
 * gone.  A refused check reloads nothing: what nginx loaded stays. */
const struct error *proxy_reload(struct engine *e, const struct cluster *cl);
/* The PIDs of the proxy's nginx workers, as keys of a new object. */
const struct error *proxy_workers(struct engine *e, const struct cluster *cl, json_t **pids);
/* Wait until the workers old (from proxy_workers() before a reload) have
 * finished their requests and exited: then only the configuration loaded
 * since is in force (after one that holds writes: none is under way).
 * interruptible: SIGINT/SIGTERM end the wait (not when cleaning up). */
const struct error *proxy_drain(struct engine *e, const struct cluster *cl, const json_t *old, int timeout,
				int interruptible);
/* Wait until bind:port answers GET path with 2xx (up) or refuses (down). */
const struct error *proxy_wait(const char *bind, int port, const char *path, int up, int timeout);

#endif
