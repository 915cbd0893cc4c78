/* cli: the command line.
 *
 * Every command is an entry of a table (cluster.c, instance.c, and the
 * few of korcluster.c) that declares its name, its function, its operands,
 * its options and its descriptions; one function parses any command line
 * against its entry (git's parse-options is the model: short and long
 * options anywhere among the operands, "--" ending them, --opt=VALUE,
 * numbers checked against their range, a variable of the environment as an
 * option's default).  --help, usage errors, the man page korcluster(1) and
 * bash completion are all made from the same tables. */
#ifndef KC_CLI_H
#define KC_CLI_H

#include "buf.h"
#include "err.h"

/* Every option any command takes; a command's table says which. */
enum opt_key {
	OPT_JSON,
	OPT_TEMPLATE,
	OPT_BIND,
	OPT_VERSION,
	OPT_PORT,
	OPT_KEEP,
	OPT_GZIP,
	OPT_OUTPUT,
	OPT_YES,
	OPT_FOLLOW,
	OPT_TAIL,
	OPT_SOURCE,
	OPT_TAG,
	OPT_TO,
	OPT_LIVE,
	OPT_PRIMARY,
	OPT_REDIRECT,
	OPT_TLS,
	OPT_DESCRIPTION,
	OPT_NO_POOL,
	OPT_SIZE,
	OPT_ADMIN,
	OPT_CLUSTER,
	OPT_INSTALL,
	OPT__COUNT
};

enum opt_kind { OPT_FLAG, OPT_TEXT, OPT_NUMBER };

#define OPTF_REQUIRED 1 /* the command needs it (shown without brackets) */

struct opt {
	enum opt_key key;
	char short_name;       /* 0: none */
	const char *long_name;
	enum opt_kind kind;
	const char *arg;       /* the value's name in help: "NAME", "N" */
	const char *help;
	long min;              /* OPT_NUMBER: from min to 100000 */
	const char *env;       /* the environment variable that gives it when absent */
	int flags;
};

#define OPT_END {OPT__COUNT, 0, NULL, OPT_FLAG, NULL, NULL, 0, NULL, 0}

/* What a command line said, by option key. */
struct args {
	int set[OPT__COUNT];
	const char *text[OPT__COUNT];
	long num[OPT__COUNT];
	char **operand;        /* in order */
	int n;
};

enum scope { SCOPE_NONE, SCOPE_CLUSTER, SCOPE_INSTANCE };

struct ctx {
	const char *prog;  /* what to call us in usage: "cluster.sh", "instance.sh", "korcluster" */
	char *root;        /* absolute folder the command acts on */
	enum scope scope;
	int exit_code;     /* instance.sh run: the command's own exit status */
};

#define CMD_NEEDS_SCOPE 1 /* refuse when root holds no cluster.ini / instance.ini */
#define CMD_RAW 2         /* no options: every word after the name is an operand (run) */
#define CMD_INSTANCES 4   /* its operands name instances (for completion) */

struct cmd {
	const char *name;
	const struct error *(*fn)(struct ctx *ctx, const struct args *a);
	const char *operands;  /* "DIR [NAME]": for usage and "missing DIR" */
	int min, max;          /* how many operands; max -1: any */
	const char *summary;   /* one line */
	const char *help;      /* more, or NULL */
	const struct opt *opts;
	int flags;
};

/* The commands of one scope, for help, the man page and completion. */
struct cmd_table {
	enum scope scope;
	const char *prog;      /* cluster.sh, instance.sh */
	const char *title;     /* "cluster commands" */
	const struct cmd *cmds; /* ends with a zeroed entry */
};

/* The entry called name, or NULL. */
const struct cmd *cli_find(const struct cmd *cmds, const char *name);
/* Parse argv[1..argc) (argv[0] is the command's name) into a; fails with
 * ERR_USAGE and a message that says what is wrong. */
const struct error *cli_parse(const struct cmd *c, int argc, char **argv, struct args *a);
/* "usage: PROG NAME [--opt ARG]... OPERANDS" */
void cli_usage_line(const char *prog, const struct cmd *c, struct buf *out);
/* --help of one command: the usage line, the summary, the options, the help. */
void cli_help(const char *prog, const struct cmd *c, struct buf *out);
/* The list of a table's commands, one a line. */
void cli_list(const struct cmd_table *t, struct buf *out);
/* korcluster(1) in roff; version and date in its header. */
void cli_man(const struct cmd_table *tables, size_t n, const char *version, struct buf *out);
/* A bash completion script for korcluster, cluster.sh and instance.sh. */
void cli_completion_bash(const struct cmd_table *tables, size_t n, struct buf *out);

#endif
