/* Unit tests for common/template.c; run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/err.h"
#include "../../common/template.h"
#include "check.h"

/* The path of the last template written by load_text(). */
static char tpl_path[64];

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->lines.n; i++)
		print_error("# problem: %s\n", d->lines.v[i]);
}

/* Write text to a temporary file and load it as a template. */
static void load_text(const char *text, struct template *t, struct diag *d)
{
	int fd, rc;

	snprintf(tpl_path, sizeof tpl_path, "/tmp/kc_test_tpl.XXXXXX");
	fd = mkstemp(tpl_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	rc = (check_err = template_load_file(t, "t", tpl_path, d)) ? -1 : 0;
	unlink(tpl_path);
	assert_int_equal(rc, 0);
}

/* d holds "<tpl_path>:<line>: <msg>" (or "<tpl_path>: <msg>" for line 0). */
static void has(const struct diag *d, int line, const char *msg)
{
	char want[512];

	if (line)
		snprintf(want, sizeof want, "%s:%d: %s", tpl_path, line, msg);
	else
		snprintf(want, sizeof want, "%s: %s", tpl_path, msg);
	for (size_t i = 0; i < d->lines.n; i++)
		if (strcmp(d->lines.v[i], want) == 0)
			return;
	dump(d);
	fail_msg("missing problem: %s", want);
}

static void no_problems(const struct diag *d)
{
	if (d->lines.n) {
		dump(d);
		fail_msg("%zu problem(s)", d->lines.n);
	}
}

static void expand_is(const char *s, char *const *vars, const char *want)
{
	char *out = NULL;

	if (template_expand(s, vars, &out) != 0)
		fail_msg("expanding \"%s\": %s", s, last_msg());
	assert_string_equal(out, want);
	free(out);
}

static void expand_fails(const char *s, char *const *vars, const char *why)
{
	char *out = (char *)"untouched";

	FAILS(template_expand(s, vars, &out));
	assert_string_equal(out, "untouched");
	if (!strstr(last_msg(), why))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), why);
}

static void test_expand(void **state)
{
	char *vars[] = {"version=v5.0.0", "db_host=db", "db_host_x=no", "db=short", "cluster=c1",
			"instance=i_2", "eq=a=b", "empty=", NULL};

	(void)state;
	expand_is("coneda/kor:${version}", vars, "coneda/kor:v5.0.0");
	expand_is("${cluster}_${instance}", vars, "c1_i_2");
	expand_is("mysql2://${db_host}:${db_host}/${db}", vars, "mysql2://db:db/short");
	expand_is("${eq}", vars, "a=b");
	expand_is("[${empty}]", vars, "[]");
	expand_is("plain text", vars, "plain text");
	expand_is("", vars, "");
	expand_is("$ {x} $x {version}", vars, "$ {x} $x {version}");
	expand_is("no vars at all", NULL, "no vars at all");
	expand_fails("a ${nope} b", vars, "unknown variable \"${nope}\"");
	expand_fails("${db_ho}", vars, "\"${db_ho}\"");
	expand_fails("${version", vars, "\"${\" without \"}\"");
	expand_fails("ok ${version} then ${", vars, "without");
	expand_fails("${version}", NULL, "unknown variable \"${version}\"");
}

static void test_repo_templates(void **state)
{
	const struct tpl_service *s;
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	OK(template_load_file(&t, "sample", "templates/sample.ini", &d));
	no_problems(&d);
	assert_string_equal(t.image, "127.0.0.1:5000/korcluster-test/sample:${version}");
	assert_string_equal(t.default_version, "v1");
	assert_int_equal(t.port, 8000);
	assert_string_equal(t.health, "/health");
	assert_non_null(t.healthcheck);
	assert_non_null(strstr(t.healthcheck, "http://127.0.0.1:8000/health"));
	assert_int_equal(t.health_interval, 30);
	assert_int_equal(t.nproc, 2);
	assert_int_equal(t.nsvc, 2);
	assert_non_null(s = template_db(&t));
	assert_string_equal(s->name, "db");
	assert_int_equal(s->port, 3306);
	assert_string_equal(s->password_env, "MARIADB_ROOT_PASSWORD_FILE");
	assert_non_null(s = template_service(&t, "redis"));
	assert_int_equal(s->ready, READY_EXEC);
	assert_string_equal(s->ready_arg, "redis-cli ping");
	assert_int_equal(s->timeout, 60);
	assert_int_equal(s->stop_timeout, 10);
	assert_null(template_service(&t, "nope"));
	assert_int_equal(t.env.n, 9);
	assert_string_equal(t.env.v[1], "DB_HOST=${db_host}");
	template_free(&t);

	OK(template_load_file(&t, "kor", "templates/kor.ini", &d));
	no_problems(&d);
	assert_string_equal(t.default_version, "v5.1.0");
	assert_string_equal(t.image, "kor:${version}");
	assert_int_equal(t.port, 3000);
	assert_string_equal(t.health, "/info");
	assert_string_equal(t.data, "/opt/kor/data");
	/* the image's entrypoint ignores commands: cleared */
	assert_non_null(t.entrypoint);
	assert_string_equal(t.entrypoint, "");
	assert_string_equal(t.setup, "bundle exec rake db:setup");
	assert_string_equal(t.post_setup, "bundle exec bin/kor index-all");
	assert_string_equal(t.post_migrate, "bundle exec bin/kor index-all");
	assert_string_equal(t.post_import, "bundle exec bin/kor index-all");
	assert_string_equal(t.versions_from, "v4.0");
	assert_null(t.versions_to);
	assert_string_equal(t.index_service, "elastic");
	assert_string_equal(t.index_name, "${cluster}_${instance}_${env}");
	assert_string_equal(t.require_env, "DATA_DIR DATABASE_URL MAIL_DELIVERY_METHOD ROOT_URL SECRET_KEY_BASE");
	assert_int_equal(t.nproc, 1); /* no worker since v4.0 */
	assert_non_null(strstr(t.proc[0].command, "--pidfile"));
	assert_non_null(template_setting(&t, "mail_smtp_address"));
	assert_null(template_setting(&t, "mail_smtp_address")->def);
	assert_non_null(s = template_service(&t, "elastic"));
	assert_string_equal(s->image, "elasticsearch:5.6.16");
	assert_int_equal(s->ready, READY_HTTP);
	assert_string_equal(s->ready_arg, "/_cluster/health");
	assert_int_equal(s->timeout, 300);
	/* that image reads no settings from the environment but this one */
	assert_int_equal(s->env.n, 1);
	assert_string_equal(s->env.v[0], "ES_JAVA_OPTS=-Xms512m -Xmx512m");
	assert_non_null(s = template_db(&t));
	assert_string_equal(s->name, "mysql");
	assert_int_equal(s->stop_timeout, 60);
	OK(template_version_check(&t, "v5.1.0"));
	OK(template_version_check(&t, "v4.0.1"));
	FAILS(template_version_check(&t, "v2.1.0"));
	assert_non_null(strstr(last_msg(), "kor-legacy"));
	template_free(&t);

	OK(template_load_file(&t, "kor-legacy", "templates/kor-legacy.ini", &d));
	no_problems(&d);
	assert_int_equal(t.port, 8000);
	assert_null(t.entrypoint);
	assert_int_equal(t.nproc, 2);
	assert_int_equal(t.nfile, 3);
	assert_string_equal(t.file[0].path, "/opt/kor/shared/database.yml");
	assert_non_null(strstr(t.file[0].content, "  database: ${db_name}\n"));
	assert_string_equal(t.file[1].from, "kor.yml");
	OK(template_version_check(&t, "v1.9.2"));
	OK(template_version_check(&t, "v3.0.5"));
	FAILS(template_version_check(&t, "v4.0.0"));
	FAILS(template_version_check(&t, "v1.8"));
	template_free(&t);
	diag_free(&d);
}

static void test_version_cmp(void **state)
{
	(void)state;
	assert_true(template_version_cmp("v5.10.0", "v5.9.0", 0) > 0);
	assert_true(template_version_cmp("5.1.0", "v5.1.0", 0) == 0);
	assert_true(template_version_cmp("v4.0", "v4.0.1", 0) < 0);
	assert_true(template_version_cmp("v4.0.1", "v4.0", 0) > 0);
	assert_true(template_version_cmp("v4.0.1", "v4.0", 1) == 0); /* upto: v4.0 takes in v4.0.1 */
	assert_true(template_version_cmp("v3.0.5", "v3", 1) == 0);
	assert_true(template_version_cmp("v4.0.0", "v3", 1) > 0);
	assert_true(template_version_cmp("v1.0-rc1", "v1.0.1", 0) < 0);
	assert_true(template_version_cmp("v1.0-rc1", "v1.0-rc2", 0) < 0);
	assert_true(template_version_cmp("v2", "v10", 0) < 0);
}

/* The keys for real apps: entrypoint, post steps, versions, settings,
 * files, a search index per environment, required environment. */
static void test_app_keys(void **state)
{
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	load_text("[template]\n"                                   /* 1 */
		  "image = app:${version}\n"                       /* 2 */
		  "default_version = v2\n"                         /* 3 */
		  "versions = v3..v4\n"                            /* 4: v2 is not among them */
		  "port = 8000\n"                                  /* 5 */
		  "data = /data\n"                                 /* 6 */
		  "health = /h\n"                                  /* 7 */
		  "entrypoint = /bin/tini --\n"                    /* 8 */
		  "post_setup = 'unclosed\n"                       /* 9 */
		  "require_env = URL MISSING\n"                    /* 10 */
		  "search_index = search fixed_name\n"             /* 11 */
		  "[process.web]\n"                                /* 12 */
		  "command = run ${mail_host} ${nosuch}\n"         /* 13 */
		  "[env]\n"                                        /* 14 */
		  "URL = http://${hostname}:${port}/${env}\n"      /* 15 */
		  "[setting.mail_host]\n"                          /* 16 */
		  "default = localhost\n"                          /* 17 */
		  "help = where mail goes\n"                       /* 18 */
		  "[setting.Bad]\n"                                /* 19 */
		  "secret = maybe\n"                               /* 20 */
		  "[setting.port]\n"                               /* 21 */
		  "help = clash\n"                                 /* 22 */
		  "[file.conf]\n"                                  /* 23 */
		  "path = /etc/app.conf\n"                         /* 24 */
		  "content = a = ${mail_host}\\nb\\tc\\\\n\n"  /* 25 */
		  "[file.two]\n"                                   /* 26 */
		  "path = relative\n"                              /* 27 */
		  "content = x\n"                                  /* 28 */
		  "from = y\n"                                     /* 29 */
		  "[file.up]\n"                                    /* 30 */
		  "path = /x\n"                                    /* 31 */
		  "from = ../etc/passwd\n"                         /* 32 */
		  "[service.db]\n"                                 /* 33 */
		  "image = mariadb:11\n"                           /* 34 */
		  "port = 3306\n"                                  /* 35 */
		  "ready = mysql\n"                                /* 36 */
		  "password_env = P\n",                            /* 37 */
		  &t, &d);
	has(&d, 4, "default_version v2 is not among the versions v3..v4");
	has(&d, 9, "\"post_setup\": unterminated ' quote");
	has(&d, 10, "require_env names MISSING, which [env] does not set");
	has(&d, 11, "\"search_index\" must be SERVICE NAME, the name with ${env} in it (one index per environment)");
	has(&d, 11, "search_index names \"search\", which is no service of the template with a port");
	has(&d, 13, "unknown variable \"${nosuch}\"");
	has(&d, 19, "setting name \"Bad\" must match [a-z][a-z0-9_]*");
	has(&d, 19, "[setting.Bad] needs \"help\": what the operator must give");
	has(&d, 20, "\"secret\" must be yes or no");
	has(&d, 21, "setting \"port\" has the name of a built-in variable");
	has(&d, 26, "[file.two] needs one of \"content\", \"content_file\" or \"from\"");
	has(&d, 27, "\"path\" must be an absolute container path without \"..\" or \":\"");
	has(&d, 32, "\"from\" names a file of the instance's folder: [A-Za-z0-9._-]+, not starting with \".\"");
	if (d.lines.n != 13) {
		dump(&d);
		fail_msg("%zu problems, want 13", d.lines.n);
	}
	assert_string_equal(t.entrypoint, "/bin/tini --");
	assert_string_equal(t.versions_from, "v3");
	assert_string_equal(t.versions_to, "v4");
	assert_string_equal(t.file[0].content, "a = ${mail_host}\nb\tc\\n");
	assert_string_equal(template_setting(&t, "mail_host")->def, "localhost");
	OK(template_version_check(&t, "v3.2"));
	OK(template_version_check(&t, "v4.9.9"));
	FAILS(template_version_check(&t, "v5"));
	assert_non_null(strstr(last_msg(), "runs versions v3..v4, not v5"));
	template_free(&t);
	diag_free(&d);
}

static const char *good =
	"[template]\n"                   /* 1 */
	"image = app:${version}\n"       /* 2 */
	"default_version = v1\n"         /* 3 */
	"port = 8000\n"                  /* 4 */
	"data = /data\n"                 /* 5 */
	"health = /health\n"             /* 6 */
	"[process.web]\n"                /* 7 */
	"command = run 'the web'\n"      /* 8 */
	"[service.db]\n"                 /* 9 */
	"image = mariadb:10.11\n"        /* 10 */
	"port = 3306\n"                  /* 11 */
	"ready = mysql\n"                /* 12 */
	"password_env = PW_FILE\n";      /* 13 */

static void test_minimal(void **state)
{
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	load_text(good, &t, &d);
	no_problems(&d);
	assert_null(t.description);
	assert_null(t.setup);
	assert_null(t.healthcheck);
	assert_int_equal(t.health_interval, 30);
	assert_int_equal(t.nproc, 1);
	assert_string_equal(t.proc[0].name, "web");
	assert_string_equal(t.proc[0].command, "run 'the web'");
	assert_int_equal(t.nsvc, 1);
	assert_int_equal(t.svc[0].timeout, 120);
	assert_int_equal(t.env.n, 0);
	template_free(&t);
	diag_free(&d);
}

static const char *broken =
	"[template]\n"                              /* 1: no image, default_version */
	"description = broken\n"                    /* 2 */
	"port = 99999\n"                            /* 3 */
	"data = relative/path\n"                    /* 4 */
	"health = health\n"                         /* 5 */
	"colour = blue\n"                           /* 6 */
	"[process.worker]\n"                        /* 7 */
	"command = run ${nope}\n"                   /* 8 */
	"[env]\n"                                   /* 9 */
	"A = 1\n"                                   /* 10 */
	"A = 2\n"                                   /* 11 */
	"B = ${secret}\n"                           /* 12 */
	"bad-name = x\n"                            /* 13 */
	"[service.cache]\n"                         /* 14: no image */
	"ready = bogus\n"                           /* 15 */
	"[service.web2]\n"                          /* 16 */
	"image = redis:7\n"                         /* 17 */
	"ready = http\n"                            /* 18 */
	"port = 80\n"                               /* 19 */
	"data = /data/../etc\n"                     /* 20 */
	"timeout = 0\n"                             /* 21 */
	"[weird]\n"                                 /* 22 */
	"x = 1\n"                                   /* 23 */
	"[service.Bad]\n"                           /* 24 */
	"image = UPPER:1\n";                        /* 25 */

static void test_broken(void **state)
{
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	load_text(broken, &t, &d);
	has(&d, 1, "[template] needs a value for \"image\"");
	has(&d, 1, "[template] needs a value for \"default_version\"");
	has(&d, 3, "\"port\" must be a number from 1 to 65535");
	has(&d, 4, "\"data\" must be an absolute container path without \"..\" or \":\"");
	has(&d, 5, "\"health\" must be an HTTP path starting with /");
	has(&d, 6, "unknown key \"colour\" in [template]");
	has(&d, 8, "unknown variable \"${nope}\"");
	has(&d, 11, "key \"A\" appears twice in [env] (first on line 10)");
	has(&d, 12, "unknown variable \"${secret}\"");
	has(&d, 13, "environment name \"bad-name\" must match [A-Za-z0-9_.]+");
	has(&d, 14, "[service.cache] needs a value for \"image\"");
	has(&d, 15, "\"ready\" must be one of: none, mysql, tcp, http PATH, exec COMMAND");
	has(&d, 18, "\"ready = http PATH\" needs a path starting with /");
	has(&d, 20, "\"data\" must be an absolute container path without \"..\" or \":\"");
	has(&d, 21, "\"timeout\" must be a number from 1 to 3600");
	has(&d, 22, "unknown section [weird]");
	has(&d, 23, "unknown key \"x\" in [weird]");
	has(&d, 24, "service name \"Bad\" must match [a-z][a-z0-9_]{0,30}");
	has(&d, 25, "image reference \"UPPER:1\": the repository name must be lowercase");
	has(&d, 0, "no [process.web] section: the app needs a web process");
	has(&d, 0, "no service with \"ready = mysql\": instances need a MySQL server");
	if (d.lines.n != 21) {
		dump(&d);
		fail_msg("%zu problems, want 21", d.lines.n);
	}
	template_free(&t);
	diag_free(&d);
}

/* Replace the first "from" in good by "to", load it. */
static void load_variant(const char *from, const char *to, struct template *t, struct diag *d)
{
	char text[2048];
	const char *at = strstr(good, from);

	assert_non_null(at);
	snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	load_text(text, t, d);
}

static void test_variants(void **state)
{
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	/* No [template] at all: said once, and each key it needs. */
	load_variant("[template]\n", "", &t, &d);
	has(&d, 0, "no [template] section");
	has(&d, 0, "[template] needs a value for \"port\"");
	has(&d, 2, "unknown key \"default_version\" in []");
	template_free(&t);
	diag_free(&d);

	load_variant("port = 8000\n", "", &t, &d);
	has(&d, 1, "[template] needs a value for \"port\"");
	assert_int_equal(d.lines.n, 1);
	template_free(&t);
	diag_free(&d);

	load_variant("port = 3306\n", "", &t, &d);
	has(&d, 11, "a \"mysql\" readiness check needs \"port\"");
	assert_int_equal(d.lines.n, 1);
	template_free(&t);
	diag_free(&d);

	load_variant("password_env = PW_FILE\n", "", &t, &d);
	has(&d, 9, "a mysql service needs \"password_env\", the variable that names its root password file");
	assert_int_equal(d.lines.n, 1);
	template_free(&t);
	diag_free(&d);

	load_variant("ready = mysql", "ready = exec", &t, &d);
	has(&d, 12, "\"ready = exec COMMAND\" needs a command");
	has(&d, 0, "no service with \"ready = mysql\": instances need a MySQL server");
	assert_int_equal(d.lines.n, 2);
	template_free(&t);
	diag_free(&d);

	load_variant("[process.web]\n", "[process.web]\n[process.web.env]\n", &t, &d);
	/* [process.web] is there, its command went to the unknown section. */
	has(&d, 7, "[process.web] needs a value for \"command\"");
	has(&d, 8, "unknown section [process.web.env]");
	has(&d, 9, "unknown key \"command\" in [process.web.env]");
	assert_int_equal(d.lines.n, 3);
	template_free(&t);
	diag_free(&d);

	load_variant("image = app:${version}", "image = app:${instance}", &t, &d);
	has(&d, 2, "unknown variable \"${instance}\"");
	assert_int_equal(d.lines.n, 1);
	template_free(&t);
	diag_free(&d);
}

/* A command that cannot be split says why, not "empty command". */
static void test_bad_command(void **state)
{
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	load_variant("command = run 'the web'", "command = run 'the web", &t, &d);
	has(&d, 8, "\"command\": unterminated ' quote");
	template_free(&t);
	diag_free(&d);
	load_variant("command = run 'the web'", "command = 'run the web", &t, &d);
	has(&d, 8, "\"command\": unterminated ' quote");
	template_free(&t);
	diag_free(&d);
	load_variant("health = /health\n", "health = /health\nhealthcheck = curl 'x\nhealth_interval = 0\n", &t, &d);
	has(&d, 7, "\"healthcheck\": unterminated ' quote");
	has(&d, 8, "\"health_interval\" must be a number from 1 to 3600");
	template_free(&t);
	diag_free(&d);
}

static void test_find(void **state)
{
	char cwd[PATH_MAX], env[PATH_MAX + 32], want[PATH_MAX + 32], *path = NULL;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(env, sizeof env, "/nonexistent:%s/templates", cwd);
	assert_int_equal(setenv("KORCLUSTER_TEMPLATES", env, 1), 0);
	OK(template_find("sample", &path));
	snprintf(want, sizeof want, "%s/templates/sample.ini", cwd);
	assert_string_equal(path, want);
	free(path);
	FAILS(template_find("../templates/sample", &path));
	FAILS(template_find("no-such-template", &path));
	assert_non_null(strstr(last_msg(), "\"no-such-template\" not found"));
	unsetenv("KORCLUSTER_TEMPLATES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_repo_templates),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_app_keys),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_bad_command),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
