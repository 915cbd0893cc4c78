#include "frame.h"

#include <string.h>

const struct error *frame_collect(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	if (ctx)
		buf_append(ctx, data, len);
	return NULL;
}

void demux_init(struct demux *d, frame_fn fn, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->fn = fn;
	d->ctx = ctx;
}

const struct error *demux_feed(struct demux *d, const char *data, size_t len)
{
	const struct error *err;

	while (len > 0) {
		if (d->left == 0) {
			size_t take = 8 - d->have;

			if (take > len)
				take = len;
			memcpy(d->hdr + d->have, data, take);
			d->have += take;
			data += take;
			len -= take;
			if (d->have < 8)
				break;
			if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
				return error_fmt("malformed stream frame header");
			d->stream = d->hdr[0];
			d->left = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 |
				  (uint32_t)d->hdr[6] << 8 | d->hdr[7];
			d->have = 0;
			continue;
		}
		size_t take = d->left < len ? d->left : len;

		if ((err = d->fn(d->ctx, d->stream, data, take)))
			return err;
		d->left -= (uint32_t)take;
		data += take;
		len -= take;
	}
	return NULL;
}

int demux_partial(const struct demux *d)
{
	return d->have > 0 || d->left > 0;
}

void lines_init(struct lines *l, line_fn fn, void *ctx)
{
	memset(l, 0, sizeof *l);
	l->fn = fn;
	l->ctx = ctx;
}

static const struct error *emit(struct lines *l, const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	return l->fn(l->ctx, s, n);
}

const struct error *lines_feed(struct lines *l, const char *data, size_t len)
{
	const struct error *err;
	const char *nl;

	while (len > 0 && (nl = memchr(data, '\n', len))) {
		size_t n = (size_t)(nl - data);

		if (l->pending.len) {
			buf_append(&l->pending, data, n);
			err = emit(l, l->pending.data, l->pending.len);
			buf_consume(&l->pending, l->pending.len);
		} else {
			err = emit(l, data, n);
		}
		if (err)
			return err;
		data += n + 1;
		len -= n + 1;
	}
	if (len)
		buf_append(&l->pending, data, len);
	return NULL;
}

const struct error *lines_finish(struct lines *l)
{
	const struct error *err = NULL;

	if (l->pending.len)
		err = emit(l, l->pending.data, l->pending.len);
	buf_consume(&l->pending, l->pending.len);
	return err;
}

void lines_free(struct lines *l)
{
	buf_free(&l->pending);
}
