/* Unit tests for common/name.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/name.h"
#include "check.h"

/* A string of n copies of c (n < 300). */
static const char *rep(char c, size_t n)
{
	static char s[300];

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

static void test_cluster(void **state)
{
	(void)state;
	OK(name_check_cluster("prod"));
	OK(name_check_cluster("0a_b-c9"));
	OK(name_check_cluster("x"));
	OK(name_check_cluster(rep('a', 32)));
	FAILS(name_check_cluster(rep('a', 33)));
	assert_err_has("longer than 32");
	FAILS(name_check_cluster(""));
	assert_err_has("empty");
	FAILS(name_check_cluster("-a"));
	assert_err_has("must match");
	FAILS(name_check_cluster("_a"));
	FAILS(name_check_cluster("Prod"));
	FAILS(name_check_cluster("a.b"));
	FAILS(name_check_cluster("a b"));
	FAILS(name_check_cluster("a/b"));
	FAILS(name_check_cluster("aB"));
}

static void test_instance_service(void **state)
{
	const struct error *(*fns[])(const char *) = {name_check_instance, name_check_service};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const struct error *(*f)(const char *) = fns[i];

		OK(f("web"));
		OK(f("a1_b"));
		OK(f("z"));
		OK(f(rep('a', 31)));
		FAILS(f(rep('a', 32)));
		assert_err_has("longer than 31");
		FAILS(f(""));
		FAILS(f("1abc")); /* digit first */
		FAILS(f("_abc"));
		FAILS(f("a-b"));  /* no dash */
		FAILS(f("aBc"));
		FAILS(f("a;b"));
	}
	FAILS(name_check_instance("a-b"));
	assert_err_has("instance name \"a-b\"");
	FAILS(name_check_service("a-b"));
	assert_err_has("service name \"a-b\"");
}

static void test_template(void **state)
{
	(void)state;
	OK(name_check_template("kor"));
	OK(name_check_template("9-my_tpl"));
	OK(name_check_template(rep('k', 64)));
	FAILS(name_check_template(rep('k', 65)));
	assert_err_has("longer than 64");
	FAILS(name_check_template(""));
	FAILS(name_check_template("-kor"));
	FAILS(name_check_template("../kor"));
	FAILS(name_check_template("kor.ini"));
	FAILS(name_check_template("Kor"));
}

static void test_image(void **state)
{
	static const char *good[] = {
		"mariadb",
		"mariadb:10.11",
		"coneda/kor:v5.0.0",
		"127.0.0.1:5000/korcluster-test/sample:v1",
		"registry.example.com:5000/a/b/c:Tag_1.2-rc",
		"localhost:5000/repo",
		"mariadb@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"host:5000/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"0image",
		"redis:Latest",
		"a__b/c-----d/e.f_g",
		"[::1]:5000/x:y",
		"Registry.Example.com/x",
	};
	static const char *bad[] = {
		"", " mariadb", "maria db", "mariadb:", "mariadb/", "a//b", "Mariadb",
		"/mariadb", ":tag", "mari$db", "a\tb", "a;rm -rf", "-x",
		"coneda/Kor:v5", "127.0.0.1:5000/korcluster-test/Sample:v1",
		/* Docker's grammar: no "..", "./" or empty component that the
		 * engine's API path would take as a path of its own. */
		"a/../../containers/x_db", "a/./b", "../x", "a/..", "a..b", "a._b", "a___b", "a-", "a_", "x/-a",
		"a/b/", "host:5000/", "host:x/a", "a@sha256:12", "a@:0123456789abcdef0123456789abcdef", "a:-tag",
		"a:t@g", ".a", "a:" "0123456789012345678901234567890123456789012345678901234567890123456789"
		"012345678901234567890123456789012345678901234567890123456789",
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if ((check_err = name_check_image(good[i])))
			fail_msg("\"%s\" refused: %s", good[i], last_msg());
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!(check_err = name_check_image(bad[i])))
			fail_msg("\"%s\" accepted", bad[i]);
	FAILS(name_check_image(""));
	assert_err_has("empty");
	FAILS(name_check_image("a b"));
	assert_err_has("character not allowed");
	FAILS(name_check_image("a:"));
	assert_err_has("malformed");
	FAILS(name_check_image("coneda/Kor"));
	assert_err_has("must be lowercase");
	OK(name_check_image(rep('a', 255)));
	FAILS(name_check_image(rep('a', 256)));
	assert_err_has("too long");
}

static void test_address(void **state)
{
	(void)state;
	OK(name_check_address("127.0.0.1"));
	OK(name_check_address("0.0.0.0"));
	OK(name_check_address("::"));
	OK(name_check_address("::1"));
	OK(name_check_address("fe80::1:2"));
	OK(name_check_address("::ffff:10.0.0.1"));
	FAILS(name_check_address(""));
	FAILS(name_check_address("localhost"));
	assert_err_has("\"localhost\" is not an IP address");
	FAILS(name_check_address("256.0.0.1"));
	FAILS(name_check_address("1.2.3"));
	FAILS(name_check_address("1.2.3.4 "));
	FAILS(name_check_address("[::1]"));
	FAILS(name_check_address(":::"));
}

static void test_port(void **state)
{
	int p = -1;

	(void)state;
	OK(name_check_port("1", &p));
	assert_int_equal(p, 1);
	OK(name_check_port("65535", &p));
	assert_int_equal(p, 65535);
	OK(name_check_port("8080", NULL));
	p = 42;
	FAILS(name_check_port("0", &p));
	assert_int_equal(p, 42); /* untouched on failure */
	assert_err_has("port \"0\" is not a number from 1 to 65535");
	FAILS(name_check_port("65536", &p));
	FAILS(name_check_port("12a", &p));
	FAILS(name_check_port("", &p));
	FAILS(name_check_port("-1", &p));
	FAILS(name_check_port("99999999999999999999", &p));
	assert_int_equal(p, 42);
}

static void split_is(const char *ref, const char *repo, const char *tag)
{
	char *r = NULL, *t = NULL;

	name_image_split(ref, &r, &t);
	assert_string_equal(r, repo);
	assert_string_equal(t, tag);
	free(r);
	free(t);
}

static void test_image_split(void **state)
{
	(void)state;
	split_is("mariadb:10.11", "mariadb", "10.11");
	split_is("mariadb", "mariadb", "latest");
	split_is("coneda/kor:v5.0.0", "coneda/kor", "v5.0.0");
	split_is("127.0.0.1:5000/korcluster-test/sample:v1", "127.0.0.1:5000/korcluster-test/sample", "v1");
	split_is("127.0.0.1:5000/korcluster-test/sample", "127.0.0.1:5000/korcluster-test/sample", "latest");
	split_is("mariadb@sha256:0123abcd", "mariadb", "sha256:0123abcd");
	split_is("host:5000/a/b@sha256:ff", "host:5000/a/b", "sha256:ff");
}

static void test_random(void **state)
{
	char a[33], b[33], one[2], none[1] = {'x'};

	(void)state;
	memset(a, 'X', sizeof a);
	OK(name_random(a, 32, NAME_ALNUM_LOWER));
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, NAME_ALNUM_LOWER), 32);
	OK(name_random(b, 32, NAME_ALNUM_LOWER));
	assert_string_not_equal(a, b);
	OK(name_random(a, 32, NAME_ALNUM));
	assert_int_equal(strspn(a, NAME_ALNUM), 32);
	/* A one-letter alphabet leaves no choice. */
	OK(name_random(a, 32, "q"));
	assert_string_equal(a, "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
	OK(name_random(one, 1, "ab"));
	assert_true(one[0] == 'a' || one[0] == 'b');
	assert_int_equal(one[1], '\0');
	OK(name_random(none, 0, "ab"));
	assert_int_equal(none[0], '\0');
}

static void test_host(void **state)
{
	char long_name[300];

	(void)state;
	OK(name_check_host("example.org"));
	OK(name_check_host("a.example.org"));
	OK(name_check_host("localhost"));
	OK(name_check_host("x-1.b2.example"));
	OK(name_check_host("1.example.org"));
	OK(name_check_host(rep('a', 63)));
	FAILS(name_check_host(rep('a', 64)));
	assert_err_has("longer than 63");
	/* 253 characters in all at most: labels of 63 joined by dots. */
	memset(long_name, 'a', sizeof long_name);
	for (size_t i = 63; i < sizeof long_name; i += 64)
		long_name[i] = '.';
	long_name[253] = '\0';
	OK(name_check_host(long_name));
	long_name[253] = 'a';
	long_name[254] = '\0';
	FAILS(name_check_host(long_name));
	assert_err_has("longer than 253");
	FAILS(name_check_host(""));
	assert_err_has("empty");
	FAILS(name_check_host("*.example.org"));
	assert_err_has("wildcards");
	FAILS(name_check_host("a..b"));
	assert_err_has("empty label");
	FAILS(name_check_host(".a"));
	FAILS(name_check_host("a."));
	FAILS(name_check_host("-a.b"));
	FAILS(name_check_host("a-.b"));
	assert_err_has("ends with");
	FAILS(name_check_host("Example.org"));
	FAILS(name_check_host("a_b.org"));
	FAILS(name_check_host("a b"));
	FAILS(name_check_host("a;b"));
	FAILS(name_check_host("a$host"));
	FAILS(name_check_host("127.0.0.1"));
	assert_err_has("address");
	FAILS(name_check_host("::1"));
}

static void test_url(void **state)
{
	(void)state;
	OK(name_check_url("https://example.org"));
	OK(name_check_url("http://example.org/"));
	OK(name_check_url("https://example.org:8443/a/B_c-d.e~f%20"));
	OK(name_check_url("http://127.0.0.1:8080"));
	FAILS(name_check_url("ftp://example.org"));
	assert_err_has("http:// or https://");
	FAILS(name_check_url("example.org"));
	FAILS(name_check_url("https://"));
	FAILS(name_check_url("https://exa mple.org"));
	FAILS(name_check_url("https://example.org:0"));
	FAILS(name_check_url("https://example.org:"));
	FAILS(name_check_url("https://example.org:99999"));
	FAILS(name_check_url("https://example.org/$host"));
	assert_err_has("its path");
	FAILS(name_check_url("https://example.org/a;return 200"));
	FAILS(name_check_url("https://example.org/a?b=c"));
	FAILS(name_check_url("https://example.org/{a}"));
	FAILS(name_check_url("https://example.org/'a'"));
	FAILS(name_check_url("https://ex$ample.org/"));
}

static void test_description(void **state)
{
	(void)state;
	OK(name_check_description(""));
	OK(name_check_description("Training copy for the autumn course, Raum 3.14 (Grüße)"));
	OK(name_check_description(rep('x', 200)));
	FAILS(name_check_description(rep('x', 201)));
	assert_err_has("longer than 200");
	FAILS(name_check_description("a; b"));
	assert_err_has("\";\"");
	FAILS(name_check_description("two\nlines"));
	FAILS(name_check_description("tab\there"));
	FAILS(name_check_description(" padded"));
	FAILS(name_check_description("padded "));
}

static void test_target(void **state)
{
	(void)state;
	OK(name_check_target("sftp://backup@backup.example.org:22/srv/backups"));
	OK(name_check_target("sftp://root@127.0.0.1/store/"));
	FAILS(name_check_target("sftp://backup.example.org/srv"));
	assert_err_has("needs a user");
	FAILS(name_check_target("sftp://b@h/srv/../etc"));
	assert_err_has("must be plain");
	FAILS(name_check_target("sftp://b@h/srv/."));
	FAILS(name_check_target("sftp://b@h/srv//x"));
	FAILS(name_check_target("sftp://b@h/a b"));
	assert_err_has("may hold letters");
	FAILS(name_check_target("ftp://x@127.0.0.1/store"));
	assert_err_has("is not sftp://USER@HOST[:PORT]/PATH");

	OK(name_check_target("s3://s3.eu-west-1.amazonaws.com/my-backups"));
	OK(name_check_target("s3://s3.example.org:9000/my.backups/korcluster/prod"));
	OK(name_check_target("s3+http://127.0.0.1:9000/abc/"));
	OK(name_check_target("s3://h/a-b"));
	OK(name_check_target("s3://h/012"));
	OK(name_check_target("s3://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	FAILS(name_check_target("s3://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_err_has("its bucket must be 3 to 63");
	FAILS(name_check_target("s3://h/ab"));
	FAILS(name_check_target("s3://h/My-Backups"));
	FAILS(name_check_target("s3://h/-abc"));
	FAILS(name_check_target("s3://h/abc-"));
	FAILS(name_check_target("s3://h/a_bc"));
	FAILS(name_check_target("s3://h/a..bc"));
	assert_err_has("must not hold \"..\"");
	FAILS(name_check_target("s3://h/192.168.1.1"));
	assert_err_has("nor be an IP address");
	FAILS(name_check_target("s3://h"));
	assert_err_has("needs a bucket");
	FAILS(name_check_target("s3:///abc"));
	assert_err_has("its host is not");
	FAILS(name_check_target("s3://h h/abc"));
	FAILS(name_check_target("s3://user@h/abc"));
	FAILS(name_check_target("s3://h/abc/../x"));
	assert_err_has("must be plain");
	FAILS(name_check_target("s3://h/abc//x"));
	FAILS(name_check_target("s3://h/abc/x?y"));
	FAILS(name_check_target("s3+https://h/abc"));
	assert_err_has("s3://HOST[:PORT]/BUCKET[/PREFIX]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_instance_service),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_image_split),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_description),
		cmocka_unit_test(test_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
