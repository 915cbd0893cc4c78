/* Unit tests for common/ipnet.c: the fixed addresses of a cluster
 * network's upper half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/ipnet.h"
#include "check.h"

static void test_lower_half(void **state)
{
	char out[64];

	(void)state;
	OK(ipnet_lower_half("172.18.0.0/16", out, sizeof out));
	assert_string_equal(out, "172.18.0.0/17");
	FAILS(ipnet_lower_half("172.18.0.0", out, sizeof out));
	FAILS(ipnet_lower_half("172.18.0.0/30", out, sizeof out));
	FAILS(ipnet_lower_half("::1/64", out, sizeof out));
}

static void test_fixed(void **state)
{
	char out[64];

	(void)state;
	OK(ipnet_fixed("172.18.0.0/16", 0, out, sizeof out));
	assert_string_equal(out, "172.18.128.1");
	OK(ipnet_fixed("172.18.3.4/16", 3, out, sizeof out));
	assert_string_equal(out, "172.18.128.4");
	/* /28: the upper half is .8 to .15; .8 and the broadcast stay free */
	OK(ipnet_fixed("10.0.0.0/28", 5, out, sizeof out));
	assert_string_equal(out, "10.0.0.14");
	FAILS(ipnet_fixed("10.0.0.0/28", 6, out, sizeof out));
	assert_non_null(strstr(last_msg(), "no fixed address left for slot 6"));
}

static void test_fixed_top(void **state)
{
	char out[64];

	(void)state;
	OK(ipnet_fixed_top("172.18.0.0/16", 0, out, sizeof out));
	assert_string_equal(out, "172.18.255.254");
	OK(ipnet_fixed_top("172.18.0.0/16", 1, out, sizeof out));
	assert_string_equal(out, "172.18.255.253");
	/* only the upper half of the upper half: .12 to .14 of a /28 */
	OK(ipnet_fixed_top("10.0.0.0/28", 1, out, sizeof out));
	assert_string_equal(out, "10.0.0.13");
	FAILS(ipnet_fixed_top("10.0.0.0/28", 2, out, sizeof out));
	assert_non_null(strstr(last_msg(), "no fixed frontend address left for slot 2"));
	/* Every index both kinds allow gives two different addresses. */
	for (unsigned i = 0; i < 2; i++)
		for (unsigned j = 0; j < 2; j++) {
			char a[64], b[64];

			OK(ipnet_fixed("10.0.0.0/28", i, a, sizeof a));
			OK(ipnet_fixed_top("10.0.0.0/28", j, b, sizeof b));
			assert_string_not_equal(a, b);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower_half),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_fixed_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
