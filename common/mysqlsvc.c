#include "mysqlsvc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fs.h"
#include "interrupt.h"
#include "mem.h"
#include "name.h"
#include "report.h"

/* The MySQL service's address on the cluster network. */
static const struct error *where(struct engine *e, const struct cluster *cl, char *ip, size_t n)
{
	const struct error *err;
	char *name = cluster_container(cl, template_db(&cl->tpl)->name), *net = cluster_network(cl);
	json_t *info = NULL;
	const char *addr;

	if (!(err = engine_container_inspect(e, name, &info))) {
		if (!info || !(addr = engine_container_ip(info, net)) || !engine_running(info))
			err = error_fmt("cluster \"%s\" is not booted: run \"cluster.sh boot\" first", cl->name);
		else
			snprintf(ip, n, "%s", addr);
	}
	json_decref(info);
	free(name);
	free(net);
	return err;
}

const struct error *mysqlsvc_server(struct engine *e, const struct cluster *cl, struct db_server *out)
{
	const struct error *err;

	memset(out, 0, sizeof *out);
	if ((err = where(e, cl, out->host, sizeof out->host)))
		return err;
	out->port = template_db(&cl->tpl)->port;
	return cluster_root_password(cl, template_db(&cl->tpl), &out->root_password);
}

const struct error *mysqlsvc_connect(struct engine *e, const struct cluster *cl, struct db **db)
{
	const struct error *err;
	struct db_server srv;

	*db = NULL;
	if (!(err = mysqlsvc_server(e, cl, &srv)))
		err = db_server_root(&srv, 30, db);
	db_server_free(&srv);
	return err;
}

char *mysqlsvc_db_dir(const struct cluster *cl, const char *dbname)
{
	const struct tpl_service *s = template_db(&cl->tpl);

	return s && s->data ? cluster_path(cl, "services/%s/%s", s->name, dbname) : NULL;
}

void mysqlsvc_load_limits(const struct cluster *cl, const char *dbname, uint64_t base, char **dir,
			  struct dbload_limits *lim)
{
	unsigned g = cl->limits.load_growth;

	memset(lim, 0, sizeof *lim);
	lim->timeout = cl->limits.load_timeout;
	*dir = g ? mysqlsvc_db_dir(cl, dbname) : NULL;
	lim->dir = *dir;
	if (*dir)
		lim->max_bytes = base > (UINT64_MAX - DBLOAD_FLOOR) / g ? UINT64_MAX : base * g + DBLOAD_FLOOR;
}

const struct error *mysqlsvc_fix_grants(struct engine *e, const struct instance *in, int *fixed)
{
	const struct error *err;
	struct db *db;
	char *dbs[3] = {NULL, NULL, NULL};

	/* Only a name with "_" could have been granted too widely. */
	*fixed = 0;
	if (!strchr(in->db_user, '_'))
		return NULL;
	if ((err = mysqlsvc_connect(e, &in->cl, &db)))
		return err;
	dbs[0] = instance_database(in, "blue");
	dbs[1] = instance_database(in, "green");
	err = db_instance_fix_grants(db, in->db_user, dbs, fixed);
	db_close(db);
	free(dbs[0]);
	free(dbs[1]);
	return err;
}

/* The dump tool the service's image has, chosen inside its container:
 * mariadb-dump on MariaDB (its mysqldump may go), mysqldump on MySQL. */
static const char dump_tool[] =
	"if command -v mariadb-dump >/dev/null 2>&1; then exec mariadb-dump \"$@\"; fi; exec mysqldump \"$@\"";

/* Hand the dump tool its settings through the FIFO cnf, which it opens at
 * its start and reads once: until then it waits, before any connection,
 * so its container starts before writes are held.  Bounded: the container
 * must still run, and read it within a minute. */
static const struct error *feed_settings(struct engine *e, const char *container, const char *cnf,
					 const struct buf *text)
{
	double t0 = clock_seconds(), checked = 0;

	for (;;) {
		int fd = open(cnf, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0) {
			/* Smaller than PIPE_BUF: one write, whole. */
			ssize_t n = text->len <= PIPE_BUF ? write(fd, text->data, text->len) : -1;

			close(fd);
			if (n != (ssize_t)text->len)
				return error_fmt("handing the dump tool its settings failed");
			return NULL;
		}
		if (errno != ENXIO && errno != EINTR)
			return error_errno("opening \"%s\"", cnf);
		if (interrupt_pending())
			return error_interrupted();
		if (clock_seconds() - t0 > 60)
			return error_fmt("the dump tool did not start within 60 s");
		if (clock_seconds() - checked >= 0.1) {
			const struct error *err;
			json_t *info = NULL;
			int running;

			checked = clock_seconds();
			if ((err = engine_container_inspect(e, container, &info)))
				return err;
			running = info && engine_running(info);
			json_decref(info);
			if (!running)
				return NULL; /* it exited: its exit code and output say why */
		}
		usleep(2 * 1000);
	}
}

/* Read the FIFO until the dump container has exited and nothing is left. */
static const struct error *read_fifo(struct engine *e, const char *container, int fd, frame_fn fn, void *ctx)
{
	const struct error *err = NULL;
	char *buf = xmalloc(1 << 18);
	double checked = 0;

	for (;;) {
		ssize_t n = read(fd, buf, 1 << 18);
		struct pollfd p = {fd, POLLIN, 0};

		if (n > 0) {
			if ((err = fn(ctx, FRAME_STDOUT, buf, (size_t)n)))
				break;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err = error_errno("reading the dump");
			break;
		}
		/* Nothing now: no writer yet, a pause, or the end. */
		if (interrupt_pending()) {
			err = error_interrupted();
			break;
		}
		if (clock_seconds() - checked >= 0.1) {
			json_t *info = NULL;
			int running;

			checked = clock_seconds();
			if ((err = engine_container_inspect(e, container, &info)))
				break;
			running = info && engine_running(info);
			json_decref(info);
			if (!running) {
				/* Exited: what it wrote is in the pipe still; drain it. */
				while (!err && (n = read(fd, buf, 1 << 18)) > 0)
					err = fn(ctx, FRAME_STDOUT, buf, (size_t)n);
				break;
			}
		}
		if (n == 0)
			usleep(10 * 1000); /* no writer: poll() would not wait */
		else
			poll(&p, 1, 100);
	}
	free(buf);
	return err;
}

const struct error *mysqlsvc_dump(struct engine *e, const struct cluster *cl, const char *dbname,
				  const struct error *(*ready)(void *ctx), frame_fn fn, void *ctx)
{
	const struct error *err;
	const struct tpl_service *s = template_db(&cl->tpl);
	char *pw = NULL, *dir = NULL, *fifo = NULL, *cnf = NULL, *name = NULL;
	char *net = cluster_network(cl), ip[64], rnd[9];
	struct buf cnftext = BUF_INIT, out = BUF_INIT;
	json_t *cfg = NULL;
	int fd = -1, code = -1, created = 0;

	if ((err = db_ident_check(dbname)) || (err = where(e, cl, ip, sizeof ip)) ||
	    (err = cluster_root_password(cl, s, &pw)) || (err = name_random(rnd, 8, NAME_ALNUM_LOWER)))
		goto out;
	dir = cluster_path(cl, "snapshots/.dump-%s-%s", dbname, rnd);
	fifo = xasprintf("%s/dump.sql", dir);
	cnf = xasprintf("%s/client.cnf", dir);
	name = xasprintf("%s_dump_%s_%s", cl->name, dbname, rnd);
	if (mkdir(dir, 0700) < 0 || mkfifo(fifo, 0600) < 0) {
		err = error_errno("making \"%s\"", fifo);
		goto out;
	}
	/* The password through a FIFO of mode 0600 (feed_settings()), never on
	 * a command line. */
	buf_printf(&cnftext, "[client]\nuser = root\npassword = \"%s\"\nhost = %s\nport = %d\nprotocol = tcp\n", pw, ip,
		   s->port);
	if (mkfifo(cnf, 0600) < 0) {
		err = error_errno("making \"%s\"", cnf);
		goto out;
	}
	cfg = json_pack("{s:s, s:s, s:[s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s], s:{s:s, s:s, s:s}, s:{s:[o], s:s}}", "Image",
			cluster_image(cl, s->name), "User", "0:0", "Entrypoint", "sh", "-c", dump_tool, "dump", "Cmd",
			"--defaults-extra-file=/dump/client.cnf", "--single-transaction", "--quick", "--routines",
			"--triggers", "--hex-blob", "--default-character-set=utf8mb4", "--no-tablespaces",
			"--result-file=/dump/dump.sql", dbname, "Labels", LABEL_CLUSTER, cl->name, LABEL_ROOT, cl->root,
			LABEL_ROLE, "dump", "HostConfig", "Mounts", engine_mount(dir, "/dump", 0), "NetworkMode", net);
	if (!cfg)
		report_out_of_memory();
	if ((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		err = error_errno("opening \"%s\"", fifo);
		goto out;
	}
	if ((err = engine_container_create(e, name, cfg)))
		goto out;
	created = 1;
	/* Started, then writes held (ready), then its settings: the hold
	 * covers only its connection and the transaction's start. */
	if ((err = engine_container_start(e, name)) || (ready && (err = ready(ctx))) ||
	    (err = feed_settings(e, name, cnf, &cnftext)) || (err = read_fifo(e, name, fd, fn, ctx)) ||
	    (err = engine_container_wait(e, name, &code)))
		goto out;
	if (code != 0) {
		engine_logs(e, name, 0, 20, frame_collect, &out);
		err = error_fmt("the dump tool exited %d: %.*s", code, buf_trimmed_len(&out), buf_str(&out));
	}
out:
	err = error_wrap(err, "dumping database \"%s\"", dbname);
	if (created) {
		/* Gone either way; one left behind is the next command's to remove. */
		engine_container_stop(e, name, 1);
		engine_container_remove(e, name);
	}
	if (fd >= 0)
		close(fd);
	if (dir)
		fs_remove_tree(dir);
	if (cnftext.data)
		explicit_bzero(cnftext.data, cnftext.len);
	buf_free(&cnftext);
	buf_free(&out);
	if (pw)
		explicit_bzero(pw, strlen(pw));
	json_decref(cfg);
	free(pw);
	free(dir);
	free(fifo);
	free(cnf);
	free(name);
	free(net);
	return err;
}

const struct error *mysqlsvc_tables(struct engine *e, const struct cluster *cl, const char *dbname, long *n)
{
	const struct error *err;
	struct db *db = NULL;
	char sql[256], out[32] = "0";

	*n = 0;
	if ((err = db_ident_check(dbname)))
		return err;
	/* dbname is checked: [a-z0-9_] only. */
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '%s'", dbname);
	if (!(err = mysqlsvc_connect(e, cl, &db)) && !(err = db_query_value(db, sql, out, sizeof out)))
		*n = strtol(out, NULL, 10);
	db_close(db);
	return err;
}
