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
 * a "./" or one top folder) are read too; they have no manifest. */
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

/* ---- reading ---- */

struct snapshot_info {
	json_t *manifest;   /* owned; NULL for a KorCluster archive */
	int legacy;         /* a KorCluster archive */
	char *prefix;       /* legacy: "" or the one top folder, with '/' */
	char *version;      /* the app version it was taken of */
	char *template;     /* NULL for a KorCluster archive */
	char *instance;     /* NULL for a KorCluster archive */
	uint64_t data_bytes, dump_bytes;
	size_t files;
};

/* Read the whole archive once: every member's path, type and checksum
 * against the manifest, links staying inside, the dump's statements
 * (sqlsplit_check), and a total unpacked size of at most space bytes.  A
 * refusal says what is wrong; nothing is written anywhere. */
int snapshot_verify(const char *path, uint64_t space, struct snapshot_info *info);

struct snapshot_sink {
	/* The dump's text, in order (decompressed for KorCluster's db.sql.gz). */
	int (*sql)(void *ctx, const char *data, size_t len);
	void *ctx;
	const char *data_dir;  /* empty folder data/ is restored into */
	const char *extra_dir; /* KorCluster's config files go here; NULL: left out */
};

/* Second pass over a verified archive: files into s->data_dir (never
 * following a link), the dump to s->sql. */
int snapshot_restore(const char *path, const struct snapshot_info *info, const struct snapshot_sink *s);
void snapshot_info_free(struct snapshot_info *info);

/* ---- pure checks (unit tested) ---- */

/* name without leading "./" (a pointer into name). */
const char *snapshot_normalize(const char *name);
/* A member name must be relative, without "." or ".." components or
 * empty ones, at most 4096 bytes. */
int snapshot_path_check(const char *name);
/* A symlink named name pointing at target must stay inside the tree. */
int snapshot_link_check(const char *name, const char *target);

#endif
