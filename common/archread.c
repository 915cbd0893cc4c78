#include "archread.h"

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
#include "clock.h"
#include "conf.h"
#include "err.h"
#include "interrupt.h"
#include "mem.h"
#include "report.h"
#include "sha256.h"
#include "archive.h"
#include "sqlcheck.h"
#include "sqlsplit.h"
#include "vtree.h"

#define IO_SIZE (256u << 10)
#define MANIFEST_MAX (64u << 20)
#define VERSION_MAX 256
#define MEMBERS_MAX 20000000u
/* Runs of zeros this long (aligned in the member) become holes. */
#define HOLE (64u << 10)

struct verify;

struct archread {
	int fd;
	char *path;
	uint64_t size;
	char *buf, *inner; /* IO_SIZE each */
	/* Checked as it is restored (archread_inspect()): the reader stands
	 * after config/instance.ini, whose record v holds. */
	struct archive *a;
	struct verify *v;
};

static void verify_free(struct verify *v);

const struct error *archread_open(struct archread **out, const char *path)
{
	const struct error *err;
	struct archread *r;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return error_errno("opening \"%s\"", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = error_fmt("\"%s\" is not a file", path);
		close(fd);
		return err;
	}
	r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->path = xstrdup(path);
	r->buf = xmalloc(IO_SIZE);
	r->inner = xmalloc(IO_SIZE);
	r->size = (uint64_t)st.st_size;
	*out = r;
	return NULL;
}

void archread_close(struct archread *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	verify_free(r->v);
	close(r->fd);
	free(r->path);
	free(r->buf);
	free(r->inner);
	free(r);
}

void archread_info_free(struct archread_info *info)
{
	json_decref(info->manifest);
	json_decref(info->members);
	free(info->prefix);
	free(info->version);
	free(info->template);
	free(info->instance);
	memset(info, 0, sizeof *info);
}

static const struct error *archive_fail(struct archive *a, const char *what)
{
	const char *why = a ? archive_error_string(a) : NULL;

	return error_fmt("%s: %s", what, why ? why : "unknown error");
}

/* A reader of the open file from its start. */
static const struct error *start(struct archread *r, struct archive **out)
{
	const struct error *err;
	struct archive *a;

	*out = NULL;
	if (lseek(r->fd, 0, SEEK_SET) < 0)
		return error_errno("reading \"%s\"", r->path);
	if (!(a = archive_read_new()))
		report_out_of_memory();
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, r->fd, IO_SIZE) != ARCHIVE_OK) {
		err = archive_fail(a, "opening the archive");
		archive_read_free(a);
		return err;
	}
	*out = a;
	return NULL;
}

/* ---- members ---- */

/* Whether s is UTF-8: names and link targets are kept as JSON strings. */
static int utf8(const char *s)
{
	json_t *j = json_string(s);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

/* The current member's name, without leading "./" and trailing "/", into
 * buf (ARCHIVE_RAW_MAX + 4 bytes), and its type; every check of a single
 * member.  *skip: the archive's "./" itself. */
static const struct error *header(struct archive_entry *e, char *buf, const char **name, mode_t *type, int *skip)
{
	const struct error *err;
	const char *raw = archive_entry_pathname(e);
	size_t n;

	*skip = 0;
	buf[0] = '\0';
	*name = buf;
	*type = 0;
	if (!raw)
		return error_fmt("an archive member has no name");
	if (strlen(raw) > ARCHIVE_RAW_MAX)
		return error_fmt("archive member \"%.60s...\" has a name longer than %d bytes", raw, ARCHIVE_NAME_MAX);
	snprintf(buf, ARCHIVE_RAW_MAX + 4, "%s", archive_normalize(raw));
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	*name = buf;
	*type = archive_entry_filetype(e);
	if (!*buf && *type == AE_IFDIR) {
		*skip = 1;
		return NULL;
	}
	if ((err = archive_path_check(buf)))
		return err;
	if (!utf8(buf))
		return error_fmt("archive member \"%s\" has a name that is not UTF-8", buf);
	if (archive_entry_hardlink(e))
		return error_fmt("archive member \"%s\" is a hard link", buf);
	if (*type != AE_IFREG && *type != AE_IFDIR && *type != AE_IFLNK)
		return error_fmt("archive member \"%s\" is not a file, folder or symlink", buf);
	if (*type == AE_IFLNK && !archive_entry_symlink(e))
		return error_fmt("symlink \"%s\" has no target", buf);
	if (*type == AE_IFLNK && !utf8(archive_entry_symlink(e)))
		return error_fmt("symlink \"%s\" has a target that is not UTF-8", buf);
	return NULL;
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
static enum dest classify(const struct archread_info *info, const char *name, const char **rel)
{
	size_t plen;

	*rel = name;
	if (!info->legacy) {
		if (strcmp(name, "manifest.json") == 0 || strcmp(name, "config/instance.ini") == 0)
			return D_SKIP;
		if (strcmp(name, "data") == 0) {
			*rel = ""; /* the folder itself */
			return D_DATA;
		}
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

typedef const struct error *(*data_fn)(void *ctx, const char *data, size_t len);

/* Reads a member's bytes for a gzip decoder (KorCluster's db.sql.gz),
 * hashing them as they pass. */
struct inner {
	struct archive *outer;
	struct archread *r;
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
static const struct error *member_data(struct archread *r, struct archive *a, int gz, struct sha256 *h, uint64_t *raw,
				       data_fn fn, void *ctx)
{
	const struct error *err = NULL;
	struct archive *z;
	struct archive_entry *e;
	struct inner in = {a, r, h, raw};
	la_ssize_t n;
	int hr = ARCHIVE_OK;

	sha256_init(h);
	*raw = 0;
	if (!gz) {
		while ((n = archive_read_data(a, r->buf, IO_SIZE)) > 0) {
			sha256_update(h, r->buf, (size_t)n);
			*raw += (uint64_t)n;
			if ((err = interrupt_pending() ? error_interrupted() : fn(ctx, r->buf, (size_t)n)))
				return err;
		}
		return n < 0 ? archive_fail(a, "reading the archive") : NULL;
	}
	if (!(z = archive_read_new()))
		report_out_of_memory();
	archive_read_support_filter_gzip(z);
	archive_read_support_format_raw(z);
	archive_read_support_format_empty(z);
	if (archive_read_open(z, &in, NULL, inner_read, NULL) != ARCHIVE_OK ||
	    (hr = archive_read_next_header(z, &e)) < ARCHIVE_OK) {
		err = archive_fail(z, "reading db.sql.gz");
		goto out;
	}
	if (archive_filter_code(z, 0) != ARCHIVE_FILTER_GZIP) {
		err = error_fmt("db.sql.gz is not gzip data");
		goto out;
	}
	n = 0;
	while (hr == ARCHIVE_OK && (n = archive_read_data(z, r->buf, IO_SIZE)) > 0)
		if ((err = interrupt_pending() ? error_interrupted() : fn(ctx, r->buf, (size_t)n)))
			goto out;
	if (n < 0) {
		err = archive_fail(z, "reading db.sql.gz");
		goto out;
	}
	/* What the decoder left unread of the member counts too. */
	while ((n = archive_read_data(a, r->inner, IO_SIZE)) > 0) {
		sha256_update(h, r->inner, (size_t)n);
		*raw += (uint64_t)n;
	}
	if (n < 0)
		err = archive_fail(a, "reading the archive");
out:
	archive_read_free(z);
	return err;
}

static const struct error *nothing(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return NULL;
}

/* ---- the first pass ---- */

/* A dump's statements checked as they come; the verdict is kept until the
 * archive's format says whether this dump is the one restored. */
struct sqlpass {
	struct sqlsplit split;
	struct sqlcheck check;
	const struct error *refused; /* the first refusal */
	uint64_t bytes;
};

static const struct error *sqlpass_statement(void *ctx, const char *stmt, size_t len)
{
	return sqlcheck_statement(&((struct sqlpass *)ctx)->check, stmt, len);
}

static const struct error *sqlpass_feed(struct sqlpass *p, const char *data, size_t len)
{
	p->bytes += len;
	if (!p->refused)
		p->refused = sqlsplit_feed(&p->split, data, len, sqlpass_statement, p);
	return NULL;
}

/* The verdict: NULL, or the refusal. */
static const struct error *sqlpass_verdict(struct sqlpass *p)
{
	if (!p->refused)
		p->refused = sqlsplit_finish(&p->split, sqlpass_statement, p);
	return error_wrap(p->refused, "checking the database dump");
}

struct verify {
	struct archread *r;
	struct archread_limits lim;
	json_t *seen;          /* name -> {type, size, sha256 | target} */
	json_t *versions;      /* version.txt candidates: name -> text */
	struct buf manifest, small;
	struct sqlpass chunks, gz; /* korcluster's dump pieces; KorCluster's db.sql.gz */
	unsigned next_chunk, gz_count;
	uint64_t total, limit;
	char why[160];         /* what sets limit */
	double shown;
	int refused;           /* spend() refused it */
	int quiet;             /* the one pass shows its own progress */
};

/* n more unpacked bytes. */
static const struct error *spend(struct verify *v, uint64_t n)
{
	v->total += n;
	if (v->total > v->limit) {
		v->refused = 1;
		return error_fmt("it unpacks to more than %s", v->why);
	}
	if (!v->quiet && clock_seconds() - v->shown >= 0.25) {
		v->shown = clock_seconds();
		report_progress("checking the archive: %.1f MiB", (double)v->total / (1 << 20));
	}
	return NULL;
}

static const struct error *spend_data(void *ctx, const char *data, size_t len)
{
	(void)data;
	return spend(ctx, len);
}

static const struct error *chunk_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;
	const struct error *err = spend(v, len);

	return err ? err : sqlpass_feed(&v->chunks, data, len);
}

static const struct error *gz_data(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;
	const struct error *err = spend(v, len);

	return err ? err : sqlpass_feed(&v->gz, data, len);
}

static const struct error *keep_small(void *ctx, const char *data, size_t len)
{
	struct verify *v = ctx;
	const struct error *err;

	if (v->small.len + len > MANIFEST_MAX)
		return error_fmt("member is larger than %u MiB", MANIFEST_MAX >> 20);
	if ((err = spend(v, len)))
		return err;
	buf_append(&v->small, data, len);
	return NULL;
}

static void set_limit(struct verify *v)
{
	const struct archread_limits *l = &v->lim;
	uint64_t by_ratio;

	v->limit = l->space;
	snprintf(v->why, sizeof v->why, "the %.1f GiB free here", (double)l->space / (1 << 30));
	if (l->unpack_max && l->unpack_max < v->limit) {
		v->limit = l->unpack_max;
		snprintf(v->why, sizeof v->why, "%.1f GiB ([limits] unpack_max)", (double)l->unpack_max / (1 << 30));
	}
	if (l->ratio) {
		by_ratio = v->r->size > (UINT64_MAX - ARCHREAD_FLOOR) / l->ratio ? UINT64_MAX
										: v->r->size * l->ratio + ARCHREAD_FLOOR;
		if (by_ratio < v->limit) {
			v->limit = by_ratio;
			snprintf(v->why, sizeof v->why, "%u times its own %llu bytes ([limits] unpack_ratio)", l->ratio,
				 (unsigned long long)v->r->size);
		}
	}
}

/* Compare what was read with the manifest, both ways. */
static const struct error *check_manifest(struct verify *v, struct archread_info *info)
{
	const struct error *err = NULL;
	json_error_t je;
	json_t *m, *members, *x, *listed;
	size_t i;
	const char *fmt;

	if (!(m = json_loadb(buf_str(&v->manifest), v->manifest.len, 0, &je)))
		return error_fmt("manifest.json is not JSON: %s", je.text);
	info->manifest = m;
	fmt = json_string_value(json_object_get(m, "format"));
	if (!fmt || strcmp(fmt, ARCHIVE_FORMAT) != 0)
		return error_fmt("manifest.json is not a korcluster snapshot's");
	if (json_integer_value(json_object_get(m, "format_version")) != ARCHIVE_FORMAT_VERSION)
		return error_fmt("snapshot format version %lld is not %d (made by a newer korcluster?)",
				 (long long)json_integer_value(json_object_get(m, "format_version")),
				 ARCHIVE_FORMAT_VERSION);
	if (!json_is_string(json_object_get(m, "version")) || !json_is_string(json_object_get(m, "template")) ||
	    !json_is_string(json_object_get(m, "instance")) || !json_is_array(members = json_object_get(m, "members")))
		return error_fmt("manifest.json lacks version, template, instance or members");
	info->version = xstrdup(json_string_value(json_object_get(m, "version")));
	info->template = xstrdup(json_string_value(json_object_get(m, "template")));
	info->instance = xstrdup(json_string_value(json_object_get(m, "instance")));
	if (json_array_size(members) != json_object_size(v->seen))
		return error_fmt("the archive holds %zu members, its manifest lists %zu", json_object_size(v->seen),
				 json_array_size(members));
	if (!(listed = json_object()))
		report_out_of_memory();
	json_array_foreach(members, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		json_t *s = path ? json_object_get(v->seen, path) : NULL;
		const char *type = json_string_value(json_object_get(x, "type"));

		if (!path)
			err = error_fmt("manifest.json lists a member without a path");
		else if (json_object_get(listed, path))
			err = error_fmt("manifest.json lists \"%s\" twice", path);
		else if (!s)
			err = error_fmt("manifest member \"%s\" is missing from the archive", path);
		else if (!type || strcmp(type, json_string_value(json_object_get(s, "type"))) != 0)
			err = error_fmt("member \"%s\" is not of the type its manifest says", path);
		else if (strcmp(type, "file") == 0 &&
			 (!json_is_integer(json_object_get(x, "size")) ||
			  json_integer_value(json_object_get(x, "size")) != json_integer_value(json_object_get(s, "size"))))
			err = error_fmt("member \"%s\" has %lld bytes, its manifest says %lld", path,
					(long long)json_integer_value(json_object_get(s, "size")),
					(long long)json_integer_value(json_object_get(x, "size")));
		else if (strcmp(type, "file") == 0 &&
			 (!json_is_string(json_object_get(x, "sha256")) ||
			  strcmp(json_string_value(json_object_get(x, "sha256")),
				 json_string_value(json_object_get(s, "sha256"))) != 0))
			err = error_fmt("checksum mismatch on \"%s\": the archive is corrupted", path);
		else if (strcmp(type, "link") == 0 &&
			 (!json_is_string(json_object_get(x, "target")) ||
			  strcmp(json_string_value(json_object_get(x, "target")),
				 json_string_value(json_object_get(s, "target"))) != 0))
			err = error_fmt("symlink \"%s\" differs from its manifest", path);
		else
			json_object_set_new(listed, path, json_true());
		if (err)
			break;
	}
	json_decref(listed);
	return err;
}

/* Legacy: the one top folder holding db.sql.gz, or "". */
static const struct error *legacy_prefix(struct verify *v, struct archread_info *info)
{
	const char *k;
	json_t *x;
	char *top = NULL;
	int one = 1;

	if (json_object_get(v->seen, "db.sql.gz")) {
		info->prefix = xstrdup("");
		return NULL;
	}
	json_object_foreach(v->seen, k, x) {
		size_t n = strcspn(k, "/");

		if (!top)
			top = xstrndup(k, n);
		else if (strlen(top) != n || strncmp(top, k, n) != 0)
			one = 0;
	}
	if (top && one) {
		char *db = xasprintf("%s/db.sql.gz", top);

		if (json_object_get(v->seen, db))
			info->prefix = xasprintf("%s/", top);
		free(db);
	}
	free(top);
	if (!info->prefix)
		return error_fmt("neither a korcluster snapshot (no manifest.json) nor a KorCluster one (no db.sql.gz)");
	return NULL;
}

/* Where each member goes, once the format is known: every member has a
 * place, links stay inside the folders they are restored into. */
static const struct error *check_places(struct verify *v, struct archread_info *info)
{
	const struct error *err = NULL;
	struct vtree data, extra;
	const char *name;
	json_t *x;
	int dumps = 0;

	vtree_init(&data, "data/");
	vtree_init(&extra, "the configuration files/");
	json_object_foreach(v->seen, name, x) {
		const char *rel, *type = json_string_value(json_object_get(x, "type"));
		enum dest d = classify(info, name, &rel);
		struct vtree *t = d == D_DATA ? &data : d == D_EXTRA ? &extra : NULL;

		if (d == D_BAD)
			err = error_fmt("archive member \"%s\" has no place in a %s snapshot", name,
					info->legacy ? "KorCluster" : "korcluster");
		else if (d == D_DATA && !*rel && strcmp(type, "dir") != 0)
			err = error_fmt("archive member \"%s\" is not a folder", name);
		else if ((d == D_DUMP || d == D_LEGACY_DUMP) && strcmp(type, "file") != 0)
			err = error_fmt("archive member \"%s\" is not a file", name);
		if (err)
			goto out;
		if (d == D_LEGACY_DUMP)
			dumps++;
		if (d == D_DATA && strcmp(type, "file") == 0) {
			info->data_bytes += (uint64_t)json_integer_value(json_object_get(x, "size"));
			info->files++;
		}
		if (t && *rel)
			vtree_add(t, rel, type[0], json_string_value(json_object_get(x, "target")));
	}
	if (info->legacy && dumps != 1)
		err = error_fmt("the archive holds %d db.sql.gz", dumps);
	else if (!(err = vtree_check(&data)))
		err = vtree_check(&extra);
out:
	vtree_free(&data);
	vtree_free(&extra);
	return err;
}

/* A file member's record: its size and sha256 (h is finished). */
static json_t *file_record(struct sha256 *h, uint64_t raw)
{
	unsigned char d[32];
	char hex[65];

	sha256_final(h, d);
	sha256_hex(d, hex);
	return json_pack("{s:s, s:I, s:s}", "type", "file", "size", (json_int_t)raw, "sha256", hex);
}

/* The size a member's header gives, against the limit: no need to read
 * 4 GiB of zeros to refuse them. */
static const struct error *header_size(struct verify *v, struct archive_entry *e)
{
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    v->total + (uint64_t)archive_entry_size(e) > v->limit)
		return error_fmt("it unpacks to more than %s", v->why);
	return NULL;
}

/* One member of the first pass: its record, checked and read. */
static const struct error *verify_member(struct verify *v, struct archive *a, struct archive_entry *e, const char *name,
					 mode_t type, json_t **rec)
{
	const struct error *err;
	struct sha256 hs = {0};
	uint64_t raw = 0;
	int gz = top_level(name, "db.sql.gz");

	*rec = NULL;
	if (type == AE_IFDIR) {
		*rec = json_pack("{s:s}", "type", "dir");
		return NULL;
	}
	if (type == AE_IFLNK) {
		*rec = json_pack("{s:s, s:s}", "type", "link", "target", archive_entry_symlink(e));
		return NULL;
	}
	/* The header's size first (db.sql.gz unpacks to more than it is). */
	if (!gz && (err = header_size(v, e)))
		return err;
	if (is_dump_chunk(name)) {
		char want[32];

		snprintf(want, sizeof want, "db/dump.%06u.sql", v->next_chunk);
		if (strcmp(name, want) != 0 && !v->chunks.refused)
			v->chunks.refused = error_fmt("its pieces are out of order");
		v->next_chunk++;
		err = member_data(v->r, a, 0, &hs, &raw, chunk_data, v);
	} else if (gz) {
		v->gz_count++;
		err = member_data(v->r, a, 1, &hs, &raw, gz_data, v);
	} else if (top_level(name, "version.txt")) {
		v->small.len = 0;
		err = member_data(v->r, a, 0, &hs, &raw, keep_small, v);
		if (!err && v->small.len <= VERSION_MAX)
			json_object_set_new(v->versions, name, json_stringn(buf_str(&v->small), v->small.len));
	} else {
		err = member_data(v->r, a, 0, &hs, &raw, spend_data, v);
	}
	if (err)
		return error_wrap(err, "checking \"%s\"", name);
	*rec = file_record(&hs, raw);
	return NULL;
}

/* After the last member: what the format says the archive must be. */
static const struct error *verify_whole(struct verify *v, int got_manifest, struct archread_info *info)
{
	const struct error *err;
	const char *text;
	char *vpath;

	if (got_manifest) {
		if ((err = check_manifest(v, info)) || (err = check_places(v, info)))
			return err;
		if (v->next_chunk == 0)
			return error_fmt("the archive holds no database dump");
		if ((err = sqlpass_verdict(&v->chunks)))
			return err;
		info->dump_bytes = v->chunks.bytes;
		return NULL;
	}
	info->legacy = 1;
	if (v->gz_count > 1)
		return error_fmt("the archive holds %u db.sql.gz", v->gz_count);
	if ((err = legacy_prefix(v, info)) || (err = check_places(v, info)) || (err = sqlpass_verdict(&v->gz)))
		return err;
	info->dump_bytes = v->gz.bytes;
	vpath = xasprintf("%sversion.txt", info->prefix);
	if ((text = json_string_value(json_object_get(v->versions, vpath)))) {
		size_t n = strlen(text);

		while (n && strchr(" \t\r\n", text[n - 1]))
			n--;
		if (n)
			info->version = xstrndup(text, n);
	}
	free(vpath);
	return NULL;
}

static void verify_init(struct verify *v, struct archread *r, const struct archread_limits *lim)
{
	memset(v, 0, sizeof *v);
	v->r = r;
	v->lim = *lim;
	set_limit(v);
	sqlsplit_init(&v->chunks.split, lim->max_statement);
	sqlsplit_init(&v->gz.split, lim->max_statement);
	sqlcheck_init(&v->chunks.check, lim->target_db);
	sqlcheck_init(&v->gz.check, lim->target_db);
	if (!(v->seen = json_object()) || !(v->versions = json_object()))
		report_out_of_memory();
}

static void verify_done(struct verify *v)
{
	json_decref(v->seen);
	json_decref(v->versions);
	buf_free(&v->manifest);
	buf_free(&v->small);
	sqlsplit_free(&v->chunks.split);
	sqlsplit_free(&v->gz.split);
	sqlcheck_free(&v->chunks.check);
	sqlcheck_free(&v->gz.check);
	memset(v, 0, sizeof *v);
}

static void verify_free(struct verify *v)
{
	if (v) {
		verify_done(v);
		free(v);
	}
}

/* The current member's manifest.json, into v->manifest. */
static const struct error *verify_manifest(struct verify *v, struct archive *a)
{
	const struct error *err;
	struct sha256 hs = {0};
	uint64_t raw = 0;

	v->small.len = 0;
	if ((err = member_data(v->r, a, 0, &hs, &raw, keep_small, v)))
		return error_wrap(err, "reading manifest.json");
	buf_append(&v->manifest, buf_str(&v->small), v->small.len);
	return NULL;
}

/* What every pass that checks does with a member's header: the checks of
 * header(), then once only, not past the last manifest, not more than
 * MEMBERS_MAX; manifest.json is read into v->manifest.  *take: the member
 * is the caller's to read (not the archive's "./" nor the manifest). */
static const struct error *verify_header(struct verify *v, struct archive *a, struct archive_entry *e, char *namebuf,
					 const char **name, mode_t *type, int *got_manifest, int *take)
{
	const struct error *err;
	int skip;

	*take = 0;
	if ((err = header(e, namebuf, name, type, &skip)) || skip)
		return err;
	if (json_object_get(v->seen, *name) || (*got_manifest && strcmp(*name, "manifest.json") == 0))
		return error_fmt("archive member \"%s\" appears twice", *name);
	if (json_object_size(v->seen) >= MEMBERS_MAX)
		return error_fmt("more than %u members", MEMBERS_MAX);
	if (*type == AE_IFREG && strcmp(*name, "manifest.json") == 0) {
		*got_manifest = 1;
		return verify_manifest(v, a);
	}
	*take = 1;
	return NULL;
}

const struct error *archread_verify(struct archread *r, const struct archread_limits *lim, struct archread_info *info)
{
	const struct error *err;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct verify v;
	char namebuf[ARCHIVE_RAW_MAX + 4];
	int got_manifest = 0, ar;

	memset(info, 0, sizeof *info);
	info->archive_bytes = r->size;
	verify_init(&v, r, lim);
	if ((err = start(r, &a)))
		goto out;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name;
		mode_t type;
		int take;
		json_t *rec;

		if ((err = verify_header(&v, a, e, namebuf, &name, &type, &got_manifest, &take)))
			goto out;
		if (!take)
			continue;
		if ((err = verify_member(&v, a, e, name, type, &rec)))
			goto out;
		if (!rec || json_object_set_new(v.seen, name, rec) < 0)
			report_out_of_memory();
	}
	if (ar != ARCHIVE_EOF)
		err = archive_fail(a, "reading the archive (truncated or corrupted)");
	else
		err = verify_whole(&v, got_manifest, info);
	if (!err) {
		info->members = v.seen;
		v.seen = NULL;
	}
out:
	report_progress_clear();
	if (err) {
		err = error_wrap(err, "refusing archive \"%s\"", r->path);
		archread_info_free(info);
	}
	if (a)
		archive_read_free(a);
	verify_done(&v);
	return err;
}

/* config/instance.ini, the first member of korcluster's snapshots: what
 * it says the snapshot is of, checked against the manifest at the end. */
static const struct error *read_config(struct verify *v, struct archive *a, struct archread_info *info)
{
	const struct error *err;
	struct sha256 hs = {0};
	struct conf c = {0};
	struct diag d = DIAG_INIT;
	uint64_t raw = 0;
	const char *x;

	v->small.len = 0;
	if ((err = member_data(v->r, a, 0, &hs, &raw, keep_small, v)))
		return error_wrap(err, "reading config/instance.ini");
	json_object_set_new(v->seen, "config/instance.ini", file_record(&hs, raw));
	if (v->small.len && memchr(v->small.data, '\0', v->small.len))
		return error_fmt("config/instance.ini holds a NUL byte");
	conf_load_string(&c, "config/instance.ini", buf_str(&v->small), &d);
	if ((x = conf_peek(&c, "instance", "version")))
		info->version = xstrdup(x);
	if ((x = conf_peek(&c, "instance", "template")))
		info->template = xstrdup(x);
	if ((x = conf_peek(&c, "instance", "name")))
		info->instance = xstrdup(x);
	conf_free(&c);
	diag_free(&d);
	if (!info->version || !info->template || !info->instance)
		return error_fmt("config/instance.ini lacks version, template or name");
	return NULL;
}

const struct error *archread_inspect(struct archread *r, const struct archread_limits *lim, struct archread_info *info)
{
	const struct error *err;
	struct archive *a = NULL;
	struct archive_entry *e;
	char namebuf[ARCHIVE_RAW_MAX + 4];
	const char *name = "";
	mode_t type = 0;
	int skip = 1;

	memset(info, 0, sizeof *info);
	info->archive_bytes = r->size;
	if ((err = start(r, &a)))
		return error_wrap(err, "refusing archive \"%s\"", r->path);
	if (archive_read_next_header(a, &e) != ARCHIVE_OK || header(e, namebuf, &name, &type, &skip) || skip ||
	    type != AE_IFREG || strcmp(name, "config/instance.ini") != 0) {
		/* Not korcluster's format as it writes it: read twice. */
		archive_read_free(a);
		return archread_verify(r, lim, info);
	}
	r->v = xmalloc(sizeof *r->v);
	verify_init(r->v, r, lim);
	r->v->quiet = 1;
	if (read_config(r->v, a, info)) {
		/* Not what korcluster writes there: the first pass says why. */
		archive_read_free(a);
		verify_free(r->v);
		r->v = NULL;
		archread_info_free(info);
		return archread_verify(r, lim, info);
	}
	r->a = a;
	return NULL;
}

/* ---- the second pass ---- */

/* Open the folder holding rel below rootfd, creating folders as needed and
 * never following a symlink; *leaf points at rel's last component. */
static const struct error *open_parent(int rootfd, const char *rel, const char **leaf, int *out)
{
	const struct error *err;
	int fd = dup(rootfd);
	const char *p = rel;

	*out = -1;
	if (fd < 0)
		return error_errno("opening a folder");
	for (;;) {
		size_t n = strcspn(p, "/");
		char part[256];
		int next;

		if (!p[n]) {
			*leaf = p;
			*out = fd;
			return NULL;
		}
		if (n >= sizeof part) {
			close(fd);
			return error_fmt("a name in \"%s\" is longer than 255 bytes", rel);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			err = error_errno("making folder for \"%s\"", rel);
			close(fd);
			return err;
		}
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return error_errno("opening folder for \"%s\"", rel);
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
	struct verify *v; /* counts the bytes against its limit, or NULL */
};

static const struct error *write_fd(void *ctx, const char *data, size_t len)
{
	struct fdsink *s = ctx;
	const struct error *err;

	if (s->v && (err = spend(s->v, len)))
		return err;
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
					return error_errno("writing \"%s\"", s->name);
				done += (size_t)w;
			}
			s->pos += n;
		}
		data += n;
		len -= n;
	}
	return NULL;
}

/* Restore one member at rel below rootfd; h and *raw get its bytes, v
 * (or NULL) counts them. */
static const struct error *extract(struct archread *r, struct archive *a, struct archive_entry *e, int rootfd,
				   const char *rel, struct sha256 *h, uint64_t *raw, struct verify *v)
{
	const struct error *err;
	mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 0777;
	const char *leaf = rel;
	int dfd;

	if ((err = open_parent(rootfd, rel, &leaf, &dfd)))
		return err;
	if (type == AE_IFDIR) {
		if (mkdirat(dfd, leaf, perm | 0700) < 0 && errno != EEXIST) {
			err = error_errno("making folder \"%s\"", rel);
		} else {
			fchmodat(dfd, leaf, perm | 0700, 0);
			set_owner_time(dfd, leaf, e);
		}
	} else if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(e), dfd, leaf) < 0)
			err = error_errno("making symlink \"%s\"", rel);
		else
			set_owner_time(dfd, leaf, e);
	} else {
		struct fdsink s = {openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), rel, 0, v};

		if (s.fd < 0) {
			err = error_errno("creating \"%s\"", rel);
		} else {
			if (!(err = member_data(r, a, 0, h, raw, write_fd, &s)) &&
			    (ftruncate(s.fd, (off_t)s.pos) < 0 || fchmod(s.fd, perm) < 0))
				err = error_errno("writing \"%s\"", rel);
			close(s.fd);
			if (!err)
				set_owner_time(dfd, leaf, e);
		}
	}
	close(dfd);
	return err;
}

static const struct error *open_dir(const char *path, int *fd)
{
	if ((*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return error_errno("opening \"%s\"", path);
	return NULL;
}

/* A member of the second pass against what the first one read. */
static const struct error *same(const char *name, json_t *rec, mode_t type, struct archive_entry *e)
{
	const char *want = json_string_value(json_object_get(rec, "type"));
	const char *is = type == AE_IFDIR ? "dir" : type == AE_IFLNK ? "link" : "file";

	if (!rec)
		return error_fmt("\"%s\" was not in it when it was checked", name);
	if (strcmp(want, is) != 0)
		return error_fmt("\"%s\" is a %s now, it was a %s", name, is, want);
	if (type == AE_IFLNK &&
	    strcmp(archive_entry_symlink(e), json_string_value(json_object_get(rec, "target"))) != 0)
		return error_fmt("symlink \"%s\" leads elsewhere now", name);
	return NULL;
}

/* One member of the second pass, restored where it belongs. */
static const struct error *restore_member(struct archread *r, struct archive *a, struct archive_entry *e,
					  const struct archread_info *info, const struct archread_sink *s, int datafd,
					  int extrafd, const char *name, unsigned *next_chunk, uint64_t *raw, int *changed)
{
	const struct error *err;
	const char *rel;
	struct sha256 hs = {0};
	unsigned char d[32];
	char hex[65], want[32];
	json_t *rec = json_object_get(info->members, name);
	mode_t type = archive_entry_filetype(e);

	*changed = 1;
	if ((err = same(name, rec, type, e)))
		return err;
	switch (classify(info, name, &rel)) {
	case D_DUMP:
		snprintf(want, sizeof want, "db/dump.%06u.sql", (*next_chunk)++);
		if (strcmp(name, want) != 0)
			return error_fmt("dump piece \"%s\" is out of order", name);
		err = member_data(r, a, 0, &hs, raw, s->sql, s->ctx);
		break;
	case D_LEGACY_DUMP:
		err = member_data(r, a, 1, &hs, raw, s->sql, s->ctx);
		break;
	case D_DATA:
		err = *rel ? extract(r, a, e, datafd, rel, &hs, raw, NULL) : member_data(r, a, 0, &hs, raw, nothing, NULL);
		break;
	case D_EXTRA:
		err = extrafd >= 0 ? extract(r, a, e, extrafd, rel, &hs, raw, NULL)
				   : member_data(r, a, 0, &hs, raw, nothing, NULL);
		break;
	case D_SKIP:
		err = member_data(r, a, 0, &hs, raw, nothing, NULL);
		break;
	default:
		return error_fmt("\"%s\" has no place in the archive", name);
	}
	if (err) {
		*changed = 0;
		return error_wrap(err, "restoring \"%s\"", name);
	}
	if (type == AE_IFREG) {
		sha256_final(&hs, d);
		sha256_hex(d, hex);
		if ((json_int_t)*raw != json_integer_value(json_object_get(rec, "size")) ||
		    strcmp(hex, json_string_value(json_object_get(rec, "sha256"))) != 0)
			return error_fmt("\"%s\" differs from what was checked", name);
	}
	*changed = 0;
	return NULL;
}

/* ---- checked as it is restored ---- */

/* The dump's text on its way to the sink, counted. */
struct sqlsink {
	struct verify *v;
	const struct archread_sink *s;
};

static const struct error *sql_data(void *ctx, const char *data, size_t len)
{
	struct sqlsink *q = ctx;
	const struct error *err;

	if ((err = spend(q->v, len)))
		return err;
	q->v->chunks.bytes += len;
	return q->s->sql(q->s->ctx, data, len);
}

/* A member below a symlink seen before: extracting it would fail (no
 * folder is followed), refusing it says why. */
static const struct error *below_link(struct verify *v, const char *name)
{
	char path[ARCHIVE_RAW_MAX + 4];
	const char *t;

	snprintf(path, sizeof path, "%s", name);
	for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		t = json_string_value(json_object_get(json_object_get(v->seen, path), "type"));
		*p = '/';
		if (t && strcmp(t, "link") == 0) {
			*p = '\0';
			return error_fmt("\"%s\" lies below the symlink \"%s\"", name, path);
		}
	}
	return NULL;
}

/* One member of korcluster's format, checked and restored; *rec: what it
 * was; *refused: whether an error is a refusal of the archive (else the
 * restore failed: the disk, the database). */
static const struct error *checked_member(struct archread *r, struct archive *a, struct archive_entry *e,
					  const struct archread_info *info, const struct archread_sink *s, int datafd,
					  const char *name, mode_t type, json_t **rec, int *refused)
{
	const struct error *err = NULL;
	struct verify *v = r->v;
	struct sqlsink q = {v, s};
	struct sha256 hs = {0};
	char want[32];
	uint64_t raw = 0;
	const char *rel;
	enum dest dest = classify(info, name, &rel);

	*rec = NULL;
	*refused = 1;
	if (dest == D_BAD)
		return error_fmt("archive member \"%s\" has no place in a korcluster snapshot", name);
	if (dest == D_DUMP && type != AE_IFREG)
		return error_fmt("archive member \"%s\" is not a file", name);
	if (dest == D_DATA && !*rel && type != AE_IFDIR)
		return error_fmt("archive member \"%s\" is not a folder", name);
	if (dest == D_DATA && (err = below_link(v, name)))
		return err;
	if (type == AE_IFREG && (err = header_size(v, e)))
		return err;
	if (dest == D_DUMP) {
		snprintf(want, sizeof want, "db/dump.%06u.sql", v->next_chunk++);
		if (strcmp(name, want) != 0)
			return error_fmt("checking the database dump: its pieces are out of order");
	}
	*refused = 0;
	if (type == AE_IFDIR || type == AE_IFLNK) {
		if (dest == D_DATA && *rel)
			err = extract(r, a, e, datafd, rel, &hs, &raw, v);
		*rec = type == AE_IFDIR ? json_pack("{s:s}", "type", "dir")
					: json_pack("{s:s, s:s}", "type", "link", "target", archive_entry_symlink(e));
		return err;
	}
	if (dest == D_DUMP)
		err = member_data(r, a, 0, &hs, &raw, sql_data, &q);
	else if (dest == D_DATA)
		err = extract(r, a, e, datafd, rel, &hs, &raw, v);
	else
		err = member_data(r, a, 0, &hs, &raw, spend_data, v);
	*refused = v->refused;
	if (err)
		return err;
	*rec = file_record(&hs, raw);
	return NULL;
}

/* The one pass over korcluster's format (archread_inspect() read its
 * first member): each member is checked as the first pass checks it, then
 * restored; what only the whole archive tells (the manifest, where the
 * links lead) is checked at its end.  What it restored is the caller's to
 * discard on an error. */
static const struct error *restore_checked(struct archread *r, struct archread_info *info,
					   const struct archread_sink *s)
{
	const struct error *err = NULL;
	struct verify *v = r->v;
	struct archive *a = r->a;
	struct archive_entry *e;
	char namebuf[ARCHIVE_RAW_MAX + 4];
	char *version = xstrdup(info->version), *template = xstrdup(info->template), *instance = xstrdup(info->instance);
	int datafd = -1, ar = ARCHIVE_OK, got_manifest = 0, refused = 0;
	double shown = 0;

	if ((err = open_dir(s->data_dir, &datafd)))
		goto out;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name;
		mode_t type;
		int take;
		json_t *rec;

		refused = 1;
		if ((err = verify_header(v, a, e, namebuf, &name, &type, &got_manifest, &take)))
			goto out;
		if (!take)
			continue;
		if ((err = checked_member(r, a, e, info, s, datafd, name, type, &rec, &refused))) {
			if (!refused)
				err = error_wrap(err, "restoring \"%s\"", name);
			goto out;
		}
		if (!rec || json_object_set_new(v->seen, name, rec) < 0)
			report_out_of_memory();
		if (clock_seconds() - shown >= 0.25) {
			shown = clock_seconds();
			report_progress("restoring: %.1f MiB, %d%% of the archive read", (double)v->total / (1 << 20),
					(int)(archive_filter_bytes(a, -1) * 100 / (r->size ? r->size : 1)));
		}
	}
	refused = 1;
	if (ar != ARCHIVE_EOF) {
		err = archive_fail(a, "reading the archive (truncated or corrupted)");
		goto out;
	}
	if (!got_manifest) {
		err = error_fmt("it begins as a korcluster snapshot but has no manifest.json");
		goto out;
	}
	free(info->version);
	free(info->template);
	free(info->instance);
	info->version = info->template = info->instance = NULL;
	if ((err = verify_whole(v, 1, info)))
		goto out;
	if (strcmp(info->version, version) != 0 || strcmp(info->template, template) != 0 ||
	    strcmp(info->instance, instance) != 0) {
		err = error_fmt("manifest.json says it is of instance \"%s\", template \"%s\", version %s; "
				"config/instance.ini says \"%s\", template \"%s\", version %s",
				info->instance, info->template, info->version, instance, template, version);
		goto out;
	}
	info->members = v->seen;
	v->seen = NULL;
out:
	report_progress_clear();
	if (err)
		err = error_wrap(err, "%s \"%s\"", refused ? "refusing archive" : "restoring", r->path);
	if (datafd >= 0)
		close(datafd);
	archive_read_free(a);
	r->a = NULL;
	verify_free(v);
	r->v = NULL;
	free(version);
	free(template);
	free(instance);
	return err;
}

/* The second pass over an archive archread_verify() read. */
static const struct error *restore_verified(struct archread *r, const struct archread_info *info,
					    const struct archread_sink *s)
{
	const struct error *err;
	struct archive *a = NULL;
	struct archive_entry *e;
	json_t *seen = json_object();
	char namebuf[ARCHIVE_RAW_MAX + 4];
	int datafd = -1, extrafd = -1, ar, changed = 1;
	unsigned next_chunk = 0;
	uint64_t done = 0;
	double shown = 0;

	if (!seen)
		report_out_of_memory();
	if ((err = open_dir(s->data_dir, &datafd)) || (s->extra_dir && (err = open_dir(s->extra_dir, &extrafd))) ||
	    (err = start(r, &a))) {
		changed = 0;
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name;
		mode_t type;
		int skip;
		uint64_t raw = 0;

		changed = 1;
		if ((err = header(e, namebuf, &name, &type, &skip)))
			goto out;
		if (skip)
			continue;
		if (json_object_get(seen, name)) {
			err = error_fmt("\"%s\" appears twice", name);
			goto out;
		}
		json_object_set_new(seen, name, json_true());
		if (!info->legacy && strcmp(name, "manifest.json") == 0) {
			struct sha256 hs = {0};

			if ((err = member_data(r, a, 0, &hs, &raw, nothing, NULL)))
				goto out;
			continue;
		}
		if ((err = restore_member(r, a, e, info, s, datafd, extrafd, name, &next_chunk, &raw, &changed)))
			goto out;
		done += raw;
		if (clock_seconds() - shown >= 0.25) {
			shown = clock_seconds();
			report_progress("restoring: %.1f of %.1f MiB", (double)done / (1 << 20),
					(double)(info->data_bytes + info->dump_bytes) / (1 << 20));
		}
	}
	changed = 1;
	if (ar != ARCHIVE_EOF)
		err = archive_fail(a, "reading the archive");
	else if (json_object_size(seen) != json_object_size(info->members) + !info->legacy)
		err = error_fmt("members are missing");
out:
	report_progress_clear();
	if (err && changed)
		err = error_wrap(err, "the archive changed since it was checked");
	if (err)
		err = error_wrap(err, "restoring \"%s\"", r->path);
	if (a)
		archive_read_free(a);
	if (datafd >= 0)
		close(datafd);
	if (extrafd >= 0)
		close(extrafd);
	json_decref(seen);
	return err;
}

const struct error *archread_restore(struct archread *r, struct archread_info *info, const struct archread_sink *s)
{
	return r->v ? restore_checked(r, info, s) : restore_verified(r, info, s);
}
