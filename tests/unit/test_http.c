/* Unit tests for common/http.c (the pure part: header lookup) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/http.h"

static const char *hdrs =
	"HTTP/1.1 200 OK\r\n"
	"Api-Version: 1.45\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"X-Api-Version-Extra: no\r\n"
	"Server:Docker/26.1.5 (linux)\r\n"
	"Empty:\r\n"
	"X-Tabbed:\t \tv\r\n"
	"Last: end\n";

static void test_found(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(http_header(hdrs, "Api-Version", out, sizeof out), 0);
	assert_string_equal(out, "1.45");
	assert_int_equal(http_header(hdrs, "Content-Type", out, sizeof out), 0);
	assert_string_equal(out, "text/plain; charset=utf-8");
	assert_int_equal(http_header(hdrs, "Server", out, sizeof out), 0);
	assert_string_equal(out, "Docker/26.1.5 (linux)");
	assert_int_equal(http_header(hdrs, "X-Tabbed", out, sizeof out), 0);
	assert_string_equal(out, "v");
	assert_int_equal(http_header(hdrs, "Last", out, sizeof out), 0);
	assert_string_equal(out, "end");
	assert_int_equal(http_header(hdrs, "Empty", out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void test_case_insensitive(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(http_header(hdrs, "api-version", out, sizeof out), 0);
	assert_string_equal(out, "1.45");
	assert_int_equal(http_header(hdrs, "API-VERSION", out, sizeof out), 0);
	assert_string_equal(out, "1.45");
	assert_int_equal(http_header("api-version: 1.41\r\n", "Api-Version", out, sizeof out), 0);
	assert_string_equal(out, "1.41");
}

static void test_missing(void **state)
{
	char out[8] = "same";

	(void)state;
	assert_int_equal(http_header(hdrs, "Content-Length", out, sizeof out), -1);
	assert_int_equal(http_header(hdrs, "Api", out, sizeof out), -1);      /* a prefix only */
	assert_int_equal(http_header(hdrs, "Version", out, sizeof out), -1);  /* inside a name */
	assert_int_equal(http_header(hdrs, "1.45", out, sizeof out), -1);     /* a value */
	assert_int_equal(http_header("", "Api-Version", out, sizeof out), -1);
	assert_int_equal(http_header(NULL, "Api-Version", out, sizeof out), -1);
	assert_string_equal(out, "same");
}

static void test_truncated(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(http_header(hdrs, "Content-Type", out, sizeof out), 0);
	assert_string_equal(out, "tex");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
