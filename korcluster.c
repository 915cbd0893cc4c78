/* korcluster: main() and dispatch.
 *
 * The binary behaves by the name it was called under (like toybox):
 *   cluster.sh CMD ...   cluster commands, on the folder holding that link
 *   instance.sh CMD ...  instance commands, likewise
 *   korcluster [-C DIR] CMD ...  whichever DIR (default .) holds
 * The commands themselves are in cluster.c and instance.c. */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/http.h"

#ifndef KC_VERSION
#define KC_VERSION "unknown"
#endif

int cli_number(const struct ctx *ctx, const struct cmd *c, const char *opt, const char *arg, long min, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || !*arg || v < min || v > 100000)
		return cli_usage_error(ctx, c, "%s needs a number from %ld", opt, min);
	*out = v;
	return 0;
}

void cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2));

	printf("%s\n", s ? s : "null");
	free(s);
}

void cli_usage(FILE *f, const struct ctx *ctx, const struct cmd *c)
{
	fprintf(f, "usage: %s %s%s%s\n", ctx->prog, c->name, c->usage[0] ? " " : "", c->usage);
	fprintf(f, "%s\n", c->summary);
	if (c->help)
		fprintf(f, "\n%s", c->help);
}

int cli_usage_error(const struct ctx *ctx, const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fputs("korcluster: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, "usage: %s %s %s\n", ctx->prog, c->name, c->usage);
	return KC_USAGE;
}

int cli_bad_option(const struct ctx *ctx, const struct cmd *c, char **argv)
{
	extern int optind, optopt;

	if (optopt)
		return cli_usage_error(ctx, c, "unknown option or missing value \"-%c\"", optopt);
	return cli_usage_error(ctx, c, "unknown option or missing value \"%s\"", argv[optind - 1]);
}

static const struct cmd *table(const struct ctx *ctx)
{
	return ctx->scope == SCOPE_INSTANCE ? instance_cmds : cluster_cmds;
}

static void help(FILE *f, const struct ctx *ctx)
{
	const char *what = ctx->scope == SCOPE_INSTANCE ? "instance" : "cluster";

	if (strcmp(ctx->prog, "korcluster") == 0)
		fprintf(f, "usage: korcluster [-C DIR] COMMAND [ARGS]\n"
			   "       korcluster --version\n"
			   "Acts on the cluster or instance in DIR (default: the working folder).\n");
	else
		fprintf(f, "usage: %s COMMAND [ARGS]\n", ctx->prog);
	fprintf(f, "\n%s commands:\n", what);
	for (const struct cmd *c = table(ctx); c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n\"%s COMMAND --help\" describes one command.\n"
		   "Exit status: 0 done, 1 failed, 2 usage error, 127 unknown command.\n",
		ctx->prog);
}

/* The folder holding the link we were called through, not its target. */
static char *link_folder(const char *argv0)
{
	char *copy, *slash, *abs;

	if (!strchr(argv0, '/'))
		return fs_absolute(".");
	if (!(copy = strdup(argv0)))
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	abs = fs_absolute(copy);
	free(copy);
	return abs;
}

static enum scope scope_of(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/cluster.ini", root);
	if (fs_exists(path))
		return SCOPE_CLUSTER;
	snprintf(path, sizeof path, "%s/instance.ini", root);
	if (fs_exists(path))
		return SCOPE_INSTANCE;
	return SCOPE_NONE;
}

static void on_signal(int sig)
{
	(void)sig;
	http_interrupt();
}

int main(int argc, char **argv)
{
	struct sigaction sa = {0};
	struct ctx ctx = {0};
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *dir = NULL;
	const struct cmd *c;
	int i = 1, rc;

	if (strcmp(base, "cluster.sh") == 0 || strcmp(base, "instance.sh") == 0) {
		ctx.prog = strcmp(base, "cluster.sh") == 0 ? "cluster.sh" : "instance.sh";
		ctx.scope = ctx.prog[0] == 'c' ? SCOPE_CLUSTER : SCOPE_INSTANCE;
		ctx.root = link_folder(argv[0]);
	} else {
		ctx.prog = "korcluster";
		for (; i < argc && argv[i][0] == '-'; i++) {
			if (strcmp(argv[i], "-C") == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "korcluster: -C needs a folder\n");
					return KC_USAGE;
				}
				dir = argv[++i];
			} else if (strncmp(argv[i], "-C", 2) == 0 && argv[i][2]) {
				dir = argv[i] + 2;
			} else if (strcmp(argv[i], "--version") == 0) {
				printf("korcluster %s\n", KC_VERSION);
				return KC_OK;
			} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
				ctx.scope = SCOPE_CLUSTER;
				help(stdout, &ctx);
				return KC_OK;
			} else {
				fprintf(stderr, "korcluster: unknown option \"%s\"\n", argv[i]);
				help(stderr, &ctx);
				return KC_USAGE;
			}
		}
		if (dir && !fs_is_dir(dir)) {
			fprintf(stderr, "korcluster: using \"%s\": no such folder\n", dir);
			return KC_FAIL;
		}
		ctx.root = fs_absolute(dir ? dir : ".");
		if (ctx.root)
			ctx.scope = scope_of(ctx.root);
	}
	if (!ctx.root) {
		fprintf(stderr, "korcluster: %s\n", err_msg());
		return KC_FAIL;
	}
	if (i >= argc) {
		help(stderr, &ctx);
		free(ctx.root);
		return KC_USAGE;
	}
	if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		rc = KC_OK;
		if (i + 1 < argc) {
			for (c = table(&ctx); c->name && strcmp(c->name, argv[i + 1]); c++)
				;
			if (c->name)
				cli_usage(stdout, &ctx, c);
			else {
				fprintf(stderr, "korcluster: unknown command \"%s\"\n", argv[i + 1]);
				rc = KC_UNKNOWN;
			}
		} else {
			help(stdout, &ctx);
		}
		free(ctx.root);
		return rc;
	}
	for (c = table(&ctx); c->name && strcmp(c->name, argv[i]); c++)
		;
	if (!c->name) {
		fprintf(stderr, "korcluster: unknown command \"%s\"\n", argv[i]);
		help(stderr, &ctx);
		free(ctx.root);
		return KC_UNKNOWN;
	}
	if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0)) {
		cli_usage(stdout, &ctx, c);
		free(ctx.root);
		return KC_OK;
	}
	if ((c->flags & CMD_NEEDS_SCOPE) && scope_of(ctx.root) != (ctx.scope == SCOPE_INSTANCE ? SCOPE_INSTANCE : SCOPE_CLUSTER)) {
		if (ctx.scope == SCOPE_INSTANCE)
			fprintf(stderr, "korcluster: no instance in \"%s\": instance.ini not found\n", ctx.root);
		else
			fprintf(stderr, "korcluster: no cluster in \"%s\": cluster.ini not found; "
					"make one with \"%s create DIR\"\n", ctx.root, ctx.prog);
		free(ctx.root);
		return KC_FAIL;
	}
	/* SIGINT/SIGTERM end the step under way; the command then cleans up
	 * as on any failure and exits 1 ("interrupted"). */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err_clear();
	rc = c->fn(&ctx, argc - i, argv + i);
	/* What the command said comes before why it failed, even through a pipe. */
	fflush(stdout);
	if (rc == KC_FAIL)
		fprintf(stderr, "korcluster: %s\n", err_msg());
	free(ctx.root);
	return rc & 0x100 ? rc & 0xff : rc;
}
