#include "ready.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "progress.h"
#include "strv.h"

static int probe_tcp(const char *ip, int port, char *why, size_t n)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
	char ps[8];
	int fd, r = 0;

	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(ip, ps, &hints, &ai) != 0) {
		snprintf(why, n, "bad address %s", ip);
		return 0;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			r = 1;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {fd, POLLOUT, 0};
			int soerr = 0;
			socklen_t sl = sizeof soerr;

			if (poll(&p, 1, 2000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0)
				r = 1;
			else
				snprintf(why, n, "port %d: %s", port, soerr ? strerror(soerr) : "no answer");
		} else {
			snprintf(why, n, "port %d: %s", port, strerror(errno));
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return r;
}

static int probe_http(const char *ip, int port, const char *path, char *why, size_t n)
{
	struct http *h = http_open(NULL);
	struct http_req r = {0};
	struct buf body = BUF_INIT;
	char url[512];
	long status = 0;
	int ok = 0;

	if (!h)
		return -1;
	snprintf(url, sizeof url, strchr(ip, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", ip, port, path);
	r.url = url;
	r.timeout_ms = 3000;
	r.connect_timeout_ms = 2000;
	if (http_do(h, &r, &status, &body, NULL) < 0)
		snprintf(why, n, "GET %s: %s", path, err_msg());
	else if (status >= 200 && status < 400)
		ok = 1;
	else
		snprintf(why, n, "GET %s answered %ld", path, status);
	buf_free(&body);
	http_close(h);
	return ok;
}

static int probe_exec(struct engine *e, const char *container, const char *cmd, char *why, size_t n)
{
	struct strv argv = STRV_INIT;
	struct buf out = BUF_INIT;
	int code = -1, r = 0;

	if (strv_split(&argv, cmd) < 0 || argv.n == 0) {
		if (argv.n == 0)
			err_set("empty command");
		strv_free(&argv);
		return err_wrap("ready command \"%s\"", cmd);
	}
	if (engine_exec(e, container, argv.v, &code, &out, 10000) < 0) {
		snprintf(why, n, "%s", err_msg());
	} else if (code == 0) {
		r = 1;
	} else {
		size_t len = out.len;

		while (len && (out.data[len - 1] == '\n' || out.data[len - 1] == '\r'))
			len--;
		snprintf(why, n, "\"%s\" exited %d%s%.*s", cmd, code, len ? ": " : "", (int)(len > 200 ? 200 : len),
			 out.data ? out.data : "");
	}
	buf_free(&out);
	strv_free(&argv);
	return r;
}

int ready_probe(struct engine *e, const struct ready_target *t, char *why, size_t n)
{
	const struct tpl_service *s = t->svc;
	struct db *db = NULL;
	char v[64];

	why[0] = '\0';
	if (s->ready != READY_NONE && s->ready != READY_EXEC && !t->ip) {
		snprintf(why, n, "container has no address on the cluster network");
		return 0;
	}
	switch (s->ready) {
	case READY_NONE:
		return 1;
	case READY_TCP:
		return probe_tcp(t->ip, s->port, why, n);
	case READY_HTTP:
		return probe_http(t->ip, s->port, s->ready_arg, why, n);
	case READY_EXEC:
		return probe_exec(e, t->container, s->ready_arg, why, n);
	case READY_MYSQL:
		if (db_connect(&db, t->ip, s->port, "root", t->password ? t->password : "", 3) < 0 ||
		    db_query_value(db, "SELECT 1", v, sizeof v) < 0) {
			snprintf(why, n, "MySQL login: %s", err_msg());
			db_close(db);
			return 0;
		}
		db_close(db);
		return 1;
	}
	return 0;
}

/* The container's restart count, or -1 once it has stopped for good or
 * keeps restarting; *exit gets its last exit code. */
static int restarts(struct engine *e, const char *container, int *exit)
{
	json_t *info = NULL, *state;
	int n = -1;

	if (engine_container_inspect(e, container, &info) < 0 || !info)
		return -1;
	state = json_object_get(info, "State");
	*exit = (int)json_integer_value(json_object_get(state, "ExitCode"));
	if (json_is_true(json_object_get(state, "Running")) && !json_is_true(json_object_get(state, "Restarting")))
		n = (int)json_integer_value(json_object_get(info, "RestartCount"));
	json_decref(info);
	return n;
}

static int last_line(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	return buf_append(ctx, data, len);
}

int ready_wait(struct engine *e, const struct ready_target *t, int timeout, double *took)
{
	double start = progress_now(), deadline = start + timeout, next_look = start + 2;
	char why[512] = "";
	int code = 0, count = restarts(e, t->container, &code);

	for (;;) {
		int r = ready_probe(e, t, why, sizeof why);

		if (r < 0)
			return -1;
		if (r == 1) {
			progress_clear();
			*took = progress_now() - start;
			return 0;
		}
		/* A service that crashes will not get ready: say so at once. */
		if (progress_now() >= next_look) {
			int now_count = restarts(e, t->container, &code);

			next_look = progress_now() + 2;
			if (now_count < 0 || (count >= 0 && now_count > count)) {
				struct buf out = BUF_INIT;
				size_t n;

				progress_clear();
				engine_logs(e, t->container, 0, 3, last_line, &out);
				n = out.len;
				while (n && (out.data[n - 1] == '\n' || out.data[n - 1] == '\r'))
					n--;
				/* One error line: the output's lines joined. */
				for (size_t i = 0; i < n; i++)
					if (out.data[i] == '\n' || out.data[i] == '\r')
						out.data[i] = ' ';
				if (now_count < 0)
					err_set("service \"%s\" stopped while starting (exit %d)", t->svc->name, code);
				else
					err_set("service \"%s\" crashed while starting (the engine restarted it)",
						t->svc->name);
				if (n)
					err_wrap_after("%.*s", (int)(n > 300 ? 300 : n), out.data + (n > 300 ? n - 300 : 0));
				buf_free(&out);
				return -1;
			}
		}
		if (http_interrupted()) {
			progress_clear();
			return err_set("interrupted");
		}
		if (progress_now() >= deadline)
			break;
		progress_update("waiting for %s: %.0f s (%s)", t->container, progress_now() - start, why);
		usleep(250 * 1000);
	}
	progress_clear();
	return err_set("service \"%s\" is not ready after %d s: %s", t->svc->name, timeout,
		       why[0] ? why : "no answer");
}
