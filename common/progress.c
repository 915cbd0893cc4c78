#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int progress_tty(void)
{
	static int tty = -1;

	if (tty < 0) {
		const char *term = getenv("TERM");

		tty = isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
	}
	return tty;
}

void progress_update(const char *fmt, ...)
{
	static double last;
	va_list ap;

	/* Not a terminal (a log): a whole line every 10 s of a long wait. */
	if (!progress_tty()) {
		double t = progress_now();

		if (last == 0)
			last = t;
		if (t - last < 10)
			return;
		last = t;
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	fputs("\r", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\033[K", stdout);
	fflush(stdout);
}

void progress_clear(void)
{
	if (!progress_tty())
		return;
	fputs("\r\033[K", stdout);
	fflush(stdout);
}

void pull_progress_init(struct pull_progress *p, const char *ref)
{
	p->ref = ref;
	p->layers = json_object();
}

static void human(double v, char *out, size_t n)
{
	const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

void pull_progress_event(void *ctx, json_t *ev)
{
	struct pull_progress *p = ctx;
	const char *status = json_string_value(json_object_get(ev, "status"));
	const char *id = json_string_value(json_object_get(ev, "id"));
	json_t *detail = json_object_get(ev, "progressDetail");
	double cur = 0, tot = 0;
	char a[32], b[32];
	const char *key;
	json_t *v;

	if (!status)
		return;
	if (id && strcmp(status, "Downloading") == 0) {
		json_object_set_new(p->layers, id,
				    json_pack("[I,I]", json_integer_value(json_object_get(detail, "current")),
					      json_integer_value(json_object_get(detail, "total"))));
	} else if (id && (strcmp(status, "Download complete") == 0 ||
			  strcmp(status, "Already exists") == 0 || strcmp(status, "Pull complete") == 0)) {
		json_t *l = json_object_get(p->layers, id);

		if (l)
			json_array_set(l, 0, json_array_get(l, 1));
	}
	json_object_foreach(p->layers, key, v) {
		cur += (double)json_integer_value(json_array_get(v, 0));
		tot += (double)json_integer_value(json_array_get(v, 1));
	}
	human(cur, a, sizeof a);
	human(tot, b, sizeof b);
	if (tot > 0)
		progress_update("pulling %s: %3.0f%% (%s of %s)", p->ref, 100.0 * cur / tot, a, b);
	else
		progress_update("pulling %s: %s", p->ref, status);
}

void pull_progress_free(struct pull_progress *p)
{
	json_decref(p->layers);
	p->layers = NULL;
}
