#include "dbload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "mem.h"
#include "name.h"
#include "sqlcheck.h"
#include "sqlsplit.h"

/* How often the watchdog looks, in milliseconds. */
#define WATCH_MS 200
/* The most dump bytes waiting for the loader. */
#define QUEUE_MAX (8u << 20)

struct dbload {
	struct db *root, *db;
	char user[16], pw[33];
	char dbname[72];
	struct sqlsplit split;
	struct sqlcheck check;
	size_t statements;
	size_t uncommitted; /* bytes since the last COMMIT */
	/* The watchdog: its own root connection kills the load's. */
	struct db *killer;
	pthread_t tid;
	int running, stop, fired;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	double deadline;    /* 0: none */
	int timeout;
	uint64_t max_bytes;
	char *dir;
	char why[256];      /* why the watchdog fired */
	/* The loader: a thread of its own splits, checks and runs the
	 * statements, so that the server works while the caller goes on
	 * (unpacking files); pieces wait in q, at most QUEUE_MAX bytes. */
	pthread_t loader;
	int loading;        /* the loader thread runs */
	struct buf *q;
	size_t qn, qcap, qhead, qbytes;
	int ended, quit, busy;
	const struct error *lerr; /* the loader's first error */
	pthread_cond_t qcv;
};

uint64_t dbload_dir_bytes(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	uint64_t sum = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return sum;
}

static void *watch(void *ctx)
{
	struct dbload *l = ctx;
	char sql[64];

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		if (l->deadline && clock_seconds() > l->deadline) {
			snprintf(l->why, sizeof l->why, "the load took longer than %d s ([limits] load_timeout)", l->timeout);
		} else if (l->dir && l->max_bytes) {
			uint64_t now = dbload_dir_bytes(l->dir);

			if (now > l->max_bytes)
				snprintf(l->why, sizeof l->why,
					 "the database grew past %.1f MiB, more than its dump can make ([limits] load_growth)",
					 (double)l->max_bytes / (1 << 20));
		}
		pthread_mutex_lock(&l->mu);
		if (l->why[0]) {
			l->fired = 1;
			pthread_mutex_unlock(&l->mu);
			snprintf(sql, sizeof sql, "KILL CONNECTION %lu", db_thread_id(l->db));
			db_exec(l->killer, sql);
			pthread_mutex_lock(&l->mu);
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* A failed statement: the watchdog's reason if it killed the load. */
static const struct error *failed(struct dbload *l, const struct error *err)
{
	int fired;

	pthread_mutex_lock(&l->mu);
	fired = l->fired;
	pthread_mutex_unlock(&l->mu);
	return fired ? error_fmt("%s", l->why) : err;
}

static const struct error *statement(void *ctx, const char *stmt, size_t len)
{
	struct dbload *l = ctx;
	const struct error *err;

	if ((err = sqlcheck_statement(&l->check, stmt, len)))
		return error_wrap(err, "statement at line %zu of the dump", l->split.line);
	if ((err = db_exec_n(l->db, stmt, len)))
		return error_wrap(failed(l, err), "statement at line %zu of the dump", l->split.line);
	l->statements++;
	if ((l->uncommitted += len) >= DBLOAD_COMMIT) {
		l->uncommitted = 0;
		if ((err = db_exec(l->db, "COMMIT")))
			return error_wrap(failed(l, err), "committing the restored rows");
	}
	return NULL;
}

/* The loader thread: pieces from the queue until the end (or quit). */
static void *load(void *ctx)
{
	struct dbload *l = ctx;
	const struct error *err = NULL;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct buf piece;

		while (!l->qn && !l->ended && !l->quit)
			pthread_cond_wait(&l->qcv, &l->mu);
		if (l->quit || (!l->qn && l->ended))
			break;
		piece = l->q[l->qhead];
		l->qhead = (l->qhead + 1) % l->qcap;
		l->qn--;
		l->qbytes -= piece.len;
		l->busy = 1;
		pthread_cond_broadcast(&l->qcv);
		pthread_mutex_unlock(&l->mu);
		err = sqlsplit_feed(&l->split, piece.data, piece.len, statement, l);
		buf_free(&piece);
		pthread_mutex_lock(&l->mu);
		l->busy = 0;
		if (err)
			break;
	}
	if (!err && !l->quit && l->ended) {
		pthread_mutex_unlock(&l->mu);
		if (!(err = sqlsplit_finish(&l->split, statement, l)) && (err = db_exec(l->db, "COMMIT")))
			err = failed(l, err);
		pthread_mutex_lock(&l->mu);
	}
	l->lerr = err;
	l->quit = 1;
	pthread_cond_broadcast(&l->qcv);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Queue a copy of the piece for the loader; its error, if it has one. */
const struct error *dbload_feed(struct dbload *l, const char *data, size_t len)
{
	const struct error *err;

	pthread_mutex_lock(&l->mu);
	while (!l->quit && l->qn && l->qbytes + len > QUEUE_MAX)
		pthread_cond_wait(&l->qcv, &l->mu);
	if (!(err = l->lerr) && l->quit)
		err = error_fmt("the load stopped");
	if (!err) {
		struct buf piece = BUF_INIT;

		if (l->qn == l->qcap) {
			/* Grow the ring, oldest first. */
			size_t cap = l->qcap ? l->qcap * 2 : 16;
			struct buf *q = xcalloc(cap, sizeof *q);

			for (size_t i = 0; i < l->qn; i++)
				q[i] = l->q[(l->qhead + i) % l->qcap];
			free(l->q);
			l->q = q;
			l->qcap = cap;
			l->qhead = 0;
		}
		buf_append(&piece, data, len);
		l->q[(l->qhead + l->qn) % l->qcap] = piece;
		l->qn++;
		l->qbytes += len;
		pthread_cond_broadcast(&l->qcv);
	}
	pthread_mutex_unlock(&l->mu);
	return error_wrap(err, "loading the dump");
}

const struct error *dbload_finish(struct dbload *l)
{
	const struct error *err;

	pthread_mutex_lock(&l->mu);
	l->ended = 1;
	pthread_cond_broadcast(&l->qcv);
	while (!l->quit)
		pthread_cond_wait(&l->qcv, &l->mu);
	err = l->lerr;
	pthread_mutex_unlock(&l->mu);
	if (l->loading) {
		pthread_join(l->loader, NULL);
		l->loading = 0;
	}
	return error_wrap(err, "loading the dump");
}

size_t dbload_statements(const struct dbload *l)
{
	return l->statements;
}

void dbload_close(struct dbload *l)
{
	char sql[128];

	if (!l)
		return;
	if (l->loading) {
		/* Stopped where it is: a statement under way is killed. */
		pthread_mutex_lock(&l->mu);
		l->quit = 1;
		pthread_cond_broadcast(&l->qcv);
		if (l->busy && l->root) {
			snprintf(sql, sizeof sql, "KILL CONNECTION %lu", db_thread_id(l->db));
			db_exec(l->root, sql);
		}
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->loader, NULL);
	}
	for (size_t i = 0; i < l->qn; i++)
		buf_free(&l->q[(l->qhead + i) % l->qcap]);
	free(l->q);
	if (l->running) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->tid, NULL);
	}
	db_close(l->killer);
	db_close(l->db);
	if (l->root && l->user[0]) {
		snprintf(sql, sizeof sql, "DROP USER IF EXISTS '%s'@'%%'", l->user);
		db_exec(l->root, sql);
	}
	db_close(l->root);
	explicit_bzero(l->pw, sizeof l->pw);
	sqlsplit_free(&l->split);
	sqlcheck_free(&l->check);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	pthread_cond_destroy(&l->qcv);
	free(l->dir);
	free(l);
}

const struct error *dbload_open(struct dbload **out, const struct db_server *srv, const char *dbname,
				const struct dbload_limits *lim)
{
	const struct error *err;
	struct dbload *l = xcalloc(1, sizeof *l);
	char q[80], sql[512];
	size_t max = lim->max_statement;

	*out = NULL;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	pthread_cond_init(&l->qcv, NULL);
	sqlcheck_init(&l->check, dbname);
	snprintf(l->dbname, sizeof l->dbname, "%s", dbname);
	if ((err = db_ident_quote(dbname, q, sizeof q)) || (err = db_server_root(srv, 30, &l->root)) ||
	    (!max && (err = db_max_statement(l->root, &max))))
		goto fail;
	sqlsplit_init(&l->split, max);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", q);
	if ((err = db_exec(l->root, sql)) || (err = db_create_database(l->root, dbname))) {
		err = error_wrap(err, "emptying database \"%s\"", dbname);
		goto fail;
	}
	memcpy(l->user, DBLOAD_USER_PREFIX, sizeof DBLOAD_USER_PREFIX - 1);
	if ((err = name_random(l->user + sizeof DBLOAD_USER_PREFIX - 1, 8, NAME_ALNUM_LOWER)) ||
	    (err = name_random(l->pw, 32, NAME_ALNUM)))
		goto fail;
	snprintf(sql, sizeof sql, "CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", l->user, l->pw);
	err = db_exec(l->root, sql);
	explicit_bzero(sql, sizeof sql);
	if (err) {
		l->user[0] = '\0';
		err = error_wrap(err, "creating the loading user");
		goto fail;
	}
	if ((err = db_grant_all(l->root, dbname, l->user)))
		goto fail;
	if ((err = db_connect_to(&l->db, srv->host, srv->port, l->user, l->pw, dbname, 5, 600))) {
		err = error_wrap(err, "logging in as the loading user");
		goto fail;
	}
	if ((err = db_exec(l->db, "SET autocommit = 0")))
		goto fail;
	/* The watchdog, with a root connection of its own. */
	l->timeout = lim->timeout;
	l->deadline = lim->timeout > 0 ? clock_seconds() + lim->timeout : 0;
	l->max_bytes = lim->max_bytes;
	l->dir = lim->dir ? xstrdup(lim->dir) : NULL;
	if ((l->deadline || (l->dir && l->max_bytes)) && (err = db_server_root(srv, 30, &l->killer)))
		goto fail;
	if (l->killer) {
		if (pthread_create(&l->tid, NULL, watch, l) != 0) {
			err = error_fmt("cannot start a thread");
			goto fail;
		}
		l->running = 1;
	}
	if (pthread_create(&l->loader, NULL, load, l) != 0) {
		err = error_fmt("cannot start a thread");
		goto fail;
	}
	l->loading = 1;
	*out = l;
	return NULL;
fail:
	dbload_close(l);
	return err;
}
