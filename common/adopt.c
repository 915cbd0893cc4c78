#include "adopt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clustercfg.h"
#include "db.h"
#include "fs.h"
#include "instcfg.h"
#include "lock.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "name.h"
#include "report.h"
#include "runtime.h"
#include "services.h"

/* The suffix the old containers carry while the new cluster comes up. */
#define OLD_SUFFIX ".korcluster-adopted"

struct old_instance {
	char *name, *version, *db_name, *db_user, *db_password;
	int port, serving;
};

struct link_undo {
	char *path, *target; /* the link and what it pointed at (NULL: no link) */
};

struct adopt_plan {
	char *dir, *old_name, *name, *template_name, *root_password;
	char *app_image;        /* REPO:${version}, as the old instances ran, or NULL */
	char *bind;             /* the address the old instances' ports were published on */
	struct strv images;     /* "mysql=REF", "elastic=REF" */
	struct strv containers; /* the old cluster's, that exist */
	struct strv running;    /* of those, the running ones */
	struct old_instance *in;
	size_t n;
	/* what adopt_run() did, for undo */
	struct strv made;       /* files and folders it made, in order */
	struct strv moved;      /* instance folders whose data/ went to data/blue */
	struct link_undo *links;
	size_t nlinks;
	struct strv renamed;    /* old containers renamed */
	struct strv existed;    /* what the folders adopt writes in held before it */
};

void adopt_shell_vars(const char *text, struct strv *vars)
{
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		char *line = xstrndup(l, end ? (size_t)(end - l) : strlen(l)), *p = line, *eq, *v;
		size_t n;

		l = end ? end + 1 : NULL;
		p += strspn(p, " \t");
		if (strncmp(p, "export ", 7) == 0)
			p += 7 + strspn(p + 7, " \t");
		if (*p == '#' || !(eq = strchr(p, '=')) || eq == p ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - p)) {
			free(line);
			continue;
		}
		v = eq + 1;
		n = strcspn(v, "\r");
		v[n] = '\0';
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		*eq = '\0';
		strv_pushf(vars, "%s=%s", p, v);
		free(line);
	}
}

static const char *var(const struct strv *vars, const char *key)
{
	size_t n = strlen(key);
	const char *found = NULL;

	/* the last one wins, as in the shell */
	for (size_t i = 0; i < vars->n; i++)
		if (strncmp(vars->v[i], key, n) == 0 && vars->v[i][n] == '=')
			found = vars->v[i] + n + 1;
	return found && *found ? found : NULL;
}

static const struct error *read_vars(const char *path, struct strv *vars)
{
	char *text = NULL;
	const struct error *err = fs_read(path, &text, NULL);

	if (!err)
		adopt_shell_vars(text, vars);
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	return err;
}

static void free_vars(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		explicit_bzero(v->v[i], strlen(v->v[i]));
	strv_free(v);
}

/* The host address of the first published port of a container, or NULL. */
static const char *host_ip(json_t *info)
{
	json_t *ports = json_object_get(json_object_get(info, "HostConfig"), "PortBindings"), *b;
	const char *key;

	json_object_foreach(ports, key, b) {
		const char *ip = json_string_value(json_object_get(json_array_get(b, 0), "HostIp"));

		if (ip)
			return ip;
	}
	return NULL;
}

/* Whether container name exists (*running set), its image into image. */
static const struct error *old_container(struct engine *e, struct adopt_plan *p, const char *name, char **image)
{
	const struct error *err;
	json_t *info = NULL;

	if (image)
		*image = NULL;
	if ((err = engine_container_inspect(e, name, &info)) || !info)
		return err;
	strv_push(&p->containers, name);
	if (engine_running(info))
		strv_push(&p->running, name);
	if (image && json_string_value(json_object_get(json_object_get(info, "Config"), "Image")))
		*image = xstrdup(json_string_value(json_object_get(json_object_get(info, "Config"), "Image")));
	if (!p->bind && host_ip(info) && *host_ip(info) && !name_check_address(host_ip(info)))
		p->bind = xstrdup(host_ip(info));
	json_decref(info);
	return NULL;
}

/* One instance folder as KorCluster left it. */
static const struct error *read_instance(struct engine *e, struct adopt_plan *p, const struct template *t,
					 const char *folder)
{
	const struct error *err;
	struct strv vars = STRV_INIT;
	struct old_instance *o;
	char *dir = xasprintf("%s/instances/%s", p->dir, folder), *path = xasprintf("%s/config.sh", dir), *vfile = NULL;
	char *cname = NULL, *version = NULL, *image = NULL;
	const char *v;

	p->in = xrealloc(p->in, (p->n + 1) * sizeof *p->in);
	o = memset(&p->in[p->n++], 0, sizeof *p->in);
	o->name = xstrdup(folder);
	if ((err = name_check_instance(folder))) {
		err = error_fmt("%s; korcluster cannot take it as it is", err->msg);
		goto out;
	}
	free(path);
	path = xasprintf("%s/instance.ini", dir);
	if (fs_exists(path)) {
		err = error_fmt("it has an instance.ini already");
		goto out;
	}
	free(path);
	path = xasprintf("%s/config.sh", dir);
	if ((err = read_vars(path, &vars)))
		goto out;
	if ((v = var(&vars, "NAME")) && strcmp(v, folder) != 0) {
		err = error_fmt("config.sh names it \"%s\"", v);
		goto out;
	}
	vfile = xasprintf("%s/version.txt", dir);
	if ((v = var(&vars, "VERSION")))
		version = xstrdup(v);
	else if (fs_exists(vfile) && !fs_read(vfile, &version, NULL))
		version[strcspn(version, " \t\r\n")] = '\0';
	if (!version || !*version) {
		err = error_fmt("neither config.sh nor version.txt says its version");
		goto out;
	}
	o->version = version;
	version = NULL;
	if ((err = instance_check_version(o->version)) || (err = template_version_check(t, o->version)))
		goto out;
	if (!(v = var(&vars, "PORT")) || (err = name_check_port(v, &o->port))) {
		err = err ? err : error_fmt("config.sh gives no PORT");
		goto out;
	}
	for (size_t i = 0; i + 1 < p->n; i++)
		if (p->in[i].port == o->port) {
			err = error_fmt("port %d is the port of instance \"%s\" too", o->port, p->in[i].name);
			goto out;
		}
	o->db_name = xstrdup((v = var(&vars, "DB_NAME")) ? v : "");
	o->db_user = xstrdup((v = var(&vars, "DB_USERNAME")) ? v : "");
	if ((err = db_ident_check(o->db_name)) || (err = db_ident_check(o->db_user)))
		goto out;
	if (strlen(o->db_user) > 31) {
		err = error_fmt("database user \"%s\" is longer than 31 characters", o->db_user);
		goto out;
	}
	if (!(v = var(&vars, "DB_PASSWORD")) || strlen(v) < 16 || strspn(v, NAME_ALNUM) != strlen(v)) {
		err = error_fmt("its database password is not 16 or more letters and digits, as instance.ini keeps them");
		goto out;
	}
	o->db_password = xstrdup(v);
	cname = xasprintf("%s_instance_%s", p->old_name, folder);
	if ((err = old_container(e, p, cname, &image)))
		goto out;
	o->serving = strv_has(&p->running, cname);
	/* The image the instance ran, for its version: the app's image. */
	if (image) {
		size_t il = strlen(image), vl = strlen(o->version);
		char *pattern = il > vl + 1 && image[il - vl - 1] == ':' && strcmp(image + il - vl, o->version) == 0
					? xasprintf("%.*s${version}", (int)(il - vl), image)
					: NULL;

		if (!pattern) {
			err = error_fmt("its container runs image %s, not one tagged with its version %s", image, o->version);
			free(image);
			goto out;
		}
		if (p->app_image && strcmp(p->app_image, pattern) != 0) {
			err = error_fmt("its container runs %s, another instance's %s: korcluster runs one app image", image,
					p->app_image);
			free(pattern);
			free(image);
			goto out;
		}
		free(p->app_image);
		p->app_image = pattern;
		free(image);
	}
	free(cname);
	cname = xasprintf("%s_bg_%s", p->old_name, folder);
	err = old_container(e, p, cname, NULL);
out:
	err = error_wrap(err, "instance folder \"%s\"", folder);
	free_vars(&vars);
	free(version);
	free(cname);
	free(vfile);
	free(path);
	free(dir);
	return err;
}

/* DIR/config.sh: the old cluster's name, its root password. */
static const struct error *read_cluster(struct engine *e, struct adopt_plan *p)
{
	const struct error *err;
	struct strv vars = STRV_INIT;
	char *path = xasprintf("%s/cluster.ini", p->dir), *label = NULL;
	const char *v;
	json_t *list = NULL;

	if (fs_exists(path)) {
		err = error_fmt("it holds a korcluster cluster already (cluster.ini)");
		goto out;
	}
	free(path);
	path = xasprintf("%s/config.sh", p->dir);
	if (!fs_exists(path)) {
		err = error_fmt("no config.sh: it is not a cluster KorCluster made");
		goto out;
	}
	if ((err = read_vars(path, &vars)))
		goto out;
	if (!(v = var(&vars, "CLUSTER_NAME")) || !(p->old_name = xstrdup(v)) || !(v = var(&vars, "DB_PASSWORD"))) {
		err = error_fmt("config.sh lacks CLUSTER_NAME or DB_PASSWORD");
		goto out;
	}
	p->root_password = xstrdup(v);
	if ((v = var(&vars, "DB_USERNAME")) && strcmp(v, "root") != 0) {
		err = error_fmt("config.sh's database user is \"%s\", not root", v);
		goto out;
	}
	/* korcluster's names are lower case; the containers are made anew */
	p->name = xstrdup(p->old_name);
	for (char *c = p->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if ((err = name_check_cluster(p->name)))
		goto out;
	label = xasprintf("%s=%s", LABEL_CLUSTER, p->name);
	if (!(err = engine_container_list(e, label, &list)) && json_array_size(list))
		err = error_fmt("cluster name \"%s\" is in use on this engine", p->name);
out:
	free_vars(&vars);
	json_decref(list);
	free(label);
	free(path);
	return err;
}

/* The old services' containers: the images they run. */
static const struct error *read_services(struct engine *e, struct adopt_plan *p, const struct template *t)
{
	const struct error *err = NULL;
	char *image = NULL;

	for (size_t i = 0; i < t->nsvc && !err; i++) {
		char *cname = xasprintf("%s_%s", p->old_name, t->svc[i].name);

		if (!(err = old_container(e, p, cname, &image)) && image)
			strv_pushf(&p->images, "%s=%s", t->svc[i].name, image);
		else if (!err && t->svc[i].ready == READY_MYSQL)
			err = error_fmt("container %s is gone, so which MySQL server wrote %s/%s is unknown: start the old "
					"cluster once (its cluster.sh boot), then adopt it",
					cname, p->dir, t->svc[i].name);
		free(cname);
		free(image);
		image = NULL;
	}
	/* KorCluster's front proxy was nginx too: its image serves again. */
	for (const char *const *c = (const char *const[]){"mongo", "nginx", NULL}; *c && !err; c++) {
		char *cname = xasprintf("%s_%s", p->old_name, *c);

		if (!(err = old_container(e, p, cname, strcmp(*c, "nginx") == 0 ? &image : NULL)) && image)
			strv_pushf(&p->images, "%s=%s", CLUSTER_PROXY, image);
		free(cname);
		free(image);
		image = NULL;
	}
	return err;
}

/* The folders of instances/ with a config.sh, in order. */
static void instance_folders(const struct adopt_plan *p, struct strv *out)
{
	char *idir = xasprintf("%s/instances", p->dir);
	DIR *dh = opendir(idir);
	struct dirent *de;

	while (dh && (de = readdir(dh)))
		if (de->d_name[0] != '.') {
			char *cs = xasprintf("%s/%s/config.sh", idir, de->d_name);

			if (fs_exists(cs))
				strv_push(out, de->d_name);
			free(cs);
		}
	if (dh)
		closedir(dh);
	free(idir);
	strv_sort(out);
}

const struct error *adopt_read(struct engine *e, const char *dirarg, const char *template_name,
			       struct adopt_plan **out)
{
	const struct error *err;
	struct adopt_plan *p = xcalloc(1, sizeof *p);
	struct template t = {0};
	struct diag d = DIAG_INIT;
	struct strv folders = STRV_INIT;

	*out = NULL;
	p->template_name = xstrdup(template_name);
	if ((err = fs_absolute(dirarg, &p->dir)) || (err = read_cluster(e, p)) ||
	    (err = template_load(&t, template_name, &d)) || (err = diag_report(&d, "checking the template")) ||
	    (err = read_services(e, p, &t)))
		goto out;
	instance_folders(p, &folders);
	for (size_t i = 0; i < folders.n && !err; i++)
		err = read_instance(e, p, &t, folders.v[i]);
out:
	err = error_wrap(err, "reading \"%s\" as a KorCluster cluster", p->dir ? p->dir : dirarg);
	strv_free(&folders);
	diag_free(&d);
	template_free(&t);
	if (err)
		adopt_free(p);
	else
		*out = p;
	return err;
}

const char *adopt_root(const struct adopt_plan *p)
{
	return p->dir;
}

const char *adopt_name(const struct adopt_plan *p)
{
	return p->name;
}

void adopt_describe(const struct adopt_plan *p, struct buf *b)
{
	buf_printf(b, "KorCluster cluster \"%s\" in %s becomes korcluster cluster \"%s\" (template %s):\n", p->old_name,
		   p->dir, p->name, p->template_name);
	if (p->app_image)
		buf_printf(b, "  the app's image stays %s\n", p->app_image);
	buf_printf(b, "  instance ports are published on %s, as they were\n", p->bind ? p->bind : "0.0.0.0");
	for (size_t i = 0; i < p->images.n; i++)
		buf_printf(b, "  service %.*s keeps its image %s\n", (int)strcspn(p->images.v[i], "="), p->images.v[i],
			   strchr(p->images.v[i], '=') + 1);
	buf_printf(b, "  %s/mysql stays where it is (services/mysql links to it); the root password goes to "
		      "secrets/mysql_root_password (mode 0600)\n",
		   p->dir);
	for (size_t i = 0; i < p->n; i++) {
		const struct old_instance *o = &p->in[i];

		buf_printf(b, "  instance %s: %s on port %d, database %s, user %s; its files move from data/ to data/blue/ "
			      "(a rename, nothing is copied)%s\n",
			   o->name, o->version, o->port, o->db_name, o->db_user, o->serving ? "; it is served again" : "");
	}
	if (p->containers.n) {
		buf_printf(b, "  the old containers stop, then go once the new cluster serves:");
		for (size_t i = 0; i < p->containers.n; i++)
			buf_printf(b, " %s", p->containers.v[i]);
		buf_printf(b, "\n");
	}
	buf_printf(b, "  cluster.sh and each instance.sh link to korcluster; config.sh, mysql.cnf, mongo/, elastic/, "
		      "nginx/, ssmtp/, the instances' config files and snapshots/ stay as they are\n"
		      "  the search index is built anew for each instance\n");
}

/* ---- doing it ---- */

/* Make a folder or file path, remembered for undo. */
static const struct error *made(struct adopt_plan *p, const char *path, const struct error *err)
{
	if (!err)
		strv_push(&p->made, path);
	return err;
}

static const struct error *relink(struct adopt_plan *p, const char *path, const char *self)
{
	char target[4096];
	ssize_t n = readlink(path, target, sizeof target - 1);
	struct link_undo *u;

	p->links = xrealloc(p->links, (p->nlinks + 1) * sizeof *p->links);
	u = &p->links[p->nlinks++];
	u->path = xstrdup(path);
	u->target = n >= 0 ? xstrndup(target, (size_t)n) : NULL;
	if (n < 0 && errno != ENOENT) {
		p->nlinks--;
		free(u->path);
		return error_errno("reading the link \"%s\"", path);
	}
	if (n < 0 && fs_exists(path)) {
		p->nlinks--;
		free(u->path);
		return error_fmt("\"%s\" is not a link; korcluster leaves it alone, and so cannot adopt", path);
	}
	return fs_symlink_atomic(self, path);
}

/* data/ -> data/blue/, through data.adopting (each step can be seen). */
static const struct error *move_data(struct adopt_plan *p, const char *idir)
{
	char *data = xasprintf("%s/data", idir), *tmp = xasprintf("%s/data.adopting", idir);
	char *blue = xasprintf("%s/data/blue", idir);
	const struct error *err = NULL;

	if (!fs_exists(data) && mkdir(data, 0755) < 0)
		err = error_errno("making \"%s\"", data);
	else if (rename(data, tmp) < 0 || mkdir(data, 0755) < 0 || rename(tmp, blue) < 0)
		err = error_errno("moving \"%s\" to \"%s\"", data, blue);
	else
		strv_push(&p->moved, idir);
	free(data);
	free(tmp);
	free(blue);
	return err;
}

static void move_back(const char *idir)
{
	char *data = xasprintf("%s/data", idir), *tmp = xasprintf("%s/data.adopting", idir);
	char *blue = xasprintf("%s/data/blue", idir);

	if (rename(blue, tmp) == 0 && rmdir(data) == 0)
		rename(tmp, data);
	free(data);
	free(tmp);
	free(blue);
}

static const struct error *write_files(struct adopt_plan *p)
{
	const struct error *err = NULL;
	struct template t = {0};
	struct diag d = DIAG_INIT;
	char *self = NULL, *path = NULL, *text = NULL;

	if ((err = fs_self_exe(&self)) || (err = template_load(&t, p->template_name, &d)))
		goto out;
	path = xasprintf("%s/secrets", p->dir);
	if (!fs_exists(path) && (err = made(p, path, fs_mkdirs(path, 0700))))
		goto out;
	free(path);
	path = xasprintf("%s/services", p->dir);
	if (!fs_exists(path) && (err = made(p, path, fs_mkdirs(path, 0755))))
		goto out;
	for (size_t i = 0; i < t.nsvc && !err; i++) {
		char *svc = xasprintf("%s/services/%s", p->dir, t.svc[i].name), *old = xasprintf("%s/%s", p->dir, t.svc[i].name);

		if (fs_exists(svc)) {
			/* left from an earlier try: keep it */
		} else if (t.svc[i].ready == READY_MYSQL && fs_is_dir(old)) {
			char *rel = xasprintf("../%s", t.svc[i].name);

			err = made(p, svc, symlink(rel, svc) < 0 ? error_errno("linking \"%s\"", svc) : NULL);
			free(rel);
		} else {
			err = made(p, svc, fs_mkdirs(svc, 0755));
		}
		if (!err && t.svc[i].ready == READY_MYSQL) {
			char *pw = xasprintf("%s/secrets/%s_root_password", p->dir, t.svc[i].name);

			err = made(p, pw, fs_write_atomic(pw, p->root_password, strlen(p->root_password), 0600));
			free(pw);
		}
		free(svc);
		free(old);
	}
	free(path);
	path = xasprintf("%s/snapshots", p->dir);
	if (!err && !fs_exists(path))
		err = made(p, path, fs_mkdirs(path, 0755));
	for (size_t i = 0; i < p->n && !err; i++) {
		const struct old_instance *o = &p->in[i];
		char *idir = xasprintf("%s/instances/%s", p->dir, o->name), *ini = xasprintf("%s/instance.ini", idir);
		char skb[65], *link = xasprintf("%s/instance.sh", idir), *log = xasprintf("%s/log", idir);
		struct buf b = BUF_INIT;

		if (!(err = name_random(skb, 64, NAME_ALNUM)) && !(err = move_data(p, idir)) &&
		    !(err = fs_exists(log) ? NULL : made(p, log, fs_mkdirs(log, 0750)))) {
			char *ver = instance_now();

			buf_printf(&b, "; korcluster instance configuration (mode 0600: it holds secrets)\n"
				       "; adopted from KorCluster on %s\n"
				       "[instance]\nname = %s\nversion = %s\nport = %d\nslot = %zu\nenv = blue\n"
				       "; its database user (kept from KorCluster)\ndb_user = %s\n\n"
				       "[env.blue]\nversion = %s\ncreated = unknown\ndatabase = %s\n\n"
				       "[secrets]\ndb_password = %s\nsecret_key_base = %s\n",
				   ver, o->name, o->version, o->port, i, o->db_user, o->version, o->db_name, o->db_password,
				   skb);
			free(ver);
			err = made(p, ini, fs_write_atomic(ini, b.data, b.len, 0600));
			explicit_bzero(b.data, b.len);
		}
		if (!err)
			err = relink(p, link, self);
		explicit_bzero(skb, sizeof skb);
		buf_free(&b);
		free(idir);
		free(ini);
		free(link);
		free(log);
	}
	free(path);
	path = xasprintf("%s/cluster.sh", p->dir);
	if (!err)
		err = relink(p, path, self);
	/* cluster.ini last: its presence makes the folder a cluster */
	if (!err) {
		char *all = cluster_ini_text_images(p->name, p->template_name, p->bind ? p->bind : "0.0.0.0", &t, &p->images);

		text = p->app_image ? xasprintf("%s\n; the app's image, as KorCluster ran it\n[app]\nimage = %s\n", all,
						p->app_image)
				    : xstrdup(all);
		free(all);
		free(path);
		path = xasprintf("%s/cluster.ini", p->dir);
		err = made(p, path, fs_write_atomic(path, text, strlen(text), 0644));
	}
out:
	diag_free(&d);
	template_free(&t);
	free(self);
	free(path);
	free(text);
	return error_wrap(err, "writing korcluster's files");
}

/* The folders adopt and the new cluster write in: the cluster's, and each
 * instance's and its log/. */
static void folders(const struct adopt_plan *p, struct strv *out)
{
	strv_push(out, p->dir);
	for (size_t i = 0; i < p->n; i++) {
		strv_pushf(out, "%s/instances/%s", p->dir, p->in[i].name);
		strv_pushf(out, "%s/instances/%s/log", p->dir, p->in[i].name);
	}
}

/* Every entry of those folders, as "FOLDER/NAME". */
static void list_entries(const struct adopt_plan *p, struct strv *out)
{
	struct strv dirs = STRV_INIT;

	folders(p, &dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		DIR *d = opendir(dirs.v[i]);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				strv_pushf(out, "%s/%s", dirs.v[i], de->d_name);
		if (d)
			closedir(d);
	}
	strv_free(&dirs);
}

/* Put back what write_files() and the renames did. */
static void undo(struct engine *e, struct adopt_plan *p)
{
	for (size_t i = p->nlinks; i-- > 0;) {
		if (p->links[i].target)
			fs_symlink_atomic(p->links[i].target, p->links[i].path);
		else
			unlink(p->links[i].path);
	}
	for (size_t i = p->made.n; i-- > 0;) {
		struct stat st;

		if (lstat(p->made.v[i], &st) == 0 && S_ISLNK(st.st_mode))
			unlink(p->made.v[i]);
		else
			fs_remove_tree(p->made.v[i]);
	}
	for (size_t i = 0; i < p->moved.n; i++)
		move_back(p->moved.v[i]);
	/* what the new cluster made there meanwhile (proxy/, logs, config/) */
	{
		struct strv now = STRV_INIT;

		list_entries(p, &now);
		for (size_t i = 0; i < now.n; i++) {
			const char *base = strrchr(now.v[i], '/') + 1;

			if (!strv_has(&p->existed, now.v[i]) && strcmp(base, ".lock") != 0)
				fs_remove_tree(now.v[i]);
		}
		strv_free(&now);
	}
	for (size_t i = 0; i < p->renamed.n; i++) {
		char *now = xasprintf("%s" OLD_SUFFIX, p->renamed.v[i]);

		if (!engine_container_rename(e, now, p->renamed.v[i]) && strv_has(&p->running, p->renamed.v[i]))
			engine_container_start(e, p->renamed.v[i]);
		free(now);
	}
}

/* Grant the kept user the other environment's database, serve what was served. */
static const struct error *bring_up(struct engine *e, struct adopt_plan *p)
{
	const struct error *err;
	struct cluster cl;
	int changed;

	if ((err = cluster_open(&cl, p->dir)))
		return err;
	err = services_boot(e, &cl, &changed);
	for (size_t i = 0; i < p->n && !err; i++) {
		struct instance in;
		char *idir = xasprintf("%s/instances/%s", p->dir, p->in[i].name), *green = NULL;
		struct db *db = NULL;

		if (!(err = instance_open(&in, idir))) {
			green = instance_database(&in, "green");
			if (!(err = mysqlsvc_connect(e, &cl, &db)))
				err = db_grant_all(db, green, in.db_user);
			db_close(db);
			if (!err && in.cl.tpl.post_import) {
				report_line("instance \"%s\": building its search index", in.name);
				err = runtime_task(e, &in, in.env, "post_import", in.cl.tpl.post_import, "");
			}
			if (!err && p->in[i].serving)
				err = runtime_serve(e, &in);
			instance_free(&in);
		}
		err = error_wrap(err, "instance \"%s\"", p->in[i].name);
		free(green);
		free(idir);
	}
	if (err) {
		int had;

		services_shutdown(e, &cl, &had);
		for (size_t i = 0; i < p->n; i++) {
			char *conf = cluster_path(&cl, "proxy/conf.d/%s.conf", p->in[i].name);

			unlink(conf);
			free(conf);
		}
	}
	cluster_free(&cl);
	return err;
}

const struct error *adopt_run(struct engine *e, struct adopt_plan *p)
{
	const struct error *err = NULL;
	int lock = -1;

	char *lockfile = xasprintf("%s/.lock", p->dir);
	int had_lock = fs_exists(lockfile);

	if ((err = lock_take(p->dir, "the cluster", &lock))) {
		free(lockfile);
		return err;
	}
	list_entries(p, &p->existed);
	/* The old containers stop, and step aside under another name. */
	for (size_t i = 0; i < p->containers.n && !err; i++) {
		const char *c = p->containers.v[i];
		char *aside = xasprintf("%s" OLD_SUFFIX, c);

		if (!(err = engine_container_stop(e, c, -1)) && !(err = engine_container_rename(e, c, aside)))
			strv_push(&p->renamed, c);
		else if (strv_has(&p->running, c))
			engine_container_start(e, c);
		free(aside);
	}
	if (!err)
		report_line("stopped the old containers");
	if (!err && !(err = write_files(p)))
		err = bring_up(e, p);
	if (err) {
		undo(e, p);
		lock_release(lock);
		if (!had_lock)
			unlink(lockfile);
		free(lockfile);
		return error_wrap(err, "adopting \"%s\" (it is back as it was)", p->dir);
	}
	free(lockfile);
	for (size_t i = 0; i < p->renamed.n; i++) {
		char *aside = xasprintf("%s" OLD_SUFFIX, p->renamed.v[i]);

		if ((err = engine_container_remove(e, aside)))
			report_warn("%s", err->msg);
		free(aside);
	}
	lock_release(lock);
	return NULL;
}

void adopt_free(struct adopt_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->in[i].name);
		free(p->in[i].version);
		free(p->in[i].db_name);
		free(p->in[i].db_user);
		if (p->in[i].db_password)
			explicit_bzero(p->in[i].db_password, strlen(p->in[i].db_password));
		free(p->in[i].db_password);
	}
	free(p->in);
	for (size_t i = 0; i < p->nlinks; i++) {
		free(p->links[i].path);
		free(p->links[i].target);
	}
	free(p->links);
	if (p->root_password)
		explicit_bzero(p->root_password, strlen(p->root_password));
	free(p->root_password);
	free(p->app_image);
	free(p->bind);
	free(p->dir);
	free(p->old_name);
	free(p->name);
	free(p->template_name);
	strv_free(&p->images);
	strv_free(&p->containers);
	strv_free(&p->running);
	strv_free(&p->made);
	strv_free(&p->moved);
	strv_free(&p->renamed);
	strv_free(&p->existed);
	free(p);
}
