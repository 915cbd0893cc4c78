/* instances: the instances of a cluster, as its instances/ folder holds
 * them (a folder with an instance.ini): their names, the ports and slots
 * they take, each opened in turn, and their status for listings. */
#ifndef KC_INSTANCES_H
#define KC_INSTANCES_H

#include <jansson.h>

#include "clustercfg.h"
#include "engine.h"
#include "err.h"
#include "instcfg.h"
#include "strv.h"

/* What the instances take: their ports and fixed-address slots. */
struct taken {
	int *ports, *slots;
	size_t n;
};

/* Names (sorted) and what they take; either may be NULL.  A taken is
 * freed with instances_taken_free(). */
const struct error *instances_scan(const struct cluster *cl, struct strv *names, struct taken *taken);
void instances_taken_free(struct taken *t);
/* fn on each instance, opened (and checked) in turn, by name; the first
 * error stops it. */
const struct error *instances_each(const struct cluster *cl,
				   const struct error *(*fn)(void *ctx, struct instance *in), void *ctx);
/* Every instance's runtime_status() without its containers, from
 * runtime_status_many() (listed and live as there). */
const struct error *instances_status(struct engine *e, const struct cluster *cl, json_t *listed, int live,
				     json_t **out);

#endif
