#include "snapshot.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "archwrite.h"
#include "buf.h"
#include "clock.h"
#include "fs.h"
#include "mem.h"
#include "mysqlsvc.h"
#include "report.h"
#include "runtime.h"
#include "snaplist.h"
#include "treecopy.h"

/* Lines of the dump that come after its transaction has begun. */
static const char *const after_start[] = {
	"\n-- Table structure for table ", "\n-- Temporary table structure for view ",
	"\n-- Temporary view structure for view ", "\n-- Dumping routines", "\n-- Dumping events",
	"\n-- Dump completed", NULL};

/* Full dump pieces waiting for the archive: at most QUEUE of them. */
#define QUEUE 3

/* The dump runs in a thread of its own (its engine connection streams the
 * dump; e2 changes the proxy); the main thread writes the archive: the
 * files, with the dump's pieces put in between them as they come. */
struct snap {
	struct instance *in;
	struct engine *e, *e2;
	const char *dbname;
	int hold, held;       /* writes are to be held, are held */
	double held_since, held_for;
	int sfd, wfd;         /* the data folder, the work tree's copy of it */
	int linked;           /* the work tree is made */
	const char *data;     /* the instance's data folder */
	char tail[64];        /* the end of the previous frame */
	size_t ntail;
	struct buf cur;       /* the piece being filled */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct buf q[QUEUE];  /* full pieces, oldest at qhead */
	size_t qhead, qn;
	int done, stop;
	const struct error *failed; /* the thread's error */
};

/* Link the files once the dump's transaction has begun: files written
 * before it are in, so every row the dump holds finds its file. */
static const struct error *take_files(struct snap *s)
{
	const struct error *err;

	if (s->linked)
		return NULL;
	err = treecopy_link(s->sfd, s->wfd, s->data);
	s->sfd = -1; /* closed by treecopy_link() */
	pthread_mutex_lock(&s->mu);
	s->linked = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return err;
}

static const struct error *release(struct snap *s)
{
	const struct error *err;

	if (!s->held)
		return NULL;
	s->held = 0;
	/* The configuration in force stays: only the hold goes (no reload). */
	err = error_wrap(runtime_route(s->e2, s->in, s->in->env, ROUTE_AGAIN), "letting writes through again");
	s->held_for = clock_seconds() - s->held_since;
	return err;
}

/* Queue the filled piece, waiting while the queue is full. */
static const struct error *push_piece(struct snap *s)
{
	const struct error *err = NULL;

	pthread_mutex_lock(&s->mu);
	while (s->qn == QUEUE && !s->stop)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->stop) {
		err = error_fmt("stopped");
	} else {
		s->q[(s->qhead + s->qn) % QUEUE] = s->cur;
		s->qn++;
		s->cur = (struct buf)BUF_INIT;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

static const struct error *snap_frame(void *ctx, int stream, const char *data, size_t len)
{
	const struct error *err;
	struct snap *s = ctx;

	(void)stream;
	if (s->held || !s->linked) {
		char probe[64 + 4096];
		size_t n = len < 4096 ? len : 4096, k = 0;

		/* Look in the previous frame's end plus this one's start. */
		memcpy(probe, s->tail, s->ntail);
		memcpy(probe + s->ntail, data, n);
		for (const char *const *m = after_start; *m && !k; m++)
			k = memmem(probe, s->ntail + n, *m, strlen(*m)) != NULL;
		if (k && ((err = take_files(s)) || (err = release(s))))
			return err;
		if (!k) {
			size_t keep = len < sizeof s->tail ? len : sizeof s->tail;

			if (keep < sizeof s->tail && s->ntail + keep > sizeof s->tail) {
				memmove(s->tail, s->tail + s->ntail + keep - sizeof s->tail, sizeof s->tail - keep);
				s->ntail = sizeof s->tail - keep;
			} else if (keep == sizeof s->tail) {
				s->ntail = 0;
			}
			memcpy(s->tail + s->ntail, data + len - keep, keep);
			s->ntail += keep;
		}
	}
	while (len) {
		size_t room = ARCHIVE_CHUNK - s->cur.len, n = len < room ? len : room;

		buf_append(&s->cur, data, n);
		data += n;
		len -= n;
		if (s->cur.len == ARCHIVE_CHUNK && (err = push_piece(s)))
			return err;
	}
	return NULL;
}

/* Hold writes while the transaction starts and the files are linked (an
 * inactive environment takes none): from the moment the dump starts. */
static const struct error *hold(void *ctx)
{
	const struct error *err;
	struct snap *s = ctx;

	if (!s->hold)
		return NULL;
	/* Counted from the start: the time writes are held as clients see it
	 * is at most from here to the end of release(). */
	s->held_since = clock_seconds();
	if ((err = runtime_route(s->e2, s->in, s->in->env, ROUTE_READONLY)))
		return err;
	s->held = 1;
	return NULL;
}

static void *dump_thread(void *ctx)
{
	struct snap *s = ctx;
	const struct error *err = mysqlsvc_dump(s->e, &s->in->cl, s->dbname, hold, snap_frame, s);

	/* A dump with no marker line: its transaction is over, take the
	 * files now.  The last piece goes even if empty (one at least). */
	if (!err && !(err = take_files(s)) && !(err = release(s)))
		err = push_piece(s);
	pthread_mutex_lock(&s->mu);
	s->failed = err;
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Main thread: write the queued pieces; with wait, until the dump ends. */
static const struct error *drain(struct snap *s, int wait, struct archwrite *out)
{
	const struct error *err = NULL;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->qn && !err) {
			struct buf b = s->q[s->qhead];

			s->q[s->qhead] = (struct buf)BUF_INIT;
			s->qhead = (s->qhead + 1) % QUEUE;
			s->qn--;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			err = archwrite_add_dump(out, b.data, b.len);
			buf_free(&b);
			pthread_mutex_lock(&s->mu);
		}
		if (err || !wait || s->done)
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	if (!err && s->failed)
		err = s->failed;
	pthread_mutex_unlock(&s->mu);
	return err;
}

struct hook {
	struct snap *s;
	struct archwrite *out;
};

static const struct error *between_files(void *ctx)
{
	struct hook *h = ctx;

	return drain(h->s, 0, h->out);
}

static char *public_config(const struct instance *in, const char *env)
{
	return xasprintf("; instance.ini of the snapshot, without its secrets\n[instance]\nname = %s\nversion = %s\n"
			 "port = %d\nenv = %s\ntemplate = %s\ncluster = %s\n",
			 in->name, instance_env_version(in, env), in->port, env, in->cl.template_name, in->cl.name);
}

const struct error *snapshot_take(struct engine *e, struct instance *in, const char *env, const char *path, int gzip,
				  struct snapshot_result *res)
{
	const struct error *err, *e2;
	struct snap s = {.in = in, .e = e, .sfd = -1, .wfd = -1};
	struct archwrite *out = NULL;
	struct hook hook = {&s, NULL};
	char *dest = NULL, *tmp = NULL, *work = NULL, *workdata = NULL, *data = instance_data_dir(in, env);
	char *dbname = instance_database(in, env), *conf = public_config(in, env), created[32];
	double t0 = clock_seconds();
	time_t now = time(NULL);
	struct tm tm;
	json_t *meta = NULL;
	struct stat st;
	pthread_t tid;
	int running = 0;

	memset(res, 0, sizeof *res);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if (path)
		err = fs_absolute(path, &dest);
	else
		dest = snaplist_default_path(in, env, gzip), err = NULL;
	if (err)
		goto out;
	tmp = xasprintf("%s.tmp", dest);
	work = cluster_path(&in->cl, "snapshots/.work-%s-%d", in->name, (int)getpid());
	workdata = xasprintf("%s/data", work);
	if (fs_exists(dest)) {
		err = error_fmt("\"%s\" exists already", dest);
		goto out;
	}
	if ((err = fs_mkdirs(data, 0755)) || (err = fs_remove_tree(work)) || (err = fs_mkdirs(workdata, 0700)) ||
	    (err = engine_open(&s.e2)) || (err = archwrite_open(&out, tmp, gzip)) ||
	    (err = archwrite_add_bytes(out, "config/instance.ini", conf, strlen(conf))))
		goto out;
	hook.out = out;
	if ((s.sfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = error_errno("opening \"%s\"", data);
		goto out;
	}
	if ((s.wfd = open(workdata, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = error_errno("opening \"%s\"", workdata);
		goto out;
	}
	s.data = data;
	s.dbname = dbname;
	s.hold = strcmp(env, in->env) == 0 && runtime_served(in);
	if (pthread_create(&tid, NULL, dump_thread, &s) != 0) {
		err = error_fmt("cannot start a thread");
		goto out;
	}
	running = 1;
	/* The files, once linked, with the dump's pieces in between. */
	pthread_mutex_lock(&s.mu);
	while (!s.linked && !s.done)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	archwrite_set_hook(out, between_files, &hook);
	if ((err = drain(&s, 0, out)) || (s.linked && (err = archwrite_add_tree(out, workdata, "data"))) ||
	    (err = drain(&s, 1, out)))
		goto out;
	pthread_join(tid, NULL);
	running = 0;
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	meta = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "format", ARCHIVE_FORMAT, "format_version",
			 ARCHIVE_FORMAT_VERSION, "tool", "korcluster " KC_VERSION, "template", in->cl.template_name,
			 "instance", in->name, "version", instance_env_version(in, env), "cluster", in->cl.name, "created",
			 created);
	res->raw = archwrite_bytes(out);
	err = archwrite_close(out, meta);
	out = NULL;
	if (err || (err = fs_sync_rename(tmp, dest)))
		goto out;
	if (stat(dest, &st) < 0) {
		err = error_errno("reading \"%s\"", dest);
		goto out;
	}
	res->path = dest;
	dest = NULL;
	res->bytes = (uint64_t)st.st_size;
	res->seconds = clock_seconds() - t0;
	res->held = s.held_for;
out:
	if (running) {
		/* Unblock and end the dump (it fails on a full queue). */
		pthread_mutex_lock(&s.mu);
		s.stop = 1;
		pthread_cond_broadcast(&s.cv);
		pthread_mutex_unlock(&s.mu);
		pthread_join(tid, NULL);
	}
	err = error_wrap(err, "taking a snapshot of instance \"%s\"", in->name);
	if ((e2 = release(&s)) && !err)
		err = e2;
	else if (e2)
		report_warn("%s", e2->msg);
	report_progress_clear();
	if (err) {
		archwrite_abort(out);
		if (tmp)
			unlink(tmp);
	}
	for (size_t i = 0; i < QUEUE; i++)
		buf_free(&s.q[i]);
	buf_free(&s.cur);
	if (s.sfd >= 0)
		close(s.sfd);
	if (s.wfd >= 0)
		close(s.wfd);
	if (work)
		fs_remove_tree(work);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	engine_close(s.e2);
	json_decref(meta);
	free(dest);
	free(tmp);
	free(work);
	free(workdata);
	free(data);
	free(dbname);
	free(conf);
	return err;
}

void snapshot_result_free(struct snapshot_result *res)
{
	free(res->path);
	memset(res, 0, sizeof *res);
}
