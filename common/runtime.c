#include "runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "container.h"
#include "db.h"
#include "fs.h"
#include "lock.h"
#include "mysqlsvc.h"
#include "mem.h"
#include "name.h"
#include "probe.h"
#include "proxy.h"
#include "report.h"
#include "routes.h"
#include "strv.h"
#include "wait.h"

const struct error *runtime_image(const struct instance *in, const char *env, char **out)
{
	char *var = xasprintf("version=%s", instance_env_version(in, env)), *vars[2] = {var, NULL};
	const char *pattern = in->cl.app_image ? in->cl.app_image : in->cl.tpl.image;
	const struct error *err = template_expand(pattern, vars, out);

	free(var);
	return err;
}

const struct error *runtime_subnet(struct engine *e, const struct cluster *cl, char *out, size_t n)
{
	const struct error *err;
	char *net = cluster_network(cl);
	int found = 0;

	if (!(err = engine_network_subnet(e, net, out, n, &found)) && (!found || !out[0]))
		err = error_fmt("cluster \"%s\" is not booted: run \"cluster.sh boot\" first", cl->name);
	free(net);
	return err;
}

const struct error *runtime_print_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)ctx;
	report_output(stream == FRAME_STDERR ? REPORT_STDERR : REPORT_STDOUT, data, len);
	return NULL;
}

/* The mounts of env's containers: its data folder, and the template's files
 * (made now from their content, or the instance's own). */
static const struct error *app_mounts(struct instance *in, const char *env, const struct strv *vars, json_t *mounts)
{
	const struct error *err = NULL;
	const struct template *t = &in->cl.tpl;
	char *data = instance_data_dir(in, env), *dir = xasprintf("%s/config/%s", in->root, env);

	if ((err = fs_mkdirs(data, 0755)))
		goto out;
	json_array_append_new(mounts, engine_mount(data, t->data, 0));
	if (t->nfile && ((err = fs_mkdirs(dir, 0700))))
		goto out;
	for (size_t i = 0; i < t->nfile && !err; i++) {
		const struct tpl_file *f = &t->file[i];
		char *src, *text = NULL;

		if (f->content) {
			src = xasprintf("%s/%s", dir, f->name);
			if (!(err = template_expand(f->content, vars->v, &text)))
				err = fs_write_atomic(src, text, strlen(text), 0600);
			if (text)
				explicit_bzero(text, strlen(text));
			if (!err)
				json_array_append_new(mounts, engine_mount(src, f->path, 1));
			err = error_wrap(err, "making file \"%s\"", f->name);
		} else {
			src = xasprintf("%s/%s", in->root, f->from);
			if (fs_exists(src))
				json_array_append_new(mounts, engine_mount(src, f->path, 0));
		}
		free(text);
		free(src);
	}
out:
	free(data);
	free(dir);
	return err;
}

/* A process's container waits at its environment's gate while the gate is
 * shut (GATE/shut exists; GATE inside, the instance's gate/ENV outside,
 * read-only).  runtime_prepare() starts an environment with its gate shut
 * (the engine sets up each container while the old environment still
 * takes writes); the start that follows opens it.  Open, its usual state,
 * it costs a start one test of a file.  A stop ends the wait at once. */
#define GATE "/run/korcluster-gate"
static const char gate_script[] = "trap 'exit 143' TERM INT; "
				  "while [ -e " GATE "/shut ]; do sleep 0.05 & wait $!; done; "
				  "exec \"$@\"";

static char *gate_path(const struct instance *in, const char *env, const char *file)
{
	return xasprintf("%s/gate/%s%s%s", in->root, env, file ? "/" : "", file ? file : "");
}

static int gate_shut(const struct instance *in, const char *env)
{
	char *p = gate_path(in, env, "shut");
	int r = fs_exists(p);

	free(p);
	return r;
}

/* Open or shut env's gate; durable, so that a reboot finds it as left. */
static const struct error *gate_set(const struct instance *in, const char *env, int open)
{
	const struct error *err;
	char *dir = gate_path(in, env, NULL), *p = gate_path(in, env, "shut");

	if (!(err = fs_mkdirs(dir, 0755)))
		err = open ? fs_unlink_durable(p) : fs_write_atomic(p, "", 0, 0644);
	free(dir);
	free(p);
	return error_wrap(err, "%s the gate of environment %s", open ? "opening" : "shutting", env);
}

/* The container's entrypoint: the template's (absent, the image's, given
 * as image_entry; empty, none), behind the gate for a process (gated).
 * *out NULL: the image's. */
static const struct error *entrypoint(const struct template *t, const json_t *image_entry, int gated, json_t **out)
{
	const struct error *err;
	struct strv w = STRV_INIT;
	json_t *own;
	size_t i;

	*out = NULL;
	if (!t->entrypoint && !gated)
		return NULL;
	if (t->entrypoint && (err = strv_split(&w, t->entrypoint)))
		return err;
	*out = gated ? json_pack("[s, s, s, s]", "/bin/sh", "-c", gate_script, "korcluster-gate") : json_array();
	if (!*out)
		report_out_of_memory();
	for (i = 0; i < w.n; i++)
		json_array_append_new(*out, json_string(w.v[i]));
	if (!t->entrypoint)
		json_array_foreach(image_entry, i, own)
			json_array_append(*out, own);
	strv_free(&w);
	return NULL;
}

/* The template's healthcheck as the web container's HEALTHCHECK: the
 * engine runs it and keeps the verdict, so status reads it from one
 * listing.  Checked every health_interval seconds (engines of API 1.44 and
 * later: every second while the app may still be starting, health_timeout);
 * three failures in a row: unhealthy. */
static const struct error *healthcheck(const struct template *t, json_t *cfg)
{
	const struct error *err;
	struct strv w = STRV_INIT;
	json_t *test;
	const json_int_t s = 1000000000;

	if ((err = strv_split(&w, t->healthcheck)))
		return err;
	test = json_pack("[s]", "CMD");
	for (size_t i = 0; i < w.n; i++)
		json_array_append_new(test, json_string(w.v[i]));
	strv_free(&w);
	json_object_set_new(cfg, "Healthcheck",
			    json_pack("{s:o, s:I, s:I, s:i, s:I, s:I}", "Test", test, "Interval", t->health_interval * s,
				      "Timeout", 10 * s, "Retries", 3, "StartPeriod", t->health_timeout * s,
				      "StartInterval", s));
	return NULL;
}

/* The container config shared by processes and one-off runs. */
static const struct error *app_config(struct instance *in, const char *env, const char *role, char *const *argv,
				      const char *address, const json_t *image_entry, int restart, json_t **out)
{
	const struct error *err;
	struct strv vars = STRV_INIT, appenv = STRV_INIT;
	char *image = NULL, *net = cluster_network(&in->cl);
	json_t *envj = json_array(), *cmd = json_array(), *mounts = json_array(), *entry = NULL, *endpoint;
	const struct tpl_process *front;

	*out = NULL;
	if ((err = runtime_image(in, env, &image)) || (err = instance_vars(in, env, &vars)))
		goto out;
	/* The frontend reads the database as its read-only user. */
	if ((front = template_frontend(&in->cl.tpl)) && strcmp(role, front->name) == 0)
		instance_vars_readonly(in, &vars);
	if ((err = instance_app_env(in, &vars, &appenv)) || (err = app_mounts(in, env, &vars, mounts)) ||
	    (err = entrypoint(&in->cl.tpl, image_entry, restart, &entry)))
		goto out;
	/* A process (restarted by the engine) waits at the gate; a run does not. */
	if (restart) {
		char *gate = gate_path(in, env, NULL);

		if (!(err = fs_mkdirs(gate, 0755)))
			json_array_append_new(mounts, engine_mount(gate, GATE, 1));
		free(gate);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < appenv.n; i++)
		json_array_append_new(envj, json_string(appenv.v[i]));
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	endpoint = address ? json_pack("{s:{s:s}}", "IPAMConfig", "IPv4Address", address) : json_object();
	*out = json_pack("{s:s, s:O, s:O, s:{s:s, s:s, s:s, s:s, s:s}, s:i, s:{s:O, s:{s:s}, s:s}, s:{s:{s:o}}}",
			 "Image", image, "Cmd", cmd, "Env", envj, "Labels", LABEL_CLUSTER, in->cl.name, LABEL_ROOT,
			 in->cl.root, LABEL_INSTANCE, in->name, LABEL_ROLE, role, LABEL_ENV, env, "StopTimeout", 10,
			 "HostConfig", "Mounts", mounts, "RestartPolicy", "Name", restart ? "unless-stopped" : "no",
			 "NetworkMode", net, "NetworkingConfig", "EndpointsConfig", net, endpoint);
	if (!*out)
		report_out_of_memory();
	if (entry)
		json_object_set(*out, "Entrypoint", entry);
	if (strcmp(role, "web") == 0 && in->cl.tpl.healthcheck && (err = healthcheck(&in->cl.tpl, *out))) {
		json_decref(*out);
		*out = NULL;
	}
out:
	json_decref(envj);
	json_decref(cmd);
	json_decref(mounts);
	json_decref(entry);
	for (size_t i = 0; i < vars.n; i++)
		explicit_bzero(vars.v[i], strlen(vars.v[i]));
	strv_free(&vars);
	strv_free(&appenv);
	free(image);
	free(net);
	return err;
}

struct started {
	struct engine *e;
	const char *name;
	int rows, cols;
};

static const struct error *start_attached(void *ctx)
{
	struct started *st = ctx;
	const struct error *err = engine_container_start(st->e, st->name);

	if (!err && st->rows > 0 && st->cols > 0)
		engine_container_resize(st->e, st->name, st->rows, st->cols);
	return err;
}

const struct error *runtime_oneoff(struct engine *e, struct instance *in, const char *env, char *const *argv,
				   frame_fn fn, void *ctx, int *code, const struct runtime_tty *tty)
{
	const struct error *err, *e2;
	char rnd[7], *name = NULL, *image = NULL;
	json_t *cfg = NULL;
	int created = 0;

	if ((err = runtime_image(in, env, &image)) || (err = container_pull(e, image)) ||
	    (err = name_random(rnd, 6, NAME_ALNUM_LOWER)))
		goto out;
	name = xasprintf("%s_%s_%s_run_%s", in->cl.name, in->name, env, rnd);
	if ((err = app_config(in, env, "run", argv, NULL, NULL, 0, &cfg)))
		goto out;
	if (tty) {
		json_object_set_new(cfg, "Tty", json_true());
		json_object_set_new(cfg, "OpenStdin", json_true());
		json_object_set_new(cfg, "StdinOnce", json_true());
		json_object_set_new(cfg, "AttachStdin", json_true());
		json_object_set_new(cfg, "AttachStdout", json_true());
		json_object_set_new(cfg, "AttachStderr", json_true());
	}
	if ((err = engine_container_create(e, name, cfg)))
		goto out;
	created = 1;
	if (tty) {
		struct started st = {e, name, tty->rows, tty->cols};

		err = engine_attach_tty(e, name, start_attached, &st, tty->in_fd, fn, ctx);
	} else if (!(err = engine_container_start(e, name))) {
		err = engine_logs(e, name, 1, -1, fn, ctx);
	}
	if (!err)
		err = engine_container_wait(e, name, code);
out:
	if (created && (e2 = engine_container_remove(e, name)) && !err)
		err = e2;
	json_decref(cfg);
	free(image);
	free(name);
	return err;
}

/* One container's start, or stop and removal, on a thread and an engine
 * connection of its own. */
struct one {
	const char *name;
	int stop;
	const struct error *err;
	int running; /* its thread is to be joined */
};

static const struct error *do_one(struct engine *e, const char *name, int stop)
{
	const struct error *err;

	if (!stop)
		return engine_container_start(e, name);
	return (err = engine_container_stop(e, name, -1)) ? err : engine_container_remove(e, name);
}

static void *one_thread(void *ctx)
{
	struct one *o = ctx;
	struct engine *e = NULL;

	if (!(o->err = engine_open(&e)))
		o->err = do_one(e, o->name, o->stop);
	engine_close(e);
	return NULL;
}

/* Start (stop: stop and remove) the n containers names all at once: each
 * is a runtime's whole setup or teardown of a container, a second or more
 * on a loaded machine.  The first error is returned. */
static const struct error *all_at_once(struct engine *e, char *const *names, size_t n, int stop)
{
	const struct error *err = NULL;
	struct one *o = xcalloc(n + 1, sizeof *o);
	pthread_t *threads = xcalloc(n + 1, sizeof *threads);

	for (size_t i = 1; i < n; i++) {
		o[i].name = names[i];
		o[i].stop = stop;
		if (pthread_create(&threads[i], NULL, one_thread, &o[i]) != 0)
			o[i].err = error_fmt("%s \"%s\" failed", stop ? "stopping" : "starting", names[i]);
		else
			o[i].running = 1;
	}
	if (n)
		err = do_one(e, names[0], stop);
	for (size_t i = 1; i < n; i++) {
		if (o[i].running)
			pthread_join(threads[i], NULL);
		if (!err)
			err = o[i].err;
	}
	free(o);
	free(threads);
	return err;
}

/* The container of a process's replica r (from 1; the first has the
 * process's own name).  Caller frees. */
static char *replica_name(const struct instance *in, const char *env, const char *process, int r)
{
	char *base = instance_container(in, env, process), *name;

	if (r == 1)
		return base;
	name = xasprintf("%s_%d", base, r);
	free(base);
	return name;
}

/* Stop and remove, all at once, the instance's containers of env (NULL:
 * both) and role (NULL: every one): by their labels, so every replica,
 * also of a template that had more. */
static const struct error *stop_where(struct engine *e, struct instance *in, const char *env, const char *role)
{
	const struct error *err;
	json_t *list = NULL, *c;
	char **ids = NULL;
	size_t i, n = 0;

	if ((err = runtime_containers(e, in, &list)))
		return err;
	ids = xcalloc(json_array_size(list) + 1, sizeof *ids);
	json_array_foreach(list, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		json_t *labels = json_object_get(c, "Labels");
		const char *cenv = json_string_value(json_object_get(labels, LABEL_ENV));
		const char *crole = json_string_value(json_object_get(labels, LABEL_ROLE));

		if (id && (!env || (cenv && strcmp(cenv, env) == 0)) && (!role || (crole && strcmp(crole, role) == 0)))
			ids[n++] = (char *)id;
	}
	err = all_at_once(e, ids, n, 1);
	free(ids);
	json_decref(list);
	return err;
}

enum start_mode {
	START_FRESH,   /* new containers, but for those runtime_prepare() started */
	START_RESUME,  /* the containers not running */
	START_SCHEDULER, /* the scheduler's container, if it is not running */
	START_PREPARE, /* new containers, started with the gate shut */
};

static const struct error *start_env(struct engine *e, struct instance *in, const char *env, const char *subnet,
				     enum start_mode mode)
{
	const struct error *err;
	const struct template *t = &in->cl.tpl;
	char address[64], front[64], *image = NULL, **names;
	size_t n = 0, nc = 0, *procs;
	int *replicas;
	/* Shut: what runs in env was started by runtime_prepare() and waits. */
	int waiting = gate_shut(in, env);
	json_t *img = NULL;

	/* Every container: each process, each of its replicas. */
	for (size_t i = 0; i < t->nproc; i++)
		nc += (size_t)t->proc[i].replicas;
	names = xcalloc(nc + 1, sizeof *names);
	procs = xcalloc(nc + 1, sizeof *procs);
	replicas = xcalloc(nc + 1, sizeof *replicas);
	nc = 0;
	for (size_t i = 0; i < t->nproc; i++)
		for (int r = 1; r <= t->proc[i].replicas; r++) {
			procs[nc] = i;
			replicas[nc++] = r;
		}

	if ((err = runtime_image(in, env, &image)) || (err = container_pull(e, image)) ||
	    (err = instance_address(in, subnet, env, address, sizeof address)) ||
	    (template_frontend(t) && (err = instance_front_address(in, subnet, env, front, sizeof front))) ||
	    (mode == START_PREPARE && (err = gate_set(in, env, 0))))
		goto out;
	/* The image's entrypoint goes behind the gate, unless the template's
	 * replaces it. */
	if (!t->entrypoint && !(err = engine_image_inspect(e, image, &img)) && !img)
		err = error_fmt("image \"%s\" is not here", image);
	if (err)
		goto out;
	for (size_t k = 0; k < nc && !err; k++) {
		const struct tpl_process *p = &t->proc[procs[k]];
		struct strv argv = STRV_INIT;
		char *name = replica_name(in, env, p->name, replicas[k]);
		json_t *cfg = NULL, *info = NULL;

		if (mode == START_SCHEDULER && !p->scheduler)
			goto next;
		if ((err = strv_split(&argv, p->command)) || (err = engine_container_inspect(e, name, &info)))
			goto next;
		if ((mode == START_RESUME || mode == START_SCHEDULER) && info && engine_running(info))
			goto next;
		if ((err = app_config(in, env, p->name, argv.v,
				      strcmp(p->name, "web") == 0 ? address : p->frontend ? front : NULL,
				      json_object_get(json_object_get(img, "Config"), "Entrypoint"), 1, &cfg)) ||
		    (err = engine_config_label(cfg)))
			goto next;
		/* One started ahead for this very configuration and still at
		 * the shut gate (its app has not run) goes on as it is once the
		 * gate opens; any other is replaced. */
		if (mode == START_FRESH && info && waiting && engine_running(info) &&
		    json_equal(json_object_get(json_object_get(json_object_get(info, "Config"), "Labels"), LABEL_CONFIG),
			       json_object_get(json_object_get(cfg, "Labels"), LABEL_CONFIG)))
			goto next;
		if ((info && (err = engine_container_remove(e, name))) || (err = engine_container_create(e, name, cfg)))
			goto next;
		names[n++] = name;
		name = NULL;
next:
		json_decref(cfg);
		json_decref(info);
		strv_free(&argv);
		free(name);
	}
	/* A scheduler runs once: the other environment's stops before this
	 * one's can run (its gate opens, or it starts). */
	for (size_t i = 0; i < t->nproc && !err && mode != START_PREPARE; i++)
		if (t->proc[i].scheduler)
			err = runtime_stop_process(e, in, instance_other_env(env), t->proc[i].name);
	if (err || (mode != START_PREPARE && waiting && (err = gate_set(in, env, 1))))
		goto out;
	err = all_at_once(e, names, n, 0);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(procs);
	free(replicas);
	free(image);
	json_decref(img);
	return err;
}

const struct error *runtime_task(struct engine *e, struct instance *in, const char *env, const char *what,
				 const char *command, const char *after)
{
	const struct error *err;
	struct strv argv = STRV_INIT;
	struct buf out = BUF_INIT;
	char *log = NULL, *title;
	int code = 0;

	if (!command)
		return NULL;
	if ((err = strv_split(&argv, command)) || (err = runtime_oneoff(e, in, env, argv.v, frame_collect, &out, &code, NULL)))
		goto out;
	log = xasprintf("%s/log/%s.log", in->root, what);
	if ((err = fs_write_atomic(log, buf_str(&out), out.len, 0640)))
		goto out;
	if (code != 0) {
		title = xasprintf("%s output", what);
		report_section(title, buf_str(&out), out.len);
		free(title);
		err = error_fmt("%s \"%s\" exited %d (output above)%s", what, command, code, after);
	}
out:
	free(log);
	strv_free(&argv);
	buf_free(&out);
	return err;
}

const struct error *runtime_start(struct engine *e, struct instance *in, const char *env, const char *subnet)
{
	return start_env(e, in, env, subnet, START_FRESH);
}

const struct error *runtime_prepare(struct engine *e, struct instance *in, const char *env)
{
	char subnet[64];
	const struct error *err = runtime_subnet(e, &in->cl, subnet, sizeof subnet);

	return err ? err : start_env(e, in, env, subnet, START_PREPARE);
}

const struct error *runtime_resume(struct engine *e, struct instance *in, const char *env)
{
	char subnet[64];
	const struct error *err = runtime_subnet(e, &in->cl, subnet, sizeof subnet);

	return err ? err : start_env(e, in, env, subnet, START_RESUME);
}

const struct error *runtime_resume_scheduler(struct engine *e, struct instance *in, const char *env)
{
	char subnet[64];
	const struct error *err;
	int any = 0;

	for (size_t i = 0; i < in->cl.tpl.nproc; i++)
		any |= in->cl.tpl.proc[i].scheduler;
	if (!any || (err = runtime_subnet(e, &in->cl, subnet, sizeof subnet)))
		return any ? err : NULL;
	return start_env(e, in, env, subnet, START_SCHEDULER);
}

const struct error *runtime_stop_process(struct engine *e, struct instance *in, const char *env, const char *process)
{
	return stop_where(e, in, env, process);
}

struct health {
	const struct instance *in;
	const char *address;
};

/* Healthy: the health path answers 200. */
static const struct error *healthy(void *ctx, int *done, char *why, size_t n)
{
	struct health *h = ctx;
	const struct template *t = &h->in->cl.tpl;
	long status;
	const struct error *err = probe_http_get(h->address, t->port, t->health, &status);

	*done = !err && status == 200;
	if (err)
		snprintf(why, n, "%s", err->msg);
	else if (!*done)
		snprintf(why, n, "GET %s answered %ld", t->health, status);
	return NULL;
}

const struct error *runtime_wait_healthy(const struct instance *in, const char *address, int timeout, double *took)
{
	const struct error *err;
	struct health h = {in, address};
	char label[200];
	struct wait w = {.timeout = timeout, .interval_ms = 50, .label = label};

	snprintf(label, sizeof label, "waiting for %s to get healthy", in->name);
	err = wait_until(&w, healthy, &h);
	if (took)
		*took = w.took;
	if (err && err->code == ERR_INTERRUPTED)
		return error_new(ERR_INTERRUPTED, "instance \"%s\" is not healthy after %d s: interrupted", in->name, timeout);
	if (!err && w.timed_out)
		err = error_fmt("instance \"%s\" is not healthy after %d s: %s", in->name, timeout,
				w.why[0] ? w.why : "no answer");
	return err;
}

/* The containers of a listing that belong to instance name of cl. */
static json_t *of_instance(const struct cluster *cl, const char *name, json_t *all)
{
	json_t *out = json_array(), *c;
	size_t i;

	/* Same instance name in another cluster on this engine: not ours. */
	json_array_foreach(all, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *inst = json_string_value(json_object_get(labels, LABEL_INSTANCE));

		if (!cluster_foreign(cl, labels) && inst && strcmp(inst, name) == 0)
			json_array_append(out, c);
	}
	return out;
}

const struct error *runtime_containers(struct engine *e, const struct instance *in, json_t **out)
{
	const struct error *err;
	char *label = xasprintf("%s=%s", LABEL_INSTANCE, in->name);
	json_t *all = NULL;

	*out = NULL;
	err = engine_container_list(e, label, &all);
	free(label);
	if (err)
		return err;
	*out = of_instance(&in->cl, in->name, all);
	json_decref(all);
	return NULL;
}

/* One instance's status from its containers, but its health; *web gets
 * the active environment's web container when it runs. */
static json_t *status_of(struct instance *in, json_t *list, json_t **web)
{
	json_t *procs = json_array(), *c, *out;
	const char *state = "stopped";
	char url[300], *webname = instance_container(in, in->env, "web");
	size_t i;
	int running = 0, total = 0;

	*web = NULL;
	json_array_foreach(list, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		const char *st = json_string_value(json_object_get(c, "State"));
		const char *role = json_string_value(json_object_get(labels, LABEL_ROLE));
		int up = st && strcmp(st, "running") == 0;

		if (role && strcmp(role, "run") == 0)
			continue;
		if (name && *name == '/')
			name++;
		total++;
		running += up;
		if (up && name && strcmp(name, webname) == 0)
			*web = c;
		json_array_append_new(procs, json_pack("{s:s, s:s?, s:s?, s:s?}", "name", name, "role", role, "env",
						       json_string_value(json_object_get(labels, LABEL_ENV)), "state", st));
	}
	free(webname);
	if (total)
		state = running == total ? "running" : "partial";
	else if (in->archived)
		state = "archived";
	snprintf(url, sizeof url, strchr(in->cl.bind, ':') ? "http://[%s]:%d/" : "http://%s:%d/", in->cl.bind, in->port);
	out = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:o}", "name", in->name, "version", in->version,
			"port", in->port, "env", in->env, "state", state, "health", "-", "url", url, "served",
			runtime_served(in), "locked", proxy_locked(&in->cl, in->name), "containers", procs);
	if (!out)
		report_out_of_memory();
	if (in->description)
		json_object_set_new(out, "description", json_string(in->description));
	return out;
}

/* Health and the verdict: one that is served must run and be healthy; one
 * stopped on purpose is fine. */
static void status_finish(struct instance *in, json_t *st, const char *health, int engine)
{
	const char *state = json_string_value(json_object_get(st, "state"));

	if (health)
		json_object_set_new(st, "health", json_string(health));
	if (!json_is_true(json_object_get(st, "served")))
		json_object_set_new(st, "ok", json_true());
	else if (strcmp(state, "running") != 0)
		json_object_set_new(st, "problem", json_sprintf("served, but its containers are %s", state));
	else if (health && strcmp(health, "healthy") != 0 && engine)
		json_object_set_new(st, "problem", json_string("served, but its healthcheck fails"));
	else if (!health || strcmp(health, "healthy") != 0)
		json_object_set_new(st, "problem", json_sprintf("served, but GET %s does not answer 200",
								in->cl.tpl.health));
	if (!json_object_get(st, "ok"))
		json_object_set_new(st, "ok", json_boolean(!json_object_get(st, "problem")));
}

const struct error *runtime_status_many(struct engine *e, struct instance *in, size_t n, json_t *listed, int live,
				       json_t **out)
{
	const struct error *err = NULL;
	char *net = NULL;
	json_t *all = json_incref(listed);
	char **url = xcalloc(n ? n : 1, sizeof *url);
	long *status = xcalloc(n ? n : 1, sizeof *status);
	size_t *who = xcalloc(n ? n : 1, sizeof *who), nprobe = 0;

	if (n == 0)
		goto out;
	/* One listing: of the instance's containers, or of the cluster's. */
	if (!all && (err = n == 1 ? runtime_containers(e, &in[0], &all) : container_list_cluster(e, &in[0].cl, &all)))
		goto out;
	net = cluster_network(&in[0].cl);
	for (size_t i = 0; i < n; i++) {
		json_t *mine = of_instance(&in[i].cl, in[i].name, all), *web;
		const char *h, *ip;

		out[i] = status_of(&in[i], mine, &web);
		json_decref(mine);
		if (!web) {
			status_finish(&in[i], out[i], NULL, 0);
			continue;
		}
		/* The engine's verdict when it keeps one (the template's
		 * healthcheck); else, or with live, the health path now. */
		if (!live && (h = engine_listed_health(web))) {
			status_finish(&in[i], out[i], h, 1);
			continue;
		}
		if (!(ip = engine_container_ip(web, net))) {
			status_finish(&in[i], out[i], "unhealthy", 0);
			continue;
		}
		url[nprobe] = probe_url(ip, in[i].cl.tpl.port, in[i].cl.tpl.health);
		who[nprobe++] = i;
	}
	probe_http_many((const char *const *)url, status, nprobe);
	for (size_t k = 0; k < nprobe; k++)
		status_finish(&in[who[k]], out[who[k]], status[k] == 200 ? "healthy" : "unhealthy", 0);
out:
	for (size_t k = 0; k < nprobe; k++)
		free(url[k]);
	free(url);
	free(status);
	free(who);
	free(net);
	json_decref(all);
	return err;
}

const struct error *runtime_status(struct engine *e, struct instance *in, int live, json_t **out)
{
	*out = NULL;
	return runtime_status_many(e, in, 1, NULL, live, out);
}

/* env's web address, and its frontend's (front "" when the template has
 * none); each buffer of 64. */
static const struct error *addresses(const struct instance *in, const char *subnet, const char *env, char *address,
				     char *front)
{
	const struct error *err;

	*front = '\0';
	if ((err = instance_address(in, subnet, env, address, 64)))
		return err;
	return template_frontend(&in->cl.tpl) ? instance_front_address(in, subnet, env, front, 64) : NULL;
}

/* The frontend's database user, granted SELECT on both environments'
 * databases (made or set again at each start: an instance made before its
 * template had a frontend gets it then). */
static const struct error *readonly_user(struct engine *e, struct instance *in)
{
	const struct error *err;
	struct db *db = NULL;
	char pw[33], *user = instance_ro_user(in);
	char *dbs[3] = {instance_database(in, "blue"), instance_database(in, "green"), NULL};

	instance_ro_password(in, pw);
	if (!(err = mysqlsvc_connect(e, &in->cl, &db)))
		err = db_readonly_user(db, user, pw, dbs);
	explicit_bzero(pw, sizeof pw);
	db_close(db);
	free(user);
	free(dbs[0]);
	free(dbs[1]);
	return err;
}

const struct error *runtime_route(struct engine *e, struct instance *in, const char *env, int flags)
{
	const struct error *err;
	char subnet[64], address[64], front[64], *conf = NULL;
	json_t *old = NULL;
	struct routes routes = ROUTES_INIT;
	int restarted = 0, readonly = flags & ROUTE_READONLY, drain;

	if (flags & ROUTE_AGAIN)
		return proxy_hold(&in->cl, in->name, 0);
	if ((err = runtime_subnet(e, &in->cl, subnet, sizeof subnet)) || (err = addresses(in, subnet, env, address, front)))
		return err;
	/* A proxy removed or stopped behind our back comes back first, with
	 * every instance it served (their files are in the cluster folder). */
	if ((err = proxy_ensure(e, &in->cl, &restarted)))
		return err;
	if (restarted)
		report_note("the front proxy was not running: started it again, with the instances it serves");
	/* Held before the reload: requests from then on find writes held, and
	 * those begun before are over once the old workers are gone. */
	if (readonly && (err = proxy_hold(&in->cl, in->name, 1)))
		return err;
	if ((err = routes_load(in->root, &routes)))
		goto out;
	conf = proxy_instance_conf(in->name, &in->cl, in->port, address, *front ? front : NULL, in->cl.tpl.port, &routes);
	/* On return the new configuration is the one in force: holding writes
	 * needs that; letting them through is better with it.  A port not
	 * routed before has no old workers behind it: none to list or wait for.
	 * Hostnames are served on the cluster's shared ports, where old
	 * workers may still take a connection and answer with the old
	 * configuration (404): those are waited for. */
	drain = readonly || runtime_served(in) || routes.n > 0;
	if ((!drain || !(err = proxy_workers(e, &in->cl, &old))) && !(err = proxy_set(e, &in->cl, in->name, conf))) {
		if (drain)
			err = proxy_drain(e, &in->cl, old, readonly ? 60 : 10, readonly);
		if (!readonly)
			err = proxy_hold(&in->cl, in->name, 0);
	}
out:
	routes_free(&routes);
	json_decref(old);
	free(conf);
	return err;
}

struct checker {
	const struct cluster *cl;
	const char *instance;
	char *conf;
};

static void *check_ahead(void *ctx)
{
	struct checker *ck = ctx;
	struct engine *e = NULL;

	if (!engine_open(&e))
		proxy_check(e, ck->cl, ck->instance, ck->conf);
	engine_close(e);
	return NULL;
}

const struct error *runtime_promote(struct engine *e, struct instance *in, const char *env, struct runtime_times *t)
{
	const struct error *err;
	char subnet[64], address[64], front[64], *web = instance_container(in, env, "web");
	int slot = -1, checking = 0;
	struct checker ck;
	struct routes routes;
	struct runtime_times own;
	pthread_t ct;
	double at;

	/* A few start at once, each then timed on its own: on shared CPUs
	 * fifty starting together would each take longer than their health
	 * timeout. */
	if (in->cl.limits.starts &&
	    (err = lock_slot(in->cl.root, (int)in->cl.limits.starts, 3600, "waiting for other instances to start", &slot)))
		goto out;
	/* Routes that cannot be served stop it before anything starts. */
	if ((err = runtime_subnet(e, &in->cl, subnet, sizeof subnet)) || (err = addresses(in, subnet, env, address, front)) ||
	    (*front && (err = readonly_user(e, in))) || (err = routes_load(in->root, &routes)))
		goto out;
	/* The proxy's check of the configuration that will route to it runs
	 * meanwhile (a failed one only means runtime_route() checks again). */
	ck.cl = &in->cl;
	ck.instance = in->name;
	ck.conf = proxy_instance_conf(in->name, &in->cl, in->port, address, *front ? front : NULL, in->cl.tpl.port,
				      &routes);
	routes_free(&routes);
	checking = pthread_create(&ct, NULL, check_ahead, &ck) == 0;
	if (!t)
		t = &own;
	memset(t, 0, sizeof *t);
	at = clock_seconds();
	if (!(err = runtime_start(e, in, env, subnet))) {
		t->start = clock_seconds() - at;
		err = runtime_wait_healthy(in, address, in->cl.tpl.health_timeout, &t->healthy);
		/* The frontend answers the same health path, as its own user. */
		if (!err && *front)
			err = error_wrap(runtime_wait_healthy(in, front, in->cl.tpl.health_timeout, NULL), "the frontend");
	}
	if (checking)
		pthread_join(ct, NULL);
	free(ck.conf);
	if (err) {
		struct buf logs = BUF_INIT;
		char *title = xasprintf("last lines of %s", web);

		container_last_output(e, web, 20, &logs);
		report_section(title, buf_str(&logs), logs.len);
		buf_free(&logs);
		free(title);
		/* Leave nothing crash-looping behind. */
		runtime_stop(e, in, env);
		goto out;
	}
	lock_release(slot);
	slot = -1;
	at = clock_seconds();
	if (!(err = runtime_route(e, in, env, 0)))
		err = proxy_wait(in->cl.bind, in->port, in->cl.tpl.health, 1, 15);
	/* The pages cached from what served before go. */
	if (!err && *front)
		err = proxy_cache_clear(&in->cl, in->name);
	t->route = clock_seconds() - at;
out:
	lock_release(slot);
	free(web);
	return err;
}

const struct error *runtime_serve(struct engine *e, struct instance *in)
{
	const struct error *err;
	struct runtime_times t;

	if ((err = runtime_promote(e, in, in->env, &t)))
		return err;
	report_line("instance \"%s\" (%s) is up at http://%s:%d/ (healthy after %.1f s)", in->name, in->version,
		    in->cl.bind, in->port, t.healthy);
	return NULL;
}

const struct error *runtime_unserve(struct engine *e, struct instance *in)
{
	const struct error *err;

	if ((err = proxy_set(e, &in->cl, in->name, NULL)) || (err = proxy_wait(in->cl.bind, in->port, "/", 0, 15)) ||
	    (err = runtime_stop(e, in, NULL)))
		return err;
	report_line("instance \"%s\" is stopped", in->name);
	return NULL;
}

const struct error *runtime_stop(struct engine *e, struct instance *in, const char *env)
{
	return stop_where(e, in, env, NULL);
}

const struct error *runtime_clear_waiting(struct engine *e, struct instance *in, const char *env, int *did)
{
	const struct error *err;
	if (!gate_shut(in, env))
		return NULL;
	*did = 1;
	return (err = runtime_stop(e, in, env)) ? err : gate_set(in, env, 1);
}

int runtime_served(const struct instance *in)
{
	char *p = cluster_path(&in->cl, "proxy/conf.d/%s.conf", in->name);
	int r = fs_exists(p);

	free(p);
	return r;
}

const struct error *runtime_lock(struct engine *e, struct instance *in, int on)
{
	const struct error *err;

	if ((err = proxy_lock(&in->cl, in->name, on)))
		return err;
	/* Served: its configuration is written again (one from before locks
	 * does not look for the file), and on return the writes begun before
	 * are over. */
	if (on && runtime_served(in) && (err = runtime_route(e, in, in->env, 0)))
		proxy_lock(&in->cl, in->name, 0);
	return err;
}
