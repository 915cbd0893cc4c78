#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Per thread: a snapshot's dump runs in a thread of its own. */
static _Thread_local char msg[2048];

/* One line, whatever went into it: control characters (a terminal's
 * escape sequences, newlines from a file) become blanks. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void vset(const char *fmt, va_list ap)
{
	vsnprintf(msg, sizeof msg, fmt, ap);
	one_line(msg);
}

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vset(fmt, ap);
	va_end(ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof msg - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int err_wrap(const char *fmt, ...)
{
	char what[1024], old[sizeof msg];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	memcpy(old, msg, sizeof old);
	/* what is shorter than msg, so n stays inside it. */
	n = (size_t)snprintf(msg, sizeof msg, old[0] ? "%s: " : "%s", what);
	snprintf(msg + n, sizeof msg - n, "%s", old);
	one_line(msg);
	return -1;
}

int err_wrap_after(const char *fmt, ...)
{
	size_t n = strlen(msg);
	va_list ap;

	if (n + 2 >= sizeof msg)
		return -1;
	memcpy(msg + n, ": ", 3);
	va_start(ap, fmt);
	vsnprintf(msg + n + 2, sizeof msg - n - 2, fmt, ap);
	va_end(ap);
	one_line(msg);
	return -1;
}

const char *err_msg(void)
{
	return msg[0] ? msg : "unknown error";
}

void err_clear(void)
{
	msg[0] = '\0';
}
