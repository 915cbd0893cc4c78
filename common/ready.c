#include "ready.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "probe.h"
#include "strv.h"
#include "wait.h"

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
	const struct error *err;
	long status;

	if ((err = probe_http_get(ip, port, path, &status)))
		snprintf(why, n, "GET %s: %s", path, err->msg);
	else if (status >= 200 && status < 400)
		return 1;
	else
		snprintf(why, n, "GET %s answered %ld", path, status);
	return 0;
}

static const struct error *probe_exec(struct engine *e, const char *container, const char *cmd, int *ok, char *why,
				      size_t n)
{
	const struct error *err;
	struct strv argv = STRV_INIT;
	struct buf out = BUF_INIT;
	int code = -1;

	if ((err = strv_split(&argv, cmd)) || argv.n == 0) {
		strv_free(&argv);
		return error_wrap(err ? err : error_fmt("empty command"), "ready command \"%s\"", cmd);
	}
	if ((err = engine_exec(e, container, argv.v, &code, &out, 10000))) {
		snprintf(why, n, "%s", err->msg);
	} else if (code == 0) {
		*ok = 1;
	} else {
		int len = buf_trimmed_len(&out);

		snprintf(why, n, "\"%s\" exited %d%s%.*s", cmd, code, len ? ": " : "", len > 200 ? 200 : len, buf_str(&out));
	}
	buf_free(&out);
	strv_free(&argv);
	return NULL;
}

const struct error *ready_probe(struct engine *e, const struct ready_target *t, int *ok, char *why, size_t n)
{
	const struct error *err;
	const struct tpl_service *s = t->svc;
	struct db *db = NULL;
	char v[64];

	why[0] = '\0';
	*ok = 0;
	if (s->ready != READY_NONE && s->ready != READY_EXEC && !t->ip) {
		snprintf(why, n, "container has no address on the cluster network");
		return NULL;
	}
	switch (s->ready) {
	case READY_NONE:
		*ok = 1;
		break;
	case READY_TCP:
		*ok = probe_tcp(t->ip, s->port, why, n);
		break;
	case READY_HTTP:
		*ok = probe_http(t->ip, s->port, s->ready_arg, why, n);
		break;
	case READY_EXEC:
		if (t->quick && s->port) {
			*ok = probe_tcp(t->ip, s->port, why, n);
			break;
		}
		return probe_exec(e, t->container, s->ready_arg, ok, why, n);
	case READY_MYSQL:
		if ((err = db_connect(&db, t->ip, s->port, "root", t->password ? t->password : "", 3)) ||
		    (err = db_query_value(db, "SELECT 1", v, sizeof v)))
			snprintf(why, n, "MySQL login: %s", err->msg);
		else
			*ok = 1;
		db_close(db);
		break;
	}
	return NULL;
}

/* The container's restart count, or -1 once it has stopped for good or
 * keeps restarting; *exit gets its last exit code. */
static int restarts(struct engine *e, const char *container, int *exit)
{
	json_t *info = NULL, *state;
	int n = -1;

	if (engine_container_inspect(e, container, &info) || !info)
		return -1;
	state = json_object_get(info, "State");
	*exit = (int)json_integer_value(json_object_get(state, "ExitCode"));
	if (json_is_true(json_object_get(state, "Running")) && !json_is_true(json_object_get(state, "Restarting")))
		n = (int)json_integer_value(json_object_get(info, "RestartCount"));
	json_decref(info);
	return n;
}

struct look {
	struct engine *e;
	const struct ready_target *t;
	int count;        /* restarts when the wait began */
	double next_look; /* when to look for a crash again */
};

/* A service that crashes will not get ready: say so at once, with its
 * last words. */
static const struct error *crashed(struct look *l)
{
	struct buf out = BUF_INIT;
	const struct error *err;
	int code = 0, now = restarts(l->e, l->t->container, &code), n;

	l->next_look = clock_seconds() + 2;
	if (now >= 0 && (l->count < 0 || now <= l->count))
		return NULL;
	engine_logs(l->e, l->t->container, 0, 3, frame_collect, &out);
	n = buf_trimmed_len(&out);
	if (now < 0)
		err = error_fmt("service \"%s\" stopped while starting (exit %d)", l->t->svc->name, code);
	else
		err = error_fmt("service \"%s\" crashed while starting (the engine restarted it)", l->t->svc->name);
	/* One error line: the output's lines joined (err.h blanks them). */
	if (n)
		err = error_fmt("%s: %.*s", err->msg, n > 300 ? 300 : n, buf_str(&out) + (n > 300 ? n - 300 : 0));
	buf_free(&out);
	return err;
}

static const struct error *look(void *ctx, int *done, char *why, size_t n)
{
	struct look *l = ctx;
	const struct error *err = ready_probe(l->e, l->t, done, why, n);

	if (err || *done)
		return err;
	return clock_seconds() >= l->next_look ? crashed(l) : NULL;
}

const struct error *ready_wait(struct engine *e, const struct ready_target *t, int timeout, double *took)
{
	const struct error *err;
	char label[300];
	struct wait w = {.timeout = timeout, .interval_ms = 250, .label = label};
	int code = 0;
	struct look l = {e, t, restarts(e, t->container, &code), clock_seconds() + 2};

	snprintf(label, sizeof label, "waiting for %s", t->container);
	if ((err = wait_until(&w, look, &l)))
		return err;
	*took = w.took;
	if (w.timed_out)
		return error_fmt("service \"%s\" is not ready after %d s: %s", t->svc->name, timeout,
				 w.why[0] ? w.why : "no answer");
	return NULL;
}
