/* interrupt: SIGINT and SIGTERM end the step under way.
 *
 * main() installs interrupt_raise() as the handler; transfers under way
 * abort (http.c), waits and loops check interrupt_pending() and give up
 * with error_interrupted(); the command then cleans up as on any failure.
 * Cleanup runs its own steps to their end. */
#ifndef KC_INTERRUPT_H
#define KC_INTERRUPT_H

/* For a signal handler: async-signal-safe. */
void interrupt_raise(int sig);
int interrupt_pending(void);
/* How many interrupts came so far (a transfer aborts when it changes). */
int interrupt_count(void);
/* Install interrupt_raise() for SIGINT and SIGTERM. */
void interrupt_install(void);

#endif
