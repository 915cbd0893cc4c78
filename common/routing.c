#include "routing.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "instances.h"
#include "lock.h"
#include "mem.h"
#include "name.h"
#include "probe.h"
#include "proxy.h"
#include "routes.h"
#include "runtime.h"

/* s in lowercase (hostnames are compared so); caller frees. */
static char *lowered(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

char *routing_url(const struct instance *in, const char *host, int tls)
{
	char port[16] = "", *name = lowered(host), *url;

	if (tls ? in->cl.https_port != 443 : in->cl.http_port != 80)
		snprintf(port, sizeof port, ":%d", tls ? in->cl.https_port : in->cl.http_port);
	url = xasprintf("%s://%s%s/", tls ? "https" : "http", name, port);
	free(name);
	return url;
}

/* The routes lock: one change of the cluster's hostnames at a time. */
static const struct error *take(const struct cluster *cl, int *lock)
{
	const struct error *err;
	char *dir = cluster_path(cl, "proxy");

	if (!(err = fs_mkdirs(dir, 0755)))
		err = lock_take(dir, "the cluster's routes", lock);
	free(dir);
	return err;
}

/* No instance may have the hostnames' port as its own. */
static const struct error *port_unused(const struct instance *in)
{
	const struct error *err;
	struct strv names = STRV_INIT;
	struct taken t;

	if ((err = instances_scan(&in->cl, &names, &t)))
		return err;
	for (size_t i = 0; i < t.n && !err; i++)
		if (t.ports[i] == in->cl.http_port || t.ports[i] == in->cl.https_port)
			err = error_fmt("instance \"%s\" is served on port %d, a port of the cluster's hostnames: set "
					"another %s in cluster.ini",
					names.v[i], t.ports[i], t.ports[i] == in->cl.http_port ? "http_port" : "https_port");
	instances_taken_free(&t);
	strv_free(&names);
	return err;
}

/* Save r as in's routes and make the proxy serve them; on failure the
 * routes before (old) are put back (the proxy's files are already: a
 * change it refuses or fails to load leaves them as they were). */
static const struct error *apply(struct engine *e, struct instance *in, const struct routes *r,
				 const struct routes *old)
{
	const struct error *err;

	if ((err = routes_save(in->root, r)))
		return err;
	err = runtime_served(in) ? runtime_route(e, in, in->env, 0) : proxy_routes_changed(e, &in->cl);
	if (err)
		routes_save(in->root, old);
	return err;
}

const struct error *routing_add(struct engine *e, struct instance *in, const char *given, int primary,
				const char *redirect, int tls, int admin)
{
	const struct error *err;
	struct routes r = ROUTES_INIT, old = ROUTES_INIT;
	struct route *rt;
	char *host = lowered(given), *owner = NULL, *crt = NULL, *key = NULL;
	int lock = -1, any = 0, any_tls = 0;

	if ((err = name_check_host(host)) || (redirect && (err = name_check_url(redirect))))
		goto out;
	if (primary && redirect) {
		err = error_new(ERR_USAGE, "a redirect cannot be the primary route");
		goto out;
	}
	if (admin && redirect) {
		err = error_new(ERR_USAGE, "a redirect serves nothing: it cannot be admin");
		goto out;
	}
	if (admin && !template_frontend(&in->cl.tpl)) {
		err = error_fmt("template \"%s\" has no read-only frontend: every hostname is served by the full app",
				in->cl.template_name);
		goto out;
	}
	if ((err = take(&in->cl, &lock)) || (err = routes_load(in->root, &r)) || (err = routes_load(in->root, &old)) ||
	    (err = routes_owner(&in->cl, in->name, host, &owner)) || (err = port_unused(in)) ||
	    (err = routes_any(&in->cl, &any, &any_tls)) ||
	    (tls && (err = routes_tls_files(&in->cl, host, &crt, &key))))
		goto out;
	if (owner) {
		err = error_fmt("hostname \"%s\" is routed to instance \"%s\"; remove it there first", host, owner);
		goto out;
	}
	/* The first route of the cluster makes the proxy listen on the port
	 * (and the first over TLS on the other). */
	if (!any && (err = probe_port_free(in->cl.bind, in->cl.http_port))) {
		err = error_wrap(err, "the cluster's port for hostnames (http_port in cluster.ini)");
		goto out;
	}
	if (tls && !any_tls && (err = probe_port_free(in->cl.bind, in->cl.https_port))) {
		err = error_wrap(err, "the cluster's port for hostnames over TLS (https_port in cluster.ini)");
		goto out;
	}
	if ((rt = routes_find(&r, host))) {
		/* Given again: made primary (an alias), served over TLS, or by
		 * the full app. */
		if (redirect || (!(primary && rt->kind == ROUTE_ALIAS) && !(tls && !rt->tls) && !(admin && !rt->admin))) {
			err = error_fmt("hostname \"%s\" is already a route of this instance (%s%s)", host,
					routes_kind_name(rt->kind), rt->tls ? ", tls" : "");
			goto out;
		}
		tls |= rt->tls;
		admin |= rt->admin;
		primary |= rt->kind == ROUTE_PRIMARY;
		redirect = NULL;
		routes_remove(&r, host);
	}
	if (!redirect && !primary && !routes_primary(&r))
		primary = 1;
	if (primary)
		for (size_t i = 0; i < r.n; i++)
			if (r.v[i].kind == ROUTE_PRIMARY)
				r.v[i].kind = ROUTE_ALIAS;
	routes_add(&r, host, redirect ? ROUTE_REDIRECT : primary ? ROUTE_PRIMARY : ROUTE_ALIAS, redirect, tls);
	r.v[r.n - 1].admin = admin;
	err = apply(e, in, &r, &old);
out:
	err = error_wrap(err, "routing \"%s\" to instance \"%s\"", host, in->name);
	lock_release(lock);
	routes_free(&r);
	routes_free(&old);
	free(owner);
	free(crt);
	free(key);
	free(host);
	return err;
}

const struct error *routing_remove(struct engine *e, struct instance *in, const char *given)
{
	const struct error *err;
	struct routes r = ROUTES_INIT, old = ROUTES_INIT;
	struct route *rt;
	char *host = lowered(given);
	int lock = -1;

	if ((err = take(&in->cl, &lock)) || (err = routes_load(in->root, &r)) || (err = routes_load(in->root, &old)))
		goto out;
	if (!(rt = routes_find(&r, host))) {
		err = error_fmt("the instance has no route \"%s\" (\"route list\" shows its routes)", host);
		goto out;
	}
	if (rt->kind == ROUTE_PRIMARY && runtime_served(in)) {
		err = error_fmt("it is the primary route of the instance, which is being served: make another route "
				"primary first (route add HOST --primary), or stop the instance");
		goto out;
	}
	routes_remove(&r, host);
	/* An instance with hostnames served has a primary one. */
	if (!routes_primary(&r))
		for (size_t i = 0; i < r.n; i++)
			if (r.v[i].kind == ROUTE_ALIAS) {
				r.v[i].kind = ROUTE_PRIMARY;
				break;
			}
	err = apply(e, in, &r, &old);
out:
	err = error_wrap(err, "removing route \"%s\" of instance \"%s\"", host, in->name);
	lock_release(lock);
	routes_free(&r);
	routes_free(&old);
	free(host);
	return err;
}

const struct error *routing_reload(struct engine *e, const struct cluster *cl)
{
	const struct error *err;
	struct strv names = STRV_INIT;
	int lock = -1;

	/* Every certificate in use there whole, and every key private. */
	if ((err = take(cl, &lock)) || (err = instances_scan(cl, &names, NULL)))
		goto out;
	for (size_t i = 0; i < names.n && !err; i++) {
		char *dir = cluster_path(cl, "instances/%s", names.v[i]);
		struct routes r;

		if (!(err = routes_load(dir, &r))) {
			for (size_t k = 0; k < r.n && !err; k++) {
				char *crt = NULL, *key = NULL;

				if (r.v[k].tls && (err = routes_tls_files(cl, r.v[k].host, &crt, &key)))
					err = error_wrap(err, "instance \"%s\"", names.v[i]);
				free(crt);
				free(key);
			}
			routes_free(&r);
		}
		free(dir);
	}
	if (!err)
		err = proxy_reload(e, cl);
out:
	strv_free(&names);
	lock_release(lock);
	return err;
}
