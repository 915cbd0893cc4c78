/* clock: seconds on a monotonic clock, for durations and deadlines. */
#ifndef KC_CLOCK_H
#define KC_CLOCK_H

double clock_seconds(void);

#endif
