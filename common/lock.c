#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "mem.h"

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

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
