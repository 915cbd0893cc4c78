#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static int quiet;

void report_quiet(int q)
{
	quiet = q;
}

static void line(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	report_progress_clear();
	fputs(prefix, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void report_line(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	line(stdout, "", fmt, ap);
	va_end(ap);
}

void report_note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	line(stdout, "korcluster: ", fmt, ap);
	va_end(ap);
}

void report_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	line(stderr, "korcluster: warning: ", fmt, ap);
	va_end(ap);
}

int report_tty(void)
{
	static int tty = -1;

	if (tty < 0) {
		const char *term = getenv("TERM");

		tty = isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
	}
	return tty;
}

void report_progress(const char *fmt, ...)
{
	static double last;
	va_list ap;

	if (quiet)
		return;
	/* Not a terminal (a log): a whole line every 10 s of a long wait. */
	if (!report_tty()) {
		double t = clock_seconds();

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

void report_progress_clear(void)
{
	if (quiet || !report_tty())
		return;
	fputs("\r\033[K", stdout);
	fflush(stdout);
}

void report_output(enum report_stream to, const char *data, size_t len)
{
	fwrite(data, 1, len, to == REPORT_STDERR ? stderr : stdout);
}

void report_section(const char *title, const char *text, size_t len)
{
	fflush(stdout);
	fprintf(stderr, "--- %s:\n", title);
	fwrite(text, 1, len, stderr);
	if (len && text[len - 1] != '\n')
		fputc('\n', stderr);
	fputs("---\n", stderr);
	fflush(stderr);
}

void report_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2));

	printf("%s\n", s ? s : "null");
	fflush(stdout);
	free(s);
}

void report_text(enum report_stream to, const char *fmt, ...)
{
	FILE *f = to == REPORT_STDERR ? stderr : stdout;
	va_list ap;

	if (f == stderr)
		fflush(stdout);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

void report_error(const struct error *e)
{
	/* What the command said comes before why it failed, even through a pipe. */
	report_progress_clear();
	fflush(stdout);
	fprintf(stderr, "korcluster: %s\n", e && e->msg ? e->msg : "unknown error");
	fflush(stderr);
}

void report_out_of_memory(void)
{
	fflush(stdout);
	fputs("korcluster: out of memory\n", stderr);
	exit(1);
}
