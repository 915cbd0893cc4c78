/* instance.c: the instance commands (instance.sh CMD, korcluster -C DIR CMD).
 * One function per command, cmd_NAME; the table is at the end. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/backup.h"
#include "common/cli.h"
#include "common/engine.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/instcfg.h"
#include "common/lock.h"
#include "common/proxy.h"
#include "common/runtime.h"
#include "common/strv.h"
#include "common/upgrade.h"

static const struct cmd *cmd_named(const char *name)
{
	for (const struct cmd *c = instance_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int no_args(struct ctx *ctx, const char *cmd, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error(ctx, cmd_named(cmd), "unexpected argument \"%s\"", argv[1]);
	return 0;
}

/* A grant of an instance made before names were escaped, narrowed. */
static int fix_grants(struct engine *e, struct instance *in)
{
	int fixed;

	if (runtime_fix_grants(e, in, &fixed) < 0)
		return err_wrap("narrowing the database grant of instance \"%s\"", in->name);
	if (fixed)
		printf("korcluster: instance \"%s\": its database user was granted other instances' databases too "
		       "(\"_\" in the name); now only its own\n", in->name);
	return 0;
}

/* Open the instance, take its lock and reach the engine; first finish or
 * undo what a killed upgrade left, and narrow an old grant. */
static int begin(struct ctx *ctx, struct instance *in, struct engine **e, int *lock)
{
	int did;

	*e = NULL;
	*lock = -1;
	if (instance_open(in, ctx->root) < 0)
		return -1;
	if ((*lock = lock_take(in->root, "the instance")) < 0 || engine_open(e) < 0 ||
	    upgrade_recover(*e, in, &did) < 0 || fix_grants(*e, in) < 0) {
		engine_close(*e);
		*e = NULL;
		lock_release(*lock);
		*lock = -1;
		instance_free(in);
		return -1;
	}
	return 0;
}

static void end(struct instance *in, struct engine *e, int lock)
{
	engine_close(e);
	lock_release(lock);
	instance_free(in);
}

/* The body of start, stop and restart: op under the instance's lock. */
static int lifecycle(struct ctx *ctx, int argc, char **argv, const char *cmd, const char *doing,
		     int (*op)(struct engine *e, struct instance *in))
{
	struct instance in;
	struct engine *e;
	int lock, rc = KC_FAIL;

	if (no_args(ctx, cmd, argc, argv))
		return KC_USAGE;
	if (begin(ctx, &in, &e, &lock) < 0)
		return KC_FAIL;
	if (op(e, &in) == 0)
		rc = KC_OK;
	else
		err_wrap("%s instance \"%s\"", doing, in.name);
	end(&in, e, lock);
	return rc;
}

static int restart(struct engine *e, struct instance *in)
{
	return runtime_unserve(e, in) < 0 ? -1 : runtime_serve(e, in);
}

static int cmd_start(struct ctx *ctx, int argc, char **argv)
{
	return lifecycle(ctx, argc, argv, "start", "starting", runtime_serve);
}

static int cmd_stop(struct ctx *ctx, int argc, char **argv)
{
	return lifecycle(ctx, argc, argv, "stop", "stopping", runtime_unserve);
}

static int cmd_restart(struct ctx *ctx, int argc, char **argv)
{
	return lifecycle(ctx, argc, argv, "restart", "restarting", restart);
}

/* For commands that take no lock: recover what a killed upgrade left if
 * nobody works on the instance now. */
static int recover_quietly(struct engine *e, struct instance *in)
{
	int did, lock, rc = 0;

	if (!in || !fs_exists(in->root))
		return 0;
	if ((lock = lock_take(in->root, "the instance")) < 0) {
		err_clear();
		return 0;
	}
	rc = upgrade_recover(e, in, &did);
	lock_release(lock);
	return rc;
}

static int cmd_status(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct engine *e = NULL;
	json_t *st = NULL;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0, rc = KC_FAIL;

	if (argc > 1 && !json)
		return cli_usage_error(ctx, cmd_named("status"), "unexpected argument \"%s\"", argv[1]);
	if (instance_open(&in, ctx->root) < 0)
		return KC_FAIL;
	if (engine_open(&e) == 0 && recover_quietly(e, &in) == 0 && (st = runtime_status(e, &in))) {
		if (json) {
			cli_print_json(st);
		} else {
			size_t i;
			json_t *c;

			printf("instance %s: version %s, port %d, env %s, %s, %s\n", in.name, in.version, in.port, in.env,
			       json_string_value(json_object_get(st, "state")),
			       json_string_value(json_object_get(st, "health")));
			json_array_foreach(json_object_get(st, "containers"), i, c)
				printf("  %-40s %s\n", json_string_value(json_object_get(c, "name")),
				       json_string_value(json_object_get(c, "state")));
		}
		rc = KC_OK;
	}
	if (rc != KC_OK)
		err_wrap("reading status of instance \"%s\"", in.name);
	json_decref(st);
	engine_close(e);
	instance_free(&in);
	return rc;
}

static int cmd_logs(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'}, {"tail", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	struct instance in;
	struct engine *e = NULL;
	const char *process = "web";
	char *name = NULL, *end;
	int o, follow = 0, tail = -1, rc = KC_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "fn:", opts, NULL)) != -1) {
		if (o == 'f') {
			follow = 1;
		} else if (o == 'n') {
			tail = (int)strtol(optarg, &end, 10);
			if (*end || tail < 0)
				return cli_usage_error(ctx, cmd_named("logs"), "--tail needs a number");
		} else {
			return cli_bad_option(ctx, cmd_named("logs"), argv);
		}
	}
	if (optind < argc)
		process = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx, cmd_named("logs"), "unexpected argument \"%s\"", argv[optind]);
	if (instance_open(&in, ctx->root) < 0)
		return KC_FAIL;
	for (size_t i = 0; i < in.cl.tpl.nproc; i++)
		if (strcmp(in.cl.tpl.proc[i].name, process) == 0)
			rc = KC_OK;
	if (rc != KC_OK) {
		err_set("template \"%s\" has no process \"%s\"", in.cl.template_name, process);
	} else {
		rc = KC_FAIL;
		if ((name = instance_container(&in, in.env, process)) && engine_open(&e) == 0 &&
		    engine_logs(e, name, follow, tail, runtime_print_frame, NULL) == 0)
			rc = KC_OK;
	}
	if (rc != KC_OK)
		err_wrap("reading logs of instance \"%s\"", in.name);
	free(name);
	engine_close(e);
	instance_free(&in);
	return rc;
}

static int cmd_run(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct engine *e = NULL;
	struct strv words = STRV_INIT;
	char **cmd = argv + 1;
	struct runtime_tty tty = {0};
	struct termios *restore = NULL;
	int code = 0, rc = KC_FAIL;

	if (argc < 2)
		return cli_usage_error(ctx, cmd_named("run"), "missing COMMAND");
	/* KorCluster's users write run "rake db:migrate": one word, split here. */
	if (argc == 2 && strpbrk(argv[1], " \t")) {
		if (strv_split(&words, argv[1]) < 0 || words.n == 0) {
			strv_free(&words);
			return cli_usage_error(ctx, cmd_named("run"), "cannot split \"%s\"", argv[1]);
		}
		cmd = words.v;
	}
	if (instance_open(&in, ctx->root) < 0) {
		strv_free(&words);
		return KC_FAIL;
	}
	/* Interactive with a TTY when we have a terminal, as docker run -it. */
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		struct winsize ws = {0};
		struct termios saved, raw;

		tty.in_fd = STDIN_FILENO;
		tty.out_fd = STDOUT_FILENO;
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
			tty.rows = ws.ws_row;
			tty.cols = ws.ws_col;
		}
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			restore = &saved;
		}
		if (engine_open(&e) == 0 && runtime_oneoff(e, &in, in.env, cmd, NULL, NULL, &code, &tty) == 0)
			rc = KC_EXIT(code);
		if (restore)
			tcsetattr(STDIN_FILENO, TCSANOW, restore);
	} else if (engine_open(&e) == 0 &&
		   runtime_oneoff(e, &in, in.env, cmd, runtime_print_frame, NULL, &code, NULL) == 0) {
		rc = KC_EXIT(code);
	}
	if (rc == KC_FAIL)
		err_wrap("running \"%s\" in instance \"%s\"", cmd[0], in.name);
	strv_free(&words);
	engine_close(e);
	instance_free(&in);
	return rc;
}

static int cmd_snapshot(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"gzip", no_argument, NULL, 'z'},
					      {"output", required_argument, NULL, 'o'},
					      {"keep", required_argument, NULL, 'k'},
					      {NULL, 0, NULL, 0}};
	const struct cmd *c = cmd_named("snapshot");
	struct instance in;
	struct engine *e;
	struct backup_result res = {0};
	const char *out = NULL;
	long keep = -1;
	int o, gzip = 0, lock, removed = 0, rc = KC_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "zo:k:", opts, NULL)) != -1) {
		if (o == 'z') {
			gzip = 1;
		} else if (o == 'o') {
			out = optarg;
		} else if (o == 'k') {
			if (cli_number(ctx, c, "--keep", optarg, 1, &keep))
				return KC_USAGE;
		} else {
			return cli_bad_option(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind]);
	if (begin(ctx, &in, &e, &lock) < 0)
		return KC_FAIL;
	if (backup_snapshot(e, &in, in.env, out, gzip, &res) == 0) {
		printf("snapshot of \"%s\" (%s): %s\n  %.1f MiB (%.1f MiB before compression) in %.1f s", in.name,
		       in.version, res.path, (double)res.bytes / (1 << 20), (double)res.raw / (1 << 20), res.seconds);
		if (res.held > 0)
			printf("; writes held %.2f s", res.held);
		printf("\n");
		rc = KC_OK;
		if (keep > 0) {
			fflush(stdout);
			if (backup_prune(&in.cl, in.name, (int)keep, &removed) < 0) {
				err_wrap("pruning snapshots of instance \"%s\"", in.name);
				rc = KC_FAIL;
			}
		}
	}
	backup_result_free(&res);
	end(&in, e, lock);
	return rc;
}

static int cmd_import(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct engine *e;
	char *path;
	int lock, rc = KC_FAIL;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(ctx, cmd_named("import"), argc < 2 ? "missing FILE" : "unexpected argument \"%s\"",
				       argv[argc < 2 ? 0 : argc - 1]);
	if (!(path = fs_absolute(argv[1])))
		return KC_FAIL;
	if (!fs_exists(path)) {
		err_set("\"%s\" does not exist", path);
		free(path);
		return KC_FAIL;
	}
	if (begin(ctx, &in, &e, &lock) == 0) {
		if (backup_import(e, &in, path) == 0)
			rc = KC_OK;
		end(&in, e, lock);
	}
	free(path);
	return rc;
}

static int cmd_upgrade(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", required_argument, NULL, 'k'}, {NULL, 0, NULL, 0}};
	const struct cmd *c = cmd_named("upgrade");
	struct instance in;
	struct engine *e;
	long keep = 0;
	int o, lock, rc = KC_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (o != 'k')
			return cli_bad_option(ctx, c, argv);
		if (cli_number(ctx, c, "--keep", optarg, 1, &keep))
			return KC_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error(ctx, c, "missing VERSION");
	if (optind + 1 < argc)
		return cli_usage_error(ctx, c, "unexpected argument \"%s\"", argv[optind + 1]);
	if (begin(ctx, &in, &e, &lock) < 0)
		return KC_FAIL;
	if (upgrade_run(e, &in, argv[optind], (int)keep) == 0)
		rc = KC_OK;
	end(&in, e, lock);
	return rc;
}

static int cmd_rollback(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct engine *e;
	int lock, rc = KC_FAIL;

	if (no_args(ctx, "rollback", argc, argv))
		return KC_USAGE;
	if (begin(ctx, &in, &e, &lock) < 0)
		return KC_FAIL;
	if (upgrade_rollback(e, &in) == 0)
		rc = KC_OK;
	end(&in, e, lock);
	return rc;
}

static int cmd_envs(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct engine *e = NULL;
	json_t *envs = NULL, *v;
	size_t i;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0, rc = KC_FAIL;

	if (argc > 1 && !json)
		return cli_usage_error(ctx, cmd_named("envs"), "unexpected argument \"%s\"", argv[1]);
	if (instance_open(&in, ctx->root) < 0)
		return KC_FAIL;
	if (engine_open(&e) == 0 && recover_quietly(e, &in) == 0 && (envs = upgrade_envs(e, &in))) {
		if (json) {
			cli_print_json(envs);
		} else {
			printf("%-6s %-7s %-12s %-9s %s\n", "ENV", "ACTIVE", "VERSION", "STATE", "CREATED");
			json_array_foreach(envs, i, v)
				printf("%-6s %-7s %-12s %-9s %s\n", json_string_value(json_object_get(v, "env")),
				       json_is_true(json_object_get(v, "active")) ? "*" : "",
				       json_string_value(json_object_get(v, "version")) ?: "-",
				       json_string_value(json_object_get(v, "state")),
				       json_string_value(json_object_get(v, "created")) ?: "-");
		}
		rc = KC_OK;
	}
	if (rc != KC_OK)
		err_wrap("listing environments of instance \"%s\"", in.name);
	json_decref(envs);
	engine_close(e);
	instance_free(&in);
	return rc;
}

/* instance.sh clone NEW: the cluster's clone with this instance as SRC. */
static int cmd_clone(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct ctx cctx = *ctx;
	struct strv args = STRV_INIT;
	const struct cmd *cc;
	int rc = KC_FAIL;

	if (argc < 2)
		return cli_usage_error(ctx, cmd_named("clone"), "missing NEW");
	if (instance_open(&in, ctx->root) < 0)
		return KC_FAIL;
	for (cc = cluster_cmds; cc->name && strcmp(cc->name, "clone") != 0; cc++)
		;
	strv_push(&args, "clone");
	for (int i = 1; i < argc - 1; i++)
		strv_push(&args, argv[i]);
	strv_push(&args, in.name);
	strv_push(&args, argv[argc - 1]);
	cctx.root = in.cl.root;
	cctx.scope = SCOPE_CLUSTER;
	if (cc->fn && args.v)
		rc = cc->fn(&cctx, (int)args.n, args.v);
	strv_free(&args);
	instance_free(&in);
	return rc;
}

static int cmd_validate(struct ctx *ctx, int argc, char **argv)
{
	struct instance in;
	struct diag d = DIAG_INIT;
	int rc = KC_OK;

	if (no_args(ctx, "validate", argc, argv))
		return KC_USAGE;
	if (instance_load(&in, ctx->root, &d) < 0) {
		rc = KC_FAIL;
	} else if (d.lines.n) {
		diag_sort(&d);
		for (size_t i = 0; i < d.lines.n; i++)
			printf("%s\n", d.lines.v[i]);
		err_set("validating instance \"%s\": %zu problem%s", in.root, d.lines.n, d.lines.n == 1 ? "" : "s");
		rc = KC_FAIL;
	} else {
		printf("%s/instance.ini: ok\n", in.root);
	}
	diag_free(&d);
	instance_free(&in);
	return rc;
}

const struct cmd instance_cmds[] = {
	{"start", cmd_start, "", "start the instance, wait until healthy, and serve its port through the proxy",
	 NULL, CMD_NEEDS_SCOPE},
	{"stop", cmd_stop, "", "stop serving the port and remove the instance's containers; data stays", NULL,
	 CMD_NEEDS_SCOPE},
	{"restart", cmd_restart, "", "stop, then start", NULL, CMD_NEEDS_SCOPE},
	{"status", cmd_status, "[--json]", "the instance's containers, state and health", NULL, CMD_NEEDS_SCOPE},
	{"logs", cmd_logs, "[-f] [--tail N] [PROCESS]", "the output of a process (default web)", NULL,
	 CMD_NEEDS_SCOPE},
	{"run", cmd_run, "COMMAND [ARG...]",
	 "run a command once in a new container with the instance's environment; its exit code is ours",
	 "A single argument with blanks is split into words (run \"rake db:migrate\").\n", CMD_NEEDS_SCOPE},
	{"snapshot", cmd_snapshot, "[--gzip] [-o FILE] [--keep N]",
	 "archive the database and files, online: the instance keeps serving",
	 "  -z, --gzip         write .tar.gz instead of .tar.zst (multi-threaded zstd)\n"
	 "  -o, --output FILE  where to write (default snapshots/NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst)\n"
	 "  -k, --keep N       then remove all but the newest N snapshots of this instance\n"
	 "Writes (non-GET requests) get 503 with Retry-After for the moment the dump's transaction\n"
	 "takes to start; reads are served throughout.  The file appears only when complete.\n",
	 CMD_NEEDS_SCOPE},
	{"import", cmd_import, "FILE", "restore a snapshot (korcluster's or KorCluster's) into the instance",
	 "The archive is checked whole first (checksums, paths, links, size, what the dump does,\n"
	 "template); then it is restored into the inactive environment (the dump loaded by a user\n"
	 "granted on that database only, within [limits] of cluster.ini), migrated if older,\n"
	 "started, checked healthy, and only then served.  The state before stays in the other\n"
	 "environment; a failure leaves the instance as it was, serving.\n",
	 CMD_NEEDS_SCOPE},
	{"upgrade", cmd_upgrade, "[--keep N] VERSION",
	 "move to VERSION on the other environment, switching only when it is healthy",
	 "The inactive environment gets a consistent copy of the database and a copy of the files,\n"
	 "the template's migrate, and the new version's containers; once they are healthy the proxy\n"
	 "switches to them and the old environment stops, its database and files kept for rollback.\n"
	 "Until the switch, reads are served and writes get 503 with Retry-After.  Any failure, or\n"
	 "Ctrl-C, removes the new environment and leaves the old one serving.\n"
	 "The inactive environment's earlier state is archived to snapshots/ first;\n"
	 "  -k, --keep N   then keep only the newest N snapshots of the instance\n",
	 CMD_NEEDS_SCOPE},
	{"rollback", cmd_rollback, "", "go back to the other environment, as it was at the switch",
	 "Writes made since the switch stay in the environment left, which becomes the inactive one.\n",
	 CMD_NEEDS_SCOPE},
	{"envs", cmd_envs, "[--json]", "the blue and green environments: version, state, which is active", NULL,
	 CMD_NEEDS_SCOPE},
	{"clone", cmd_clone, "[--port P] NEW", "make instance NEW from this one's current state (see cluster.sh clone)",
	 NULL, CMD_NEEDS_SCOPE},
	{"validate", cmd_validate, "", "check instance.ini and its cluster, listing every problem", NULL,
	 CMD_NEEDS_SCOPE},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
