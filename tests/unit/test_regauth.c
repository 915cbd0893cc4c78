/* Unit tests for common/regauth.c: registry credentials as the engine wants them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/regauth.h"
#include "check.h"

static void test_base64(void **state)
{
	char *s, *d;
	size_t n;

	(void)state;
	assert_string_equal(s = regauth_base64("", 0, 0), "");
	free(s);
	assert_string_equal(s = regauth_base64("f", 1, 0), "Zg==");
	free(s);
	assert_string_equal(s = regauth_base64("fo", 2, 0), "Zm8=");
	free(s);
	assert_string_equal(s = regauth_base64("foobar", 6, 0), "Zm9vYmFy");
	free(s);
	/* URL-safe, padded as Go's URLEncoding wants it */
	assert_string_equal(s = regauth_base64("\xfb\xff", 2, 1), "-_8=");
	free(s);
	assert_int_equal(regauth_unbase64("dXNlcjpwYXNz", &d, &n), 0);
	assert_string_equal(d, "user:pass");
	assert_int_equal(n, 9);
	free(d);
	assert_int_equal(regauth_unbase64("Zg==", &d, &n), 0);
	assert_string_equal(d, "f");
	free(d);
	assert_int_equal(regauth_unbase64("Z!g", &d, &n), -1);
}

static void test_registry(void **state)
{
	char *r;

	(void)state;
	assert_string_equal(r = regauth_registry("mariadb:10.11"), "docker.io");
	free(r);
	assert_string_equal(r = regauth_registry("coneda/kor:v5"), "docker.io");
	free(r);
	assert_string_equal(r = regauth_registry("docker.coneda.net:443/kor:v2.1.0"), "docker.coneda.net:443");
	free(r);
	assert_string_equal(r = regauth_registry("localhost/x"), "localhost");
	free(r);
	assert_string_equal(r = regauth_registry("127.0.0.1:5001/a/b:c"), "127.0.0.1:5001");
	free(r);
}

/* The JSON inside an X-Registry-Auth line. */
static json_t *decode(const char *header, const char *name)
{
	size_t n = strlen(name);
	char *b64, *plain;
	size_t len;
	json_t *v;

	assert_int_equal(strncmp(header, name, n), 0);
	b64 = strdup(header + n + 2);
	for (char *c = b64; *c; c++)
		*c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
	assert_int_equal(regauth_unbase64(b64, &plain, &len), 0);
	v = json_loads(plain, 0, NULL);
	assert_non_null(v);
	free(plain);
	free(b64);
	return v;
}

static void test_header(void **state)
{
	const char *config = "{\"auths\": {"
			     "\"docker.coneda.net:443\": {\"auth\": \"am9objpzM2NyZXQ6eA==\"},"
			     "\"https://index.docker.io/v1/\": {\"username\": \"hub\", \"password\": \"pw\"},"
			     "\"http://127.0.0.1:5001/v2/\": {\"identitytoken\": \"tok\"}}}";
	char *h;
	json_t *v;

	(void)state;
	OK(regauth_header_from(config, "docker.coneda.net:443/kor:v2.1.0", &h));
	v = decode(h, "X-Registry-Auth");
	assert_string_equal(json_string_value(json_object_get(v, "username")), "john");
	assert_string_equal(json_string_value(json_object_get(v, "password")), "s3cret:x"); /* first ":" splits */
	assert_string_equal(json_string_value(json_object_get(v, "serveraddress")), "docker.coneda.net:443");
	json_decref(v);
	free(h);
	OK(regauth_header_from(config, "mariadb:10.11", &h));
	v = decode(h, "X-Registry-Auth");
	assert_string_equal(json_string_value(json_object_get(v, "username")), "hub");
	json_decref(v);
	free(h);
	OK(regauth_header_from(config, "127.0.0.1:5001/x:1", &h));
	v = decode(h, "X-Registry-Auth");
	assert_string_equal(json_string_value(json_object_get(v, "identitytoken")), "tok");
	json_decref(v);
	free(h);
	OK(regauth_header_from(config, "other.example:5000/x", &h));
	assert_null(h);
	OK(regauth_config_header_from(config, &h));
	v = decode(h, "X-Registry-Config");
	assert_non_null(json_object_get(v, "docker.coneda.net:443"));
	assert_non_null(json_object_get(v, "https://index.docker.io/v1/"));
	json_decref(v);
	free(h);
	/* a helper holds them: said, not run */
	FAILS(regauth_header_from("{\"credsStore\": \"secretservice\"}", "x.example/a", &h));
	assert_non_null(strstr(last_msg(), "docker-credential-secretservice"));
	FAILS(regauth_header_from("{\"auths\": {\"x.example\": {\"auth\": \"bm9jb2xvbg==\"}}}", "x.example/a", &h));
	assert_non_null(strstr(last_msg(), "malformed"));
	FAILS(regauth_header_from("not json", "a", &h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
