#include "snaplist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "report.h"

char *snaplist_default_path(const struct instance *in, const char *env, int gzip)
{
	char ts[32], *path = NULL;
	time_t now = time(NULL);
	struct tm tm;

	/* Never the name of one there is (two in one second, say, a user's
	 * snapshot and the archive an import makes at once): the next second's
	 * name then. */
	for (int i = 0; i < 1000; i++, now++) {
		free(path);
		strftime(ts, sizeof ts, "%Y%m%d_%H%M%S", localtime_r(&now, &tm));
		path = cluster_path(&in->cl, "snapshots/%s.%s.%s.tar.%s", in->name, ts, instance_env_version(in, env),
				    gzip ? "gz" : "zst");
		if (access(path, F_OK) != 0)
			break;
	}
	return path;
}

char *snaplist_path(const struct cluster *cl, const char *file)
{
	return cluster_path(cl, "snapshots/%s", file);
}

int snaplist_parse_name(const char *file, char *name, char *ts, char *version, size_t n)
{
	const char *d1 = strchr(file, '.'), *d2, *ext;
	size_t len = strlen(file);

	if (len > 7 && strcmp(file + len - 7, ".tar.gz") == 0)
		ext = file + len - 7;
	else if (len > 8 && strcmp(file + len - 8, ".tar.zst") == 0)
		ext = file + len - 8;
	else
		return -1;
	if (!d1 || !(d2 = strchr(d1 + 1, '.')) || d2 >= ext || (size_t)(d1 - file) >= n ||
	    (size_t)(d2 - d1 - 1) != 15 || (size_t)(ext - d2 - 1) >= n || ext == d2 + 1)
		return -1;
	snprintf(name, n, "%.*s", (int)(d1 - file), file);
	snprintf(ts, n, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
	snprintf(version, n, "%.*s", (int)(ext - d2 - 1), d2 + 1);
	return ts[8] == '_' && strspn(ts, "0123456789_") == 15 ? 0 : -1;
}

static int newest_first(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(y, "created")), json_string_value(json_object_get(x, "created")));

	return c ? c : strcmp(json_string_value(json_object_get(x, "file")), json_string_value(json_object_get(y, "file")));
}

const struct error *snaplist_list(const struct cluster *cl, json_t **outp)
{
	char *dir = cluster_path(cl, "snapshots");
	DIR *d = opendir(dir);
	struct dirent *de;
	json_t **v = NULL, *out = json_array();
	size_t n = 0;

	*outp = NULL;
	if (!d) {
		const struct error *err = errno == ENOENT ? NULL : error_errno("reading \"%s\"", dir);

		free(dir);
		if (err)
			json_decref(out);
		else
			*outp = out;
		return err;
	}
	while ((de = readdir(d))) {
		char name[256], ts[256], version[256], created[32];
		struct stat st;
		char *p;

		if (de->d_name[0] == '.' || snaplist_parse_name(de->d_name, name, ts, version, sizeof name) < 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		snprintf(created, sizeof created, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", ts, ts + 4, ts + 6, ts + 9, ts + 11,
			 ts + 13);
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "file", de->d_name, "path", p, "instance", name,
				   "version", version, "created", created, "size", (json_int_t)st.st_size);
		free(p);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, newest_first);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	free(dir);
	*outp = out;
	return NULL;
}

const struct error *snaplist_prune(const struct cluster *cl, const char *instance, int keep, int *removed)
{
	const struct error *err;
	json_t *all, *s, *kept;
	size_t i;

	*removed = 0;
	if ((err = snaplist_list(cl, &all)))
		return err;
	kept = json_object();
	json_array_foreach(all, i, s) {
		const char *name = json_string_value(json_object_get(s, "instance"));
		json_int_t k = json_integer_value(json_object_get(kept, name));

		if (instance && strcmp(name, instance) != 0)
			continue;
		if (k < keep) {
			json_object_set_new(kept, name, json_integer(k + 1));
			continue;
		}
		if (unlink(json_string_value(json_object_get(s, "path"))) < 0) {
			err = error_errno("removing \"%s\"", json_string_value(json_object_get(s, "path")));
			break;
		}
		report_line("removed %s", json_string_value(json_object_get(s, "file")));
		(*removed)++;
	}
	json_decref(kept);
	json_decref(all);
	return err;
}
