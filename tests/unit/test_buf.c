/* Unit tests for common/buf.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/buf.h"

static void test_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_str(&b), "");
	buf_consume(&b, 5); /* harmless on an empty buffer */
	assert_int_equal(b.len, 0);
	buf_append(&b, "", 0);
	assert_non_null(b.data);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len + b.cap, 0);
}

static void test_append(void **state)
{
	struct buf b = BUF_INIT;
	char big[1000];

	(void)state;
	buf_append(&b, "hello", 5);
	buf_append(&b, ", world!!", 7);
	assert_int_equal(b.len, 12);
	assert_string_equal(buf_str(&b), "hello, world");
	/* Binary data with a NUL inside keeps its length. */
	buf_append(&b, "\0z", 2);
	assert_int_equal(b.len, 14);
	assert_memory_equal(b.data + 12, "\0z", 3);
	memset(big, 'x', sizeof big);
	buf_append(&b, big, sizeof big);
	assert_int_equal(b.len, 1014);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[1013], 'x');
	assert_int_equal(b.data[1014], '\0');
	buf_free(&b);
}

static void test_printf(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_printf(&b, "%s=%d", "port", 8000);
	buf_printf(&b, ";%05.1f;%c", 3.14159, 'z');
	assert_string_equal(buf_str(&b), "port=8000;003.1;z");
	assert_int_equal(b.len, strlen("port=8000;003.1;z"));
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 17);
	/* Growing across the first allocation through printf. */
	buf_printf(&b, "%300s", "end");
	assert_int_equal(b.len, 317);
	assert_string_equal(b.data + 314, "end");
	buf_free(&b);
}

static void test_consume(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append(&b, "abcdef", 6);
	buf_consume(&b, 0);
	assert_string_equal(buf_str(&b), "abcdef");
	buf_consume(&b, 2);
	assert_string_equal(buf_str(&b), "cdef");
	assert_int_equal(b.len, 4);
	buf_consume(&b, 3);
	assert_string_equal(buf_str(&b), "f");
	buf_append(&b, "gh", 2);
	assert_string_equal(buf_str(&b), "fgh");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_printf(&b, "%d", 7);
	assert_string_equal(buf_str(&b), "7");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
