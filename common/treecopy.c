#include "treecopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interrupt.h"

/* Copy in to out: a reflink where the file system can, else in the kernel,
 * else by read and write. */
static int copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (lseek(in, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t w = 0;

		n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno != EINTR)
				return -1;
			w += k > 0 ? k : 0;
		}
	}
}

/* 0, or -1 with errno set. */
static int copy_file(int sfd, int dfd, const char *n, const struct stat *st)
{
	int in = openat(sfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (in < 0)
		return errno == ENOENT ? 0 : -1; /* removed meanwhile */
	if ((out = openat(dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777)) >= 0 &&
	    copy_fd(in, out) == 0) {
		if (geteuid() == 0)
			fchown(out, st->st_uid, st->st_gid);
		fchmod(out, st->st_mode & 07777);
		futimens(out, ts);
		rc = 0;
	}
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static const struct error *copy_tree(int sfd, int dfd, const char *where, int copy)
{
	const struct error *err = NULL;
	DIR *d = fdopendir(sfd);
	struct dirent *de;

	if (!d) {
		err = error_errno("reading \"%s\"", where);
		close(sfd);
		return err;
	}
	while (!err && (errno = 0, de = readdir(d))) {
		struct stat st;
		const char *n = de->d_name;

		if (interrupt_pending()) {
			err = error_interrupted();
			break;
		}
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				err = error_errno("reading \"%s/%s\"", where, n);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int s2, d2;

			if (mkdirat(dfd, n, st.st_mode & 07777) < 0) {
				err = error_errno("making folder \"%s\"", n);
				break;
			}
			if (geteuid() == 0)
				fchownat(dfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
			if ((s2 = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				if (errno != ENOENT)
					err = error_errno("opening \"%s/%s\"", where, n);
				continue;
			}
			if ((d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				err = error_errno("opening folder \"%s\"", n);
				close(s2);
				break;
			}
			err = copy_tree(s2, d2, n, copy);
			close(d2);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4097];
			ssize_t k = readlinkat(sfd, n, t, sizeof t - 1);

			if (k >= 0) {
				t[k] = '\0';
				if (symlinkat(t, dfd, n) < 0)
					err = error_errno("making symlink \"%s\"", n);
			}
		} else if (S_ISREG(st.st_mode)) {
			if (!copy && (linkat(sfd, n, dfd, n, 0) == 0 || errno == ENOENT))
				continue;
			if (copy || errno == EXDEV || errno == EPERM || errno == EMLINK) {
				if (copy_file(sfd, dfd, n, &st) < 0)
					err = error_errno("copying \"%s/%s\"", where, n);
			} else {
				err = error_errno("linking \"%s/%s\"", where, n);
			}
		}
	}
	if (!err && errno)
		err = error_errno("reading \"%s\"", where);
	closedir(d);
	return err;
}

const struct error *treecopy_link(int sfd, int dfd, const char *where)
{
	return copy_tree(sfd, dfd, where, 0);
}

const struct error *treecopy_copy(int sfd, int dfd, const char *where)
{
	return copy_tree(sfd, dfd, where, 1);
}
