/* searchidx: the search index of an instance's environment.
 *
 * A template may keep one search index per environment (search_index =
 * SERVICE NAME, the name with ${env} in it), so that the reindex of an
 * upgrade or an import fills the new environment's index while the active
 * one keeps serving from its own.  The index goes with the database it was
 * made from: before an environment's database is replaced (upgrade,
 * import) or dropped (destroy), its index is deleted on the service
 * (HTTP DELETE /NAME, as Elasticsearch takes it). */
#ifndef KC_SEARCHIDX_H
#define KC_SEARCHIDX_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

/* The index name of env (caller frees), or NULL if the template has none. */
const struct error *searchidx_name(const struct instance *in, const char *env, char **out);
/* Delete env's index; an index that is not there is fine.  When the
 * service is not running the index cannot go: a warning says so. */
const struct error *searchidx_drop(struct engine *e, const struct instance *in, const char *env);

#endif
