/* Unit tests for common/strv.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/err.h"
#include "check.h"
#include "../../common/strv.h"

/* Split line and compare with the n expected words. */
static void split_is(const char *line, size_t n, const char *const *want)
{
	struct strv w = STRV_INIT;

	OK(strv_split(&w, line));
	assert_int_equal(w.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(w.v[i], want[i]);
	if (n)
		assert_null(w.v[n]);
	strv_free(&w);
}

#define SPLIT(line, ...)                                                      \
	do {                                                                  \
		const char *const want_[] = {__VA_ARGS__};                    \
		split_is(line, sizeof want_ / sizeof *want_, want_);          \
	} while (0)

static void test_split_blanks(void **state)
{
	(void)state;
	SPLIT("a b c", "a", "b", "c");
	SPLIT("  python3   /app/app.py\tweb \t", "python3", "/app/app.py", "web");
	SPLIT("one", "one");
	SPLIT("a\nb", "a", "b");
}

static void test_split_empty(void **state)
{
	struct strv w = STRV_INIT;

	(void)state;
	OK(strv_split(&w, ""));
	assert_int_equal(w.n, 0);
	OK(strv_split(&w, " \t  "));
	assert_int_equal(w.n, 0);
	strv_free(&w);
}

static void test_split_quotes(void **state)
{
	(void)state;
	SPLIT("sh -c 'echo hi there'", "sh", "-c", "echo hi there");
	SPLIT("sh -c \"echo hi there\"", "sh", "-c", "echo hi there");
	SPLIT("a'b c'd", "ab cd");                  /* quotes join with neighbours */
	SPLIT("'' \"\"", "", "");                   /* empty quoted words are words */
	SPLIT("'a\"b' \"a'b\"", "a\"b", "a'b");
	SPLIT("'back\\slash'", "back\\slash");      /* no escapes in '...' */
	SPLIT("\"say \\\"hi\\\"\"", "say \"hi\"");  /* escaped quote in "..." */
	SPLIT("\"a\\\\b\"", "a\\b");
}

static void test_split_backslash(void **state)
{
	(void)state;
	SPLIT("a\\ b c", "a b", "c");
	SPLIT("\\'x\\'", "'x'");
	SPLIT("\\\"", "\"");
	SPLIT("a\\\\b", "a\\b");
	SPLIT("end\\", "end\\"); /* a trailing backslash stays */
}

static void test_split_unterminated(void **state)
{
	struct strv w = STRV_INIT;

	(void)state;
	FAILS(strv_split(&w, "echo 'oops"));
	assert_non_null(strstr(last_msg(), "unterminated ' quote"));
	strv_free(&w);
	FAILS(strv_split(&w, "\"oops"));
	assert_non_null(strstr(last_msg(), "unterminated \" quote"));
	strv_free(&w);
	/* An escaped closing quote does not close. */
	FAILS(strv_split(&w, "\"oops\\\""));
	assert_non_null(strstr(last_msg(), "quote"));
	strv_free(&w);
}

static void test_push(void **state)
{
	struct strv s = STRV_INIT;
	char name[8] = "abc";

	(void)state;
	strv_push(&s, name);
	name[0] = 'X'; /* strv_push copies */
	assert_string_equal(s.v[0], "abc");
	strv_pushf(&s, "%s=%d", "PORT", 8000);
	assert_string_equal(s.v[1], "PORT=8000");
	for (int i = 0; i < 100; i++)
		strv_pushf(&s, "n%03d", i);
	assert_int_equal(s.n, 102);
	assert_string_equal(s.v[2], "n000");
	assert_string_equal(s.v[101], "n099");
	assert_null(s.v[102]);
	strv_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	strv_free(&s); /* twice is harmless */
}

static void test_sort(void **state)
{
	struct strv s = STRV_INIT;

	(void)state;
	strv_sort(&s); /* empty is fine */
	strv_push(&s, "pool_b");
	strv_sort(&s);
	assert_string_equal(s.v[0], "pool_b");
	strv_push(&s, "a");
	strv_push(&s, "pool_a");
	strv_push(&s, "B");
	strv_sort(&s);
	assert_string_equal(s.v[0], "B");
	assert_string_equal(s.v[1], "a");
	assert_string_equal(s.v[2], "pool_a");
	assert_string_equal(s.v[3], "pool_b");
	assert_null(s.v[4]);
	assert_true(strv_has(&s, "pool_a"));
	assert_false(strv_has(&s, "pool"));
	strv_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_blanks),
		cmocka_unit_test(test_split_empty),
		cmocka_unit_test(test_split_quotes),
		cmocka_unit_test(test_split_backslash),
		cmocka_unit_test(test_split_unterminated),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
