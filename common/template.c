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
	"cluster", "instance", "version", "port", "db_host", "db_port", "db_name", "db_user",
	"db_password", "secret_key_base", "env", "hostname", NULL,
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
	struct strv known = STRV_INIT;
	const struct error *err;
	char *out = NULL;

	for (size_t i = 0; template_vars[i]; i++)
		strv_pushf(&known, "%s=x", template_vars[i]);
	for (size_t i = 0; i < t->nset; i++)
		strv_pushf(&known, "%s=x", t->set[i].name);
	if ((err = template_expand(e->value, known.v, &out)))
		diag_add(d, t->conf.path, e->line, "%s", err->msg);
	free(out);
	strv_free(&known);
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

/* key = yes (1) or no (0; also when absent). */
static int get_yes(struct template *t, struct diag *d, const char *sec, const char *key)
{
	struct conf_entry *e = conf_get(&t->conf, sec, key);

	if (!e || strcmp(e->value, "no") == 0)
		return 0;
	if (strcmp(e->value, "yes") == 0)
		return 1;
	diag_add(d, t->conf.path, e->line, "\"%s\" must be yes or no", key);
	return 0;
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
	const char *v, *arg;
	size_t n;

	if (!e) {
		s->ready = READY_NONE;
		s->ready_arg = NULL;
		return;
	}
	v = e->value;
	n = strcspn(v, " \t");
	arg = v + n + strspn(v + n, " \t");
	s->ready_arg = *arg ? arg : NULL;
	if (n == 4 && strncmp(v, "none", 4) == 0)
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

/* "a\\nb" -> "a" newline "b"; \\t, \\\\ likewise; other backslashes stay. */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : '\\';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int is_name(const char *s)
{
	return s[0] >= 'a' && s[0] <= 'z' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s) &&
	       strlen(s) <= 64;
}

/* [setting.NAME] sections, first: the other sections may use ${NAME}. */
static void parse_settings(struct template *t, struct diag *d)
{
	struct conf *c = &t->conf;

	for (size_t i = 0; i < c->ns; i++) {
		const char *sec = c->s[i].name;
		struct tpl_setting *st;
		struct conf_entry *e;

		if (strncmp(sec, "setting.", 8) != 0)
			continue;
		st = grow((void **)&t->set, t->nset++, sizeof *t->set);
		st->name = sec + 8;
		if (!is_name(st->name))
			diag_add(d, c->path, c->s[i].line, "setting name \"%s\" must match [a-z][a-z0-9_]*", st->name);
		for (size_t j = 0; template_vars[j]; j++)
			if (strcmp(template_vars[j], st->name) == 0)
				diag_add(d, c->path, c->s[i].line, "setting \"%s\" has the name of a built-in variable",
					 st->name);
		st->def = (e = conf_get(c, sec, "default")) ? e->value : NULL;
		st->help = (e = conf_get(c, sec, "help")) ? e->value : NULL;
		if ((st->secret = get_yes(t, d, sec, "secret")) && st->def)
			diag_add(d, c->path, conf_get(c, sec, "secret")->line, "a secret setting has no default");
		if (!st->help)
			diag_add(d, c->path, c->s[i].line, "[%s] needs \"help\": what the operator must give", sec);
	}
}

static int plain_file_name(const char *s)
{
	return *s && s[0] != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

static void parse_file(struct template *t, struct diag *d, const char *sec, int line)
{
	struct tpl_file *f = grow((void **)&t->file, t->nfile++, sizeof *t->file);
	const char *content, *cfile;

	f->name = sec + 5;
	if (!*f->name || strspn(f->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(f->name))
		diag_add(d, t->conf.path, line, "file name \"%s\" must match [a-z0-9_-]+", f->name);
	f->path = need(t, d, sec, "path");
	check_path(t, d, sec, "path", f->path);
	content = opt(t, d, sec, "content");
	cfile = opt(t, d, sec, "content_file");
	f->from = opt(t, d, sec, "from");
	if (!!content + !!cfile + !!f->from != 1)
		diag_add(d, t->conf.path, line, "[%s] needs one of \"content\", \"content_file\" or \"from\"", sec);
	if (content)
		f->content = unescape(content);
	if (cfile && !plain_file_name(cfile)) {
		diag_add(d, t->conf.path, conf_get(&t->conf, sec, "content_file")->line,
			 "\"content_file\" names a file beside the template: [A-Za-z0-9._-]+, not starting with \".\"");
	} else if (cfile) {
		/* beside the template file; its ${...} expanded per environment */
		char *dir = xstrdup(t->conf.path), *slash = strrchr(dir, '/'), *path;
		const struct error *err;
		struct conf_entry fake = {(char *)sec, (char *)"content_file", NULL,
					  conf_get(&t->conf, sec, "content_file")->line, 1};

		if (slash)
			*slash = '\0';
		path = xasprintf("%s/%s", slash ? dir : ".", cfile);
		if ((err = fs_read(path, &f->content, NULL))) {
			diag_add(d, t->conf.path, fake.line, "%s", err->msg);
		} else {
			fake.value = f->content;
			check_vars(t, d, &fake);
		}
		free(path);
		free(dir);
	}
	if (f->from && !plain_file_name(f->from))
		diag_add(d, t->conf.path, conf_get(&t->conf, sec, "from")->line,
			 "\"from\" names a file of the instance's folder: [A-Za-z0-9._-]+, not starting with \".\"");
}

static int version_word(const char *v)
{
	return *v && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(v);
}

/* "FROM..TO", either side may be empty. */
static void parse_versions(struct template *t, struct diag *d)
{
	struct conf_entry *e = conf_get(&t->conf, "template", "versions");
	const char *dots;

	if (!e)
		return;
	if (!(dots = strstr(e->value, "..")) || (dots == e->value && !dots[2])) {
		diag_add(d, t->conf.path, e->line, "\"versions\" must be FROM..TO (either may be left out: v4.0..)");
		return;
	}
	if (dots > e->value)
		t->versions_from = xstrndup(e->value, (size_t)(dots - e->value));
	if (dots[2])
		t->versions_to = xstrdup(dots + 2);
	if ((t->versions_from && !version_word(t->versions_from)) || (t->versions_to && !version_word(t->versions_to)))
		diag_add(d, t->conf.path, e->line, "\"versions\": a version is [A-Za-z0-9._-]+");
	if (t->default_version && template_version_check(t, t->default_version))
		diag_add(d, t->conf.path, e->line, "default_version %s is not among the versions %s", t->default_version,
			 e->value);
}

/* "SERVICE NAME": a service of the template with a port. */
static void parse_index(struct template *t, struct diag *d)
{
	struct conf_entry *e = conf_get(&t->conf, "template", "search_index");
	size_t n;

	if (!e)
		return;
	check_vars(t, d, e);
	n = strcspn(e->value, " \t");
	t->index_service = xstrndup(e->value, n);
	t->index_name = xstrdup(e->value + n + strspn(e->value + n, " \t"));
	if (!*t->index_name || !strstr(t->index_name, "${env}"))
		diag_add(d, t->conf.path, e->line, "\"search_index\" must be SERVICE NAME, the name with ${env} in it "
			 "(one index per environment)");
}

static void check_required_env(struct template *t, struct diag *d)
{
	struct conf_entry *e = conf_get(&t->conf, "template", "require_env");
	struct strv w = STRV_INIT;

	if (!e)
		return;
	t->require_env = e->value;
	strv_split(&w, e->value);
	for (size_t i = 0; i < w.n; i++) {
		size_t n = strlen(w.v[i]);
		int found = 0;

		for (size_t j = 0; j < t->env.n && !found; j++)
			found = strncmp(t->env.v[j], w.v[i], n) == 0 && t->env.v[j][n] == '=';
		if (!found)
			diag_add(d, t->conf.path, e->line, "require_env names %s, which [env] does not set", w.v[i]);
	}
	strv_free(&w);
}

/* [template]: the app. */
static void parse_app(struct template *t, struct diag *d)
{
	const struct error *err;
	struct conf *c = &t->conf;
	struct conf_entry *e;

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
	t->healthcheck = opt(t, d, "template", "healthcheck");
	t->health_interval = get_int(t, d, "template", "health_interval", 30, 1, 3600);
	t->proxy_image = opt(t, d, "template", "proxy_image");
	if (!t->proxy_image)
		t->proxy_image = TEMPLATE_PROXY_IMAGE;
	else if ((err = name_check_image(t->proxy_image)))
		diag_add(d, c->path, conf_get(c, "template", "proxy_image")->line, "%s", err->msg);
	check_image(t, d, "template", "image", t->image, t->default_version);
	check_path(t, d, "template", "data", t->data);
	check_command(t, d, "template", "setup", t->setup);
	check_command(t, d, "template", "migrate", t->migrate);
	check_command(t, d, "template", "healthcheck", t->healthcheck);
	if (t->health && t->health[0] != '/')
		diag_add(d, c->path, conf_get(c, "template", "health")->line,
			 "\"health\" must be an HTTP path starting with /");
	/* present and empty: no entrypoint at all */
	if ((e = conf_get(c, "template", "entrypoint"))) {
		t->entrypoint = e->value;
		if (*e->value)
			check_command(t, d, "template", "entrypoint", e->value);
	}
	t->post_setup = opt(t, d, "template", "post_setup");
	t->post_migrate = opt(t, d, "template", "post_migrate");
	t->post_import = opt(t, d, "template", "post_import");
	check_command(t, d, "template", "post_setup", t->post_setup);
	check_command(t, d, "template", "post_migrate", t->post_migrate);
	check_command(t, d, "template", "post_import", t->post_import);
	t->other_versions = opt(t, d, "template", "other_versions");
	if (t->other_versions && (err = name_check_template(t->other_versions)))
		diag_add(d, c->path, conf_get(c, "template", "other_versions")->line, "%s", err->msg);
	t->source = opt(t, d, "template", "source");
	parse_versions(t, d);
	parse_index(t, d);
}

static void parse_process(struct template *t, struct diag *d, const char *sec, int line)
{
	const struct error *err;
	struct tpl_process *p = grow((void **)&t->proc, t->nproc++, sizeof *t->proc);

	p->name = sec + 8;
	if ((err = name_check_service(p->name)))
		diag_add(d, t->conf.path, line, "process %s", err->msg);
	p->command = need(t, d, sec, "command");
	check_command(t, d, sec, "command", p->command);
	p->replicas = get_int(t, d, sec, "replicas", 1, 1, 32);
	p->scheduler = get_yes(t, d, sec, "scheduler");
	p->frontend = get_yes(t, d, sec, "frontend");
	if (strcmp(p->name, "web") == 0 && (p->replicas > 1 || p->scheduler || p->frontend))
		diag_add(d, t->conf.path, line,
			 "[process.web] takes neither replicas, scheduler nor frontend: the proxy reaches it at one address");
	else if (p->scheduler && p->replicas > 1)
		diag_add(d, t->conf.path, line, "a scheduler runs once: replicas must be 1");
	else if (p->frontend && (p->replicas > 1 || p->scheduler))
		diag_add(d, t->conf.path, line, "the frontend is served at one address: replicas 1, not a scheduler");
}

static void parse_service(struct template *t, struct diag *d, const char *sec, int line)
{
	const struct error *err;
	struct conf *c = &t->conf;
	struct tpl_service *s = grow((void **)&t->svc, t->nsvc++, sizeof *t->svc);
	char envsec[300];

	s->name = sec + 8;
	if ((err = name_check_service(s->name)))
		diag_add(d, c->path, line, "%s", err->msg);
	s->image = need(t, d, sec, "image");
	/* Written as-is into cluster.ini: no ${...} here. */
	if (s->image && (err = name_check_image(s->image)))
		diag_add(d, c->path, conf_get(c, sec, "image")->line, "%s", err->msg);
	s->data = opt(t, d, sec, "data");
	check_path(t, d, sec, "data", s->data);
	s->command = opt(t, d, sec, "command");
	check_command(t, d, sec, "command", s->command);
	s->password_env = opt(t, d, sec, "password_env");
	s->port = get_int(t, d, sec, "port", 0, 1, 65535);
	s->timeout = get_int(t, d, sec, "timeout", 120, 1, 3600);
	s->stop_timeout = get_int(t, d, sec, "stop_timeout", 30, 0, 3600);
	parse_ready(t, d, sec, s);
	if (s->password_env &&
	    (!*s->password_env ||
	     strspn(s->password_env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		     strlen(s->password_env)))
		diag_add(d, c->path, conf_get(c, sec, "password_env")->line,
			 "\"password_env\" must be an environment variable name ([A-Za-z0-9_]+)");
	if (s->ready == READY_MYSQL && !s->password_env)
		diag_add(d, c->path, line,
			 "a mysql service needs \"password_env\", the variable that names its root password file");
	snprintf(envsec, sizeof envsec, "%s.env", sec);
	collect_env(t, d, envsec, &s->env);
	/* Services are shared by every instance: nothing to expand. */
	for (size_t j = 0; j < c->n; j++)
		if ((strcmp(c->e[j].section, sec) == 0 || strcmp(c->e[j].section, envsec) == 0) &&
		    strstr(c->e[j].value, "${"))
			diag_add(d, c->path, c->e[j].line, "[%s] is shared by all instances: \"${...}\" is not expanded there",
				 c->e[j].section);
}

/* What the sections say together. */
static void check_whole(struct template *t, struct diag *d)
{
	int web = 0, fronts = 0;

	for (size_t i = 0; i < t->nproc; i++) {
		web |= strcmp(t->proc[i].name, "web") == 0;
		fronts += t->proc[i].frontend;
	}
	if (fronts > 1)
		diag_add(d, t->conf.path, 0, "%d processes say frontend = yes: a template has one frontend at most", fronts);
	if (!web)
		diag_add(d, t->conf.path, 0, "no [process.web] section: the app needs a web process");
	if (!template_db(t))
		diag_add(d, t->conf.path, 0, "no service with \"ready = mysql\": instances need a MySQL server");
	if (t->index_service) {
		const struct tpl_service *s = template_service(t, t->index_service);

		if (!s || !s->port)
			diag_add(d, t->conf.path, conf_get(&t->conf, "template", "search_index")->line,
				 "search_index names \"%s\", which is no service of the template with a port",
				 t->index_service);
	}
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
	parse_settings(t, d);
	parse_app(t, d);
	collect_env(t, d, "env", &t->env);
	check_required_env(t, d);
	for (size_t i = 0; i < c->ns; i++) {
		const char *sec = c->s[i].name, *last = strrchr(sec, '.');

		if (strcmp(sec, "template") == 0 || strcmp(sec, "env") == 0 || strncmp(sec, "setting.", 8) == 0)
			continue;
		if (strncmp(sec, "file.", 5) == 0)
			parse_file(t, d, sec, c->s[i].line);
		else if (strncmp(sec, "process.", 8) == 0 && last == sec + 7)
			parse_process(t, d, sec, c->s[i].line);
		else if (strncmp(sec, "service.", 8) == 0 && last == sec + 7)
			parse_service(t, d, sec, c->s[i].line);
		else if (!(last && strcmp(last, ".env") == 0 && strncmp(sec, "service.", 8) == 0))
			diag_add(d, path, c->s[i].line, "unknown section [%s]", sec);
	}
	check_whole(t, d);
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

const struct tpl_process *template_frontend(const struct template *t)
{
	for (size_t i = 0; i < t->nproc; i++)
		if (t->proc[i].frontend)
			return &t->proc[i];
	return NULL;
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

const struct tpl_setting *template_setting(const struct template *t, const char *name)
{
	for (size_t i = 0; i < t->nset; i++)
		if (strcmp(t->set[i].name, name) == 0)
			return &t->set[i];
	return NULL;
}

/* The next part of version p: a number (*num set) or a run of other
 * characters; separators . - _ + end parts. */
static const char *part(const char *p, unsigned long *num, const char **str, size_t *len)
{
	*str = p;
	if (*p >= '0' && *p <= '9') {
		*num = strtoul(p, (char **)&p, 10);
		*len = 0;
	} else {
		*len = strcspn(p, ".-_+0123456789");
		p += *len;
	}
	return p + (*p == '.' || *p == '-' || *p == '_' || *p == '+');
}

int template_version_cmp(const char *a, const char *b, int upto)
{
	a += *a == 'v' || *a == 'V';
	b += *b == 'v' || *b == 'V';
	while (*a || *b) {
		unsigned long na = 0, nb = 0;
		const char *sa, *sb;
		size_t la, lb;
		int c;

		if (!*b)
			return upto ? 0 : 1;
		if (!*a)
			return -1;
		a = part(a, &na, &sa, &la);
		b = part(b, &nb, &sb, &lb);
		if (!la && !lb) {
			if (na != nb)
				return na < nb ? -1 : 1;
			continue;
		}
		/* a number sorts after text ("1.0-rc1" < "1.0.1") */
		if (!la != !lb)
			return !la ? 1 : -1;
		c = strncmp(sa, sb, la < lb ? la : lb);
		if (c || la != lb)
			return c ? c : la < lb ? -1 : 1;
	}
	return 0;
}

const struct error *template_version_check(const struct template *t, const char *version)
{
	int low = t->versions_from && template_version_cmp(version, t->versions_from, 0) < 0;
	int high = t->versions_to && template_version_cmp(version, t->versions_to, 1) > 0;

	if (!low && !high)
		return NULL;
	return error_fmt("template \"%s\" runs versions %s..%s, not %s%s%s%s", t->name,
			 t->versions_from ? t->versions_from : "", t->versions_to ? t->versions_to : "", version,
			 t->other_versions ? "; template \"" : "", t->other_versions ? t->other_versions : "",
			 t->other_versions ? "\" runs the others" : "");
}

void template_free(struct template *t)
{
	for (size_t i = 0; i < t->nfile; i++)
		free(t->file[i].content);
	free(t->file);
	free(t->set);
	free(t->versions_from);
	free(t->versions_to);
	free(t->index_service);
	free(t->index_name);
	for (size_t i = 0; i < t->nsvc; i++)
		strv_free(&t->svc[i].env);
	free(t->svc);
	free(t->proc);
	strv_free(&t->env);
	conf_free(&t->conf);
	free(t->name);
	memset(t, 0, sizeof *t);
}
