/* Unit tests for common/s3.c: what needs no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/s3.h"
#include "check.h"

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

/* The text of the next <tag> of xml from *pos, decoded (caller frees), or
 * NULL when there is none. */
static char *next(const char *xml, const char *tag, size_t *pos)
{
	size_t at, n;
	char *out;

	if (!s3_xml_find(xml, strlen(xml), tag, pos, &at, &n))
		return NULL;
	OK(s3_xml_text(xml + at, n, &out));
	return out;
}

static void test_xml_find(void **state)
{
	const char *xml = "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3\"><Prefix>p/</Prefix>"
			  "<KeyCount>2</KeyCount><Contents><Key>p/a&amp;b</Key><Size>3</Size></Contents>"
			  "<Contents><Key>p/&lt;c&gt;</Key></Contents><CommonPrefixes><Prefix>p/d/</Prefix>"
			  "</CommonPrefixes><Empty/><Keys>x</Keys><IsTruncated>false</IsTruncated></ListBucketResult>";
	size_t pos = 0, at, n;
	char *s;

	(void)state;
	/* Key, not Keys nor KeyCount. */
	s = next(xml, "Key", &pos);
	assert_string_equal(s, "p/a&b");
	free(s);
	s = next(xml, "Key", &pos);
	assert_string_equal(s, "p/<c>");
	free(s);
	assert_null(next(xml, "Key", &pos));
	/* An element's content as it stands, inner elements kept. */
	pos = 0;
	assert_int_equal(s3_xml_find(xml, strlen(xml), "CommonPrefixes", &pos, &at, &n), 1);
	assert_int_equal(n, strlen("<Prefix>p/d/</Prefix>"));
	assert_memory_equal(xml + at, "<Prefix>p/d/</Prefix>", n);
	FAILS(s3_xml_text(xml + at, n, &s));
	assert_err_has("an element where text was expected");
	pos = 0;
	assert_int_equal(s3_xml_find(xml, strlen(xml), "Empty", &pos, &at, &n), 1);
	assert_int_equal(n, 0);
	/* Cut short: not closed, or the open tag itself cut. */
	pos = 0;
	assert_int_equal(s3_xml_find("<Code>NoSuchKey</Co", 19, "Code", &pos, &at, &n), 0);
	assert_int_equal(s3_xml_find("<Code", 5, "Code", &pos, &at, &n), 0);
	assert_int_equal(s3_xml_find("<Code>x</Code>", 10, "Code", &pos, &at, &n), 0);
	assert_int_equal(s3_xml_find("", 0, "Code", &pos, &at, &n), 0);
	/* len bounds it, not the NUL. */
	pos = 0;
	assert_int_equal(s3_xml_find("<Code>ab</Code><Code>cd</Code>", 15, "Code", &pos, &at, &n), 1);
	assert_int_equal(s3_xml_find("<Code>ab</Code><Code>cd</Code>", 15, "Code", &pos, &at, &n), 0);
}

static void test_xml_text(void **state)
{
	char *s;

	(void)state;
	OK(s3_xml_text("&amp;&lt;&gt;&quot;&apos;", 25, &s));
	assert_string_equal(s, "&<>\"'");
	free(s);
	OK(s3_xml_text("&#65;&#x42;&#x0D;&#233;&#x20AC;&#x1F600;", 40, &s));
	assert_string_equal(s, "AB\r\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	free(s);
	OK(s3_xml_text("\"etag\"", 6, &s));
	assert_string_equal(s, "\"etag\"");
	free(s);
	/* n bounds it: an entity it cuts is unended. */
	OK(s3_xml_text("ab&amp;cd", 7, &s));
	assert_string_equal(s, "ab&");
	free(s);
	FAILS(s3_xml_text("ab&amp;cd", 5, &s));
	OK(s3_xml_text("", 0, &s));
	assert_string_equal(s, "");
	free(s);
	FAILS(s3_xml_text("a&amp", 5, &s));
	assert_err_has("unknown or unended entity");
	assert_null(s);
	FAILS(s3_xml_text("&nbsp;", 6, &s));
	FAILS(s3_xml_text("&#;", 3, &s));
	FAILS(s3_xml_text("&#x;", 4, &s));
	FAILS(s3_xml_text("&#0;", 4, &s));
	FAILS(s3_xml_text("&#xD800;", 8, &s));
	FAILS(s3_xml_text("&#x110000;", 10, &s));
	FAILS(s3_xml_text("&#99999999999999999999;", 23, &s));
	FAILS(s3_xml_text("&#12a;", 6, &s));
	FAILS(s3_xml_text("&;", 2, &s));
	FAILS(s3_xml_text("a\0b", 3, &s));
	assert_err_has("NUL");
}

static void test_target(void **state)
{
	struct s3_target t;

	(void)state;
	OK(s3_parse_target("s3://s3.example.org:9000/my-backups/korcluster/prod/", &t));
	assert_int_equal(t.https, 1);
	assert_string_equal(t.host, "s3.example.org:9000");
	assert_string_equal(t.bucket, "my-backups");
	assert_string_equal(t.prefix, "korcluster/prod");
	s3_target_free(&t);
	OK(s3_parse_target("s3+http://127.0.0.1:9000/abc", &t));
	assert_int_equal(t.https, 0);
	assert_string_equal(t.host, "127.0.0.1:9000");
	assert_string_equal(t.bucket, "abc");
	assert_string_equal(t.prefix, "");
	s3_target_free(&t);
	OK(s3_parse_target("s3://h/abc/", &t));
	assert_string_equal(t.prefix, "");
	s3_target_free(&t);
	FAILS(s3_parse_target("s3://h/Abc", &t));
	assert_null(t.host);
	FAILS(s3_parse_target("sftp://u@h/abc", &t));
	assert_err_has("is not s3://HOST[:PORT]/BUCKET[/PREFIX]");
}

static void test_login(void **state)
{
	struct s3_login l;

	(void)state;
	OK(s3_parse_login("# the backup bucket's key\naccess_key = AKIA123\nsecret_key=s3cr3t/+=x \r\n\n", &l));
	assert_string_equal(l.access, "AKIA123");
	assert_string_equal(l.secret, "s3cr3t/+=x");
	assert_string_equal(l.region, "us-east-1");
	s3_login_free(&l);
	assert_null(l.secret);
	OK(s3_parse_login("region = eu-central-1\n\taccess_key\t=\tA\nsecret_key = B", &l));
	assert_string_equal(l.region, "eu-central-1");
	assert_string_equal(l.secret, "B");
	s3_login_free(&l);
	/* A message never holds a value. */
	FAILS(s3_parse_login("access_key = A\n", &l));
	assert_err_has("needs access_key and secret_key");
	assert_null(l.access);
	FAILS(s3_parse_login("access_key = A\nsecret_key = TOPSECRET\nsecret_key = TOPSECRET2\n", &l));
	assert_err_has("line 3: \"secret_key\" is given twice");
	assert_null(strstr(last_msg(), "TOPSECRET"));
	FAILS(s3_parse_login("access_key = A\nTOPSECRET\n", &l));
	assert_err_has("line 2 is not NAME = VALUE");
	assert_null(strstr(last_msg(), "TOPSECRET"));
	FAILS(s3_parse_login("access_key = A\nsecret = TOPSECRET\n", &l));
	assert_err_has("\"secret\" is none of");
	assert_null(strstr(last_msg(), "TOPSECRET"));
	FAILS(s3_parse_login("access_key = A\nsecret_key =\n", &l));
	assert_err_has("has no value");
	FAILS(s3_parse_login("access_key = A:B\nsecret_key = C\n", &l));
	assert_err_has("access_key holds a \":\"");
	FAILS(s3_parse_login("access_key = A\nsecret_key = C\nregion = us:east\n", &l));
	assert_err_has("region may hold");
}

static void test_parts(void **state)
{
	const uint64_t mib = 1 << 20;

	(void)state;
	assert_int_equal(s3_part_count(0), 1);
	assert_int_equal(s3_part_len(0, 1), 0);
	assert_int_equal(s3_part_count(1), 1);
	assert_int_equal(s3_part_count(S3_PART_SIZE), 1);
	assert_int_equal(s3_part_len(S3_PART_SIZE, 1), S3_PART_SIZE);
	assert_int_equal(s3_part_count(S3_PART_SIZE + 1), 2);
	assert_int_equal(s3_part_len(S3_PART_SIZE + 1, 1), S3_PART_SIZE);
	assert_int_equal(s3_part_len(S3_PART_SIZE + 1, 2), 1);
	assert_int_equal(s3_part_count(30 * mib), 4);
	assert_int_equal(s3_part_len(30 * mib, 4), 6 * mib);
	/* At most S3_MAX_PARTS: larger parts for a larger object. */
	assert_int_equal(s3_part_count(S3_MAX_PARTS * S3_PART_SIZE), S3_MAX_PARTS);
	assert_int_equal(s3_part_count(S3_MAX_PARTS * S3_PART_SIZE + 1), S3_MAX_PARTS / 2 + 1);
	assert_int_equal(s3_part_len(S3_MAX_PARTS * S3_PART_SIZE + 1, 1), 2 * S3_PART_SIZE);
	assert_true(s3_part_count((uint64_t)5 << 40) <= S3_MAX_PARTS);
	assert_int_equal(s3_part_count(S3_MAX_PARTS * S3_PART_SIZE - 1), S3_MAX_PARTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_find), cmocka_unit_test(test_xml_text), cmocka_unit_test(test_target),
		cmocka_unit_test(test_login),    cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
