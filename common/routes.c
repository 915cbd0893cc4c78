#include "routes.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "mem.h"
#include "name.h"

static const char *const kinds[] = {"primary", "alias", "redirect"};

const char *routes_kind_name(enum route_kind kind)
{
	return kinds[kind];
}

void routes_add(struct routes *r, const char *host, enum route_kind kind, const char *target, int tls)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	r->v[r->n].host = xstrdup(host);
	r->v[r->n].kind = kind;
	r->v[r->n].target = target ? xstrdup(target) : NULL;
	r->v[r->n].tls = tls;
	r->v[r->n].admin = 0;
	r->n++;
}

struct route *routes_find(const struct routes *r, const char *host)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].host, host) == 0)
			return &r->v[i];
	return NULL;
}

void routes_remove(struct routes *r, const char *host)
{
	struct route *rt = routes_find(r, host);

	if (!rt)
		return;
	free(rt->host);
	free(rt->target);
	memmove(rt, rt + 1, (size_t)(r->v + r->n - (rt + 1)) * sizeof *rt);
	r->n--;
}

const struct route *routes_primary(const struct routes *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == ROUTE_PRIMARY)
			return &r->v[i];
	return NULL;
}

void routes_free(struct routes *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].host);
		free(r->v[i].target);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

#define FORM "expected \"HOST primary|alias [admin] [tls]\" or \"HOST redirect URL [tls]\""

/* One line "HOST KIND [URL] [admin] [tls]" into r; NULL or why not. */
static const struct error *parse_line(struct routes *r, char *line)
{
	const struct error *err;
	char *w[6] = {NULL}, *host, *kind, *url = NULL;
	size_t n = 0, k;
	int tls, admin;

	for (char *t = strtok(line, " \t"); t; t = strtok(NULL, " \t"))
		if (n < 6)
			w[n++] = t;
		else
			return error_fmt(FORM);
	tls = n > 2 && strcmp(w[n - 1], "tls") == 0;
	n -= (size_t)tls;
	admin = n > 2 && strcmp(w[n - 1], "admin") == 0;
	n -= (size_t)admin;
	if (n < 2 || n > 3)
		return error_fmt(FORM);
	host = w[0];
	kind = w[1];
	if (n == 3)
		url = w[2];
	if ((err = name_check_host(host)))
		return err;
	for (k = 0; k < 3 && strcmp(kind, kinds[k]) != 0; k++)
		;
	if (k == 3)
		return error_fmt("\"%s\" is no kind of route (primary, alias, redirect)", kind);
	if ((k == ROUTE_REDIRECT) != (url != NULL))
		return error_fmt("a redirect, and only a redirect, names a URL");
	if (admin && k == ROUTE_REDIRECT)
		return error_fmt("a redirect serves nothing: it cannot be admin");
	if (url && (err = name_check_url(url)))
		return err;
	if (routes_find(r, host))
		return error_fmt("hostname \"%s\" is listed twice", host);
	if (k == ROUTE_PRIMARY && routes_primary(r))
		return error_fmt("a second primary route (\"%s\")", host);
	routes_add(r, host, (enum route_kind)k, url, tls);
	r->v[r->n - 1].admin = admin;
	return NULL;
}

const struct error *routes_load(const char *dir, struct routes *r)
{
	const struct error *err = NULL;
	char *path = xasprintf("%s/routes", dir), *text = NULL, *line, *next;
	int n = 0;

	r->v = NULL;
	r->n = 0;
	if (!fs_exists(path))
		goto out;
	if ((err = fs_read(path, &text, NULL)))
		goto out;
	for (line = text; line && !err; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		if ((err = parse_line(r, line)))
			err = error_wrap(err, "line %d", n);
	}
	if (err) {
		routes_free(r);
		err = error_wrap(err, "reading \"%s\"", path);
	}
out:
	free(text);
	free(path);
	return err;
}

const struct error *routes_save(const char *dir, const struct routes *r)
{
	const struct error *err;
	char *path = xasprintf("%s/routes", dir);
	struct buf b = BUF_INIT;

	if (r->n == 0) {
		err = fs_unlink_durable(path);
	} else {
		buf_puts(&b, "# hostnames this instance is served on, written by korcluster: HOST primary|alias "
			     "[admin] [tls], HOST redirect URL [tls]\n");
		for (size_t i = 0; i < r->n; i++)
			buf_printf(&b, "%s %s%s%s%s%s\n", r->v[i].host, kinds[r->v[i].kind], r->v[i].target ? " " : "",
				   r->v[i].target ? r->v[i].target : "", r->v[i].admin ? " admin" : "",
				   r->v[i].tls ? " tls" : "");
		err = fs_write_atomic(path, b.data, b.len, 0644);
	}
	buf_free(&b);
	free(path);
	return err;
}

/* fn on the routes of every instance folder of cl but self, until it
 * says stop (returns 1). */
static const struct error *each_other(const struct cluster *cl, const char *self,
				      int (*fn)(void *ctx, const char *name, const struct routes *r), void *ctx)
{
	const struct error *err = NULL;
	char *dir = cluster_path(cl, "instances");
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		err = errno == ENOENT ? NULL : error_errno("reading \"%s\"", dir);
		free(dir);
		return err;
	}
	while (!err && (de = readdir(d))) {
		struct routes r;
		char *sub;
		int stop;

		if (de->d_name[0] == '.' || (self && strcmp(de->d_name, self) == 0) || name_check_instance(de->d_name))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		if (!(err = routes_load(sub, &r))) {
			stop = fn(ctx, de->d_name, &r);
			routes_free(&r);
			if (stop) {
				free(sub);
				break;
			}
		}
		free(sub);
	}
	closedir(d);
	free(dir);
	return err;
}

struct owner {
	const char *host;
	char *owner;
};

static int has_host(void *ctx, const char *name, const struct routes *r)
{
	struct owner *o = ctx;

	if (!routes_find(r, o->host))
		return 0;
	o->owner = xstrdup(name);
	return 1;
}

const struct error *routes_owner(const struct cluster *cl, const char *self, const char *host, char **owner)
{
	struct owner o = {host, NULL};
	const struct error *err = each_other(cl, self, has_host, &o);

	*owner = o.owner;
	return err;
}

struct any {
	int any, tls;
};

static int has_any(void *ctx, const char *name, const struct routes *r)
{
	struct any *a = ctx;

	(void)name;
	a->any |= r->n > 0;
	for (size_t i = 0; i < r->n; i++)
		a->tls |= r->v[i].tls;
	return a->any && a->tls;
}

const struct error *routes_any(const struct cluster *cl, int *any, int *any_tls)
{
	struct any a = {0, 0};
	const struct error *err = each_other(cl, NULL, has_any, &a);

	*any = a.any;
	if (any_tls)
		*any_tls = a.tls;
	return err;
}

/* NULL if dir/name is a regular file, readable by its owner only when
 * secret. */
static const struct error *tls_file(const char *dir, const char *name, int secret)
{
	const struct error *err = NULL;
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;

	if (lstat(path, &st) < 0)
		err = error_errno("\"%s\"", path);
	else if (!S_ISREG(st.st_mode))
		err = error_fmt("\"%s\" is not a regular file", path);
	else if (secret && (st.st_mode & 077))
		err = error_fmt("key \"%s\" may be read by others (mode %04o): chmod 600 it", path,
				(unsigned)(st.st_mode & 07777));
	free(path);
	return err;
}

const struct error *routes_tls_files(const struct cluster *cl, const char *host, char **crt, char **key)
{
	const struct error *err;
	char *dir = cluster_path(cl, "proxy/tls"), *own = xasprintf("%s.crt", host), *ownkey = xasprintf("%s.key", host);

	*crt = *key = NULL;
	if (!tls_file(dir, own, 0)) {
		if (!(err = tls_file(dir, ownkey, 1))) {
			*crt = own;
			*key = ownkey;
			own = ownkey = NULL;
		}
	} else if (!tls_file(dir, "_cluster.crt", 0)) {
		if (!(err = tls_file(dir, "_cluster.key", 1))) {
			*crt = xstrdup("_cluster.crt");
			*key = xstrdup("_cluster.key");
		}
	} else {
		err = error_fmt("no certificate for \"%s\": put it in %s/%s with its key in %s (mode 0600), or the "
				"cluster's in _cluster.crt and _cluster.key",
				host, dir, own, ownkey);
	}
	free(dir);
	free(own);
	free(ownkey);
	return err;
}
