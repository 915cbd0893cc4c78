#include "proxy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "progress.h"
#include "fs.h"
#include "http.h"
#include "runtime.h"

#define PROXY_DIR "/etc/korcluster-proxy"

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
	"    include " PROXY_DIR "/conf.d/*.conf;\n"
	"}\n";

char *proxy_instance_conf(const char *instance, const char *bind, int port, const char *upstream,
			  int upstream_port, int readonly)
{
	struct buf b = BUF_INIT;
	int v6 = strchr(bind, ':') != NULL;

	buf_printf(&b, "# instance %s, written by korcluster\n"
		       "upstream kc_%s {\n    server %s:%d;\n    keepalive 16;\n}\n"
		       "server {\n    listen %s%s%s:%d;\n", instance, instance, upstream, upstream_port,
		   v6 ? "[" : "", bind, v6 ? "]" : "", port);
	buf_printf(&b, "    location / {\n");
	if (readonly)
		buf_printf(&b, "        # writes wait while korcluster works on the instance\n"
			       "        if ($request_method !~ ^(GET|HEAD|OPTIONS)$) {\n"
			       "            add_header Retry-After 5 always;\n            return 503;\n        }\n");
	buf_printf(&b, "        proxy_pass http://kc_%s;\n"
		       "        proxy_next_upstream error timeout http_502;\n    }\n}\n", instance);
	return b.data;
}

static char *container_name(const struct cluster *cl)
{
	return cluster_container(cl, CLUSTER_PROXY);
}

int proxy_ensure(struct engine *e, struct cluster *cl, int *changed)
{
	char *dir = cluster_path(cl, "proxy"), *confd = cluster_path(cl, "proxy/conf.d"),
	     *conf = cluster_path(cl, "proxy/nginx.conf"), *name = container_name(cl);
	const char *image = cluster_image(cl, CLUSTER_PROXY);
	json_t *cfg = NULL;
	int rc = -1;

	if (!dir || !confd || !conf || !name)
		goto out;
	if (fs_mkdirs(confd, 0755) < 0 || fs_write_atomic(conf, nginx_conf, strlen(nginx_conf), 0644) < 0)
		goto out;
	cfg = json_pack("{s:s, s:[s,s,s,s,s], s:{s:s, s:s, s:s}, s:i,"
			" s:{s:[o], s:{s:s}, s:s}}",
			"Image", image, "Cmd", "nginx", "-c", PROXY_DIR "/nginx.conf", "-g", "daemon off;",
			"Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root, LABEL_ROLE, CLUSTER_PROXY,
			"StopTimeout", 10,
			"HostConfig", "Mounts", engine_mount(dir, PROXY_DIR, 1), "RestartPolicy", "Name", "unless-stopped",
			"NetworkMode", "host");
	if (!cfg) {
		err_set("out of memory");
		goto out;
	}
	if (runtime_ensure(e, cl, name, cfg, changed) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		err_wrap("starting the front proxy");
	json_decref(cfg);
	free(dir);
	free(confd);
	free(conf);
	free(name);
	return rc;
}

int proxy_set(struct engine *e, struct cluster *cl, const char *instance, const char *conf)
{
	char *path = cluster_path(cl, "proxy/conf.d/%s.conf", instance), *name = container_name(cl);
	char *old = NULL;
	char *const test[] = {"nginx", "-t", "-q", "-c", PROXY_DIR "/nginx.conf", NULL};
	char *const reload[] = {"nginx", "-c", PROXY_DIR "/nginx.conf", "-s", "reload", NULL};
	struct buf out = BUF_INIT;
	size_t oldlen = 0;
	int code = -1, rc = -1, had = 0;

	if (!path || !name)
		goto out;
	had = fs_exists(path);
	if (had && fs_read(path, &old, &oldlen) < 0)
		goto out;
	if (conf ? fs_write_atomic(path, conf, strlen(conf), 0644) < 0 : (unlink(path) < 0 && had))
		goto out;
	if (engine_exec(e, name, test, &code, &out, 30000) < 0)
		goto restore;
	if (code != 0) {
		size_t n = out.len;

		while (n && out.data[n - 1] == '\n')
			n--;
		err_set("the proxy refuses the new configuration: %.*s", (int)n, out.data ? out.data : "");
		goto restore;
	}
	/* nginx -s reload rather than the engine's kill: engines before 23
	 * take any signal sent through the API as a manual stop, and then
	 * do not restart the proxy after they restart themselves. */
	buf_consume(&out, out.len);
	if (engine_exec(e, name, reload, &code, &out, 30000) < 0)
		goto out;
	if (code != 0) {
		err_set("nginx -s reload exited %d: %.200s", code, buf_str(&out));
		goto out;
	}
	rc = 0;
	goto out;
restore:
	if (had)
		fs_write_atomic(path, old, oldlen, 0644);
	else
		unlink(path);
out:
	if (rc < 0)
		err_wrap("configuring the front proxy for \"%s\"", instance);
	buf_free(&out);
	free(old);
	free(path);
	free(name);
	return rc;
}

/* The PIDs of the proxy's nginx worker processes, as the engine lists them. */
static int workers(struct engine *e, const char *name, json_t **pids)
{
	json_t *top = NULL, *row, *titles;
	size_t i, pidcol = 1, cmdcol = 7;
	const char *t;

	*pids = NULL;
	if (engine_container_top(e, name, &top) < 0)
		return -1;
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
	return 0;
}

int proxy_workers(struct engine *e, struct cluster *cl, json_t **pids)
{
	char *name = container_name(cl);
	int rc = name ? workers(e, name, pids) : -1;

	free(name);
	return rc < 0 ? err_wrap("listing the front proxy's workers") : 0;
}

int proxy_drain(struct engine *e, struct cluster *cl, const json_t *old, int timeout, int interruptible)
{
	char *name = container_name(cl);
	double deadline = progress_now() + timeout;
	int rc = -1;

	if (!name)
		goto out;
	for (;;) {
		json_t *now = NULL;
		const char *pid;
		json_t *v;
		int left = 0;

		if (workers(e, name, &now) < 0)
			goto out;
		json_object_foreach((json_t *)old, pid, v)
			left += json_object_get(now, pid) != NULL;
		json_decref(now);
		if (!left) {
			rc = 0;
			break;
		}
		if (interruptible && http_interrupted()) {
			err_set("interrupted");
			break;
		}
		if (progress_now() >= deadline) {
			err_set("requests begun before the reload are still running after %d s", timeout);
			break;
		}
		usleep(20 * 1000);
	}
out:
	if (rc < 0)
		err_wrap("waiting for the front proxy's old workers");
	free(name);
	return rc;
}

int proxy_wait(const char *bind, int port, const char *path, int up, int timeout)
{
	struct http *h = http_open(NULL);
	char url[300];
	const char *host = strcmp(bind, "0.0.0.0") == 0 ? "127.0.0.1" : strcmp(bind, "::") == 0 ? "::1" : bind;
	double deadline = progress_now() + timeout;
	int rc = -1;

	if (!h)
		return -1;
	snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", host, port, path);
	for (;;) {
		struct http_req r = {.url = url, .timeout_ms = 3000, .connect_timeout_ms = 1000};
		struct buf b = BUF_INIT;
		long status = 0;
		int answered = http_do(h, &r, &status, &b, NULL) == 0;

		buf_free(&b);
		if (up ? answered && status >= 200 && status < 300 : !answered) {
			rc = 0;
			break;
		}
		if (http_interrupted()) {
			err_set("interrupted");
			break;
		}
		if (progress_now() >= deadline) {
			err_set("port %d %s after %d s", port, up ? "does not answer through the proxy" : "still answers",
				timeout);
			break;
		}
		usleep(100 * 1000);
	}
	http_close(h);
	return rc;
}
