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
};

struct template {
	char *name;               /* owned */
	struct conf conf;         /* owns every string below */
	const char *description, *image, *default_version, *data, *setup, *migrate, *health;
	const char *proxy_image;  /* the cluster's front proxy (nginx) */
	int health_timeout;       /* seconds an instance may take to get healthy */
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
/* The mysql-kind service instances use (the first one). */
const struct tpl_service *template_db(const struct template *t);
void template_free(struct template *t);

/* Replace ${var} in s by vars ("name=value" pairs, NULL-terminated).  An
 * unknown variable is an error.  *out is owned by the caller; it is left
 * as it was on failure. */
const struct error *template_expand(const char *s, char *const *vars, char **out);
/* Names a template may use in ${...}. */
extern const char *const template_vars[];

#endif
