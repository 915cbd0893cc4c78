/* routes: the hostnames an instance is served on, beside its own port.
 *
 *   CLUSTER/instances/NAME/routes   one route a line, written whole
 *                                   (atomically) by routes_save():
 *     HOST primary [admin] [tls]   the instance's main hostname (at most one)
 *     HOST alias [admin] [tls]     served the same
 *     HOST redirect URL [tls]      answered 301 to URL (URL$request_uri when
 *                                  URL has no path)
 *   "admin": when the template has a read-only frontend (template.h), the
 *   hostnames without it are served by the frontend through the proxy's
 *   cache, those with it by the full web process.
 *   "tls": served over HTTPS on the cluster's https_port with the
 *   certificate proxy/tls/HOST.crt and key HOST.key, else the cluster's
 *   _cluster.crt and _cluster.key; plain HTTP then redirects there.
 *   Lines starting with "#" are comments.  A missing file: no routes.
 * The front proxy serves them by Host header on the cluster's http_port
 * (proxy_instance_conf()); a hostname belongs to one instance of the
 * cluster, which routes_owner() tells. */
#ifndef KC_ROUTES_H
#define KC_ROUTES_H

#include <stddef.h>

#include "clustercfg.h"
#include "err.h"

enum route_kind { ROUTE_PRIMARY, ROUTE_ALIAS, ROUTE_REDIRECT };

struct route {
	char *host;   /* owned; checked by name_check_host() */
	enum route_kind kind;
	char *target; /* owned; the redirect's URL, else NULL */
	int tls;
	int admin;    /* served by the full web process (see above) */
};

struct routes {
	struct route *v;
	size_t n;
};

#define ROUTES_INIT {NULL, 0}

/* Read dir/routes (dir: an instance's folder); every line is checked, and
 * a file that does not parse is refused whole. */
const struct error *routes_load(const char *dir, struct routes *r);
/* Write dir/routes atomically (mode 0644); no routes removes the file. */
const struct error *routes_save(const char *dir, const struct routes *r);
/* The route for host, or NULL. */
struct route *routes_find(const struct routes *r, const char *host);
/* Add a route (host and target copied); the caller has checked both. */
void routes_add(struct routes *r, const char *host, enum route_kind kind, const char *target, int tls);
/* Remove the route for host, if there is one. */
void routes_remove(struct routes *r, const char *host);
/* The primary route, or NULL. */
const struct route *routes_primary(const struct routes *r);
/* "primary", "alias", "redirect". */
const char *routes_kind_name(enum route_kind kind);
/* The instance of cluster cl, other than self, that has a route for host:
 * its name in *owner (the caller's), or NULL. */
const struct error *routes_owner(const struct cluster *cl, const char *self, const char *host, char **owner);
/* Whether any instance of cl has a route, and one over TLS. */
const struct error *routes_any(const struct cluster *cl, int *any, int *any_tls);
/* The certificate and key a TLS route for host is served with, as names
 * under proxy/tls/ (HOST.crt or _cluster.crt; the caller frees both); an
 * error when neither pair is there whole or a key may be read by others
 * than its owner. */
const struct error *routes_tls_files(const struct cluster *cl, const char *host, char **crt, char **key);
void routes_free(struct routes *r);

#endif
