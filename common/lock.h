/* lock: one operation at a time per cluster and per instance (flock). */
#ifndef KC_LOCK_H
#define KC_LOCK_H

/* Take DIR/.lock exclusively or fail at once naming what holds it.
 * Returns the descriptor to pass to lock_release(). */
int lock_take(const char *dir, const char *what);
void lock_release(int fd);

#endif
