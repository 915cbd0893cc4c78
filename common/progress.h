/* progress: one updating status line on a terminal, nothing elsewhere. */
#ifndef KC_PROGRESS_H
#define KC_PROGRESS_H

#include <jansson.h>

/* Seconds on a monotonic clock. */
double progress_now(void);
/* 1 if stdout is a terminal (progress is shown). */
int progress_tty(void);
/* Replace the status line on a terminal; elsewhere print it as a line at
 * most every 10 s, so that long waits show in logs. */
void progress_update(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clear the status line (terminal only). */
void progress_clear(void);

/* Image pull display: sums the layers' bytes into one line. */
struct pull_progress {
	const char *ref;  /* borrowed */
	json_t *layers;   /* id -> [current, total] */
};

void pull_progress_init(struct pull_progress *p, const char *ref);
/* An engine_image_pull() event callback; ctx is a struct pull_progress. */
void pull_progress_event(void *ctx, json_t *event);
void pull_progress_free(struct pull_progress *p);

#endif
