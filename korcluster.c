/* korcluster: main() and dispatch.
 *
 * The binary behaves by the name it was called under (like toybox):
 *   cluster.sh CMD ...           cluster commands, on the folder holding that link
 *   instance.sh CMD ...          instance commands, likewise
 *   korcluster [-C DIR] CMD ...  whichever DIR (default .) holds
 * The commands are in the tables of cluster.c and instance.c; the few that
 * describe korcluster itself (help, completion, man) are here.  A command
 * returns an error as a value; main() reports it once and turns its code
 * into the exit status: 0 done, 1 failed, 2 usage, 127 unknown command. */
#include <stdlib.h>
#include <string.h>

#include "korcluster.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "common/mem.h"
#include "common/report.h"

#ifndef KC_VERSION
#define KC_VERSION "unknown"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_UNKNOWN = 127 };

static const struct cmd_table tables[] = {
	{SCOPE_CLUSTER, "cluster.sh", "cluster commands", cluster_cmds},
	{SCOPE_INSTANCE, "instance.sh", "instance commands", instance_cmds},
};

static const struct cmd_table *table_of(enum scope s)
{
	return &tables[s == SCOPE_INSTANCE];
}

/* ---- the commands about korcluster itself ---- */

static void help(enum report_stream to, const struct ctx *ctx)
{
	struct buf b = BUF_INIT;

	if (strcmp(ctx->prog, "korcluster") == 0)
		buf_printf(&b, "usage: korcluster [-C DIR] COMMAND [ARGS]\n"
			       "       korcluster --version\n"
			       "Acts on the cluster or instance in DIR (default: the working folder).\n");
	else
		buf_printf(&b, "usage: %s COMMAND [ARGS]\n", ctx->prog);
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		/* korcluster outside a cluster or instance shows both. */
		if (ctx->scope != SCOPE_NONE && tables[i].scope != ctx->scope)
			continue;
		buf_printf(&b, "\n%s%s:\n", tables[i].title,
			   ctx->scope == SCOPE_NONE && tables[i].scope == SCOPE_INSTANCE ? " (in an instance's folder)"
											 : "");
		cli_list(&tables[i], &b);
	}
	buf_printf(&b, "\n  %-10s %s\n  %-10s %s\n  %-10s %s\n", "help", "this, or help COMMAND", "completion",
		   "completion bash: a bash completion script", "man", "the manual page, korcluster(1), in roff");
	buf_printf(&b, "\n\"%s COMMAND --help\" describes one command.\n"
		       "Exit status: 0 done, 1 failed, 2 usage error, 127 unknown command.\n",
		   ctx->prog);
	report_text(to, "%s", buf_str(&b));
	buf_free(&b);
}

static const struct error *cmd_help(struct ctx *ctx, const struct args *a)
{
	const struct cmd *c;
	struct buf b = BUF_INIT;

	if (!a->n) {
		help(REPORT_STDOUT, ctx);
		return NULL;
	}
	if (!(c = cli_find(table_of(ctx->scope)->cmds, a->operand[0])))
		return error_new(ERR_UNKNOWN, "unknown command \"%s\"", a->operand[0]);
	cli_help(ctx->prog, c, &b);
	report_text(REPORT_STDOUT, "%s", buf_str(&b));
	buf_free(&b);
	return NULL;
}

static const struct error *cmd_completion(struct ctx *ctx, const struct args *a)
{
	struct buf b = BUF_INIT;

	(void)ctx;
	if (strcmp(a->operand[0], "bash") != 0)
		return error_new(ERR_USAGE, "no completion for \"%s\"; there is one for bash", a->operand[0]);
	cli_completion_bash(tables, sizeof tables / sizeof *tables, &b);
	report_text(REPORT_STDOUT, "%s", buf_str(&b));
	buf_free(&b);
	return NULL;
}

static const struct error *cmd_man(struct ctx *ctx, const struct args *a)
{
	struct buf b = BUF_INIT;

	(void)ctx;
	(void)a;
	cli_man(tables, sizeof tables / sizeof *tables, KC_VERSION, &b);
	report_text(REPORT_STDOUT, "%s", buf_str(&b));
	buf_free(&b);
	return NULL;
}

static const struct cmd global_cmds[] = {
	{"help", cmd_help, "[COMMAND]", 0, 1, "describe the commands, or one", NULL, NULL, 0},
	{"completion", cmd_completion, "SHELL", 1, 1, "a completion script (bash)", NULL, NULL, 0},
	{"man", cmd_man, "", 0, 0, "the manual page korcluster(1), in roff", NULL, NULL, 0},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

/* ---- where we act ---- */

/* The folder holding the link we were called through, not its target. */
static const struct error *link_folder(const char *argv0, char **out)
{
	const struct error *err;
	char *copy, *slash;

	if (!strchr(argv0, '/'))
		return fs_absolute(".", out);
	copy = xstrdup(argv0);
	slash = strrchr(copy, '/');
	slash[slash == copy] = '\0';
	err = fs_absolute(copy, out);
	free(copy);
	return err;
}

static enum scope scope_of(const char *root)
{
	char *p = xasprintf("%s/cluster.ini", root);
	enum scope s = fs_exists(p) ? SCOPE_CLUSTER : SCOPE_NONE;

	free(p);
	if (s == SCOPE_NONE) {
		p = xasprintf("%s/instance.ini", root);
		s = fs_exists(p) ? SCOPE_INSTANCE : SCOPE_NONE;
		free(p);
	}
	return s;
}

/* What the options before the command ask for. */
enum ask { ASK_COMMAND, ASK_VERSION, ASK_HELP };

/* The options before the command: -C DIR, --version, --help. */
static const struct error *global_options(int argc, char **argv, int *i, const char **dir, enum ask *ask)
{
	for (; *i < argc && argv[*i][0] == '-'; ++*i) {
		const char *arg = argv[*i];

		if (strcmp(arg, "-C") == 0) {
			if (*i + 1 >= argc)
				return error_new(ERR_USAGE, "-C needs a folder");
			*dir = argv[++*i];
		} else if (strncmp(arg, "-C", 2) == 0) {
			*dir = arg + 2;
		} else if (strcmp(arg, "--version") == 0) {
			*ask = ASK_VERSION;
			return NULL;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			*ask = ASK_HELP;
			return NULL;
		} else {
			return error_new(ERR_USAGE, "unknown option \"%s\"", arg);
		}
	}
	return NULL;
}

/* --help or -h among a command's words (before "--"; not a run's). */
static int asks_help(const struct cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 || ((c->flags & CMD_RAW) && i > 1))
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static const struct error *no_scope(const struct ctx *ctx)
{
	if (ctx->scope == SCOPE_INSTANCE)
		return error_fmt("no instance in \"%s\": instance.ini not found", ctx->root);
	return error_fmt("no cluster in \"%s\": cluster.ini not found; make one with \"%s create DIR\"", ctx->root,
			 strcmp(ctx->prog, "korcluster") == 0 ? "korcluster" : ctx->prog);
}

/* Run command c with argv[0] its name. */
static int run(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const struct error *err;
	struct args a;
	struct buf usage = BUF_INIT;
	int rc;

	if (asks_help(c, argc, argv)) {
		cli_help(ctx->prog, c, &usage);
		report_text(REPORT_STDOUT, "%s", buf_str(&usage));
		buf_free(&usage);
		return EXIT_OK;
	}
	err = cli_parse(c, argc, argv, &a);
	if (!err && (c->flags & CMD_NEEDS_SCOPE) && scope_of(ctx->root) != (ctx->scope == SCOPE_INSTANCE ? SCOPE_INSTANCE
													   : SCOPE_CLUSTER))
		err = no_scope(ctx);
	if (!err) {
		/* SIGINT and SIGTERM end the step under way; the command then
		 * cleans up as on any failure and fails with "interrupted". */
		interrupt_install();
		err = c->fn(ctx, &a);
	}
	free(a.operand);
	if (!err)
		return ctx->exit_code;
	report_error(err);
	rc = err->code == ERR_USAGE ? EXIT_USAGE : err->code == ERR_UNKNOWN ? EXIT_UNKNOWN : EXIT_FAIL;
	if (rc == EXIT_USAGE) {
		cli_usage_line(ctx->prog, c, &usage);
		report_text(REPORT_STDERR, "%s", buf_str(&usage));
		buf_free(&usage);
	}
	return rc;
}

static int dispatch(struct ctx *ctx, int argc, char **argv)
{
	const struct error *err;
	const char *dir = NULL;
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const struct cmd *c;
	enum ask ask = ASK_COMMAND;
	int i = 1;

	if (strcmp(base, "cluster.sh") == 0 || strcmp(base, "instance.sh") == 0) {
		ctx->scope = base[0] == 'c' ? SCOPE_CLUSTER : SCOPE_INSTANCE;
		ctx->prog = table_of(ctx->scope)->prog;
		err = link_folder(argv[0], &ctx->root);
	} else {
		ctx->prog = "korcluster";
		if ((err = global_options(argc, argv, &i, &dir, &ask))) {
			report_error(err);
			help(REPORT_STDERR, ctx);
			return EXIT_USAGE;
		}
		if (ask == ASK_VERSION) {
			report_text(REPORT_STDOUT, "korcluster %s\n", KC_VERSION);
			return EXIT_OK;
		}
		if (dir && !fs_is_dir(dir))
			err = error_fmt("using \"%s\": no such folder", dir);
		else
			err = fs_absolute(dir ? dir : ".", &ctx->root);
		if (!err)
			ctx->scope = scope_of(ctx->root);
	}
	if (err) {
		report_error(err);
		return EXIT_FAIL;
	}
	if (ask == ASK_HELP) {
		help(REPORT_STDOUT, ctx);
		return EXIT_OK;
	}
	if (i >= argc) {
		help(REPORT_STDERR, ctx);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		argv[i] = "help";
	if ((c = cli_find(global_cmds, argv[i])))
		return run(ctx, c, argc - i, argv + i);
	if (!(c = cli_find(table_of(ctx->scope)->cmds, argv[i]))) {
		report_error(error_new(ERR_UNKNOWN, "unknown command \"%s\"", argv[i]));
		help(REPORT_STDERR, ctx);
		return EXIT_UNKNOWN;
	}
	return run(ctx, c, argc - i, argv + i);
}

int main(int argc, char **argv)
{
	struct ctx ctx = {0};
	int rc;

	if (argc < 1)
		return EXIT_USAGE;
	rc = dispatch(&ctx, argc, argv);
	free(ctx.root);
	error_release();
	return rc;
}
