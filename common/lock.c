#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "mem.h"
#include "wait.h"

const struct error *lock_take(const char *dir, const char *what, int *out)
{
	const struct error *err = NULL;
	char *path = xasprintf("%s/.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	*out = -1;
	if (fd < 0) {
		err = error_errno("opening lock \"%s\"", path);
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			err = error_new(ERR_BUSY, "%s is busy: another korcluster command is working on it; try again when it "
					"ends", what);
		else
			err = error_errno("locking \"%s\"", path);
		close(fd);
	} else {
		*out = fd;
	}
	free(path);
	return err;
}

struct slots {
	const char *dir;
	int n, fd;
};

/* One look: any free slot? */
static const struct error *try_slots(void *ctx, int *done, char *why, size_t whylen)
{
	struct slots *s = ctx;

	for (int i = 0; i < s->n; i++) {
		char *path = xasprintf("%s/.slot.%d", s->dir, i);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		const struct error *err = fd < 0 ? error_errno("opening lock \"%s\"", path) : NULL;

		free(path);
		if (err)
			return err;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			s->fd = fd;
			*done = 1;
			return NULL;
		}
		close(fd);
	}
	snprintf(why, whylen, "%d at work", s->n);
	return NULL;
}

const struct error *lock_slot(const char *dir, int n, double timeout, const char *label, int *fd)
{
	const struct error *err;
	struct slots s = {dir, n > 0 ? n : 1, -1};
	struct wait w = {.timeout = timeout, .interval_ms = 100, .label = label};

	*fd = -1;
	if ((err = wait_until(&w, try_slots, &s)))
		return err;
	if (w.timed_out)
		return error_fmt("%s: none of %d free after %.0f s", label, s.n, timeout);
	*fd = s.fd;
	return NULL;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
