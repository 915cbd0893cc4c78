#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "strv.h"

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return err_set("out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0)
			rc = err_errno("syncing folder of \"%s\"", path);
		close(fd);
	}
	free(copy);
	return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = NULL;
	const char *p = data;
	int fd = -1, rc = -1;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return err_set("out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_errno("creating \"%s\"", tmp);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0) {
		err_errno("setting mode of \"%s\"", tmp);
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno("writing \"%s\"", tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		err_errno("syncing \"%s\"", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_errno("closing \"%s\"", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_errno("renaming \"%s\"", tmp);
		goto out;
	}
	rc = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int fs_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return err_errno("opening \"%s\"", path);
	for (;;) {
		if (cap - n < 4096) {
			char *p = realloc(data, cap = cap ? cap * 2 : 8192);

			if (!p) {
				free(data);
				fclose(f);
				return err_set("out of memory");
			}
			data = p;
		}
		size_t r = fread(data + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return err_errno("reading \"%s\"", path);
	}
	fclose(f);
	data[n] = '\0';
	*out = data;
	if (len)
		*len = n;
	return 0;
}

int fs_mkdirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return err_set("out of memory");
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				rc = err_errno("creating folder \"%s\"", p);
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (rc == 0 && !fs_is_dir(path))
		rc = err_set("creating folder \"%s\": not a folder", path);
	free(p);
	return rc;
}

int fs_symlink_atomic(const char *target, const char *link)
{
	char *tmp = NULL;
	int rc = 0;

	if (asprintf(&tmp, "%s.tmp.%ld", link, (long)getpid()) < 0)
		return err_set("out of memory");
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		rc = err_errno("linking \"%s\"", link);
	else if (rename(tmp, link) < 0) {
		rc = err_errno("linking \"%s\"", link);
		unlink(tmp);
	} else {
		rc = fsync_dir_of(link);
	}
	free(tmp);
	return rc;
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

/* The folders between the top and where removal stands: their names and,
 * to check the way back up, their parents' identities. */
struct descent {
	struct strv names;
	dev_t *dev;
	ino_t *ino;
	size_t cap;
};

static int push_parent(struct descent *d, const char *name, const struct stat *parent)
{
	if (d->names.n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		dev_t *dv = realloc(d->dev, cap * sizeof *dv);
		ino_t *iv;

		if (dv)
			d->dev = dv;
		if (!dv || !(iv = realloc(d->ino, cap * sizeof *iv)))
			return err_set("out of memory");
		d->ino = iv;
		d->cap = cap;
	}
	d->dev[d->names.n] = parent->st_dev;
	d->ino[d->names.n] = parent->st_ino;
	return strv_push(&d->names, name);
}

/* Empty the folder open as top, at any depth: descending and climbing by
 * descriptors (openat, "..") rather than by paths, which could be longer
 * than PATH_MAX; links are removed, never followed. */
static int empty_dir(int top, const char *where)
{
	struct descent d = {STRV_INIT, NULL, NULL, 0};
	int fd = dup(top), rc = -1;

	if (fd < 0)
		return err_errno("removing \"%s\"", where);
	for (;;) {
		int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
		struct dirent *de;
		char *sub = NULL;
		struct stat st;

		if (!dir) {
			if (lfd >= 0)
				close(lfd);
			err_errno("reading \"%s\"", where);
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
				sub = strdup(n);
				break;
			}
			err_errno("removing \"%s/.../%s\"", where, n);
			closedir(dir);
			goto out;
		}
		closedir(dir);
		if (sub) {
			int c = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (c < 0 || fstat(fd, &st) < 0 || push_parent(&d, sub, &st) < 0) {
				if (c >= 0)
					close(c);
				err_errno("removing \"%s/.../%s\"", where, sub);
				free(sub);
				goto out;
			}
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
				err_set("removing \"%s\": a folder moved while it was removed", where);
				goto out;
			}
			close(fd);
			fd = up;
			if (unlinkat(fd, d.names.v[k], AT_REMOVEDIR) < 0 && errno != ENOENT) {
				err_errno("removing \"%s/.../%s\"", where, d.names.v[k]);
				goto out;
			}
			free(d.names.v[k]);
			d.names.v[k] = NULL;
			d.names.n--;
		}
	}
	rc = 0;
out:
	close(fd);
	strv_free(&d.names);
	free(d.dev);
	free(d.ino);
	return rc;
}

int fs_remove_tree(const char *path)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_errno("removing \"%s\"", path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? err_errno("removing \"%s\"", path) : 0;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_errno("removing \"%s\"", path);
	rc = empty_dir(fd, path);
	close(fd);
	if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
		rc = err_errno("removing \"%s\"", path);
	return rc;
}

char *fs_absolute(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;

	if (path[0] == '/')
		out = strdup(path);
	else if (getcwd(cwd, sizeof cwd) && asprintf(&out, "%s/%s", cwd, path) < 0)
		out = NULL;
	if (!out) {
		err_errno("resolving \"%s\"", path);
		return NULL;
	}
	/* Drop "/." components and trailing slashes for tidy messages. */
	for (char *s; (s = strstr(out, "/./"));)
		memmove(s, s + 2, strlen(s + 2) + 1);
	size_t n = strlen(out);
	if (n >= 2 && strcmp(out + n - 2, "/.") == 0)
		out[n -= 2] = '\0';
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (!out[0])
		strcpy(out, "/");
	return out;
}

char *fs_self_exe(void)
{
	char *p = realpath("/proc/self/exe", NULL);

	if (!p)
		err_errno("finding the korcluster binary");
	return p;
}

char *fs_pathf(const char *fmt, ...)
{
	char *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	if (!p)
		err_set("out of memory");
	return p;
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
