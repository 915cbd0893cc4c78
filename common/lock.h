/* lock: one operation at a time per cluster and per instance (flock). */
#ifndef KC_LOCK_H
#define KC_LOCK_H

#include "err.h"

/* Take DIR/.lock exclusively, or fail at once (ERR_BUSY) naming what is
 * busy; *fd is then -1.  The descriptor goes to lock_release(). */
const struct error *lock_take(const char *dir, const char *what, int *fd);
/* One of n slots, DIR/.slot.0 to .slot.N-1, waiting (up to timeout
 * seconds, shown as progress with label, ended by SIGINT/SIGTERM) while
 * all n are taken: at most n commands hold one at once.  The descriptor
 * goes to lock_release(). */
const struct error *lock_slot(const char *dir, int n, double timeout, const char *label, int *fd);
/* fd may be -1. */
void lock_release(int fd);

#endif
