/* backup: taking an instance's snapshot online and importing one, on top
 * of the archive format (snapshot.h), the engine and the front proxy.
 *
 * Snapshot: while the instance is served, the proxy holds writes (503 with
 * Retry-After) for the moment it takes to start the dump's transaction and
 * to hard-link the data folder into a work tree; reads go on throughout.
 * Rows and files are then of one point in time, and the archive is
 * streamed from the transaction and the work tree.
 *
 * Import: the archive is verified whole (snapread.h), then restored into
 * the inactive environment (its database, loaded as dbload.h does, and
 * data/ENV), migrated if it is older, started and checked healthy, and
 * only then does the proxy switch to it.  The active environment serves
 * reads and writes until the switch and stays as it was, as the rollback
 * target; any failure leaves it serving. */
#ifndef KC_BACKUP_H
#define KC_BACKUP_H

#include <jansson.h>
#include <stdint.h>

#include "engine.h"
#include "instcfg.h"

struct backup_result {
	char *path;         /* owned */
	uint64_t bytes;     /* archive size */
	uint64_t raw;       /* bytes before compression */
	double seconds;     /* whole snapshot */
	double held;        /* writes held, seconds (0 when not served) */
};

/* snapshots/NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst (.tar.gz) for env's
 * version; caller frees. */
char *backup_default_path(const struct instance *in, const char *env, int gzip);
/* Snapshot environment env of in (the active one, or the inactive one
 * before it is reused) to path (NULL: the default path); written under a
 * temporary name and renamed when complete. */
int backup_snapshot(struct engine *e, struct instance *in, const char *env, const char *path, int gzip,
		    struct backup_result *res);
void backup_result_free(struct backup_result *res);
/* Make environment to a copy of environment from: its database (one
 * consistent dump, loaded), its files (copied, not linked).  What it held
 * before is gone; the caller holds writes if from is in use. */
int backup_copy_env(struct engine *e, struct instance *in, const char *from, const char *to);
/* Put right what a killed snapshot, import or copy of instance in left:
 * writes held at the proxy, work trees, partial archives and dump folders
 * in snapshots/, dump containers, staging folders, and (with loads, or
 * when a staging folder was there) temporary loading users.  *did says
 * whether there was anything.  The caller holds the instance's lock. */
int backup_cleanup(struct engine *e, struct instance *in, int loads, int *did);
/* Import archive path into in (see above). */
int backup_import(struct engine *e, struct instance *in, const char *path);

/* The cluster's snapshots (files in snapshots/ named as the default path),
 * newest first: [{file, path, instance, version, created, size}]. */
json_t *backup_list(const struct cluster *cl);
/* Remove all but the newest keep snapshots of instance (NULL: of every
 * instance); *removed counts them. */
int backup_prune(const struct cluster *cl, const char *instance, int keep, int *removed);

#endif
