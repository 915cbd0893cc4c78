#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define NUMBER_MAX 100000

const struct cmd *cli_find(const struct cmd *cmds, const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static const struct error *usage(const char *fmt, const char *what)
{
	return error_new(ERR_USAGE, fmt, what);
}

static const struct opt *by_long(const struct cmd *c, const char *name, size_t n)
{
	for (const struct opt *o = c->opts; o && o->long_name; o++)
		if (strlen(o->long_name) == n && strncmp(o->long_name, name, n) == 0)
			return o;
	return NULL;
}

static const struct opt *by_short(const struct cmd *c, char ch)
{
	for (const struct opt *o = c->opts; o && o->long_name; o++)
		if (o->short_name == ch)
			return o;
	return NULL;
}

/* The value of o, as given. */
static const struct error *set(const struct opt *o, const char *value, struct args *a)
{
	a->set[o->key] = 1;
	if (o->kind == OPT_TEXT) {
		a->text[o->key] = value;
	} else if (o->kind == OPT_NUMBER) {
		char *end;
		long v = strtol(value, &end, 10);

		if (*end || !*value || v < o->min || v > NUMBER_MAX)
			return error_new(ERR_USAGE, "--%s needs a number from %ld", o->long_name, o->min);
		a->num[o->key] = v;
		a->text[o->key] = value;
	}
	return NULL;
}

/* The operand word at index i of spec "DIR [NAME]", without brackets. */
static void operand_word(const char *spec, int i, char *out, size_t n)
{
	const char *p = spec;
	size_t len;

	for (; i > 0 && *p; i--)
		p += strcspn(p, " "), p += strspn(p, " ");
	p += strspn(p, "[");
	len = strcspn(p, " ]");
	snprintf(out, n, "%.*s", (int)len, p);
}

/* One option word argv[*i] (and its value, maybe argv[*i + 1]). */
static const struct error *option(const struct cmd *c, int argc, char **argv, int *i, struct args *a)
{
	const struct error *err;
	const char *arg = argv[*i];

	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		const struct opt *o = by_long(c, name, eq ? (size_t)(eq - name) : strlen(name));

		if (!o || (o->kind == OPT_FLAG && eq) || (o->kind != OPT_FLAG && !eq && *i + 1 >= argc))
			return usage("unknown option or missing value \"%s\"", arg);
		if (o->kind == OPT_FLAG)
			return set(o, NULL, a);
		return set(o, eq ? eq + 1 : argv[++*i], a);
	}
	for (const char *p = arg + 1; *p; p++) {
		const struct opt *o = by_short(c, *p);
		char word[3] = {'-', *p, '\0'};

		if (!o)
			return usage("unknown option or missing value \"%s\"", word);
		if (o->kind == OPT_FLAG) {
			if ((err = set(o, NULL, a)))
				return err;
			continue;
		}
		if (p[1])
			return set(o, p + 1, a);
		if (*i + 1 >= argc)
			return usage("unknown option or missing value \"%s\"", word);
		return set(o, argv[++*i], a);
	}
	return NULL;
}

const struct error *cli_parse(const struct cmd *c, int argc, char **argv, struct args *a)
{
	const struct error *err;
	int dashdash = c->flags & CMD_RAW;
	char word[64];

	memset(a, 0, sizeof *a);
	a->operand = xcalloc((size_t)argc + 1, sizeof *a->operand);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || arg[0] != '-' || !arg[1]) {
			a->operand[a->n++] = argv[i];
		} else if (strcmp(arg, "--") == 0) {
			dashdash = 1;
		} else if ((err = option(c, argc, argv, &i, a))) {
			return err;
		}
	}
	for (const struct opt *o = c->opts; o && o->long_name; o++) {
		const char *v = o->env ? getenv(o->env) : NULL;

		if (!a->set[o->key] && v && *v && (err = set(o, v, a)))
			return err;
		if (!a->set[o->key] && (o->flags & OPTF_REQUIRED)) {
			if (o->env)
				return error_new(ERR_USAGE, "missing %s: give --%s %s or %s=%s", o->long_name, o->long_name,
						 o->arg, o->env, o->arg);
			return error_new(ERR_USAGE, "missing --%s %s", o->long_name, o->arg);
		}
	}
	if (a->n < c->min) {
		operand_word(c->operands, a->n, word, sizeof word);
		return usage("missing %s", word);
	}
	if (c->max >= 0 && a->n > c->max)
		return usage("unexpected argument \"%s\"", a->operand[c->max]);
	return NULL;
}

void cli_usage_line(const char *prog, const struct cmd *c, struct buf *out)
{
	buf_printf(out, "usage: %s %s", prog, c->name);
	for (const struct opt *o = c->opts; o && o->long_name; o++) {
		int req = o->flags & OPTF_REQUIRED;

		buf_printf(out, " %s--%s%s%s%s", req ? "" : "[", o->long_name, o->arg ? " " : "", o->arg ? o->arg : "",
			   req ? "" : "]");
	}
	if (c->operands && *c->operands)
		buf_printf(out, " %s", c->operands);
	buf_puts(out, "\n");
}

/* "-t, --template NAME" */
static void option_words(const struct opt *o, char *out, size_t n)
{
	char s[8] = "    ";

	if (o->short_name)
		snprintf(s, sizeof s, "-%c, ", o->short_name);
	snprintf(out, n, "%s--%s%s%s", s, o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_help(const char *prog, const struct cmd *c, struct buf *out)
{
	cli_usage_line(prog, c, out);
	buf_printf(out, "%s\n", c->summary);
	if (c->opts && c->opts->long_name) {
		buf_puts(out, "\n");
		for (const struct opt *o = c->opts; o->long_name; o++) {
			char words[64];

			option_words(o, words, sizeof words);
			buf_printf(out, "  %-22s %s", words, o->help);
			if (o->env)
				buf_printf(out, " (or %s=%s)", o->env, o->arg);
			buf_puts(out, "\n");
		}
	}
	if (c->help)
		buf_printf(out, "\n%s", c->help);
}

void cli_list(const struct cmd_table *t, struct buf *out)
{
	for (const struct cmd *c = t->cmds; c->name; c++)
		buf_printf(out, "  %-10s %s\n", c->name, c->summary);
}

/* ---- the man page ---- */

/* text for roff: backslashes doubled, dashes as \-, a leading dot or quote
 * of a line escaped. */
static void roff(struct buf *out, const char *text)
{
	int bol = 1;

	for (const char *p = text; *p; p++) {
		if (bol && (*p == '.' || *p == '\''))
			buf_puts(out, "\\&");
		if (*p == '\\')
			buf_puts(out, "\\e");
		else if (*p == '-')
			buf_puts(out, "\\-");
		else
			buf_append(out, p, 1);
		bol = *p == '\n';
	}
}

static void man_command(struct buf *out, const struct cmd *c)
{
	struct buf u = BUF_INIT;
	const char *rest;

	/* "usage:  NAME ARGS\n": ARGS without the newline */
	cli_usage_line("", c, &u);
	u.data[u.len - 1] = '\0';
	rest = u.data + strlen("usage:  ") + strlen(c->name);
	buf_puts(out, ".TP\n.B ");
	roff(out, c->name);
	buf_puts(out, "\n");
	if (*rest) {
		buf_puts(out, ".I \"");
		roff(out, rest + 1);
		buf_puts(out, "\"\n.br\n");
	}
	buf_free(&u);
	roff(out, c->summary);
	buf_puts(out, "\n");
	for (const struct opt *o = c->opts; o && o->long_name; o++) {
		char words[64];

		option_words(o, words, sizeof words);
		buf_puts(out, ".RS\n.TP\n.B ");
		roff(out, words + strspn(words, " "));
		buf_puts(out, "\n");
		roff(out, o->help);
		if (o->env)
			buf_printf(out, " (or the variable %s)", o->env);
		buf_puts(out, "\n.RE\n");
	}
	if (c->help) {
		buf_puts(out, ".IP\n");
		roff(out, c->help);
	}
}

void cli_man(const struct cmd_table *tables, size_t n, const char *version, struct buf *out)
{
	buf_printf(out, ".TH KORCLUSTER 1 \"\" \"korcluster %s\" \"User Commands\"\n", version);
	buf_printf(out, ".SH NAME\nkorcluster, cluster.sh, instance.sh \\- run many instances of one web application "
		       "on a Docker host\n");
	buf_printf(out, ".SH SYNOPSIS\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, ".B %s\n.I COMMAND\n[\\fIARGS\\fR]\n.br\n", tables[i].prog);
	buf_printf(out, ".B korcluster\n[\\fB\\-C\\fR \\fIDIR\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n.br\n"
		       ".B korcluster completion bash\n.br\n.B korcluster \\-\\-version\n");
	buf_printf(out,
		   ".SH DESCRIPTION\n"
		   "korcluster runs many copies (\\fIinstances\\fR) of one web application on a Docker host, "
		   "ConedaKOR first among them.  A \\fIcluster\\fR is a folder holding the shared services every "
		   "instance uses (a MySQL or MariaDB server, a search server), run as containers on a network of "
		   "their own, and a front proxy (nginx) that serves each instance's port.  Each instance has its own "
		   "database, user, files and port, and two environments, blue and green: upgrades and imports "
		   "prepare the inactive one and switch only when it is healthy.\n.PP\n"
		   "The one binary acts by the name it is called under.  \\fBcluster.sh\\fR acts on the cluster in "
		   "the folder holding that link (made by \\fBcreate\\fR), \\fBinstance.sh\\fR on the instance in "
		   "the folder holding that link (made by \\fBnew\\fR), and \\fBkorcluster\\fR on the cluster or "
		   "instance in \\fIDIR\\fR (\\fB\\-C\\fR, default the working folder).\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, ".SH ");
		for (const char *p = tables[i].title; *p; p++)
			buf_printf(out, "%c", *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		buf_printf(out, "\n");
		for (const struct cmd *c = tables[i].cmds; c->name; c++)
			man_command(out, c);
	}
	buf_printf(out, ".SH OPTIONS\n.TP\n.BI \\-C \" DIR\"\nact on the cluster or instance in DIR\n"
		       ".TP\n.B \\-\\-help\ndescribe the commands; \\fICOMMAND\\fR \\fB\\-\\-help\\fR describes one\n"
		       ".TP\n.B \\-\\-version\nprint the version\n");
	buf_printf(out, ".SH EXIT STATUS\n0 done; 1 failed, with one line on stderr, \\(lqkorcluster: \\fIwhat "
		       "failed\\fR: \\fIwhy\\fR\\(rq; 2 usage error; 127 unknown command.\n");
	buf_printf(out, ".SH ENVIRONMENT\n.TP\n.B DOCKER_HOST\nunix://PATH of the engine's socket (default "
		       "/var/run/docker.sock)\n.TP\n.B KORCLUSTER_TEMPLATES\nfolders (separated by :) searched for "
		       "templates before the built-in ones\n.TP\n.B VERSION, PORT\nthe version and port of "
		       "\\fBnew\\fR and \\fBclone\\fR, as KorCluster took them\n");
	buf_printf(out, ".SH FILES\n.TP\n.I DIR/cluster.ini\nthe cluster: [cluster] name, template, bind; [images]; "
		       "[limits]\n.TP\n.I DIR/secrets/\nmode 0700: the MySQL root password (0600)\n.TP\n"
		       ".I DIR/instances/NAME/instance.ini\nan instance, with its secrets (0600)\n.TP\n"
		       ".I DIR/snapshots/\nNAME.YYYYmmdd_HHMMSS.VERSION.tar.zst (or .tar.gz)\n");
	buf_printf(out, ".SH SEE ALSO\nThe README of korcluster's source: templates, the snapshot format, "
		       "the layout of a cluster.\n");
}

/* ---- bash completion ---- */

static void words_of(const struct cmd *cmds, struct buf *out)
{
	for (const struct cmd *c = cmds; c->name; c++)
		buf_printf(out, "%s%s", c == cmds ? "" : " ", c->name);
}

void cli_completion_bash(const struct cmd_table *tables, size_t n, struct buf *out)
{
	buf_printf(out, "# bash completion of korcluster, cluster.sh and instance.sh (korcluster completion bash)\n"
		       "_korcluster() {\n"
		       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]##*/} dir scope i=1 cmd opts\n"
		       "\tcase $prog in\n"
		       "\tcluster.sh) scope=cluster dir=$(dirname -- \"${COMP_WORDS[0]}\") ;;\n"
		       "\tinstance.sh) scope=instance dir=$(dirname -- \"${COMP_WORDS[0]}\") ;;\n"
		       "\t*)\n"
		       "\t\tdir=.\n"
		       "\t\twhile ((i < COMP_CWORD)) && [[ ${COMP_WORDS[i]} == -* ]]; do\n"
		       "\t\t\tif [[ ${COMP_WORDS[i]} == -C ]]; then ((i++)); dir=${COMP_WORDS[i]}; fi\n"
		       "\t\t\t((i++))\n"
		       "\t\tdone\n"
		       "\t\tscope=cluster\n"
		       "\t\t[[ -f $dir/instance.ini ]] && scope=instance\n"
		       "\t\t;;\n"
		       "\tesac\n"
		       "\tif ((COMP_CWORD == i)); then\n"
		       "\t\tcase $scope in\n");
	for (size_t t = 0; t < n; t++) {
		buf_printf(out, "\t\t%s) COMPREPLY=($(compgen -W \"", tables[t].scope == SCOPE_INSTANCE ? "instance" : "cluster");
		words_of(tables[t].cmds, out);
		buf_printf(out, "%s\" -- \"$cur\")) ;;\n", tables[t].scope == SCOPE_CLUSTER ? " help completion" : " help");
	}
	buf_printf(out, "\t\tesac\n\t\treturn\n\tfi\n\tcmd=${COMP_WORDS[i]}\n\tcase $scope:$cmd in\n");
	for (size_t t = 0; t < n; t++)
		for (const struct cmd *c = tables[t].cmds; c->name; c++) {
			buf_printf(out, "\t%s:%s) opts=\"--help", tables[t].scope == SCOPE_INSTANCE ? "instance" : "cluster",
				   c->name);
			for (const struct opt *o = c->opts; o && o->long_name; o++)
				buf_printf(out, " --%s", o->long_name);
			buf_printf(out, "\" ;;\n");
		}
	buf_printf(out, "\t*:completion) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")); return ;;\n"
		       "\t*) opts= ;;\n\tesac\n"
		       "\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
		       "\tcase $scope:$cmd in\n");
	buf_puts(out, "\t");
	for (size_t t = 0, first = 1; t < n; t++)
		for (const struct cmd *c = tables[t].cmds; c->name; c++)
			if (c->flags & CMD_INSTANCES) {
				buf_printf(out, "%s%s:%s", first ? "" : "|",
					   tables[t].scope == SCOPE_INSTANCE ? "instance" : "cluster", c->name);
				first = 0;
			}
	buf_printf(out, ")\n\t\tlocal names=\n"
		       "\t\t[[ $scope == instance ]] && dir=$dir/../..\n"
		       "\t\tfor i in \"$dir\"/instances/*/instance.ini; do\n"
		       "\t\t\t[[ -f $i ]] && i=${i%%/instance.ini} && names+=\" ${i##*/}\"\n"
		       "\t\tdone\n"
		       "\t\tCOMPREPLY=($(compgen -W \"$names\" -- \"$cur\")) ;;\n"
		       "\t*) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
		       "\tesac\n"
		       "}\n"
		       "complete -F _korcluster korcluster cluster.sh instance.sh\n");
}
