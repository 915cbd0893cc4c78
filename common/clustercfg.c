#include "clustercfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "mem.h"
#include "name.h"

static void check_key(struct cluster *c, struct diag *d, const char *key,
		      const struct error *(*check)(const char *), const char **out)
{
	struct conf_entry *e = conf_get(&c->conf, "cluster", key);

	*out = NULL;
	if (!e) {
		diag_add(d, c->conf.path, conf_section_line(&c->conf, "cluster"),
			 "[cluster] needs a value for \"%s\"", key);
		return;
	}
	const struct error *err = check(e->value);

	if (err)
		diag_add(d, c->conf.path, e->line, "%s", err->msg);
	else
		*out = e->value;
}

/* An optional port of [cluster], def when absent. */
static void read_port(struct cluster *c, struct diag *d, const char *key, int def, int *out)
{
	struct conf_entry *e = conf_get(&c->conf, "cluster", key);
	const struct error *err;

	*out = def;
	if (e && (err = name_check_port(e->value, out)))
		diag_add(d, c->conf.path, e->line, "%s: %s", key, err->msg);
}

/* A whole number of [limits] from 0 to max, into *out (unchanged if absent). */
static void limit_number(struct cluster *c, struct diag *d, const char *key, unsigned max, unsigned *out)
{
	struct conf_entry *e = conf_get(&c->conf, "limits", key);
	char *end;
	unsigned long v;

	if (!e)
		return;
	v = strtoul(e->value, &end, 10);
	if (!(*e->value >= '0' && *e->value <= '9') || *end || v > max)
		diag_add(d, c->conf.path, e->line, "\"%s\" must be a number from 0 to %u (0: no limit)", key, max);
	else
		*out = (unsigned)v;
}

static void read_limits(struct cluster *c, struct diag *d)
{
	const struct error *err;
	struct conf_entry *e;

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	c->limits = (struct cluster_limits){CLUSTER_UNPACK_RATIO, 0, CLUSTER_LOAD_TIMEOUT, CLUSTER_LOAD_GROWTH,
					    cpus > 0 ? (unsigned)cpus : 1};
	limit_number(c, d, "unpack_ratio", 1000000, &c->limits.unpack_ratio);
	limit_number(c, d, "starts", 1000, &c->limits.starts);
	limit_number(c, d, "load_growth", 100000, &c->limits.load_growth);
	if ((e = conf_get(&c->conf, "limits", "unpack_max")) && (err = name_parse_size(e->value, &c->limits.unpack_max)))
		diag_add(d, c->conf.path, e->line, "unpack_max: %s", err->msg);
	if ((e = conf_get(&c->conf, "limits", "load_timeout")) &&
	    (err = name_parse_seconds(e->value, &c->limits.load_timeout)))
		diag_add(d, c->conf.path, e->line, "load_timeout: %s", err->msg);
}

/* Whether text's ${...} are built-in variables only. */
static const struct error *builtin_vars_only(const char *text)
{
	struct strv known = STRV_INIT;
	const struct error *err;
	char *out = NULL;

	for (size_t i = 0; template_vars[i]; i++)
		strv_pushf(&known, "%s=x", template_vars[i]);
	err = template_expand(text, known.v, &out);
	free(out);
	strv_free(&known);
	return err;
}

/* [app] image: the app's image instead of the template's. */
static void read_app(struct cluster *c, struct diag *d)
{
	const struct error *err;
	struct conf_entry *e = conf_get(&c->conf, "app", "image");
	char *vars[2] = {"version=v1", NULL}, *img = NULL;

	if (!e)
		return;
	if ((err = template_expand(e->value, vars, &img)) || (err = name_check_image(img)))
		diag_add(d, c->conf.path, e->line, "[app] image: %s", err->msg);
	else
		c->app_image = e->value;
	free(img);
}

static void read_backup(struct cluster *c, struct diag *d)
{
	const struct error *err;
	struct conf_entry *e;

	c->backup_max_age = 86400;
	if ((e = conf_get(&c->conf, "backup", "target"))) {
		if ((err = name_check_target(e->value)))
			diag_add(d, c->conf.path, e->line, "%s", err->msg);
		else
			c->backup_target = e->value;
	}
	if ((e = conf_get(&c->conf, "backup", "max_age")) && (err = name_parse_seconds(e->value, &c->backup_max_age)))
		diag_add(d, c->conf.path, e->line, "[backup] max_age: %s", err->msg);
	c->backup_warn_age = 2 * c->backup_max_age;
	if ((e = conf_get(&c->conf, "backup", "warn_age")) && (err = name_parse_seconds(e->value, &c->backup_warn_age)))
		diag_add(d, c->conf.path, e->line, "[backup] warn_age: %s", err->msg);
	if ((e = conf_get(&c->conf, "backup", "rate_limit")) &&
	    (err = name_parse_size(e->value, &c->backup_rate_limit)))
		diag_add(d, c->conf.path, e->line, "[backup] rate_limit: %s", err->msg);
}

/* The template's settings from [settings] and secrets/: each has a value
 * or a default, a secret one is not in cluster.ini. */
static void read_settings(struct cluster *c, struct diag *d)
{
	const char *ini = c->conf.path;
	int line = conf_section_line(&c->conf, "settings");

	for (size_t i = 0; i < c->tpl.nset; i++) {
		const struct tpl_setting *st = &c->tpl.set[i];
		struct conf_entry *e = conf_get(&c->conf, "settings", st->name);
		char *path = cluster_path(c, "secrets/%s", st->name), *secret = NULL;
		const struct error *err;

		if (e && st->secret) {
			diag_add(d, ini, e->line, "setting \"%s\" is a secret: put it in %s (mode 0600), not in cluster.ini",
				 st->name, path);
		} else if (e && *e->value) {
			if ((err = builtin_vars_only(e->value)))
				diag_add(d, ini, e->line, "setting \"%s\": %s", st->name, err->msg);
			strv_pushf(&c->settings, "%s=%s", st->name, e->value);
		} else if (st->secret && fs_exists(path)) {
			if ((err = fs_read(path, &secret, NULL))) {
				diag_add(d, ini, line, "setting \"%s\": %s", st->name, err->msg);
			} else {
				secret[strcspn(secret, "\r\n")] = '\0';
				strv_pushf(&c->settings, "%s=%s", st->name, secret);
				explicit_bzero(secret, strlen(secret));
			}
			free(secret);
		} else if (!st->def) {
			if (st->secret)
				diag_add(d, ini, line, "setting \"%s\" needs a value (%s): put it in %s (mode 0600)", st->name,
					 st->help ? st->help : st->name, path);
			else
				diag_add(d, ini, e ? e->line : line, "setting \"%s\" needs a value (%s): add \"%s = ...\" under "
					 "[settings]", st->name, st->help ? st->help : st->name, st->name);
		}
		free(path);
	}
	for (size_t i = 0; i < c->conf.n; i++) {
		struct conf_entry *e = &c->conf.e[i];

		if (!e->used && strcmp(e->section, "settings") == 0 && c->tpl.name)
			diag_add(d, ini, e->line, "unknown setting \"%s\": template \"%s\" has no such setting", e->key,
				 c->template_name);
	}
}

const struct error *cluster_load(struct cluster *c, const char *root, struct diag *d)
{
	const struct error *err;
	char *ini;

	memset(c, 0, sizeof *c);
	if ((err = fs_absolute(root, &c->root)))
		return err;
	ini = cluster_path(c, "cluster.ini");
	if ((err = conf_load(&c->conf, ini, d)))
		goto out;
	if (!conf_section_line(&c->conf, "cluster")) {
		diag_add(d, ini, 0, "no [cluster] section (name, template, bind)");
	} else {
		check_key(c, d, "name", name_check_cluster, &c->name);
		check_key(c, d, "template", name_check_template, &c->template_name);
		check_key(c, d, "bind", name_check_address, &c->bind);
		read_port(c, d, "http_port", 80, &c->http_port);
		read_port(c, d, "https_port", 443, &c->https_port);
		if (c->http_port == c->https_port)
			diag_add(d, ini, conf_section_line(&c->conf, "cluster"), "http_port and https_port are both %d",
				 c->http_port);
	}
	read_limits(c, d);
	read_app(c, d);
	read_backup(c, d);
	for (size_t i = 0; i < c->conf.ns; i++)
		if (strcmp(c->conf.s[i].name, "cluster") && strcmp(c->conf.s[i].name, "images") &&
		    strcmp(c->conf.s[i].name, "limits") && strcmp(c->conf.s[i].name, "app") &&
		    strcmp(c->conf.s[i].name, "settings") && strcmp(c->conf.s[i].name, "backup"))
			diag_add(d, ini, c->conf.s[i].line, "unknown section [%s]", c->conf.s[i].name);
	if (c->template_name) {
		struct diag td = DIAG_INIT;

		if ((err = template_load(&c->tpl, c->template_name, &td))) {
			diag_add(d, ini, conf_get(&c->conf, "cluster", "template")->line, "%s", err->msg);
			err = NULL;
		} else {
			for (size_t i = 0; i < td.lines.n; i++)
				strv_push(&d->lines, td.lines.v[i]);
			for (size_t i = 0; i < c->tpl.nsvc; i++) {
				const char *svc = c->tpl.svc[i].name;
				struct conf_entry *e = conf_get(&c->conf, "images", svc);

				if (!e)
					diag_add(d, ini, conf_section_line(&c->conf, "images"),
						 "[images] needs an image for service \"%s\"", svc);
				else if ((err = name_check_image(e->value)))
					diag_add(d, ini, e->line, "%s", err->msg);
			}
		}
		diag_free(&td);
		if (c->tpl.name)
			read_settings(c, d);
		{
			struct conf_entry *e = conf_get(&c->conf, "images", CLUSTER_PROXY);

			if (!e)
				diag_add(d, ini, conf_section_line(&c->conf, "images"),
					 "[images] needs an image for the front proxy (\"%s\")", CLUSTER_PROXY);
			else if ((err = name_check_image(e->value)))
				diag_add(d, ini, e->line, "%s", err->msg);
		}
	}
	/* What is left unread under [images] names no service of the template. */
	for (size_t i = 0; i < c->conf.n; i++) {
		struct conf_entry *e = &c->conf.e[i];

		if (e->used)
			continue;
		if (strcmp(e->section, "images") == 0 && c->tpl.name)
			diag_add(d, ini, e->line, "[images] names \"%s\", which is no service of template \"%s\"",
				 e->key, c->template_name ? c->template_name : "?");
		else if (strcmp(e->section, "cluster") == 0 || strcmp(e->section, "limits") == 0 ||
			 strcmp(e->section, "app") == 0 || strcmp(e->section, "backup") == 0)
			diag_add(d, ini, e->line, "unknown key \"%s\" in [%s]", e->key, e->section);
	}
	err = NULL;
out:
	free(ini);
	return err;
}

const struct error *cluster_open(struct cluster *c, const char *root)
{
	const struct error *err;
	struct diag d = DIAG_INIT;

	if (!(err = cluster_load(c, root, &d))) {
		char *what = xasprintf("checking \"%s/cluster.ini\"", c->root);

		err = diag_report(&d, what);
		free(what);
	}
	diag_free(&d);
	if (err)
		cluster_free(c);
	return err;
}

const char *cluster_image(const struct cluster *c, const char *service)
{
	return conf_peek(&c->conf, "images", service);
}

char *cluster_path(const struct cluster *c, const char *fmt, ...)
{
	char *rel, *out;
	va_list ap;

	va_start(ap, fmt);
	rel = xvasprintf(fmt, ap);
	va_end(ap);
	out = xasprintf("%s/%s", c->root, rel);
	free(rel);
	return out;
}

char *cluster_container(const struct cluster *c, const char *service)
{
	return xasprintf("%s_%s", c->name, service);
}

char *cluster_network(const struct cluster *c)
{
	return xasprintf("%s_net", c->name);
}

char *cluster_ini_text(const char *name, const char *template_name, const char *bind,
		       const struct template *t)
{
	return cluster_ini_text_images(name, template_name, bind, t, NULL);
}

/* "svc=ref" in images for svc, or NULL. */
static const char *image_of(const struct strv *images, const char *svc)
{
	size_t n = strlen(svc);

	for (size_t i = 0; images && i < images->n; i++)
		if (strncmp(images->v[i], svc, n) == 0 && images->v[i][n] == '=')
			return images->v[i] + n + 1;
	return NULL;
}

char *cluster_ini_text_images(const char *name, const char *template_name, const char *bind,
			      const struct template *t, const struct strv *images)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "; korcluster cluster configuration; check it with \"./cluster.sh validate\"\n"
		       "[cluster]\nname = %s\ntemplate = %s\n"
		       "; address the front proxy publishes instance ports on\nbind = %s\n"
		       "; port of the instances' hostnames (instance.sh route), served while any has one\n"
		       ";http_port = 80\n;https_port = 443\n\n"
		       "; image of each shared service (from template \"%s\")\n[images]\n",
		   name, template_name, bind, template_name);
	for (size_t i = 0; i < t->nsvc; i++)
		buf_printf(&b, "%s = %s\n", t->svc[i].name,
			   image_of(images, t->svc[i].name) ? image_of(images, t->svc[i].name) : t->svc[i].image);
	buf_printf(&b, "; the front proxy serving every instance's port\n%s = %s\n", CLUSTER_PROXY,
		   image_of(images, CLUSTER_PROXY) ? image_of(images, CLUSTER_PROXY) : t->proxy_image);
	if (t->nset) {
		buf_printf(&b, "\n; settings of template \"%s\"; \"${...}\" may name the instance (${instance}, ${port}...)\n"
			       "[settings]\n", template_name);
		for (size_t i = 0; i < t->nset; i++) {
			const struct tpl_setting *st = &t->set[i];

			buf_printf(&b, "; %s\n", st->help ? st->help : st->name);
			if (st->secret)
				buf_printf(&b, "; (a secret: it goes in secrets/%s, mode 0600)\n", st->name);
			else if (st->def)
				buf_printf(&b, ";%s = %s\n", st->name, st->def);
			else
				buf_printf(&b, "%s =\n", st->name);
		}
	}
	buf_printf(&b, "\n; what an import may make (0: no bound); remove \";\" to change one\n;[limits]\n"
		       ";unpack_ratio = %d\n;unpack_max = 0\n;load_timeout = %ds\n;load_growth = %d\n"
		       "; instances starting at once, waiting for health (default: as many as the host has CPUs)\n"
		       ";starts = 2\n",
		   CLUSTER_UNPACK_RATIO, CLUSTER_LOAD_TIMEOUT, CLUSTER_LOAD_GROWTH);
	return b.data;
}

const struct error *cluster_root_password(const struct cluster *c, const struct tpl_service *s, char **out)
{
	char *path = cluster_path(c, "secrets/%s_root_password", s->name);
	const struct error *err = fs_read(path, out, NULL);

	if (!err)
		(*out)[strcspn(*out, "\r\n")] = '\0';
	free(path);
	return err;
}

void cluster_free(struct cluster *c)
{
	for (size_t i = 0; i < c->settings.n; i++)
		explicit_bzero(c->settings.v[i], strlen(c->settings.v[i]));
	strv_free(&c->settings);
	template_free(&c->tpl);
	conf_free(&c->conf);
	free(c->root);
	memset(c, 0, sizeof *c);
}

int cluster_foreign(const struct cluster *c, json_t *labels)
{
	const char *name = json_string_value(json_object_get(labels, LABEL_CLUSTER));
	const char *root = json_string_value(json_object_get(labels, LABEL_ROOT));

	return !name || strcmp(name, c->name) != 0 || (root && strcmp(root, c->root) != 0);
}

json_t *cluster_labels(const struct cluster *c)
{
	return json_pack("{s:s, s:s}", LABEL_CLUSTER, c->name, LABEL_ROOT, c->root);
}
