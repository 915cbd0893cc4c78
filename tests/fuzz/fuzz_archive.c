/* fuzz_archive: a snapshot verified and restored (archread.h), in
 * korcluster's format (manifest.json) and KorCluster's (db.sql.gz), as
 * .tar.zst or .tar.gz.
 *
 * The input is the archive file.  It is verified; if accepted, restored
 * into a folder of this process (data/ and the config files' folder, with
 * a sibling "outside" that must stay empty).  Properties, for an archive
 * verify accepts:
 *  - the restore, of the same unchanged file, succeeds;
 *  - it writes nothing outside the two folders it is given;
 *  - the dump it passes on has the bytes verify counted;
 *  - data/ holds exactly the members verify listed for it (and the
 *    folders above them), each of the type it read.
 * Then the archive is read once (archread_inspect(), then the restore):
 * refused or not, nothing is written outside; it accepts what verify
 * accepts (and what verify refuses only for a statement of the dump,
 * which the loader checks), and leaves data/ as verify would. */
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../common/archread.h"
#include "../../common/err.h"
#include "../../common/report.h"
#include "fuzz.h"

static char *file, *box, *data_dir, *extra_dir, *outside, *top;

/* What the restore wrote, for the checks. */
static const struct archread_info *cur;
static size_t data_len;
static int walk_failed;

static void setup(void)
{
	const char *d = fuzz_tmpdir();

	if (file)
		return;
	report_quiet(1);
	if (asprintf(&file, "%s/snap.tar", d) < 0 || asprintf(&box, "%s/box", d) < 0 ||
	    asprintf(&data_dir, "%s/box/data", d) < 0 || asprintf(&extra_dir, "%s/box/extra", d) < 0 ||
	    asprintf(&outside, "%s/outside", d) < 0 || asprintf(&top, "%s", d) < 0)
		abort();
	mkdir(box, 0700);
	mkdir(outside, 0700);
}

static const struct error *sql(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(uint64_t *)ctx += len;
	return NULL;
}

static void fresh(const char *dir)
{
	if (fuzz_remove_tree(dir) < 0 || mkdir(dir, 0700) < 0) {
		perror(dir);
		abort();
	}
}

/* The entries of a folder but "." and ".."; -1 if it cannot be read. */
static int entries(const char *dir)
{
	int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Every entry restored under data/ is a member, or a folder above one. */
static int restored(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	const char *rel = path + data_len + 1, *k;
	char *name;
	json_t *m, *x;
	int found = 0;

	(void)flag;
	(void)f;
	if (strlen(path) <= data_len)
		return 0;
	if (asprintf(&name, "%sdata/%s", cur->legacy ? cur->prefix : "", rel) < 0)
		abort();
	if ((m = json_object_get(cur->members, name))) {
		const char *t = json_string_value(json_object_get(m, "type"));

		found = 1;
		if (!t || (strcmp(t, "file") == 0 && (!S_ISREG(st->st_mode) ||
						       st->st_size != json_integer_value(json_object_get(m, "size")))) ||
		    (strcmp(t, "dir") == 0 && !S_ISDIR(st->st_mode)) || (strcmp(t, "link") == 0 && !S_ISLNK(st->st_mode))) {
			fprintf(stderr, "fuzz: \"%s\" is restored as another type or size\n", name);
			walk_failed = 1;
		}
	} else if (S_ISDIR(st->st_mode)) {
		size_t n = strlen(name);

		json_object_foreach(cur->members, k, x)
			if (strncmp(k, name, n) == 0 && k[n] == '/')
				found = 1;
	}
	if (!found) {
		fprintf(stderr, "fuzz: \"%s\" is restored but no member (%s)\n", name, path);
		walk_failed = 1;
	}
	free(name);
	return 0;
}

/* Every member of data/ is there. */
static void members_there(const struct archread_info *info)
{
	const char *k, *rel;
	json_t *x;
	char *want = NULL;

	if (asprintf(&want, "%sdata/", info->legacy ? info->prefix : "") < 0)
		abort();
	json_object_foreach(info->members, k, x) {
		char *path;
		struct stat st;

		if (strncmp(k, want, strlen(want)) != 0)
			continue;
		rel = k + strlen(want);
		if (asprintf(&path, "%s/%s", data_dir, rel) < 0)
			abort();
		FUZZ_ASSERT(lstat(path, &st) == 0, "member \"%s\" is restored", k);
		free(path);
	}
	free(want);
}

/* What a restore that worked left: nothing outside, data/ as listed. */
static void check_restored(struct archread_info *info, uint64_t dump)
{
	FUZZ_ASSERT(dump == info->dump_bytes, "the dump restored has %llu bytes, the check read %llu",
		    (unsigned long long)dump, (unsigned long long)info->dump_bytes);
	FUZZ_ASSERT(entries(outside) == 0, "nothing is written outside");
	FUZZ_ASSERT(entries(box) == 2, "nothing but data/ and the config folder is written");
	FUZZ_ASSERT(entries(top) == 3, "nothing is written beside the archive");
	cur = info;
	data_len = strlen(data_dir);
	walk_failed = 0;
	FUZZ_ASSERT(nftw(data_dir, restored, 16, FTW_PHYS) == 0, "data/ can be read");
	FUZZ_ASSERT(!walk_failed, "data/ holds what the check read");
	members_there(info);
}

/* Verify and restore the archive file data, checking the properties; then
 * the same archive read once (archread_inspect()), which must agree. */
static void run_archive(const uint8_t *data, size_t size)
{
	const struct error *err, *once;
	struct archread *r = NULL;
	struct archread_info info;
	struct archread_limits lim = {
		.space = 32u << 20, .unpack_max = 8u << 20, .ratio = 1000, .max_statement = 1u << 16,
		.target_db = "museum_blue",
	};
	uint64_t dump = 0;
	struct archread_sink sink = {sql, &dump, NULL, NULL};
	int single;

	setup();
	sink.data_dir = data_dir;
	sink.extra_dir = extra_dir;
	fuzz_write(file, data, size);
	if ((err = archread_open(&r, file))) {
		fprintf(stderr, "fuzz: %s\n", err->msg);
		abort();
	}
	err = archread_verify(r, &lim, &info);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "fuzz: verify: %s\n", err ? err->msg : "accepted");
	if (!err) {
		fresh(data_dir);
		fresh(extra_dir);
		once = archread_restore(r, &info, &sink);
		FUZZ_ASSERT(!once, "an archive verify accepts is restored: %s", once ? once->msg : "");
		check_restored(&info, dump);
		archread_info_free(&info);
	}
	archread_close(r);
	/* Read once: whatever it refuses, it writes nowhere else; it accepts
	 * what verify accepts, and what verify refuses but for the dump's
	 * statements (the loader checks those as they run). */
	fresh(data_dir);
	fresh(extra_dir);
	dump = 0;
	if ((once = archread_open(&r, file))) {
		fprintf(stderr, "fuzz: %s\n", once->msg);
		abort();
	}
	if (!(once = archread_inspect(r, &lim, &info))) {
		single = !info.members;
		once = archread_restore(r, &info, &sink);
		if (getenv("FUZZ_DEBUG"))
			fprintf(stderr, "fuzz: read %s: %s\n", single ? "once" : "twice", once ? once->msg : "accepted");
		FUZZ_ASSERT(entries(outside) == 0, "nothing is written outside");
		FUZZ_ASSERT(entries(top) == 3, "nothing is written beside the archive");
		FUZZ_ASSERT(!err == !once || (err && strstr(err->msg, "checking the database dump")),
			    "read once and read twice agree: \"%s\", \"%s\"", err ? err->msg : "accepted",
			    once ? once->msg : "accepted");
		if (!once)
			check_restored(&info, dump);
		archread_info_free(&info);
	} else {
		FUZZ_ASSERT(err != NULL, "an archive verify accepts is not refused by inspect: %s", once->msg);
	}
	archread_close(r);
	error_release();
}

#ifndef FUZZ_ARCHIVE_LIB
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_archive(data, size);
	return 0;
}
#endif
