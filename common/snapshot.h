/* snapshot: an instance's snapshot, taken online.
 *
 * While the instance is served, the proxy holds writes (503 with
 * Retry-After) for the moment it takes to start the dump's transaction and
 * to hard-link the data folder into a work tree; reads go on throughout.
 * Rows and files are then of one point in time, and the archive
 * (archive.h) is streamed from the transaction and the work tree: the dump
 * runs in a thread of its own and its pieces go in between the files as
 * they come.  The archive is written under a temporary name, synced, and
 * renamed when complete. */
#ifndef KC_SNAPSHOT_H
#define KC_SNAPSHOT_H

#include <stdint.h>

#include "engine.h"
#include "err.h"
#include "instcfg.h"

struct snapshot_result {
	char *path;         /* owned */
	uint64_t bytes;     /* archive size */
	uint64_t raw;       /* bytes before compression */
	double seconds;     /* whole snapshot */
	double held;        /* writes held, seconds (0 when not served) */
};

/* Snapshot environment env of in (the active one, or the inactive one
 * before it is reused) to path (NULL: snaplist_default_path()). */
const struct error *snapshot_take(struct engine *e, struct instance *in, const char *env, const char *path, int gzip,
				  struct snapshot_result *res);
void snapshot_result_free(struct snapshot_result *res);

#endif
