/* archwrite: a snapshot (archive.h) written as a stream: the dump's pieces
 * may come between the files as the dump produces them, and nothing is
 * held in memory but one piece and the member list. */
#ifndef KC_ARCHWRITE_H
#define KC_ARCHWRITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct archwrite;

/* Start an archive at path (the caller's temporary name). */
const struct error *archwrite_open(struct archwrite **out, const char *path, int gzip);
/* A small member held in memory. */
const struct error *archwrite_add_bytes(struct archwrite *o, const char *name, const void *data, size_t len);
/* The next piece of the dump (db/dump.NNNNNN.sql), at most ARCHIVE_CHUNK
 * bytes; pieces may come between other members. */
const struct error *archwrite_add_dump(struct archwrite *o, const char *data, size_t len);
/* Call fn(ctx) before each member archwrite_add_tree() writes (to put dump
 * pieces in as they come); an error from fn stops it. */
void archwrite_set_hook(struct archwrite *o, const struct error *(*fn)(void *ctx), void *ctx);
/* Every file, folder and symlink under dir, named prefix/RELATIVE.  A
 * symlink leading out of dir, a special file and a name no import would
 * take are left out with a warning. */
const struct error *archwrite_add_tree(struct archwrite *o, const char *dir, const char *prefix);
/* Bytes written so far, before compression. */
uint64_t archwrite_bytes(const struct archwrite *o);
/* Add manifest.json (meta plus the member list) and close; frees o. */
const struct error *archwrite_close(struct archwrite *o, const json_t *meta);
/* Give up: free o; the partial file is the caller's to remove. */
void archwrite_abort(struct archwrite *o);

#endif
