#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "fs.h"
#include "name.h"

#define TEMPLATE_PROXY_IMAGE "nginx:1.27"

#ifndef KC_DATADIR
#define KC_DATADIR "/usr/local/share/korcluster"
#endif

const char *const template_vars[] = {
	"cluster", "instance", "version", "port", "db_host", "db_port",
	"db_name", "db_user", "db_password", "secret_key_base", NULL,
};

const struct error *template_find(const char *name, char **path)
{
	const struct error *err;
	const char *env = getenv("KORCLUSTER_TEMPLATES");
	char *exe, *p;

	*path = NULL;
	if ((err = name_check_template(name)))
		return err;
	if (env && *env) {
		char *dirs = xstrdup(env), *save = NULL;

		for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			p = xasprintf("%s/%s.ini", d, name);
			if (fs_exists(p)) {
				free(dirs);
				*path = p;
				return NULL;
			}
			free(p);
		}
		free(dirs);
	}
	if (!fs_self_exe(&exe)) {
		*strrchr(exe, '/') = '\0';
		p = xasprintf("%s/templates/%s.ini", exe, name);
		free(exe);
		if (fs_exists(p)) {
			*path = p;
			return NULL;
		}
		free(p);
	}
	p = xasprintf("%s/templates/%s.ini", KC_DATADIR, name);
	if (fs_exists(p)) {
		*path = p;
		return NULL;
	}
	free(p);
	return error_fmt("template \"%s\" not found (templates/%s.ini)", name, name);
}

const struct error *template_expand(const char *s, char *const *vars, char **out)
{
	struct buf b = BUF_INIT;

	/* *out is left as it was on failure */
	while (*s) {
		const char *start = strstr(s, "${"), *end;
		size_t n;
		int found = 0;

		if (!start) {
			buf_append(&b, s, strlen(s));
			break;
		}
		buf_append(&b, s, (size_t)(start - s));
		if (!(end = strchr(start, '}'))) {
			buf_free(&b);
			return error_fmt("\"${\" without \"}\" in \"%s\"", start);
		}
		n = (size_t)(end - start - 2);
		for (size_t i = 0; vars && vars[i]; i++)
			if (strncmp(vars[i], start + 2, n) == 0 && vars[i][n] == '=') {
				buf_append(&b, vars[i] + n + 1, strlen(vars[i] + n + 1));
				found = 1;
				break;
			}
		if (!found) {
			buf_free(&b);
			return error_fmt("unknown variable \"${%.*s}\"", (int)n, start + 2);
		}
		s = end + 1;
	}
	*out = b.data ? b.data : xstrdup("");
	return NULL;
}

/* Check that every ${var} in the entry is one templates may use. */
static void check_vars(struct template *t, struct diag *d, const struct conf_entry *e)
{
	char *known[32], *out = NULL;
	size_t n = 0;

	const struct error *err;

	for (; template_vars[n] && n + 1 < sizeof known / sizeof *known; n++)
		known[n] = xasprintf("%s=x", template_vars[n]);
	known[n] = NULL;
	if ((err = template_expand(e->value, known, &out)))
		diag_add(d, t->conf.path, e->line, "%s", err->msg);
	free(out);
	for (size_t i = 0; i < n; i++)
		free(known[i]);
}

/* A required key: returns its value, or NULL after adding a problem. */
static const char *need(struct template *t, struct diag *d, const char *sec, const char *key)
{
	struct conf_entry *e = conf_get(&t->conf, sec, key);

	if (!e || !*e->value) {
		diag_add(d, t->conf.path, conf_section_line(&t->conf, sec),
			 "[%s] needs a value for \"%s\"", sec, key);
		return NULL;
	}
	check_vars(t, d, e);
	return e->value;
}

static const char *opt(struct template *t, struct diag *d, const char *sec, const char *key)
{
	struct conf_entry *e = conf_get(&t->conf, sec, key);

	if (!e)
		return NULL;
	check_vars(t, d, e);
	return e->value;
}

static int get_int(struct template *t, struct diag *d, const char *sec, const char *key,
		   int def, int min, int max)
{
	struct conf_entry *e = conf_get(&t->conf, sec, key);
	char *end;
	long v;

	if (!e)
		return def;
	v = strtol(e->value, &end, 10);
	if (!*e->value || *end || v < min || v > max) {
		diag_add(d, t->conf.path, e->line, "\"%s\" must be a number from %d to %d", key, min, max);
		return def;
	}
	return (int)v;
}

static void check_command(struct template *t, struct diag *d, const char *sec, const char *key,
			  const char *value)
{
	struct strv w = STRV_INIT;
	const struct error *err = value ? strv_split(&w, value) : NULL;

	if (value && (err || w.n == 0))
		diag_add(d, t->conf.path, conf_get(&t->conf, sec, key)->line, "\"%s\": %s", key,
			 err ? err->msg : "empty command");
	strv_free(&w);
}

static void check_path(struct template *t, struct diag *d, const char *sec, const char *key,
		       const char *value)
{
	if (value && (value[0] != '/' || strstr(value, "..") || strchr(value, ':')))
		diag_add(d, t->conf.path, conf_get(&t->conf, sec, key)->line,
			 "\"%s\" must be an absolute container path without \"..\" or \":\"", key);
}

static void check_image(struct template *t, struct diag *d, const char *sec, const char *key,
			const char *value, const char *version)
{
	char *vars[2] = {NULL, NULL}, *img = NULL;
	const struct error *err;

	if (!value)
		return;
	vars[0] = xasprintf("version=%s", version ? version : "latest");
	if ((err = template_expand(value, vars, &img)) || (err = name_check_image(img)))
		diag_add(d, t->conf.path, conf_get(&t->conf, sec, key)->line, "%s", err->msg);
	free(vars[0]);
	free(img);
}

/* Collect "[PREFIX.NAME.env]" entries as K=V. */
static void collect_env(struct template *t, struct diag *d, const char *sec, struct strv *env)
{
	for (size_t i = 0; i < t->conf.n; i++) {
		struct conf_entry *e = &t->conf.e[i];
		const char *k = e->key;

		if (strcmp(e->section, sec) != 0)
			continue;
		e->used = 1;
		if (!*k || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(k))
			diag_add(d, t->conf.path, e->line, "environment name \"%s\" must match [A-Za-z0-9_.]+", k);
		check_vars(t, d, e);
		strv_pushf(env, "%s=%s", k, e->value);
	}
}

static void parse_ready(struct template *t, struct diag *d, const char *sec, struct tpl_service *s)
{
	struct conf_entry *e = conf_get(&t->conf, sec, "ready");
	const char *v = e ? e->value : "none";
	size_t n = strcspn(v, " \t");
	const char *arg = v + n + strspn(v + n, " \t");

	s->ready_arg = *arg ? arg : NULL;
	if (strncmp(v, "none", n) == 0 && n == 4)
		s->ready = READY_NONE;
	else if (n == 5 && strncmp(v, "mysql", 5) == 0)
		s->ready = READY_MYSQL;
	else if (n == 3 && strncmp(v, "tcp", 3) == 0)
		s->ready = READY_TCP;
	else if (n == 4 && strncmp(v, "http", 4) == 0) {
		s->ready = READY_HTTP;
		if (!s->ready_arg || s->ready_arg[0] != '/')
			diag_add(d, t->conf.path, e->line, "\"ready = http PATH\" needs a path starting with /");
	} else if (n == 4 && strncmp(v, "exec", 4) == 0) {
		s->ready = READY_EXEC;
		if (!s->ready_arg)
			diag_add(d, t->conf.path, e->line, "\"ready = exec COMMAND\" needs a command");
		else
			check_command(t, d, sec, "ready", s->ready_arg);
	} else {
		diag_add(d, t->conf.path, e->line,
			 "\"ready\" must be one of: none, mysql, tcp, http PATH, exec COMMAND");
		return;
	}
	if ((s->ready == READY_MYSQL || s->ready == READY_TCP || s->ready == READY_HTTP) && !s->port)
		diag_add(d, t->conf.path, e->line, "a \"%.*s\" readiness check needs \"port\"", (int)n, v);
}

/* One more element of size bytes at the end of *v (n so far), zeroed. */
static void *grow(void **v, size_t n, size_t size)
{
	*v = xrealloc(*v, (n + 1) * size);
	memset((char *)*v + n * size, 0, size);
	return (char *)*v + n * size;
}

const struct error *template_load_file(struct template *t, const char *name, const char *path, struct diag *d)
{
	const struct error *err;
	struct conf *c = &t->conf;

	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	if ((err = conf_load(c, path, d)))
		return err;
	if (!conf_section_line(c, "template"))
		diag_add(d, path, 0, "no [template] section");
	t->description = opt(t, d, "template", "description");
	t->image = need(t, d, "template", "image");
	t->default_version = need(t, d, "template", "default_version");
	t->port = get_int(t, d, "template", "port", 0, 1, 65535);
	if (!conf_get(c, "template", "port"))
		need(t, d, "template", "port");
	t->data = need(t, d, "template", "data");
	t->setup = opt(t, d, "template", "setup");
	t->migrate = opt(t, d, "template", "migrate");
	t->health = need(t, d, "template", "health");
	t->health_timeout = get_int(t, d, "template", "health_timeout", 120, 1, 3600);
	t->proxy_image = opt(t, d, "template", "proxy_image");
	if (!t->proxy_image)
		t->proxy_image = TEMPLATE_PROXY_IMAGE;
	else if ((err = name_check_image(t->proxy_image)))
		diag_add(d, path, conf_get(c, "template", "proxy_image")->line, "%s", err->msg);
	check_image(t, d, "template", "image", t->image, t->default_version);
	check_path(t, d, "template", "data", t->data);
	check_command(t, d, "template", "setup", t->setup);
	check_command(t, d, "template", "migrate", t->migrate);
	if (t->health && t->health[0] != '/')
		diag_add(d, path, conf_get(c, "template", "health")->line,
			 "\"health\" must be an HTTP path starting with /");
	collect_env(t, d, "env", &t->env);

	for (size_t i = 0; i < c->ns; i++) {
		const char *sec = c->s[i].name;
		const char *dot = strchr(sec, '.');

		if (strcmp(sec, "template") == 0 || strcmp(sec, "env") == 0)
			continue;
		if (strncmp(sec, "process.", 8) == 0 && strrchr(sec, '.') == sec + 7) {
			struct tpl_process *p = grow((void **)&t->proc, t->nproc++, sizeof *t->proc);

			p->name = sec + 8;
			if ((err = name_check_service(p->name)))
				diag_add(d, path, c->s[i].line, "process %s", err->msg);
			p->command = need(t, d, sec, "command");
			check_command(t, d, sec, "command", p->command);
		} else if (strncmp(sec, "service.", 8) == 0 && strrchr(sec, '.') == sec + 7) {
			struct tpl_service *s = grow((void **)&t->svc, t->nsvc++, sizeof *t->svc);
			char envsec[300];

			s->name = sec + 8;
			if ((err = name_check_service(s->name)))
				diag_add(d, path, c->s[i].line, "%s", err->msg);
			s->image = need(t, d, sec, "image");
			/* Written as-is into cluster.ini: no ${...} here. */
			if (s->image && (err = name_check_image(s->image)))
				diag_add(d, path, conf_get(c, sec, "image")->line, "%s", err->msg);
			s->data = opt(t, d, sec, "data");
			check_path(t, d, sec, "data", s->data);
			s->command = opt(t, d, sec, "command");
			check_command(t, d, sec, "command", s->command);
			s->password_env = opt(t, d, sec, "password_env");
			s->port = get_int(t, d, sec, "port", 0, 1, 65535);
			s->timeout = get_int(t, d, sec, "timeout", 120, 1, 3600);
			s->stop_timeout = get_int(t, d, sec, "stop_timeout", 30, 0, 3600);
			parse_ready(t, d, sec, s);
			if (s->password_env && (!*s->password_env ||
						strspn(s->password_env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
							strlen(s->password_env)))
				diag_add(d, path, conf_get(c, sec, "password_env")->line,
					 "\"password_env\" must be an environment variable name ([A-Za-z0-9_]+)");
			if (s->ready == READY_MYSQL && !s->password_env)
				diag_add(d, path, c->s[i].line,
					 "a mysql service needs \"password_env\", the variable that names its root password file");
			snprintf(envsec, sizeof envsec, "%s.env", sec);
			collect_env(t, d, envsec, &s->env);
			/* Services are shared by every instance: nothing to expand. */
			for (size_t j = 0; j < c->n; j++)
				if ((strcmp(c->e[j].section, sec) == 0 || strcmp(c->e[j].section, envsec) == 0) &&
				    strstr(c->e[j].value, "${"))
					diag_add(d, path, c->e[j].line, "[%s] is shared by all instances: \"${...}\" "
						 "is not expanded there", c->e[j].section);
		} else if (!(dot && strcmp(strrchr(sec, '.'), ".env") == 0 &&
			     strncmp(sec, "service.", 8) == 0)) {
			diag_add(d, path, c->s[i].line, "unknown section [%s]", sec);
		}
	}
	{
		int web = 0;

		for (size_t i = 0; i < t->nproc; i++)
			web |= strcmp(t->proc[i].name, "web") == 0;
		if (!web)
			diag_add(d, path, 0, "no [process.web] section: the app needs a web process");
	}
	if (!template_db(t))
		diag_add(d, path, 0, "no service with \"ready = mysql\": instances need a MySQL server");
	conf_unknown(c, d);
	return NULL;
}

const struct error *template_load(struct template *t, const char *name, struct diag *d)
{
	const struct error *err;
	char *path;

	if ((err = template_find(name, &path))) {
		memset(t, 0, sizeof *t);
		return err;
	}
	err = template_load_file(t, name, path, d);
	free(path);
	return err;
}

const struct tpl_service *template_service(const struct template *t, const char *name)
{
	for (size_t i = 0; i < t->nsvc; i++)
		if (strcmp(t->svc[i].name, name) == 0)
			return &t->svc[i];
	return NULL;
}

const struct tpl_service *template_db(const struct template *t)
{
	for (size_t i = 0; i < t->nsvc; i++)
		if (t->svc[i].ready == READY_MYSQL)
			return &t->svc[i];
	return NULL;
}

void template_free(struct template *t)
{
	for (size_t i = 0; i < t->nsvc; i++)
		strv_free(&t->svc[i].env);
	free(t->svc);
	free(t->proc);
	strv_free(&t->env);
	conf_free(&t->conf);
	free(t->name);
	memset(t, 0, sizeof *t);
}
