#include "buildctx.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "ignore.h"
#include "mem.h"

struct buildctx {
	char *dir;
	struct ignore ig;
	int fd[2];          /* [0] read by the request, [1] written by the thread */
	pthread_t tid;
	int running;
	const struct error *err; /* the thread's */
	size_t files;
	uint64_t bytes;
	char buf[1 << 16];  /* file copies */
};

static la_ssize_t on_write(struct archive *a, void *ctx, const void *data, size_t n)
{
	struct buildctx *b = ctx;
	size_t done = 0;

	(void)a;
	while (done < n) {
		ssize_t w = send(b->fd[1], (const char *)data + done, n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "the engine stopped reading");
			return -1;
		}
		done += (size_t)w;
	}
	b->bytes += n;
	return (la_ssize_t)n;
}

static const struct error *add(struct buildctx *b, struct archive *a, int dirfd, const char *name, const char *rel);

/* Every member of the folder sub (rel: its path in the tar, "" at the top). */
static const struct error *add_folder(struct buildctx *b, struct archive *a, int sub, const char *rel)
{
	const struct error *err = NULL;
	DIR *d;
	struct dirent *de;
	struct strv names = STRV_INIT;

	if (!(d = fdopendir(sub))) {
		close(sub);
		return error_errno("opening \"%s/%s\"", b->dir, rel);
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	/* in a fixed order: the same tree gives the same tar */
	strv_sort(&names);
	for (size_t i = 0; i < names.n && !err; i++) {
		char *child = *rel ? xasprintf("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);

		err = add(b, a, dirfd(d), names.v[i], child);
		free(child);
	}
	strv_free(&names);
	closedir(d);
	return err;
}

static const struct error *archive_err(struct archive *a, const char *what, const char *path)
{
	return error_fmt("%s \"%s\": %s", what, path, archive_error_string(a) ? archive_error_string(a) : "failed");
}

/* Add the member rel (fd: its parent folder) and, for a folder, its contents. */
static const struct error *add(struct buildctx *b, struct archive *a, int dirfd, const char *name, const char *rel)
{
	const struct error *err = NULL;
	struct archive_entry *ent;
	struct stat st;
	int fd = -1, forced = strcmp(rel, "Dockerfile") == 0 || strcmp(rel, ".dockerignore") == 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno("reading \"%s/%s\"", b->dir, rel);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return NULL;
	if (!forced && ignore_match(&b->ig, rel)) {
		/* a folder left out may still hold an exception */
		if (!S_ISDIR(st.st_mode) || !b->ig.exceptions)
			return NULL;
	} else {
		ent = archive_entry_new();
		archive_entry_copy_stat(ent, &st);
		archive_entry_set_pathname(ent, rel);
		archive_entry_set_uid(ent, 0);
		archive_entry_set_gid(ent, 0);
		archive_entry_set_nlink(ent, 1);
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);

			if (n < 0) {
				archive_entry_free(ent);
				return error_errno("reading the link \"%s/%s\"", b->dir, rel);
			}
			target[n] = '\0';
			archive_entry_set_symlink(ent, target);
			archive_entry_set_size(ent, 0);
		} else if (S_ISDIR(st.st_mode)) {
			archive_entry_set_size(ent, 0);
		}
		if (S_ISREG(st.st_mode) && (fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			archive_entry_free(ent);
			return error_errno("opening \"%s/%s\"", b->dir, rel);
		}
		if (archive_write_header(a, ent) != ARCHIVE_OK)
			err = archive_err(a, "adding", rel);
		archive_entry_free(ent);
		for (ssize_t n; !err && fd >= 0 && (n = read(fd, b->buf, sizeof b->buf)) != 0;) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				err = error_errno("reading \"%s/%s\"", b->dir, rel);
			else if (archive_write_data(a, b->buf, (size_t)n) != n)
				err = archive_err(a, "adding", rel);
		}
		if (fd >= 0)
			close(fd);
		if (err)
			return err;
		b->files += !S_ISDIR(st.st_mode);
	}
	if (S_ISDIR(st.st_mode)) {
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (sub < 0)
			return error_errno("opening \"%s/%s\"", b->dir, rel);
		err = add_folder(b, a, sub, rel);
	}
	return err;
}

static void *writer(void *ctx)
{
	struct buildctx *b = ctx;
	struct archive *a = archive_write_new();
	int top = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (top < 0) {
		b->err = error_errno("opening \"%s\"", b->dir);
	} else if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
		   archive_write_set_bytes_per_block(a, 64 * 1024) != ARCHIVE_OK ||
		   archive_write_open(a, b, NULL, on_write, NULL) != ARCHIVE_OK) {
		b->err = archive_err(a, "writing the context of", b->dir);
		close(top);
	} else if (!(b->err = add_folder(b, a, top, "")) && archive_write_close(a) != ARCHIVE_OK) {
		b->err = archive_err(a, "finishing the context of", b->dir);
	}
	archive_write_free(a);
	/* the reader sees the end */
	shutdown(b->fd[1], SHUT_WR);
	return NULL;
}

const struct error *buildctx_start(const char *dir, struct buildctx **out)
{
	const struct error *err;
	struct buildctx *b = xcalloc(1, sizeof *b);
	char *df = NULL, *ign = NULL, *text = NULL;

	*out = NULL;
	b->fd[0] = b->fd[1] = -1;
	if ((err = fs_absolute(dir, &b->dir)))
		goto fail;
	df = xasprintf("%s/Dockerfile", b->dir);
	if (!fs_is_dir(b->dir) || !fs_exists(df)) {
		err = error_fmt("\"%s\" is not a folder with a Dockerfile", b->dir);
		goto fail;
	}
	ign = xasprintf("%s/.dockerignore", b->dir);
	if (fs_exists(ign)) {
		if ((err = fs_read(ign, &text, NULL)))
			goto fail;
		ignore_load(&b->ig, text);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b->fd) < 0) {
		err = error_errno("making a socket pair");
		goto fail;
	}
	if (pthread_create(&b->tid, NULL, writer, b) != 0) {
		err = error_fmt("cannot start a thread");
		goto fail;
	}
	b->running = 1;
	*out = b;
	free(df);
	free(ign);
	free(text);
	return NULL;
fail:
	free(df);
	free(ign);
	free(text);
	buildctx_finish(b, NULL, NULL);
	return err;
}

long buildctx_read(void *ctx, char *buf, size_t n, const struct error **why)
{
	struct buildctx *b = ctx;

	for (;;) {
		ssize_t r = recv(b->fd[0], buf, n, 0);

		if (r >= 0)
			return (long)r;
		if (errno != EINTR) {
			*why = error_errno("reading the build context");
			return -1;
		}
	}
}

const struct error *buildctx_finish(struct buildctx *b, size_t *files, uint64_t *bytes)
{
	const struct error *err;

	if (!b)
		return NULL;
	/* a writer still under way gets EPIPE and stops */
	if (b->fd[0] >= 0)
		close(b->fd[0]);
	if (b->running)
		pthread_join(b->tid, NULL);
	if (b->fd[1] >= 0)
		close(b->fd[1]);
	err = b->err;
	if (files)
		*files = b->files;
	if (bytes)
		*bytes = b->bytes;
	ignore_free(&b->ig);
	free(b->dir);
	free(b);
	return err;
}
