/* Unit tests for common/fs.c, in a temporary folder under /tmp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/err.h"
#include "../../common/fs.h"
#include "check.h"

static char top[] = "/tmp/kc_test_fs.XXXXXX";

/* top + "/" + rel, in one of a few rotating static buffers. */
static const char *at(const char *rel)
{
	static char bufs[4][PATH_MAX];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", top, rel);
	return b;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return fs_remove_tree(top) ? -1 : 0;
}

static void test_write_atomic(void **state)
{
	const char *dir = at("w"), *path = at("w/secret");
	struct stat st;
	char *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(mkdir(dir, 0755), 0);
	OK(fs_write_atomic(path, "pa\0ss", 5, 0600));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 5);
	OK(fs_read(path, &data, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "pa\0ss", 5);
	free(data);
	/* Replacing keeps exactly one file and takes the new mode. */
	OK(fs_write_atomic(path, "new\n", 4, 0644));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	OK(fs_read(path, &data, NULL));
	assert_string_equal(data, "new\n");
	free(data);
	assert_int_equal(count_entries(dir), 1);
	/* An empty file. */
	OK(fs_write_atomic(path, "", 0, 0600));
	OK(fs_read(path, &data, &len));
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	/* A folder that is not there: fails and leaves nothing. */
	FAILS(fs_write_atomic(at("w/nope/x"), "x", 1, 0600));
	assert_int_equal(count_entries(dir), 1);
}

static void test_read_big(void **state)
{
	const char *path = at("big");
	size_t n = 100000, len = 0;
	char *text = malloc(n + 1), *data = NULL;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	text[n] = '\0';
	write_file(path, text);
	OK(fs_read(path, &data, &len));
	assert_int_equal(len, n);
	assert_string_equal(data, text);
	free(data);
	free(text);
	FAILS(fs_read(at("missing"), &data, &len));
	assert_non_null(strstr(last_msg(), "missing"));
}

static void test_mkdirs(void **state)
{
	struct stat st;

	(void)state;
	OK(fs_mkdirs(at("m/a/b/c"), 0700));
	assert_true(fs_is_dir(at("m/a/b/c")));
	assert_int_equal(stat(at("m/a/b/c"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(at("m/a"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Again, and with a trailing slash: nothing to do. */
	OK(fs_mkdirs(at("m/a/b/c"), 0700));
	OK(fs_mkdirs(at("m/a/b/"), 0700));
	/* Through a file: refused. */
	write_file(at("m/file"), "x");
	FAILS(fs_mkdirs(at("m/file/sub"), 0700));
	FAILS(fs_mkdirs(at("m/file"), 0700));
	assert_false(fs_is_dir(at("m/file")));
	assert_true(fs_exists(at("m/file")));
}

static void test_remove_tree_symlink(void **state)
{
	(void)state;
	/* out/ is outside the tree; tree/link points at it. */
	OK(fs_mkdirs(at("out/keep"), 0755));
	write_file(at("out/keep/precious"), "keep me");
	write_file(at("out/precious"), "keep me too");
	OK(fs_mkdirs(at("tree/a/b"), 0755));
	write_file(at("tree/a/b/f"), "x");
	write_file(at("tree/g"), "y");
	assert_int_equal(symlink(at("out"), at("tree/a/link")), 0);
	assert_int_equal(symlink(at("out/precious"), at("tree/filelink")), 0);
	assert_int_equal(symlink("/nonexistent/dangling", at("tree/dangling")), 0);
	OK(fs_remove_tree(at("tree")));
	assert_false(fs_exists(at("tree")));
	assert_true(fs_is_dir(at("out/keep")));
	assert_true(fs_exists(at("out/keep/precious")));
	assert_true(fs_exists(at("out/precious")));
	assert_int_equal(count_entries(at("out")), 2);
	/* Absent: nothing to do. */
	OK(fs_remove_tree(at("tree")));
	/* A link given as the tree itself: the link goes, not its target. */
	assert_int_equal(symlink(at("out"), at("tolink")), 0);
	OK(fs_remove_tree(at("tolink")));
	assert_false(fs_exists(at("tolink")));
	assert_int_equal(count_entries(at("out")), 2);
}

/* A tree deeper than PATH_MAX (an archive's long names once made one):
 * removed all the same. */
static void test_remove_tree_deep(void **state)
{
	char name[201];
	int fd, cwd = open(".", O_RDONLY | O_DIRECTORY);

	(void)state;
	memset(name, 'd', 200);
	name[200] = '\0';
	assert_true(cwd >= 0);
	assert_int_equal(mkdir(at("deep"), 0755), 0);
	assert_int_equal(chdir(at("deep")), 0);
	/* 40 levels of 201 bytes: about 8 KiB of path. */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(mkdir(name, 0755), 0);
		assert_int_equal(chdir(name), 0);
		write_file("f", "x");
		if (i % 10 == 0) {
			assert_int_equal(mkdir("side", 0755), 0);
			write_file("side/g", "y");
			assert_int_equal(symlink("/", "root"), 0);
		}
	}
	assert_int_equal(fchdir(cwd), 0);
	close(cwd);
	OK(fs_remove_tree(at("deep")));
	assert_false(fs_exists(at("deep")));
	/* Only the tree went. */
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	close(fd);
}

static void test_symlink_atomic(void **state)
{
	char target[PATH_MAX];
	ssize_t n;

	(void)state;
	OK(fs_symlink_atomic("v1", at("current")));
	OK(fs_symlink_atomic("v2", at("current")));
	n = readlink(at("current"), target, sizeof target - 1);
	assert_int_equal(n, 2);
	target[n] = '\0';
	assert_string_equal(target, "v2");
	assert_true(fs_exists(at("current")));  /* dangling is still there */
	assert_false(fs_is_dir(at("current")));
}

static void absolute_is(const char *in, const char *want)
{
	char *got = NULL;

	OK(fs_absolute(in, &got));
	assert_string_equal(got, want);
	free(got);
}

static void test_absolute(void **state)
{
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	(void)state;
	absolute_is("/a/b", "/a/b");
	absolute_is("/a/./b/", "/a/b");
	absolute_is("/a/././b/./", "/a/b");
	absolute_is("/a/b/.", "/a/b");
	absolute_is("/a/b///", "/a/b");
	absolute_is("/", "/");
	absolute_is("/.", "/");
	absolute_is("/./", "/");
	absolute_is("/a/.hidden/b", "/a/.hidden/b");
	absolute_is("/a/../b", "/a/../b"); /* no resolving */
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/a/b", cwd);
	absolute_is("a/./b/", want);
	absolute_is("./a/b", want);
	absolute_is("a/b/.", want);
	absolute_is(".", cwd);
	absolute_is("./", cwd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_read_big),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_remove_tree_symlink),
		cmocka_unit_test(test_remove_tree_deep),
		cmocka_unit_test(test_symlink_atomic),
		cmocka_unit_test(test_absolute),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
