/* Unit tests for common/clustercfg.c; run from the repository root. */
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

#include "../../common/clustercfg.h"
#include "../../common/err.h"
#include "../../common/fs.h"
#include "check.h"

static char dir[] = "/tmp/kc_test_cluster.XXXXXX";
static char ini[sizeof dir + 16];     /* dir/cluster.ini */
static char *sample_text;             /* cluster.ini made for the sample template */

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->lines.n; i++)
		print_error("# problem: %s\n", d->lines.v[i]);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Write text as dir/cluster.ini and load the cluster. */
static void load(const char *text, struct cluster *c, struct diag *d)
{
	write_file(ini, text);
	OK(cluster_load(c, dir, d));
}

/* sample_text with the first "from" replaced by "to". */
static void load_variant(const char *from, const char *to, struct cluster *c, struct diag *d)
{
	char text[4096];
	const char *at = strstr(sample_text, from);

	assert_non_null(at);
	snprintf(text, sizeof text, "%.*s%s%s", (int)(at - sample_text), sample_text, to,
		 at + strlen(from));
	load(text, c, d);
}

/* d holds n problems, one of them "<ini>:<line>: <msg>". */
static void has_problem(const struct diag *d, size_t n, int line, const char *msg)
{
	char want[1024];

	snprintf(want, sizeof want, "%s:%d: %s", ini, line, msg);
	for (size_t i = 0; i < d->lines.n; i++)
		if (strcmp(d->lines.v[i], want) == 0 && d->lines.n == n)
			return;
	dump(d);
	fail_msg("want %zu problem(s), among them: %s", n, want);
}

static int setup(void **state)
{
	char cwd[PATH_MAX], env[PATH_MAX + 16];
	struct template t;
	struct diag d = DIAG_INIT;

	(void)state;
	if (!mkdtemp(dir) || !getcwd(cwd, sizeof cwd))
		return -1;
	snprintf(ini, sizeof ini, "%s/cluster.ini", dir);
	snprintf(env, sizeof env, "%s/templates", cwd);
	setenv("KORCLUSTER_TEMPLATES", env, 1);
	if (template_load_file(&t, "sample", "templates/sample.ini", &d) || d.lines.n)
		return -1;
	sample_text = cluster_ini_text("c1", "sample", "127.0.0.1", &t);
	template_free(&t);
	diag_free(&d);
	return sample_text ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(sample_text);
	return fs_remove_tree(dir) ? -1 : 0;
}

static void test_ini_text(void **state)
{
	(void)state;
	assert_non_null(strstr(sample_text, "\n[cluster]\nname = c1\ntemplate = sample\n"));
	assert_non_null(strstr(sample_text, "\nbind = 127.0.0.1\n"));
	assert_non_null(strstr(sample_text,
			       "\n[images]\n"
			       "db = 127.0.0.1:5000/korcluster-test/mariadb:bookworm\n"
			       "redis = 127.0.0.1:5000/korcluster-test/redis:bookworm\n"));
	assert_non_null(strstr(sample_text, "\nproxy = 127.0.0.1:5000/korcluster-test/nginx:bookworm\n"));
	assert_int_equal(sample_text[strlen(sample_text) - 1], '\n');
}

static void test_round_trip(void **state)
{
	struct cluster c;
	struct diag d = DIAG_INIT;
	char *s, want[sizeof dir + 40];

	(void)state;
	load(sample_text, &c, &d);
	if (d.lines.n) {
		dump(&d);
		fail_msg("%zu problem(s)", d.lines.n);
	}
	assert_string_equal(c.root, dir);
	assert_string_equal(c.name, "c1");
	assert_string_equal(c.template_name, "sample");
	assert_string_equal(c.bind, "127.0.0.1");
	assert_string_equal(c.tpl.name, "sample");
	assert_int_equal(c.tpl.nsvc, 2);
	assert_string_equal(cluster_image(&c, "db"), "127.0.0.1:5000/korcluster-test/mariadb:bookworm");
	assert_null(cluster_image(&c, "ghost"));
	assert_string_equal(s = cluster_container(&c, "db"), "c1_db");
	free(s);
	assert_string_equal(s = cluster_container(&c, "redis"), "c1_redis");
	free(s);
	assert_string_equal(s = cluster_network(&c), "c1_net");
	free(s);
	snprintf(want, sizeof want, "%s/secrets/db_root_password", dir);
	assert_string_equal(s = cluster_path(&c, "secrets/%s_root_password", "db"), want);
	free(s);
	cluster_free(&c);
	assert_null(c.root);
	diag_free(&d);
	/* cluster_open agrees. */
	OK(cluster_open(&c, dir));
	assert_string_equal(c.name, "c1");
	cluster_free(&c);
}

static void test_round_trip_kor(void **state)
{
	struct template t;
	struct cluster c;
	struct diag d = DIAG_INIT;
	char *text;

	(void)state;
	OK(template_load_file(&t, "kor", "templates/kor.ini", &d));
	assert_int_equal(d.lines.n, 0);
	text = cluster_ini_text("x7k2p9", "kor", "0.0.0.0", &t);
	template_free(&t);
	assert_non_null(text);
	/* the one setting without a default waits for the operator, where it goes */
	load(text, &c, &d);
	has_problem(&d, 1, 25, "setting \"mail_smtp_address\" needs a value (the SMTP server ConedaKOR sends its "
			       "mails through (sign-up, password reset)): add \"mail_smtp_address = ...\" under [settings]");
	cluster_free(&c);
	diag_free(&d);
	{
		char *at = strstr(text, "mail_smtp_address =\n"), fixed[8192];

		assert_non_null(at);
		snprintf(fixed, sizeof fixed, "%.*smail_smtp_address = smtp.example.org\n%s", (int)(at - text), text,
			 at + strlen("mail_smtp_address =\n"));
		load(fixed, &c, &d);
	}
	free(text);
	if (d.lines.n) {
		dump(&d);
		fail_msg("%zu problem(s)", d.lines.n);
	}
	assert_string_equal(cluster_image(&c, "elastic"), "elasticsearch:5.6.16");
	assert_int_equal(c.settings.n, 1);
	assert_string_equal(c.settings.v[0], "mail_smtp_address=smtp.example.org");
	assert_null(c.app_image);
	cluster_free(&c);
	diag_free(&d);
}

/* Each mutation of a good cluster.ini and the problem it must give, among
 * n (lines: 2 [cluster], 3 name, 4 template, 6 bind, 12 [images], 13 db,
 * 14 redis). */
static void test_problems(void **state)
{
	static const struct {
		const char *from, *to;
		size_t n;
		int line;
		const char *msg;
	} cases[] = {
		{"name = c1", "name = Bad!", 1, 3, "cluster name \"Bad!\" must match [a-z0-9][a-z0-9_-]{0,31}"},
		{"name = c1\n", "", 1, 2, "[cluster] needs a value for \"name\""},
		{"bind = 127.0.0.1", "bind = localhost", 1, 6, "\"localhost\" is not an IP address"},
		{"bind = 127.0.0.1", "bind = 127.0.0.1:80", 1, 6, "\"127.0.0.1:80\" is not an IP address"},
		{"bind = 127.0.0.1\n", "bind = ::1\ncolour = blue\n", 1, 7, "unknown key \"colour\" in [cluster]"},
		{"template = sample", "template = Sample", 1, 4,
		 "template name \"Sample\" must match [a-z0-9][a-z0-9_-]{0,63}"},
		{"template = sample", "template = nope", 1, 4, "template \"nope\" not found (templates/nope.ini)"},
		{"redis = 127.0.0.1:5000/korcluster-test/redis:bookworm\n", "", 1, 12,
		 "[images] needs an image for service \"redis\""},
		{"db = 127.0.0.1:5000/korcluster-test/mariadb:bookworm", "db = mariadb:", 1, 13,
		 "image reference \"mariadb:\" is malformed"},
		{"db = 127.0.0.1:5000/korcluster-test/mariadb:bookworm", "db = maria db", 1, 13,
		 "image reference \"maria db\" holds a character not allowed there"},
		{"redis:bookworm\n", "redis:bookworm\nghost = busybox:1\n", 1, 15,
		 "[images] names \"ghost\", which is no service of template \"sample\""},
		/* [images] gone: also both services and the proxy miss their image (no line). */
		{"[images]\n", "[imagez]\n", 4, 12, "unknown section [imagez]"},
		{"bind = 127.0.0.1\n", "bind = 127.0.0.1\nhttp_port = 0\n", 1, 7,
		 "http_port: port \"0\" is not a number from 1 to 65535"},
		{"bind = 127.0.0.1\n", "bind = 127.0.0.1\nhttps_port = 80x\n", 1, 7,
		 "https_port: port \"80x\" is not a number from 1 to 65535"},
		{"bind = 127.0.0.1\n", "bind = 127.0.0.1\nhttp_port = 8080\nhttps_port = 8080\n", 1, 2,
		 "http_port and https_port are both 8080"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct cluster c;
		struct diag d = DIAG_INIT;

		load_variant(cases[i].from, cases[i].to, &c, &d);
		has_problem(&d, cases[i].n, cases[i].line, cases[i].msg);
		cluster_free(&c);
		diag_free(&d);
	}
}

/* [limits]: defaults, values with units, and refusals. */
static void test_limits(void **state)
{
	struct cluster c;
	struct diag d = DIAG_INIT;
	char text[4096];
	size_t line;

	(void)state;
	load(sample_text, &c, &d);
	assert_int_equal(d.lines.n, 0);
	assert_int_equal(c.limits.unpack_ratio, 1000);
	assert_int_equal(c.limits.unpack_max, 0);
	assert_int_equal(c.limits.load_timeout, 3600);
	assert_int_equal(c.limits.load_growth, 8);
	cluster_free(&c);
	snprintf(text, sizeof text, "%s[limits]\nunpack_ratio = 0\nunpack_max = 20G\nload_timeout = 90m\nload_growth = 3\n",
		 sample_text);
	load(text, &c, &d);
	assert_int_equal(d.lines.n, 0);
	assert_int_equal(c.limits.unpack_ratio, 0);
	assert_true(c.limits.unpack_max == 20ull << 30);
	assert_int_equal(c.limits.load_timeout, 5400);
	assert_int_equal(c.limits.load_growth, 3);
	cluster_free(&c);
	line = 1;
	for (const char *p = sample_text; *p; p++)
		line += *p == '\n';
	snprintf(text, sizeof text, "%s[limits]\nunpack_ratio = -1\nunpack_max = 3X\nload_timeout = 1d\ncolour = 1\n",
		 sample_text);
	load(text, &c, &d);
	has_problem(&d, 4, (int)line + 1, "\"unpack_ratio\" must be a number from 0 to 1000000 (0: no limit)");
	has_problem(&d, 4, (int)line + 2,
		    "unpack_max: \"3X\" is not a size (a number of bytes, or with K, M, G or T)");
	has_problem(&d, 4, (int)line + 3, "load_timeout: \"1d\" is not a duration (seconds, or a number with s, m or h)");
	has_problem(&d, 4, (int)line + 4, "unknown key \"colour\" in [limits]");
	cluster_free(&c);
	diag_free(&d);
}

static void test_no_cluster_section(void **state)
{
	struct cluster c;
	struct diag d = DIAG_INIT;
	char want[sizeof ini + 64];

	(void)state;
	load("[images]\ndb = mariadb:10.11\n", &c, &d);
	/* One problem, not one per missing key. */
	assert_int_equal(d.lines.n, 1);
	snprintf(want, sizeof want, "%s: no [cluster] section (name, template, bind)", ini);
	assert_string_equal(d.lines.v[0], want);
	assert_null(c.name);
	cluster_free(&c);
	diag_free(&d);
	/* No cluster.ini at all: an error, not a problem list. */
	unlink(ini);
	FAILS(cluster_load(&c, dir, &d));
	assert_non_null(strstr(last_msg(), ini));
	cluster_free(&c);
	diag_free(&d);
}

/* A template whose service "cache" runs the image given as %s (line 15). */
#define TPL_TEXT                                                                                 \
	"[template]\nimage = app:${version}\ndefault_version = v1\nport = 8000\ndata = /data\n"  \
	"health = /\n[process.web]\ncommand = web\n"                                              \
	"[service.db]\nimage = mariadb:11\nport = 3306\nready = mysql\npassword_env = PW\n"      \
	"[service.cache]\nimage = %s\n"

/* Templates of our own, in dir/tpl: their problems come through. */
static void test_template_problems(void **state)
{
	char tdir[sizeof dir + 8], path[sizeof dir + 32], text[1024], want[256];
	struct cluster c;
	struct diag d = DIAG_INIT;

	(void)state;
	snprintf(tdir, sizeof tdir, "%s/tpl", dir);
	assert_int_equal(mkdir(tdir, 0700), 0);
	assert_int_equal(setenv("KORCLUSTER_TEMPLATES", tdir, 1), 0);
	snprintf(path, sizeof path, "%s/mine.ini", tdir);
	snprintf(text, sizeof text, TPL_TEXT, "redis:7 bad");
	write_file(path, text);
	load("[cluster]\nname = c\ntemplate = mine\nbind = ::\n[images]\ndb = m:1\ncache = r:1\nproxy = n:1\n", &c, &d);
	snprintf(want, sizeof want, "%s:15: image reference \"redis:7 bad\" holds a character not allowed there",
		 path);
	assert_int_equal(d.lines.n, 1);
	assert_string_equal(d.lines.v[0], want);
	cluster_free(&c);
	diag_free(&d);
	unlink(path);
}

/* A template that validates gives a cluster.ini that validates. */
static void test_template_round_trip(void **state)
{
	static const char *images[] = {"redis:7", "redis:${version}", "localhost:5000/r@sha256:ab"};
	char tdir[sizeof dir + 8], path[sizeof dir + 32], text[1024];

	(void)state;
	snprintf(tdir, sizeof tdir, "%s/tpl2", dir);
	assert_int_equal(mkdir(tdir, 0700), 0);
	assert_int_equal(setenv("KORCLUSTER_TEMPLATES", tdir, 1), 0);
	snprintf(path, sizeof path, "%s/mine.ini", tdir);
	for (size_t i = 0; i < sizeof images / sizeof *images; i++) {
		struct template t;
		struct cluster c;
		struct diag d = DIAG_INIT;
		char *ini_text;

		snprintf(text, sizeof text, TPL_TEXT, images[i]);
		write_file(path, text);
		OK(template_load_file(&t, "mine", path, &d));
		if (d.lines.n) { /* refusing the template is fine too */
			template_free(&t);
			diag_free(&d);
			continue;
		}
		assert_non_null(ini_text = cluster_ini_text("c", "mine", "::", &t));
		template_free(&t);
		load(ini_text, &c, &d);
		free(ini_text);
		if (d.lines.n) {
			dump(&d);
			fail_msg("template with service image \"%s\" validates, its cluster.ini does not",
				 images[i]);
		}
		cluster_free(&c);
		diag_free(&d);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_text),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_kor),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_cluster_section),
		cmocka_unit_test(test_template_problems),
		cmocka_unit_test(test_template_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
