/* cluster.c: the cluster commands (cluster.sh CMD, korcluster -C DIR CMD).
 * One function per command, cmd_NAME; the table is at the end. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <sys/socket.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/backup.h"
#include "common/cli.h"
#include "common/clustercfg.h"
#include "common/engine.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/instcfg.h"
#include "common/lock.h"
#include "common/name.h"
#include "common/progress.h"
#include "common/proxy.h"
#include "common/ready.h"
#include "common/runtime.h"


static json_t *instances_json(struct engine *e, struct cluster *cl);
static void print_instances(json_t *all);

/* Parse options shared by the simple commands: only --json. */
static int parse_json_flag(struct ctx *ctx, const struct cmd *c, int argc, char **argv, int *json)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int o;

	*json = 0;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (o == 'j')
			*json = 1;
		else
			return cli_bad_option(ctx, c, argv);
	}
	if (optind < argc)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static int no_args(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[1]);
	return 0;
}

static const struct cmd *cmd_named(const char *name)
{
	for (const struct cmd *c = cluster_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Ports and slots of the existing instances; names of their folders. */
struct taken {
	int ports[1024], slots[1024];
	size_t n;
};

/* ---- create ---- */

static int write_secret(const char *path)
{
	char pw[33];

	if (name_random(pw, 32, NAME_ALNUM) < 0)
		return -1;
	return fs_write_atomic(path, pw, strlen(pw), 0600);
}

static int cmd_create(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, 't'},
		{"bind", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	const struct cmd *c = cmd_named("create");
	const char *tname = "kor", *bind = "0.0.0.0";
	char rname[7], *dir = NULL, *self = NULL, *p = NULL, *text = NULL;
	struct template t = {0};
	struct diag d = DIAG_INIT;
	const char *name;
	int o, made_dir = 0, clean_on_fail = 0, lock = -1, rc = KC_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "t:b:", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			tname = optarg;
			break;
		case 'b':
			bind = optarg;
			break;
		default:
			return cli_bad_option(ctx, c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(ctx, c, "missing DIR");
	if (argc - optind > 2)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind + 2]);
	/* Check every input before touching the disk. */
	if (argc - optind == 2) {
		name = argv[optind + 1];
	} else {
		if (name_random(rname, 6, NAME_ALNUM_LOWER) < 0)
			return KC_FAIL;
		name = rname;
	}
	if (name_check_cluster(name) < 0 || name_check_address(bind) < 0)
		goto out;
	if (template_load(&t, tname, &d) < 0 || diag_report(&d, "checking template") < 0)
		goto out;
	if (!(dir = fs_absolute(argv[optind])) || !(self = fs_self_exe()))
		goto out;
	free(p);
	if (!(p = fs_pathf("%s/cluster.ini", dir)))
		goto out;
	if (fs_exists(p)) {
		err_set("it already holds a cluster");
		goto out;
	}
	free(p);
	if (!(p = fs_pathf("%s/instance.ini", dir)))
		goto out;
	if (fs_exists(p)) {
		err_set("it holds an instance");
		goto out;
	}
	if (strchr(dir, ':')) {
		err_set("a folder name with \":\" cannot be mounted into containers");
		goto out;
	}
	for (const char *c = dir; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			err_set("a folder name with a control character (a newline, a tab...) is refused");
			goto out;
		}
	if (fs_exists(dir) && !fs_is_dir(dir)) {
		err_set("it is not a folder");
		goto out;
	}
	if (fs_nonempty_dir(dir)) {
		err_set("it is not empty; give a new or empty folder");
		goto out;
	}
	{
		char *parent = strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;

		if (slash && slash != parent)
			*slash = '\0';
		if (!parent || fs_mkdirs(parent, 0755) < 0) {
			free(parent);
			goto out;
		}
		free(parent);
	}
	/* A name in use on this engine would make two clusters share containers. */
	{
		struct engine *e = NULL;
		json_t *list = NULL;
		char *label = fs_pathf("%s=%s", LABEL_CLUSTER, name);

		if (label && engine_open(&e) == 0 && engine_container_list(e, label, &list) == 0 &&
		    json_array_size(list)) {
			const char *other = json_string_value(
				json_object_get(json_object_get(json_array_get(list, 0), "Labels"), LABEL_ROOT));

			err_set("cluster name \"%s\" is in use on this engine%s%s%s", name, other ? " (by " : "",
				other ? other : "", other ? ")" : "");
			json_decref(list);
			engine_close(e);
			free(label);
			goto out;
		}
		err_clear();
		json_decref(list);
		engine_close(e);
		free(label);
	}
	/* Only a folder this run made is removed on failure. */
	if (mkdir(dir, 0755) == 0)
		made_dir = 1;
	else if (errno != EEXIST || !fs_is_dir(dir)) {
		err_errno("making folder");
		goto out;
	}
	if ((lock = lock_take(dir, "the new cluster's folder")) < 0) {
		made_dir = 0;
		goto out;
	}
	/* The same check under the lock: another create may have won. */
	free(p);
	if (!(p = fs_pathf("%s/cluster.ini", dir)) || fs_exists(p)) {
		err_set("it already holds a cluster");
		made_dir = 0;
		goto out;
	}
	clean_on_fail = 1;
	{
		const char *sub[] = {"instances", "snapshots", "services"};

		for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
			free(p);
			if (!(p = fs_pathf("%s/%s", dir, sub[i])) || fs_mkdirs(p, 0755) < 0)
				goto out;
		}
		free(p);
		if (!(p = fs_pathf("%s/secrets", dir)) || fs_mkdirs(p, 0700) < 0)
			goto out;
		if (chmod(p, 0700) < 0) {
			err_errno("setting mode of \"%s\"", p);
			goto out;
		}
	}
	for (size_t i = 0; i < t.nsvc; i++) {
		free(p);
		if (!(p = fs_pathf("%s/services/%s", dir, t.svc[i].name)) || fs_mkdirs(p, 0755) < 0)
			goto out;
		if (t.svc[i].ready == READY_MYSQL) {
			free(p);
			if (!(p = fs_pathf("%s/secrets/%s_root_password", dir, t.svc[i].name)) ||
			    write_secret(p) < 0)
				goto out;
		}
	}
	free(p);
	if (!(p = fs_pathf("%s/cluster.sh", dir)) || fs_symlink_atomic(self, p) < 0)
		goto out;
	free(p);
	/* cluster.ini last: its presence is what makes the folder a cluster. */
	if (!(text = cluster_ini_text(name, tname, bind, &t)) || !(p = fs_pathf("%s/cluster.ini", dir)) ||
	    fs_write_atomic(p, text, strlen(text), 0644) < 0)
		goto out;
	printf("created cluster \"%s\" in %s (template %s)\nnext: %s/cluster.sh boot\n", name, dir, tname, dir);
	rc = KC_OK;
out:
	if (rc != KC_OK) {
		err_wrap("creating cluster in \"%s\"", argv[optind]);
		if (made_dir) {
			fs_remove_tree(dir);
		} else if (clean_on_fail) {
			/* The folder was empty under our lock: empty it again. */
			const char *made[] = {"cluster.sh", "secrets", "services", "instances", "snapshots", ".lock"};

			for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
				char *m = fs_pathf("%s/%s", dir, made[i]);

				if (m)
					fs_remove_tree(m);
				free(m);
			}
		}
	}
	lock_release(lock);
	diag_free(&d);
	template_free(&t);
	free(text);
	free(p);
	free(self);
	free(dir);
	return rc;
}

/* ---- boot ---- */

static json_t *service_config(struct cluster *cl, const struct tpl_service *s, const char *net)
{
	json_t *env = json_array(), *mounts = json_array(), *cmd = NULL, *cfg;
	char *data = cluster_path(cl, "services/%s", s->name);
	struct strv words = STRV_INIT;

	for (size_t i = 0; i < s->env.n; i++)
		json_array_append_new(env, json_string(s->env.v[i]));
	if (s->data)
		json_array_append_new(mounts, engine_mount(data, s->data, 0));
	if (s->password_env) {
		char *pw = cluster_path(cl, "secrets/%s_root_password", s->name);
		char *dst = fs_pathf("/run/secrets/%s_root_password", s->name);

		json_array_append_new(mounts, engine_mount(pw, dst, 1));
		free(dst);
		json_array_append_new(env, json_sprintf("%s=/run/secrets/%s_root_password", s->password_env,
							s->name));
		free(pw);
	}
	if (s->command && strv_split(&words, s->command) == 0) {
		cmd = json_array();
		for (size_t i = 0; i < words.n; i++)
			json_array_append_new(cmd, json_string(words.v[i]));
	}
	cfg = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:i, s:{s:o, s:{s:s}, s:s},"
			" s:{s:{s:{s:[s]}}}}",
			"Image", cluster_image(cl, s->name), "Env", env,
			"Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root, LABEL_ROLE, s->name,
			"StopTimeout", s->stop_timeout,
			"HostConfig", "Mounts", mounts, "RestartPolicy", "Name", "unless-stopped",
			"NetworkMode", net,
			"NetworkingConfig", "EndpointsConfig", net, "Aliases", s->name);
	if (cfg && cmd)
		json_object_set_new(cfg, "Cmd", cmd);
	else
		json_decref(cmd);
	strv_free(&words);
	free(data);
	return cfg;
}

/* Make the service's container exist, run the wanted image and run.
 * *changed says whether anything had to be done. */
static int ensure_service(struct engine *e, struct cluster *cl, const struct tpl_service *s,
			  const char *net, int *changed)
{
	char *name = cluster_container(cl, s->name);
	json_t *cfg = service_config(cl, s, net);
	int rc = name && cfg ? runtime_ensure(e, cl, name, cfg, changed) : -1;

	json_decref(cfg);
	free(name);
	return rc;
}

static int wait_service(struct engine *e, struct cluster *cl, const struct tpl_service *s, const char *net,
			int timeout, double *took)
{
	char *name = cluster_container(cl, s->name), *pw = NULL;
	json_t *info = NULL;
	struct ready_target t = {s, name, NULL, NULL};
	int rc = -1;

	if (!name || engine_container_inspect(e, name, &info) < 0)
		goto out;
	if (!info) {
		err_set("container \"%s\" vanished", name);
		goto out;
	}
	t.ip = engine_container_ip(info, net);
	if (s->ready == READY_MYSQL && !(t.password = pw = cluster_root_password(cl, s)))
		goto out;
	rc = ready_wait(e, &t, timeout, took);
out:
	json_decref(info);
	free(pw);
	free(name);
	return rc;
}

static int scan_instances(struct cluster *cl, struct taken *t, struct strv *names);

static int serve_instances(struct engine *e, struct cluster *cl)
{
	struct taken taken;
	struct strv names = STRV_INIT;
	int rc = 0;

	if (scan_instances(cl, &taken, &names) < 0)
		return -1;
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		struct instance in;
		char *dir = cluster_path(cl, "instances/%s", names.v[i]);
		int lock = -1;

		if (!dir || instance_open(&in, dir) < 0) {
			free(dir);
			rc = -1;
			break;
		}
		if (runtime_served(&in) && ((lock = lock_take(dir, "the instance")) < 0 || runtime_serve(e, &in) < 0)) {
			err_wrap("starting instance \"%s\"", in.name);
			rc = -1;
		}
		lock_release(lock);
		instance_free(&in);
		free(dir);
	}
	strv_free(&names);
	return rc;
}

/* Grants of instances made before database names were escaped. */
static int narrow_grants(struct engine *e, struct cluster *cl)
{
	struct taken taken;
	struct strv names = STRV_INIT;
	int rc = 0;

	if (scan_instances(cl, &taken, &names) < 0)
		return -1;
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		struct instance in;
		char *dir;
		int fixed = 0;

		if (!strchr(names.v[i], '_'))
			continue;
		if (!(dir = cluster_path(cl, "instances/%s", names.v[i])) || instance_open(&in, dir) < 0) {
			free(dir);
			rc = -1;
			break;
		}
		if (runtime_fix_grants(e, &in, &fixed) < 0)
			rc = err_wrap("narrowing the database grant of instance \"%s\"", in.name);
		else if (fixed)
			printf("instance \"%s\": its database user was granted other instances' databases too (\"_\" in "
			       "the name); now only its own\n", in.name);
		instance_free(&in);
		free(dir);
	}
	strv_free(&names);
	return rc;
}

static int cmd_boot(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct engine *e = NULL;
	json_t *labels = NULL;
	char *net = NULL, subnet[64];
	int lock = -1, rc = KC_FAIL, changed_any = 0;
	double t0 = progress_now();

	if (no_args(ctx, cmd_named("boot"), argc, argv))
		return KC_USAGE;
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if ((lock = lock_take(cl.root, "the cluster")) < 0 || engine_open(&e) < 0 ||
	    !(net = cluster_network(&cl)))
		goto out;
	labels = cluster_labels(&cl);
	if (engine_network_ensure(e, net, labels, subnet, sizeof subnet) < 0)
		goto out;
	for (size_t i = 0; i < cl.tpl.nsvc; i++) {
		int changed;

		if (ensure_service(e, &cl, &cl.tpl.svc[i], net, &changed) < 0) {
			err_wrap("booting service \"%s\"", cl.tpl.svc[i].name);
			goto out;
		}
		changed_any |= changed;
	}
	{
		int changed;

		if (proxy_ensure(e, &cl, &changed) < 0)
			goto out;
		changed_any |= changed;
	}
	for (size_t i = 0; i < cl.tpl.nsvc; i++) {
		const struct tpl_service *s = &cl.tpl.svc[i];
		double took;

		if (wait_service(e, &cl, s, net, s->timeout, &took) < 0)
			goto out;
		if (changed_any)
			printf("%s_%s: ready after %.1f s\n", cl.name, s->name, took);
	}
	/* Instances that were serving when the cluster went down come back. */
	if (changed_any && serve_instances(e, &cl) < 0)
		goto out;
	if (narrow_grants(e, &cl) < 0)
		goto out;
	if (changed_any)
		printf("cluster \"%s\" is up: %zu services ready in %.1f s\n", cl.name, cl.tpl.nsvc, progress_now() - t0);
	else
		printf("cluster \"%s\" is already booted\n", cl.name);
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("booting cluster \"%s\"", cl.name);
	json_decref(labels);
	free(net);
	engine_close(e);
	lock_release(lock);
	cluster_free(&cl);
	return rc;
}

/* ---- shutdown ---- */

static int stop_remove(struct engine *e, struct cluster *cl, json_t *list, int instances)
{
	size_t i;
	json_t *c;

	json_array_foreach(list, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *id = json_string_value(json_object_get(c, "Id"));
		const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));

		if (!id || cluster_foreign(cl, labels) || (json_object_get(labels, LABEL_INSTANCE) != NULL) != instances)
			continue;
		if (name && name[0] == '/')
			name++;
		/* -1: the container's own StopTimeout. */
		if (engine_container_stop(e, id, -1) < 0 || engine_container_remove(e, id) < 0)
			return -1;
		printf("%s: stopped\n", name ? name : id);
	}
	return 0;
}

static int cmd_shutdown(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct engine *e = NULL;
	json_t *list = NULL;
	char *label = NULL, *net = NULL;
	int lock = -1, rc = KC_FAIL;

	if (no_args(ctx, cmd_named("shutdown"), argc, argv))
		return KC_USAGE;
	/* Shutting down needs only the cluster's name: a broken template
	 * or cluster.ini must not keep the containers running. */
	{
		struct diag d = DIAG_INIT;

		if (cluster_load(&cl, ctx->root, &d) < 0) {
			diag_free(&d);
			cluster_free(&cl);
			return KC_FAIL;
		}
		diag_sort(&d);
		for (size_t i = 0; i < d.lines.n; i++)
			fprintf(stderr, "warning: %s\n", d.lines.v[i]);
		diag_free(&d);
		if (!cl.name) {
			cluster_free(&cl);
			return err_set("cluster.ini names no valid cluster"), KC_FAIL;
		}
	}
	if ((lock = lock_take(cl.root, "the cluster")) < 0 || engine_open(&e) < 0 ||
	    asprintf(&label, "%s=%s", LABEL_CLUSTER, cl.name) < 0 || !(net = cluster_network(&cl)) ||
	    engine_container_list(e, label, &list) < 0)
		goto out;
	/* Instances first: they use the services. */
	if (stop_remove(e, &cl, list, 1) < 0 || stop_remove(e, &cl, list, 0) < 0 || engine_network_remove(e, net) < 0)
		goto out;
	if (json_array_size(list))
		printf("cluster \"%s\" is shut down; its data stays in %s\n", cl.name, cl.root);
	else
		printf("cluster \"%s\" was not running\n", cl.name);
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("shutting down cluster \"%s\"", cl.name);
	free(label);
	free(net);
	json_decref(list);
	engine_close(e);
	lock_release(lock);
	cluster_free(&cl);
	return rc;
}

/* ---- status ---- */

static json_t *find_role(struct cluster *cl, json_t *list, const char *role)
{
	size_t i;
	json_t *c;

	json_array_foreach(list, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *r = json_string_value(json_object_get(labels, LABEL_ROLE));

		if (!cluster_foreign(cl, labels) && !json_object_get(labels, LABEL_INSTANCE) && r && strcmp(r, role) == 0)
			return c;
	}
	return NULL;
}

static int cmd_status(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct engine *e = NULL;
	json_t *list = NULL, *out = NULL, *svcs, *insts;
	char *label = NULL, *net = NULL;
	int json, rc = KC_FAIL, up = 0, healthy = 0, proxy_running;

	if ((rc = parse_json_flag(ctx, cmd_named("status"), argc, argv, &json)))
		return rc;
	rc = KC_FAIL;
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (engine_open(&e) < 0 || asprintf(&label, "%s=%s", LABEL_CLUSTER, cl.name) < 0 ||
	    !(net = cluster_network(&cl)) || engine_container_list(e, label, &list) < 0)
		goto out;
	svcs = json_array();
	for (size_t i = 0; i < cl.tpl.nsvc; i++) {
		const struct tpl_service *s = &cl.tpl.svc[i];
		json_t *c = find_role(&cl, list, s->name);
		const char *state = c ? json_string_value(json_object_get(c, "State")) : "absent";
		const char *health = "-";
		char *name = cluster_container(&cl, s->name), *pw = NULL, why[512] = "";

		if (c && state && strcmp(state, "running") == 0) {
			struct ready_target t = {s, name, NULL, NULL};
			json_t *n = json_object_get(json_object_get(json_object_get(c, "NetworkSettings"),
								    "Networks"), net);

			t.ip = json_string_value(json_object_get(n, "IPAddress"));
			if (t.ip && !*t.ip)
				t.ip = NULL;
			if (s->ready == READY_MYSQL)
				t.password = pw = cluster_root_password(&cl, s);
			health = ready_probe(e, &t, why, sizeof why) == 1 ? "healthy" : "unhealthy";
			up++;
			healthy += strcmp(health, "healthy") == 0;
		}
		json_array_append_new(svcs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", s->name,
						      "container", name, "image",
						      c && json_string_value(json_object_get(c, "Image"))
							      ? json_string_value(json_object_get(c, "Image"))
							      : cluster_image(&cl, s->name),
						      "state", state ? state : "unknown", "health", health,
						      "detail", why));
		free(pw);
		free(name);
	}
	{
		json_t *p = find_role(&cl, list, CLUSTER_PROXY);
		const char *ps = p ? json_string_value(json_object_get(p, "State")) : "absent";
		char *pname = cluster_container(&cl, CLUSTER_PROXY);

		proxy_running = ps && strcmp(ps, "running") == 0;
		out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}}", "cluster", cl.name, "template",
				cl.template_name, "folder", cl.root, "state",
				healthy == (int)cl.tpl.nsvc && proxy_running ? "booted"
				: up == 0 && !proxy_running                ? "down"
									   : "partial",
				"services", svcs, "proxy", "container", pname ? pname : "", "state", ps ? ps : "unknown");
		free(pname);
	}
	if (!out || !(insts = instances_json(e, &cl)))
		goto out;
	json_object_set_new(out, "instances", insts);
	if (json) {
		cli_print_json(out);
	} else {
		size_t i;
		json_t *s;

		printf("cluster %s (template %s): %s\n", cl.name, cl.template_name,
		       json_string_value(json_object_get(out, "state")));
		printf("%-10s %-24s %-10s %-10s %s\n", "SERVICE", "CONTAINER", "STATE", "HEALTH", "IMAGE");
		json_array_foreach(svcs, i, s) {
			printf("%-10s %-24s %-10s %-10s %s\n", json_string_value(json_object_get(s, "name")),
			       json_string_value(json_object_get(s, "container")),
			       json_string_value(json_object_get(s, "state")),
			       json_string_value(json_object_get(s, "health")),
			       json_string_value(json_object_get(s, "image")));
			if (*json_string_value(json_object_get(s, "detail")))
				printf("           %s\n", json_string_value(json_object_get(s, "detail")));
		}
		printf("%-10s %-24s %-10s\n", "proxy",
		       json_string_value(json_object_get(json_object_get(out, "proxy"), "container")),
		       json_string_value(json_object_get(json_object_get(out, "proxy"), "state")));
		if (json_array_size(json_object_get(out, "instances"))) {
			printf("\n");
			print_instances(json_object_get(out, "instances"));
		}
	}
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("reading status of cluster \"%s\"", cl.name);
	json_decref(out);
	json_decref(list);
	free(label);
	free(net);
	engine_close(e);
	cluster_free(&cl);
	return rc;
}

/* ---- new ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_instances(struct cluster *cl, struct taken *t, struct strv *names)
{
	char *dir = cluster_path(cl, "instances");
	DIR *d;
	struct dirent *de;

	t->n = 0;
	if (!dir)
		return -1;
	if (!(d = opendir(dir))) {
		err_errno("reading \"%s\"", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		struct conf c;
		struct diag dg = DIAG_INIT;
		char *ini = NULL;
		const char *v;

		if (de->d_name[0] == '.' || asprintf(&ini, "%s/%s/instance.ini", dir, de->d_name) < 0)
			continue;
		if (fs_exists(ini) && conf_load(&c, ini, &dg) == 0) {
			if (names)
				strv_push(names, de->d_name);
			if (t->n < sizeof t->ports / sizeof *t->ports) {
				t->ports[t->n] = (v = conf_value(&c, "instance", "port")) ? atoi(v) : 0;
				t->slots[t->n] = (v = conf_value(&c, "instance", "slot")) ? atoi(v) : -1;
				t->n++;
			}
		}
		if (fs_exists(ini))
			conf_free(&c);
		diag_free(&dg);
		free(ini);
	}
	closedir(d);
	free(dir);
	if (names && names->n > 1)
		qsort(names->v, names->n, sizeof *names->v, by_name);
	return 0;
}

/* Refuse a port bound on the host at the cluster's bind address. */
static int port_free_on_host(const char *bind_addr, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *ai;
	char ps[8];
	int fd, rc = 0;

	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(bind_addr, ps, &hints, &ai) != 0)
		return err_set("cannot use address \"%s\"", bind_addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* As nginx binds: connections lingering in TIME_WAIT do not count. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0)
		rc = err_errno("port %d on %s is taken on this host", port, bind_addr);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static const char *const reserved_users[] = {"root", "mysql", "sys", "test", "information_schema",
					     "performance_schema", "mariadb", NULL};

/* What makes a new instance's content, while everything made so far can
 * still be undone: the app's setup for "new", an import for "clone". */
typedef int (*fill_fn)(void *ctx, struct engine *e, struct instance *in);

static int run_setup(void *ctx, struct engine *e, struct instance *in)
{
	(void)ctx;
	if (in->cl.tpl.setup) {
		printf("running setup of \"%s\" (%s)\n", in->name, in->version);
		fflush(stdout);
	}
	return runtime_task(e, in, in->env, "setup", in->cl.tpl.setup, "; nothing was kept");
}

/* Make instance name: checks, database and user, folder, instance.ini,
 * then fill(); on any failure nothing is kept.  Takes the cluster's lock. */
static int create_instance(struct cluster *cl, const char *name, const char *version, const char *portarg,
			   fill_fn fill, void *fill_ctx)
{
	struct engine *e = NULL;
	struct db *db = NULL;
	struct taken taken;
	struct instance in;
	char *dir = NULL, *p = NULL, *text = NULL, *self = NULL, *dbs[3] = {NULL, NULL, NULL};
	char dbpw[33], skb[65];
	int port = 0, slot = 0, lock = -1, rc = -1, made_db = 0, made_dir = 0, loaded = 0;

	/* Every input first. */
	if (name_check_instance(name) < 0 || instance_check_version(version) < 0 ||
	    name_check_port(portarg, &port) < 0)
		goto out;
	for (size_t i = 0; reserved_users[i]; i++)
		if (strcmp(name, reserved_users[i]) == 0) {
			err_set("instance name \"%s\" is reserved by MySQL", name);
			goto out;
		}
	if ((lock = lock_take(cl->root, "the cluster")) < 0 || !(dir = cluster_path(cl, "instances/%s", name)))
		goto out;
	if (fs_exists(dir)) {
		err_set("instance \"%s\" exists already", name);
		goto out;
	}
	if (scan_instances(cl, &taken, NULL) < 0)
		goto out;
	for (size_t i = 0; i < taken.n; i++)
		if (taken.ports[i] == port) {
			err_set("port %d is taken by another instance", port);
			goto out;
		}
	for (slot = 0;; slot++) {
		size_t i;

		for (i = 0; i < taken.n && taken.slots[i] != slot; i++)
			;
		if (i == taken.n)
			break;
	}
	if (port_free_on_host(cl->bind, port) < 0 || engine_open(&e) < 0 || runtime_db_connect(e, cl, &db) < 0)
		goto out;
	/* Now make things, and unmake them on any failure. */
	if (name_random(dbpw, 32, NAME_ALNUM) < 0 || name_random(skb, 64, NAME_ALNUM) < 0 ||
	    !(dbs[0] = instance_db_name(name, "blue")) || !(dbs[1] = instance_db_name(name, "green")))
		goto out;
	if (db_instance_create(db, name, dbpw, dbs) < 0)
		goto out;
	made_db = 1;
	made_dir = 1;
	if (fs_mkdirs(dir, 0750) < 0 || !(p = fs_pathf("%s/data/blue", dir)) || fs_mkdirs(p, 0755) < 0)
		goto out;
	free(p);
	if (!(p = fs_pathf("%s/log", dir)) || fs_mkdirs(p, 0750) < 0)
		goto out;
	free(p);
	if (!(self = fs_self_exe()) || !(p = fs_pathf("%s/instance.sh", dir)) || fs_symlink_atomic(self, p) < 0)
		goto out;
	free(p);
	if (!(text = instance_ini_text(name, version, port, slot, dbpw, skb)) ||
	    !(p = fs_pathf("%s/instance.ini", dir)) || fs_write_atomic(p, text, strlen(text), 0600) < 0)
		goto out;
	if (instance_open(&in, dir) < 0)
		goto out;
	loaded = 1;
	if (fill(fill_ctx, e, &in) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		err_wrap("creating instance \"%s\"", name);
		if (made_db && db)
			db_instance_drop(db, name, dbs);
		if (made_dir)
			fs_remove_tree(dir);
	}
	if (loaded)
		instance_free(&in);
	explicit_bzero(dbpw, sizeof dbpw);
	explicit_bzero(skb, sizeof skb);
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	free(dbs[0]);
	free(dbs[1]);
	free(self);
	free(p);
	free(dir);
	db_close(db);
	engine_close(e);
	lock_release(lock);
	return rc;
}

/* Options of new and clone: --version, --port, with VERSION and PORT from
 * the environment as KorCluster took them. */
static int new_options(struct ctx *ctx, const struct cmd *c, int argc, char **argv, int nargs,
		       const char **version, const char **port)
{
	static const struct option opts[] = {
		{"version", required_argument, NULL, 'v'}, {"port", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
	int o;

	*version = getenv("VERSION");
	*port = getenv("PORT");
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, nargs == 1 ? "v:p:" : "p:", opts, NULL)) != -1) {
		if (o == 'v' && nargs == 1)
			*version = optarg;
		else if (o == 'p')
			*port = optarg;
		else
			return cli_bad_option(ctx, c, argv);
	}
	if (argc - optind < nargs)
		return cli_usage_error(ctx, c, "missing NAME");
	if (argc - optind > nargs)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind + nargs]);
	if (!*port || !**port)
		return cli_usage_error(ctx, c, "missing port: give --port P or PORT=P");
	return 0;
}

static int cmd_new(struct ctx *ctx, int argc, char **argv)
{
	const char *version, *port, *name;
	struct cluster cl;
	int rc;

	if ((rc = new_options(ctx, cmd_named("new"), argc, argv, 1, &version, &port)))
		return rc;
	name = argv[optind];
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (!version || !*version)
		version = cl.tpl.default_version;
	rc = create_instance(&cl, name, version, port, run_setup, NULL) < 0 ? KC_FAIL : KC_OK;
	if (rc == KC_OK)
		printf("created instance \"%s\" (%s) on port %s\nnext: %s/instances/%s/instance.sh start\n", name, version,
		       port, cl.root, name);
	cluster_free(&cl);
	return rc;
}

/* ---- clone ---- */

struct clone {
	const char *archive; /* the source's snapshot */
};

static int import_clone(void *ctx, struct engine *e, struct instance *in)
{
	return backup_import(e, in, ((struct clone *)ctx)->archive);
}

static int cmd_clone(struct ctx *ctx, int argc, char **argv)
{
	const char *version, *port, *src, *name;
	struct cluster cl;
	struct instance from;
	struct engine *e = NULL;
	struct backup_result res = {0};
	struct clone cc = {NULL};
	char *sdir = NULL, *tmp = NULL;
	int rc, lock = -1, loaded = 0;

	if ((rc = new_options(ctx, cmd_named("clone"), argc, argv, 2, &version, &port)))
		return rc;
	src = argv[optind];
	name = argv[optind + 1];
	rc = KC_FAIL;
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (name_check_instance(src) < 0 || name_check_instance(name) < 0 ||
	    !(sdir = cluster_path(&cl, "instances/%s", src)))
		goto out;
	if (instance_open(&from, sdir) < 0)
		goto out;
	loaded = 1;
	if (!(tmp = cluster_path(&cl, "snapshots/.clone-%s-%d.tar.zst", name, (int)getpid())))
		goto out;
	/* The source's current state, taken online under its lock. */
	if ((lock = lock_take(from.root, "the instance")) < 0 || engine_open(&e) < 0 ||
	    backup_snapshot(e, &from, from.env, tmp, 0, &res) < 0)
		goto out;
	lock_release(lock);
	lock = -1;
	printf("took %s's state in %.1f s (writes held %.2f s)\n", src, res.seconds, res.held);
	cc.archive = res.path;
	if (create_instance(&cl, name, from.version, port, import_clone, &cc) < 0)
		goto out;
	printf("cloned \"%s\" to \"%s\" (%s) on port %s\nnext: %s/instances/%s/instance.sh start\n", src, name,
	       from.version, port, cl.root, name);
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("cloning \"%s\" to \"%s\"", src, name);
	if (res.path)
		unlink(res.path);
	backup_result_free(&res);
	lock_release(lock);
	engine_close(e);
	if (loaded)
		instance_free(&from);
	free(tmp);
	free(sdir);
	cluster_free(&cl);
	return rc;
}

/* ---- list ---- */

/* Every instance's runtime_status() without its containers. */
static json_t *instances_json(struct engine *e, struct cluster *cl)
{
	struct taken taken;
	struct strv names = STRV_INIT;
	json_t *all = json_array();

	if (scan_instances(cl, &taken, &names) < 0)
		goto fail;
	for (size_t i = 0; i < names.n; i++) {
		struct instance in;
		char *dir = cluster_path(cl, "instances/%s", names.v[i]);
		json_t *st;

		if (!dir || instance_open(&in, dir) < 0) {
			free(dir);
			goto fail;
		}
		free(dir);
		st = runtime_status(e, &in);
		instance_free(&in);
		if (!st)
			goto fail;
		json_object_del(st, "containers");
		json_array_append_new(all, st);
	}
	strv_free(&names);
	return all;
fail:
	strv_free(&names);
	json_decref(all);
	return NULL;
}

static void print_instances(json_t *all)
{
	size_t i;
	json_t *s;

	printf("%-20s %-10s %-6s %-6s %-8s %-10s %s\n", "INSTANCE", "VERSION", "PORT", "ENV", "STATE", "HEALTH",
	       "URL");
	json_array_foreach(all, i, s)
		printf("%-20s %-10s %-6lld %-6s %-8s %-10s %s\n", json_string_value(json_object_get(s, "name")),
		       json_string_value(json_object_get(s, "version")),
		       (long long)json_integer_value(json_object_get(s, "port")),
		       json_string_value(json_object_get(s, "env")), json_string_value(json_object_get(s, "state")),
		       json_string_value(json_object_get(s, "health")), json_string_value(json_object_get(s, "url")));
}

static int cmd_list(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct engine *e = NULL;
	json_t *all = NULL;
	int json, rc;

	if ((rc = parse_json_flag(ctx, cmd_named("list"), argc, argv, &json)))
		return rc;
	rc = KC_FAIL;
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (engine_open(&e) < 0 || !(all = instances_json(e, &cl)))
		goto out;
	if (json) {
		cli_print_json(all);
	} else {
		print_instances(all);
	}
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("listing instances of cluster \"%s\"", cl.name);
	json_decref(all);
	engine_close(e);
	cluster_free(&cl);
	return rc;
}

/* ---- destroy ---- */

static int confirm(const char *name)
{
	char line[128];

	printf("This removes instance \"%s\": its containers, databases and files.\n"
	       "Type the instance's name to go on: ", name);
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 0;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, name) == 0;
}

static int cmd_destroy(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct instance in;
	struct engine *e = NULL;
	struct db *db = NULL;
	const char *name;
	char *dir = NULL, *dbs[3] = {NULL, NULL, NULL};
	int yes = 0, lock = -1, ilock = -1, rc = KC_FAIL, loaded = 0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
			memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof *argv);
			argc--;
			yes = 1;
			break;
		}
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(ctx, cmd_named("destroy"), argc < 2 ? "missing NAME" : "unexpected argument \"%s\"",
				       argv[argc < 2 ? 0 : argc - 1]);
	name = argv[1];
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (name_check_instance(name) < 0 || !(dir = cluster_path(&cl, "instances/%s", name)))
		goto out;
	if (!fs_exists(dir)) {
		err_set("no such instance");
		goto out;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			err_set("not confirmed: add --yes to destroy without a question");
			goto out;
		}
		if (!confirm(name)) {
			err_set("not confirmed; nothing was removed");
			goto out;
		}
	}
	if ((lock = lock_take(cl.root, "the cluster")) < 0 || (ilock = lock_take(dir, "the instance")) < 0 ||
	    instance_open(&in, dir) < 0)
		goto out;
	loaded = 1;
	if (!(dbs[0] = instance_db_name(name, "blue")) || !(dbs[1] = instance_db_name(name, "green")))
		goto out;
	if (engine_open(&e) < 0 || proxy_set(e, &cl, name, NULL) < 0 || runtime_stop(e, &in, NULL) < 0 ||
	    runtime_db_connect(e, &cl, &db) < 0 || db_instance_drop(db, name, dbs) < 0 || fs_remove_tree(dir) < 0)
		goto out;
	printf("instance \"%s\" is destroyed\n", name);
	rc = KC_OK;
out:
	if (rc != KC_OK)
		err_wrap("destroying instance \"%s\"", argc > 1 ? argv[1] : "?");
	if (loaded)
		instance_free(&in);
	free(dbs[0]);
	free(dbs[1]);
	free(dir);
	db_close(db);
	engine_close(e);
	lock_release(ilock);
	lock_release(lock);
	cluster_free(&cl);
	return rc;
}

/* ---- validate ---- */

static int cmd_validate(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	struct diag d = DIAG_INIT;
	int rc;

	if (no_args(ctx, cmd_named("validate"), argc, argv))
		return KC_USAGE;
	if (cluster_load(&cl, ctx->root, &d) < 0) {
		rc = KC_FAIL;
	} else if (d.lines.n) {
		diag_sort(&d);
		for (size_t i = 0; i < d.lines.n; i++)
			printf("%s\n", d.lines.v[i]);
		err_set("validating \"%s/cluster.ini\": %zu problem%s", cl.root, d.lines.n,
			d.lines.n == 1 ? "" : "s");
		rc = KC_FAIL;
	} else {
		printf("%s/cluster.ini: ok (template %s)\n", cl.root, cl.template_name);
		rc = KC_OK;
	}
	diag_free(&d);
	cluster_free(&cl);
	return rc;
}

/* ---- snapshots, prune ---- */

static int cmd_snapshots(struct ctx *ctx, int argc, char **argv)
{
	struct cluster cl;
	json_t *all, *s;
	size_t i;
	int json, rc;

	if ((rc = parse_json_flag(ctx, cmd_named("snapshots"), argc, argv, &json)))
		return rc;
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if (!(all = backup_list(&cl))) {
		err_wrap("listing snapshots of cluster \"%s\"", cl.name);
		cluster_free(&cl);
		return KC_FAIL;
	}
	if (json) {
		cli_print_json(all);
	} else {
		printf("%-20s %-12s %-20s %10s  %s\n", "INSTANCE", "VERSION", "CREATED", "SIZE", "FILE");
		json_array_foreach(all, i, s)
			printf("%-20s %-12s %-20s %8.1f M  %s\n", json_string_value(json_object_get(s, "instance")),
			       json_string_value(json_object_get(s, "version")),
			       json_string_value(json_object_get(s, "created")),
			       (double)json_integer_value(json_object_get(s, "size")) / (1 << 20),
			       json_string_value(json_object_get(s, "file")));
	}
	json_decref(all);
	cluster_free(&cl);
	return KC_OK;
}

static int cmd_prune(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", required_argument, NULL, 'k'}, {NULL, 0, NULL, 0}};
	const struct cmd *c = cmd_named("prune");
	struct cluster cl;
	const char *instance = NULL;
	long keep = -1;
	int o, removed = 0, lock = -1, rc = KC_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (o != 'k')
			return cli_bad_option(ctx, c, argv);
		if (cli_number(ctx, c, "--keep", optarg, 0, &keep))
			return KC_USAGE;
	}
	if (keep < 0)
		return cli_usage_error(ctx, c, "missing --keep N");
	if (optind < argc)
		instance = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind]);
	if (cluster_open(&cl, ctx->root) < 0)
		return KC_FAIL;
	if ((!instance || name_check_instance(instance) == 0) && (lock = lock_take(cl.root, "the cluster")) >= 0 &&
	    backup_prune(&cl, instance, (int)keep, &removed) == 0) {
		printf("removed %d snapshot%s; kept the newest %ld of %s\n", removed, removed == 1 ? "" : "s", keep,
		       instance ? instance : "each instance");
		rc = KC_OK;
	}
	if (rc != KC_OK)
		err_wrap("pruning snapshots of cluster \"%s\"", cl.name);
	lock_release(lock);
	cluster_free(&cl);
	return rc;
}

const struct cmd cluster_cmds[] = {
	{"create", cmd_create, "[--template NAME] [--bind ADDR] DIR [NAME]",
	 "make a new cluster in DIR (NAME: 6 random characters if not given)",
	 "  -t, --template NAME  app template (default kor; see templates/)\n"
	 "  -b, --bind ADDR      address instance ports are published on (default 0.0.0.0)\n"
	 "DIR gets cluster.ini, cluster.sh (a link to this binary), secrets/ (mode 0700),\n"
	 "services/, instances/ and snapshots/.  A folder that already holds a cluster is refused.\n",
	 0},
	{"boot", cmd_boot, "", "start the cluster's network and shared services and wait until they are ready",
	 "Missing images are pulled.  On a booted cluster it only says so.\n", CMD_NEEDS_SCOPE},
	{"shutdown", cmd_shutdown, "", "stop and remove the cluster's containers, instances first; data stays",
	 NULL, CMD_NEEDS_SCOPE},
	{"status", cmd_status, "[--json]", "show each service's state and health", NULL, CMD_NEEDS_SCOPE},
	{"new", cmd_new, "[--version V] [--port P] NAME",
	 "make an instance: its database and user, folder, secrets, and the app's setup",
	 "VERSION and PORT may come from the environment, as KorCluster took them.\n"
	 "The port must be free on this host and among the cluster's instances.\n"
	 "If anything fails, nothing is kept: no database, no user, no folder.\n", CMD_NEEDS_SCOPE},
	{"list", cmd_list, "[--json]", "every instance with version, port, state and health", NULL, CMD_NEEDS_SCOPE},
	{"clone", cmd_clone, "[--port P] SRC NEW",
	 "make instance NEW from SRC's current state, taken online: own database, user, secrets and port",
	 "SRC keeps serving; NEW gets SRC's version and is left stopped.  PORT may come from the environment.\n",
	 CMD_NEEDS_SCOPE},
	{"snapshots", cmd_snapshots, "[--json]", "the snapshots in snapshots/, newest first", NULL, CMD_NEEDS_SCOPE},
	{"prune", cmd_prune, "--keep N [INSTANCE]", "remove all but the newest N snapshots of each instance",
	 "Only files named as snapshots are touched (NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst|gz).\n", CMD_NEEDS_SCOPE},
	{"destroy", cmd_destroy, "[--yes] NAME", "remove an instance: containers, databases, user and folder",
	 "Asks for the instance's name unless --yes is given.\n", CMD_NEEDS_SCOPE},
	{"validate", cmd_validate, "", "check cluster.ini and its template, listing every problem", NULL,
	 CMD_NEEDS_SCOPE},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
