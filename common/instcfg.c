#include "instcfg.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "ipnet.h"
#include "mem.h"
#include "name.h"
#include "report.h"
#include "sha256.h"

const struct error *instance_check_version(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
	    v[0] == '.' || v[0] == '-')
		return error_fmt("version \"%s\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,63}", v);
	return NULL;
}

const struct error *instance_check_time(const char *v)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strcmp(v, "unknown") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof form - 1; i++)
		if (form[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != form[i])
			return error_fmt("time \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
	if (v[sizeof form - 1])
		return error_fmt("time \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
	return NULL;
}

static const struct error *check_env(const char *v)
{
	if (strcmp(v, "blue") && strcmp(v, "green"))
		return error_fmt("environment \"%s\" is neither blue nor green", v);
	return NULL;
}

static const struct error *check_secret(const char *v)
{
	size_t n = strlen(v);

	if (n < 16 || strspn(v, NAME_ALNUM) != n)
		return error_fmt("a secret must be 16 or more letters and digits");
	return NULL;
}

/* An optional key of [instance] that check passes, or NULL (absent, or
 * refused: said in d as "key: why"). */
static const char *optional(struct instance *in, struct diag *d, const char *key,
			    const struct error *(*check)(const char *))
{
	struct conf_entry *e = conf_get(&in->conf, "instance", key);
	const struct error *err;

	if (!e)
		return NULL;
	if ((err = check(e->value))) {
		diag_add(d, in->conf.path, e->line, "%s: %s", key, err->msg);
		return NULL;
	}
	return e->value;
}

static const char *field(struct instance *in, struct diag *d, const char *sec, const char *key,
			 const struct error *(*check)(const char *))
{
	struct conf_entry *e = conf_get(&in->conf, sec, key);
	const struct error *err;

	if (!e) {
		diag_add(d, in->conf.path, conf_section_line(&in->conf, sec), "[%s] needs a value for \"%s\"", sec, key);
		return NULL;
	}
	if (check && (err = check(e->value))) {
		diag_add(d, in->conf.path, e->line, "%s", err->msg);
		return NULL;
	}
	return e->value;
}

const struct error *instance_load(struct instance *in, const char *root, struct diag *d)
{
	const struct error *err;
	char *ini = NULL, *croot = NULL, *slash;
	const char *v;

	memset(in, 0, sizeof *in);
	if ((err = fs_absolute(root, &in->root)))
		return err;
	ini = xasprintf("%s/instance.ini", in->root);
	/* The cluster is two folders up: CLUSTER/instances/NAME. */
	croot = xstrdup(in->root);
	slash = strrchr(croot, '/');
	*slash = '\0';
	if (!(slash = strrchr(croot, '/')) || (strcmp(slash, "/instances") != 0 && strcmp(slash, "/pool") != 0)) {
		err = error_fmt("instance \"%s\" is not in a cluster's instances/ folder", in->root);
		goto out;
	}
	in->pooled = strcmp(slash, "/pool") == 0;
	*slash = '\0';
	if ((err = cluster_load(&in->cl, croot[0] ? croot : "/", d)) || (err = conf_load(&in->conf, ini, d)))
		goto out;
	in->name = field(in, d, "instance", "name", name_check_instance);
	if (in->name && strcmp(in->name, strrchr(in->root, '/') + 1) != 0)
		diag_add(d, ini, conf_get(&in->conf, "instance", "name")->line,
			 "name \"%s\" differs from the folder's name", in->name);
	in->version = field(in, d, "instance", "version", instance_check_version);
	in->env = field(in, d, "instance", "env", check_env);
	/* One in the pool has no port yet: 0. */
	if ((v = field(in, d, "instance", "port", NULL)) && !(in->pooled && strcmp(v, "0") == 0) &&
	    (err = name_check_port(v, &in->port))) {
		diag_add(d, ini, conf_get(&in->conf, "instance", "port")->line, "%s", err->msg);
		err = NULL;
	}
	if ((v = field(in, d, "instance", "slot", NULL))) {
		char *end;
		long s = strtol(v, &end, 10);

		if (*end || !*v || s < 0 || s > 100000)
			diag_add(d, ini, conf_get(&in->conf, "instance", "slot")->line, "slot must be a number from 0");
		in->slot = (int)s;
	}
	in->db_user = optional(in, d, "db_user", name_check_instance);
	if (!in->db_user)
		in->db_user = in->name;
	in->description = optional(in, d, "description", name_check_description);
	in->archived = optional(in, d, "archived", instance_check_time);
	in->db_password = field(in, d, "secrets", "db_password", check_secret);
	in->secret_key_base = field(in, d, "secrets", "secret_key_base", check_secret);
	for (int i = 0; i < 2; i++) {
		const char *sec = i == ENV_BLUE ? "env.blue" : "env.green";

		if (conf_section_line(&in->conf, sec) <= 0)
			continue;
		/* An environment never filled may name its database alone. */
		if (conf_get(&in->conf, sec, "version") || !conf_get(&in->conf, sec, "database")) {
			in->env_version[i] = field(in, d, sec, "version", instance_check_version);
			if ((v = field(in, d, sec, "created", instance_check_time)))
				in->env_created[i] = v;
		}
		if ((v = conf_value(&in->conf, sec, "database"))) {
			const struct error *e2 = name_check_instance(v);

			if (e2)
				diag_add(d, ini, conf_get(&in->conf, sec, "database")->line, "database: %s", e2->msg);
			else
				in->env_database[i] = v;
		}
	}
	for (size_t i = 0; i < in->conf.n; i++) {
		struct conf_entry *e = &in->conf.e[i];

		if (strcmp(e->section, "settings") != 0)
			continue;
		e->used = 1;
		if (in->cl.tpl.name && !template_setting(&in->cl.tpl, e->key))
			diag_add(d, ini, e->line, "unknown setting \"%s\": template \"%s\" has no such setting", e->key,
				 in->cl.template_name);
		else
			strv_pushf(&in->settings, "%s=%s", e->key, e->value);
	}
	for (size_t i = 0; i < in->conf.ns; i++)
		if (strcmp(in->conf.s[i].name, "instance") && strcmp(in->conf.s[i].name, "secrets") &&
		    strcmp(in->conf.s[i].name, "env.blue") && strcmp(in->conf.s[i].name, "env.green") &&
		    strcmp(in->conf.s[i].name, "settings"))
			diag_add(d, ini, in->conf.s[i].line, "unknown section [%s]", in->conf.s[i].name);
	/* The active environment runs the instance's version. */
	if (in->env && in->version && in->env_version[instance_env_index(in->env)] &&
	    strcmp(in->env_version[instance_env_index(in->env)], in->version) != 0)
		diag_add(d, ini, conf_section_line(&in->conf, strcmp(in->env, "blue") == 0 ? "env.blue" : "env.green"),
			 "the active environment %s holds version %s, [instance] says %s", in->env,
			 in->env_version[instance_env_index(in->env)], in->version);
	conf_unknown(&in->conf, d);
out:
	free(ini);
	free(croot);
	return err;
}

/* Instances made before environments had their files right in data/: they
 * move, whole, to data/ENV of the active environment.  Each step can be
 * repeated after a crash (data.moving is the old data/ on its way). */
static const struct error *move_to_env_layout(struct instance *in)
{
	const struct error *err = NULL;
	char *data = xasprintf("%s/data", in->root), *moving = xasprintf("%s/data.moving", in->root);
	char *blue = xasprintf("%s/data/blue", in->root), *green = xasprintf("%s/data/green", in->root);
	char *dest = xasprintf("%s/data/%s", in->root, in->env);

	if (!fs_exists(moving)) {
		if (!fs_nonempty_dir(data) || fs_exists(blue) || fs_exists(green))
			goto out;
		if (rename(data, moving) < 0 && errno != ENOENT) {
			err = error_errno("moving \"%s\"", data);
			goto out;
		}
	}
	if ((mkdir(data, 0755) < 0 && errno != EEXIST) || (rename(moving, dest) < 0 && errno != ENOENT)) {
		err = error_errno("moving the files of instance \"%s\" to \"%s\"", in->name, dest);
		goto out;
	}
	report_note("instance \"%s\": its files moved to %s (one folder per environment)", in->name, dest);
out:
	free(data);
	free(moving);
	free(blue);
	free(green);
	free(dest);
	return err;
}

const struct error *instance_open(struct instance *in, const char *root)
{
	const struct error *err;
	struct diag d = DIAG_INIT;

	err = instance_load(in, root, &d);
	if (!err)
		err = diag_report(&d, "checking the instance's configuration");
	diag_free(&d);
	if (!err)
		err = move_to_env_layout(in);
	if (err)
		instance_free(in);
	return err;
}

void instance_free(struct instance *in)
{
	for (size_t i = 0; i < in->settings.n; i++)
		explicit_bzero(in->settings.v[i], strlen(in->settings.v[i]));
	strv_free(&in->settings);
	cluster_free(&in->cl);
	conf_free(&in->conf);
	free(in->root);
	memset(in, 0, sizeof *in);
}

char *instance_now(void)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	return xstrdup(ts);
}

/* What instance.ini holds besides what ini_text() is given: kept as it is
 * by instance_save(). */
struct extras {
	const char *description;            /* NULL: none */
	const char *archived;               /* NULL: not archived */
	const char *db_user;                /* NULL: the name */
	const char *const *database;        /* per environment, or NULL */
	const struct strv *settings;
};

static char *ini_text(const char *name, const char *version, int port, int slot, const char *env,
		      const char *const ver[2], const char *const created[2], const char *db_password,
		      const char *secret_key_base, const struct extras *x)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "; korcluster instance configuration (mode 0600: it holds secrets)\n"
		       "[instance]\nname = %s\nversion = %s\nport = %d\n"
		       "; index of the instance's fixed addresses on the cluster network\nslot = %d\n"
		       "; the active environment\nenv = %s\n",
		   name, version, port, slot, env);
	if (x && x->description && *x->description)
		buf_printf(&b, "; what it is for\ndescription = %s\n", x->description);
	if (x && x->archived)
		buf_printf(&b, "; archived then: its data is in archive.tar.zst (cluster.sh restore)\narchived = %s\n",
			   x->archived);
	if (x && x->db_user && strcmp(x->db_user, name) != 0)
		buf_printf(&b, "; its database user (kept from KorCluster, or from the pool)\ndb_user = %s\n", x->db_user);
	for (int i = 0; i < 2; i++) {
		const char *db = x && x->database ? x->database[i] : NULL;

		if (ver[i] || db)
			buf_printf(&b, "\n[env.%s]\n", i == ENV_BLUE ? "blue" : "green");
		if (ver[i])
			buf_printf(&b, "version = %s\ncreated = %s\n", ver[i], created[i] ? created[i] : "unknown");
		if (db)
			buf_printf(&b, "database = %s\n", db);
	}
	buf_printf(&b, "\n[secrets]\ndb_password = %s\nsecret_key_base = %s\n", db_password, secret_key_base);
	if (x && x->settings && x->settings->n) {
		buf_printf(&b, "\n[settings]\n");
		for (size_t i = 0; i < x->settings->n; i++) {
			const char *eq = strchr(x->settings->v[i], '=');

			buf_printf(&b, "%.*s = %s\n", (int)(eq - x->settings->v[i]), x->settings->v[i], eq + 1);
		}
	}
	return b.data;
}

char *instance_ini_text(const char *name, const char *version, int port, int slot, const char *db_password,
			const char *secret_key_base, const char *description)
{
	char *now = instance_now(), *text;
	const char *ver[2] = {version, NULL}, *created[2] = {now, NULL};
	struct extras x = {description, NULL, NULL, NULL, NULL};

	text = ini_text(name, version, port, slot, "blue", ver, created, db_password, secret_key_base, &x);
	free(now);
	return text;
}

char *instance_container(const struct instance *in, const char *env, const char *process)
{
	return xasprintf("%s_%s_%s_%s", in->cl.name, in->name, env, process);
}

char *instance_db_name(const char *name, const char *env)
{
	return xasprintf("%s_%s", name, env);
}

char *instance_database(const struct instance *in, const char *env)
{
	const char *db = in->env_database[instance_env_index(env)];

	return db ? xstrdup(db) : instance_db_name(in->name, env);
}

char *instance_data_dir(const struct instance *in, const char *env)
{
	return xasprintf("%s/data/%s", in->root, env);
}

const char *instance_other_env(const char *env)
{
	return strcmp(env, "blue") == 0 ? "green" : "blue";
}

int instance_env_index(const char *env)
{
	return strcmp(env, "green") == 0 ? ENV_GREEN : ENV_BLUE;
}

const char *instance_env_version(const struct instance *in, const char *env)
{
	const char *v = in->env_version[instance_env_index(env)];

	return v ? v : in->version;
}

const struct error *instance_write(const struct instance *in, const char *env, const char *path)
{
	const struct error *err;
	struct extras x = {in->description, in->archived, in->db_user, in->env_database, &in->settings};
	char *text;

	if ((err = check_env(env)))
		return err;
	text = ini_text(in->name, instance_env_version(in, env), in->port, in->slot, env, in->env_version,
			in->env_created, in->db_password, in->secret_key_base, &x);
	err = fs_write_atomic(path, text, strlen(text), 0600);
	explicit_bzero(text, strlen(text));
	free(text);
	return err;
}

const struct error *instance_save(struct instance *in, const char *env)
{
	const struct error *err;
	char *root = xstrdup(in->root), *path = xasprintf("%s/instance.ini", in->root);

	if (!(err = instance_write(in, env, path))) {
		instance_free(in);
		err = instance_open(in, root);
	}
	free(root);
	free(path);
	return err;
}

const struct error *instance_address(const struct instance *in, const char *subnet, const char *env, char *out,
				     size_t n)
{
	return ipnet_fixed(subnet, (unsigned)in->slot * 2 + (strcmp(env, "green") == 0), out, n);
}

const struct error *instance_front_address(const struct instance *in, const char *subnet, const char *env, char *out,
					   size_t n)
{
	return ipnet_fixed_top(subnet, (unsigned)in->slot * 2 + (strcmp(env, "green") == 0), out, n);
}

char *instance_ro_user(const struct instance *in)
{
	return xasprintf("%s_ro", in->db_user);
}

void instance_ro_password(const struct instance *in, char out[33])
{
	static const char domain[] = "korcluster read-only database user\n";
	struct sha256 s;
	unsigned char d[32];
	char hex[65];

	sha256_init(&s);
	sha256_update(&s, domain, sizeof domain - 1);
	sha256_update(&s, in->secret_key_base, strlen(in->secret_key_base));
	sha256_final(&s, d);
	sha256_hex(d, hex);
	memcpy(out, hex, 32);
	out[32] = '\0';
	explicit_bzero(d, sizeof d);
	explicit_bzero(hex, sizeof hex);
}

void instance_vars_readonly(const struct instance *in, struct strv *vars)
{
	char pw[33], *user = instance_ro_user(in);

	instance_ro_password(in, pw);
	for (size_t i = 0; i < vars->n; i++) {
		char *v = NULL;

		if (strncmp(vars->v[i], "db_user=", 8) == 0)
			v = xasprintf("db_user=%s", user);
		else if (strncmp(vars->v[i], "db_password=", 12) == 0)
			v = xasprintf("db_password=%s", pw);
		if (!v)
			continue;
		explicit_bzero(vars->v[i], strlen(vars->v[i]));
		free(vars->v[i]);
		vars->v[i] = v;
	}
	explicit_bzero(pw, sizeof pw);
	free(user);
}

/* "name=" prefix of "name=value" in v, or NULL. */
static const char *lookup(const struct strv *v, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < v->n; i++)
		if (strncmp(v->v[i], name, n) == 0 && v->v[i][n] == '=')
			return v->v[i] + n + 1;
	return NULL;
}

const struct error *instance_vars(const struct instance *in, const char *env, struct strv *out)
{
	const struct error *err = NULL;
	const struct template *t = &in->cl.tpl;
	const struct tpl_service *db = template_db(t);
	char *dbname = instance_database(in, env), host[256] = "localhost";
	size_t builtin;

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	strv_pushf(out, "cluster=%s", in->cl.name);
	strv_pushf(out, "instance=%s", in->name);
	strv_pushf(out, "version=%s", instance_env_version(in, env));
	strv_pushf(out, "port=%d", in->port);
	strv_pushf(out, "db_host=%s", db->name);
	strv_pushf(out, "db_port=%d", db->port);
	strv_pushf(out, "db_name=%s", dbname);
	strv_pushf(out, "db_user=%s", in->db_user);
	strv_pushf(out, "db_password=%s", in->db_password);
	strv_pushf(out, "secret_key_base=%s", in->secret_key_base);
	strv_pushf(out, "env=%s", env);
	strv_pushf(out, "hostname=%s", host);
	builtin = out->n;
	/* Settings: the instance's, the cluster's, the default; their
	 * ${...} are built-in variables. */
	for (size_t i = 0; i < t->nset && !err; i++) {
		const struct tpl_setting *st = &t->set[i];
		const char *v = lookup(&in->settings, st->name);
		char *x = NULL, *saved = out->v[builtin];

		if (!v)
			v = lookup(&in->cl.settings, st->name);
		if (!v)
			v = st->def;
		if (!v) {
			err = error_fmt("setting \"%s\" has no value for instance \"%s\" (%s)", st->name, in->name,
					st->help ? st->help : "see the template");
			break;
		}
		/* expand with the built-in variables only */
		out->v[builtin] = NULL;
		err = template_expand(v, out->v, &x);
		out->v[builtin] = saved;
		if (!err)
			strv_pushf(out, "%s=%s", st->name, x);
		else
			err = error_wrap(err, "setting \"%s\"", st->name);
		free(x);
	}
	free(dbname);
	return err;
}

const struct error *instance_app_env(const struct instance *in, const struct strv *vars, struct strv *out)
{
	const struct error *err = NULL;
	const struct template *t = &in->cl.tpl;
	struct strv need = STRV_INIT;

	for (size_t i = 0; i < t->env.n && !err; i++) {
		char *v = NULL;

		if (!(err = template_expand(t->env.v[i], vars->v, &v)))
			strv_push(out, v);
		free(v);
	}
	if (!err && t->require_env && !(err = strv_split(&need, t->require_env)))
		for (size_t i = 0; i < need.n && !err; i++) {
			const char *v = lookup(out, need.v[i]);

			if (!v || !*v)
				err = error_fmt("%s is empty, and the app needs it (template \"%s\"): give the setting it "
						"comes from in cluster.ini's [settings]",
						need.v[i], t->name);
		}
	strv_free(&need);
	return err;
}
