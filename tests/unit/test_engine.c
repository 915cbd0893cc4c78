/* Unit tests for common/engine.c (the pure part: API version choice) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/engine.h"
#include "../../common/err.h"
#include "check.h"

static void pick_is(const char *server, const char *want)
{
	char out[16];

	memset(out, 'X', sizeof out);
	if (engine_api_pick(server, out, sizeof out) != 0)
		fail_msg("\"%s\" refused: %s", server, last_msg());
	assert_string_equal(out, want);
}

static void pick_fails(const char *server, const char *why)
{
	char out[16] = "untouched";

	FAILS(engine_api_pick(server, out, sizeof out));
	if (!strstr(last_msg(), why))
		fail_msg("error for \"%s\" is \"%s\", lacks \"%s\"", server, last_msg(), why);
	assert_string_equal(out, "untouched");
}

static void test_in_range(void **state)
{
	(void)state;
	pick_is("1.41", "1.41");
	pick_is("1.43", "1.43");
	pick_is("1.47", "1.47");
	pick_is(ENGINE_API_MIN, ENGINE_API_MIN);
}

static void test_newer(void **state)
{
	(void)state;
	pick_is("1.48", "1.47");
	pick_is("1.51", "1.47");
	pick_is("1.100", "1.47"); /* numeric, not string order */
	pick_is("2.0", "1.47");
	pick_is("2.40", "1.47");
}

static void test_older(void **state)
{
	(void)state;
	pick_fails("1.40", "needs 1.41 or later");
	pick_fails("1.24", "needs 1.41 or later");
	pick_fails("1.4", "needs 1.41 or later");
	pick_fails("0.99", "needs 1.41 or later");
}

static void test_garbage(void **state)
{
	(void)state;
	pick_fails("garbage", "not a version");
	pick_fails("", "not a version");
	pick_fails("1", "not a version");
	pick_fails("1.", "not a version");
	pick_fails(".41", "not a version");
	pick_fails("v1.41", "not a version");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_range),
		cmocka_unit_test(test_newer),
		cmocka_unit_test(test_older),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
