#include "imagebuild.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "buildctx.h"
#include "clock.h"
#include "mem.h"
#include "name.h"
#include "regauth.h"
#include "report.h"
#include "strv.h"

#define KEEP_LINES 30

struct out {
	struct buf partial;       /* a line not yet ended */
	char *last[KEEP_LINES];   /* the last lines, a ring */
	size_t n;
	char *id;                 /* the image built */
};

/* line without terminal escapes (the engine colours a step's stderr). */
static char *plain(const char *line, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + 1);
	size_t j = 0;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\x1b' && i + 1 < len && line[i + 1] == '[') {
			for (i += 2; i < len && !(line[i] >= 0x40 && line[i] <= 0x7e); i++)
				;
			continue;
		}
		out[j++] = line[i];
	}
	out[j] = '\0';
	*outlen = j;
	return out;
}

static void keep(struct out *o, const char *raw, size_t rawlen)
{
	char **slot = &o->last[o->n++ % KEEP_LINES];
	size_t len;
	const char *line;

	free(*slot);
	*slot = plain(raw, rawlen, &len);
	line = *slot;
	/* "Step 3/7 : RUN ..." is worth a line; the rest shows on failure */
	if (len > 5 && strncmp(line, "Step ", 5) == 0)
		report_line("  %.*s", (int)len, line);
	else if (len)
		report_progress("building: %.*s", (int)(len > 100 ? 100 : len), line);
}

static void on_event(void *ctx, json_t *ev)
{
	struct out *o = ctx;
	const char *s = json_string_value(json_object_get(ev, "stream"));
	const char *st = json_string_value(json_object_get(ev, "status"));
	const char *id = json_string_value(json_object_get(json_object_get(ev, "aux"), "ID"));

	if (id) {
		free(o->id);
		o->id = xstrdup(id);
	}
	if (st)
		report_progress("building: %s %s", st, json_string_value(json_object_get(ev, "id")) ?: "");
	if (!s)
		return;
	buf_puts(&o->partial, s);
	for (char *nl; (nl = memchr(o->partial.data, '\n', o->partial.len));) {
		size_t n = (size_t)(nl - o->partial.data);

		keep(o, o->partial.data, n && nl[-1] == '\r' ? n - 1 : n);
		buf_consume(&o->partial, n + 1);
	}
}

static int is_url(const char *s)
{
	return strstr(s, "://") || strncmp(s, "git@", 4) == 0;
}

const struct error *imagebuild_run(struct engine *e, const struct cluster *cl, const char *version, const char *source,
				   const char *tag, char **built)
{
	const struct error *err, *e2;
	struct out o = {BUF_INIT, {NULL}, 0, NULL};
	struct buildctx *ctx = NULL;
	struct engine_build_req req = {0};
	char *vars[2] = {NULL, NULL}, *image = NULL, *remote = NULL, *auth = NULL;
	double t0 = clock_seconds();
	size_t files = 0;
	uint64_t bytes = 0;

	*built = NULL;
	vars[0] = xasprintf("version=%s", version);
	if ((err = template_version_check(&cl->tpl, version)))
		goto out;
	if (tag)
		image = xstrdup(tag);
	else if ((err = template_expand(cl->app_image ? cl->app_image : cl->tpl.image, vars, &image)))
		goto out;
	if ((err = name_check_image(image)))
		goto out;
	if (!source && cl->tpl.source && (err = template_expand(cl->tpl.source, vars, &remote)))
		goto out;
	if (source && is_url(source))
		remote = xstrdup(source);
	if (!source && !remote) {
		err = error_new(ERR_USAGE, "template \"%s\" names no source: give --source DIR (the app's source tree)",
				cl->tpl.name);
		goto out;
	}
	if ((err = regauth_config_header(&auth)))
		goto out;
	req.tag = image;
	req.auth = auth;
	if (remote) {
		req.remote = remote;
		report_line("building %s from %s", image, remote);
	} else {
		if ((err = buildctx_start(source, &ctx)))
			goto out;
		req.source = buildctx_read;
		req.source_ctx = ctx;
		report_line("building %s from %s", image, source);
	}
	err = engine_build(e, &req, on_event, &o);
	if (ctx && (e2 = buildctx_finish(ctx, &files, &bytes)) && !err)
		err = e2;
	ctx = NULL;
	if (o.partial.len)
		keep(&o, o.partial.data, o.partial.len);
	report_progress_clear();
	if (err) {
		struct buf b = BUF_INIT;
		size_t first = o.n > KEEP_LINES ? o.n - KEEP_LINES : 0;

		for (size_t i = first; i < o.n; i++)
			buf_printf(&b, "%s\n", o.last[i % KEEP_LINES]);
		if (b.len)
			report_section("build output (its last lines)", buf_str(&b), b.len);
		buf_free(&b);
		goto out;
	}
	if (remote)
		report_line("built %s in %.1f s", image, clock_seconds() - t0);
	else
		report_line("built %s in %.1f s (context: %zu files, %.1f MiB)", image, clock_seconds() - t0, files,
			    (double)bytes / (1 << 20));
	*built = image;
	image = NULL;
out:
	buildctx_finish(ctx, NULL, NULL);
	report_progress_clear();
	err = error_wrap(err, "building %s", image ? image : version);
	for (size_t i = 0; i < KEEP_LINES; i++)
		free(o.last[i]);
	buf_free(&o.partial);
	free(o.id);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(vars[0]);
	free(image);
	free(remote);
	return err;
}
