/* instcfg: an instance's folder and its instance.ini.
 *
 *   CLUSTER/instances/NAME/instance.ini   mode 0600 (holds the secrets)
 *   CLUSTER/instances/NAME/instance.sh    link to the korcluster binary
 *   CLUSTER/instances/NAME/data/ENV/      the app's files of environment ENV
 *                                         (blue, green), mounted at the
 *                                         template's data path
 *   CLUSTER/instances/NAME/log/
 *
 * instance.ini:
 *   [instance] name, version (the active environment's), port, slot (its
 *              fixed-address index), env (the active environment: blue or
 *              green), description (optional: what it is for),
 *              archived (when it was archived: instarchive.h)
 *   [env.blue], [env.green]  version, created: what each environment holds
 *              (the inactive one: the state before the last switch); absent
 *              for an environment never filled
 *   [secrets]  db_password, secret_key_base (made once by "new", kept)
 *   [settings] NAME = VALUE: the template's settings for this instance,
 *              over cluster.ini's (secret ones too: the file is 0600)
 * Instances adopted from KorCluster, or taken from the pool (pool.h), keep
 * their database and user:
 *   [instance] db_user (default NAME); [env.ENV] database (default NAME_ENV)
 */
#ifndef KC_INSTCFG_H
#define KC_INSTCFG_H

#include "clustercfg.h"
#include "conf.h"
#include "strv.h"

struct instance {
	char *root;            /* owned, absolute */
	struct cluster cl;     /* the cluster it belongs to */
	struct conf conf;      /* owns the strings below */
	const char *name, *version, *env, *db_password, *secret_key_base;
	const char *description; /* [instance] description, or NULL */
	const char *archived;    /* [instance] archived: when (instarchive.h), or NULL */
	const char *db_user;   /* [instance] db_user, or the name */
	int port, slot;
	int pooled;            /* in the cluster's pool/ (pool.h): port 0 */
	/* [env.ENV] database, or NULL: NAME_ENV */
	const char *env_database[2];
	/* "NAME=VALUE" of [settings] */
	struct strv settings;
	/* Per environment (ENV_BLUE, ENV_GREEN): its app version and when it
	 * was filled (ISO 8601 UTC), NULL if unknown.  Point into conf, or at
	 * strings the caller keeps while it uses in. */
	const char *env_version[2], *env_created[2];
};

enum { ENV_BLUE, ENV_GREEN };
/* ENV_BLUE or ENV_GREEN for "blue" or "green". */
int instance_env_index(const char *env);

/* Load root/instance.ini and its cluster (root/../..); problems go to d. */
const struct error *instance_load(struct instance *in, const char *root, struct diag *d);
/* Load and refuse with every problem listed (reported); in is freed then.
 * An instance made before environments gets its files moved (once). */
const struct error *instance_open(struct instance *in, const char *root);
void instance_free(struct instance *in);

/* Text of a new instance's instance.ini (env blue holding version, made
 * now); caller frees. */
char *instance_ini_text(const char *name, const char *version, int port, int slot, const char *db_password,
			const char *secret_key_base, const char *description);
const struct error *instance_check_version(const char *v);
/* A time as instance.ini keeps it (instance_now()), or "unknown". */
const struct error *instance_check_time(const char *v);

/* Names of things an environment owns (caller frees). */
char *instance_container(const struct instance *in, const char *env, const char *process);
/* The database of a new instance's environment: NAME_ENV. */
char *instance_db_name(const char *name, const char *env);
/* The database of in's environment env. */
char *instance_database(const struct instance *in, const char *env);
char *instance_data_dir(const struct instance *in, const char *env);
/* The environment that is not env. */
const char *instance_other_env(const char *env);
/* The app version environment env runs: its own, else the instance's. */
const char *instance_env_version(const struct instance *in, const char *env);
/* Rewrite instance.ini (atomically) from in's fields, with env active, then
 * load it again into in.  Takes in->env_version[] and env_created[] as
 * they are; the instance's version becomes env's. */
const struct error *instance_save(struct instance *in, const char *env);
/* Write in's fields, with env active, to path (atomically, mode 0600);
 * in is left as it is. */
const struct error *instance_write(const struct instance *in, const char *env, const char *path);
/* The current time as instance.ini keeps it; caller frees. */
char *instance_now(void);
/* The environment's fixed address on the cluster network. */
const struct error *instance_address(const struct instance *in, const char *subnet, const char *env, char *out,
				     size_t n);
/* The read-only frontend's (template.h) fixed address of env. */
const struct error *instance_front_address(const struct instance *in, const char *subnet, const char *env, char *out,
					   size_t n);
/* The frontend's database user: DB_USER_ro, granted SELECT only (caller
 * frees); its password, derived from the secret_key_base (sha256 of it
 * with a purpose of its own): nothing more to keep, and it cannot lead
 * back to the secret. */
char *instance_ro_user(const struct instance *in);
void instance_ro_password(const struct instance *in, char out[33]);
/* vars (instance_vars()) as the frontend gets them: db_user and
 * db_password are the read-only user's. */
void instance_vars_readonly(const struct instance *in, struct strv *vars);
/* The variables templates expand for env ("name=value"): the built-in ones
 * (template.h) and every setting. */
const struct error *instance_vars(const struct instance *in, const char *env, struct strv *out);
/* The app's environment ("K=V"): the template's [env] expanded with vars
 * (instance_vars() of the environment); fails if one the template requires
 * is empty. */
const struct error *instance_app_env(const struct instance *in, const struct strv *vars, struct strv *out);

#endif
