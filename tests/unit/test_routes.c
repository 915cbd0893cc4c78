/* Unit tests for common/routes.c and the proxy's server blocks for routes,
 * in a temporary cluster folder under /tmp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/err.h"
#include "../../common/fs.h"
#include "../../common/proxy.h"
#include "../../common/routes.h"
#include "check.h"

static char top[] = "/tmp/kc_test_routes.XXXXXX";

/* What every hostname's plain-HTTP server answers first. */
#define ACME "    location /.well-known/acme-challenge/ {\n        root /etc/korcluster-proxy/acme;\n    }\n"

static const char *at(const char *rel)
{
	static char bufs[4][PATH_MAX];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", top, rel);
	return b;
}

static void write_file(const char *path, const char *text)
{
	OK(fs_write_atomic(path, text, strlen(text), 0644));
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	OK(fs_mkdirs(at("instances/a"), 0755));
	OK(fs_mkdirs(at("instances/b"), 0755));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fs_remove_tree(top) ? -1 : 0;
}

static void test_round_trip(void **state)
{
	struct routes r = ROUTES_INIT, back;
	char *text = NULL;

	(void)state;
	OK(routes_load(at("instances/a"), &back));
	assert_int_equal(back.n, 0);
	routes_add(&r, "a.example.org", ROUTE_PRIMARY, NULL, 0);
	routes_add(&r, "www.a.example.org", ROUTE_ALIAS, NULL, 0);
	routes_add(&r, "old.example.org", ROUTE_REDIRECT, "https://a.example.org", 0);
	routes_add(&r, "secure.example.org", ROUTE_ALIAS, NULL, 1);
	routes_add(&r, "safe.example.org", ROUTE_REDIRECT, "https://a.example.org", 1);
	routes_add(&r, "admin.example.org", ROUTE_ALIAS, NULL, 1);
	r.v[r.n - 1].admin = 1;
	OK(routes_save(at("instances/a"), &r));
	OK(fs_read(at("instances/a/routes"), &text, NULL));
	assert_non_null(strstr(text, "\nadmin.example.org alias admin tls\n"));
	assert_non_null(strstr(text, "\nold.example.org redirect https://a.example.org\n"));
	assert_non_null(strstr(text, "\nsecure.example.org alias tls\n"));
	assert_non_null(strstr(text, "\nsafe.example.org redirect https://a.example.org tls\n"));
	free(text);
	OK(routes_load(at("instances/a"), &back));
	assert_int_equal(back.n, 6);
	assert_true(routes_find(&back, "admin.example.org")->admin);
	assert_true(routes_find(&back, "admin.example.org")->tls);
	assert_false(routes_find(&back, "secure.example.org")->admin);
	assert_true(routes_find(&back, "secure.example.org")->tls);
	assert_true(routes_find(&back, "safe.example.org")->tls);
	assert_false(routes_find(&back, "old.example.org")->tls);
	assert_string_equal(routes_find(&back, "safe.example.org")->target, "https://a.example.org");
	assert_string_equal(routes_primary(&back)->host, "a.example.org");
	assert_int_equal(routes_find(&back, "www.a.example.org")->kind, ROUTE_ALIAS);
	assert_string_equal(routes_find(&back, "old.example.org")->target, "https://a.example.org");
	assert_null(routes_find(&back, "b.example.org"));
	routes_remove(&back, "a.example.org");
	assert_int_equal(back.n, 5);
	assert_null(routes_primary(&back));
	assert_string_equal(back.v[0].host, "www.a.example.org");
	routes_free(&back);
	/* No routes: no file. */
	routes_free(&r);
	OK(routes_save(at("instances/a"), &r));
	assert_false(fs_exists(at("instances/a/routes")));
}

static void refused(const char *text, const char *why)
{
	struct routes r;

	write_file(at("instances/b/routes"), text);
	FAILS(routes_load(at("instances/b"), &r));
	if (!strstr(last_msg(), why))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), why);
	assert_int_equal(r.n, 0);
}

static void test_refused(void **state)
{
	(void)state;
	refused("a.example.org primary\nb.example.org primary\n", "a second primary");
	refused("a.example.org primary\na.example.org alias\n", "listed twice");
	refused("A.example.org primary\n", "must be labels");
	refused("a.example.org server\n", "no kind of route");
	refused("a.example.org redirect\n", "only a redirect, names a URL");
	refused("a.example.org alias https://b.example.org\n", "only a redirect, names a URL");
	refused("a.example.org redirect https://b.example.org/$uri\n", "its path");
	refused("a.example.org redirect https://b.example.org x\n", "expected");
	refused("# fine\n\na.example.org\n", "line 3");
	refused("a.example.org alias tls tls\n", "only a redirect, names a URL");
	refused("a.example.org redirect https://b.example.org tls x\n", "expected");
	refused("a.example.org tls\n", "no kind of route");
	refused("a.example.org redirect tls\n", "only a redirect, names a URL");
	refused("a.example.org redirect https://b.example.org admin\n", "cannot be admin");
	refused("a.example.org alias tls admin\n", "only a redirect, names a URL");
	refused("a.example.org alias admin admin\n", "only a redirect, names a URL");
	unlink(at("instances/b/routes"));
}

static void test_owner(void **state)
{
	struct cluster cl;
	struct routes r = ROUTES_INIT;
	char *owner = NULL;
	int any;

	(void)state;
	memset(&cl, 0, sizeof cl);
	cl.root = top;
	OK(routes_any(&cl, &any, NULL));
	assert_false(any);
	routes_add(&r, "b.example.org", ROUTE_PRIMARY, NULL, 0);
	OK(routes_save(at("instances/b"), &r));
	OK(routes_any(&cl, &any, NULL));
	assert_true(any);
	OK(routes_owner(&cl, "a", "b.example.org", &owner));
	assert_string_equal(owner, "b");
	free(owner);
	/* Its own routes are not another's. */
	OK(routes_owner(&cl, "b", "b.example.org", &owner));
	assert_null(owner);
	OK(routes_owner(&cl, "a", "c.example.org", &owner));
	assert_null(owner);
	routes_free(&r);
	OK(routes_save(at("instances/b"), &r));
}

static void test_tls_files(void **state)
{
	struct cluster cl;
	char *crt = NULL, *key = NULL;

	(void)state;
	memset(&cl, 0, sizeof cl);
	cl.root = top;
	OK(fs_mkdirs(at("proxy/tls"), 0700));
	FAILS(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_non_null(strstr(last_msg(), "no certificate for \"a.example.org\""));
	/* The cluster's, until the hostname has its own. */
	write_file(at("proxy/tls/_cluster.crt"), "crt");
	write_file(at("proxy/tls/_cluster.key"), "key");
	FAILS(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_non_null(strstr(last_msg(), "may be read by others (mode 0644): chmod 600 it"));
	OK(fs_write_atomic(at("proxy/tls/_cluster.key"), "key", 3, 0600));
	OK(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_string_equal(crt, "_cluster.crt");
	assert_string_equal(key, "_cluster.key");
	free(crt);
	free(key);
	write_file(at("proxy/tls/a.example.org.crt"), "crt");
	OK(fs_write_atomic(at("proxy/tls/a.example.org.key"), "key", 3, 0640));
	FAILS(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_non_null(strstr(last_msg(), "a.example.org.key\" may be read by others (mode 0640)"));
	OK(fs_write_atomic(at("proxy/tls/a.example.org.key"), "key", 3, 0600));
	OK(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_string_equal(crt, "a.example.org.crt");
	assert_string_equal(key, "a.example.org.key");
	free(crt);
	free(key);
	/* A link is no certificate file. */
	unlink(at("proxy/tls/a.example.org.key"));
	assert_int_equal(symlink("_cluster.key", at("proxy/tls/a.example.org.key")), 0);
	FAILS(routes_tls_files(&cl, "a.example.org", &crt, &key));
	assert_non_null(strstr(last_msg(), "is not a regular file"));
	OK(fs_remove_tree(at("proxy")));
}

/* Whether the server block of conf that holds at (its first) holds what. */
static int in_server(const char *conf, const char *at, const char *what)
{
	const char *start = strstr(conf, at), *end, *found;

	if (!start)
		return 0;
	end = strstr(start, "\nserver {");
	found = strstr(start, what);
	return found && (!end || found < end);
}

static void test_server_blocks(void **state)
{
	struct cluster cl;
	struct routes r = ROUTES_INIT;
	char *conf;

	(void)state;
	memset(&cl, 0, sizeof cl);
	cl.bind = "127.0.0.1";
	cl.http_port = 8080;
	conf = proxy_instance_conf("a", &cl, 20001, "10.0.0.2", NULL, 3000, &r);
	assert_null(strstr(conf, "server_name"));
	assert_null(strstr(conf, ":8080"));
	free(conf);
	routes_add(&r, "a.example.org", ROUTE_PRIMARY, NULL, 0);
	routes_add(&r, "www.a.example.org", ROUTE_ALIAS, NULL, 0);
	routes_add(&r, "old.example.org", ROUTE_REDIRECT, "https://a.example.org", 0);
	routes_add(&r, "older.example.org", ROUTE_REDIRECT, "https://a.example.org/", 0);
	routes_add(&r, "landing.example.org", ROUTE_REDIRECT, "https://a.example.org/welcome", 0);
	conf = proxy_instance_conf("a", &cl, 20001, "10.0.0.2", NULL, 3000, &r);
	assert_non_null(strstr(conf, "listen 127.0.0.1:20001;"));
	assert_non_null(strstr(conf, "listen 127.0.0.1:8080;\n    server_name a.example.org www.a.example.org;\n"));
	assert_non_null(strstr(conf, "server_name old.example.org;\n" ACME "    location / {\n"
				     "        return 301 https://a.example.org$request_uri;"));
	assert_non_null(strstr(conf, "server_name older.example.org;\n" ACME "    location / {\n"
				     "        return 301 https://a.example.org$request_uri;"));
	assert_non_null(strstr(conf, "server_name landing.example.org;\n" ACME "    location / {\n"
				     "        return 301 https://a.example.org/welcome;"));
	/* Both servers of the instance hold writes. */
	assert_non_null(strstr(strstr(conf, "server_name a.example.org"), "hold/a$kc_write"));
	assert_null(strstr(conf, "ssl"));
	free(conf);
	routes_free(&r);
	/* Over TLS: HTTP goes over to HTTPS, which has its certificate, TLS 1.2
	 * and up, and HSTS (also on a held write's 503). */
	cl.https_port = 8443;
	routes_add(&r, "a.example.org", ROUTE_PRIMARY, NULL, 1);
	routes_add(&r, "old.example.org", ROUTE_REDIRECT, "https://a.example.org", 1);
	conf = proxy_instance_conf("a", &cl, 20001, "10.0.0.2", NULL, 3000, &r);
	assert_non_null(strstr(conf, "server_name a.example.org;\n" ACME "    location / {\n"
				     "        return 301 https://a.example.org:8443$request_uri;"));
	assert_non_null(strstr(conf, "    listen 127.0.0.1:8443 ssl;\n    server_name a.example.org;\n"
				     "    ssl_certificate /etc/korcluster-proxy/tls/a.example.org.crt;\n"
				     "    ssl_certificate_key /etc/korcluster-proxy/tls/a.example.org.key;\n"
				     "    ssl_protocols TLSv1.2 TLSv1.3;\n"));
	assert_non_null(strstr(strstr(conf, "listen 127.0.0.1:8443 ssl;\n    server_name a.example.org"),
			       "Strict-Transport-Security"));
	assert_non_null(strstr(strstr(conf, "hold/a$kc_write) {\n            add_header Strict-Transport"),
			       "Retry-After"));
	assert_non_null(strstr(conf, "    listen 127.0.0.1:8443 ssl;\n    server_name old.example.org;\n"));
	free(conf);
	routes_free(&r);
	/* With a frontend: the public hostnames from it through the cache,
	 * reads only; the admin ones and the port from the full app. */
	routes_add(&r, "a.example.org", ROUTE_PRIMARY, NULL, 0);
	routes_add(&r, "admin.a.example.org", ROUTE_ALIAS, NULL, 0);
	r.v[1].admin = 1;
	routes_add(&r, "s.example.org", ROUTE_ALIAS, NULL, 1);
	conf = proxy_instance_conf("a", &cl, 20001, "10.0.0.2", "10.0.255.254", 3000, &r);
	assert_non_null(strstr(conf, "upstream kc_a_front {\n    server 10.0.255.254:3000;\n"));
	assert_non_null(strstr(conf, "proxy_cache_path /var/cache/korcluster-proxy/a levels=1:2 keys_zone=kc_a:10m "));
	assert_true(in_server(conf, "listen 127.0.0.1:20001;", "proxy_pass http://kc_a;"));
	assert_false(in_server(conf, "listen 127.0.0.1:20001;", "proxy_cache"));
	assert_true(in_server(conf, "server_name a.example.org;", "proxy_pass http://kc_a_front;"));
	assert_true(in_server(conf, "server_name a.example.org;", "proxy_cache kc_a;"));
	assert_true(in_server(conf, "server_name a.example.org;", "limit_except GET HEAD {\n            deny all;"));
	assert_true(in_server(conf, "server_name admin.a.example.org;", "proxy_pass http://kc_a;"));
	assert_false(in_server(conf, "server_name admin.a.example.org;", "proxy_cache"));
	assert_true(in_server(conf, "listen 127.0.0.1:8443 ssl;\n    server_name s.example.org;", "proxy_cache kc_a;"));
	free(conf);
	routes_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_tls_files),
		cmocka_unit_test(test_server_blocks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
