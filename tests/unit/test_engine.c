/* Unit tests for common/engine.c (the pure parts: API version choice, health
 * read from a listing) */
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

static const char *health_of(const char *listed)
{
	json_t *c = json_loads(listed, 0, NULL);
	const char *h;

	assert_non_null(c);
	h = engine_listed_health(c);
	json_decref(c);
	return h; /* a static string */
}

static void test_listed_health(void **state)
{
	(void)state;
	assert_string_equal(health_of("{\"Status\": \"Up 3 minutes (healthy)\"}"), "healthy");
	assert_string_equal(health_of("{\"Status\": \"Up 10 seconds (unhealthy)\"}"), "unhealthy");
	/* starting, none, stopped, odd: no verdict (status asks the app) */
	assert_null(health_of("{\"Status\": \"Up 2 seconds (health: starting)\"}"));
	assert_null(health_of("{\"Status\": \"Up 2 seconds\"}"));
	assert_null(health_of("{\"Status\": \"Exited (0) 2 seconds ago\"}"));
	assert_null(health_of("{\"Status\": \"(healthy)\"}"));
	assert_null(health_of("{\"Status\": \"Up 1 second (unhealthy) \"}"));
	assert_null(health_of("{\"Status\": 3}"));
	assert_null(health_of("{}"));
	/* newer engines: Health.Status, which wins */
	assert_string_equal(health_of("{\"Status\": \"Up 1 second (healthy)\", \"Health\": {\"Status\": \"unhealthy\"}}"),
			    "unhealthy");
	assert_null(health_of("{\"Health\": {\"Status\": \"starting\"}}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_range),
		cmocka_unit_test(test_newer),
		cmocka_unit_test(test_older),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_listed_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
