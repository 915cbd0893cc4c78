#include "instances.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fs.h"
#include "mem.h"
#include "runtime.h"

const struct error *instances_scan(const struct cluster *cl, struct strv *names, struct taken *t)
{
	const struct error *err = NULL;
	char *dir = cluster_path(cl, "instances");
	DIR *d = opendir(dir);
	struct dirent *de;

	if (t)
		memset(t, 0, sizeof *t);
	if (!d) {
		err = error_errno("reading \"%s\"", dir);
		free(dir);
		return err;
	}
	while ((de = readdir(d))) {
		struct conf c;
		struct diag dg = DIAG_INIT;
		char *ini;
		const char *v;

		if (de->d_name[0] == '.')
			continue;
		ini = xasprintf("%s/%s/instance.ini", dir, de->d_name);
		if (fs_exists(ini) && !conf_load(&c, ini, &dg)) {
			if (names)
				strv_push(names, de->d_name);
			if (t) {
				t->ports = xrealloc(t->ports, (t->n + 1) * sizeof *t->ports);
				t->slots = xrealloc(t->slots, (t->n + 1) * sizeof *t->slots);
				t->ports[t->n] = (v = conf_value(&c, "instance", "port")) ? atoi(v) : 0;
				t->slots[t->n] = (v = conf_value(&c, "instance", "slot")) ? atoi(v) : -1;
				t->n++;
			}
			conf_free(&c);
		}
		diag_free(&dg);
		free(ini);
	}
	closedir(d);
	free(dir);
	if (names)
		strv_sort(names);
	return NULL;
}

void instances_taken_free(struct taken *t)
{
	free(t->ports);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

const struct error *instances_each(const struct cluster *cl,
				   const struct error *(*fn)(void *ctx, struct instance *in), void *ctx)
{
	const struct error *err;
	struct strv names = STRV_INIT;
	struct instance in;

	if ((err = instances_scan(cl, &names, NULL)))
		return err;
	for (size_t i = 0; i < names.n && !err; i++) {
		char *dir = cluster_path(cl, "instances/%s", names.v[i]);

		if (!(err = instance_open(&in, dir))) {
			err = fn(ctx, &in);
			instance_free(&in);
		}
		free(dir);
	}
	strv_free(&names);
	return err;
}

const struct error *instances_status(struct engine *e, const struct cluster *cl, json_t *listed, int live,
				     json_t **out)
{
	const struct error *err;
	struct strv names = STRV_INIT;
	struct instance *in = NULL;
	json_t **st = NULL;
	size_t n = 0;

	*out = NULL;
	if ((err = instances_scan(cl, &names, NULL)))
		return err;
	in = xcalloc(names.n ? names.n : 1, sizeof *in);
	st = xcalloc(names.n ? names.n : 1, sizeof *st);
	for (; n < names.n && !err; n++) {
		char *dir = cluster_path(cl, "instances/%s", names.v[n]);

		err = instance_open(&in[n], dir);
		free(dir);
		if (err)
			break;
	}
	if (!err && !(err = runtime_status_many(e, in, n, listed, live, st))) {
		*out = json_array();
		for (size_t i = 0; i < n; i++) {
			json_object_del(st[i], "containers");
			json_array_append(*out, st[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_decref(st[i]);
		instance_free(&in[i]);
	}
	free(st);
	free(in);
	strv_free(&names);
	return err;
}
