/* buildctx: a build context, streamed: the tar of a source folder the
 * engine builds an image from, made while it is sent.
 *
 * A thread walks the folder (by descriptors, never following a link) and
 * writes the tar with libarchive into one end of a socket pair; the
 * request body reads the other end (buildctx_read is an http_source).
 * What the folder's .dockerignore leaves out is not sent (ignore.h); the
 * Dockerfile and .dockerignore themselves always are.  Files, folders and
 * symlinks go in as they are, owned by root; other kinds are left out. */
#ifndef KC_BUILDCTX_H
#define KC_BUILDCTX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buildctx;

/* Check dir (a folder with a Dockerfile) and start sending it. */
const struct error *buildctx_start(const char *dir, struct buildctx **out);
/* An http_source: the next bytes of the tar. */
long buildctx_read(void *ctx, char *buf, size_t n, const struct error **why);
/* Stop (if not at the end), wait for the thread, free; the walk's error if
 * it had one.  files/bytes: what was sent (may be NULL). */
const struct error *buildctx_finish(struct buildctx *b, size_t *files, uint64_t *bytes);

#endif
