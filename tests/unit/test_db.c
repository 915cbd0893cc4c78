/* Unit tests for common/db.c (the pure part: identifiers) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/db.h"
#include "../../common/err.h"

static const char *rep(char c, size_t n)
{
	static char s[100];

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static const char *bad[] = {
	"", "Kor", "korA", "1kor", "_kor", "kor-db", "kor db", "kor;", "kor`", "`kor`",
	"kor`; DROP DATABASE mysql; --", "kor'", "kor' OR '1'='1", "kor\"", "kor\\", "kor.x",
	"kor\n", "k\xc3\xb6r",
};

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(db_ident_check("kor"), 0);
	assert_int_equal(db_ident_check("a"), 0);
	assert_int_equal(db_ident_check("prod_kor_1"), 0);
	assert_int_equal(db_ident_check(rep('d', 64)), 0);
	assert_int_equal(db_ident_check(rep('d', 65)), -1);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (db_ident_check(bad[i]) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(db_ident_check("Kor"), -1);
	assert_non_null(strstr(err_msg(), "\"Kor\" is not a valid database name"));
}

static void test_quote(void **state)
{
	char out[100];

	(void)state;
	assert_int_equal(db_ident_quote("kor", out, sizeof out), 0);
	assert_string_equal(out, "`kor`");
	assert_int_equal(db_ident_quote("prod_kor_1", out, sizeof out), 0);
	assert_string_equal(out, "`prod_kor_1`");
	assert_int_equal(db_ident_quote(rep('d', 64), out, sizeof out), 0);
	assert_int_equal(strlen(out), 66);
	assert_int_equal(out[0], '`');
	assert_int_equal(out[65], '`');
	assert_memory_equal(out + 1, rep('d', 64), 64);
}

static void test_quote_refuses(void **state)
{
	char out[100];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		strcpy(out, "untouched");
		if (db_ident_quote(bad[i], out, sizeof out) != -1)
			fail_msg("\"%s\" quoted as %s", bad[i], out);
		assert_string_equal(out, "untouched");
	}
	assert_int_equal(db_ident_quote(rep('d', 65), out, sizeof out), -1);
}

static void test_quote_small_buffer(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(db_ident_quote("kor", out, 2), -1);
	assert_int_equal(db_ident_quote("toolongname", out, sizeof out), -1);
	assert_int_equal(db_ident_quote("abcd", out, sizeof out), 0);
	assert_string_equal(out, "`abcd`");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_refuses),
		cmocka_unit_test(test_quote_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
