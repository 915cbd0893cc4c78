/* Unit tests for the pure checks of common/snapshot.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/err.h"
#include "../../common/snapshot.h"

static void assert_err_has(const char *needle)
{
	if (!strstr(err_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", err_msg(), needle);
}

static void test_normalize(void **state)
{
	(void)state;
	assert_string_equal(snapshot_normalize("./data/x"), "data/x");
	assert_string_equal(snapshot_normalize("././/data"), "data");
	assert_string_equal(snapshot_normalize("data/./x"), "data/./x");
	assert_string_equal(snapshot_normalize("./"), "");
	assert_string_equal(snapshot_normalize(".hidden"), ".hidden");
}

static void test_paths(void **state)
{
	char long_name[4200];

	(void)state;
	assert_int_equal(snapshot_path_check("data/items/1.txt"), 0);
	assert_int_equal(snapshot_path_check("data/..x/y..z"), 0);
	assert_int_equal(snapshot_path_check(".hidden/file"), 0);
	assert_int_equal(snapshot_path_check("data/"), 0);
	assert_int_equal(snapshot_path_check("../etc/passwd"), -1);
	assert_err_has("\"..\" component");
	assert_int_equal(snapshot_path_check("data/../../x"), -1);
	assert_int_equal(snapshot_path_check("data/.."), -1);
	assert_int_equal(snapshot_path_check("/etc/passwd"), -1);
	assert_err_has("absolute path");
	assert_int_equal(snapshot_path_check("data//x"), -1);
	assert_int_equal(snapshot_path_check("data/./x"), -1);
	assert_int_equal(snapshot_path_check(""), -1);
	/* Names a tree can be removed and copied with (an archive once made
	 * one no tool could remove). */
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(snapshot_path_check(long_name), -1);
	assert_err_has("longer than 1024 bytes");
	for (size_t i = 200; i < 1024; i += 201)
		long_name[i] = '/';
	long_name[1024] = '\0';
	assert_int_equal(snapshot_path_check(long_name), 0);
	long_name[1025] = '\0';
	long_name[1024] = 'a';
	assert_int_equal(snapshot_path_check(long_name), -1);
	memset(long_name, 'a', 300);
	long_name[256] = '\0';
	assert_int_equal(snapshot_path_check(long_name), -1);
	assert_err_has("longer than 255 bytes");
	long_name[255] = '\0';
	assert_int_equal(snapshot_path_check(long_name), 0);
	for (int i = 0; i < 129; i++)
		memcpy(long_name + 2 * i, "a/", 2);
	long_name[2 * 129 - 1] = '\0';
	assert_int_equal(snapshot_path_check(long_name), -1);
	assert_err_has("more than 128 folders deep");
	long_name[2 * 128 - 1] = '\0';
	assert_int_equal(snapshot_path_check(long_name), 0);
}

static void test_links(void **state)
{
	(void)state;
	assert_int_equal(snapshot_link_check("data/a", "b"), 0);
	assert_int_equal(snapshot_link_check("data/items/a", "../b"), 0);
	assert_int_equal(snapshot_link_check("data/items/a", "../../config/instance.ini"), 0);
	assert_int_equal(snapshot_link_check("data/items/a", "./x/../y"), 0);
	assert_int_equal(snapshot_link_check("data/items/a", "../../../x"), -1);
	assert_err_has("points out of the archive");
	assert_int_equal(snapshot_link_check("a", "../a"), -1);
	/* Down and up again still leaves. */
	assert_int_equal(snapshot_link_check("data/a", "x/../../../y"), -1);
	assert_int_equal(snapshot_link_check("data/a", "/etc/passwd"), -1);
	assert_err_has("absolute path");
	assert_int_equal(snapshot_link_check("data/a", ""), -1);
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
