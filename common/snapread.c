#include "snapread.h"

#include <archive.h>
#include <archive_entry.h>
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
#include "http.h"
#include "progress.h"
#include "sha256.h"
#include "snapshot.h"
#include "sqlcheck.h"
#include "sqlsplit.h"
#include "vtree.h"

#define IO_SIZE (256u << 10)
#define MANIFEST_MAX (64u << 20)
#define VERSION_MAX 256
#define MEMBERS_MAX 20000000u
/* Runs of zeros this long (aligned in the member) become holes. */
#define HOLE (64u << 10)

struct snapread {
	int fd;
	char *path;
	uint64_t size;
	char *buf, *inner; /* IO_SIZE each */
};

int snapread_open(struct snapread **out, const char *path)
{
	struct snapread *r = calloc(1, sizeof *r);
	struct stat st;

	*out = NULL;
	if (!r || !(r->path = strdup(path)) || !(r->buf = malloc(IO_SIZE)) || !(r->inner = malloc(IO_SIZE))) {
		snapread_close(r);
		return err_set("out of memory");
	}
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", path);
		free(r->path);
		r->path = NULL;
		snapread_close(r);
		return -1;
	}
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set("\"%s\" is not a file", path);
		snapread_close(r);
		return -1;
	}
	r->size = (uint64_t)st.st_size;
	*out = r;
	return 0;
}

void snapread_close(struct snapread *r)
{
	if (!r)
		return;
	if (r->path && r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r->buf);
	free(r->inner);
	free(r);
}

void snapread_info_free(struct snapread_info *info)
{
	json_decref(info->manifest);
	json_decref(info->members);
	free(info->prefix);
	free(info->version);
	free(info->template);
	free(info->instance);
	memset(info, 0, sizeof *info);
}

static int archive_fail(struct archive *a, const char *what)
{
	const char *why = a ? archive_error_string(a) : NULL;

	return err_set("%s: %s", what, why ? why : "unknown error");
}

/* A reader of the open file from its start. */
static struct archive *start(struct snapread *r)
{
	struct archive *a;

	if (lseek(r->fd, 0, SEEK_SET) < 0) {
		err_errno("reading \"%s\"", r->path);
		return NULL;
	}
	if (!(a = archive_read_new())) {
		err_set("out of memory");
		return NULL;
	}
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, r->fd, IO_SIZE) != ARCHIVE_OK) {
		archive_fail(a, "opening the archive");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* ---- members ---- */

/* The current member's name, without leading "./" and trailing "/", into
 * buf (SNAPSHOT_RAW_MAX + 4 bytes), and its type; every check of a single
 * member.  Returns 1 to skip it (the archive's "./" itself), 0, or -1. */
static int header(struct archive_entry *e, char *buf, const char **name, mode_t *type)
{
	const char *raw = archive_entry_pathname(e);
	size_t n;

	if (!raw)
		return err_set("an archive member has no name");
	if (strlen(raw) > SNAPSHOT_RAW_MAX)
		return err_set("archive member \"%.60s...\" has a name longer than %d bytes", raw, SNAPSHOT_NAME_MAX);
	snprintf(buf, SNAPSHOT_RAW_MAX + 4, "%s", snapshot_normalize(raw));
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	*name = buf;
	*type = archive_entry_filetype(e);
	if (!*buf && *type == AE_IFDIR)
		return 1;
	if (snapshot_path_check(buf) < 0)
		return -1;
	if (archive_entry_hardlink(e))
		return err_set("archive member \"%s\" is a hard link", buf);
	if (*type != AE_IFREG && *type != AE_IFDIR && *type != AE_IFLNK)
		return err_set("archive member \"%s\" is not a file, folder or symlink", buf);
	if (*type == AE_IFLNK && !archive_entry_symlink(e))
		return err_set("symlink \"%s\" has no target", buf);
	return 0;
}

static int is_dump_chunk(const char *name)
{
	return strncmp(name, "db/dump.", 8) == 0 && strlen(name) == 18 && strcmp(name + 14, ".sql") == 0 &&
	       strspn(name + 8, "0123456789") == 6;
}

/* KorCluster's top-level file leaf: "LEAF" or "TOP/LEAF" (TOP not data). */
static int top_level(const char *name, const char *leaf)
{
	const char *slash = strchr(name, '/');

	if (!slash)
		return strcmp(name, leaf) == 0;
	return strncmp(name, "data/", 5) != 0 && !strchr(slash + 1, '/') && strcmp(slash + 1, leaf) == 0;
}

enum dest { D_SKIP, D_DUMP, D_LEGACY_DUMP, D_DATA, D_EXTRA, D_BAD };

/* Where member name goes in an archive of info's format; *rel: its path
 * below that place (data/ or the config folder). */
static enum dest classify(const struct snapread_info *info, const char *name, const char **rel)
{
	size_t plen;

	*rel = name;
	if (!info->legacy) {
		if (strcmp(name, "manifest.json") == 0 || strcmp(name, "config/instance.ini") == 0)
			return D_SKIP;
		if (strcmp(name, "data") == 0)
			return D_DATA; /* the folder itself: *rel is "" */
		if (is_dump_chunk(name))
			return D_DUMP;
		if (strncmp(name, "data/", 5) == 0) {
			*rel = name + 5;
			return D_DATA;
		}
		return D_BAD;
	}
	plen = strlen(info->prefix);
	if (plen && strncmp(name, info->prefix, plen - 1) == 0 && name[plen - 1] == '\0')
		return D_SKIP; /* the top folder itself */
	if (strncmp(name, info->prefix, plen) != 0)
		return D_BAD;
	name += plen;
	*rel = name;
	if (strcmp(name, "db.sql.gz") == 0)
		return D_LEGACY_DUMP;
	if (strcmp(name, "version.txt") == 0 || strcmp(name, "data") == 0 || strcmp(name, "log") == 0 ||
	    strncmp(name, "log/", 4) == 0)
		return D_SKIP;
	if (strncmp(name, "data/", 5) == 0) {
		*rel = name + 5;
		return D_DATA;
	}
	return D_EXTRA;
}

typedef int (*data_fn)(void *ctx, const char *data, size_t len);

/* Reads a member's bytes for a gzip decoder (KorCluster's db.sql.gz),
 * hashing them as they pass. */
struct inner {
	struct archive *outer;
	struct snapread *r;
	struct sha256 *h;
	uint64_t *raw;
};

static la_ssize_t inner_read(struct archive *a, void *ctx, const void **out)
{
	struct inner *in = ctx;
	la_ssize_t n = archive_read_data(in->outer, in->r->inner, IO_SIZE);

	(void)a;
	if (n > 0) {
		sha256_update(in->h, in->r->inner, (size_t)n);
		*in->raw += (uint64_t)n;
	}
	*out = in->r->inner;
	return n;
}

/* Feed the current member's data to fn (through gzip if gz); h and *raw
 * get the member's own bytes. */
static int member_data(struct snapread *r, struct archive *a, int gz, struct sha256 *h, uint64_t *raw, data_fn fn,
		       void *ctx)
{
	struct archive *z = NULL;
	struct archive_entry *e;
	struct inner in = {a, r, h, raw};
	la_ssize_t n;
	int rc = -1, hr = ARCHIVE_OK;

	sha256_init(h);
	*raw = 0;
	if (!gz) {
		while ((n = archive_read_data(a, r->buf, IO_SIZE)) > 0) {
			sha256_update(h, r->buf, (size_t)n);
			*raw += (uint64_t)n;
			if (http_interrupted() ? err_set("interrupted") : fn(ctx, r->buf, (size_t)n) < 0)
				return -1;
		}
		return n < 0 ? archive_fail(a, "reading the archive") : 0;
	}
	if (!(z = archive_read_new()))
		return err_set("out of memory");
	archive_read_support_filter_gzip(z);
	archive_read_support_format_raw(z);
	archive_read_support_format_empty(z);
	if (archive_read_open(z, &in, NULL, inner_read, NULL) != ARCHIVE_OK ||
	    (hr = archive_read_next_header(z, &e)) < ARCHIVE_OK) {
		archive_fail(z, "reading db.sql.gz");
		goto out;
	}
	if (archive_filter_code(z, 0) != ARCHIVE_FILTER_GZIP) {
		err_set("db.sql.gz is not gzip data");
		goto out;
	}
	n = 0;
	while (hr == ARCHIVE_OK && (n = archive_read_data(z, r->buf, IO_SIZE)) > 0)
		if (http_interrupted() ? err_set("interrupted") : fn(ctx, r->buf, (size_t)n) < 0)
			goto out;
	if (n < 0) {
		archive_fail(z, "reading db.sql.gz");
		goto out;
	}
	/* What the decoder left unread of the member counts too. */
	while ((n = archive_read_data(a, r->inner, IO_SIZE)) > 0) {
		sha256_update(h, r->inner, (size_t)n);
		*raw += (uint64_t)n;
	}
	rc = n < 0 ? archive_fail(a, "reading the archive") : 0;
out:
	archive_read_free(z);
	return rc;
}

static int nothing(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* ---- the first pass ---- */

/* A dump's statements checked as they come; the verdict is kept until the
 * archive's format says whether this dump is the one restored. */
struct sqlpass {
	struct sqlsplit split;
	struct sqlcheck check;
	char *refused; /* the first refusal */
	uint64_t bytes;
};

static int sqlpass_statement(void *ctx, const char *stmt, size_t len)
{
	return sqlcheck_statement(&((struct sqlpass *)ctx)->check, stmt, len);
}

static void sqlpass_refuse(struct sqlpass *p, const char *why)
{
	if (!p->refused)
		p->refused = strdup(why);
}

static int sqlpass_feed(struct sqlpass *p, const char *data, size_t len)
{
	p->bytes += len;
	if (!p->refused && sqlsplit_feed(&p->split, data, len, sqlpass_statement, p) < 0)
		sqlpass_refuse(p, err_msg());
	return 0;
}

/* The verdict: 0, or -1 with the refusal. */
static int sqlpass_verdict(struct sqlpass *p)
{
	if (!p->refused && sqlsplit_finish(&p->split, sqlpass_statement, p) < 0)
		sqlpass_refuse(p, err_msg());
	if (p->refused)
		return err_set("checking the database dump: %s", p->refused);
	return 0;
}

struct verify {
	struct snapread *r;
	const struct snapread_limits *lim;
	json_t *seen;          /* name -> {type, size, sha256 | target} */
	json_t *versions;      /* version.txt candidates: name -> text */
	struct buf manifest, small;
	struct sqlpass chunks, gz; /* korcluster's dump pieces; KorCluster's db.sql.gz */
	unsigned next_chunk, gz_count;
	uint64_t total, limit;
	char why[160];         /* what sets limit */
	double shown;
};

/* n more unpacked bytes. */
static int spend(struct verify *v, uint64_t n)
{
	v->total += n;
	if (v->total > v->limit)
		return err_set("it unpacks to more than %s", v->why);
	if (progress_now() - v->shown >= 0.25) {
		v->shown = progress_now();
		progress_update("checking the archive: %.1f MiB", (double)v->total / (1 << 20));
	}
	return 0;
}

static int spend_data(void *ctx, const char *data, size_t len)
{
	(void)data;
	return spend(ctx, len);
}

static int chunk_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;

	return spend(v, len) < 0 ? -1 : sqlpass_feed(&v->chunks, data, len);
}

static int gz_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;

	return spend(v, len) < 0 ? -1 : sqlpass_feed(&v->gz, data, len);
}

static int keep_small(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;

	if (v->small.len + len > MANIFEST_MAX)
		return err_set("member is larger than %u MiB", MANIFEST_MAX >> 20);
	return spend(v, len) < 0 ? -1 : buf_append(&v->small, data, len);
}

static void set_limit(struct verify *v)
{
	const struct snapread_limits *l = v->lim;
	uint64_t by_ratio;

	v->limit = l->space;
	snprintf(v->why, sizeof v->why, "the %.1f GiB free here", (double)l->space / (1 << 30));
	if (l->unpack_max && l->unpack_max < v->limit) {
		v->limit = l->unpack_max;
		snprintf(v->why, sizeof v->why, "%.1f GiB ([limits] unpack_max)", (double)l->unpack_max / (1 << 30));
	}
	if (l->ratio) {
		by_ratio = v->r->size > (UINT64_MAX - SNAPREAD_FLOOR) / l->ratio ? UINT64_MAX
										: v->r->size * l->ratio + SNAPREAD_FLOOR;
		if (by_ratio < v->limit) {
			v->limit = by_ratio;
			snprintf(v->why, sizeof v->why, "%u times its own %llu bytes ([limits] unpack_ratio)", l->ratio,
				 (unsigned long long)v->r->size);
		}
	}
}

/* Compare what was read with the manifest, both ways. */
static int check_manifest(struct verify *v, struct snapread_info *info)
{
	json_error_t je;
	json_t *m, *members, *x, *listed;
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
	if (!(listed = json_object()))
		return err_set("out of memory");
	json_array_foreach(members, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		json_t *s = path ? json_object_get(v->seen, path) : NULL;
		const char *type = json_string_value(json_object_get(x, "type"));
		int r = -1;

		if (!path)
			err_set("manifest.json lists a member without a path");
		else if (json_object_get(listed, path))
			err_set("manifest.json lists \"%s\" twice", path);
		else if (!s)
			err_set("manifest member \"%s\" is missing from the archive", path);
		else if (!type || strcmp(type, json_string_value(json_object_get(s, "type"))) != 0)
			err_set("member \"%s\" is not of the type its manifest says", path);
		else if (strcmp(type, "file") == 0 &&
			 (!json_is_integer(json_object_get(x, "size")) ||
			  json_integer_value(json_object_get(x, "size")) != json_integer_value(json_object_get(s, "size"))))
			err_set("member \"%s\" has %lld bytes, its manifest says %lld", path,
				(long long)json_integer_value(json_object_get(s, "size")),
				(long long)json_integer_value(json_object_get(x, "size")));
		else if (strcmp(type, "file") == 0 &&
			 (!json_is_string(json_object_get(x, "sha256")) ||
			  strcmp(json_string_value(json_object_get(x, "sha256")),
				 json_string_value(json_object_get(s, "sha256"))) != 0))
			err_set("checksum mismatch on \"%s\": the archive is corrupted", path);
		else if (strcmp(type, "link") == 0 &&
			 (!json_is_string(json_object_get(x, "target")) ||
			  strcmp(json_string_value(json_object_get(x, "target")),
				 json_string_value(json_object_get(s, "target"))) != 0))
			err_set("symlink \"%s\" differs from its manifest", path);
		else
			r = json_object_set_new(listed, path, json_true()) < 0 ? err_set("out of memory") : 0;
		if (r < 0) {
			json_decref(listed);
			return -1;
		}
	}
	json_decref(listed);
	return 0;
}

/* Legacy: the one top folder holding db.sql.gz, or "". */
static int legacy_prefix(struct verify *v, struct snapread_info *info)
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
		char db[SNAPSHOT_RAW_MAX + 16];

		snprintf(db, sizeof db, "%s/db.sql.gz", top);
		if (json_object_get(v->seen, db) && asprintf(&info->prefix, "%s/", top) < 0)
			info->prefix = NULL;
	}
	free(top);
	if (!info->prefix)
		return err_set("neither a korcluster snapshot (no manifest.json) nor a KorCluster one (no db.sql.gz)");
	return 0;
}

/* Where each member goes, once the format is known: every member has a
 * place, links stay inside the folders they are restored into. */
static int check_places(struct verify *v, struct snapread_info *info)
{
	struct vtree data, extra;
	const char *name;
	json_t *x;
	int rc = -1, dumps = 0;

	if (vtree_init(&data, "data/") < 0)
		return -1;
	if (vtree_init(&extra, "the configuration files/") < 0) {
		vtree_free(&data);
		return -1;
	}
	json_object_foreach(v->seen, name, x) {
		const char *rel, *type = json_string_value(json_object_get(x, "type"));
		enum dest d = classify(info, name, &rel);
		struct vtree *t = d == D_DATA ? &data : d == D_EXTRA ? &extra : NULL;

		if (d == D_BAD) {
			err_set("archive member \"%s\" has no place in a %s snapshot", name,
				info->legacy ? "KorCluster" : "korcluster");
			goto out;
		}
		if (d == D_LEGACY_DUMP)
			dumps++;
		if (d == D_DATA && !*rel && strcmp(type, "dir") != 0) {
			err_set("archive member \"%s\" is not a folder", name);
			goto out;
		}
		if ((d == D_DUMP || d == D_LEGACY_DUMP) && strcmp(type, "file") != 0) {
			err_set("archive member \"%s\" is not a file", name);
			goto out;
		}
		if (d == D_DATA && strcmp(type, "file") == 0) {
			info->data_bytes += (uint64_t)json_integer_value(json_object_get(x, "size"));
			info->files++;
		}
		if (t && *rel && vtree_add(t, rel, type[0], json_string_value(json_object_get(x, "target"))) < 0)
			goto out;
	}
	if (info->legacy && dumps != 1) {
		err_set("the archive holds %d db.sql.gz", dumps);
		goto out;
	}
	rc = vtree_check(&data) < 0 || vtree_check(&extra) < 0 ? -1 : 0;
out:
	vtree_free(&data);
	vtree_free(&extra);
	return rc;
}

int snapread_verify(struct snapread *r, const struct snapread_limits *lim, struct snapread_info *info)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct verify v = {.r = r, .lim = lim};
	char namebuf[SNAPSHOT_RAW_MAX + 4];
	int got_manifest = 0, ar, rc = -1;

	memset(info, 0, sizeof *info);
	info->archive_bytes = r->size;
	set_limit(&v);
	sqlsplit_init(&v.chunks.split, lim->max_statement);
	sqlsplit_init(&v.gz.split, lim->max_statement);
	sqlcheck_init(&v.chunks.check, lim->target_db);
	sqlcheck_init(&v.gz.check, lim->target_db);
	if (!(v.seen = json_object()) || !(v.versions = json_object())) {
		err_set("out of memory");
		goto out;
	}
	if (!(a = start(r)))
		goto out;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name;
		mode_t type;
		int h = header(e, namebuf, &name, &type);
		struct sha256 hs;
		unsigned char d[32];
		char hex[65];
		uint64_t raw;
		json_t *rec;

		if (h < 0)
			goto out;
		if (h > 0)
			continue;
		if (json_object_get(v.seen, name) || (got_manifest && strcmp(name, "manifest.json") == 0)) {
			err_set("archive member \"%s\" appears twice", name);
			goto out;
		}
		if (json_object_size(v.seen) >= MEMBERS_MAX) {
			err_set("more than %u members", MEMBERS_MAX);
			goto out;
		}
		if (type == AE_IFREG && strcmp(name, "manifest.json") == 0) {
			got_manifest = 1;
			v.small.len = 0;
			if (member_data(r, a, 0, &hs, &raw, keep_small, &v) < 0) {
				err_wrap("reading manifest.json");
				goto out;
			}
			buf_append(&v.manifest, buf_str(&v.small), v.small.len);
			continue;
		}
		if (type == AE_IFDIR) {
			rec = json_pack("{s:s}", "type", "dir");
		} else if (type == AE_IFLNK) {
			rec = json_pack("{s:s, s:s}", "type", "link", "target", archive_entry_symlink(e));
		} else {
			int gz = top_level(name, "db.sql.gz"), mr;

			/* The header's size first: no need to read 4 GiB of zeros to
			 * refuse them. */
			if (!gz && archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
			    v.total + (uint64_t)archive_entry_size(e) > v.limit) {
				err_set("it unpacks to more than %s", v.why);
				goto out;
			}
			if (is_dump_chunk(name)) {
				char want[32];

				snprintf(want, sizeof want, "db/dump.%06u.sql", v.next_chunk);
				if (strcmp(name, want) != 0)
					sqlpass_refuse(&v.chunks, "its pieces are out of order");
				v.next_chunk++;
				mr = member_data(r, a, 0, &hs, &raw, chunk_data, &v);
			} else if (gz) {
				v.gz_count++;
				mr = member_data(r, a, 1, &hs, &raw, gz_data, &v);
			} else if (top_level(name, "version.txt")) {
				v.small.len = 0;
				mr = member_data(r, a, 0, &hs, &raw, keep_small, &v);
				if (mr == 0 && v.small.len <= VERSION_MAX)
					json_object_set_new(v.versions, name, json_stringn(buf_str(&v.small), v.small.len));
			} else {
				mr = member_data(r, a, 0, &hs, &raw, spend_data, &v);
			}
			if (mr < 0) {
				err_wrap("checking \"%s\"", name);
				goto out;
			}
			sha256_final(&hs, d);
			sha256_hex(d, hex);
			rec = json_pack("{s:s, s:I, s:s}", "type", "file", "size", (json_int_t)raw, "sha256", hex);
		}
		if (!rec || json_object_set_new(v.seen, name, rec) < 0) {
			err_set("out of memory");
			goto out;
		}
	}
	if (ar != ARCHIVE_EOF) {
		archive_fail(a, "reading the archive (truncated or corrupted)");
		goto out;
	}
	if (got_manifest) {
		if (check_manifest(&v, info) < 0 || check_places(&v, info) < 0)
			goto out;
		if (v.next_chunk == 0) {
			err_set("the archive holds no database dump");
			goto out;
		}
		if (sqlpass_verdict(&v.chunks) < 0)
			goto out;
		info->dump_bytes = v.chunks.bytes;
	} else {
		const char *text;
		char *vpath = NULL;

		info->legacy = 1;
		if (v.gz_count > 1) {
			err_set("the archive holds %u db.sql.gz", v.gz_count);
			goto out;
		}
		if (legacy_prefix(&v, info) < 0 || check_places(&v, info) < 0 || sqlpass_verdict(&v.gz) < 0)
			goto out;
		info->dump_bytes = v.gz.bytes;
		if (asprintf(&vpath, "%sversion.txt", info->prefix) < 0) {
			err_set("out of memory");
			goto out;
		}
		if ((text = json_string_value(json_object_get(v.versions, vpath)))) {
			size_t n = strlen(text);

			while (n && strchr(" \t\r\n", text[n - 1]))
				n--;
			if (n && !(info->version = strndup(text, n))) {
				free(vpath);
				err_set("out of memory");
				goto out;
			}
		}
		free(vpath);
	}
	info->members = v.seen;
	v.seen = NULL;
	rc = 0;
out:
	progress_clear();
	if (rc < 0) {
		err_wrap("refusing archive \"%s\"", r->path);
		snapread_info_free(info);
	}
	if (a)
		archive_read_free(a);
	json_decref(v.seen);
	json_decref(v.versions);
	buf_free(&v.manifest);
	buf_free(&v.small);
	sqlsplit_free(&v.chunks.split);
	sqlsplit_free(&v.gz.split);
	sqlcheck_free(&v.chunks.check);
	sqlcheck_free(&v.gz.check);
	free(v.chunks.refused);
	free(v.gz.refused);
	return rc;
}

/* ---- the second pass ---- */

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

static void set_owner_time(int fd, const char *leaf, struct archive_entry *e)
{
	struct timespec ts[2];

	if (geteuid() == 0)
		fchownat(fd, leaf, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW);
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	utimensat(fd, leaf, ts, AT_SYMLINK_NOFOLLOW);
}

static int zero(const char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* A file's data: blocks of HOLE zero bytes are skipped, so they stay holes. */
struct fdsink {
	int fd;
	const char *name;
	uint64_t pos;
};

static int write_fd(void *ctx, const char *data, size_t len)
{
	struct fdsink *s = ctx;

	while (len) {
		size_t n = HOLE - s->pos % HOLE;

		if (n > len)
			n = len;
		if (n == HOLE && zero(data, n)) {
			s->pos += n;
		} else {
			for (size_t done = 0; done < n;) {
				ssize_t w = pwrite(s->fd, data + done, n - done, (off_t)(s->pos + done));

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return err_errno("writing \"%s\"", s->name);
				done += (size_t)w;
			}
			s->pos += n;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Restore one member at rel below rootfd; h and *raw get its bytes. */
static int extract(struct snapread *r, struct archive *a, struct archive_entry *e, int rootfd, const char *rel,
		   struct sha256 *h, uint64_t *raw)
{
	mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 0777;
	const char *leaf = rel;
	int dfd = open_parent(rootfd, rel, &leaf), rc = -1;

	if (dfd < 0)
		return -1;
	if (type == AE_IFDIR) {
		if (mkdirat(dfd, leaf, perm | 0700) < 0 && errno != EEXIST) {
			err_errno("making folder \"%s\"", rel);
			goto out;
		}
		fchmodat(dfd, leaf, perm | 0700, 0);
		set_owner_time(dfd, leaf, e);
	} else if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(e), dfd, leaf) < 0) {
			err_errno("making symlink \"%s\"", rel);
			goto out;
		}
		set_owner_time(dfd, leaf, e);
	} else {
		struct fdsink s = {openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), rel, 0};

		if (s.fd < 0) {
			err_errno("creating \"%s\"", rel);
			goto out;
		}
		if (member_data(r, a, 0, h, raw, write_fd, &s) < 0 ||
		    (ftruncate(s.fd, (off_t)s.pos) < 0 && err_errno("writing \"%s\"", rel)) || fchmod(s.fd, perm) < 0) {
			close(s.fd);
			goto out;
		}
		close(s.fd);
		set_owner_time(dfd, leaf, e);
	}
	rc = 0;
out:
	close(dfd);
	return rc;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? err_errno("opening \"%s\"", path) : fd;
}

/* A member of the second pass against what the first one read. */
static int same(const char *name, json_t *rec, mode_t type, struct archive_entry *e)
{
	const char *want = json_string_value(json_object_get(rec, "type"));
	const char *is = type == AE_IFDIR ? "dir" : type == AE_IFLNK ? "link" : "file";

	if (!rec)
		return err_set("\"%s\" was not in it when it was checked", name);
	if (strcmp(want, is) != 0)
		return err_set("\"%s\" is a %s now, it was a %s", name, is, want);
	if (type == AE_IFLNK &&
	    strcmp(archive_entry_symlink(e), json_string_value(json_object_get(rec, "target"))) != 0)
		return err_set("symlink \"%s\" leads elsewhere now", name);
	return 0;
}

int snapread_restore(struct snapread *r, const struct snapread_info *info, const struct snapread_sink *s)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	json_t *seen = json_object();
	char namebuf[SNAPSHOT_RAW_MAX + 4];
	int datafd = -1, extrafd = -1, ar, rc = -1;
	unsigned next_chunk = 0;
	uint64_t done = 0;
	double shown = 0;

	if (!seen) {
		err_set("out of memory");
		goto out;
	}
	if ((datafd = open_dir(s->data_dir)) < 0 || (s->extra_dir && (extrafd = open_dir(s->extra_dir)) < 0))
		goto out;
	if (!(a = start(r)))
		goto out;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name, *rel;
		mode_t type;
		int h = header(e, namebuf, &name, &type), mr;
		json_t *rec;
		struct sha256 hs;
		unsigned char d[32];
		char hex[65];
		uint64_t raw = 0;

		if (h < 0)
			goto changed;
		if (h > 0)
			continue;
		if (!info->legacy && strcmp(name, "manifest.json") == 0) {
			if (json_object_get(seen, name) || member_data(r, a, 0, &hs, &raw, nothing, NULL) < 0)
				goto changed;
			json_object_set_new(seen, name, json_true());
			continue;
		}
		rec = json_object_get(info->members, name);
		if (json_object_get(seen, name)) {
			err_set("\"%s\" appears twice", name);
			goto changed;
		}
		if (same(name, rec, type, e) < 0 || json_object_set_new(seen, name, json_true()) < 0)
			goto changed;
		switch (classify(info, name, &rel)) {
		case D_DUMP: {
			char want[32];

			snprintf(want, sizeof want, "db/dump.%06u.sql", next_chunk++);
			if (strcmp(name, want) != 0) {
				err_set("dump piece \"%s\" is out of order", name);
				goto changed;
			}
			mr = member_data(r, a, 0, &hs, &raw, s->sql, s->ctx);
			break;
		}
		case D_LEGACY_DUMP:
			mr = member_data(r, a, 1, &hs, &raw, s->sql, s->ctx);
			break;
		case D_DATA:
			mr = *rel ? extract(r, a, e, datafd, rel, &hs, &raw) : member_data(r, a, 0, &hs, &raw, nothing, NULL);
			break;
		case D_EXTRA:
			mr = extrafd >= 0 ? extract(r, a, e, extrafd, rel, &hs, &raw)
					  : member_data(r, a, 0, &hs, &raw, nothing, NULL);
			break;
		case D_SKIP:
			mr = member_data(r, a, 0, &hs, &raw, nothing, NULL);
			break;
		default:
			err_set("\"%s\" has no place in the archive", name);
			goto changed;
		}
		if (mr < 0) {
			err_wrap("restoring \"%s\"", name);
			goto out;
		}
		if (type == AE_IFREG) {
			sha256_final(&hs, d);
			sha256_hex(d, hex);
			if ((json_int_t)raw != json_integer_value(json_object_get(rec, "size")) ||
			    strcmp(hex, json_string_value(json_object_get(rec, "sha256"))) != 0) {
				err_set("\"%s\" differs from what was checked", name);
				goto changed;
			}
		}
		done += raw;
		if (progress_now() - shown >= 0.25) {
			shown = progress_now();
			progress_update("restoring: %.1f of %.1f MiB", (double)done / (1 << 20),
					(double)(info->data_bytes + info->dump_bytes) / (1 << 20));
		}
	}
	if (ar != ARCHIVE_EOF) {
		archive_fail(a, "reading the archive");
		goto changed;
	}
	if (json_object_size(seen) != json_object_size(info->members) + !info->legacy) {
		err_set("members are missing");
		goto changed;
	}
	rc = 0;
	goto out;
changed:
	err_wrap("the archive changed since it was checked");
out:
	progress_clear();
	if (rc < 0)
		err_wrap("restoring \"%s\"", r->path);
	if (a)
		archive_read_free(a);
	if (datafd >= 0)
		close(datafd);
	if (extrafd >= 0)
		close(extrafd);
	json_decref(seen);
	return rc;
}
