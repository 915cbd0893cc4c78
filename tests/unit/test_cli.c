/* Unit tests for common/cli.c: parsing against a command's entry, and the
 * help, man page and completion made from the real command tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../korcluster.h"
#include "../../common/buf.h"
#include "check.h"

static const struct opt opts[] = {
	{OPT_JSON, 0, "json", OPT_FLAG, NULL, "as JSON", 0, NULL, 0},
	{OPT_YES, 'y', "yes", OPT_FLAG, NULL, "no question", 0, NULL, 0},
	{OPT_TEMPLATE, 't', "template", OPT_TEXT, "NAME", "a template", 0, NULL, 0},
	{OPT_KEEP, 'k', "keep", OPT_NUMBER, "N", "how many", 1, NULL, 0},
	OPT_END,
};

static const struct opt port_opts[] = {
	{OPT_PORT, 'p', "port", OPT_TEXT, "P", "the port", 0, "KC_TEST_PORT", OPTF_REQUIRED},
	OPT_END,
};

static const struct cmd cmd = {"make", NULL, "DIR [NAME]", 1, 2, "make one", NULL, opts, 0};
static const struct cmd port_cmd = {"new", NULL, "NAME", 1, 1, "new one", NULL, port_opts, 0};
static const struct cmd raw_cmd = {"run", NULL, "COMMAND [ARG...]", 1, -1, "run", NULL, NULL, CMD_RAW};

/* Parse the words of line (blank-separated) against c. */
static const struct error *parse(const struct cmd *c, const char *line, struct args *a)
{
	static char copy[256];
	static char *argv[32];
	int argc = 0;

	snprintf(copy, sizeof copy, "%s", line);
	for (char *w = strtok(copy, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	return cli_parse(c, argc, argv, a);
}

static void parse_fails(const struct cmd *c, const char *line, const char *why)
{
	struct args a;

	FAILS(parse(c, line, &a));
	free(a.operand);
	assert_int_equal(check_err->code, ERR_USAGE);
	if (strcmp(check_err->msg, why) != 0)
		fail_msg("\"%s\": error \"%s\", want \"%s\"", line, check_err->msg, why);
}

static void test_options_anywhere(void **state)
{
	struct args a;

	(void)state;
	OK(parse(&cmd, "make --json dir -t kor name --keep 3", &a));
	assert_true(a.set[OPT_JSON]);
	assert_false(a.set[OPT_YES]);
	assert_string_equal(a.text[OPT_TEMPLATE], "kor");
	assert_int_equal(a.num[OPT_KEEP], 3);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.operand[0], "dir");
	assert_string_equal(a.operand[1], "name");
	assert_null(a.operand[2]);
	free(a.operand);
	/* --opt=VALUE, a value stuck to its short option, short flags together */
	OK(parse(&cmd, "make --template=sample -k7 -y dir", &a));
	assert_string_equal(a.text[OPT_TEMPLATE], "sample");
	assert_int_equal(a.num[OPT_KEEP], 7);
	assert_true(a.set[OPT_YES]);
	free(a.operand);
	OK(parse(&cmd, "make -yt kor dir", &a));
	assert_true(a.set[OPT_YES]);
	assert_string_equal(a.text[OPT_TEMPLATE], "kor");
	free(a.operand);
	/* "--" ends the options; "-" alone is an operand */
	OK(parse(&cmd, "make -- -y -", &a));
	assert_false(a.set[OPT_YES]);
	assert_string_equal(a.operand[0], "-y");
	assert_string_equal(a.operand[1], "-");
	free(a.operand);
}

static void test_bad_lines(void **state)
{
	(void)state;
	parse_fails(&cmd, "make", "missing DIR");
	parse_fails(&cmd, "make a b c", "unexpected argument \"c\"");
	parse_fails(&cmd, "make --bogus a", "unknown option or missing value \"--bogus\"");
	parse_fails(&cmd, "make -x a", "unknown option or missing value \"-x\"");
	parse_fails(&cmd, "make a --template", "unknown option or missing value \"--template\"");
	parse_fails(&cmd, "make a -t", "unknown option or missing value \"-t\"");
	parse_fails(&cmd, "make a --json=1", "unknown option or missing value \"--json=1\"");
	parse_fails(&cmd, "make a --keep 0", "--keep needs a number from 1");
	parse_fails(&cmd, "make a --keep 2x", "--keep needs a number from 1");
	parse_fails(&cmd, "make a --keep 100001", "--keep needs a number from 1");
	parse_fails(&cmd, "make a --keep=", "--keep needs a number from 1");
}

static void test_environment_default(void **state)
{
	struct args a;

	(void)state;
	unsetenv("KC_TEST_PORT");
	parse_fails(&port_cmd, "new a", "missing port: give --port P or KC_TEST_PORT=P");
	setenv("KC_TEST_PORT", "8001", 1);
	OK(parse(&port_cmd, "new a", &a));
	assert_string_equal(a.text[OPT_PORT], "8001");
	free(a.operand);
	/* the option wins over the variable */
	OK(parse(&port_cmd, "new -p 8002 a", &a));
	assert_string_equal(a.text[OPT_PORT], "8002");
	free(a.operand);
	/* an empty variable is no value */
	setenv("KC_TEST_PORT", "", 1);
	parse_fails(&port_cmd, "new a", "missing port: give --port P or KC_TEST_PORT=P");
	unsetenv("KC_TEST_PORT");
}

static void test_raw(void **state)
{
	struct args a;

	(void)state;
	OK(parse(&raw_cmd, "run ls -l --json -- x", &a));
	assert_int_equal(a.n, 5);
	assert_string_equal(a.operand[0], "ls");
	assert_string_equal(a.operand[2], "--json");
	assert_string_equal(a.operand[3], "--");
	free(a.operand);
	parse_fails(&raw_cmd, "run", "missing COMMAND");
}

static void test_usage_and_help(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	cli_usage_line("cluster.sh", &cmd, &b);
	assert_string_equal(buf_str(&b), "usage: cluster.sh make [--json] [--yes] [--template NAME] [--keep N] DIR [NAME]\n");
	buf_free(&b);
	cli_usage_line("cluster.sh", &port_cmd, &b);
	assert_string_equal(buf_str(&b), "usage: cluster.sh new --port P NAME\n");
	buf_free(&b);
	cli_help("korcluster", &cmd, &b);
	assert_non_null(strstr(buf_str(&b), "  -t, --template NAME    a template\n"));
	assert_non_null(strstr(buf_str(&b), "      --json             as JSON\n"));
	buf_free(&b);
	cli_help("korcluster", &port_cmd, &b);
	assert_non_null(strstr(buf_str(&b), "the port (or KC_TEST_PORT=P)"));
	buf_free(&b);
}

static const struct cmd_table tables[] = {
	{SCOPE_CLUSTER, "cluster.sh", "cluster commands", cluster_cmds},
	{SCOPE_INSTANCE, "instance.sh", "instance commands", instance_cmds},
};

/* Every command of the real tables, and every option of each, is in the man
 * page and the completion script; the tables are sound. */
static void test_tables(void **state)
{
	struct buf man = BUF_INIT, comp = BUF_INIT, word = BUF_INIT;

	(void)state;
	cli_man(tables, 2, "9.9", &man);
	cli_completion_bash(tables, 2, &comp);
	assert_non_null(strstr(buf_str(&man), ".TH KORCLUSTER 1"));
	for (size_t t = 0; t < 2; t++)
		for (const struct cmd *c = tables[t].cmds; c->name; c++) {
			int seen[OPT__COUNT] = {0};

			assert_non_null(c->fn);
			assert_non_null(c->summary);
			assert_true(c->max < 0 || c->max >= c->min);
			buf_free(&word);
			buf_puts(&word, ".B ");
			/* every "-" of the name is "\-" in roff */
			for (const char *p = c->name; *p; p++)
				buf_puts(&word, *p == '-' ? "\\-" : (char[]){*p, 0});
			buf_puts(&word, "\n");
			if (!strstr(buf_str(&man), buf_str(&word)))
				fail_msg("man page lacks command %s", c->name);
			buf_free(&word);
			buf_printf(&word, "%s:%s) opts=\"--help", t ? "instance" : "cluster", c->name);
			if (!strstr(buf_str(&comp), buf_str(&word)))
				fail_msg("completion lacks command %s", c->name);
			for (const struct opt *o = c->opts; o && o->long_name; o++) {
				const char *line = strstr(buf_str(&comp), buf_str(&word));
				char roffed[64];

				assert_false(seen[o->key]);
				seen[o->key] = 1;
				buf_free(&word);
				buf_printf(&word, " --%s", o->long_name);
				if (!strstr(line, buf_str(&word)) || strstr(line, buf_str(&word)) > strchr(line, '\n'))
					fail_msg("completion of %s lacks --%s", c->name, o->long_name);
				/* every "-" of the name is "\-" in roff */
				snprintf(roffed, sizeof roffed, "\\-\\-");
				for (const char *p = o->long_name; *p && strlen(roffed) < sizeof roffed - 3; p++)
					snprintf(roffed + strlen(roffed), sizeof roffed - strlen(roffed), "%s",
						 *p == '-' ? "\\-" : (char[]){*p, 0});
				if (!strstr(buf_str(&man), roffed))
					fail_msg("man page lacks --%s", o->long_name);
				buf_free(&word);
				buf_printf(&word, "%s:%s) opts=\"--help", t ? "instance" : "cluster", c->name);
			}
		}
	buf_free(&word);
	buf_free(&man);
	buf_free(&comp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_anywhere),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_environment_default),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_usage_and_help),
		cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
