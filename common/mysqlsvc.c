#include "mysqlsvc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
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
	lim->connections = MYSQLSVC_LOAD_CONNECTIONS;
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

/* The dump, run in the service's own container: its root password read
 * there from the file password_env names (never on a command line), its
 * settings handed to the tool on a descriptor, the tool chosen there
 * (mariadb-dump on MariaDB, whose mysqldump may go; mysqldump on MySQL).
 * It starts the tool when "go" comes through the FIFO $3, so that the
 * exec's own start is over before writes are held.  $1: the password
 * file, $2: the port; the rest goes to the tool. */
static const char dump_script[] =
	"IFS= read -r pw <\"$1\" || [ -n \"$pw\" ] || { echo \"no root password in $1\" >&2; exit 3; }\n"
	"exec 3<<EOF\n"
	"[client]\nuser = root\npassword = \"$pw\"\nhost = 127.0.0.1\nport = $2\nprotocol = tcp\n"
	"EOF\n"
	"pw=\n"
	"IFS= read -r go <\"$3\" && [ \"$go\" = go ] || exit 4\n"
	"shift 3\n"
	"if command -v mariadb-dump >/dev/null 2>&1; then exec mariadb-dump --defaults-extra-file=/dev/fd/3 \"$@\"; fi\n"
	"exec mysqldump --defaults-extra-file=/dev/fd/3 \"$@\"\n";

/* The exec, in a thread of its own while the caller reads the FIFO. */
struct dump_exec {
	struct engine *e;
	const char *container;
	char *const *argv;
	struct buf out;              /* what the tool said (its stderr) */
	int code;
	const struct error *err;
	pthread_mutex_t mu;
	int done;
};

static void *dump_exec_run(void *ctx)
{
	struct dump_exec *x = ctx;
	const struct error *err = engine_exec_stream(x->e, x->container, x->argv, "0", frame_collect, &x->out, &x->code, 0);

	pthread_mutex_lock(&x->mu);
	x->err = err;
	x->done = 1;
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static int dump_exec_done(struct dump_exec *x)
{
	int done;

	pthread_mutex_lock(&x->mu);
	done = x->done;
	pthread_mutex_unlock(&x->mu);
	return done;
}

/* Say word through the FIFO the script reads before the tool starts ("go",
 * or "" to have it end); bounded: the exec must open it within 60 s. */
static const struct error *give_word(const char *path, struct dump_exec *x, const char *word)
{
	double t0 = clock_seconds();

	for (;;) {
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0) {
			ssize_t n = write(fd, word, strlen(word));

			close(fd);
			if (n != (ssize_t)strlen(word))
				return error_fmt("starting the dump tool failed");
			return NULL;
		}
		if (errno != ENXIO && errno != EINTR)
			return error_errno("opening \"%s\"", path);
		if (dump_exec_done(x))
			return NULL; /* it ended: its exit code and output say why */
		if (interrupt_pending())
			return error_interrupted();
		if (clock_seconds() - t0 > 60)
			return error_fmt("the dump tool did not start within 60 s");
		usleep(1000);
	}
}

/* Read the FIFO to its end: its writer came and went, or the tool ended
 * without coming (its exit code says why). */
static const struct error *read_fifo(int fd, struct dump_exec *x, frame_fn fn, void *ctx)
{
	const struct error *err = NULL;
	char *buf = xmalloc(1 << 18);

	for (;;) {
		/* No writer yet: poll() waits; one gone: POLLHUP. */
		struct pollfd p = {fd, POLLIN, 0};
		int ended = dump_exec_done(x);
		ssize_t n;

		if (poll(&p, 1, 100) < 0 && errno != EINTR) {
			err = error_errno("waiting for the dump");
			break;
		}
		if (interrupt_pending()) {
			err = error_interrupted();
			break;
		}
		if (!p.revents && !ended)
			continue;
		while ((n = read(fd, buf, 1 << 18)) > 0)
			if ((err = fn(ctx, FRAME_STDOUT, buf, (size_t)n)))
				goto out;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err = error_errno("reading the dump");
			break;
		}
		/* The end: its writer closed it, or the tool is gone and all
		 * it wrote is read. */
		if ((n == 0 && (p.revents & POLLHUP)) || ended)
			break;
	}
out:
	free(buf);
	return err;
}

const struct error *mysqlsvc_dump(struct engine *e, const struct cluster *cl, const char *dbname,
				  const struct error *(*ready)(void *ctx), frame_fn fn, void *ctx)
{
	const struct error *err;
	const struct tpl_service *s = template_db(&cl->tpl);
	char *fifo = NULL, *gofifo = NULL, *result = NULL, *secret = NULL, *name = cluster_container(cl, s->name);
	char rnd[9], port[16], ip[64];
	struct dump_exec x = {.e = e, .container = name, .out = BUF_INIT, .code = -1, .mu = PTHREAD_MUTEX_INITIALIZER};
	pthread_t thread;
	int fd = -1;

	if ((err = db_ident_check(dbname)) || (err = where(e, cl, ip, sizeof ip)) ||
	    (err = name_random(rnd, 8, NAME_ALNUM_LOWER)))
		goto out;
	if (!s->data) {
		err = error_fmt("the template's MySQL service keeps no data folder (\"data\")");
		goto out;
	}
	/* The FIFOs lie in the service's data folder, the one folder the host
	 * and its container share; the server takes only folders there for
	 * databases. */
	fifo = cluster_path(cl, "services/%s/.korcluster-dump-%s-%s", s->name, dbname, rnd);
	gofifo = xasprintf("%s.go", fifo);
	result = xasprintf("--result-file=%s/.korcluster-dump-%s-%s", s->data, dbname, rnd);
	secret = xasprintf("/run/secrets/%s_root_password", s->name);
	snprintf(port, sizeof port, "%d", s->port);
	if (mkfifo(fifo, 0600) < 0 || mkfifo(gofifo, 0600) < 0 ||
	    (fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		err = error_errno("making \"%s\"", fifo);
		goto out;
	}
	{
		char *go = xasprintf("%s/.korcluster-dump-%s-%s.go", s->data, dbname, rnd);
		char *const argv[] = {"sh", "-c", (char *)dump_script, "dump", secret, port, go, "--single-transaction",
				      "--quick", "--routines", "--triggers", "--hex-blob",
				      "--default-character-set=utf8mb4", "--no-tablespaces", result, (char *)dbname, NULL};

		x.argv = argv;
		if (pthread_create(&thread, NULL, dump_exec_run, &x) != 0) {
			err = error_fmt("starting the dump failed");
		} else {
			/* Writes are held (ready) once the exec runs: the hold
			 * covers the tool's start, connection and transaction. */
			if ((ready && (err = ready(ctx))) || (err = give_word(gofifo, &x, "go\n")))
				give_word(gofifo, &x, "");
			else
				err = read_fifo(fd, &x, fn, ctx);
			/* A failed read closes the FIFO: the tool stops at its
			 * next write (EPIPE), and with it the exec. */
			close(fd);
			fd = -1;
			pthread_join(thread, NULL);
		}
		free(go);
	}
	if (!err && (err = x.err))
		goto out;
	if (!err && x.code != 0)
		err = error_fmt("the dump tool exited %d: %.*s", x.code, buf_trimmed_len(&x.out), buf_str(&x.out));
out:
	err = error_wrap(err, "dumping database \"%s\"", dbname);
	if (fd >= 0)
		close(fd);
	if (fifo)
		unlink(fifo);
	if (gofifo)
		unlink(gofifo);
	buf_free(&x.out);
	free(fifo);
	free(gofifo);
	free(result);
	free(secret);
	free(name);
	return err;
}

const struct error *mysqlsvc_dump_clear(const struct cluster *cl, const char *dbname, int *did)
{
	const struct error *err = NULL;
	const struct tpl_service *s = template_db(&cl->tpl);
	char *dir = cluster_path(cl, "services/%s", s->name), *prefix = xasprintf(".korcluster-dump-%s-", dbname);
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && !err && (de = readdir(d))) {
		char *path;
		int fd;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || strchr(de->d_name + strlen(prefix), '-'))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		/* A tool still waiting to open it for writing gets a reader
		 * that leaves at once: it stops at its first write. */
		if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0)
			close(fd);
		if (unlink(path) < 0 && errno != ENOENT)
			err = error_errno("removing \"%s\"", path);
		*did = 1;
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	free(prefix);
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
