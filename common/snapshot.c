#include "snapshot.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fs.h"
#include "http.h"
#include "progress.h"
#include "sha256.h"
#include "sqlsplit.h"

#define IO_SIZE (256u << 10)
#define MANIFEST_MAX (64u << 20)
#define MEMBERS_MAX 20000000u
#define STATEMENT_MAX (1u << 30)

/* ---- pure checks ---- */

const char *snapshot_normalize(const char *name)
{
	while (name[0] == '.' && name[1] == '/') {
		name += 2;
		while (*name == '/')
			name++;
	}
	return name;
}

int snapshot_path_check(const char *name)
{
	const char *p = name;
	int depth = 0;

	if (!*name)
		return err_set("an archive member has an empty name");
	if (strlen(name) > SNAPSHOT_NAME_MAX)
		return err_set("archive member \"%.60s...\" has a name longer than %d bytes", name, SNAPSHOT_NAME_MAX);
	if (name[0] == '/')
		return err_set("archive member \"%s\" has an absolute path", name);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set("archive member \"%s\" has a \"..\" component", name);
		if ((n == 1 && p[0] == '.') || (n == 0 && p[n] == '/'))
			return err_set("archive member \"%s\" has an empty or \".\" component", name);
		if (n > 255)
			return err_set("archive member \"%.60s...\" has a name longer than 255 bytes in it", name);
		if (++depth > SNAPSHOT_DEPTH_MAX)
			return err_set("archive member \"%.60s...\" is more than %d folders deep", name, SNAPSHOT_DEPTH_MAX);
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int snapshot_link_check(const char *name, const char *target)
{
	int depth = 0;
	const char *p;

	if (!*target)
		return err_set("symlink \"%s\" has an empty target", name);
	if (target[0] == '/')
		return err_set("symlink \"%s\" points to the absolute path \"%s\"", name, target);
	/* Depth of the link's folder below the archive's root. */
	for (p = name; *p; p++)
		depth += *p == '/';
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return err_set("symlink \"%s\" points out of the archive (\"%s\")", name, target);
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* ---- writing ---- */

struct snapshot_out {
	struct archive *a;
	json_t *members;   /* [{path, type, size, sha256|target}] */
	unsigned nchunk;   /* dump pieces written */
	int (*hook)(void *ctx);
	void *hook_ctx;
	uint64_t bytes;
	double shown;
	char *io;          /* IO_SIZE */
};

static int archive_fail(struct archive *a, const char *what)
{
	const char *why = a ? archive_error_string(a) : NULL;

	return err_set("%s: %s", what, why ? why : "unknown error");
}

int snapshot_open(struct snapshot_out **out, const char *path, int gzip)
{
	struct snapshot_out *o = calloc(1, sizeof *o);
	char threads[24];
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	if (!o || !(o->a = archive_write_new()) || !(o->members = json_array()) || !(o->io = malloc(IO_SIZE))) {
		snapshot_abort(o);
		return err_set("out of memory");
	}
	/* Level 1 on up to 8 threads: about 2.5 MiB each, a better ratio than
	 * gzip -6 at many times its speed. */
	snprintf(threads, sizeof threads, "%ld", n < 1 ? 1 : n > 8 ? 8 : n);
	if (archive_write_set_format_pax_restricted(o->a) != ARCHIVE_OK ||
	    (gzip ? archive_write_add_filter_gzip(o->a)
		  : archive_write_add_filter_zstd(o->a)) != ARCHIVE_OK ||
	    (!gzip && (archive_write_set_filter_option(o->a, "zstd", "compression-level", "1") != ARCHIVE_OK ||
		       archive_write_set_filter_option(o->a, "zstd", "threads", threads) != ARCHIVE_OK)) ||
	    archive_write_set_bytes_in_last_block(o->a, 1) != ARCHIVE_OK ||
	    archive_write_open_filename(o->a, path) != ARCHIVE_OK) {
		archive_fail(o->a, "starting the archive");
		snapshot_abort(o);
		return -1;
	}
	*out = o;
	return 0;
}

uint64_t snapshot_bytes(const struct snapshot_out *o)
{
	return o->bytes;
}

static void show(struct snapshot_out *o)
{
	double now = progress_now();

	if (now - o->shown >= 0.25) {
		o->shown = now;
		progress_update("snapshot: %.1f MiB", (double)o->bytes / (1 << 20));
	}
}

static struct archive_entry *entry_for(const char *name, mode_t type, int64_t size, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		return NULL;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, time(NULL), 0);
	return e;
}

static int write_header(struct snapshot_out *o, struct archive_entry *e)
{
	if (archive_write_header(o->a, e) != ARCHIVE_OK)
		return archive_fail(o->a, "writing the archive");
	return 0;
}

static int write_data(struct snapshot_out *o, const void *data, size_t len)
{
	if (http_interrupted())
		return err_set("interrupted");
	if (len && archive_write_data(o->a, data, len) != (la_ssize_t)len)
		return archive_fail(o->a, "writing the archive");
	o->bytes += len;
	show(o);
	return 0;
}

static void member(struct snapshot_out *o, const char *name, const char *type, uint64_t size,
		   const unsigned char *digest, const char *target)
{
	json_t *m = json_pack("{s:s, s:s, s:I}", "path", name, "type", type, "size", (json_int_t)size);
	char hex[65];

	if (digest) {
		sha256_hex(digest, hex);
		json_object_set_new(m, "sha256", json_string(hex));
	}
	if (target)
		json_object_set_new(m, "target", json_string(target));
	json_array_append_new(o->members, m);
}

int snapshot_add_bytes(struct snapshot_out *o, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = entry_for(name, AE_IFREG, (int64_t)len, 0600);
	struct sha256 h;
	unsigned char d[32];
	int rc = -1;

	if (!e)
		return err_set("out of memory");
	if (write_header(o, e) == 0 && write_data(o, data, len) == 0) {
		sha256_init(&h);
		sha256_update(&h, data, len);
		sha256_final(&h, d);
		member(o, name, "file", len, d, NULL);
		rc = 0;
	}
	archive_entry_free(e);
	return rc;
}

int snapshot_add_dump(struct snapshot_out *o, const char *data, size_t len)
{
	char name[64];

	if (len > SNAPSHOT_CHUNK)
		return err_set("dump piece of %zu bytes is too large", len);
	snprintf(name, sizeof name, "db/dump.%06u.sql", o->nchunk++);
	return snapshot_add_bytes(o, name, data ? data : "", len);
}

void snapshot_set_hook(struct snapshot_out *o, int (*fn)(void *ctx), void *ctx)
{
	o->hook = fn;
	o->hook_ctx = ctx;
}

/* One regular file, read through fd: exactly st->st_size bytes go in (a
 * file that shrank meanwhile is padded with zeros, one that grew is cut),
 * and the checksum is of what went in. */
static int add_file(struct snapshot_out *o, int fd, const char *name, const struct stat *st)
{
	struct archive_entry *e = entry_for(name, AE_IFREG, st->st_size, st->st_mode & 07777);
	struct sha256 h;
	unsigned char d[32];
	uint64_t left = (uint64_t)st->st_size;
	int rc = -1;

	if (!e)
		return err_set("out of memory");
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (write_header(o, e) < 0)
		goto out;
	sha256_init(&h);
	while (left) {
		size_t want = left < IO_SIZE ? (size_t)left : IO_SIZE;
		ssize_t n = read(fd, o->io, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno("reading \"%s\"", name);
			goto out;
		}
		if (n == 0) { /* shrank */
			memset(o->io, 0, want);
			n = (ssize_t)want;
		}
		sha256_update(&h, o->io, (size_t)n);
		if (write_data(o, o->io, (size_t)n) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	sha256_final(&h, d);
	member(o, name, "file", (uint64_t)st->st_size, d, NULL);
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name: the member name of folder dfd; rel: its path below the tree's top
 * ("" for the top), for the link check. */
static int add_dir(struct snapshot_out *o, int dfd, const char *name, const char *rel)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	if (!d) {
		close(dfd);
		return err_errno("reading folder \"%s\"", name);
	}
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);

			if (!nn)
				goto nomem;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		err_errno("reading folder \"%s\"", name);
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *child = fs_pathf("%s/%s", name, names[i]);
		char *crel = *rel ? fs_pathf("%s/%s", rel, names[i]) : strdup(names[i]);
		int r = -1;

		if (!child || !crel || (o->hook && o->hook(o->hook_ctx) < 0))
			goto next;
		/* A name no import would take: the snapshot would be useless. */
		if (snapshot_path_check(child) < 0) {
			fprintf(stderr, "korcluster: left out: %s\n", err_msg());
			r = 0;
			goto next;
		}
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed meanwhile */
				r = 0;
			else
				err_errno("reading \"%s\"", child);
			goto next;
		}
		if (S_ISREG(st.st_mode)) {
			int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0) {
				r = errno == ENOENT ? 0 : err_errno("opening \"%s\"", child);
				goto next;
			}
			r = add_file(o, fd, child, &st);
			close(fd);
		} else if (S_ISDIR(st.st_mode)) {
			struct archive_entry *e = entry_for(child, AE_IFDIR, 0, st.st_mode & 07777);
			int cfd;

			if (!e) {
				err_set("out of memory");
				goto next;
			}
			archive_entry_set_uid(e, st.st_uid);
			archive_entry_set_gid(e, st.st_gid);
			archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
			r = write_header(o, e);
			archive_entry_free(e);
			if (r < 0)
				goto next;
			member(o, child, "dir", 0, NULL, NULL);
			r = -1;
			if ((cfd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				err_errno("opening folder \"%s\"", child);
				goto next;
			}
			r = add_dir(o, cfd, child, crel);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4097];
			ssize_t tn = readlinkat(dfd, names[i], target, sizeof target - 1);
			struct archive_entry *e;

			if (tn < 0) {
				r = err_errno("reading link \"%s\"", child);
				goto next;
			}
			target[tn] = '\0';
			if (snapshot_link_check(crel, target) < 0) {
				fprintf(stderr, "korcluster: left out: %s\n", err_msg());
				r = 0;
				goto next;
			}
			if (!(e = entry_for(child, AE_IFLNK, 0, 0777))) {
				err_set("out of memory");
				goto next;
			}
			archive_entry_set_symlink(e, target);
			r = write_header(o, e);
			archive_entry_free(e);
			if (r == 0)
				member(o, child, "link", 0, NULL, target);
		} else {
			fprintf(stderr, "korcluster: left out: \"%s\" is not a file, folder or symlink\n", child);
			r = 0;
		}
next:
		free(child);
		free(crel);
		if (r < 0)
			goto out;
	}
	rc = 0;
	goto out;
nomem:
	err_set("out of memory");
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int snapshot_add_tree(struct snapshot_out *o, const char *dir, const char *prefix)
{
	struct archive_entry *e = entry_for(prefix, AE_IFDIR, 0, 0755);
	int fd, rc;

	if (!e)
		return err_set("out of memory");
	rc = write_header(o, e);
	archive_entry_free(e);
	if (rc < 0)
		return -1;
	member(o, prefix, "dir", 0, NULL, NULL);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_errno("opening folder \"%s\"", dir);
	return add_dir(o, fd, prefix, "");
}

int snapshot_close(struct snapshot_out *o, const json_t *meta)
{
	json_t *m = json_deep_copy(meta);
	char *text = NULL;
	int rc = -1;

	if (!m) {
		err_set("out of memory");
		goto out;
	}
	json_object_set(m, "members", o->members);
	if (!(text = json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS))) {
		err_set("out of memory");
		goto out;
	}
	/* The manifest is not a member of itself. */
	{
		struct archive_entry *e = entry_for("manifest.json", AE_IFREG, (int64_t)strlen(text), 0644);

		if (!e) {
			err_set("out of memory");
			goto out;
		}
		rc = write_header(o, e) == 0 && write_data(o, text, strlen(text)) == 0 ? 0 : -1;
		archive_entry_free(e);
		if (rc < 0)
			goto out;
	}
	rc = -1;
	if (archive_write_close(o->a) != ARCHIVE_OK) {
		archive_fail(o->a, "finishing the archive");
		goto out;
	}
	rc = 0;
out:
	progress_clear();
	free(text);
	json_decref(m);
	snapshot_abort(o);
	return rc;
}

void snapshot_abort(struct snapshot_out *o)
{
	if (!o)
		return;
	if (o->a)
		archive_write_free(o->a);
	json_decref(o->members);
	free(o->io);
	free(o);
}
