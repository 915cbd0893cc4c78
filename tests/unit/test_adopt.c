/* Unit tests for the pure part of common/adopt.c: KorCluster's config.sh files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/adopt.h"

static void test_shell_vars(void **state)
{
	struct strv v = STRV_INIT;

	(void)state;
	adopt_shell_vars("CLUSTER_NAME=aB3xY9\n"
			 "# a comment=no\n"
			 "  export DB_PASSWORD=\"pw with spaces\"  \r\n"
			 "VERSION='v2.1.0'\n"
			 "PORT=8081\n"
			 "bad-key=x\n"
			 "=nokey\n"
			 "EMPTY=\n"
			 "QUOTE=\"unclosed\n"
			 "NAME=museum",
			 &v);
	assert_int_equal(v.n, 7);
	assert_string_equal(v.v[0], "CLUSTER_NAME=aB3xY9");
	assert_string_equal(v.v[1], "DB_PASSWORD=pw with spaces");
	assert_string_equal(v.v[2], "VERSION=v2.1.0");
	assert_string_equal(v.v[3], "PORT=8081");
	assert_string_equal(v.v[4], "EMPTY=");
	assert_string_equal(v.v[5], "QUOTE=\"unclosed");
	assert_string_equal(v.v[6], "NAME=museum");
	strv_free(&v);
	/* nothing is expanded */
	adopt_shell_vars("A=$(rm -rf /)\nB=${A}\n", &v);
	assert_string_equal(v.v[0], "A=$(rm -rf /)");
	assert_string_equal(v.v[1], "B=${A}");
	strv_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_vars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
