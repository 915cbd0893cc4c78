/* engine: a client of the Docker Engine API over its unix socket.
 *
 * The socket comes from DOCKER_HOST (unix://PATH) or /var/run/docker.sock.
 * engine_open() asks /_ping for the engine's API version and speaks
 * min(engine's, ENGINE_API_MAX), refusing engines older than ENGINE_API_MIN.
 * Every call that fails returns the engine's own message. */
#ifndef KC_ENGINE_H
#define KC_ENGINE_H

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "http.h"

#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.47"

struct engine;

const struct error *engine_open(struct engine **e);
/* e may be NULL. */
void engine_close(struct engine *e);
const char *engine_api(const struct engine *e);

/* Choose the API version to speak given the engine's; pure. */
const struct error *engine_api_pick(const char *server, char *out, size_t outlen);

/* A path of the API from fmt ("%s" and "%d" only): each "%s" argument is
 * escaped as one URL segment, so that no name can add "/" or ".." to the
 * path.  Caller frees. */
char *engine_path(struct engine *e, const char *fmt, ...);
/* One request to /vAPI/path.  body is borrowed.  On 2xx, *out (if not NULL)
 * gets the parsed JSON reply or NULL for an empty one; *status (if not
 * NULL) the HTTP status.  Fails when there was no answer, or on a status
 * of 400 or above (or a redirect) other than tolerate (0: none). */
const struct error *engine_call(struct engine *e, const char *method, const char *path, json_t *body, json_t **out,
				long tolerate, long *status);

/* The engine's description of an image (*out NULL if it is not here). */
const struct error *engine_image_inspect(struct engine *e, const char *ref, json_t **out);
/* *present: 1 if the image is here. */
const struct error *engine_image_present(struct engine *e, const char *ref, int *present);
/* Pull ref; on_event sees every progress object the engine sends.  A pull
 * that fails inside its 200 stream fails here.  auth: an X-Registry-Auth
 * header line (regauth.h), or NULL. */
const struct error *engine_image_pull(struct engine *e, const char *ref, const char *auth,
				      void (*on_event)(void *ctx, json_t *event), void *ctx);

/* An image build (POST /build) from a tar streamed by source, or from
 * remote (a Git URL or tarball URL the engine fetches itself). */
struct engine_build_req {
	const char *tag;
	const char *remote;       /* or NULL */
	http_source source;       /* the context, when no remote */
	void *source_ctx;
	const char *auth;         /* an X-Registry-Config header line, or NULL */
};

/* on_event sees every object of the build's output ({"stream": ...},
 * {"aux": ...}); a build that fails inside its 200 stream fails here. */
const struct error *engine_build(struct engine *e, const struct engine_build_req *b,
				 void (*on_event)(void *ctx, json_t *ev), void *ctx);

/* Create the network unless it exists, on a subnet the engine picks and
 * that is then pinned, its lower half for the engine's own addresses and
 * the upper half for fixed ones (see ipnet.h).  subnet gets the CIDR.
 * labels borrowed. */
const struct error *engine_network_ensure(struct engine *e, const char *name, json_t *labels, char *subnet, size_t n);
const struct error *engine_network_remove(struct engine *e, const char *name);
/* The network's IPv4 subnet; *found is 0 when there is no such network. */
const struct error *engine_network_subnet(struct engine *e, const char *name, char *subnet, size_t n, int *found);

/* config is borrowed. */
const struct error *engine_container_create(struct engine *e, const char *name, json_t *config);
const struct error *engine_container_start(struct engine *e, const char *id);
/* timeout < 0: the container's own StopTimeout.  Absent is done. */
const struct error *engine_container_stop(struct engine *e, const char *id, int timeout);
/* Absent is done. */
const struct error *engine_container_remove(struct engine *e, const char *id);
const struct error *engine_container_rename(struct engine *e, const char *id, const char *name);
/* Wait for the container to exit; *status gets its exit code. */
const struct error *engine_container_wait(struct engine *e, const char *id, int *status);
/* *out is NULL when there is no such container. */
const struct error *engine_container_inspect(struct engine *e, const char *id, json_t **out);
/* All containers (running or not) carrying label "key=value". */
const struct error *engine_container_list(struct engine *e, const char *label, json_t **out);
/* The processes of a running container (GET /containers/ID/top). */
const struct error *engine_container_top(struct engine *e, const char *id, json_t **out);
const struct error *engine_container_resize(struct engine *e, const char *id, int rows, int cols);

/* Run argv in a running container; output (stdout and stderr, demuxed) is
 * appended to out if not NULL.  timeout_ms: 0 for none. */
const struct error *engine_exec(struct engine *e, const char *id, char *const *argv, int *exit_code, struct buf *out,
				long timeout_ms);
/* The same as user (NULL: the container's), its output as it comes to fn
 * (stdout and stderr frames, demuxed). */
const struct error *engine_exec_stream(struct engine *e, const char *id, char *const *argv, const char *user,
				       frame_fn fn, void *ctx, int *exit_code, long timeout_ms);
/* Stream a container's logs through fn. tail < 0: all. */
const struct error *engine_logs(struct engine *e, const char *id, int follow, int tail, frame_fn fn, void *ctx);

/* Attach to a created container with a TTY over a hijacked connection
 * (HTTP upgrade), call started() (which starts it), then relay in_fd to
 * its input and its output to out (as FRAME_STDOUT) until it ends. */
const struct error *engine_attach_tty(struct engine *e, const char *id, const struct error *(*started)(void *ctx),
				      void *ctx, int in_fd, frame_fn out, void *out_ctx);

/* A HostConfig.Mounts entry binding the host's src to dst.  Unlike Binds,
 * a missing source fails the start instead of becoming an empty folder
 * (a moved cluster must not boot on empty databases). */
json_t *engine_mount(const char *src, const char *dst, int readonly);

/* Add to a container config the label korcluster.config: a hash of the
 * rest of it, so that a changed configuration can be told from the old. */
const struct error *engine_config_label(json_t *config);

/* The IP address of a container on a network, from an inspect reply. */
const char *engine_container_ip(json_t *inspect, const char *network);
/* Whether an inspect reply says the container is running. */
int engine_running(json_t *inspect);
/* The engine's health verdict on a container of a listing (GET
 * /containers/json) that has a HEALTHCHECK: "healthy" or "unhealthy"; NULL
 * when it has none or the check is still starting. */
const char *engine_listed_health(const json_t *summary);

#endif
