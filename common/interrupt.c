#include "interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupts;

void interrupt_raise(int sig)
{
	(void)sig;
	interrupts++;
}

int interrupt_pending(void)
{
	return interrupts != 0;
}

int interrupt_count(void)
{
	return interrupts;
}

void interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = interrupt_raise;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
