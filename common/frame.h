/* frame: incremental parsers for the engine's streaming replies.
 *
 * demux: logs and exec output of containers without a TTY come as frames,
 * an 8-byte header {stream, 0, 0, 0, size as 4 bytes big-endian} and size
 * bytes of payload; frames split anywhere across reads.
 * lines: image pulls and builds send one JSON object per line. */
#ifndef KC_FRAME_H
#define KC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum { FRAME_STDIN = 0, FRAME_STDOUT = 1, FRAME_STDERR = 2 };

/* Payload of stream as it arrives (may be part of a frame). */
typedef const struct error *(*frame_fn)(void *ctx, int stream, const char *data, size_t len);

/* The one frame_fn that collects: every stream's bytes appended to the
 * struct buf ctx (or dropped if ctx is NULL). */
const struct error *frame_collect(void *ctx, int stream, const char *data, size_t len);

struct demux {
	unsigned char hdr[8];
	size_t have;      /* header bytes held */
	uint32_t left;    /* payload bytes still due for the current frame */
	int stream;
	frame_fn fn;
	void *ctx;
};

void demux_init(struct demux *d, frame_fn fn, void *ctx);
/* Feed bytes; fails on a malformed header or if fn fails. */
const struct error *demux_feed(struct demux *d, const char *data, size_t len);
/* 1 if the stream ended in the middle of a frame. */
int demux_partial(const struct demux *d);

typedef const struct error *(*line_fn)(void *ctx, const char *line, size_t len);

struct lines {
	struct buf pending;
	line_fn fn;
	void *ctx;
};

void lines_init(struct lines *l, line_fn fn, void *ctx);
/* Calls fn for every complete line (without "\n" or "\r\n"). */
const struct error *lines_feed(struct lines *l, const char *data, size_t len);
/* Deliver what is left without a final newline. */
const struct error *lines_finish(struct lines *l);
void lines_free(struct lines *l);

#endif
