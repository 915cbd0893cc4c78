#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "err.h"

int lock_take(const char *dir, const char *what)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s/.lock", dir) < 0)
		return err_set("out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_errno("opening lock \"%s\"", path);
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		if (busy)
			err_set("%s is busy: another korcluster command is working on it; try again when it ends", what);
		else
			err_errno("locking \"%s\"", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
