#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every error made, until error_release(). */
struct node {
	struct error e;
	struct node *next;
	char msg[];
};

static struct node *all;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* When memory runs out, errors still have somewhere to be. */
static const struct error nomem = {ERR_FAIL, "out of memory"};

static const struct error *make(enum error_code code, const char *prefix, const char *fmt, va_list ap,
				const char *suffix)
{
	char body[2048];
	size_t n;
	struct node *node;

	vsnprintf(body, sizeof body, fmt, ap);
	n = strlen(prefix) + strlen(body) + strlen(suffix);
	if (!(node = malloc(sizeof *node + n + 1)))
		return &nomem;
	snprintf(node->msg, n + 1, "%s%s%s", prefix, body, suffix);
	/* One line, whatever went into it. */
	for (char *c = node->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	node->e.code = code;
	node->e.msg = node->msg;
	pthread_mutex_lock(&mu);
	node->next = all;
	all = node;
	pthread_mutex_unlock(&mu);
	return &node->e;
}

const struct error *error_new(enum error_code code, const char *fmt, ...)
{
	const struct error *e;
	va_list ap;

	va_start(ap, fmt);
	e = make(code, "", fmt, ap, "");
	va_end(ap);
	return e;
}

const struct error *error_fmt(const char *fmt, ...)
{
	const struct error *e;
	va_list ap;

	va_start(ap, fmt);
	e = make(ERR_FAIL, "", fmt, ap, "");
	va_end(ap);
	return e;
}

const struct error *error_errno(const char *fmt, ...)
{
	char why[160];
	int saved = errno;
	const struct error *e;
	va_list ap;

	snprintf(why, sizeof why, ": %s", strerror(saved));
	va_start(ap, fmt);
	e = make(ERR_FAIL, "", fmt, ap, why);
	va_end(ap);
	errno = saved;
	return e;
}

const struct error *error_wrap(const struct error *e, const char *fmt, ...)
{
	char what[1024];
	const struct error *w;
	va_list ap;

	if (!e)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	w = error_new(e->code, "%s: %s", what, e->msg);
	return w == &nomem ? e : w;
}

const struct error *error_interrupted(void)
{
	static const struct error interrupted = {ERR_INTERRUPTED, "interrupted"};

	return &interrupted;
}

void error_release(void)
{
	pthread_mutex_lock(&mu);
	while (all) {
		struct node *next = all->next;

		free(all);
		all = next;
	}
	pthread_mutex_unlock(&mu);
}
