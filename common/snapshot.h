/* snapshot: an instance's archive, written as a stream and verified whole
 * before anything is restored from it.
 *
 * A tar (pax) file compressed with zstd (.tar.zst) or gzip (.tar.gz):
 *   config/instance.ini      the instance's settings, without its secrets
 *   db/dump.NNNNNN.sql       the database dump (mysqldump text) in pieces
 *                            of at most SNAPSHOT_CHUNK bytes, in order
 *   data/...                 the instance's files
 *   manifest.json            last: {format, format_version, tool, template,
 *                            instance, version, created, members: [{path,
 *                            type, size, sha256 | target}]}
 *
 * KorCluster's snapshots (NAME.TIMESTAMP.VERSION.tar.gz of the instance
 * folder: db.sql.gz, data/, version.txt and config files, with or without
 * a "./" or one top folder) are read too; they have no manifest.  Reading
 * is snapread.h's. */
#ifndef KC_SNAPSHOT_H
#define KC_SNAPSHOT_H

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

#define SNAPSHOT_FORMAT "korcluster-snapshot"
#define SNAPSHOT_FORMAT_VERSION 1
#define SNAPSHOT_CHUNK (4u << 20)

/* ---- writing ---- */

struct snapshot_out;

/* Start an archive at path (the caller's temporary name). */
int snapshot_open(struct snapshot_out **out, const char *path, int gzip);
/* A small member held in memory. */
int snapshot_add_bytes(struct snapshot_out *o, const char *name, const void *data, size_t len);
/* The next piece of the dump (db/dump.NNNNNN.sql), at most SNAPSHOT_CHUNK
 * bytes; pieces may come between other members. */
int snapshot_add_dump(struct snapshot_out *o, const char *data, size_t len);
/* Call fn(ctx) before each member snapshot_add_tree() writes (to put dump
 * pieces in as they come); fn returning -1 stops it. */
void snapshot_set_hook(struct snapshot_out *o, int (*fn)(void *ctx), void *ctx);
/* Every file, folder and symlink under dir, named prefix/RELATIVE.  A
 * symlink leading out of dir and special files are left out with a
 * warning on stderr. */
int snapshot_add_tree(struct snapshot_out *o, const char *dir, const char *prefix);
/* Bytes written so far, before compression. */
uint64_t snapshot_bytes(const struct snapshot_out *o);
/* Add manifest.json (meta plus the member list) and close; frees o. */
int snapshot_close(struct snapshot_out *o, const json_t *meta);
/* Give up: free o; the partial file is the caller's to remove. */
void snapshot_abort(struct snapshot_out *o);

/* ---- pure checks (unit tested) ---- */

/* name without leading "./" (a pointer into name). */
const char *snapshot_normalize(const char *name);
/* Member names: at most SNAPSHOT_NAME_MAX bytes, SNAPSHOT_DEPTH_MAX
 * components of at most 255 bytes, so that a restored tree can be removed
 * and copied by any tool; names longer than SNAPSHOT_RAW_MAX are not read. */
#define SNAPSHOT_NAME_MAX 1024
#define SNAPSHOT_DEPTH_MAX 128
#define SNAPSHOT_RAW_MAX 4096

/* A member name must be relative, without "." or ".." components or
 * empty ones, within the bounds above. */
int snapshot_path_check(const char *name);
/* A symlink named name (a path below the tree) pointing at target must
 * stay inside the tree, read as text (the writer leaves out those that do
 * not; the reader judges the whole tree, vtree.h). */
int snapshot_link_check(const char *name, const char *target);

#endif
