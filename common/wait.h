/* wait: the one loop that waits for something to come true: it looks,
 * shows how long it has waited and what it saw (report_progress()), and
 * ends when the look says so, when the time is up, or at SIGINT/SIGTERM
 * (unless it is part of a cleanup, which runs to its end).
 *
 *	struct wait w = {.timeout = 15, .interval_ms = 200, .label = "waiting for a"};
 *
 *	if ((err = wait_until(&w, look, ctx)))
 *		return err;			the look failed, or interrupted
 *	if (w.timed_out)
 *		return error_fmt("a is not up after 15 s: %s", w.why);
 */
#ifndef KC_WAIT_H
#define KC_WAIT_H

#include <stddef.h>

#include "err.h"

/* One look: *done 1 when it came true; else why says what was seen.  An
 * error stops the wait at once. */
typedef const struct error *(*wait_fn)(void *ctx, int *done, char *why, size_t whylen);

struct wait {
	double timeout;       /* seconds */
	int interval_ms;      /* between looks */
	const char *label;    /* progress: "<label>: N s (<why>)"; NULL: none */
	int uninterruptible;  /* a cleanup's wait: SIGINT/SIGTERM do not end it */
	/* results */
	int timed_out;
	double took;          /* seconds waited */
	char why[512];        /* what the last look saw */
};

const struct error *wait_until(struct wait *w, wait_fn fn, void *ctx);

#endif
