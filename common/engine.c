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

#include "err.h"
#include "fs.h"
#include "http.h"
#include "ipnet.h"
#include "name.h"

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

int engine_api_pick(const char *server, char *out, size_t outlen)
{
	int smaj, smin, lmaj, lmin, hmaj, hmin;

	if (parse_version(server, &smaj, &smin) < 0)
		return err_set("engine reports API version \"%s\", which is not a version", server);
	parse_version(ENGINE_API_MIN, &lmaj, &lmin);
	parse_version(ENGINE_API_MAX, &hmaj, &hmin);
	if (smaj < lmaj || (smaj == lmaj && smin < lmin))
		return err_set("engine speaks API %s; korcluster needs %s or later", server,
			       ENGINE_API_MIN);
	if (smaj > hmaj || (smaj == hmaj && smin > hmin))
		snprintf(out, outlen, "%d.%d", hmaj, hmin);
	else
		snprintf(out, outlen, "%d.%d", smaj, smin);
	return 0;
}

int engine_open(struct engine **out)
{
	const char *host = getenv("DOCKER_HOST");
	struct engine *e = calloc(1, sizeof *e);
	struct buf hdr = BUF_INIT, body = BUF_INIT;
	struct http_req r = {0};
	char server[32];
	long status = 0;

	if (!e)
		return err_set("out of memory");
	if (host && *host) {
		if (strncmp(host, "unix://", 7) != 0) {
			free(e);
			return err_set("DOCKER_HOST \"%s\" is not unix://PATH; korcluster talks to a local engine only", host);
		}
		e->socket = strdup(host + 7);
	} else {
		e->socket = strdup("/var/run/docker.sock");
	}
	if (!e->socket || !(e->http = http_open(e->socket)))
		goto fail;
	r.url = "http://docker/_ping";
	r.timeout_ms = 10000;
	if (http_do(e->http, &r, &status, &body, &hdr) < 0) {
		err_wrap("no Docker engine answers");
		goto fail;
	}
	if (status != 200) {
		err_set("engine /_ping answered %ld", status);
		goto fail;
	}
	if (http_header(hdr.data, "Api-Version", server, sizeof server) < 0) {
		err_set("engine /_ping sent no Api-Version header");
		goto fail;
	}
	if (engine_api_pick(server, e->api, sizeof e->api) < 0)
		goto fail;
	buf_free(&hdr);
	buf_free(&body);
	*out = e;
	return 0;
fail:
	buf_free(&hdr);
	buf_free(&body);
	engine_close(e);
	return -1;
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

/* Turn an error reply into err: the engine's {"message": ...} if any. */
static int fail_with(long status, const struct buf *body)
{
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;

	if (m)
		err_set("%s", m);
	else if (body->len)
		err_set("engine answered %ld: %.200s", status, body->data);
	else
		err_set("engine answered %ld", status);
	json_decref(j);
	return -1;
}

static char *url(struct engine *e, const char *path)
{
	char *u;

	if (asprintf(&u, "http://docker/v%s%s", e->api, path) < 0) {
		err_set("out of memory");
		return NULL;
	}
	return u;
}

char *engine_path(struct engine *e, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int ok = 1;

	va_start(ap, fmt);
	for (const char *f = fmt; *f && ok; f++) {
		if (f[0] != '%') {
			ok = buf_append(&b, f, 1) == 0;
		} else if (f[1] == 's') {
			char *seg = http_escape(e->http, va_arg(ap, const char *));

			ok = seg && buf_append(&b, seg, strlen(seg)) == 0;
			free(seg);
			f++;
		} else if (f[1] == 'd') {
			ok = buf_printf(&b, "%d", va_arg(ap, int)) == 0;
			f++;
		} else {
			ok = buf_append(&b, f, 1) == 0;
		}
	}
	va_end(ap);
	if (!ok) {
		buf_free(&b);
		err_set("out of memory");
		return NULL;
	}
	return b.data;
}

long engine_call(struct engine *e, const char *method, const char *path, json_t *body,
		 json_t **out, long tolerate)
{
	struct http_req r = {0};
	struct buf resp = BUF_INIT;
	char *u = url(e, path), *b = NULL;
	long status = -1;

	if (out)
		*out = NULL;
	if (!u)
		return -1;
	if (body && !(b = json_dumps(body, JSON_COMPACT))) {
		free(u);
		return err_set("out of memory");
	}
	r.method = method;
	r.url = u;
	r.body = b;
	/* A stuck engine must not hang korcluster; waits for containers to
	 * stop or exit take as long as they take. */
	if (!strstr(path, "/stop") && !strstr(path, "/wait"))
		r.timeout_ms = 120 * 1000;
	if (http_do(e->http, &r, &status, &resp, NULL) < 0) {
		status = -1;
		goto out;
	}
	if ((status >= 400 || (status >= 301 && status <= 308 && status != 304)) && status != tolerate) {
		fail_with(status, &resp);
		status = -1;
		goto out;
	}
	if (out && status < 300 && resp.len) {
		json_error_t je;

		if (!(*out = json_loadb(resp.data, resp.len, 0, &je))) {
			err_set("engine sent malformed JSON: %s", je.text);
			status = -1;
		}
	}
out:
	buf_free(&resp);
	free(b);
	free(u);
	return status;
}

int engine_image_present(struct engine *e, const char *ref)
{
	char *p = engine_path(e, "/images/%s/json", ref);
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "GET", p, NULL, NULL, 404);
	free(p);
	if (s < 0)
		return -1;
	return s == 200;
}

struct pull {
	struct lines lines;
	void (*on_event)(void *ctx, json_t *ev);
	void *ctx;
	char *error; /* first error the stream reported */
};

static int pull_line(void *ctx, const char *line, size_t len)
{
	struct pull *p = ctx;
	json_t *ev;
	const char *m;

	if (len == 0)
		return 0;
	if (!(ev = json_loadb(line, len, 0, NULL)))
		return 0; /* not ours to judge: ignore noise */
	m = json_string_value(json_object_get(ev, "error"));
	if (!m)
		m = json_string_value(json_object_get(json_object_get(ev, "errorDetail"), "message"));
	if (m && !p->error)
		p->error = strdup(m);
	if (p->on_event)
		p->on_event(p->ctx, ev);
	json_decref(ev);
	return 0;
}

static int pull_sink(void *ctx, const char *data, size_t len)
{
	return lines_feed(&((struct pull *)ctx)->lines, data, len);
}

int engine_image_pull(struct engine *e, const char *ref,
		      void (*on_event)(void *ctx, json_t *ev), void *ctx)
{
	struct pull p = {.on_event = on_event, .ctx = ctx};
	struct http_req r = {0};
	struct buf resp = BUF_INIT;
	char *repo = NULL, *tag = NULL, *erepo = NULL, *etag = NULL, *path = NULL, *u = NULL;
	long status = 0;
	int rc = -1;

	lines_init(&p.lines, pull_line, &p);
	/* fromImage takes the repository; tag takes a tag or a digest. */
	if (name_image_split(ref, &repo, &tag) < 0)
		goto out;
	if (!(erepo = http_escape(e->http, repo)) || !(etag = http_escape(e->http, tag)) ||
	    !(path = fs_pathf("/images/create?fromImage=%s&tag=%s", erepo, etag)) || !(u = url(e, path)))
		goto out;
	r.method = "POST";
	r.url = u;
	r.sink = pull_sink;
	r.ctx = &p;
	if (http_do(e->http, &r, &status, &resp, NULL) < 0)
		goto out;
	lines_finish(&p.lines);
	if (status >= 400) {
		fail_with(status, &resp);
		goto out;
	}
	if (p.error) {
		err_set("%s", p.error);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		err_wrap("pulling \"%s\"", ref);
	lines_free(&p.lines);
	buf_free(&resp);
	free(p.error);
	free(repo);
	free(tag);
	free(erepo);
	free(etag);
	free(path);
	free(u);
	return rc;
}

int engine_network_subnet(struct engine *e, const char *name, char *subnet, size_t n, int *found)
{
	char *p = engine_path(e, "/networks/%s", name);
	json_t *info = NULL;
	const char *sub;
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "GET", p, NULL, &info, 404);
	free(p);
	if (s < 0)
		return err_wrap("inspecting network \"%s\"", name);
	*found = s == 200;
	subnet[0] = '\0';
	sub = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(info, "IPAM"),
									      "Config"), 0), "Subnet"));
	if (sub)
		snprintf(subnet, n, "%s", sub);
	json_decref(info);
	return 0;
}

int engine_network_ensure(struct engine *e, const char *name, json_t *labels, char *subnet, size_t n)
{
	json_t *body;
	char range[64];
	int found;
	long s;

	if (engine_network_subnet(e, name, subnet, n, &found) < 0)
		return -1;
	if (found)
		return subnet[0] ? 0 : err_set("network \"%s\" has no IPv4 subnet", name);
	/* Let the engine pick a free subnet, then pin it: fixed addresses need
	 * a subnet given at creation. */
	body = json_pack("{s:s, s:b, s:s}", "Name", name, "CheckDuplicate", 1, "Driver", "bridge");
	s = engine_call(e, "POST", "/networks/create", body, NULL, 0);
	json_decref(body);
	if (s < 0 || engine_network_subnet(e, name, subnet, n, &found) < 0 || engine_network_remove(e, name) < 0)
		return err_wrap("creating network \"%s\"", name);
	if (!subnet[0] || ipnet_lower_half(subnet, range, sizeof range) < 0)
		return err_wrap("creating network \"%s\"", name);
	body = json_pack("{s:s, s:b, s:s, s:O, s:{s:s, s:[{s:s, s:s}]}}", "Name", name, "CheckDuplicate", 1,
			 "Driver", "bridge", "Labels", labels, "IPAM", "Driver", "default", "Config",
			 "Subnet", subnet, "IPRange", range);
	s = engine_call(e, "POST", "/networks/create", body, NULL, 0);
	json_decref(body);
	return s < 0 ? err_wrap("creating network \"%s\"", name) : 0;
}

int engine_network_remove(struct engine *e, const char *name)
{
	char *p = engine_path(e, "/networks/%s", name);
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "DELETE", p, NULL, NULL, 404);
	free(p);
	return s < 0 ? err_wrap("removing network \"%s\"", name) : 0;
}

int engine_container_create(struct engine *e, const char *name, json_t *config, char **id)
{
	char *p = engine_path(e, "/containers/create?name=%s", name);
	json_t *out = NULL;
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "POST", p, config, &out, 0);
	free(p);
	if (s < 0)
		return err_wrap("creating container \"%s\"", name);
	if (id) {
		const char *v = json_string_value(json_object_get(out, "Id"));

		*id = v ? strdup(v) : NULL;
	}
	json_decref(out);
	return 0;
}

static int simple(struct engine *e, const char *method, const char *path, long tolerate,
		  const char *what, const char *id)
{
	long s = engine_call(e, method, path, NULL, NULL, tolerate);

	return s < 0 ? err_wrap("%s container \"%s\"", what, id) : 0;
}

int engine_container_start(struct engine *e, const char *id)
{
	char *p = engine_path(e, "/containers/%s/start", id);
	int r = p ? simple(e, "POST", p, 0, "starting", id) : -1;

	free(p);
	return r;
}

int engine_container_stop(struct engine *e, const char *id, int timeout)
{
	char *p = timeout < 0 ? engine_path(e, "/containers/%s/stop", id) : engine_path(e, "/containers/%s/stop?t=%d", id, timeout);
	int r = p ? simple(e, "POST", p, 404, "stopping", id) : -1;

	free(p);
	return r;
}

int engine_container_remove(struct engine *e, const char *id)
{
	char *p = engine_path(e, "/containers/%s?force=1&v=1", id);
	int r = p ? simple(e, "DELETE", p, 404, "removing", id) : -1;

	free(p);
	return r;
}

int engine_container_wait(struct engine *e, const char *id, int *status)
{
	char *p = engine_path(e, "/containers/%s/wait", id);
	json_t *out = NULL;
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "POST", p, NULL, &out, 0);
	free(p);
	if (s < 0) {
		json_decref(out);
		return err_wrap("waiting for container \"%s\"", id);
	}
	*status = (int)json_integer_value(json_object_get(out, "StatusCode"));
	json_decref(out);
	return 0;
}

int engine_container_inspect(struct engine *e, const char *id, json_t **out)
{
	char *p = engine_path(e, "/containers/%s/json", id);
	long s;

	if (!p)
		return -1;
	s = engine_call(e, "GET", p, NULL, out, 404);
	free(p);
	if (s < 0)
		return err_wrap("inspecting container \"%s\"", id);
	if (s == 404)
		*out = NULL;
	return 0;
}

int engine_container_list(struct engine *e, const char *label, json_t **out)
{
	json_t *f = json_pack("{s:[s]}", "label", label);
	char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL, *ef = fs ? http_escape(e->http, fs) : NULL;
	char *p = ef ? fs_pathf("/containers/json?all=1&filters=%s", ef) : NULL;
	long s = -1;

	if (p)
		s = engine_call(e, "GET", p, NULL, out, 0);
	else
		err_set("out of memory");
	json_decref(f);
	free(fs);
	free(ef);
	free(p);
	if (s < 0)
		return err_wrap("listing containers");
	if (!*out)
		*out = json_array();
	return 0;
}

static int collect_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	return ctx ? buf_append(ctx, data, len) : 0;
}

static int demux_sink(void *ctx, const char *data, size_t len)
{
	return demux_feed(ctx, data, len);
}

static int stream_frames(struct engine *e, const char *method, const char *path, json_t *body,
			 frame_fn fn, void *ctx, long timeout_ms)
{
	struct demux dm;
	struct http_req r = {0};
	struct buf resp = BUF_INIT;
	char *u = url(e, path), *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = 0;
	int rc = -1;

	demux_init(&dm, fn, ctx);
	if (!u || (body && !b)) {
		err_set("out of memory");
		goto out;
	}
	r.method = method;
	r.url = u;
	r.body = b;
	r.sink = demux_sink;
	r.ctx = &dm;
	r.timeout_ms = timeout_ms;
	if (http_do(e->http, &r, &status, &resp, NULL) < 0)
		goto out;
	if (status >= 400) {
		fail_with(status, &resp);
		goto out;
	}
	rc = 0;
out:
	buf_free(&resp);
	free(u);
	free(b);
	return rc;
}

int engine_exec(struct engine *e, const char *id, char *const *argv, int *exit_code,
		struct buf *out, long timeout_ms)
{
	json_t *cmd = json_array(), *body = NULL, *reply = NULL;
	char *p = NULL;
	const char *eid;
	int rc = -1;

	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	body = json_pack("{s:b, s:b, s:b, s:o}", "AttachStdin", 0, "AttachStdout", 1,
			 "AttachStderr", 1, "Cmd", cmd);
	if (!(p = engine_path(e, "/containers/%s/exec", id)) || engine_call(e, "POST", p, body, &reply, 0) < 0)
		goto out;
	if (!(eid = json_string_value(json_object_get(reply, "Id")))) {
		err_set("engine gave no exec id");
		goto out;
	}
	free(p);
	json_decref(body);
	body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", 0);
	if (!(p = engine_path(e, "/exec/%s/start", eid)) ||
	    stream_frames(e, "POST", p, body, collect_frame, out, timeout_ms) < 0)
		goto out;
	free(p);
	if (!(p = engine_path(e, "/exec/%s/json", eid)))
		goto out;
	json_decref(reply);
	reply = NULL;
	if (engine_call(e, "GET", p, NULL, &reply, 0) < 0)
		goto out;
	if (!json_is_integer(json_object_get(reply, "ExitCode"))) {
		err_set("the engine did not report how the command ended");
		goto out;
	}
	*exit_code = (int)json_integer_value(json_object_get(reply, "ExitCode"));
	rc = 0;
out:
	if (rc < 0)
		err_wrap("running \"%s\" in \"%s\"", argv[0], id);
	json_decref(body);
	json_decref(reply);
	free(p);
	return rc;
}

int engine_logs(struct engine *e, const char *id, int follow, int tail, frame_fn fn, void *ctx)
{
	char tailv[16], *p;
	int rc;

	if (tail < 0)
		snprintf(tailv, sizeof tailv, "all");
	else
		snprintf(tailv, sizeof tailv, "%d", tail);
	if (!(p = engine_path(e, "/containers/%s/logs?stdout=1&stderr=1&follow=%d&tail=%s", id, follow, tailv)))
		return -1;
	rc = stream_frames(e, "GET", p, NULL, fn, ctx, 0);
	free(p);
	return rc < 0 ? err_wrap("reading logs of \"%s\"", id) : 0;
}

const char *engine_container_ip(json_t *inspect, const char *network)
{
	json_t *n = json_object_get(json_object_get(json_object_get(inspect, "NetworkSettings"),
						    "Networks"), network);
	const char *ip = json_string_value(json_object_get(n, "IPAddress"));

	return ip && *ip ? ip : NULL;
}

/* Send all of len bytes over a connect-only handle. */
static int send_all(CURL *c, curl_socket_t fd, const char *p, size_t len)
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
			return err_set("sending to the engine: %s", curl_easy_strerror(r));
		p += n;
		len -= n;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno("writing output");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int engine_attach_tty(struct engine *e, const char *id, int (*started)(void *ctx), void *ctx,
		      int in_fd, int out_fd)
{
	CURL *c = curl_easy_init();
	char *u = NULL, *req = NULL, *eid = NULL, head[4096];
	size_t have = 0;
	curl_socket_t fd = CURL_SOCKET_BAD;
	int rc = -1, in_open = 1;

	if (!c) {
		err_set("out of memory");
		goto out;
	}
	if (!(eid = http_escape(e->http, id)) ||
	    !(u = fs_pathf("http://docker/v%s/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1", e->api, eid)) ||
	    !(req = fs_pathf("POST /v%s/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
			     "Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n",
			     e->api, eid)))
		goto out;
	/* libcurl connects; the hijacked stream after the 101 is ours. */
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->socket);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	if (curl_easy_perform(c) != CURLE_OK || curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		err_set("cannot connect to \"%s\"", e->socket);
		goto out;
	}
	if (send_all(c, fd, req, strlen(req)) < 0)
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
			err_set("the engine closed the attach connection");
			goto out;
		}
		have += n;
		head[have] = '\0';
		if ((end = strstr(head, "\r\n\r\n"))) {
			size_t hlen = (size_t)(end + 4 - head);

			if (strncmp(head, "HTTP/1.1 101", 12) != 0 && strncmp(head, "HTTP/1.1 200", 12) != 0) {
				err_set("the engine refused to attach: %.*s", (int)strcspn(head, "\r"), head);
				goto out;
			}
			if (have > hlen && write_all(out_fd, head + hlen, have - hlen) < 0)
				goto out;
			break;
		}
		if (have >= sizeof head - 1) {
			err_set("the engine's attach reply is too long");
			goto out;
		}
	}
	if (started && started(ctx) < 0)
		goto out;
	for (;;) {
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {in_fd, POLLIN, 0}};
		char b[16384];
		size_t n = 0;
		CURLcode r;

		if (poll(pf, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			err_errno("waiting for input");
			goto out;
		}
		if (in_open && (pf[1].revents & (POLLIN | POLLHUP))) {
			ssize_t k = read(in_fd, b, sizeof b);

			if (k <= 0)
				in_open = 0;
			else if (send_all(c, fd, b, (size_t)k) < 0)
				goto out;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = curl_easy_recv(c, b, sizeof b, &n);
			if (r == CURLE_AGAIN)
				continue;
			if (r != CURLE_OK || n == 0)
				break; /* the container's output ended */
			if (write_all(out_fd, b, n) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	curl_easy_cleanup(c);
	free(u);
	free(req);
	free(eid);
	return rc;
}

int engine_container_top(struct engine *e, const char *id, json_t **out)
{
	char *p = engine_path(e, "/containers/%s/top", id);
	long s = p ? engine_call(e, "GET", p, NULL, out, 0) : -1;

	free(p);
	return s < 0 ? err_wrap("listing the processes of \"%s\"", id) : 0;
}

int engine_container_resize(struct engine *e, const char *id, int rows, int cols)
{
	char *p = engine_path(e, "/containers/%s/resize?h=%d&w=%d", id, rows, cols);
	long s = p ? engine_call(e, "POST", p, NULL, NULL, 0) : -1;

	free(p);
	return s < 0 ? -1 : 0;
}

json_t *engine_mount(const char *src, const char *dst, int readonly)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", src, "Target", dst, "ReadOnly", readonly);
}

int engine_config_label(json_t *config)
{
	json_t *labels = json_object_get(config, "Labels");
	char *text, hex[17];
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	if (!labels)
		return err_set("container config has no labels");
	json_object_del(labels, "korcluster.config");
	if (!(text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS)))
		return err_set("out of memory");
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	free(text);
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
	return json_object_set_new(labels, "korcluster.config", json_string(hex)) ? err_set("out of memory") : 0;
}
