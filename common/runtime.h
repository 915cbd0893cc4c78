/* runtime: an instance's containers on the engine, and its port on the
 * front proxy.
 *
 * An environment (blue or green) of an instance is one container per
 * template process, NAME_INSTANCE_ENV_PROCESS (a process with replicas = N
 * has N: _2 to _N after the first), on the cluster network; the web
 * container has the environment's fixed address.  A scheduler process
 * (scheduler = yes) runs in one environment at a time: before one
 * environment's starts (or its gate opens), the other's is stopped; a
 * failed switch starts the old one's again (runtime_resume()).  All carry the labels
 * korcluster.cluster, korcluster.instance, korcluster.role (the process)
 * and korcluster.env.  The instance is served when the proxy routes its
 * port (proxy/conf.d/INSTANCE.conf exists). */
#ifndef KC_RUNTIME_H
#define KC_RUNTIME_H

#include <jansson.h>

#include "engine.h"
#include "err.h"
#include "frame.h"
#include "instcfg.h"

/* The app's image for the version env runs; *out is the caller's. */
const struct error *runtime_image(const struct instance *in, const char *env, char **out);
/* The cluster network's subnet, or an error if the cluster is not booted. */
const struct error *runtime_subnet(struct engine *e, const struct cluster *cl, char *out, size_t n);

/* A terminal for an interactive one-off run. */
struct runtime_tty {
	int in_fd;
	int rows, cols;
};

/* Run argv once in a new container with the instance's environment and
 * files; output goes to fn as it comes (with a TTY: the container gets
 * tty's input and its output goes to fn as FRAME_STDOUT).  *code gets the
 * exit status. */
const struct error *runtime_oneoff(struct engine *e, struct instance *in, const char *env, char *const *argv,
				   frame_fn fn, void *ctx, int *code, const struct runtime_tty *tty);
/* Run the template's command (setup, migrate: what) once in env, its
 * output kept in log/WHAT.log; when it fails, the output is shown and the
 * error says so, followed by after. */
const struct error *runtime_task(struct engine *e, struct instance *in, const char *env, const char *what,
				 const char *command, const char *after);
/* Create and start every process of env (web with its fixed address).  A
 * container runtime_prepare() started, of the same configuration, only
 * has its gate opened. */
const struct error *runtime_start(struct engine *e, struct instance *in, const char *env, const char *subnet);
/* Create env's containers (any there were go) and start them with env's
 * gate shut: each waits before it runs the app, so that the start that
 * follows (runtime_promote()) only opens the gate.  Every container of a
 * process waits there while the gate is shut, also after the engine
 * restarts it; only this shuts it. */
const struct error *runtime_prepare(struct engine *e, struct instance *in, const char *env);
/* Start env's processes that are not running (after a partial stop). */
const struct error *runtime_resume(struct engine *e, struct instance *in, const char *env);
/* The scheduler's container of env, if the template has one and it does
 * not run (a failed switch stopped it); nothing else is touched: after a
 * failure the engine may be restarting, its containers not running yet. */
const struct error *runtime_resume_scheduler(struct engine *e, struct instance *in, const char *env);
/* Stop and remove one process's containers of env (every replica). */
const struct error *runtime_stop_process(struct engine *e, struct instance *in, const char *env, const char *process);
/* Stop and remove env's containers (env NULL: all of the instance's). */
const struct error *runtime_stop(struct engine *e, struct instance *in, const char *env);
/* If env's gate is shut (only runtime_prepare() shuts it, and the start
 * that follows opens it), what waits there was started by a command that
 * is gone: stop and remove env's containers, open the gate, *did = 1. */
const struct error *runtime_clear_waiting(struct engine *e, struct instance *in, const char *env, int *did);
/* Wait until the web at address answers its health check (*took s). */
const struct error *runtime_wait_healthy(const struct instance *in, const char *address, int timeout, double *took);
/* How long each step of runtime_promote() took, in seconds. */
struct runtime_times {
	double start;   /* the containers created and started */
	double healthy; /* then until the app answered healthy */
	double route;   /* then until the proxy served it */
};

/* Start env (with the version it runs), wait until it is healthy, then
 * route the port to it and wait until the proxy serves it; t (or NULL)
 * gets the time of each step.  On a health timeout env's last output is
 * shown and its containers are removed. */
const struct error *runtime_promote(struct engine *e, struct instance *in, const char *env, struct runtime_times *t);
/* Promote the active environment: start, health, route. */
const struct error *runtime_serve(struct engine *e, struct instance *in);
/* runtime_route() flags. */
enum {
	/* writes (non-GET) get 503 with Retry-After, and on return none is
	 * under way (a reload, its old workers waited for) */
	ROUTE_READONLY = 1,
	/* only let writes through again: the configuration in force stays
	 * (no reload, no check of the proxy container) */
	ROUTE_AGAIN = 2,
};
/* Route the instance's port to env's web container, as flags say. */
const struct error *runtime_route(struct engine *e, struct instance *in, const char *env, int flags);
/* Stop routing the port, then stop and remove every container. */
const struct error *runtime_unserve(struct engine *e, struct instance *in);
/* Whether the proxy routes the instance (it was started and not stopped). */
int runtime_served(const struct instance *in);
/* Lock the instance (on: writes answered 423, reads served, until
 * unlocked; kept across restarts, upgrades and reboots) or unlock it. */
const struct error *runtime_lock(struct engine *e, struct instance *in, int on);
/* {name, version, port, env, state, health, url, served, locked, description
 * (when there is one), ok, problem (when not ok), containers: [{name, role,
 * env, state}]}; one engine call plus,
 * unless the engine keeps the web's health (the template's healthcheck),
 * one GET of the health path; live: that GET in any case.  ok: stopped on
 * purpose, or served, running and healthy. */
const struct error *runtime_status(struct engine *e, struct instance *in, int live, json_t **out);
/* runtime_status() of in[0..n), all of one cluster, into out[0..n) (each
 * the caller's): from listed (the cluster's containers, as
 * container_list_cluster() gives them; NULL: listed now), with the GETs
 * made all at once. */
const struct error *runtime_status_many(struct engine *e, struct instance *in, size_t n, json_t *listed, int live,
				       json_t **out);
/* The instance's containers as the engine lists them. */
const struct error *runtime_containers(struct engine *e, const struct instance *in, json_t **out);
/* A frame_fn passing a container's output on, through report_output(). */
const struct error *runtime_print_frame(void *ctx, int stream, const char *data, size_t len);

#endif
