/* ready: is a shared service ready to serve?  By the template's check: a
 * real MySQL login, an HTTP GET, a TCP connect or a command run inside. */
#ifndef KC_READY_H
#define KC_READY_H

#include <stddef.h>

#include "engine.h"
#include "template.h"

struct ready_target {
	const struct tpl_service *svc;
	const char *container;
	const char *ip;        /* on the cluster network */
	const char *password;  /* mysql root password, or NULL */
};

/* One probe: 1 ready, 0 not (why says what was seen), -1 failure of korcluster itself. */
int ready_probe(struct engine *e, const struct ready_target *t, char *why, size_t whylen);
/* Probe until ready or timeout seconds pass.  Fails with what the last
 * probe saw. */
int ready_wait(struct engine *e, const struct ready_target *t, int timeout, double *took);

#endif
