#include "proxy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "container.h"
#include "fs.h"
#include "mem.h"
#include "probe.h"
#include "report.h"
#include "routes.h"
#include "wait.h"

#define PROXY_DIR "/etc/korcluster-proxy"
/* proxy/cache/, where the read-only frontends' answers are kept: nginx
 * makes each instance's folder in it, for its workers. */
#define CACHE_DIR "/var/cache/korcluster-proxy"

static const char nginx_conf[] =
	"# written by korcluster; instances are in conf.d/\n"
	"worker_processes 1;\n"
	"pid /tmp/korcluster-proxy.pid;\n"
	"error_log stderr warn;\n"
	"events { worker_connections 4096; }\n"
	"http {\n"
	"    access_log off;\n"
	"    client_body_temp_path /tmp/proxy-body;\n"
	"    proxy_temp_path /tmp/proxy-temp;\n"
	"    fastcgi_temp_path /tmp/proxy-fastcgi;\n"
	"    uwsgi_temp_path /tmp/proxy-uwsgi;\n"
	"    scgi_temp_path /tmp/proxy-scgi;\n"
	"    client_max_body_size 1g;\n"
	"    proxy_http_version 1.1;\n"
	"    proxy_set_header Connection \"\";\n"
	"    proxy_set_header Host $http_host;\n"
	"    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
	"    proxy_set_header X-Forwarded-Proto $scheme;\n"
	"    proxy_read_timeout 300s;\n"
	"    # a write looks for hold/INSTANCE.writes, a read for hold/INSTANCE,\n"
	"    # which never exists (proxy_hold())\n"
	"    map $request_method $kc_write {\n"
	"        GET \"\";\n        HEAD \"\";\n        OPTIONS \"\";\n        default \".writes\";\n    }\n"
	"    include " PROXY_DIR "/conf.d/*.conf;\n"
	"}\n";

#define HSTS "        add_header Strict-Transport-Security \"max-age=31536000\" always;\n"

/* The location that serves instance through its upstream, writes held
 * while proxy_hold() says so; over TLS with HSTS on every answer.  cached:
 * from the read-only frontend through the instance's cache, reads only. */
static void serve_location(struct buf *b, const char *instance, int tls, int cached)
{
	if (cached) {
		buf_printf(b, "    location / {\n%s"
			      "        limit_except GET HEAD {\n            deny all;\n        }\n"
			      "        proxy_cache kc_%s;\n"
			      "        proxy_cache_valid 200 301 302 404 1m;\n"
			      "        proxy_cache_use_stale error timeout updating http_502 http_503;\n"
			      "        proxy_cache_lock on;\n"
			      "        add_header X-Cache-Status $upstream_cache_status always;\n"
			      "        proxy_pass http://kc_%s_front;\n"
			      "        proxy_next_upstream error timeout http_502;\n    }\n",
			   tls ? HSTS : "", instance, instance);
		return;
	}
	buf_printf(b, "    location / {\n%s"
		      "        # writes are refused while the instance is locked (instance.sh lock)\n"
		      "        if (-f " PROXY_DIR "/hold/%s$kc_write.locked) {\n%s"
		      "            return 423 \"instance %s is locked: read-only\\n\";\n        }\n"
		      "        # writes wait while korcluster holds them\n"
		      "        if (-f " PROXY_DIR "/hold/%s$kc_write) {\n%s"
		      "            add_header Retry-After 5 always;\n            return 503;\n        }\n"
		      "        proxy_pass http://kc_%s;\n"
		      "        proxy_next_upstream error timeout http_502;\n    }\n",
		   tls ? HSTS : "", instance, tls ? "    " HSTS : "", instance, instance, tls ? "    " HSTS : "",
		   instance);
}

static void listen_on(struct buf *b, const char *bind, int port, const char *extra)
{
	int v6 = strchr(bind, ':') != NULL;

	buf_printf(b, "    listen %s%s%s:%d%s;\n", v6 ? "[" : "", bind, v6 ? "]" : "", port, extra);
}

/* A server on the hostnames' HTTP port for names (" a b"): ACME's
 * challenges from proxy/acme/, everything else as then given. */
static void http_server(struct buf *b, const struct cluster *cl, const char *names)
{
	buf_puts(b, "server {\n");
	listen_on(b, cl->bind, cl->http_port, "");
	buf_printf(b, "    server_name%s;\n"
		      "    location /.well-known/acme-challenge/ {\n        root " PROXY_DIR "/acme;\n    }\n",
		   names);
}

/* A server on the hostnames' HTTPS port for host, with its certificate. */
static void https_server(struct buf *b, const struct cluster *cl, const char *host)
{
	char *crt = NULL, *key = NULL;

	/* Files missing or unsafe are refused where they are given (route
	 * add, reload); here nginx -t says what is wrong. */
	if (routes_tls_files(cl, host, &crt, &key)) {
		crt = xasprintf("%s.crt", host);
		key = xasprintf("%s.key", host);
	}
	buf_puts(b, "server {\n");
	listen_on(b, cl->bind, cl->https_port, " ssl");
	buf_printf(b, "    server_name %s;\n    ssl_certificate " PROXY_DIR "/tls/%s;\n"
		      "    ssl_certificate_key " PROXY_DIR "/tls/%s;\n    ssl_protocols TLSv1.2 TLSv1.3;\n",
		   host, crt, key);
	free(crt);
	free(key);
}

/* return 301 to a redirect route's URL: followed by the request's path
 * and query when the URL has no path of its own.  The URL is checked
 * (name_check_url()): nothing in it nginx would read as syntax or a
 * variable. */
static void redirect_to(struct buf *b, const char *indent, const char *url)
{
	const char *path = strchr(strstr(url, "://") + 3, '/');
	int keep = !path || !path[1];
	size_t len = strlen(url) - (path && keep);

	buf_printf(b, "%sreturn 301 %.*s%s;\n", indent, (int)len, url, keep ? "$request_uri" : "");
}

char *proxy_instance_conf(const char *instance, const struct cluster *cl, int port, const char *upstream,
			  const char *front, int upstream_port, const struct routes *routes)
{
	struct buf b = BUF_INIT, names = BUF_INIT;
	char https[16] = "";

	buf_printf(&b, "# instance %s, written by korcluster\n"
		       "upstream kc_%s {\n    server %s:%d;\n    keepalive 16;\n}\n", instance, instance, upstream,
		   upstream_port);
	if (front)
		buf_printf(&b, "upstream kc_%s_front {\n    server %s:%d;\n    keepalive 16;\n}\n"
			       "proxy_cache_path " CACHE_DIR "/%s levels=1:2 keys_zone=kc_%s:10m max_size=1g inactive=1h "
			       "use_temp_path=off;\n",
			   instance, front, upstream_port, instance, instance);
	buf_puts(&b, "server {\n");
	listen_on(&b, cl->bind, port, "");
	serve_location(&b, instance, 0, 0);
	buf_puts(&b, "}\n");
	if (!routes)
		return b.data;
	/* Its hostnames, on the cluster's ports for them: those over plain
	 * HTTP in one server (two with a frontend: the public ones and the
	 * admin ones). */
	for (int admin = 0; admin < 2; admin++) {
		buf_free(&names);
		for (size_t i = 0; i < routes->n; i++)
			if (routes->v[i].kind != ROUTE_REDIRECT && !routes->v[i].tls && (!front || routes->v[i].admin == admin))
				buf_printf(&names, " %s", routes->v[i].host);
		if (names.len) {
			http_server(&b, cl, buf_str(&names));
			serve_location(&b, instance, 0, front && !admin);
			buf_puts(&b, "}\n");
		}
		if (!front)
			break;
	}
	if (cl->https_port != 443)
		snprintf(https, sizeof https, ":%d", cl->https_port);
	for (size_t i = 0; i < routes->n; i++) {
		const struct route *rt = &routes->v[i];

		buf_free(&names);
		buf_printf(&names, " %s", rt->host);
		if (rt->kind == ROUTE_REDIRECT) {
			http_server(&b, cl, buf_str(&names));
			buf_puts(&b, "    location / {\n");
			redirect_to(&b, "        ", rt->target);
			buf_puts(&b, "    }\n}\n");
		} else if (rt->tls) {
			/* Plain HTTP goes over to HTTPS. */
			http_server(&b, cl, buf_str(&names));
			buf_printf(&b, "    location / {\n        return 301 https://%s%s$request_uri;\n    }\n}\n", rt->host,
				   https);
		}
		if (!rt->tls)
			continue;
		https_server(&b, cl, rt->host);
		if (rt->kind == ROUTE_REDIRECT) {
			buf_puts(&b, "    location / {\n" HSTS);
			redirect_to(&b, "        ", rt->target);
			buf_puts(&b, "    }\n");
		} else {
			serve_location(&b, instance, 1, front && !rt->admin);
		}
		buf_puts(&b, "}\n");
	}
	buf_free(&names);
	return b.data;
}

const struct error *proxy_cache_clear(const struct cluster *cl, const char *instance)
{
	char *dir = cluster_path(cl, "proxy/cache/%s", instance);
	const struct error *err = fs_empty_tree(dir);

	free(dir);
	return err;
}

const struct error *proxy_hold(const struct cluster *cl, const char *instance, int on)
{
	const struct error *err = NULL;
	char *path = cluster_path(cl, "proxy/hold/%s.writes", instance);
	int fd;

	/* A flag: no content to sync (after a crash, the next command
	 * releases any hold anyway). */
	if (on && ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0 || close(fd) < 0))
		err = error_errno("making \"%s\"", path);
	else if (!on && unlink(path) < 0 && errno != ENOENT)
		err = error_errno("removing \"%s\"", path);
	free(path);
	return err;
}

const struct error *proxy_lock(const struct cluster *cl, const char *instance, int on)
{
	const struct error *err = NULL;
	char *dir = cluster_path(cl, "proxy/hold"), *path = cluster_path(cl, "proxy/hold/%s.writes.locked", instance);

	/* Kept across crashes and reboots: written durably (also before the
	 * cluster's first boot made the folder). */
	if (on && !(err = fs_mkdirs(dir, 0755)))
		err = fs_write_atomic(path, "", 0, 0644);
	else if (!on)
		err = fs_unlink_durable(path);
	free(dir);
	free(path);
	return err;
}

int proxy_locked(const struct cluster *cl, const char *instance)
{
	char *path = cluster_path(cl, "proxy/hold/%s.writes.locked", instance);
	int locked = fs_exists(path);

	free(path);
	return locked;
}

int proxy_held(const struct cluster *cl, const char *instance)
{
	char *path = cluster_path(cl, "proxy/hold/%s.writes", instance);
	int held = fs_exists(path);

	free(path);
	return held;
}

/* Whether the file at path holds exactly text. */
static int file_holds(const char *path, const char *text)
{
	char *old = NULL;
	size_t len = 0;
	int same = fs_exists(path) && !fs_read(path, &old, &len) && len == strlen(text) && memcmp(old, text, len) == 0;

	free(old);
	return same;
}

/* Write text to path unless it holds that already (no sync to wait for). */
static const struct error *write_changed(const char *path, const char *text)
{
	return file_holds(path, text) ? NULL : fs_write_atomic(path, text, strlen(text), 0644);
}

const struct error *proxy_ensure(struct engine *e, const struct cluster *cl, int *changed)
{
	const struct error *err;
	char *dir = cluster_path(cl, "proxy"), *confd = cluster_path(cl, "proxy/conf.d"), *hold = cluster_path(cl, "proxy/hold"),
	     *conf = cluster_path(cl, "proxy/nginx.conf"), *name = cluster_container(cl, CLUSTER_PROXY),
	     *acme = cluster_path(cl, "proxy/acme/.well-known/acme-challenge"), *tls = cluster_path(cl, "proxy/tls"),
	     *cache = cluster_path(cl, "proxy/cache");
	json_t *cfg = NULL;

	*changed = 0;
	if ((err = fs_mkdirs(confd, 0755)) || (err = fs_mkdirs(hold, 0755)) || (err = fs_mkdirs(acme, 0755)) ||
	    (err = fs_mkdirs(tls, 0700)) || (err = write_changed(conf, nginx_conf)))
		goto out;
	cfg = json_pack("{s:s, s:[s,s,s,s,s], s:{s:s, s:s, s:s}, s:i, s:{s:[o], s:{s:s}, s:s}}", "Image",
			cluster_image(cl, CLUSTER_PROXY), "Cmd", "nginx", "-c", PROXY_DIR "/nginx.conf", "-g", "daemon off;",
			"Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root, LABEL_ROLE, CLUSTER_PROXY, "StopTimeout", 10,
			"HostConfig", "Mounts", engine_mount(dir, PROXY_DIR, 1), "RestartPolicy", "Name", "unless-stopped",
			"NetworkMode", "host");
	if (!cfg)
		report_out_of_memory();
	/* The frontends' cache, writable: only where the template has one,
	 * so that other clusters' proxies stay as they were made. */
	if (template_frontend(&cl->tpl)) {
		if ((err = fs_mkdirs(cache, 0755)))
			goto out;
		json_array_append_new(json_object_get(json_object_get(cfg, "HostConfig"), "Mounts"),
				      engine_mount(cache, CACHE_DIR, 0));
	}
	err = container_ensure(e, cl, name, cfg, changed);
out:
	json_decref(cfg);
	free(dir);
	free(confd);
	free(hold);
	free(conf);
	free(acme);
	free(tls);
	free(cache);
	free(name);
	return error_wrap(err, "starting the front proxy");
}

/* The first bytes of /proc/PID/FILE into buf (NUL-terminated; "" when
 * unreadable); -1 when it cannot be read. */
static int proc_read(long pid, const char *file, char *buf, size_t n)
{
	char path[64];
	ssize_t got = -1;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, buf, n - 1);
		close(fd);
	}
	buf[got > 0 ? got : 0] = '\0';
	return got < 0 ? -1 : 0;
}

/* The proxy's nginx master as a process of this host, when this process
 * sees it (the engine runs here, in this PID namespace) and may signal it:
 * then a reload is one signal and its workers are read from /proc, where
 * the engine's exec and top would each start a process.  0 otherwise:
 * the engine's way is taken. */
static long local_master(struct engine *e, const struct cluster *cl, const char *name)
{
	json_t *info = NULL;
	long pid = 0;
	char cmd[64], theirs[96];
	char *ours = cluster_path(cl, "proxy/nginx.conf");
	struct stat a, b;
	int same;

	if (engine_container_inspect(e, name, &info) == NULL)
		pid = (long)json_integer_value(json_object_get(json_object_get(info, "State"), "Pid"));
	json_decref(info);
	/* That PID here is that process: an nginx master that sees this
	 * cluster's nginx.conf (the same file) where the proxy mounts it. */
	snprintf(theirs, sizeof theirs, "/proc/%ld/root" PROXY_DIR "/nginx.conf", pid);
	same = pid > 0 && stat(ours, &a) == 0 && stat(theirs, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	free(ours);
	if (!same)
		return 0;
	proc_read(pid, "cmdline", cmd, sizeof cmd);
	if (strncmp(cmd, "nginx: master process", 21) != 0 || kill((pid_t)pid, 0) < 0)
		return 0;
	return pid;
}

/* The master's worker processes from /proc; -1 when the kernel does not
 * list a process's children. */
static int local_workers(long master, json_t *pids)
{
	char path[64], list[4096], cmd[64], *p, *end;
	long pid;

	snprintf(path, sizeof path, "task/%ld/children", master);
	if (proc_read(master, path, list, sizeof list) < 0)
		return -1;
	for (p = list; (pid = strtol(p, &end, 10)) > 0; p = end) {
		proc_read(pid, "cmdline", cmd, sizeof cmd);
		if (strncmp(cmd, "nginx: worker process", 21) == 0) {
			snprintf(path, sizeof path, "%ld", pid);
			json_object_set_new(pids, path, json_true());
		}
	}
	return 0;
}

/* Whether conf is what proxy_check() found good for instance; that record
 * goes either way (a configuration is checked for one use). */
static int checked_as(const struct cluster *cl, const char *instance, const char *conf)
{
	char *path = cluster_path(cl, "proxy/checked/%s.conf", instance);
	int same = file_holds(path, conf);

	unlink(path);
	free(path);
	return same;
}

/* nginx.conf with conf.d/ spelled out, instance's own file left out and
 * extra included in its place; caller frees. */
static char *conf_with(const struct cluster *cl, const char *instance, const char *extra)
{
	const char *inc = strstr(nginx_conf, "    include " PROXY_DIR "/conf.d/*.conf;\n");
	char *dir = cluster_path(cl, "proxy/conf.d"), own[300];
	struct buf b = BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	snprintf(own, sizeof own, "%s.conf", instance);
	buf_append(&b, nginx_conf, (size_t)(inc - nginx_conf));
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0 && strcmp(de->d_name, own) != 0)
			buf_printf(&b, "    include " PROXY_DIR "/conf.d/%s;\n", de->d_name);
	}
	if (d)
		closedir(d);
	buf_printf(&b, "    include %s;\n}\n", extra);
	free(dir);
	return b.data;
}

const struct error *proxy_check(struct engine *e, const struct cluster *cl, const char *instance, const char *conf)
{
	const struct error *err;
	char *dir = cluster_path(cl, "proxy/checked"), *path = cluster_path(cl, "proxy/checked/%s.conf", instance);
	char *cand = cluster_path(cl, "proxy/checked/%s.candidate", instance);
	char *mainpath = cluster_path(cl, "proxy/checked/%s.nginx", instance);
	char *name = cluster_container(cl, CLUSTER_PROXY);
	char *inner = xasprintf(PROXY_DIR "/checked/%s.candidate", instance);
	char *innermain = xasprintf(PROXY_DIR "/checked/%s.nginx", instance);
	char *text = conf_with(cl, instance, inner);
	char *const check[] = {"nginx", "-t", "-q", "-c", innermain, NULL};
	struct buf out = BUF_INIT;
	int code = -1;

	/* checked/INSTANCE.conf is only ever a file nginx -t passed. */
	unlink(path);
	if (!(err = fs_mkdirs(dir, 0755)) && !(err = fs_write_atomic(mainpath, text, strlen(text), 0644)) &&
	    !(err = fs_write_atomic(cand, conf, strlen(conf), 0644)) &&
	    !(err = engine_exec(e, name, check, &code, &out, 30000))) {
		if (code != 0)
			err = error_fmt("the proxy refuses the new configuration: %.*s", buf_trimmed_len(&out),
					buf_str(&out));
		else if (rename(cand, path) < 0)
			err = error_errno("renaming \"%s\"", cand);
	}
	unlink(cand);
	unlink(mainpath);
	buf_free(&out);
	free(text);
	free(dir);
	free(path);
	free(cand);
	free(mainpath);
	free(name);
	free(inner);
	free(innermain);
	return error_wrap(err, "checking the front proxy's configuration for \"%s\"", instance);
}

/* The servers that answer hostnames no instance has on the hostnames'
 * ports, while any instance of the cluster has a route: 404 over HTTP,
 * the TLS handshake refused on HTTPS (while any route has TLS).  NULL when
 * no instance has a route (the proxy then does not listen there).  Caller
 * frees. */
static char *default_conf(const struct cluster *cl, int any, int any_tls)
{
	struct buf b = BUF_INIT;

	if (!any)
		return NULL;
	buf_puts(&b, "# written by korcluster: a hostname no instance has gets 404\nserver {\n");
	listen_on(&b, cl->bind, cl->http_port, " default_server");
	buf_puts(&b, "    return 404;\n}\n");
	if (any_tls) {
		buf_puts(&b, "server {\n");
		listen_on(&b, cl->bind, cl->https_port, " ssl default_server");
		buf_puts(&b, "    ssl_reject_handshake on;\n}\n");
	}
	return b.data;
}

/* A file of the proxy's configuration as it was, to put back. */
struct saved {
	char *path, *text;
	size_t len;
	int had;
};

static const struct error *save(struct saved *s, char *path)
{
	s->path = path;
	s->text = NULL;
	s->len = 0;
	s->had = fs_exists(path);
	return s->had ? fs_read(path, &s->text, &s->len) : NULL;
}

/* Whether s holds text (NULL: absent). */
static int holds(const struct saved *s, const char *text)
{
	return text ? s->had && s->len == strlen(text) && memcmp(s->text, text, s->len) == 0 : !s->had;
}

static const struct error *put(const struct saved *s, const char *text)
{
	if (text)
		return fs_write_atomic(s->path, text, strlen(text), 0644);
	if (unlink(s->path) < 0 && errno != ENOENT)
		return error_errno("removing \"%s\"", s->path);
	return NULL;
}

static void restore(const struct saved *s)
{
	if (s->had)
		fs_write_atomic(s->path, s->text, s->len, 0644);
	else
		unlink(s->path);
}

static void saved_free(struct saved *s)
{
	free(s->path);
	free(s->text);
}

/* Install conf as instance's file (instance NULL: none) and the catch-all
 * the cluster's routes call for, check, reload; on a failed check every
 * file is put back.  The catch-all comes first and goes last, so that a
 * reload between the two never finds a hostname's server taken as the
 * port's default. */
static const struct error *set_files(struct engine *e, const struct cluster *cl, const char *instance,
				     const char *conf, int running, int force_check)
{
	const struct error *err;
	char *name = cluster_container(cl, CLUSTER_PROXY), *want = NULL;
	char *const check[] = {"nginx", "-t", "-q", "-c", PROXY_DIR "/nginx.conf", NULL};
	char *const reload[] = {"nginx", "-c", PROXY_DIR "/nginx.conf", "-s", "reload", NULL};
	struct saved own = {NULL, NULL, 0, 0}, dflt = {NULL, NULL, 0, 0};
	struct buf out = BUF_INIT;
	int code = -1, test = force_check, any, any_tls;
	long master;

	if ((err = routes_any(cl, &any, &any_tls)) || (err = save(&dflt, cluster_path(cl, "proxy/conf.d/_default.conf"))) ||
	    (instance && (err = save(&own, cluster_path(cl, "proxy/conf.d/%s.conf", instance)))))
		goto out;
	want = default_conf(cl, any, any_tls);
	/* A file as it is was checked when it was written: no nginx -t for
	 * the same again (a reload to wait out what is under way). */
	if (instance && conf && !holds(&own, conf) && !checked_as(cl, instance, conf))
		test = 1;
	if (!holds(&dflt, want))
		test = 1;
	if ((want && (err = put(&dflt, want))) || (instance && (err = put(&own, conf))) ||
	    (!want && (err = put(&dflt, NULL))))
		goto undo;
	if (!conf && instance && (err = proxy_hold(cl, instance, 0)))
		goto undo; /* not served: nothing to hold */
	if (!running)
		goto out; /* what it starts with */
	if (test && !(err = engine_exec(e, name, check, &code, &out, 30000)) && code != 0)
		err = error_fmt("the proxy refuses the new configuration: %.*s", buf_trimmed_len(&out), buf_str(&out));
	if (err)
		goto undo;
	/* SIGHUP to the master straight from here when it can be; else
	 * nginx -s reload rather than the engine's kill: engines before 23
	 * take any signal sent through the API as a manual stop, and then
	 * do not restart the proxy after they restart themselves. */
	if ((master = local_master(e, cl, name)) > 0 && kill((pid_t)master, SIGHUP) == 0)
		goto out;
	buf_consume(&out, out.len);
	if (!(err = engine_exec(e, name, reload, &code, &out, 30000)) && code != 0)
		err = error_fmt("nginx -s reload exited %d: %.200s", code, buf_str(&out));
	if (!err)
		goto out;
undo:
	/* The previous configuration stays. */
	if (instance)
		restore(&own);
	restore(&dflt);
out:
	buf_free(&out);
	saved_free(&own);
	saved_free(&dflt);
	free(want);
	free(name);
	return err;
}

const struct error *proxy_set(struct engine *e, const struct cluster *cl, const char *instance, const char *conf)
{
	return error_wrap(set_files(e, cl, instance, conf, 1, 0), "configuring the front proxy for \"%s\"", instance);
}

/* The PIDs of the proxy's nginx worker processes: from /proc (local_master()),
 * else as the engine lists them. */
static const struct error *workers(struct engine *e, const struct cluster *cl, const char *name, json_t **pids)
{
	const struct error *err;
	json_t *top = NULL, *row, *titles;
	size_t i, pidcol = 1, cmdcol = 7;
	const char *t;
	long master = local_master(e, cl, name);

	*pids = json_object();
	if (master > 0 && local_workers(master, *pids) == 0)
		return NULL;
	json_decref(*pids);
	*pids = NULL;
	if ((err = engine_container_top(e, name, &top)))
		return err;
	titles = json_object_get(top, "Titles");
	json_array_foreach(titles, i, row) {
		if ((t = json_string_value(row)) && strcmp(t, "PID") == 0)
			pidcol = i;
		if (t && (strcmp(t, "CMD") == 0 || strcmp(t, "COMMAND") == 0))
			cmdcol = i;
	}
	*pids = json_object();
	json_array_foreach(json_object_get(top, "Processes"), i, row) {
		const char *cmd = json_string_value(json_array_get(row, cmdcol));
		const char *pid = json_string_value(json_array_get(row, pidcol));

		if (cmd && pid && strstr(cmd, "nginx: worker process"))
			json_object_set_new(*pids, pid, json_true());
	}
	json_decref(top);
	return NULL;
}

const struct error *proxy_workers(struct engine *e, const struct cluster *cl, json_t **pids)
{
	char *name = cluster_container(cl, CLUSTER_PROXY);
	const struct error *err = workers(e, cl, name, pids);

	free(name);
	return error_wrap(err, "listing the front proxy's workers");
}

struct drain {
	struct engine *e;
	const struct cluster *cl;
	const char *name;
	const json_t *old;
	long master; /* local_master(), found once */
};

/* Done when none of the old workers is left. */
static const struct error *drained(void *ctx, int *done, char *why, size_t n)
{
	struct drain *d = ctx;
	const struct error *err;
	json_t *now = NULL, *v;
	const char *pid;
	int left = 0;

	now = json_object();
	if (d->master <= 0 || local_workers(d->master, now) < 0) {
		json_decref(now);
		if ((err = workers(d->e, d->cl, d->name, &now)))
			return err;
	}
	json_object_foreach((json_t *)d->old, pid, v)
		left += json_object_get(now, pid) != NULL;
	json_decref(now);
	*done = !left;
	snprintf(why, n, "%d old worker%s", left, left == 1 ? "" : "s");
	return NULL;
}

const struct error *proxy_drain(struct engine *e, const struct cluster *cl, const json_t *old, int timeout,
				int interruptible)
{
	const struct error *err;
	char *name = cluster_container(cl, CLUSTER_PROXY);
	struct drain d = {e, cl, name, old, local_master(e, cl, name)};
	/* Looking in /proc costs next to nothing: often. */
	struct wait w = {.timeout = timeout, .interval_ms = d.master > 0 ? 5 : 20, .uninterruptible = !interruptible};

	if (!(err = wait_until(&w, drained, &d)) && w.timed_out)
		err = error_fmt("requests begun before the reload are still running after %d s", timeout);
	free(name);
	return error_wrap(err, "waiting for the front proxy's old workers");
}

/* The catch-all brought in line with the routes and, with check, the
 * whole configuration checked (nginx -t) whether it changed or not; then a
 * reload, and on return the old workers are gone (with the hostnames'
 * port, when the last route went).  A proxy not running (the cluster shut
 * down) gets the files it will start with. */
static const struct error *reload_all(struct engine *e, const struct cluster *cl, int check)
{
	const struct error *err;
	char *name = cluster_container(cl, CLUSTER_PROXY);
	json_t *info = NULL, *old = NULL;
	int running = 0;

	if (!(err = engine_container_inspect(e, name, &info)))
		running = json_is_true(json_object_get(json_object_get(info, "State"), "Running"));
	if (!err && (!running || !(err = workers(e, cl, name, &old))) &&
	    !(err = set_files(e, cl, NULL, NULL, running, check)) && running)
		err = proxy_drain(e, cl, old, 10, 0);
	json_decref(old);
	json_decref(info);
	free(name);
	return err;
}

const struct error *proxy_routes_changed(struct engine *e, const struct cluster *cl)
{
	return error_wrap(reload_all(e, cl, 0), "configuring the front proxy's hostnames");
}

const struct error *proxy_reload(struct engine *e, const struct cluster *cl)
{
	return error_wrap(reload_all(e, cl, 1), "reloading the front proxy");
}

struct port {
	const char *host, *path;
	int port, up;
};

/* Done when the port answers 2xx (up) or refuses (down). */
static const struct error *answers(void *ctx, int *done, char *why, size_t n)
{
	struct port *p = ctx;
	long status;
	const struct error *err = probe_http_get(p->host, p->port, p->path, &status);

	*done = p->up ? !err && status >= 200 && status < 300 : err != NULL;
	snprintf(why, n, "%s", err ? err->msg : "answered");
	return NULL;
}

const struct error *proxy_wait(const char *bind, int port, const char *path, int up, int timeout)
{
	const struct error *err;
	struct port p = {strcmp(bind, "0.0.0.0") == 0 ? "127.0.0.1" : strcmp(bind, "::") == 0 ? "::1" : bind, path,
			 port, up};
	struct wait w = {.timeout = timeout, .interval_ms = 20};

	if (!(err = wait_until(&w, answers, &p)) && w.timed_out)
		err = error_fmt("port %d %s after %d s", port, up ? "does not answer through the proxy" : "still answers",
				timeout);
	return err;
}
