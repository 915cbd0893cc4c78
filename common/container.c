#include "container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "regauth.h"
#include "report.h"

/* Image pull display: sums the layers' bytes into one line. */
struct pull_progress {
	const char *ref;  /* borrowed */
	json_t *layers;   /* id -> [current, total] */
};

static void human(double v, char *out, size_t n)
{
	const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static void pull_event(void *ctx, json_t *ev)
{
	struct pull_progress *p = ctx;
	const char *status = json_string_value(json_object_get(ev, "status"));
	const char *id = json_string_value(json_object_get(ev, "id"));
	json_t *detail = json_object_get(ev, "progressDetail"), *v;
	double cur = 0, tot = 0;
	char a[32], b[32];
	const char *key;

	if (!status)
		return;
	if (id && strcmp(status, "Downloading") == 0) {
		json_object_set_new(p->layers, id,
				    json_pack("[I,I]", json_integer_value(json_object_get(detail, "current")),
					      json_integer_value(json_object_get(detail, "total"))));
	} else if (id && (strcmp(status, "Download complete") == 0 || strcmp(status, "Already exists") == 0 ||
			  strcmp(status, "Pull complete") == 0)) {
		json_t *l = json_object_get(p->layers, id);

		if (l)
			json_array_set(l, 0, json_array_get(l, 1));
	}
	json_object_foreach(p->layers, key, v) {
		cur += (double)json_integer_value(json_array_get(v, 0));
		tot += (double)json_integer_value(json_array_get(v, 1));
	}
	human(cur, a, sizeof a);
	human(tot, b, sizeof b);
	if (tot > 0)
		report_progress("pulling %s: %3.0f%% (%s of %s)", p->ref, 100.0 * cur / tot, a, b);
	else
		report_progress("pulling %s: %s", p->ref, status);
}

const struct error *container_pull(struct engine *e, const char *ref)
{
	const struct error *err;
	struct pull_progress pp = {ref, json_object()};
	char *auth = NULL;
	double t0 = clock_seconds();
	int present;

	if ((err = engine_image_present(e, ref, &present)) || present) {
		json_decref(pp.layers);
		return err;
	}
	report_line("pulling %s", ref);
	if (!(err = regauth_header(ref, &auth)))
		err = engine_image_pull(e, ref, auth, pull_event, &pp);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	json_decref(pp.layers);
	report_progress_clear();
	if (!err)
		report_line("pulled %s in %.1f s", ref, clock_seconds() - t0);
	return err;
}

const struct error *container_ensure(struct engine *e, const struct cluster *cl, const char *name, json_t *cfg,
				     int *changed)
{
	const struct error *err;
	const char *image = json_string_value(json_object_get(cfg, "Image"));
	json_t *info = NULL;

	*changed = 0;
	if (!image)
		return error_fmt("container \"%s\" has no image", name);
	if ((err = engine_config_label(cfg)) || (err = engine_container_inspect(e, name, &info)))
		goto out;
	if (info) {
		json_t *labels = json_object_get(json_object_get(info, "Config"), "Labels");
		const char *had = json_string_value(json_object_get(labels, LABEL_CONFIG));
		const char *wants = json_string_value(json_object_get(json_object_get(cfg, "Labels"), LABEL_CONFIG));

		if (cluster_foreign(cl, labels)) {
			err = error_fmt("container \"%s\" exists and is not this cluster's (another cluster of the same name, "
					"or not made by korcluster); korcluster leaves it alone", name);
			goto out;
		}
		if (had && wants && strcmp(had, wants) == 0) {
			if (!engine_running(info)) {
				if ((err = engine_container_start(e, name)))
					goto out;
				report_line("%s: started", name);
				*changed = 1;
			}
			goto out;
		}
		/* The image or the settings changed: replace the container once
		 * the image is here; the data is on disk. */
		if ((err = container_pull(e, image)))
			goto out;
		report_line("%s: configuration changed, replacing the container", name);
		if ((err = engine_container_stop(e, name, -1)) || (err = engine_container_remove(e, name)))
			goto out;
	}
	if ((err = container_pull(e, image)) || (err = engine_container_create(e, name, cfg)) ||
	    (err = engine_container_start(e, name)))
		goto out;
	report_line("%s: started", name);
	*changed = 1;
out:
	json_decref(info);
	return err;
}

void container_last_output(struct engine *e, const char *name, int tail, struct buf *out)
{
	engine_logs(e, name, 0, tail, frame_collect, out);
}

const struct error *container_list_cluster(struct engine *e, const struct cluster *cl, json_t **out)
{
	char *label = xasprintf("%s=%s", LABEL_CLUSTER, cl->name);
	const struct error *err = engine_container_list(e, label, out);

	free(label);
	return err;
}
