/* Unit tests for common/conf.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/conf.h"
#include "../../common/err.h"
#include "check.h"

/* Fail, listing every problem, unless d holds exactly the lines given. */
static void diag_is(const struct diag *d, size_t n, const char *const *want)
{
	int ok = d->lines.n == n;

	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(d->lines.v[i], want[i]) == 0;
	if (ok)
		return;
	for (size_t i = 0; i < d->lines.n; i++)
		print_error("# got: %s\n", d->lines.v[i]);
	for (size_t i = 0; i < n; i++)
		print_error("# want: %s\n", want[i]);
	fail_msg("problems differ");
}

#define DIAG_IS(d, ...)                                                       \
	do {                                                                  \
		const char *const want_[] = {__VA_ARGS__};                    \
		diag_is(d, sizeof want_ / sizeof *want_, want_);              \
	} while (0)
#define DIAG_NONE(d) diag_is(d, 0, NULL)

/* Temporary file of the running test, removed by its teardown. */
static char tmp_path[32];

static int make_tmp(const char *text)
{
	int fd;

	snprintf(tmp_path, sizeof tmp_path, "/tmp/kc_test_conf.XXXXXX");
	if ((fd = mkstemp(tmp_path)) < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int remove_tmp(void **state)
{
	(void)state;
	if (tmp_path[0])
		unlink(tmp_path);
	tmp_path[0] = '\0';
	return 0;
}

static void entry_is(struct conf *c, const char *sec, const char *key, const char *value, int line)
{
	struct conf_entry *e = conf_get(c, sec, key);

	if (!e)
		fail_msg("no [%s] %s", sec, key);
	assert_string_equal(e->value, value);
	assert_int_equal(e->line, line);
}

static const char *sample =
	"; a comment\n"                 /* 1 */
	"# another comment\n"           /* 2 */
	"\n"                            /* 3 */
	"[cluster]\n"                   /* 4 */
	"name = x7k2p9\n"               /* 5 */
	"template=kor\n"                /* 6 */
	"  ; indented comment\n"        /* 7 */
	"bind = 0.0.0.0 ; inline\n"     /* 8 */
	"\n"                            /* 9 */
	"[images]\n"                    /* 10 */
	"mysql = mariadb:10.11\n"       /* 11 */
	"elastic : elasticsearch:7\n"   /* 12 */
	"url = a;b\n"                   /* 13 */
	"empty =\n";                    /* 14 */

static void test_values_and_lines(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "c.ini", sample, &d);
	DIAG_NONE(&d);
	assert_string_equal(c.path, "c.ini");
	assert_int_equal(c.n, 7);
	entry_is(&c, "cluster", "name", "x7k2p9", 5);
	entry_is(&c, "cluster", "template", "kor", 6);
	entry_is(&c, "cluster", "bind", "0.0.0.0", 8);
	entry_is(&c, "images", "mysql", "mariadb:10.11", 11);
	entry_is(&c, "images", "elastic", "elasticsearch:7", 12);
	entry_is(&c, "images", "url", "a;b", 13); /* ';' starts a comment only after a blank */
	entry_is(&c, "images", "empty", "", 14);
	assert_int_equal(conf_section_line(&c, "cluster"), 4);
	assert_int_equal(conf_section_line(&c, "images"), 10);
	assert_int_equal(conf_section_line(&c, "nope"), 0);
	assert_null(conf_get(&c, "cluster", "mysql"));
	assert_null(conf_get(&c, "images", "name"));
	assert_string_equal(conf_value(&c, "cluster", "name"), "x7k2p9");
	assert_null(conf_value(&c, "cluster", "port"));
	conf_free(&c);
	assert_null(c.e);
	diag_free(&d);
}

static void test_crlf(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "w.ini", "[a]\r\nk = v\r\n\r\n[b]\r\nx = 1", &d);
	DIAG_NONE(&d);
	entry_is(&c, "a", "k", "v", 2);
	entry_is(&c, "b", "x", "1", 5); /* last line without a newline */
	assert_int_equal(conf_section_line(&c, "b"), 4);
	conf_free(&c);
	diag_free(&d);
}

static void test_duplicates(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "d.ini",
					  "[a]\n"       /* 1 */
					  "k = 1\n"     /* 2 */
					  "[b]\n"       /* 3 */
					  "[a]\n"       /* 4 */
					  "k = 2\n"     /* 5 */
					  "j = 3\n",    /* 6 */
					  &d);
	DIAG_IS(&d, "d.ini:4: section [a] appears twice (first on line 1)",
		"d.ini:5: key \"k\" appears twice in [a] (first on line 2)");
	entry_is(&c, "a", "k", "1", 2);
	entry_is(&c, "a", "j", "3", 6);
	assert_int_equal(conf_section_line(&c, "a"), 1);
	assert_int_equal(c.ns, 2);
	conf_free(&c);
	diag_free(&d);
}

static void test_malformed(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "m.ini", "[a]\nk = 1\n\njust words\nj = 2\n[broken\n", &d);
	/* inih reports the first malformed line. */
	DIAG_IS(&d, "m.ini:4: not a key = value line, a [section] or a comment");
	entry_is(&c, "a", "k", "1", 2);
	entry_is(&c, "a", "j", "2", 5); /* parsing went on */
	conf_free(&c);
	diag_free(&d);
}

static void test_unknown(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "u.ini", sample, &d);
	assert_non_null(conf_get(&c, "cluster", "name"));
	assert_non_null(conf_get(&c, "cluster", "template"));
	assert_non_null(conf_value(&c, "images", "mysql"));
	assert_non_null(conf_get(&c, "images", "elastic"));
	conf_unknown(&c, &d);
	DIAG_IS(&d, "u.ini:8: unknown key \"bind\" in [cluster]",
		"u.ini:13: unknown key \"url\" in [images]",
		"u.ini:14: unknown key \"empty\" in [images]");
	conf_free(&c);
	diag_free(&d);
}

static void test_file(void **state)
{
	const char *path = tmp_path;
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	assert_int_equal(make_tmp(sample), 0);
	OK(conf_load(&c, path, &d));
	DIAG_NONE(&d);
	assert_string_equal(c.path, path);
	entry_is(&c, "cluster", "bind", "0.0.0.0", 8);
	entry_is(&c, "images", "empty", "", 14);
	assert_int_equal(conf_section_line(&c, "images"), 10);
	conf_free(&c);
	unlink(path);
	FAILS(conf_load(&c, path, &d));
	assert_non_null(strstr(last_msg(), path));
	assert_int_equal(c.n, 0);
	conf_free(&c);
	diag_free(&d);
}

static void test_diag(void **state)
{
	struct diag d = DIAG_INIT;

	(void)state;
	OK(diag_report(&d, "nothing"));
	diag_add(&d, "b.ini", 10, "ten %d", 10);
	diag_add(&d, "b.ini", 2, "two");
	diag_add(&d, "a.ini", 7, "other file");
	diag_add(&d, "b.ini", 0, "whole file");
	diag_sort(&d);
	DIAG_IS(&d, "a.ini:7: other file", "b.ini: whole file", "b.ini:2: two", "b.ini:10: ten 10");
	FAILS(diag_report(&d, "b.ini"));
	assert_string_equal(last_msg(), "b.ini: 4 problems (listed above)");
	diag_free(&d);
	assert_int_equal(d.lines.n, 0);
}

/* A line longer than inih's line buffer (200 bytes) must not be cut
 * silently, nor shift the line numbers of the lines after it; from a
 * string and from a file alike. */
static void test_long_line(void **state)
{
	char text[400], value[301];
	const char *path = tmp_path;

	(void)state;
	memset(value, 'v', 300);
	value[300] = '\0';
	snprintf(text, sizeof text, "[a]\nk = %s\nz = 1\n", value);
	assert_int_equal(make_tmp(text), 0);
	for (int from_file = 0; from_file < 2; from_file++) {
		struct conf c;
		struct diag d = DIAG_INIT;
		struct conf_entry *e;
		char prefix[64];

		if (from_file)
			OK(conf_load(&c, path, &d));
		else
			conf_load_string(&c, path, text, &d);
		entry_is(&c, "a", "z", "1", 3);
		e = conf_get(&c, "a", "k");
		assert_non_null(e);
		assert_int_equal(e->line, 2);
		/* Either the whole value, or a problem on line 2. */
		snprintf(prefix, sizeof prefix, "%s:2: ", path);
		if (strcmp(e->value, value) != 0)
			assert_true(d.lines.n >= 1 && strncmp(d.lines.v[0], prefix, strlen(prefix)) == 0);
		conf_free(&c);
		diag_free(&d);
	}
}

/* An indented key is a key, not a continuation of the one before. */
static void test_indented_key(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;

	(void)state;
	conf_load_string(&c, "i.ini", "[a]\nk = 1\n  j = 2\n\tz = 3\n", &d);
	DIAG_NONE(&d);
	entry_is(&c, "a", "k", "1", 2);
	entry_is(&c, "a", "j", "2", 3);
	entry_is(&c, "a", "z", "3", 4);
	conf_free(&c);
	diag_free(&d);
}

/* A NUL byte would cut the value where inih sees the line end: refused. */
static void test_nul(void **state)
{
	static const char text[] = "[cluster]\nname = x\0evil\nbind = 1\n";
	struct conf c;
	struct diag d = DIAG_INIT;
	int fd;

	(void)state;
	snprintf(tmp_path, sizeof tmp_path, "/tmp/kc_test_conf.XXXXXX");
	assert_true((fd = mkstemp(tmp_path)) >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	OK(conf_load(&c, tmp_path, &d));
	assert_int_equal(d.lines.n, 1);
	assert_non_null(strstr(d.lines.v[0], ":2: the line holds a NUL byte"));
	conf_free(&c);
	diag_free(&d);
}

/* Section names inih would cut are reported, not silently cut. */
static void test_long_section(void **state)
{
	struct conf c;
	struct diag d = DIAG_INIT;
	char text[200];

	(void)state;
	snprintf(text, sizeof text, "[%s]\nk = 1\n[%s]\nj = 2\n",
		 "service.a_rather_long_service_name_that_goes_on_and_on", "service.forty_nine_characters_long_name_is_fine_x");
	conf_load_string(&c, "s.ini", text, &d);
	assert_int_equal(d.lines.n, 1);
	assert_non_null(strstr(d.lines.v[0], "s.ini:1: section name \"service.a_rather_lon...\" is longer than 49"));
	conf_free(&c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_lines),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test_teardown(test_file, remove_tmp),
		cmocka_unit_test(test_diag),
		cmocka_unit_test_teardown(test_long_line, remove_tmp),
		cmocka_unit_test(test_indented_key),
		cmocka_unit_test_teardown(test_nul, remove_tmp),
		cmocka_unit_test(test_long_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
