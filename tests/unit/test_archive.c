/* Unit tests for the pure checks of common/archive.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/err.h"
#include "../../common/archive.h"
#include "check.h"

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

static void test_normalize(void **state)
{
	(void)state;
	assert_string_equal(archive_normalize("./data/x"), "data/x");
	assert_string_equal(archive_normalize("././/data"), "data");
	assert_string_equal(archive_normalize("data/./x"), "data/./x");
	assert_string_equal(archive_normalize("./"), "");
	assert_string_equal(archive_normalize(".hidden"), ".hidden");
}

static void test_paths(void **state)
{
	char long_name[4200];

	(void)state;
	OK(archive_path_check("data/items/1.txt"));
	OK(archive_path_check("data/..x/y..z"));
	OK(archive_path_check(".hidden/file"));
	OK(archive_path_check("data/"));
	FAILS(archive_path_check("../etc/passwd"));
	assert_err_has("\"..\" component");
	FAILS(archive_path_check("data/../../x"));
	FAILS(archive_path_check("data/.."));
	FAILS(archive_path_check("/etc/passwd"));
	assert_err_has("absolute path");
	FAILS(archive_path_check("data//x"));
	FAILS(archive_path_check("data/./x"));
	FAILS(archive_path_check(""));
	/* Names a tree can be removed and copied with (an archive once made
	 * one no tool could remove). */
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	FAILS(archive_path_check(long_name));
	assert_err_has("longer than 1024 bytes");
	for (size_t i = 200; i < 1024; i += 201)
		long_name[i] = '/';
	long_name[1024] = '\0';
	OK(archive_path_check(long_name));
	long_name[1025] = '\0';
	long_name[1024] = 'a';
	FAILS(archive_path_check(long_name));
	memset(long_name, 'a', 300);
	long_name[256] = '\0';
	FAILS(archive_path_check(long_name));
	assert_err_has("longer than 255 bytes");
	long_name[255] = '\0';
	OK(archive_path_check(long_name));
	for (int i = 0; i < 129; i++)
		memcpy(long_name + 2 * i, "a/", 2);
	long_name[2 * 129 - 1] = '\0';
	FAILS(archive_path_check(long_name));
	assert_err_has("more than 128 folders deep");
	long_name[2 * 128 - 1] = '\0';
	OK(archive_path_check(long_name));
}

static void test_links(void **state)
{
	(void)state;
	OK(archive_link_check("data/a", "b"));
	OK(archive_link_check("data/items/a", "../b"));
	OK(archive_link_check("data/items/a", "../../config/instance.ini"));
	OK(archive_link_check("data/items/a", "./x/../y"));
	FAILS(archive_link_check("data/items/a", "../../../x"));
	assert_err_has("points out of the archive");
	FAILS(archive_link_check("a", "../a"));
	/* Down and up again still leaves. */
	FAILS(archive_link_check("data/a", "x/../../../y"));
	FAILS(archive_link_check("data/a", "/etc/passwd"));
	assert_err_has("absolute path");
	FAILS(archive_link_check("data/a", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
