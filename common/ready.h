/* ready: is a shared service ready to serve?  By the template's check: a
 * real MySQL login, an HTTP GET, a TCP connect or a command run inside. */
#ifndef KC_READY_H
#define KC_READY_H

#include <stddef.h>

#include "engine.h"
#include "err.h"
#include "template.h"

struct ready_target {
	const struct tpl_service *svc;
	const char *container;
	const char *ip;        /* on the cluster network */
	const char *password;  /* mysql root password, or NULL */
	int quick;             /* a command check: a TCP connect to the port
				* instead, when there is one (no exec) */
};

/* One look: *ok 1 when ready, else why says what was seen.  An error is a
 * failure of korcluster itself. */
const struct error *ready_probe(struct engine *e, const struct ready_target *t, int *ok, char *why, size_t whylen);
/* Look until ready or timeout seconds pass (*took: how long).  Fails with
 * what the last look saw, or at once with the service's last output when
 * it crashes instead. */
const struct error *ready_wait(struct engine *e, const struct ready_target *t, int timeout, double *took);

#endif
