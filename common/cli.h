/* cli: the command tables and what every command gets. */
#ifndef KC_CLI_H
#define KC_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "err.h"

enum scope { SCOPE_NONE, SCOPE_CLUSTER, SCOPE_INSTANCE };

struct ctx {
	const char *prog;  /* what to call us in usage: "cluster.sh", "instance.sh", "korcluster" */
	char *root;        /* absolute folder the command acts on */
	enum scope scope;
};

#define CMD_NEEDS_SCOPE 1 /* refuse when root holds no cluster.ini / instance.ini */

struct cmd {
	const char *name;
	int (*fn)(struct ctx *ctx, int argc, char **argv); /* argv[0] is the name */
	const char *usage;   /* arguments after the name */
	const char *summary; /* one line */
	const char *help;    /* the rest of --help, or NULL */
	int flags;
};

extern const struct cmd cluster_cmds[]; /* cluster.c; ends with a zeroed entry */
extern const struct cmd instance_cmds[]; /* instance.c */

void cli_usage(FILE *f, const struct ctx *ctx, const struct cmd *c);
/* Print "korcluster: <msg>" and the usage to stderr; returns KC_USAGE. */
int cli_usage_error(const struct ctx *ctx, const struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The number arg of option opt (e.g. "--keep"), from min to 100000, into
 * *out; 0, or KC_USAGE after saying what it needs. */
int cli_number(const struct ctx *ctx, const struct cmd *c, const char *opt, const char *arg, long min, long *out);

/* --json output: v indented, on stdout. */
void cli_print_json(const json_t *v);

/* After getopt_long() returned '?' or ':': name the option; returns KC_USAGE. */
int cli_bad_option(const struct ctx *ctx, const struct cmd *c, char **argv);

#endif
