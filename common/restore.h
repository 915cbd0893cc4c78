/* restore: a snapshot restored into one environment of an instance, which
 * does not serve meanwhile.
 *
 * The archive is opened once and checked (archread.h): a snapshot
 * korcluster made, as it is restored (what it is of, its template and
 * version, first); any other, whole first.  Its dump is loaded into the
 * environment's database (dbload.h, within the cluster's [limits]) and its
 * files go to data/ENV (through a staging folder, data/ENV.import).  Then the
 * snapshot is migrated to the instance's version (RESTORE_MIGRATE) or kept
 * at its own (RESTORE_AS_IS, for rollback), and the template's post_import
 * runs.  Nothing switches: import and rollback start and route it.
 * KorCluster's snapshots are taken too; their config files go to
 * instances/NAME/imported/. */
#ifndef KC_RESTORE_H
#define KC_RESTORE_H

#include "engine.h"
#include "err.h"
#include "instcfg.h"

enum restore_mode {
	RESTORE_MIGRATE, /* to the instance's version; a newer snapshot is refused */
	RESTORE_AS_IS,   /* at the snapshot's own version, which the template must know */
};

struct restore_result {
	char *version;  /* what env runs now (owned); in->env_version[env] points here */
	int changed;    /* env's database or files were touched */
	int legacy;     /* a KorCluster snapshot */
	size_t files;   /* restored */
	size_t statements;
};

struct restore;

/* Open the archive at path for environment env and check what it is of
 * (the whole archive, unless restore_run() checks it as it reads it):
 * nothing changes yet.  *out: to restore_run() (once) and restore_close(). */
const struct error *restore_check(struct engine *e, struct instance *in, const char *path, const char *env,
				  enum restore_mode mode, struct restore **out);
/* The snapshot's version. */
const char *restore_version(const struct restore *r);
/* Restore the archive into the environment, checking it as it reads it if
 * restore_check() did not (a refusal then fails it).  On failure the
 * environment holds neither what it held nor the snapshot, and
 * in->env_version[env] is NULL: the caller puts it back. */
const struct error *restore_run(struct restore *r, struct restore_result *res);
void restore_close(struct restore *r);
void restore_result_free(struct restore_result *res);

#endif
