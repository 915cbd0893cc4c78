/* fuzz_frame: the engine's streaming replies (frame.h) and what korcluster
 * takes out of its JSON replies (engine.h).
 *
 * The first byte is the size of the pieces the rest arrives in.  The rest
 * goes through the demultiplexer (logs, exec output), checked against a
 * reading of its own: the payload bytes each stream gets; then through
 * the line splitter of pulls and builds, each line read as JSON as the
 * engine client reads progress objects, and the whole as a reply to
 * inspect (address, state, config label) and an API version to pick. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/engine.h"
#include "../../common/err.h"
#include "../../common/frame.h"
#include "fuzz.h"

struct got {
	struct buf out[3];
};

static const struct error *collect(void *ctx, int stream, const char *data, size_t len)
{
	struct got *g = ctx;

	FUZZ_ASSERT(stream >= 0 && stream <= 2, "stream %d", stream);
	FUZZ_ASSERT(len > 0, "an empty piece of stream %d", stream);
	buf_append(&g->out[stream], data, len);
	return NULL;
}

/* As the engine client reads a line of a pull or build: an object, maybe
 * with "error" or "errorDetail": {"message"}. */
static const struct error *line(void *ctx, const char *l, size_t len)
{
	json_t *ev;
	const char *m;

	(void)ctx;
	FUZZ_ASSERT(!memchr(l, '\n', len), "a line holds a newline");
	if (len == 0 || !(ev = json_loadb(l, len, 0, NULL)))
		return NULL;
	m = json_string_value(json_object_get(ev, "error"));
	if (!m)
		m = json_string_value(json_object_get(json_object_get(ev, "errorDetail"), "message"));
	if (m)
		(void)strlen(m);
	json_decref(ev);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t len, chunk;
	struct got g;
	struct demux d;
	struct lines l;
	const struct error *err = NULL;
	json_t *j;
	char api[16];

	if (size < 1)
		return 0;
	len = size - 1;
	chunk = data[0] ? data[0] : len + 1;
	memset(&g, 0, sizeof g);
	for (int i = 0; i < 3; i++)
		g.out[i] = (struct buf)BUF_INIT;

	/* The frames, in pieces; what each stream got is what the frames say. */
	demux_init(&d, collect, &g);
	for (size_t off = 0; off < len && !err; off += chunk)
		err = demux_feed(&d, p + off, len - off < chunk ? len - off : chunk);
	if (!err && !demux_partial(&d)) {
		struct buf want[3] = {BUF_INIT, BUF_INIT, BUF_INIT};
		size_t off = 0;

		while (off + 8 <= len) {
			const unsigned char *h = (const unsigned char *)p + off;
			size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];

			FUZZ_ASSERT(h[0] <= 2 && off + 8 + n <= len, "a frame demux took is whole");
			buf_append(&want[h[0]], p + off + 8, n);
			off += 8 + n;
		}
		FUZZ_ASSERT(off == len, "the frames end where the input does");
		for (int i = 0; i < 3; i++) {
			FUZZ_ASSERT(want[i].len == g.out[i].len &&
					    (!want[i].len || memcmp(want[i].data, g.out[i].data, want[i].len) == 0),
				    "stream %d holds its frames' payload", i);
			buf_free(&want[i]);
		}
	}
	for (int i = 0; i < 3; i++)
		buf_free(&g.out[i]);

	/* The same bytes as lines of JSON objects. */
	lines_init(&l, line, NULL);
	err = NULL;
	for (size_t off = 0; off < len && !err; off += chunk)
		err = lines_feed(&l, p + off, len - off < chunk ? len - off : chunk);
	if (!err)
		lines_finish(&l);
	lines_free(&l);

	/* The whole as a reply. */
	if ((j = json_loadb(p, len, 0, NULL))) {
		engine_container_ip(j, "fz_net");
		engine_running(j);
		if (json_is_object(j))
			engine_config_label(j);
		json_decref(j);
	}
	{
		char *s = strndup(p, len < 64 ? len : 64);

		if (!s)
			abort();
		engine_api_pick(s, api, sizeof api);
		free(s);
	}
	error_release();
	return 0;
}
