#include "engine.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "ipnet.h"
#include "mem.h"
#include "name.h"
#include "report.h"

struct engine {
	struct http *http;
	char *socket;
	char api[16];
};

static int parse_version(const char *s, int *maj, int *min)
{
	char *end;

	*maj = (int)strtol(s, &end, 10);
	if (end == s || *end != '.')
		return -1;
	s = end + 1;
	*min = (int)strtol(s, &end, 10);
	return end == s || *end ? -1 : 0;
}

const struct error *engine_api_pick(const char *server, char *out, size_t outlen)
{
	int smaj, smin, lmaj = 0, lmin = 0, hmaj = 0, hmin = 0;

	if (parse_version(server, &smaj, &smin) < 0)
		return error_fmt("engine reports API version \"%s\", which is not a version", server);
	parse_version(ENGINE_API_MIN, &lmaj, &lmin);
	parse_version(ENGINE_API_MAX, &hmaj, &hmin);
	if (smaj < lmaj || (smaj == lmaj && smin < lmin))
		return error_fmt("engine speaks API %s; korcluster needs %s or later", server, ENGINE_API_MIN);
	if (smaj > hmaj || (smaj == hmaj && smin > hmin))
		snprintf(out, outlen, "%d.%d", hmaj, hmin);
	else
		snprintf(out, outlen, "%d.%d", smaj, smin);
	return NULL;
}

const struct error *engine_open(struct engine **out)
{
	const char *host = getenv("DOCKER_HOST");
	const struct error *err;
	struct engine *e;
	struct buf hdr = BUF_INIT, body = BUF_INIT;
	struct http_req r = {.url = "http://docker/_ping", .timeout_ms = 10000};
	char server[32];
	long status = 0;

	*out = NULL;
	if (host && *host && strncmp(host, "unix://", 7) != 0)
		return error_fmt("DOCKER_HOST \"%s\" is not unix://PATH; korcluster talks to a local engine only", host);
	e = xcalloc(1, sizeof *e);
	e->socket = xstrdup(host && *host ? host + 7 : "/var/run/docker.sock");
	if ((err = http_open(e->socket, &e->http)))
		goto out;
	if ((err = http_do(e->http, &r, &status, &body, &hdr))) {
		err = error_wrap(err, "no Docker engine answers");
		goto out;
	}
	if (status != 200)
		err = error_fmt("engine /_ping answered %ld", status);
	else if (http_header(buf_str(&hdr), "Api-Version", server, sizeof server) < 0)
		err = error_fmt("engine /_ping sent no Api-Version header");
	else
		err = engine_api_pick(server, e->api, sizeof e->api);
out:
	buf_free(&hdr);
	buf_free(&body);
	if (err)
		engine_close(e);
	else
		*out = e;
	return err;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	http_close(e->http);
	free(e->socket);
	free(e);
}

const char *engine_api(const struct engine *e)
{
	return e->api;
}

/* An error reply: the engine's {"message": ...} if any. */
static const struct error *reply_error(long status, const struct buf *body)
{
	json_t *j = json_loadb(buf_str(body), body->len, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	const struct error *err;

	if (m)
		err = error_fmt("%s", m);
	else if (body->len)
		err = error_fmt("engine answered %ld: %.200s", status, body->data);
	else
		err = error_fmt("engine answered %ld", status);
	json_decref(j);
	return err;
}

static char *url(struct engine *e, const char *path)
{
	return xasprintf("http://docker/v%s%s", e->api, path);
}

char *engine_path(struct engine *e, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		if (f[0] == '%' && f[1] == 's') {
			char *seg = http_escape(e->http, va_arg(ap, const char *));

			buf_append(&b, seg, strlen(seg));
			free(seg);
			f++;
		} else if (f[0] == '%' && f[1] == 'd') {
			buf_printf(&b, "%d", va_arg(ap, int));
			f++;
		} else {
			buf_append(&b, f, 1);
		}
	}
	va_end(ap);
	return b.data ? b.data : xstrdup("");
}

static int refused(long status, long tolerate)
{
	return (status >= 400 || (status >= 301 && status <= 308 && status != 304)) && status != tolerate;
}

const struct error *engine_call(struct engine *e, const char *method, const char *path, json_t *body, json_t **out,
				long tolerate, long *statusp)
{
	const struct error *err;
	struct http_req r = {.method = method};
	struct buf resp = BUF_INIT;
	char *u = url(e, path), *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = 0;

	if (out)
		*out = NULL;
	if (body && !b)
		report_out_of_memory();
	r.url = u;
	r.body = b;
	/* A stuck engine must not hang korcluster; waits for containers to
	 * stop or exit take as long as they take. */
	if (!strstr(path, "/stop") && !strstr(path, "/wait"))
		r.timeout_ms = 120 * 1000;
	if ((err = http_do(e->http, &r, &status, &resp, NULL)))
		goto out;
	if (refused(status, tolerate)) {
		err = reply_error(status, &resp);
		goto out;
	}
	if (out && status < 300 && resp.len) {
		json_error_t je;

		if (!(*out = json_loadb(resp.data, resp.len, 0, &je)))
			err = error_fmt("engine sent malformed JSON: %s", je.text);
	}
out:
	if (statusp)
		*statusp = status;
	buf_free(&resp);
	free(b);
	free(u);
	return err;
}

/* engine_call() of path, freed after. */
static const struct error *call(struct engine *e, const char *method, char *path, json_t *body, json_t **out,
				long tolerate, long *status)
{
	const struct error *err = engine_call(e, method, path, body, out, tolerate, status);

	free(path);
	return err;
}

const struct error *engine_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	long s = 0;
	const struct error *err = call(e, "GET", engine_path(e, "/images/%s/json", ref), NULL, out, 404, &s);

	if (!err && s == 404) {
		json_decref(*out);
		*out = NULL;
	}
	return error_wrap(err, "inspecting image \"%s\"", ref);
}

const struct error *engine_image_present(struct engine *e, const char *ref, int *present)
{
	json_t *info = NULL;
	const struct error *err = engine_image_inspect(e, ref, &info);

	*present = !err && info;
	json_decref(info);
	return err;
}

struct pull {
	struct lines lines;
	void (*on_event)(void *ctx, json_t *ev);
	void *ctx;
	char *error; /* first error the stream reported */
};

static const struct error *pull_line(void *ctx, const char *line, size_t len)
{
	struct pull *p = ctx;
	json_t *ev;
	const char *m;

	if (len == 0 || !(ev = json_loadb(line, len, 0, NULL)))
		return NULL; /* not ours to judge: ignore noise */
	m = json_string_value(json_object_get(ev, "error"));
	if (!m)
		m = json_string_value(json_object_get(json_object_get(ev, "errorDetail"), "message"));
	if (m && !p->error)
		p->error = xstrdup(m);
	if (p->on_event)
		p->on_event(p->ctx, ev);
	json_decref(ev);
	return NULL;
}

static const struct error *pull_sink(void *ctx, const char *data, size_t len)
{
	return lines_feed(&((struct pull *)ctx)->lines, data, len);
}

/* A POST whose 200 reply streams JSON objects (a pull, a build): each goes
 * to on_event; an error object in the stream fails it. */
static const struct error *stream_call(struct engine *e, struct http_req *r, const char *path,
				       void (*on_event)(void *ctx, json_t *ev), void *ctx)
{
	const struct error *err;
	struct pull p = {.on_event = on_event, .ctx = ctx};
	struct buf resp = BUF_INIT;
	char *u = url(e, path);
	long status = 0;

	lines_init(&p.lines, pull_line, &p);
	r->method = "POST";
	r->sink = pull_sink;
	r->ctx = &p;
	r->url = u;
	if (!(err = http_do(e->http, r, &status, &resp, NULL)) && !(err = lines_finish(&p.lines))) {
		if (status >= 400)
			err = reply_error(status, &resp);
		else if (p.error)
			err = error_fmt("%s", p.error);
	}
	/* r outlives this call: leave nothing in it that points here. */
	r->ctx = NULL;
	r->url = NULL;
	lines_free(&p.lines);
	buf_free(&resp);
	free(p.error);
	free(u);
	return err;
}

const struct error *engine_image_pull(struct engine *e, const char *ref, const char *auth,
				      void (*on_event)(void *ctx, json_t *ev), void *ctx)
{
	const struct error *err;
	const char *headers[] = {auth, NULL};
	struct http_req r = {.headers = headers};
	char *repo, *tag, *erepo, *etag, *path;

	/* fromImage takes the repository; tag takes a tag or a digest. */
	name_image_split(ref, &repo, &tag);
	erepo = http_escape(e->http, repo);
	etag = http_escape(e->http, tag);
	path = xasprintf("/images/create?fromImage=%s&tag=%s", erepo, etag);
	err = stream_call(e, &r, path, on_event, ctx);
	free(repo);
	free(tag);
	free(erepo);
	free(etag);
	free(path);
	return error_wrap(err, "pulling \"%s\"", ref);
}

const struct error *engine_build(struct engine *e, const struct engine_build_req *b,
				 void (*on_event)(void *ctx, json_t *ev), void *ctx)
{
	const struct error *err;
	const char *headers[] = {"Content-Type: application/x-tar", b->auth, NULL};
	struct http_req r = {.headers = headers, .upload = b->remote ? NULL : b->source, .upload_ctx = b->source_ctx};
	struct buf q = BUF_INIT;
	char *t = http_escape(e->http, b->tag);

	/* rm, forcerm: no intermediate container is left, even on failure. */
	buf_printf(&q, "/build?t=%s&rm=1&forcerm=1", t);
	if (b->remote) {
		char *rem = http_escape(e->http, b->remote);

		buf_printf(&q, "&remote=%s", rem);
		free(rem);
	}
	err = stream_call(e, &r, q.data, on_event, ctx);
	buf_free(&q);
	free(t);
	return err;
}

const struct error *engine_network_subnet(struct engine *e, const char *name, char *subnet, size_t n, int *found)
{
	json_t *info = NULL;
	const char *sub;
	long s = 0;
	const struct error *err = call(e, "GET", engine_path(e, "/networks/%s", name), NULL, &info, 404, &s);

	*found = 0;
	if (err)
		return error_wrap(err, "inspecting network \"%s\"", name);
	*found = s == 200;
	subnet[0] = '\0';
	sub = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(info, "IPAM"), "Config"), 0),
						"Subnet"));
	if (sub)
		snprintf(subnet, n, "%s", sub);
	json_decref(info);
	return NULL;
}

const struct error *engine_network_ensure(struct engine *e, const char *name, json_t *labels, char *subnet, size_t n)
{
	const struct error *err;
	json_t *body;
	char range[64];
	int found;

	if ((err = engine_network_subnet(e, name, subnet, n, &found)))
		return err;
	if (found)
		return subnet[0] ? NULL : error_fmt("network \"%s\" has no IPv4 subnet", name);
	/* Let the engine pick a free subnet, then pin it: fixed addresses need
	 * a subnet given at creation. */
	body = json_pack("{s:s, s:b, s:s}", "Name", name, "CheckDuplicate", 1, "Driver", "bridge");
	err = engine_call(e, "POST", "/networks/create", body, NULL, 0, NULL);
	json_decref(body);
	if (err || (err = engine_network_subnet(e, name, subnet, n, &found)) || (err = engine_network_remove(e, name)))
		return error_wrap(err, "creating network \"%s\"", name);
	if (!subnet[0])
		return error_fmt("creating network \"%s\": the engine gave it no IPv4 subnet", name);
	if ((err = ipnet_lower_half(subnet, range, sizeof range)))
		return error_wrap(err, "creating network \"%s\"", name);
	body = json_pack("{s:s, s:b, s:s, s:O, s:{s:s, s:[{s:s, s:s}]}}", "Name", name, "CheckDuplicate", 1, "Driver",
			 "bridge", "Labels", labels, "IPAM", "Driver", "default", "Config", "Subnet", subnet, "IPRange",
			 range);
	err = engine_call(e, "POST", "/networks/create", body, NULL, 0, NULL);
	json_decref(body);
	return error_wrap(err, "creating network \"%s\"", name);
}

const struct error *engine_network_remove(struct engine *e, const char *name)
{
	return error_wrap(call(e, "DELETE", engine_path(e, "/networks/%s", name), NULL, NULL, 404, NULL),
			  "removing network \"%s\"", name);
}

const struct error *engine_container_create(struct engine *e, const char *name, json_t *config)
{
	return error_wrap(call(e, "POST", engine_path(e, "/containers/create?name=%s", name), config, NULL, 0, NULL),
			  "creating container \"%s\"", name);
}

const struct error *engine_container_start(struct engine *e, const char *id)
{
	return error_wrap(call(e, "POST", engine_path(e, "/containers/%s/start", id), NULL, NULL, 0, NULL),
			  "starting container \"%s\"", id);
}

const struct error *engine_container_stop(struct engine *e, const char *id, int timeout)
{
	char *p = timeout < 0 ? engine_path(e, "/containers/%s/stop", id)
			      : engine_path(e, "/containers/%s/stop?t=%d", id, timeout);

	return error_wrap(call(e, "POST", p, NULL, NULL, 404, NULL), "stopping container \"%s\"", id);
}

const struct error *engine_container_rename(struct engine *e, const char *id, const char *name)
{
	return error_wrap(call(e, "POST", engine_path(e, "/containers/%s/rename?name=%s", id, name), NULL, NULL, 0, NULL),
			  "renaming container \"%s\" to \"%s\"", id, name);
}

const struct error *engine_container_remove(struct engine *e, const char *id)
{
	return error_wrap(call(e, "DELETE", engine_path(e, "/containers/%s?force=1&v=1", id), NULL, NULL, 404, NULL),
			  "removing container \"%s\"", id);
}

const struct error *engine_container_wait(struct engine *e, const char *id, int *status)
{
	json_t *out = NULL;
	const struct error *err = call(e, "POST", engine_path(e, "/containers/%s/wait", id), NULL, &out, 0, NULL);

	if (!err)
		*status = (int)json_integer_value(json_object_get(out, "StatusCode"));
	json_decref(out);
	return error_wrap(err, "waiting for container \"%s\"", id);
}

const struct error *engine_container_inspect(struct engine *e, const char *id, json_t **out)
{
	long s = 0;
	const struct error *err = call(e, "GET", engine_path(e, "/containers/%s/json", id), NULL, out, 404, &s);

	if (!err && s == 404) {
		json_decref(*out);
		*out = NULL;
	}
	return error_wrap(err, "inspecting container \"%s\"", id);
}

const struct error *engine_container_list(struct engine *e, const char *label, json_t **out)
{
	const struct error *err;
	json_t *f = json_pack("{s:[s]}", "label", label);
	char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL, *ef;

	if (!fs)
		report_out_of_memory();
	ef = http_escape(e->http, fs);
	err = call(e, "GET", xasprintf("/containers/json?all=1&filters=%s", ef), NULL, out, 0, NULL);
	json_decref(f);
	free(fs);
	free(ef);
	if (err)
		return error_wrap(err, "listing containers");
	if (!*out)
		*out = json_array();
	return NULL;
}

const struct error *engine_container_top(struct engine *e, const char *id, json_t **out)
{
	return error_wrap(call(e, "GET", engine_path(e, "/containers/%s/top", id), NULL, out, 0, NULL),
			  "listing the processes of \"%s\"", id);
}

const struct error *engine_container_resize(struct engine *e, const char *id, int rows, int cols)
{
	return call(e, "POST", engine_path(e, "/containers/%s/resize?h=%d&w=%d", id, rows, cols), NULL, NULL, 0, NULL);
}

static const struct error *demux_sink(void *ctx, const char *data, size_t len)
{
	return demux_feed(ctx, data, len);
}

static const struct error *stream_frames(struct engine *e, const char *method, const char *path, json_t *body,
					 frame_fn fn, void *ctx, long timeout_ms)
{
	const struct error *err;
	struct demux dm;
	struct http_req r = {.method = method, .sink = demux_sink, .ctx = &dm, .timeout_ms = timeout_ms};
	struct buf resp = BUF_INIT;
	char *u = url(e, path), *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = 0;

	if (body && !b)
		report_out_of_memory();
	demux_init(&dm, fn, ctx);
	r.url = u;
	r.body = b;
	if (!(err = http_do(e->http, &r, &status, &resp, NULL)) && status >= 400)
		err = reply_error(status, &resp);
	buf_free(&resp);
	free(u);
	free(b);
	return err;
}

const struct error *engine_exec_stream(struct engine *e, const char *id, char *const *argv, const char *user,
				      frame_fn fn, void *ctx, int *exit_code, long timeout_ms)
{
	const struct error *err;
	json_t *cmd = json_array(), *body, *reply = NULL, *done = NULL;
	char *eid = NULL, *p;

	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	body = json_pack("{s:b, s:b, s:b, s:o}", "AttachStdin", 0, "AttachStdout", 1, "AttachStderr", 1, "Cmd", cmd);
	if (user)
		json_object_set_new(body, "User", json_string(user));
	if ((err = call(e, "POST", engine_path(e, "/containers/%s/exec", id), body, &reply, 0, NULL)))
		goto out;
	if (!json_string_value(json_object_get(reply, "Id"))) {
		err = error_fmt("engine gave no exec id");
		goto out;
	}
	eid = xstrdup(json_string_value(json_object_get(reply, "Id")));
	json_decref(body);
	body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", 0);
	p = engine_path(e, "/exec/%s/start", eid);
	err = stream_frames(e, "POST", p, body, fn, ctx, timeout_ms);
	free(p);
	if (err || (err = call(e, "GET", engine_path(e, "/exec/%s/json", eid), NULL, &done, 0, NULL)))
		goto out;
	if (!json_is_integer(json_object_get(done, "ExitCode")))
		err = error_fmt("the engine did not report how the command ended");
	else
		*exit_code = (int)json_integer_value(json_object_get(done, "ExitCode"));
out:
	json_decref(body);
	json_decref(reply);
	json_decref(done);
	free(eid);
	return error_wrap(err, "running \"%s\" in \"%s\"", argv[0], id);
}

const struct error *engine_exec(struct engine *e, const char *id, char *const *argv, int *exit_code, struct buf *out,
				long timeout_ms)
{
	return engine_exec_stream(e, id, argv, NULL, frame_collect, out, exit_code, timeout_ms);
}

const struct error *engine_logs(struct engine *e, const char *id, int follow, int tail, frame_fn fn, void *ctx)
{
	char tailv[16], *p;
	const struct error *err;

	if (tail < 0)
		snprintf(tailv, sizeof tailv, "all");
	else
		snprintf(tailv, sizeof tailv, "%d", tail);
	p = engine_path(e, "/containers/%s/logs?stdout=1&stderr=1&follow=%d&tail=%s", id, follow, tailv);
	err = stream_frames(e, "GET", p, NULL, fn, ctx, 0);
	free(p);
	return error_wrap(err, "reading logs of \"%s\"", id);
}

const char *engine_container_ip(json_t *inspect, const char *network)
{
	json_t *n = json_object_get(json_object_get(json_object_get(inspect, "NetworkSettings"), "Networks"), network);
	const char *ip = json_string_value(json_object_get(n, "IPAddress"));

	return ip && *ip ? ip : NULL;
}

int engine_running(json_t *inspect)
{
	return json_is_true(json_object_get(json_object_get(inspect, "State"), "Running"));
}

const char *engine_listed_health(const json_t *summary)
{
	const char *h = json_string_value(json_object_get(json_object_get(summary, "Health"), "Status"));
	const char *st = json_string_value(json_object_get(summary, "Status"));

	/* Newer engines say it in Health.Status; all in Status's end. */
	if (!h && st) {
		size_t n = strlen(st);

		if (n >= 10 && strcmp(st + n - 10, " (healthy)") == 0)
			h = "healthy";
		else if (n >= 12 && strcmp(st + n - 12, " (unhealthy)") == 0)
			h = "unhealthy";
	}
	if (h && strcmp(h, "healthy") == 0)
		return "healthy";
	if (h && strcmp(h, "unhealthy") == 0)
		return "unhealthy";
	return NULL;
}

/* Send all of len bytes over a connect-only handle. */
static const struct error *send_all(CURL *c, curl_socket_t fd, const char *p, size_t len)
{
	while (len > 0) {
		size_t n = 0;
		CURLcode r = curl_easy_send(c, p, len, &n);

		if (r == CURLE_AGAIN) {
			struct pollfd pf = {fd, POLLOUT, 0};

			poll(&pf, 1, 1000);
			continue;
		}
		if (r != CURLE_OK)
			return error_fmt("sending to the engine: %s", curl_easy_strerror(r));
		p += n;
		len -= n;
	}
	return NULL;
}

const struct error *engine_attach_tty(struct engine *e, const char *id, const struct error *(*started)(void *ctx),
				      void *ctx, int in_fd, frame_fn out, void *out_ctx)
{
	const struct error *err = NULL;
	CURL *c = curl_easy_init();
	char *eid = http_escape(e->http, id), head[4096], *u, *req;
	size_t have = 0;
	curl_socket_t fd = CURL_SOCKET_BAD;
	int in_open = 1;

	u = xasprintf("http://docker/v%s/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1", e->api, eid);
	req = xasprintf("POST /v%s/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
			"Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n",
			e->api, eid);
	if (!c) {
		err = error_fmt("initialising libcurl failed");
		goto out;
	}
	/* libcurl connects; the hijacked stream after the 101 is ours. */
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->socket);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	if (curl_easy_perform(c) != CURLE_OK || curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		err = error_fmt("cannot connect to \"%s\"", e->socket);
		goto out;
	}
	if ((err = send_all(c, fd, req, strlen(req))))
		goto out;
	/* The reply's head, then whatever stream bytes came with it. */
	for (;;) {
		size_t n = 0;
		CURLcode r = curl_easy_recv(c, head + have, sizeof head - 1 - have, &n);
		char *end;

		if (r == CURLE_AGAIN) {
			struct pollfd pf = {fd, POLLIN, 0};

			poll(&pf, 1, 1000);
			continue;
		}
		if (r != CURLE_OK || n == 0) {
			err = error_fmt("the engine closed the attach connection");
			goto out;
		}
		have += n;
		head[have] = '\0';
		if ((end = strstr(head, "\r\n\r\n"))) {
			size_t hlen = (size_t)(end + 4 - head);

			if (strncmp(head, "HTTP/1.1 101", 12) != 0 && strncmp(head, "HTTP/1.1 200", 12) != 0) {
				err = error_fmt("the engine refused to attach: %.*s", (int)strcspn(head, "\r"), head);
				goto out;
			}
			if (have > hlen && (err = out(out_ctx, FRAME_STDOUT, head + hlen, have - hlen)))
				goto out;
			break;
		}
		if (have >= sizeof head - 1) {
			err = error_fmt("the engine's attach reply is too long");
			goto out;
		}
	}
	if (started && (err = started(ctx)))
		goto out;
	for (;;) {
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {in_fd, POLLIN, 0}};
		char b[16384];
		size_t n = 0;
		CURLcode r;

		if (poll(pf, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = error_errno("waiting for input");
			goto out;
		}
		if (in_open && (pf[1].revents & (POLLIN | POLLHUP))) {
			ssize_t k = read(in_fd, b, sizeof b);

			if (k <= 0)
				in_open = 0;
			else if ((err = send_all(c, fd, b, (size_t)k)))
				goto out;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = curl_easy_recv(c, b, sizeof b, &n);
			if (r == CURLE_AGAIN)
				continue;
			if (r != CURLE_OK || n == 0)
				break; /* the container's output ended */
			if ((err = out(out_ctx, FRAME_STDOUT, b, n)))
				goto out;
		}
	}
out:
	curl_easy_cleanup(c);
	free(u);
	free(req);
	free(eid);
	return err;
}

json_t *engine_mount(const char *src, const char *dst, int readonly)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", src, "Target", dst, "ReadOnly", readonly);
}

const struct error *engine_config_label(json_t *config)
{
	json_t *labels = json_object_get(config, "Labels");
	char *text, hex[17];
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	if (!labels)
		return error_fmt("container config has no labels");
	json_object_del(labels, "korcluster.config");
	if (!(text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS)))
		report_out_of_memory();
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	free(text);
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
	json_object_set_new(labels, "korcluster.config", json_string(hex));
	return NULL;
}
