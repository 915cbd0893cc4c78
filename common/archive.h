/* archive: the snapshot format, its names and their checks.
 *
 * A tar (pax) file compressed with zstd (.tar.zst) or gzip (.tar.gz):
 *   config/instance.ini      the instance's settings, without its secrets
 *   db/dump.NNNNNN.sql       the database dump (mysqldump text) in pieces
 *                            of at most ARCHIVE_CHUNK bytes, in order
 *   data/...                 the instance's files
 *   manifest.json            last: {format, format_version, tool, template,
 *                            instance, version, created, members: [{path,
 *                            type, size, sha256 | target}]}
 *
 * KorCluster's snapshots (NAME.TIMESTAMP.VERSION.tar.gz of the instance
 * folder: db.sql.gz, data/, version.txt and config files, with or without
 * a "./" or one top folder) are read too; they have no manifest.
 *
 * archwrite.h writes one; archread.h verifies and restores one.  The
 * checks here are pure (unit tested). */
#ifndef KC_ARCHIVE_H
#define KC_ARCHIVE_H

#include "err.h"

#define ARCHIVE_FORMAT "korcluster-snapshot"
#define ARCHIVE_FORMAT_VERSION 1
#define ARCHIVE_CHUNK (4u << 20)

/* Member names: at most ARCHIVE_NAME_MAX bytes, ARCHIVE_DEPTH_MAX
 * components of at most 255 bytes, so that a restored tree can be removed
 * and copied by any tool; names longer than ARCHIVE_RAW_MAX are not read. */
#define ARCHIVE_NAME_MAX 1024
#define ARCHIVE_DEPTH_MAX 128
#define ARCHIVE_RAW_MAX 4096

/* name without leading "./" (a pointer into name). */
const char *archive_normalize(const char *name);
/* A member name must be relative, without "." or ".." components or
 * empty ones, within the bounds above. */
const struct error *archive_path_check(const char *name);
/* A symlink named name (a path below the tree) pointing at target must
 * stay inside the tree, read as text (the writer leaves out those that do
 * not; the reader judges the whole tree, vtree.h). */
const struct error *archive_link_check(const char *name, const char *target);

#endif
