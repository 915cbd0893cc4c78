/* routing: changing an instance's routes (instance.sh route add|rm) and
 * bringing the front proxy in line.
 *
 * The rules: a hostname belongs to one instance of the cluster; an
 * instance has at most one primary route, the first hostname it is given
 * unless another is made primary; the primary route of an instance being
 * served cannot be removed (make another primary first).  Changes are
 * made under the cluster's routes lock (proxy/.lock), checked by the
 * proxy (nginx -t) and applied by a graceful reload; a refused change
 * leaves the routes and the proxy as they were. */
#ifndef KC_ROUTING_H
#define KC_ROUTING_H

#include "engine.h"
#include "err.h"
#include "clustercfg.h"
#include "instcfg.h"

/* Route host (any case: it is kept in lowercase) to in: served, or with
 * redirect (a URL) answered 301 there.  primary: it becomes the primary
 * route (an existing alias of in is promoted).  tls: over HTTPS, with the
 * certificate routes_tls_files() finds (an existing route gets it too).
 * admin: served by the full web process, where the template has a
 * read-only frontend (refused where it has none). */
const struct error *routing_add(struct engine *e, struct instance *in, const char *host, int primary,
				const char *redirect, int tls, int admin);
const struct error *routing_remove(struct engine *e, struct instance *in, const char *host);
/* The URL a route is reached at (http[s]://HOST[:PORT]/, in lowercase);
 * caller frees. */
char *routing_url(const struct instance *in, const char *host, int tls);

/* cluster.sh reload: the certificates and keys of every TLS route
 * checked, then the proxy's whole configuration (nginx -t) and a graceful
 * reload; refused, nginx goes on with what it loaded. */
const struct error *routing_reload(struct engine *e, const struct cluster *cl);

#endif
