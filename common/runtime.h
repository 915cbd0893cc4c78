/* runtime: an instance's containers on the engine.
 *
 * An environment (blue or green) of an instance is one container per
 * template process, NAME_INSTANCE_ENV_PROCESS, on the cluster network; the
 * web container has the environment's fixed address.  All carry the labels
 * korcluster.cluster, korcluster.instance, korcluster.role (the process)
 * and korcluster.env. */
#ifndef KC_RUNTIME_H
#define KC_RUNTIME_H

#include "db.h"
#include "engine.h"
#include "frame.h"
#include "instcfg.h"


/* Pull ref unless present, with progress on a terminal. */
int runtime_pull(struct engine *e, const char *ref);
/* Make the container name run cfg (a cluster's service or its proxy):
 * create it, start it if stopped, or replace it if its configuration
 * changed (label korcluster.config).  Refuses a container of another
 * cluster.  *changed says whether anything was done. */
int runtime_ensure(struct engine *e, struct cluster *cl, const char *name, json_t *cfg, int *changed);
/* The app's image for the version env runs; caller frees. */
char *runtime_image(const struct instance *in, const char *env);
/* Where the cluster's MySQL service answers, and its root password. */
int runtime_db_server(struct engine *e, struct cluster *cl, struct db_server *out);
/* The folder on this host holding database dbname's files (the service's
 * data is bind-mounted), or NULL when it is not. */
char *runtime_db_dir(const struct cluster *cl, const char *dbname);
/* An instance made before database names were escaped in grants, whose
 * name holds "_", had a grant matching other instances' databases: it is
 * narrowed to its own (db_instance_fix_grants()). */
int runtime_fix_grants(struct engine *e, struct instance *in, int *fixed);
/* Log in to the cluster's MySQL service as root. */
int runtime_db_connect(struct engine *e, struct cluster *cl, struct db **db);
/* Dump database dbname (mysqldump text, one consistent transaction) from
 * the cluster's MySQL service: mariadb-dump or mysqldump of the service's
 * image, in a container on the cluster network; ready(ctx) (may be NULL)
 * is called just before it starts, then the text goes to fn as it comes. */
int runtime_dump(struct engine *e, struct cluster *cl, const char *dbname, int (*ready)(void *ctx), frame_fn fn,
		 void *ctx);
/* The cluster network's subnet, or an error if the cluster is not booted. */
int runtime_subnet(struct engine *e, struct cluster *cl, char *out, size_t n);
/* A terminal for an interactive one-off run. */
struct runtime_tty {
	int in_fd, out_fd;
	int rows, cols;
};

/* Run argv once in a new container with the instance's environment and
 * files; output goes to fn as it comes, or, with tty, the container gets a
 * TTY wired to tty's descriptors.  *code gets the exit status. */
int runtime_oneoff(struct engine *e, struct instance *in, const char *env, char *const *argv,
		   frame_fn fn, void *ctx, int *code, const struct runtime_tty *tty);
/* Run the template's command (setup, migrate: what) once in env, its
 * output kept in log/WHAT.log; when it fails, the output goes to stderr and
 * the error says so, followed by after. */
int runtime_task(struct engine *e, struct instance *in, const char *env, const char *what, const char *command,
		 const char *after);
/* Create and start every process of env (web with its fixed address). */
int runtime_start(struct engine *e, struct instance *in, const char *env, const char *subnet);
/* Start env's processes that are not running (after a partial stop). */
int runtime_resume(struct engine *e, struct instance *in, const char *env);
/* Stop and remove one process's container of env, if there is one. */
int runtime_stop_process(struct engine *e, struct instance *in, const char *env, const char *process);
/* Wait until env's web answers its health check. */
int runtime_wait_healthy(struct instance *in, const char *address, int timeout, double *took);
/* Stop and remove env's containers (env NULL: all of the instance's). */
int runtime_stop(struct engine *e, struct instance *in, const char *env);
/* A frame_fn writing stdout frames to stdout and stderr ones to stderr. */
int runtime_print_frame(void *ctx, int stream, const char *data, size_t len);
/* Start env (with the version it runs), wait until it is healthy (*took
 * seconds), then route the port to it and wait until the proxy serves it.
 * On a health timeout env's last output is shown and its containers are
 * removed. */
int runtime_promote(struct engine *e, struct instance *in, const char *env, double *took);
/* Start the active environment, wait until healthy, then route the port
 * to it through the proxy.  On a health timeout the web container's last
 * output is shown and the environment removed. */
int runtime_serve(struct engine *e, struct instance *in);
/* Route the instance's port to env's web container; readonly: writes
 * (non-GET) get 503 with Retry-After, and on return none is under way. */
int runtime_route(struct engine *e, struct instance *in, const char *env, int readonly);
/* Stop routing the port, then stop and remove every container. */
int runtime_unserve(struct engine *e, struct instance *in);
/* Whether the proxy routes the instance (it was started and not stopped). */
int runtime_served(const struct instance *in);
/* {name, version, port, env, state, health, url, containers: [{name, role,
 * env, state}]}; one engine call plus one GET of the health path. */
json_t *runtime_status(struct engine *e, struct instance *in);
/* The instance's containers as the engine lists them. */
int runtime_containers(struct engine *e, const struct instance *in, json_t **out);

#endif
