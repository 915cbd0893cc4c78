#include "wait.h"

#include <unistd.h>

#include "clock.h"
#include "interrupt.h"
#include "report.h"

const struct error *wait_until(struct wait *w, wait_fn fn, void *ctx)
{
	const struct error *err = NULL;
	double start = clock_seconds();

	w->timed_out = 0;
	w->why[0] = '\0';
	for (;;) {
		int done = 0;

		if ((err = fn(ctx, &done, w->why, sizeof w->why)) || done)
			break;
		if (!w->uninterruptible && interrupt_pending()) {
			err = error_interrupted();
			break;
		}
		if (clock_seconds() - start >= w->timeout) {
			w->timed_out = 1;
			break;
		}
		if (w->label)
			report_progress("%s: %.0f s (%s)", w->label, clock_seconds() - start,
					w->why[0] ? w->why : "no answer");
		usleep((useconds_t)w->interval_ms * 1000);
	}
	if (w->label)
		report_progress_clear();
	w->took = clock_seconds() - start;
	return err;
}
