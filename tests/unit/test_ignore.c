/* Unit tests for common/ignore.c: .dockerignore read as the docker CLI reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/ignore.h"

static int left_out(const char *dockerignore, const char *path)
{
	struct ignore ig = IGNORE_INIT;
	int r;

	ignore_load(&ig, dockerignore);
	r = ignore_match(&ig, path);
	ignore_free(&ig);
	return r;
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(ignore_glob("*.swp", "a.swp"));
	assert_false(ignore_glob("*.swp", "sub/a.swp")); /* "*" stops at "/" */
	assert_true(ignore_glob("**/*.swp", "sub/a.swp"));
	assert_true(ignore_glob("**/*.swp", "a.swp"));
	assert_true(ignore_glob("**/*.swp", "a/b/c.swp"));
	assert_true(ignore_glob("docs/**/x", "docs/x"));
	assert_true(ignore_glob("docs/**/x", "docs/a/b/x"));
	assert_false(ignore_glob("docs/**/x", "docsx/x"));
	assert_true(ignore_glob("**", "a/b/c"));
	assert_true(ignore_glob("a?c", "abc"));
	assert_false(ignore_glob("a?c", "a/c"));
	assert_true(ignore_glob("[a-c]x", "bx"));
	assert_false(ignore_glob("[a-c]x", "dx"));
	assert_false(ignore_glob("[^a]x", "ax"));
	assert_true(ignore_glob("[^a]x", "bx"));
	assert_true(ignore_glob("[]]", "]"));
	assert_false(ignore_glob("[ab", "a")); /* unclosed: nothing */
	assert_true(ignore_glob("\\*x", "*x"));
	assert_false(ignore_glob("\\*x", "ax"));
	assert_true(ignore_glob("*", ".hidden"));
	assert_false(ignore_glob("abc", "abcd"));
	assert_true(ignore_glob("", ""));
}

static void test_patterns(void **state)
{
	const char *di = "# build junk\n"
			 "node_modules\n"
			 "  log/*  \n"
			 "!log/.keep\n"
			 "*.swp\n"
			 "\n"
			 "/docs/./old//\n"
			 "tmp/../cache\n";

	(void)state;
	assert_true(left_out(di, "node_modules"));
	assert_true(left_out(di, "node_modules/x/y.js")); /* in a folder left out */
	assert_true(left_out(di, "log/a.log"));
	assert_false(left_out(di, "log/.keep"));           /* the exception wins: it comes last */
	assert_false(left_out(di, "log"));
	assert_true(left_out(di, "x.swp"));
	assert_false(left_out(di, "sub/x.swp"));
	assert_true(left_out(di, "docs/old"));
	assert_true(left_out(di, "docs/old/a"));
	assert_false(left_out(di, "docs/new"));
	assert_true(left_out(di, "cache"));
	assert_false(left_out(di, "tmp"));
	assert_false(left_out(di, "Dockerfile"));
	assert_false(left_out(di, "# build junk"));
	/* an exception first, a pattern after it: the later one decides */
	assert_true(left_out("!a.txt\n*.txt\n", "a.txt"));
	assert_false(left_out("*.txt\n!a.txt\n", "a.txt"));
	assert_false(left_out("", "anything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
