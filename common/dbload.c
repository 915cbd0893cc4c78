#include "dbload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
/* The most dump bytes waiting for the splitter, and rows for a connection. */
#define QUEUE_MAX (8u << 20)
#define ROWS_MAX (4u << 20)

/* A statement on its way to a connection, and the dump's line it began on. */
struct stmt {
	struct buf text;
	size_t line;
};

/* One connection of the load and the thread that runs rows on it. */
struct conn {
	struct dbload *l;
	struct db *db;
	size_t uncommitted; /* bytes since its last COMMIT */
	pthread_t tid;
	int started, busy;
};

struct dbload {
	struct db *root;
	char user[16], pw[33];
	char dbname[72];
	struct sqlsplit split;
	struct sqlcheck check;
	size_t statements;
	/* The watchdog: its own root connection kills the load's. */
	struct db *killer;
	pthread_t tid;
	int running, stop, fired;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	double deadline;    /* 0: none */
	int timeout;
	uint64_t max_bytes, fed;
	unsigned growth;
	char *dir;
	char why[256];      /* why the watchdog fired */
	/* The splitter: a thread of its own splits and checks the dump, so
	 * that the server works while the caller goes on (unpacking files);
	 * pieces wait in q, at most QUEUE_MAX bytes. */
	pthread_t loader;
	int loading;        /* the splitter thread runs */
	struct buf *q;
	size_t qn, qcap, qhead, qbytes;
	int ended, quit, busy;
	const struct error *lerr; /* the load's first error */
	const struct error *refusal; /* sqlcheck's, if that was it */
	pthread_cond_t qcv;
	/* Rows (INSERTs) go to whichever connection is free, each run by a
	 * thread of its own; they wait in rq, at most ROWS_MAX bytes.  Any
	 * other statement waits until every row before it has run and been
	 * committed, then runs on the first connection (a SET on all). */
	struct conn conn[DBLOAD_CONNECTIONS_MAX];
	int nconn;
	struct stmt *rq;
	size_t rn, rcap, rhead, rbytes;
	int running_rows;   /* rows being run */
	pthread_cond_t rcv;
	/* The table the last rows went into ("" none yet): the first rows of
	 * each table run alone (rows()'s comment says why). */
	char table[200];
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
		} else if (l->dir && (l->max_bytes || l->growth)) {
			uint64_t now = dbload_dir_bytes(l->dir), max;

			pthread_mutex_lock(&l->mu);
			max = l->fed > (UINT64_MAX - l->max_bytes) / (l->growth ? l->growth : 1)
				      ? UINT64_MAX
				      : l->max_bytes + l->fed * l->growth;
			pthread_mutex_unlock(&l->mu);
			if (now > max)
				snprintf(l->why, sizeof l->why,
					 "the database grew past %.1f MiB, more than its dump can make ([limits] load_growth)",
					 (double)max / (1 << 20));
		}
		pthread_mutex_lock(&l->mu);
		if (l->why[0]) {
			l->fired = 1;
			pthread_mutex_unlock(&l->mu);
			for (int i = 0; i < l->nconn; i++) {
				snprintf(sql, sizeof sql, "KILL CONNECTION %lu", db_thread_id(l->conn[i].db));
				db_exec(l->killer, sql);
			}
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

/* The first error of the load wins; the load stops. */
static void fail_locked(struct dbload *l, const struct error *err)
{
	if (!l->lerr)
		l->lerr = err;
	l->quit = 1;
	pthread_cond_broadcast(&l->qcv);
	pthread_cond_broadcast(&l->rcv);
}

/* Run a statement on connection c; COMMIT when enough rows wait. */
static const struct error *run_on(struct dbload *l, struct conn *c, const char *text, size_t len, size_t line)
{
	const struct error *err;

	if ((err = db_exec_n(c->db, text, len)))
		return error_wrap(failed(l, err), "statement at line %zu of the dump", line);
	if ((c->uncommitted += len) >= DBLOAD_COMMIT) {
		c->uncommitted = 0;
		if ((err = db_exec(c->db, "COMMIT")))
			return error_wrap(failed(l, err), "committing the restored rows");
	}
	return NULL;
}

/* A connection's thread: rows from rq until the load stops. */
static void *rows(void *ctx)
{
	struct conn *c = ctx;
	struct dbload *l = c->l;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct stmt st;
		const struct error *err;

		while (!l->rn && !l->quit)
			pthread_cond_wait(&l->rcv, &l->mu);
		if (l->quit)
			break;
		st = l->rq[l->rhead];
		l->rhead = (l->rhead + 1) % l->rcap;
		l->rn--;
		l->rbytes -= st.text.len;
		l->running_rows++;
		c->busy = 1;
		pthread_cond_broadcast(&l->rcv);
		pthread_mutex_unlock(&l->mu);
		err = run_on(l, c, st.text.data, st.text.len, st.line);
		buf_free(&st.text);
		pthread_mutex_lock(&l->mu);
		c->busy = 0;
		l->running_rows--;
		l->statements++;
		if (err)
			fail_locked(l, err);
		pthread_cond_broadcast(&l->rcv);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Every row queued has run and is committed; the load's error if it
 * stopped.  The connections are then the splitter's to use. */
static const struct error *barrier(struct dbload *l)
{
	const struct error *err = NULL;

	pthread_mutex_lock(&l->mu);
	while ((l->rn || l->running_rows) && !l->quit)
		pthread_cond_wait(&l->rcv, &l->mu);
	if (l->quit)
		err = l->lerr ? l->lerr : error_fmt("the load stopped");
	pthread_mutex_unlock(&l->mu);
	for (int i = 0; i < l->nconn && !err; i++)
		if (l->nconn > 1 && l->conn[i].uncommitted) {
			l->conn[i].uncommitted = 0;
			if ((err = db_exec(l->conn[i].db, "COMMIT")))
				err = error_wrap(failed(l, err), "committing the restored rows");
		}
	return err;
}

/* Queue a copy of a row statement for the next free connection. */
static const struct error *queue_rows(struct dbload *l, const char *stmt, size_t len)
{
	const struct error *err = NULL;
	struct stmt st = {BUF_INIT, l->split.line};

	buf_append(&st.text, stmt, len);
	pthread_mutex_lock(&l->mu);
	while (!l->quit && l->rn && l->rbytes + len > ROWS_MAX)
		pthread_cond_wait(&l->rcv, &l->mu);
	if (l->quit) {
		err = l->lerr ? l->lerr : error_fmt("the load stopped");
		buf_free(&st.text);
	} else {
		if (l->rn == l->rcap) {
			size_t cap = l->rcap ? l->rcap * 2 : 16;
			struct stmt *q = xcalloc(cap, sizeof *q);

			for (size_t i = 0; i < l->rn; i++)
				q[i] = l->rq[(l->rhead + i) % l->rcap];
			free(l->rq);
			l->rq = q;
			l->rcap = cap;
			l->rhead = 0;
		}
		l->rq[(l->rhead + l->rn) % l->rcap] = st;
		l->rn++;
		l->rbytes += len;
		pthread_cond_broadcast(&l->rcv);
	}
	pthread_mutex_unlock(&l->mu);
	return err;
}

/* The table an INSERT goes into, as written (quotes and all), into out;
 * "" when it cannot be told. */
static void insert_table(const char *stmt, size_t len, char *out, size_t n)
{
	const char *p = stmt, *end = stmt + len, *name;
	static const char *const words[] = {"INSERT", "IGNORE", "INTO"};

	out[0] = '\0';
	for (size_t w = 0; w < 3; w++) {
		while (p < end && strchr(" \t\r\n", *p))
			p++;
		if ((size_t)(end - p) > strlen(words[w]) && !strncasecmp(p, words[w], strlen(words[w])))
			p += strlen(words[w]);
		else if (w != 1)
			return;
	}
	while (p < end && strchr(" \t\r\n", *p))
		p++;
	name = p;
	if (p < end && *p == '`')
		for (p++; p < end && *p != '`'; p++)
			;
	while (p < end && !strchr(" \t\r\n(", *p))
		p++;
	if ((size_t)(p - name) < n)
		snprintf(out, n, "%.*s", (int)(p - name), name);
}

/* Each statement, checked: rows to the connections' threads; anything
 * else in order, once the rows before it are in.  With more than one
 * connection a table lock would make the others wait for ever: LOCK and
 * UNLOCK TABLES (a speed-up for MyISAM that mysqldump writes) are left
 * out, and a SET (the session's character set, time zone, checks) runs on
 * every connection. */
static const struct error *statement(void *ctx, const char *stmt, size_t len)
{
	struct dbload *l = ctx;
	const struct error *err;
	unsigned first;

	if ((err = sqlcheck_statement(&l->check, stmt, len))) {
		err = error_wrap(err, "statement at line %zu of the dump", l->split.line);
		pthread_mutex_lock(&l->mu);
		l->refusal = err;
		pthread_mutex_unlock(&l->mu);
		return err;
	}
	first = l->check.first;
	if (first == SQLCHECK_INSERT && l->nconn > 1) {
		char table[sizeof l->table];

		insert_table(stmt, len, table, sizeof table);
		if (table[0] && strcmp(table, l->table) == 0)
			return queue_rows(l, stmt, len);
		/* A table's first rows run alone and are committed before any
		 * other connection writes to it: MariaDB (10.6 on) inserts into
		 * an empty table holding a lock on the whole table until the
		 * transaction ends, which would leave the other connections
		 * waiting until they time out. */
		if ((err = barrier(l)) || (err = run_on(l, &l->conn[0], stmt, len, l->split.line)))
			return err;
		if ((err = db_exec(l->conn[0].db, "COMMIT")))
			return error_wrap(failed(l, err), "committing the restored rows");
		l->conn[0].uncommitted = 0;
		snprintf(l->table, sizeof l->table, "%s", table);
		pthread_mutex_lock(&l->mu);
		l->statements++;
		pthread_mutex_unlock(&l->mu);
		return NULL;
	}
	if (first == SQLCHECK_INSERT)
		return queue_rows(l, stmt, len);
	/* Anything else may have emptied a table (DROP, TRUNCATE, DELETE). */
	l->table[0] = '\0';
	if ((err = barrier(l)))
		return err;
	if (l->nconn > 1 && first == SQLCHECK_LOCK)
		return NULL;
	for (int i = 0; i < ((first & SQLCHECK_SET) ? l->nconn : 1); i++)
		if ((err = run_on(l, &l->conn[i], stmt, len, l->split.line)))
			return err;
	pthread_mutex_lock(&l->mu);
	l->statements++;
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* The splitter thread: pieces from the queue until the end (or quit). */
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
		if (!(err = sqlsplit_finish(&l->split, statement, l)) && !(err = barrier(l)) &&
		    (err = db_exec(l->conn[0].db, "COMMIT")))
			err = failed(l, err);
		pthread_mutex_lock(&l->mu);
	}
	/* Done or failed: the connections' threads stop too. */
	if (err)
		fail_locked(l, err);
	l->quit = 1;
	pthread_cond_broadcast(&l->qcv);
	pthread_cond_broadcast(&l->rcv);
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
		l->fed += len;
		pthread_cond_broadcast(&l->qcv);
	}
	pthread_mutex_unlock(&l->mu);
	return error_wrap(err, "loading the dump");
}

/* Wait for the threads of the connections, which stop with the load. */
static void join_rows(struct dbload *l)
{
	for (int i = 0; i < l->nconn; i++)
		if (l->conn[i].started) {
			pthread_join(l->conn[i].tid, NULL);
			l->conn[i].started = 0;
		}
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
	join_rows(l);
	return error_wrap(err, "loading the dump");
}

size_t dbload_statements(const struct dbload *l)
{
	return l->statements;
}

const struct error *dbload_refusal(struct dbload *l)
{
	const struct error *err;

	if (!l)
		return NULL;
	pthread_mutex_lock(&l->mu);
	err = l->refusal;
	pthread_mutex_unlock(&l->mu);
	return err;
}

void dbload_close(struct dbload *l)
{
	char sql[128];

	if (!l)
		return;
	if (l->loading) {
		/* Stopped where it is: statements under way are killed. */
		pthread_mutex_lock(&l->mu);
		if (!l->quit && l->root)
			for (int i = 0; i < l->nconn; i++) {
				snprintf(sql, sizeof sql, "KILL CONNECTION %lu", db_thread_id(l->conn[i].db));
				db_exec(l->root, sql);
			}
		l->quit = 1;
		pthread_cond_broadcast(&l->qcv);
		pthread_cond_broadcast(&l->rcv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->loader, NULL);
	}
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_broadcast(&l->rcv);
	pthread_mutex_unlock(&l->mu);
	join_rows(l);
	for (size_t i = 0; i < l->qn; i++)
		buf_free(&l->q[(l->qhead + i) % l->qcap]);
	free(l->q);
	for (size_t i = 0; i < l->rn; i++)
		buf_free(&l->rq[(l->rhead + i) % l->rcap].text);
	free(l->rq);
	if (l->running) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->tid, NULL);
	}
	db_close(l->killer);
	for (int i = 0; i < l->nconn; i++)
		db_close(l->conn[i].db);
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
	pthread_cond_destroy(&l->rcv);
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
	int n = lim->connections < 1 ? 1 : lim->connections > DBLOAD_CONNECTIONS_MAX ? DBLOAD_CONNECTIONS_MAX
										     : lim->connections;

	*out = NULL;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	pthread_cond_init(&l->qcv, NULL);
	pthread_cond_init(&l->rcv, NULL);
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
	for (; l->nconn < n; l->nconn++) {
		struct conn *c = &l->conn[l->nconn];

		c->l = l;
		if ((err = db_connect_to(&c->db, srv->host, srv->port, l->user, l->pw, dbname, 5, 600))) {
			err = error_wrap(err, "logging in as the loading user");
			goto fail;
		}
		if ((err = db_exec(c->db, "SET autocommit = 0")))
			goto fail;
	}
	/* The watchdog, with a root connection of its own. */
	l->timeout = lim->timeout;
	l->deadline = lim->timeout > 0 ? clock_seconds() + lim->timeout : 0;
	l->max_bytes = lim->max_bytes;
	l->growth = lim->growth;
	l->dir = lim->dir ? xstrdup(lim->dir) : NULL;
	if ((l->deadline || (l->dir && (l->max_bytes || l->growth))) && (err = db_server_root(srv, 30, &l->killer)))
		goto fail;
	if (l->killer) {
		if (pthread_create(&l->tid, NULL, watch, l) != 0) {
			err = error_fmt("cannot start a thread");
			goto fail;
		}
		l->running = 1;
	}
	for (int i = 0; i < l->nconn; i++) {
		if (pthread_create(&l->conn[i].tid, NULL, rows, &l->conn[i]) != 0) {
			err = error_fmt("cannot start a thread");
			goto fail;
		}
		l->conn[i].started = 1;
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
