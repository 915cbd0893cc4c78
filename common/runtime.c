#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fs.h"
#include "http.h"
#include "name.h"
#include "proxy.h"
#include "progress.h"
#include "strv.h"

int runtime_pull(struct engine *e, const char *ref)
{
	struct pull_progress pp;
	double t0 = progress_now();
	int r = engine_image_present(e, ref);

	if (r != 0)
		return r < 0 ? -1 : 0;
	printf("pulling %s\n", ref);
	fflush(stdout);
	pull_progress_init(&pp, ref);
	r = engine_image_pull(e, ref, pull_progress_event, &pp);
	pull_progress_free(&pp);
	progress_clear();
	if (r < 0)
		return -1;
	printf("pulled %s in %.1f s\n", ref, progress_now() - t0);
	return 0;
}

char *runtime_image(const struct instance *in, const char *env)
{
	char *var = NULL, *vars[2] = {NULL, NULL}, *out = NULL;

	if (asprintf(&var, "version=%s", instance_env_version(in, env)) < 0)
		return NULL;
	vars[0] = var;
	if (template_expand(in->cl.tpl.image, vars, &out) < 0)
		out = NULL;
	free(var);
	return out;
}

/* The MySQL service's container name and address on the cluster network. */
static int db_where(struct engine *e, struct cluster *cl, char **name, char *ip, size_t n)
{
	const struct tpl_service *s = template_db(&cl->tpl);
	char *net = cluster_network(cl);
	json_t *info = NULL;
	const char *addr;
	int rc = -1;

	*name = cluster_container(cl, s->name);
	if (!*name || !net || engine_container_inspect(e, *name, &info) < 0)
		goto out;
	if (!info || !(addr = engine_container_ip(info, net)) ||
	    !json_is_true(json_object_get(json_object_get(info, "State"), "Running"))) {
		err_set("cluster \"%s\" is not booted: run \"cluster.sh boot\" first", cl->name);
		goto out;
	}
	snprintf(ip, n, "%s", addr);
	rc = 0;
out:
	if (rc < 0) {
		free(*name);
		*name = NULL;
	}
	json_decref(info);
	free(net);
	return rc;
}

int runtime_db_server(struct engine *e, struct cluster *cl, struct db_server *out)
{
	char *name = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (db_where(e, cl, &name, out->host, sizeof out->host) < 0)
		return -1;
	out->port = template_db(&cl->tpl)->port;
	if ((out->root_password = cluster_root_password(cl, template_db(&cl->tpl))))
		rc = 0;
	free(name);
	return rc;
}

int runtime_db_connect(struct engine *e, struct cluster *cl, struct db **db)
{
	struct db_server srv;
	int rc;

	if (runtime_db_server(e, cl, &srv) < 0)
		return -1;
	rc = db_server_root(&srv, 30, db);
	db_server_free(&srv);
	return rc;
}

int runtime_fix_grants(struct engine *e, struct instance *in, int *fixed)
{
	struct db *db = NULL;
	char *dbs[3] = {instance_db_name(in->name, "blue"), instance_db_name(in->name, "green"), NULL};
	int rc = -1;

	*fixed = 0;
	if (!strchr(in->name, '_')) {
		rc = 0;
		goto out;
	}
	if (dbs[0] && dbs[1] && runtime_db_connect(e, &in->cl, &db) == 0 &&
	    db_instance_fix_grants(db, in->name, dbs, fixed) == 0)
		rc = 0;
out:
	db_close(db);
	free(dbs[0]);
	free(dbs[1]);
	return rc;
}

char *runtime_db_dir(const struct cluster *cl, const char *dbname)
{
	const struct tpl_service *s = template_db(&cl->tpl);

	return s && s->data ? cluster_path(cl, "services/%s/%s", s->name, dbname) : NULL;
}

/* The dump tool the service's image has: mariadb-dump on MariaDB (its
 * mysqldump may go), mysqldump on MySQL; probed in the running service. */
static const char *dump_tool(struct engine *e, const char *container)
{
	for (const char *const *t = (const char *const[]){"mariadb-dump", "mysqldump", NULL}; *t; t++) {
		char *const probe[] = {(char *)*t, "--version", NULL};
		struct buf out = BUF_INIT;
		int code = -1, r = engine_exec(e, container, probe, &code, &out, 30000);

		buf_free(&out);
		if (r < 0)
			return NULL;
		if (code == 0)
			return *t;
	}
	err_set("neither mariadb-dump nor mysqldump runs in \"%s\"", container);
	return NULL;
}

/* Read the FIFO until the dump container has exited and nothing is left. */
static int read_fifo(struct engine *e, const char *container, int fd, frame_fn fn, void *ctx)
{
	char *buf = malloc(1 << 18);
	double checked = 0;
	int rc = -1;

	if (!buf)
		return err_set("out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 18);

		if (n > 0) {
			if (fn(ctx, FRAME_STDOUT, buf, (size_t)n) < 0)
				goto out;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err_errno("reading the dump");
			goto out;
		}
		/* Nothing now: no writer yet, a pause, or the end. */
		if (http_interrupted()) {
			err_set("interrupted");
			goto out;
		}
		if (progress_now() - checked >= 0.1) {
			json_t *info = NULL;
			int running;

			checked = progress_now();
			if (engine_container_inspect(e, container, &info) < 0)
				goto out;
			running = info && json_is_true(json_object_get(json_object_get(info, "State"), "Running"));
			json_decref(info);
			if (!running) {
				/* Exited: what it wrote is in the pipe still; drain it. */
				while ((n = read(fd, buf, 1 << 18)) > 0)
					if (fn(ctx, FRAME_STDOUT, buf, (size_t)n) < 0)
						goto out;
				break;
			}
		}
		struct pollfd p = {fd, POLLIN, 0};

		if (n == 0)
			usleep(10 * 1000); /* no writer: poll() would not wait */
		else
			poll(&p, 1, 100);
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int keep_frame(void *ctx, int stream, const char *data, size_t len)
{
	struct buf *b = ctx;

	(void)stream;
	return b->len < 4096 ? buf_append(b, data, len) : 0;
}

int runtime_dump(struct engine *e, struct cluster *cl, const char *dbname, int (*ready)(void *ctx), frame_fn fn,
		 void *ctx)
{
	const struct tpl_service *s = template_db(&cl->tpl);
	char *db = NULL, *pw = NULL, *dir = NULL, *fifo = NULL, *cnf = NULL, *name = NULL, *net = NULL;
	char ip[64], rnd[9];
	const char *tool;
	struct buf cnftext = BUF_INIT, err = BUF_INIT;
	json_t *cfg = NULL;
	int fd = -1, code = -1, created = 0, rc = -1;

	/* The dump runs in a container of the service's image on the cluster
	 * network and writes into a FIFO in a private folder: the engine's
	 * output relay would take longer than the dump itself. */
	if (db_ident_check(dbname) < 0 || db_where(e, cl, &db, ip, sizeof ip) < 0 || !(tool = dump_tool(e, db)) ||
	    !(pw = cluster_root_password(cl, s)) || name_random(rnd, 8, NAME_ALNUM_LOWER) < 0 ||
	    !(dir = cluster_path(cl, "snapshots/.dump-%s-%s", dbname, rnd)) || !(fifo = fs_pathf("%s/dump.sql", dir)) ||
	    !(cnf = fs_pathf("%s/client.cnf", dir)) || !(name = fs_pathf("%s_dump_%s_%s", cl->name, dbname, rnd)) ||
	    !(net = cluster_network(cl)))
		goto out;
	if (mkdir(dir, 0700) < 0 || mkfifo(fifo, 0600) < 0) {
		err_errno("making \"%s\"", fifo);
		goto out;
	}
	/* The password in a file of mode 0600, never on a command line. */
	buf_printf(&cnftext, "[client]\nuser = root\npassword = \"%s\"\nhost = %s\nport = %d\nprotocol = tcp\n", pw, ip,
		   s->port);
	if (!cnftext.data || fs_write_atomic(cnf, cnftext.data, cnftext.len, 0600) < 0)
		goto out;
	cfg = json_pack("{s:s, s:s, s:[s], s:[s,s,s,s,s,s,s,s,s,s], s:{s:s, s:s, s:s}, s:{s:[o], s:s}}",
			"Image", cluster_image(cl, s->name), "User", "0:0", "Entrypoint", tool, "Cmd", "--defaults-extra-file=/dump/client.cnf",
			"--single-transaction", "--quick", "--routines", "--triggers", "--hex-blob",
			"--default-character-set=utf8mb4", "--no-tablespaces", "--result-file=/dump/dump.sql", dbname,
			"Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root, LABEL_ROLE, "dump",
			"HostConfig", "Mounts", engine_mount(dir, "/dump", 0), "NetworkMode", net);
	if (!cfg) {
		err_set("out of memory");
		goto out;
	}
	if ((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", fifo);
		goto out;
	}
	if (engine_container_create(e, name, cfg, NULL) < 0)
		goto out;
	created = 1;
	if ((ready && ready(ctx) < 0) || engine_container_start(e, name) < 0 || read_fifo(e, name, fd, fn, ctx) < 0 ||
	    engine_container_wait(e, name, &code) < 0)
		goto out;
	if (code != 0) {
		size_t n;

		engine_logs(e, name, 0, 20, keep_frame, &err);
		n = err.len;
		while (n && strchr("\r\n ", err.data[n - 1]))
			n--;
		err_set("%s exited %d: %.*s", tool, code, (int)n, err.data ? err.data : "");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		err_wrap("dumping database \"%s\"", dbname);
	if (created) {
		char why[2048];

		snprintf(why, sizeof why, "%s", err_msg());
		engine_container_stop(e, name, 1);
		engine_container_remove(e, name);
		err_set("%s", why);
	}
	if (fd >= 0)
		close(fd);
	if (dir)
		fs_remove_tree(dir);
	if (cnftext.data)
		explicit_bzero(cnftext.data, cnftext.len);
	buf_free(&cnftext);
	buf_free(&err);
	if (pw)
		explicit_bzero(pw, strlen(pw));
	json_decref(cfg);
	free(pw);
	free(db);
	free(dir);
	free(fifo);
	free(cnf);
	free(name);
	free(net);
	return rc;
}

int runtime_subnet(struct engine *e, struct cluster *cl, char *out, size_t n)
{
	char *net = cluster_network(cl);
	int found = 0, rc = -1;

	if (net && engine_network_subnet(e, net, out, n, &found) == 0) {
		if (found && out[0])
			rc = 0;
		else
			err_set("cluster \"%s\" is not booted: run \"cluster.sh boot\" first", cl->name);
	}
	free(net);
	return rc;
}

/* The container config shared by processes and one-off runs. */
static json_t *app_config(struct instance *in, const char *env, const char *role, char *const *argv,
			  const char *address, int restart)
{
	struct strv vars = STRV_INIT;
	char *image = runtime_image(in, env), *data = NULL, *net = cluster_network(&in->cl);
	json_t *cfg = NULL, *envj = json_array(), *cmd = json_array(), *endpoint;

	if (!image || !net || !(data = instance_data_dir(in, env)) || fs_mkdirs(data, 0755) < 0 ||
	    instance_app_env(in, env, &vars) < 0)
		goto out;
	for (size_t i = 0; i < vars.n; i++)
		json_array_append_new(envj, json_string(vars.v[i]));
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	endpoint = address ? json_pack("{s:{s:s}}", "IPAMConfig", "IPv4Address", address) : json_object();
	cfg = json_pack("{s:s, s:O, s:O, s:{s:s, s:s, s:s, s:s, s:s}, s:i,"
			" s:{s:[o], s:{s:s}, s:s}, s:{s:{s:o}}}",
			"Image", image, "Cmd", cmd, "Env", envj,
			"Labels", LABEL_CLUSTER, in->cl.name, LABEL_ROOT, in->cl.root, LABEL_INSTANCE, in->name,
			LABEL_ROLE, role,
			LABEL_ENV, env, "StopTimeout", 10,
			"HostConfig", "Mounts", engine_mount(data, in->cl.tpl.data, 0), "RestartPolicy", "Name", restart ? "unless-stopped" : "no",
			"NetworkMode", net, "NetworkingConfig", "EndpointsConfig", net, endpoint);
	if (!cfg)
		err_set("out of memory");
out:
	json_decref(envj);
	json_decref(cmd);
	strv_free(&vars);
	free(image);
	free(data);
	free(net);
	return cfg;
}

struct started {
	struct engine *e;
	const char *name;
	int rows, cols;
};

static int start_attached(void *ctx)
{
	struct started *st = ctx;

	if (engine_container_start(st->e, st->name) < 0)
		return -1;
	if (st->rows > 0 && st->cols > 0)
		engine_container_resize(st->e, st->name, st->rows, st->cols);
	return 0;
}

int runtime_oneoff(struct engine *e, struct instance *in, const char *env, char *const *argv,
		   frame_fn fn, void *ctx, int *code, const struct runtime_tty *tty)
{
	char rnd[7], *name = NULL;
	json_t *cfg = NULL;
	int rc = -1, created = 0;
	char *image = runtime_image(in, env);

	if (!image || runtime_pull(e, image) < 0) {
		free(image);
		return -1;
	}
	free(image);
	if (name_random(rnd, 6, NAME_ALNUM_LOWER) < 0 ||
	    !(name = fs_pathf("%s_%s_%s_run_%s", in->cl.name, in->name, env, rnd)))
		goto out;
	if (!(cfg = app_config(in, env, "run", argv, NULL, 0)))
		goto out;
	if (tty) {
		json_object_set_new(cfg, "Tty", json_true());
		json_object_set_new(cfg, "OpenStdin", json_true());
		json_object_set_new(cfg, "StdinOnce", json_true());
		json_object_set_new(cfg, "AttachStdin", json_true());
		json_object_set_new(cfg, "AttachStdout", json_true());
		json_object_set_new(cfg, "AttachStderr", json_true());
	}
	if (engine_container_create(e, name, cfg, NULL) < 0)
		goto out;
	created = 1;
	if (tty) {
		struct started st = {e, name, tty->rows, tty->cols};

		if (engine_attach_tty(e, name, start_attached, &st, tty->in_fd, tty->out_fd) < 0)
			goto out;
	} else if (engine_container_start(e, name) < 0 || engine_logs(e, name, 1, -1, fn, ctx) < 0) {
		goto out;
	}
	if (engine_container_wait(e, name, code) < 0)
		goto out;
	rc = 0;
out:
	if (created && engine_container_remove(e, name) < 0 && rc == 0)
		rc = -1;
	json_decref(cfg);
	free(name);
	return rc;
}

/* Create and start env's processes; resume: only those not running. */
static int start_env(struct engine *e, struct instance *in, const char *env, const char *subnet, int resume)
{
	const struct template *t = &in->cl.tpl;
	char address[64], *image = runtime_image(in, env);
	int rc = -1;

	if (!image || runtime_pull(e, image) < 0 || instance_address(in, subnet, env, address, sizeof address) < 0)
		goto out;
	for (size_t i = 0; i < t->nproc; i++) {
		const struct tpl_process *p = &t->proc[i];
		struct strv argv = STRV_INIT;
		char *name = instance_container(in, env, p->name);
		json_t *cfg = NULL, *info = NULL;
		int r = -1;

		if (!name || strv_split(&argv, p->command) < 0 || engine_container_inspect(e, name, &info) < 0)
			goto next;
		if (resume && info && json_is_true(json_object_get(json_object_get(info, "State"), "Running"))) {
			r = 0;
			goto next;
		}
		/* A container of another version or config is replaced. */
		if (info && engine_container_remove(e, name) < 0)
			goto next;
		if (!(cfg = app_config(in, env, p->name, argv.v, strcmp(p->name, "web") == 0 ? address : NULL, 1)) ||
		    engine_container_create(e, name, cfg, NULL) < 0 || engine_container_start(e, name) < 0)
			goto next;
		r = 0;
next:
		json_decref(cfg);
		json_decref(info);
		strv_free(&argv);
		free(name);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	free(image);
	return rc;
}

static int capture_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	return buf_append(ctx, data, len);
}

int runtime_task(struct engine *e, struct instance *in, const char *env, const char *what, const char *command,
		 const char *after)
{
	struct strv argv = STRV_INIT;
	struct buf out = BUF_INIT;
	char *log = NULL;
	int code = 0, rc = -1;

	if (!command)
		return 0;
	if (strv_split(&argv, command) < 0 || runtime_oneoff(e, in, env, argv.v, capture_frame, &out, &code, NULL) < 0)
		goto out;
	if (!(log = fs_pathf("%s/log/%s.log", in->root, what)) ||
	    fs_write_atomic(log, buf_str(&out), out.len, 0640) < 0)
		goto out;
	if (code != 0) {
		fflush(stdout);
		fprintf(stderr, "--- %s output:\n%s---\n", what, buf_str(&out));
		err_set("%s \"%s\" exited %d (output above)%s", what, command, code, after);
		goto out;
	}
	rc = 0;
out:
	free(log);
	strv_free(&argv);
	buf_free(&out);
	return rc;
}

int runtime_start(struct engine *e, struct instance *in, const char *env, const char *subnet)
{
	return start_env(e, in, env, subnet, 0);
}

int runtime_resume(struct engine *e, struct instance *in, const char *env)
{
	char subnet[64];

	return runtime_subnet(e, &in->cl, subnet, sizeof subnet) < 0 ? -1 : start_env(e, in, env, subnet, 1);
}

int runtime_stop_process(struct engine *e, struct instance *in, const char *env, const char *process)
{
	char *name = instance_container(in, env, process);
	json_t *info = NULL;
	int rc = -1;

	if (name && engine_container_inspect(e, name, &info) == 0)
		rc = !info ? 0 : engine_container_stop(e, name, -1) < 0 || engine_container_remove(e, name) < 0 ? -1 : 0;
	json_decref(info);
	free(name);
	return rc;
}

int runtime_wait_healthy(struct instance *in, const char *address, int timeout, double *took)
{
	struct http *h = http_open(NULL);
	char url[300], why[300] = "no answer";
	double start = progress_now();
	int rc = -1;

	if (!h)
		return -1;
	snprintf(url, sizeof url, "http://%s:%d%s", address, in->cl.tpl.port, in->cl.tpl.health);
	for (;;) {
		struct http_req r = {.url = url, .timeout_ms = 3000, .connect_timeout_ms = 1000};
		struct buf b = BUF_INIT;
		long status = 0;

		if (http_do(h, &r, &status, &b, NULL) < 0)
			snprintf(why, sizeof why, "%s", err_msg());
		else if (status == 200)
			rc = 0;
		else
			snprintf(why, sizeof why, "GET %s answered %ld", in->cl.tpl.health, status);
		buf_free(&b);
		if (rc == 0 || progress_now() - start >= timeout)
			break;
		if (http_interrupted()) {
			snprintf(why, sizeof why, "interrupted");
			break;
		}
		progress_update("waiting for %s to get healthy: %.0f s (%s)", in->name, progress_now() - start, why);
		usleep(200 * 1000);
	}
	progress_clear();
	http_close(h);
	*took = progress_now() - start;
	if (rc < 0)
		return err_set("instance \"%s\" is not healthy after %d s: %s", in->name, timeout, why);
	return 0;
}

/* One GET of the health path at addr: "healthy" or "unhealthy". */
static const char *health_of(const struct instance *in, const char *addr)
{
	struct http *h = http_open(NULL);
	struct http_req r = {0};
	struct buf b = BUF_INIT;
	char url[300];
	long status = 0;
	int ok;

	if (!h)
		return "unknown";
	snprintf(url, sizeof url, "http://%s:%d%s", addr, in->cl.tpl.port, in->cl.tpl.health);
	r.url = url;
	r.timeout_ms = 3000;
	r.connect_timeout_ms = 1000;
	ok = http_do(h, &r, &status, &b, NULL) == 0 && status == 200;
	buf_free(&b);
	http_close(h);
	return ok ? "healthy" : "unhealthy";
}

/* {name, version, port, env, state, health, url, containers: [...]} */
json_t *runtime_status(struct engine *e, struct instance *in)
{
	json_t *list = NULL, *procs = json_array(), *c, *out;
	char subnet[64] = "", address[64] = "", url[300];
	const char *state = "stopped", *health = "-";
	size_t i;
	int running = 0, total = 0;

	if (runtime_containers(e, in, &list) < 0) {
		json_decref(procs);
		return NULL;
	}
	json_array_foreach(list, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		const char *st = json_string_value(json_object_get(c, "State"));
		const char *role = json_string_value(json_object_get(labels, LABEL_ROLE));

		if (role && strcmp(role, "run") == 0)
			continue;
		total++;
		running += st && strcmp(st, "running") == 0;
		json_array_append_new(procs, json_pack("{s:s, s:s?, s:s?, s:s?}", "name", name && *name == '/' ? name + 1 : name,
						       "role", role, "env", json_string_value(json_object_get(labels, LABEL_ENV)),
						       "state", st));
	}
	if (total)
		state = running == total ? "running" : "partial";
	if (running && runtime_subnet(e, &in->cl, subnet, sizeof subnet) == 0 &&
	    instance_address(in, subnet, in->env, address, sizeof address) == 0)
		health = health_of(in, address);
	snprintf(url, sizeof url, strchr(in->cl.bind, ':') ? "http://[%s]:%d/" : "http://%s:%d/", in->cl.bind,
		 in->port);
	out = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "name", in->name, "version", in->version,
			"port", in->port, "env", in->env, "state", state, "health", health, "url", url,
			"containers", procs);
	json_decref(list);
	return out;
}

int runtime_print_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)ctx;
	fwrite(data, 1, len, stream == FRAME_STDERR ? stderr : stdout);
	return 0;
}

/* Show the last lines of a container's output after it failed. */
static void show_logs(struct engine *e, const char *container, int tail)
{
	fflush(stdout);
	fprintf(stderr, "--- last lines of %s:\n", container);
	engine_logs(e, container, 0, tail, runtime_print_frame, NULL);
	fprintf(stderr, "---\n");
}

int runtime_route(struct engine *e, struct instance *in, const char *env, int readonly)
{
	char subnet[64], address[64], *conf = NULL;
	json_t *old = NULL;
	int rc = -1;

	if (runtime_subnet(e, &in->cl, subnet, sizeof subnet) < 0 ||
	    instance_address(in, subnet, env, address, sizeof address) < 0)
		return -1;
	if (!(conf = proxy_instance_conf(in->name, in->cl.bind, in->port, address, in->cl.tpl.port, readonly)) ||
	    proxy_workers(e, &in->cl, &old) < 0 || proxy_set(e, &in->cl, in->name, conf) < 0)
		goto out;
	/* On return the new configuration is the one in force: holding writes
	 * needs that; letting them through again is better with it. */
	if (proxy_drain(e, &in->cl, old, readonly ? 60 : 10, readonly) < 0 && readonly)
		goto out;
	rc = 0;
out:
	json_decref(old);
	free(conf);
	return rc;
}

int runtime_promote(struct engine *e, struct instance *in, const char *env, double *took)
{
	char subnet[64], address[64], *web = NULL;
	int rc = -1;

	if (runtime_subnet(e, &in->cl, subnet, sizeof subnet) < 0 ||
	    instance_address(in, subnet, env, address, sizeof address) < 0 ||
	    !(web = instance_container(in, env, "web")))
		goto out;
	if (runtime_start(e, in, env, subnet) < 0)
		goto out;
	if (runtime_wait_healthy(in, address, in->cl.tpl.health_timeout, took) < 0) {
		show_logs(e, web, 20);
		/* Leave nothing crash-looping behind. */
		runtime_stop(e, in, env);
		goto out;
	}
	if (runtime_route(e, in, env, 0) < 0 || proxy_wait(in->cl.bind, in->port, in->cl.tpl.health, 1, 15) < 0)
		goto out;
	rc = 0;
out:
	free(web);
	return rc;
}

/* Start the active environment, wait for health, then route the port. */
int runtime_serve(struct engine *e, struct instance *in)
{
	double took;

	if (runtime_promote(e, in, in->env, &took) < 0)
		return -1;
	printf("instance \"%s\" (%s) is up at http://%s:%d/ (healthy after %.1f s)\n", in->name, in->version,
	       in->cl.bind, in->port, took);
	return 0;
}

int runtime_unserve(struct engine *e, struct instance *in)
{
	if (proxy_set(e, &in->cl, in->name, NULL) < 0 || proxy_wait(in->cl.bind, in->port, "/", 0, 15) < 0 ||
	    runtime_stop(e, in, NULL) < 0)
		return -1;
	printf("instance \"%s\" is stopped\n", in->name);
	return 0;
}

int runtime_containers(struct engine *e, const struct instance *in, json_t **out)
{
	char *label;
	json_t *all = NULL;
	size_t i;
	json_t *c;

	*out = NULL;
	if (asprintf(&label, "%s=%s", LABEL_INSTANCE, in->name) < 0)
		return err_set("out of memory");
	if (engine_container_list(e, label, &all) < 0) {
		free(label);
		return -1;
	}
	free(label);
	/* Same instance name in another cluster on this engine: not ours. */
	*out = json_array();
	json_array_foreach(all, i, c) {
		if (!cluster_foreign(&in->cl, json_object_get(c, "Labels")))
			json_array_append(*out, c);
	}
	json_decref(all);
	return 0;
}

int runtime_stop(struct engine *e, struct instance *in, const char *env)
{
	json_t *list = NULL, *c;
	size_t i;
	int rc = 0;

	if (runtime_containers(e, in, &list) < 0)
		return -1;
	json_array_foreach(list, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		const char *cenv = json_string_value(json_object_get(json_object_get(c, "Labels"), LABEL_ENV));

		if (!id || (env && (!cenv || strcmp(cenv, env) != 0)))
			continue;
		if (engine_container_stop(e, id, -1) < 0 || engine_container_remove(e, id) < 0) {
			rc = -1;
			break;
		}
	}
	json_decref(list);
	return rc;
}

int runtime_served(const struct instance *in)
{
	char *p = cluster_path(&in->cl, "proxy/conf.d/%s.conf", in->name);
	int r = p && fs_exists(p);

	free(p);
	return r;
}

int runtime_ensure(struct engine *e, struct cluster *cl, const char *name, json_t *cfg, int *changed)
{
	const char *image = json_string_value(json_object_get(cfg, "Image"));
	json_t *info = NULL;
	int rc = -1;

	*changed = 0;
	if (!image || engine_config_label(cfg) < 0 || engine_container_inspect(e, name, &info) < 0)
		goto out;
	if (info) {
		json_t *labels = json_object_get(json_object_get(info, "Config"), "Labels");
		const char *had = json_string_value(json_object_get(labels, LABEL_CONFIG));
		const char *wants = json_string_value(json_object_get(json_object_get(cfg, "Labels"), LABEL_CONFIG));

		if (cluster_foreign(cl, labels)) {
			err_set("container \"%s\" exists and is not this cluster's (another cluster of the same name, or "
				"not made by korcluster); korcluster leaves it alone", name);
			goto out;
		}
		if (had && wants && strcmp(had, wants) == 0) {
			if (!json_is_true(json_object_get(json_object_get(info, "State"), "Running"))) {
				if (engine_container_start(e, name) < 0)
					goto out;
				printf("%s: started\n", name);
				*changed = 1;
			}
			rc = 0;
			goto out;
		}
		/* The image or the settings changed: replace the container once
		 * the image is here; the data is on disk. */
		if (runtime_pull(e, image) < 0)
			goto out;
		printf("%s: configuration changed, replacing the container\n", name);
		if (engine_container_stop(e, name, -1) < 0 || engine_container_remove(e, name) < 0)
			goto out;
	}
	if (runtime_pull(e, image) < 0 || engine_container_create(e, name, cfg, NULL) < 0 ||
	    engine_container_start(e, name) < 0)
		goto out;
	printf("%s: started\n", name);
	*changed = 1;
	rc = 0;
out:
	json_decref(info);
	return rc;
}
