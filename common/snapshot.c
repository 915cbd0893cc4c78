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

	if (!*name)
		return err_set("an archive member has an empty name");
	if (strlen(name) > 4096)
		return err_set("archive member \"%.60s...\" has a name longer than 4096 bytes", name);
	if (name[0] == '/')
		return err_set("archive member \"%s\" has an absolute path", name);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set("archive member \"%s\" has a \"..\" component", name);
		if ((n == 1 && p[0] == '.') || (n == 0 && p[n] == '/'))
			return err_set("archive member \"%s\" has an empty or \".\" component", name);
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

/* ---- reading ---- */

static struct archive *open_read(const char *path)
{
	struct archive *a = archive_read_new();

	if (!a) {
		err_set("out of memory");
		return NULL;
	}
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, IO_SIZE) != ARCHIVE_OK) {
		archive_fail(a, "opening the archive");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Reads a member's data through a gzip decoder (KorCluster's db.sql.gz). */
struct inner {
	struct archive *outer;
	char *buf;
};

static la_ssize_t inner_read(struct archive *a, void *ctx, const void **out)
{
	struct inner *in = ctx;
	la_ssize_t n = archive_read_data(in->outer, in->buf, IO_SIZE);

	(void)a;
	*out = in->buf;
	return n;
}

typedef int (*data_fn)(void *ctx, const char *data, size_t len);

/* Feed the current member's data to fn, through gzip if gz. */
static int member_data(struct archive *a, int gz, char *buf, data_fn fn, void *ctx)
{
	struct archive *r = NULL;
	struct archive_entry *e;
	struct inner in = {a, NULL};
	la_ssize_t n;
	int rc = -1;

	if (!gz) {
		while ((n = archive_read_data(a, buf, IO_SIZE)) > 0)
			if (http_interrupted() ? err_set("interrupted") : fn(ctx, buf, (size_t)n) < 0)
				return -1;
		return n < 0 ? archive_fail(a, "reading the archive") : 0;
	}
	if (!(in.buf = malloc(IO_SIZE)) || !(r = archive_read_new())) {
		err_set("out of memory");
		goto out;
	}
	archive_read_support_filter_gzip(r);
	archive_read_support_format_raw(r);
	if (archive_read_open(r, &in, NULL, inner_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r, &e) != ARCHIVE_OK) {
		archive_fail(r, "reading db.sql.gz");
		goto out;
	}
	if (archive_filter_code(r, 0) != ARCHIVE_FILTER_GZIP) {
		err_set("db.sql.gz is not gzip data");
		goto out;
	}
	while ((n = archive_read_data(r, buf, IO_SIZE)) > 0)
		if (http_interrupted() ? err_set("interrupted") : fn(ctx, buf, (size_t)n) < 0)
			goto out;
	if (n < 0) {
		archive_fail(r, "reading db.sql.gz");
		goto out;
	}
	rc = 0;
out:
	if (r)
		archive_read_free(r);
	free(in.buf);
	return rc;
}

/* A member's name without leading "./" and trailing "/" (as tar writes
 * folders), in buf (4100 bytes); raw is at most 4096 bytes. */
static const char *member_name(const char *raw, char *buf)
{
	size_t n;

	snprintf(buf, 4100, "%s", snapshot_normalize(raw ? raw : ""));
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return buf;
}

/* What pass 1 learns of each member. */
struct verify {
	json_t *seen;        /* name -> {type, size, sha256|target} */
	struct buf manifest;
	struct buf version;  /* legacy version.txt */
	struct sha256 h;
	uint64_t size, total, space;
	struct sqlsplit split;
	int in_dump;
	double shown;
};

static int hash_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;

	sha256_update(&v->h, data, len);
	v->size += len;
	v->total += len;
	if (v->total > v->space)
		return err_set("it unpacks to more than the %.1f GiB free here", (double)v->space / (1 << 30));
	if (progress_now() - v->shown >= 0.25) {
		v->shown = progress_now();
		progress_update("checking the archive: %.1f MiB", (double)v->total / (1 << 20));
	}
	return 0;
}

static int check_statement(void *ctx, const char *stmt, size_t len)
{
	(void)ctx;
	(void)len;
	return sqlsplit_check(stmt);
}

static int split_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;

	if (hash_data(v, data, len) < 0)
		return -1;
	return sqlsplit_feed(&v->split, data, len, check_statement, NULL);
}

static int keep_data(void *ctx, const char *data, size_t len)
{
	struct buf *b = ctx;

	if (b->len + len > MANIFEST_MAX)
		return err_set("member is larger than %u MiB", MANIFEST_MAX >> 20);
	return buf_append(b, data, len);
}

static int is_dump_chunk(const char *name)
{
	return strncmp(name, "db/dump.", 8) == 0 && strlen(name) == 18 && strcmp(name + 14, ".sql") == 0 &&
	       strspn(name + 8, "0123456789") == 6;
}

/* KorCluster's top-level file leaf: "LEAF" or "TOP/LEAF" (TOP not data/). */
static int top_level(const char *name, const char *leaf)
{
	const char *slash = strchr(name, '/');

	if (!slash)
		return strcmp(name, leaf) == 0;
	return strncmp(name, "data/", 5) != 0 && !strchr(slash + 1, '/') && strcmp(slash + 1, leaf) == 0;
}

/* Compare what was read with the manifest, both ways. */
static int check_manifest(struct verify *v, struct snapshot_info *info)
{
	json_error_t je;
	json_t *m, *members, *x;
	size_t i;
	const char *fmt;

	if (!(m = json_loadb(v->manifest.data ? v->manifest.data : "", v->manifest.len, 0, &je)))
		return err_set("manifest.json is not JSON: %s", je.text);
	info->manifest = m;
	fmt = json_string_value(json_object_get(m, "format"));
	if (!fmt || strcmp(fmt, SNAPSHOT_FORMAT) != 0)
		return err_set("manifest.json is not a korcluster snapshot's");
	if (json_integer_value(json_object_get(m, "format_version")) != SNAPSHOT_FORMAT_VERSION)
		return err_set("snapshot format version %lld is not %d (made by a newer korcluster?)",
			       (long long)json_integer_value(json_object_get(m, "format_version")),
			       SNAPSHOT_FORMAT_VERSION);
	if (!json_is_string(json_object_get(m, "version")) || !json_is_string(json_object_get(m, "template")) ||
	    !json_is_string(json_object_get(m, "instance")) || !json_is_array(members = json_object_get(m, "members")))
		return err_set("manifest.json lacks version, template, instance or members");
	info->version = strdup(json_string_value(json_object_get(m, "version")));
	info->template = strdup(json_string_value(json_object_get(m, "template")));
	info->instance = strdup(json_string_value(json_object_get(m, "instance")));
	if (!info->version || !info->template || !info->instance)
		return err_set("out of memory");
	if (json_array_size(members) != json_object_size(v->seen))
		return err_set("the archive holds %zu members, its manifest lists %zu", json_object_size(v->seen),
			       json_array_size(members));
	json_array_foreach(members, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		json_t *s = path ? json_object_get(v->seen, path) : NULL;
		const char *type = json_string_value(json_object_get(x, "type"));

		if (!s)
			return err_set("manifest member \"%s\" is missing from the archive", path ? path : "?");
		if (!type || strcmp(type, json_string_value(json_object_get(s, "type"))) != 0)
			return err_set("member \"%s\" is not of the type its manifest says", path);
		if (strcmp(type, "file") == 0) {
			const char *want = json_string_value(json_object_get(x, "sha256"));

			if (json_integer_value(json_object_get(x, "size")) !=
			    json_integer_value(json_object_get(s, "size")))
				return err_set("member \"%s\" has %lld bytes, its manifest says %lld", path,
					       (long long)json_integer_value(json_object_get(s, "size")),
					       (long long)json_integer_value(json_object_get(x, "size")));
			if (!want || strcmp(want, json_string_value(json_object_get(s, "sha256"))) != 0)
				return err_set("checksum mismatch on \"%s\": the archive is corrupted", path);
		} else if (strcmp(type, "link") == 0) {
			const char *want = json_string_value(json_object_get(x, "target"));

			if (!want || strcmp(want, json_string_value(json_object_get(s, "target"))) != 0)
				return err_set("symlink \"%s\" differs from its manifest", path);
		}
	}
	return 0;
}

/* Legacy: the one top folder holding db.sql.gz, or "". */
static int legacy_prefix(struct verify *v, struct snapshot_info *info)
{
	const char *k;
	json_t *x;
	char *top = NULL;
	int one = 1;

	if (json_object_get(v->seen, "db.sql.gz")) {
		info->prefix = strdup("");
		return info->prefix ? 0 : err_set("out of memory");
	}
	json_object_foreach(v->seen, k, x) {
		size_t n = strcspn(k, "/");

		if (!top)
			top = strndup(k, n);
		else if (strlen(top) != n || strncmp(top, k, n) != 0)
			one = 0;
	}
	if (top && one) {
		char *db = fs_pathf("%s/db.sql.gz", top);

		if (db && json_object_get(v->seen, db))
			info->prefix = fs_pathf("%s/", top);
		free(db);
	}
	free(top);
	if (!info->prefix)
		return err_set("neither a korcluster snapshot (no manifest.json) nor a KorCluster one (no db.sql.gz)");
	return 0;
}

int snapshot_verify(const char *path, uint64_t space, struct snapshot_info *info)
{
	struct archive *a;
	struct archive_entry *e;
	struct verify v = {0};
	char *buf = malloc(IO_SIZE);
	unsigned next_chunk = 0;
	int r, rc = -1, legacy_dump = 0;
	char namebuf[4100];

	memset(info, 0, sizeof *info);
	v.space = space;
	v.seen = json_object();
	sqlsplit_init(&v.split, STATEMENT_MAX);
	if (!buf || !v.seen || !(a = open_read(path))) {
		if (!buf || !v.seen)
			err_set("out of memory");
		free(buf);
		json_decref(v.seen);
		sqlsplit_free(&v.split);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *raw = archive_entry_pathname(e), *name;
		mode_t type = archive_entry_filetype(e);
		unsigned char d[32];
		char hex[65];

		if (!raw) {
			err_set("an archive member has no name");
			goto out;
		}
		if (strlen(raw) > 4096) {
			err_set("archive member \"%.60s...\" has a name longer than 4096 bytes", raw);
			goto out;
		}
		name = member_name(raw, namebuf);
		if (json_object_size(v.seen) >= MEMBERS_MAX) {
			err_set("more than %u members", MEMBERS_MAX);
			goto out;
		}
		/* "./" itself, as tar czf -C DIR . writes it. */
		if (!*name && type == AE_IFDIR)
			continue;
		if (snapshot_path_check(name) < 0)
			goto out;
		if (archive_entry_hardlink(e)) {
			err_set("archive member \"%s\" is a hard link", name);
			goto out;
		}
		if (json_object_get(v.seen, name)) {
			err_set("archive member \"%s\" appears twice", name);
			goto out;
		}
		if (strcmp(name, "manifest.json") == 0) {
			if (type != AE_IFREG || member_data(a, 0, buf, keep_data, &v.manifest) < 0) {
				err_wrap("reading manifest.json");
				goto out;
			}
			continue;
		}
		if (type == AE_IFDIR) {
			json_object_set_new(v.seen, name, json_pack("{s:s}", "type", "dir"));
		} else if (type == AE_IFLNK) {
			const char *t = archive_entry_symlink(e);

			if (!t || snapshot_link_check(name, t) < 0)
				goto out;
			json_object_set_new(v.seen, name, json_pack("{s:s, s:s}", "type", "link", "target", t));
		} else if (type == AE_IFREG) {
			int gz = top_level(name, "db.sql.gz");

			sha256_init(&v.h);
			v.size = 0;
			if (is_dump_chunk(name)) {
				char want[32];

				snprintf(want, sizeof want, "db/dump.%06u.sql", next_chunk);
				if (strcmp(name, want) != 0) {
					err_set("dump piece \"%s\" is out of order", name);
					goto out;
				}
				next_chunk++;
				r = member_data(a, 0, buf, split_data, &v);
				info->dump_bytes += v.size;
			} else if (gz) {
				/* KorCluster's dump: its gzip stream and statements are
				 * checked here; its checksum covers the compressed bytes. */
				uint64_t before = v.total;

				legacy_dump++;
				r = member_data(a, 1, buf, split_data, &v);
				info->dump_bytes += v.total - before;
			} else {
				if (top_level(name, "version.txt")) {
					buf_free(&v.version);
					r = member_data(a, 0, buf, keep_data, &v.version);
				} else {
					r = member_data(a, 0, buf, hash_data, &v);
				}
				if (strncmp(name, "data/", 5) == 0 || strstr(name, "/data/")) {
					info->data_bytes += v.size;
					info->files++;
				}
			}
			if (r < 0) {
				err_wrap("checking \"%s\"", name);
				goto out;
			}
			sha256_final(&v.h, d);
			sha256_hex(d, hex);
			json_object_set_new(v.seen, name, json_pack("{s:s, s:I, s:s}", "type", "file", "size",
								     (json_int_t)v.size, "sha256", hex));
		} else {
			err_set("archive member \"%s\" is not a file, folder or symlink", name);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		archive_fail(a, "reading the archive (truncated or corrupted)");
		goto out;
	}
	if (sqlsplit_finish(&v.split, check_statement, NULL) < 0) {
		err_wrap("checking the database dump");
		goto out;
	}
	if (v.manifest.len) {
		if (check_manifest(&v, info) < 0)
			goto out;
		if (next_chunk == 0) {
			err_set("the archive holds no database dump");
			goto out;
		}
	} else {
		size_t n;

		if (legacy_dump != 1 && legacy_dump != 0) {
			err_set("the archive holds %d db.sql.gz", legacy_dump);
			goto out;
		}
		if (legacy_prefix(&v, info) < 0)
			goto out;
		info->legacy = 1;
		n = v.version.len;
		while (n && strchr(" \t\r\n", v.version.data[n - 1]))
			n--;
		if (n && !(info->version = strndup(v.version.data, n))) {
			err_set("out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	progress_clear();
	if (rc < 0) {
		err_wrap("refusing archive \"%s\"", path);
		snapshot_info_free(info);
	}
	archive_read_free(a);
	free(buf);
	json_decref(v.seen);
	buf_free(&v.manifest);
	buf_free(&v.version);
	sqlsplit_free(&v.split);
	return rc;
}

void snapshot_info_free(struct snapshot_info *info)
{
	json_decref(info->manifest);
	free(info->prefix);
	free(info->version);
	free(info->template);
	free(info->instance);
	memset(info, 0, sizeof *info);
}

/* ---- restoring ---- */

/* Open the folder holding rel below rootfd, creating folders as needed and
 * never following a symlink; *leaf points at rel's last component. */
static int open_parent(int rootfd, const char *rel, const char **leaf)
{
	int fd = dup(rootfd);
	const char *p = rel;

	if (fd < 0)
		return err_errno("opening a folder");
	for (;;) {
		size_t n = strcspn(p, "/");
		char part[256];
		int next;

		if (!p[n]) {
			*leaf = p;
			return fd;
		}
		if (n >= sizeof part) {
			close(fd);
			return err_set("a name in \"%s\" is longer than 255 bytes", rel);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			close(fd);
			return err_errno("making folder for \"%s\"", rel);
		}
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return err_errno("opening folder for \"%s\"", rel);
		fd = next;
		p += n + 1;
	}
}

static void set_owner_time(int fd, const char *leaf, struct archive_entry *e, int flags)
{
	struct timespec ts[2];

	if (geteuid() == 0)
		fchownat(fd, leaf, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), flags);
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	utimensat(fd, leaf, ts, flags);
}

struct fdsink {
	int fd;
	const char *name;
};

static int write_fd(void *ctx, const char *data, size_t len)
{
	struct fdsink *s = ctx;

	while (len) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno("writing \"%s\"", s->name);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Restore one member at rel below rootfd. */
static int extract(struct archive *a, struct archive_entry *e, int rootfd, const char *rel, char *buf)
{
	mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 0777;
	const char *leaf;
	int dfd = open_parent(rootfd, rel, &leaf), rc = -1;

	if (dfd < 0)
		return -1;
	if (type == AE_IFDIR) {
		if (mkdirat(dfd, leaf, perm | 0700) < 0 && errno != EEXIST) {
			err_errno("making folder \"%s\"", rel);
			goto out;
		}
		fchmodat(dfd, leaf, perm | 0700, 0);
		set_owner_time(dfd, leaf, e, AT_SYMLINK_NOFOLLOW);
	} else if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(e), dfd, leaf) < 0) {
			err_errno("making symlink \"%s\"", rel);
			goto out;
		}
		set_owner_time(dfd, leaf, e, AT_SYMLINK_NOFOLLOW);
	} else {
		struct fdsink s = {openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), rel};

		if (s.fd < 0) {
			err_errno("creating \"%s\"", rel);
			goto out;
		}
		if (member_data(a, 0, buf, write_fd, &s) < 0 || fchmod(s.fd, perm) < 0) {
			close(s.fd);
			goto out;
		}
		close(s.fd);
		set_owner_time(dfd, leaf, e, AT_SYMLINK_NOFOLLOW);
	}
	rc = 0;
out:
	close(dfd);
	return rc;
}

int snapshot_restore(const char *path, const struct snapshot_info *info, const struct snapshot_sink *s)
{
	struct archive *a = open_read(path);
	struct archive_entry *e;
	char *buf = malloc(IO_SIZE);
	int datafd = -1, extrafd = -1, r, rc = -1;
	size_t plen = info->prefix ? strlen(info->prefix) : 0;
	uint64_t done = 0;
	double shown = 0;
	char namebuf[4100];

	if (!a || !buf) {
		if (!buf)
			err_set("out of memory");
		goto out;
	}
	if ((datafd = open(s->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", s->data_dir);
		goto out;
	}
	if (s->extra_dir && (extrafd = open(s->extra_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", s->extra_dir);
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = member_name(archive_entry_pathname(e), namebuf);

		if (info->legacy) {
			if (strncmp(name, info->prefix, plen) != 0)
				continue;
			name += plen;
			if (!*name)
				continue;
			if (strcmp(name, "db.sql.gz") == 0) {
				r = member_data(a, 1, buf, s->sql, s->ctx);
			} else if (strncmp(name, "data/", 5) == 0) {
				r = extract(a, e, datafd, name + 5, buf);
			} else if (strcmp(name, "data") == 0 || strcmp(name, "log") == 0 || strncmp(name, "log/", 4) == 0 ||
				   strcmp(name, "version.txt") == 0 || extrafd < 0) {
				continue;
			} else {
				r = extract(a, e, extrafd, name, buf);
			}
		} else if (is_dump_chunk(name)) {
			r = member_data(a, 0, buf, s->sql, s->ctx);
		} else if (strncmp(name, "data/", 5) == 0) {
			r = extract(a, e, datafd, name + 5, buf);
		} else {
			continue;
		}
		if (r < 0) {
			err_wrap("restoring \"%s\"", name);
			goto out;
		}
		done += (uint64_t)archive_entry_size(e);
		if (progress_now() - shown >= 0.25) {
			shown = progress_now();
			progress_update("restoring: %.1f of %.1f MiB", (double)done / (1 << 20),
					(double)(info->data_bytes + info->dump_bytes) / (1 << 20));
		}
	}
	if (r != ARCHIVE_EOF) {
		archive_fail(a, "reading the archive");
		goto out;
	}
	rc = 0;
out:
	progress_clear();
	if (datafd >= 0)
		close(datafd);
	if (extrafd >= 0)
		close(extrafd);
	if (a)
		archive_read_free(a);
	free(buf);
	return rc;
}
