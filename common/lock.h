/* lock: one operation at a time per cluster and per instance (flock). */
#ifndef KC_LOCK_H
#define KC_LOCK_H

#include "err.h"

/* Take DIR/.lock exclusively, or fail at once (ERR_BUSY) naming what is
 * busy; *fd is then -1.  The descriptor goes to lock_release(). */
const struct error *lock_take(const char *dir, const char *what, int *fd);
/* fd may be -1. */
void lock_release(int fd);

#endif
