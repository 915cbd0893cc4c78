#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mem.h"
#include "strv.h"

static const struct error *fsync_dir_of(const char *path)
{
	const struct error *err = NULL;
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (fsync(fd) < 0)
			err = error_errno("syncing folder of \"%s\"", path);
		close(fd);
	}
	free(copy);
	return err;
}

const struct error *fs_unlink_durable(const char *path)
{
	if (unlink(path) < 0)
		return errno == ENOENT ? NULL : error_errno("removing \"%s\"", path);
	return fsync_dir_of(path);
}

const struct error *fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const struct error *err = NULL;
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	const char *p = data;
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0) {
		err = error_errno("creating \"%s\"", tmp);
		free(tmp);
		return err;
	}
	if (fchmod(fd, mode) < 0) {
		err = error_errno("setting mode of \"%s\"", tmp);
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = error_errno("writing \"%s\"", tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		err = error_errno("syncing \"%s\"", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = error_errno("closing \"%s\"", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err = error_errno("renaming \"%s\"", tmp);
		goto out;
	}
	err = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

const struct error *fs_sync_rename(const char *tmp, const char *path)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		const struct error *err = error_errno("syncing \"%s\"", tmp);

		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return error_errno("renaming \"%s\" to \"%s\"", tmp, path);
	return fsync_dir_of(path);
}

const struct error *fs_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return error_errno("opening \"%s\"", path);
	for (;;) {
		size_t r;

		if (cap - n < 4096)
			data = xrealloc(data, cap = cap ? cap * 2 : 8192);
		r = fread(data + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		const struct error *err = error_errno("reading \"%s\"", path);

		free(data);
		fclose(f);
		return err;
	}
	fclose(f);
	data[n] = '\0';
	*out = data;
	if (len)
		*len = n;
	return NULL;
}

const struct error *fs_mkdirs(const char *path, mode_t mode)
{
	const struct error *err = NULL;
	char *p = xstrdup(path);

	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				err = error_errno("creating folder \"%s\"", p);
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (!err && !fs_is_dir(path))
		err = error_fmt("creating folder \"%s\": not a folder", path);
	free(p);
	return err;
}

const struct error *fs_symlink_atomic(const char *target, const char *link)
{
	const struct error *err = NULL;
	char *tmp = xasprintf("%s.tmp.%ld", link, (long)getpid());

	unlink(tmp);
	if (symlink(target, tmp) < 0) {
		err = error_errno("linking \"%s\"", link);
	} else if (rename(tmp, link) < 0) {
		err = error_errno("linking \"%s\"", link);
		unlink(tmp);
	} else {
		err = fsync_dir_of(link);
	}
	free(tmp);
	return err;
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const struct error *fs_private(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return error_errno("reading \"%s\"", path);
	if (st.st_mode & 077)
		return error_fmt("%s may be read by others than its owner: it must be mode 0600", path);
	return NULL;
}

int fs_only(const char *path, const char *const *names)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int ok = d != NULL;

	while (ok && (de = readdir(d))) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");

		for (size_t i = 0; names[i] && !known; i++)
			known = strcmp(de->d_name, names[i]) == 0;
		ok = known;
	}
	if (d)
		closedir(d);
	return ok;
}

int fs_nonempty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while (!n && (de = readdir(d)))
		n = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The folders between the top and where removal stands: their names and,
 * to check the way back up, their parents' identities. */
struct descent {
	struct strv names;
	dev_t *dev;
	ino_t *ino;
	size_t cap;
};

static void push_parent(struct descent *d, const char *name, const struct stat *parent)
{
	if (d->names.n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->dev = xrealloc(d->dev, d->cap * sizeof *d->dev);
		d->ino = xrealloc(d->ino, d->cap * sizeof *d->ino);
	}
	d->dev[d->names.n] = parent->st_dev;
	d->ino[d->names.n] = parent->st_ino;
	strv_push(&d->names, name);
}

/* Empty the folder open as top, at any depth: descending and climbing by
 * descriptors (openat, "..") rather than by paths, which could be longer
 * than PATH_MAX; links are removed, never followed. */
static const struct error *empty_dir(int top, const char *where)
{
	const struct error *err = NULL;
	struct descent d = {STRV_INIT, NULL, NULL, 0};
	int fd = dup(top);

	if (fd < 0)
		return error_errno("removing \"%s\"", where);
	for (;;) {
		int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
		struct dirent *de;
		char *sub = NULL;
		struct stat st;

		if (!dir) {
			if (lfd >= 0)
				close(lfd);
			err = error_errno("reading \"%s\"", where);
			goto out;
		}
		while ((errno = 0, de = readdir(dir))) {
			const char *n = de->d_name;

			if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
				continue;
			if (unlinkat(fd, n, 0) == 0 || errno == ENOENT)
				continue;
			if (errno == EISDIR && (unlinkat(fd, n, AT_REMOVEDIR) == 0 || errno == ENOENT))
				continue;
			if (errno == ENOTEMPTY || errno == EEXIST) {
				sub = xstrdup(n);
				break;
			}
			err = error_errno("removing \"%s/.../%s\"", where, n);
			closedir(dir);
			goto out;
		}
		closedir(dir);
		if (sub) {
			int c = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (c < 0 || fstat(fd, &st) < 0) {
				err = error_errno("removing \"%s/.../%s\"", where, sub);
				if (c >= 0)
					close(c);
				free(sub);
				goto out;
			}
			push_parent(&d, sub, &st);
			free(sub);
			close(fd);
			fd = c;
			continue;
		}
		if (d.names.n == 0)
			break;
		/* This folder is empty: back up, and remove it. */
		{
			int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			size_t k = d.names.n - 1;

			if (up < 0 || fstat(up, &st) < 0 || st.st_dev != d.dev[k] || st.st_ino != d.ino[k]) {
				if (up >= 0)
					close(up);
				err = error_fmt("removing \"%s\": a folder moved while it was removed", where);
				goto out;
			}
			close(fd);
			fd = up;
			if (unlinkat(fd, d.names.v[k], AT_REMOVEDIR) < 0 && errno != ENOENT) {
				err = error_errno("removing \"%s/.../%s\"", where, d.names.v[k]);
				goto out;
			}
			strv_pop(&d.names);
		}
	}
out:
	close(fd);
	strv_free(&d.names);
	free(d.dev);
	free(d.ino);
	return err;
}

const struct error *fs_remove_tree(const char *path)
{
	const struct error *err;
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? NULL : error_errno("removing \"%s\"", path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? error_errno("removing \"%s\"", path) : NULL;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return error_errno("removing \"%s\"", path);
	err = empty_dir(fd, path);
	close(fd);
	if (!err && rmdir(path) < 0 && errno != ENOENT)
		err = error_errno("removing \"%s\"", path);
	return err;
}

const struct error *fs_empty_tree(const char *path)
{
	const struct error *err;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? NULL : error_errno("emptying \"%s\"", path);
	err = empty_dir(fd, path);
	close(fd);
	return err;
}

const struct error *fs_absolute(const char *path, char **out)
{
	char cwd[PATH_MAX], *p;
	size_t n;

	if (path[0] == '/')
		p = xstrdup(path);
	else if (getcwd(cwd, sizeof cwd))
		p = xasprintf("%s/%s", cwd, path);
	else
		return error_errno("resolving \"%s\"", path);
	/* Drop "/." components and trailing slashes for tidy messages. */
	for (char *s; (s = strstr(p, "/./"));)
		memmove(s, s + 2, strlen(s + 2) + 1);
	n = strlen(p);
	if (n >= 2 && strcmp(p + n - 2, "/.") == 0)
		p[n -= 2] = '\0';
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if (!p[0])
		strcpy(p, "/");
	*out = p;
	return NULL;
}

const struct error *fs_self_exe(char **out)
{
	if (!(*out = realpath("/proc/self/exe", NULL)))
		return error_errno("finding the korcluster binary");
	return NULL;
}

uint64_t fs_free_space(const char *path)
{
	struct statvfs v;

	if (statvfs(path, &v) < 0)
		return UINT64_MAX;
	return (uint64_t)v.f_bavail * v.f_frsize;
}
