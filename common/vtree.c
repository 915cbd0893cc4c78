#include "vtree.h"

#include <string.h>

#include "err.h"
#include "mem.h"
#include "report.h"

/* Longest path a resolution may build. */
#define PATH_CAP 4096

void vtree_init(struct vtree *t, const char *what)
{
	t->what = what;
	if (!(t->nodes = json_object()))
		report_out_of_memory();
}

void vtree_free(struct vtree *t)
{
	json_decref(t->nodes);
	t->nodes = NULL;
}

void vtree_add(struct vtree *t, const char *path, char type, const char *target)
{
	char ty[2] = {type, '\0'};
	json_t *n = target ? json_pack("{s:s, s:s}", "t", ty, "to", target) : json_pack("{s:s}", "t", ty);

	if (!n || json_object_set_new(t->nodes, path, n) < 0)
		report_out_of_memory();
}

static char type_of(const struct vtree *t, const char *path)
{
	const char *ty = json_string_value(json_object_get(json_object_get(t->nodes, path), "t"));

	return ty ? ty[0] : 0;
}

struct walk {
	const struct vtree *t;
	const char *link;  /* the link being judged, for messages */
	char path[PATH_CAP];
	size_t len;        /* path[0..len): the folder reached, "" for the top */
	int hops;
};

static const struct error *escapes(const struct walk *w, const char *target)
{
	return error_fmt("symlink \"%s%s\" points out of %s (\"%s\")", w->t->what, w->link, w->t->what, target);
}

/* Follow target from the folder w->path, as the kernel would. */
static const struct error *follow(struct walk *w, const char *target)
{
	const struct error *err;
	const char *p = target;

	if (target[0] == '/')
		return error_fmt("symlink \"%s%s\" points to the absolute path \"%s\"", w->t->what, w->link, target);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "" or ".": stay */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (w->len == 0)
				return escapes(w, target);
			w->path[w->len] = '\0';
			slash = strrchr(w->path, '/');
			w->len = slash ? (size_t)(slash - w->path) : 0;
		} else {
			size_t start = w->len;
			const char *to;

			if (w->len + n + 2 >= sizeof w->path)
				return error_fmt("symlink \"%s%s\" resolves to a path too long to judge", w->t->what, w->link);
			if (w->len)
				w->path[w->len++] = '/';
			memcpy(w->path + w->len, p, n);
			w->len += n;
			w->path[w->len] = '\0';
			to = json_string_value(json_object_get(json_object_get(w->t->nodes, w->path), "to"));
			if (to) {
				/* A link on the way: its target, from its own folder. */
				if (++w->hops > VTREE_HOPS)
					return error_fmt("symlink \"%s%s\" goes through more than %d links", w->t->what, w->link,
						       VTREE_HOPS);
				w->len = start;
				if ((err = follow(w, to)))
					return err;
			}
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

const struct error *vtree_check(const struct vtree *t)
{
	const struct error *err;
	const char *path;
	json_t *n;

	json_object_foreach(t->nodes, path, n) {
		const char *to = json_string_value(json_object_get(n, "to"));
		char parent[PATH_CAP];
		size_t len = strlen(path);

		/* Every folder above it: a folder (or absent), never a link or file. */
		if (len >= sizeof parent)
			return error_fmt("\"%s%.60s...\" is too long", t->what, path);
		memcpy(parent, path, len + 1);
		for (char *s = strrchr(parent, '/'); s; s = strrchr(parent, '/')) {
			char ty;

			*s = '\0';
			ty = type_of(t, parent);
			if (ty == 'l')
				return error_fmt("\"%s%s\" lies below the symlink \"%s%s\"", t->what, path, t->what, parent);
			if (ty == 'f')
				return error_fmt("\"%s%s\" lies below the file \"%s%s\"", t->what, path, t->what, parent);
		}
		if (to) {
			struct walk w = {.t = t, .link = path};
			const char *slash = strrchr(path, '/');

			if (!*to)
				return error_fmt("symlink \"%s%s\" has an empty target", t->what, path);
			w.len = slash ? (size_t)(slash - path) : 0;
			memcpy(w.path, path, w.len);
			w.path[w.len] = '\0';
			if ((err = follow(&w, to)))
				return err;
		}
	}
	return NULL;
}
