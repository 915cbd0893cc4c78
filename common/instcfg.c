#include "instcfg.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "fs.h"
#include "ipnet.h"
#include "name.h"

int instance_check_version(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
	    v[0] == '.' || v[0] == '-')
		return err_set("version \"%s\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,63}", v);
	return 0;
}

int instance_check_time(const char *v)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strcmp(v, "unknown") == 0)
		return 0;
	for (size_t i = 0; i < sizeof form - 1; i++)
		if (form[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != form[i])
			return err_set("time \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
	if (v[sizeof form - 1])
		return err_set("time \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ", v);
	return 0;
}

static int check_env(const char *v)
{
	if (strcmp(v, "blue") && strcmp(v, "green"))
		return err_set("environment \"%s\" is neither blue nor green", v);
	return 0;
}

static int check_secret(const char *v)
{
	size_t n = strlen(v);

	if (n < 16 || strspn(v, NAME_ALNUM) != n)
		return err_set("a secret must be 16 or more letters and digits");
	return 0;
}

static const char *field(struct instance *in, struct diag *d, const char *sec, const char *key,
			 int (*check)(const char *))
{
	struct conf_entry *e = conf_get(&in->conf, sec, key);

	if (!e) {
		diag_add(d, in->conf.path, conf_section_line(&in->conf, sec), "[%s] needs a value for \"%s\"", sec, key);
		return NULL;
	}
	if (check && check(e->value) < 0) {
		diag_add(d, in->conf.path, e->line, "%s", err_msg());
		return NULL;
	}
	return e->value;
}

int instance_load(struct instance *in, const char *root, struct diag *d)
{
	char *ini = NULL, *croot = NULL, *slash;
	const char *v;
	int rc = -1;

	memset(in, 0, sizeof *in);
	if (!(in->root = fs_absolute(root)) || asprintf(&ini, "%s/instance.ini", in->root) < 0)
		goto out;
	/* The cluster is two folders up: CLUSTER/instances/NAME. */
	if (!(croot = strdup(in->root)))
		goto out;
	slash = strrchr(croot, '/');
	*slash = '\0';
	if (!(slash = strrchr(croot, '/')) || strcmp(slash, "/instances") != 0) {
		err_set("instance \"%s\" is not in a cluster's instances/ folder", in->root);
		goto out;
	}
	*slash = '\0';
	if (cluster_load(&in->cl, croot[0] ? croot : "/", d) < 0 || conf_load(&in->conf, ini, d) < 0)
		goto out;
	in->name = field(in, d, "instance", "name", name_check_instance);
	if (in->name && strcmp(in->name, strrchr(in->root, '/') + 1) != 0)
		diag_add(d, ini, conf_get(&in->conf, "instance", "name")->line,
			 "name \"%s\" differs from the folder's name", in->name);
	in->version = field(in, d, "instance", "version", instance_check_version);
	in->env = field(in, d, "instance", "env", check_env);
	if ((v = field(in, d, "instance", "port", NULL)) && name_check_port(v, &in->port) < 0)
		diag_add(d, ini, conf_get(&in->conf, "instance", "port")->line, "%s", err_msg());
	if ((v = field(in, d, "instance", "slot", NULL))) {
		char *end;
		long s = strtol(v, &end, 10);

		if (*end || !*v || s < 0 || s > 100000)
			diag_add(d, ini, conf_get(&in->conf, "instance", "slot")->line, "slot must be a number from 0");
		in->slot = (int)s;
	}
	in->db_password = field(in, d, "secrets", "db_password", check_secret);
	in->secret_key_base = field(in, d, "secrets", "secret_key_base", check_secret);
	for (int i = 0; i < 2; i++) {
		const char *sec = i == ENV_BLUE ? "env.blue" : "env.green";

		if (conf_section_line(&in->conf, sec) <= 0)
			continue;
		in->env_version[i] = field(in, d, sec, "version", instance_check_version);
		if ((v = field(in, d, sec, "created", instance_check_time)))
			in->env_created[i] = v;
	}
	for (size_t i = 0; i < in->conf.ns; i++)
		if (strcmp(in->conf.s[i].name, "instance") && strcmp(in->conf.s[i].name, "secrets") &&
		    strcmp(in->conf.s[i].name, "env.blue") && strcmp(in->conf.s[i].name, "env.green"))
			diag_add(d, ini, in->conf.s[i].line, "unknown section [%s]", in->conf.s[i].name);
	/* The active environment runs the instance's version. */
	if (in->env && in->version && in->env_version[instance_env_index(in->env)] &&
	    strcmp(in->env_version[instance_env_index(in->env)], in->version) != 0)
		diag_add(d, ini, conf_section_line(&in->conf, strcmp(in->env, "blue") == 0 ? "env.blue" : "env.green"),
			 "the active environment %s holds version %s, [instance] says %s", in->env,
			 in->env_version[instance_env_index(in->env)], in->version);
	conf_unknown(&in->conf, d);
	rc = 0;
out:
	free(ini);
	free(croot);
	return rc;
}

/* Instances made before environments had their files right in data/: they
 * move, whole, to data/ENV of the active environment.  Each step can be
 * repeated after a crash (data.moving is the old data/ on its way). */
static int move_to_env_layout(struct instance *in)
{
	char *data = fs_pathf("%s/data", in->root), *moving = fs_pathf("%s/data.moving", in->root);
	char *blue = fs_pathf("%s/data/blue", in->root), *green = fs_pathf("%s/data/green", in->root);
	char *dest = fs_pathf("%s/data/%s", in->root, in->env);
	int rc = -1;

	if (!data || !moving || !blue || !green || !dest)
		goto out;
	if (!fs_exists(moving)) {
		if (!fs_nonempty_dir(data) || fs_exists(blue) || fs_exists(green)) {
			rc = 0;
			goto out;
		}
		if (rename(data, moving) < 0 && errno != ENOENT) {
			err_errno("moving \"%s\"", data);
			goto out;
		}
	}
	if ((mkdir(data, 0755) < 0 && errno != EEXIST) || (rename(moving, dest) < 0 && errno != ENOENT)) {
		err_errno("moving the files of instance \"%s\" to \"%s\"", in->name, dest);
		goto out;
	}
	printf("korcluster: instance \"%s\": its files moved to %s (one folder per environment)\n", in->name, dest);
	rc = 0;
out:
	free(data);
	free(moving);
	free(blue);
	free(green);
	free(dest);
	return rc;
}

int instance_open(struct instance *in, const char *root)
{
	struct diag d = DIAG_INIT;
	int rc;

	rc = instance_load(in, root, &d);
	if (rc == 0)
		rc = diag_report(&d, "checking the instance's configuration");
	diag_free(&d);
	if (rc == 0)
		rc = move_to_env_layout(in);
	if (rc < 0)
		instance_free(in);
	return rc;
}

void instance_free(struct instance *in)
{
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
	return strdup(ts);
}

static char *ini_text(const char *name, const char *version, int port, int slot, const char *env,
		      const char *const ver[2], const char *const created[2], const char *db_password,
		      const char *secret_key_base)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "; korcluster instance configuration (mode 0600: it holds secrets)\n"
		       "[instance]\nname = %s\nversion = %s\nport = %d\n"
		       "; index of the instance's fixed addresses on the cluster network\nslot = %d\n"
		       "; the active environment\nenv = %s\n",
		   name, version, port, slot, env);
	for (int i = 0; i < 2; i++)
		if (ver[i])
			buf_printf(&b, "\n[env.%s]\nversion = %s\ncreated = %s\n", i == ENV_BLUE ? "blue" : "green", ver[i],
				   created[i] ? created[i] : "unknown");
	buf_printf(&b, "\n[secrets]\ndb_password = %s\nsecret_key_base = %s\n", db_password, secret_key_base);
	return b.data;
}

char *instance_ini_text(const char *name, const char *version, int port, int slot, const char *db_password,
			const char *secret_key_base)
{
	char *now = instance_now(), *text;
	const char *ver[2] = {version, NULL}, *created[2] = {now, NULL};

	text = now ? ini_text(name, version, port, slot, "blue", ver, created, db_password, secret_key_base) : NULL;
	free(now);
	return text;
}

char *instance_container(const struct instance *in, const char *env, const char *process)
{
	char *s;

	return asprintf(&s, "%s_%s_%s_%s", in->cl.name, in->name, env, process) < 0 ? NULL : s;
}

char *instance_db_name(const char *name, const char *env)
{
	char *s;

	return asprintf(&s, "%s_%s", name, env) < 0 ? NULL : s;
}

char *instance_data_dir(const struct instance *in, const char *env)
{
	return fs_pathf("%s/data/%s", in->root, env);
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

int instance_save(struct instance *in, const char *env)
{
	char *root = strdup(in->root), *path = fs_pathf("%s/instance.ini", in->root), *text = NULL;
	const char *version = instance_env_version(in, env);
	int rc = -1;

	if (!root || !path)
		goto out;
	if (check_env(env) < 0 || !(text = ini_text(in->name, version, in->port, in->slot, env, in->env_version,
						    in->env_created, in->db_password, in->secret_key_base)))
		goto out;
	if (fs_write_atomic(path, text, strlen(text), 0600) < 0)
		goto out;
	instance_free(in);
	rc = instance_open(in, root);
out:
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	free(root);
	free(path);
	return rc;
}

int instance_address(const struct instance *in, const char *subnet, const char *env, char *out, size_t n)
{
	return ipnet_fixed(subnet, (unsigned)in->slot * 2 + (strcmp(env, "green") == 0), out, n);
}

int instance_app_env(const struct instance *in, const char *env, struct strv *out)
{
	const struct template *t = &in->cl.tpl;
	const struct tpl_service *db = template_db(t);
	struct strv vars = STRV_INIT;
	char *dbname = instance_db_name(in->name, env);
	int rc = -1;

	if (!dbname || !db)
		goto out;
	strv_pushf(&vars, "cluster=%s", in->cl.name);
	strv_pushf(&vars, "instance=%s", in->name);
	strv_pushf(&vars, "version=%s", in->version);
	strv_pushf(&vars, "port=%d", in->port);
	strv_pushf(&vars, "db_host=%s", db->name);
	strv_pushf(&vars, "db_port=%d", db->port);
	strv_pushf(&vars, "db_name=%s", dbname);
	strv_pushf(&vars, "db_user=%s", in->name);
	strv_pushf(&vars, "db_password=%s", in->db_password);
	strv_pushf(&vars, "secret_key_base=%s", in->secret_key_base);
	for (size_t i = 0; i < t->env.n; i++) {
		char *v;

		if (template_expand(t->env.v[i], vars.v, &v) < 0)
			goto out;
		strv_push(out, v);
		free(v);
	}
	rc = 0;
out:
	strv_free(&vars);
	free(dbname);
	return rc;
}
