/* template: an app template (templates/NAME.ini): the app's image,
 * processes, environment, data path, setup/migrate commands and health
 * check, and the cluster's shared services.  The format is documented in
 * README.md. */
#ifndef KC_TEMPLATE_H
#define KC_TEMPLATE_H

#include "conf.h"
#include "err.h"
#include "strv.h"

enum ready_kind { READY_NONE, READY_MYSQL, READY_HTTP, READY_TCP, READY_EXEC };

struct tpl_service {
	const char *name;         /* points into conf */
	const char *image;
	const char *data;         /* container path bind-mounted from the cluster */
	const char *command;      /* NULL: the image's own */
	const char *password_env; /* mysql: env naming the root password file */
	enum ready_kind ready;
	const char *ready_arg;    /* http: path; exec: command line */
	int port;
	int timeout;              /* seconds to wait for readiness */
	int stop_timeout;         /* seconds between SIGTERM and SIGKILL */
	struct strv env;          /* "K=V" */
};

struct tpl_process {
	const char *name;
	const char *command;
	/* replicas = N: how many containers run it (NAME, NAME_2 .. NAME_N);
	 * not for web, which the proxy reaches at one fixed address */
	int replicas;
	/* scheduler = yes: one container runs it across both environments
	 * (runtime.h says how); replicas 1, not web */
	int scheduler;
	/* frontend = yes: the read-only frontend, a second web process at a
	 * fixed address of its own, its database user granted SELECT only;
	 * the proxy serves the public hostnames from it through a cache
	 * (proxy.h); at most one, replicas 1, not web or a scheduler */
	int frontend;
};

/* [setting.NAME]: a value the operator gives in cluster.ini's [settings]
 * (or an instance's instance.ini), used as ${NAME}; a secret one only in
 * secrets/NAME (mode 0600) or instance.ini. */
struct tpl_setting {
	const char *name;
	const char *def;          /* NULL: it must be given */
	const char *help;
	int secret;
};

/* [file.NAME]: a file an app container sees at path: made from content
 * (${...} expanded, per environment) or, from, the instance folder's file
 * of that name when it exists. */
struct tpl_file {
	const char *name, *path;
	char *content;            /* owned, escapes undone; or NULL */
	const char *from;
};

struct template {
	char *name;               /* owned */
	struct conf conf;         /* owns every string below */
	const char *description, *image, *default_version, *data, *setup, *migrate, *health;
	/* NULL: the image's entrypoint; "": none; else its words */
	const char *entrypoint;
	/* run after setup, after migrate, after an import (e.g. a reindex) */
	const char *post_setup, *post_migrate, *post_import;
	/* the versions it runs: from (or NULL) .. to (or NULL), and the template
	 * that runs the others (or NULL) */
	char *versions_from, *versions_to;
	const char *other_versions;
	/* environment variables the app needs non-empty (words) */
	const char *require_env;
	/* SERVICE and NAME pattern of a search index per environment, dropped
	 * with the environment's database; NULL if none */
	char *index_service, *index_name;
	/* where "build" gets the app's source when none is given (${version}) */
	const char *source;
	struct tpl_setting *set;
	size_t nset;
	struct tpl_file *file;
	size_t nfile;
	const char *proxy_image;  /* the cluster's front proxy (nginx) */
	int health_timeout;       /* seconds an instance may take to get healthy */
	/* a command the engine runs in each web container every health_interval
	 * seconds (its HEALTHCHECK; exit 0: healthy), or NULL: status probes */
	const char *healthcheck;
	int health_interval;
	int port;
	struct tpl_service *svc;
	size_t nsvc;
	struct tpl_process *proc;
	size_t nproc;
	struct strv env;          /* "K=V", unexpanded */
};

/* Find templates/NAME.ini: $KORCLUSTER_TEMPLATES (folders separated by ':'),
 * then templates/ beside the binary, then the installed data folder.
 * *path is owned by the caller. */
const struct error *template_find(const char *name, char **path);
/* Load and validate; problems go to d (the template is unusable if any);
 * an error when it cannot be found or read. */
const struct error *template_load(struct template *t, const char *name, struct diag *d);
const struct error *template_load_file(struct template *t, const char *name, const char *path, struct diag *d);
const struct tpl_service *template_service(const struct template *t, const char *name);
/* The read-only frontend process, or NULL. */
const struct tpl_process *template_frontend(const struct template *t);
/* The mysql-kind service instances use (the first one). */
const struct tpl_service *template_db(const struct template *t);
void template_free(struct template *t);

/* The setting called name, or NULL. */
const struct tpl_setting *template_setting(const struct template *t, const char *name);
/* Whether version is one the template runs; the error says which do. */
const struct error *template_version_check(const struct template *t, const char *version);
/* Compare versions as numbers part by part ("v5.10" > "v5.9"); a leading
 * "v" does not count.  upto: compare only as many parts as b has (b = "v3"
 * takes in v3.0.5). */
int template_version_cmp(const char *a, const char *b, int upto);

/* Replace ${var} in s by vars ("name=value" pairs, NULL-terminated).  An
 * unknown variable is an error.  *out is owned by the caller; it is left
 * as it was on failure. */
const struct error *template_expand(const char *s, char *const *vars, char **out);
/* Names a template may use in ${...}, besides its settings. */
extern const char *const template_vars[];

#endif
