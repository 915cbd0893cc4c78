#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "container.h"
#include "mem.h"
#include "proxy.h"
#include "ready.h"
#include "report.h"
#include "strv.h"

static const struct error *service_config(const struct cluster *cl, const struct tpl_service *s, const char *net,
					  json_t **out)
{
	const struct error *err = NULL;
	json_t *env = json_array(), *mounts = json_array(), *cmd = NULL;
	char *data = cluster_path(cl, "services/%s", s->name);
	struct strv words = STRV_INIT;

	for (size_t i = 0; i < s->env.n; i++)
		json_array_append_new(env, json_string(s->env.v[i]));
	if (s->data)
		json_array_append_new(mounts, engine_mount(data, s->data, 0));
	if (s->password_env) {
		char *pw = cluster_path(cl, "secrets/%s_root_password", s->name);
		char *dst = xasprintf("/run/secrets/%s_root_password", s->name);

		json_array_append_new(mounts, engine_mount(pw, dst, 1));
		json_array_append_new(env, json_sprintf("%s=%s", s->password_env, dst));
		free(dst);
		free(pw);
	}
	if (s->command && !(err = strv_split(&words, s->command))) {
		cmd = json_array();
		for (size_t i = 0; i < words.n; i++)
			json_array_append_new(cmd, json_string(words.v[i]));
	}
	*out = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:i, s:{s:o, s:{s:s}, s:s}, s:{s:{s:{s:[s]}}}}", "Image",
			 cluster_image(cl, s->name), "Env", env, "Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root,
			 LABEL_ROLE, s->name, "StopTimeout", s->stop_timeout, "HostConfig", "Mounts", mounts,
			 "RestartPolicy", "Name", "unless-stopped", "NetworkMode", net, "NetworkingConfig",
			 "EndpointsConfig", net, "Aliases", s->name);
	if (!*out)
		report_out_of_memory();
	if (cmd)
		json_object_set_new(*out, "Cmd", cmd);
	strv_free(&words);
	free(data);
	return err;
}

/* Wait until service s answers its readiness check. */
static const struct error *wait_service(struct engine *e, const struct cluster *cl, const struct tpl_service *s,
					const char *net, double *took)
{
	const struct error *err;
	char *name = cluster_container(cl, s->name), *pw = NULL;
	json_t *info = NULL;
	struct ready_target t = {s, name, NULL, NULL, 0};

	if (!(err = engine_container_inspect(e, name, &info))) {
		if (!info)
			err = error_fmt("container \"%s\" vanished", name);
		t.ip = info ? engine_container_ip(info, net) : NULL;
		if (!err && s->ready == READY_MYSQL)
			err = cluster_root_password(cl, s, &pw);
		t.password = pw;
		if (!err)
			err = ready_wait(e, &t, s->timeout, took);
	}
	json_decref(info);
	if (pw)
		explicit_bzero(pw, strlen(pw));
	free(pw);
	free(name);
	return err;
}

const struct error *services_boot(struct engine *e, const struct cluster *cl, int *changed)
{
	const struct error *err;
	char *net = cluster_network(cl), subnet[64];
	json_t *labels = json_pack("{s:s, s:s}", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root);
	int c;

	*changed = 0;
	if ((err = engine_network_ensure(e, net, labels, subnet, sizeof subnet)))
		goto out;
	for (size_t i = 0; i < cl->tpl.nsvc; i++) {
		const struct tpl_service *s = &cl->tpl.svc[i];
		char *name = cluster_container(cl, s->name);
		json_t *cfg = NULL;

		if (!(err = service_config(cl, s, net, &cfg)))
			err = container_ensure(e, cl, name, cfg, &c);
		json_decref(cfg);
		free(name);
		if (err) {
			err = error_wrap(err, "booting service \"%s\"", s->name);
			goto out;
		}
		*changed |= c;
	}
	if ((err = proxy_ensure(e, cl, &c)))
		goto out;
	*changed |= c;
	for (size_t i = 0; i < cl->tpl.nsvc; i++) {
		const struct tpl_service *s = &cl->tpl.svc[i];
		double took;

		if ((err = wait_service(e, cl, s, net, &took)))
			goto out;
		if (*changed)
			report_line("%s_%s: ready after %.1f s", cl->name, s->name, took);
	}
out:
	json_decref(labels);
	free(net);
	return err;
}

/* The container of the cluster (not of an instance) with role. */
static json_t *find_role(const struct cluster *cl, json_t *list, const char *role)
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

const struct error *services_status(struct engine *e, const struct cluster *cl, json_t *listed, int live,
				    json_t **out)
{
	const struct error *err = NULL;
	json_t *list = json_incref(listed), *svcs, *p;
	char *net = cluster_network(cl), *pname = cluster_container(cl, CLUSTER_PROXY);
	const char *ps;
	int up = 0, healthy = 0, proxy_running;

	*out = NULL;
	if (!list && (err = container_list_cluster(e, cl, &list)))
		goto out;
	svcs = json_array();
	for (size_t i = 0; i < cl->tpl.nsvc && !err; i++) {
		const struct tpl_service *s = &cl->tpl.svc[i];
		json_t *c = find_role(cl, list, s->name);
		const char *state = c ? json_string_value(json_object_get(c, "State")) : "absent";
		const char *health = "-", *image = c ? json_string_value(json_object_get(c, "Image")) : NULL;
		char *name = cluster_container(cl, s->name), *pw = NULL, why[512] = "";

		if (c && state && strcmp(state, "running") == 0) {
			struct ready_target t = {s, name, NULL, NULL, !live};
			json_t *n = json_object_get(json_object_get(json_object_get(c, "NetworkSettings"), "Networks"), net);
			int ok = 0;

			t.ip = json_string_value(json_object_get(n, "IPAddress"));
			if (t.ip && !*t.ip)
				t.ip = NULL;
			if (s->ready == READY_MYSQL && !cluster_root_password(cl, s, &pw))
				t.password = pw;
			err = ready_probe(e, &t, &ok, why, sizeof why);
			health = ok ? "healthy" : "unhealthy";
			up++;
			healthy += ok;
		}
		json_array_append_new(svcs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", s->name, "container", name,
						      "image", image ? image : cluster_image(cl, s->name), "state",
						      state ? state : "unknown", "health", health, "detail", why));
		free(pw);
		free(name);
	}
	if (err) {
		json_decref(svcs);
		goto out;
	}
	p = find_role(cl, list, CLUSTER_PROXY);
	ps = p ? json_string_value(json_object_get(p, "State")) : "absent";
	proxy_running = ps && strcmp(ps, "running") == 0;
	*out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}}", "cluster", cl->name, "template", cl->template_name,
			 "folder", cl->root, "state",
			 healthy == (int)cl->tpl.nsvc && proxy_running ? "booted"
			 : up == 0 && !proxy_running		       ? "down"
									       : "partial",
			 "services", svcs, "proxy", "container", pname, "state", ps ? ps : "unknown");
	{
		json_t *problems = json_array(), *v;
		size_t k;

		json_array_foreach(svcs, k, v) {
			const char *st = json_string_value(json_object_get(v, "state"));
			const char *detail = json_string_value(json_object_get(v, "detail"));

			if (strcmp(st, "running") != 0)
				json_array_append_new(problems, json_sprintf("service %s is %s",
									  json_string_value(json_object_get(v, "name")), st));
			else if (strcmp(json_string_value(json_object_get(v, "health")), "healthy") != 0)
				json_array_append_new(problems, json_sprintf("service %s is unhealthy%s%s",
									  json_string_value(json_object_get(v, "name")),
									  *detail ? ": " : "", detail));
		}
		if (!proxy_running)
			json_array_append_new(problems, json_sprintf("the proxy is %s", ps ? ps : "unknown"));
		json_object_set_new(*out, "problems", problems);
	}
out:
	json_decref(list);
	free(net);
	free(pname);
	return err;
}

/* Stop and remove the cluster's containers of instances (or the others). */
static const struct error *stop_remove(struct engine *e, const struct cluster *cl, json_t *list, int instances)
{
	const struct error *err;
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
		if ((err = engine_container_stop(e, id, -1)) || (err = engine_container_remove(e, id)))
			return err;
		report_line("%s: stopped", name ? name : id);
	}
	return NULL;
}

const struct error *services_shutdown(struct engine *e, const struct cluster *cl, int *had)
{
	const struct error *err;
	json_t *list = NULL;
	char *net = cluster_network(cl);

	*had = 0;
	/* Instances first: they use the services. */
	if (!(err = container_list_cluster(e, cl, &list)) && !(err = stop_remove(e, cl, list, 1)) &&
	    !(err = stop_remove(e, cl, list, 0)))
		err = engine_network_remove(e, net);
	*had = list && json_array_size(list);
	json_decref(list);
	free(net);
	return err;
}
