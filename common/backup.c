#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "dbload.h"
#include "err.h"
#include "fs.h"
#include "http.h"
#include "name.h"
#include "progress.h"
#include "runtime.h"
#include "snapread.h"
#include "snapshot.h"
#include "strv.h"

/* ---- names ---- */

char *backup_default_path(const struct instance *in, const char *env, int gzip)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(ts, sizeof ts, "%Y%m%d_%H%M%S", localtime_r(&now, &tm));
	return cluster_path(&in->cl, "snapshots/%s.%s.%s.tar.%s", in->name, ts, instance_env_version(in, env),
			    gzip ? "gz" : "zst");
}

/* NAME.YYYYmmdd_HHMMSS.VERSION.tar.(zst|gz): the parts, or -1. */
static int parse_name(const char *file, char *name, char *ts, char *version, size_t n)
{
	const char *d1 = strchr(file, '.'), *d2, *ext;
	size_t len = strlen(file);

	if (len > 7 && strcmp(file + len - 7, ".tar.gz") == 0)
		ext = file + len - 7;
	else if (len > 8 && strcmp(file + len - 8, ".tar.zst") == 0)
		ext = file + len - 8;
	else
		return -1;
	if (!d1 || !(d2 = strchr(d1 + 1, '.')) || d2 >= ext || (size_t)(d1 - file) >= n ||
	    (size_t)(d2 - d1 - 1) != 15 || (size_t)(ext - d2 - 1) >= n || ext == d2 + 1)
		return -1;
	snprintf(name, n, "%.*s", (int)(d1 - file), file);
	snprintf(ts, n, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
	snprintf(version, n, "%.*s", (int)(ext - d2 - 1), d2 + 1);
	return ts[8] == '_' && strspn(ts, "0123456789_") == 15 ? 0 : -1;
}

/* ---- copies of the data folder: hard links (the snapshot's work tree) or
 * real copies (a new environment's files) ---- */

/* Copy in to out: a reflink where the file system can, else in the kernel,
 * else by read and write. */
static int copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (lseek(in, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t w = 0;

		n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno != EINTR)
				return -1;
			w += k > 0 ? k : 0;
		}
	}
}

static int copy_file(int sfd, int dfd, const char *n, const struct stat *st)
{
	int in = openat(sfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (in < 0)
		return errno == ENOENT ? 0 : -1; /* removed meanwhile */
	if ((out = openat(dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777)) >= 0 &&
	    copy_fd(in, out) == 0) {
		if (geteuid() == 0)
			fchown(out, st->st_uid, st->st_gid);
		fchmod(out, st->st_mode & 07777);
		futimens(out, ts);
		rc = 0;
	}
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Every entry of sfd into dfd: files hard-linked (copy 0; copied where
 * linking is not possible) or copied (copy 1); sfd is closed. */
static int copy_tree(int sfd, int dfd, const char *where, int copy)
{
	DIR *d = fdopendir(sfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(sfd);
		return err_errno("reading \"%s\"", where);
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		const char *n = de->d_name;

		if (http_interrupted()) {
			rc = err_set("interrupted");
			break;
		}
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = err_errno("reading \"%s/%s\"", where, n);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int s2, d2;

			if (mkdirat(dfd, n, st.st_mode & 07777) < 0) {
				rc = err_errno("making folder \"%s\"", n);
				break;
			}
			if (geteuid() == 0)
				fchownat(dfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
			if ((s2 = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = errno == ENOENT ? 0 : err_errno("opening \"%s/%s\"", where, n);
				continue;
			}
			if ((d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				close(s2);
				rc = err_errno("opening folder \"%s\"", n);
				break;
			}
			rc = copy_tree(s2, d2, n, copy);
			close(d2);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4097];
			ssize_t k = readlinkat(sfd, n, t, sizeof t - 1);

			if (k >= 0) {
				t[k] = '\0';
				if (symlinkat(t, dfd, n) < 0)
					rc = err_errno("making symlink \"%s\"", n);
			}
		} else if (S_ISREG(st.st_mode)) {
			if (!copy && (linkat(sfd, n, dfd, n, 0) == 0 || errno == ENOENT))
				continue;
			if (copy || errno == EXDEV || errno == EPERM || errno == EMLINK) {
				if (copy_file(sfd, dfd, n, &st) < 0)
					rc = err_errno("copying \"%s/%s\"", where, n);
			} else {
				rc = err_errno("linking \"%s/%s\"", where, n);
			}
		}
	}
	if (rc == 0 && errno)
		rc = err_errno("reading \"%s\"", where);
	closedir(d);
	return rc;
}

static int link_tree(int sfd, int dfd, const char *where)
{
	return copy_tree(sfd, dfd, where, 0);
}

/* ---- snapshot ---- */

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
	int done, failed, stop;
	char why[2048];       /* the thread's error */
};

/* Link the files once the dump's transaction has begun: files written
 * before it are in, so every row the dump holds finds its file. */
static int take_files(struct snap *s)
{
	int rc;

	if (s->linked)
		return 0;
	rc = link_tree(s->sfd, s->wfd, s->data);
	s->sfd = -1; /* closed by link_tree */
	pthread_mutex_lock(&s->mu);
	s->linked = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int release(struct snap *s)
{
	if (!s->held)
		return 0;
	s->held = 0;
	s->held_for = progress_now() - s->held_since;
	if (runtime_route(s->e2, s->in, s->in->env, 0) < 0)
		return err_wrap("letting writes through again");
	return 0;
}

/* Queue the filled piece, waiting while the queue is full. */
static int push_piece(struct snap *s)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	while (s->qn == QUEUE && !s->stop)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->stop) {
		rc = err_set("stopped");
	} else {
		s->q[(s->qhead + s->qn) % QUEUE] = s->cur;
		s->qn++;
		s->cur = (struct buf)BUF_INIT;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int snap_frame(void *ctx, int stream, const char *data, size_t len)
{
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
		if (k && (take_files(s) < 0 || release(s) < 0))
			return -1;
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
		size_t room = SNAPSHOT_CHUNK - s->cur.len, n = len < room ? len : room;

		if (buf_append(&s->cur, data, n) < 0)
			return -1;
		data += n;
		len -= n;
		if (s->cur.len == SNAPSHOT_CHUNK && push_piece(s) < 0)
			return -1;
	}
	return 0;
}

/* Hold writes while the transaction starts and the files are linked (an
 * inactive environment takes none): from the moment the dump starts. */
static int hold(void *ctx)
{
	struct snap *s = ctx;

	if (!s->hold)
		return 0;
	if (runtime_route(s->e2, s->in, s->in->env, 1) < 0)
		return -1;
	s->held = 1;
	s->held_since = progress_now();
	return 0;
}

static void *dump_thread(void *ctx)
{
	struct snap *s = ctx;
	int rc = runtime_dump(s->e, &s->in->cl, s->dbname, hold, snap_frame, s);

	/* A dump with no marker line: its transaction is over, take the
	 * files now.  The last piece goes even if empty (one at least). */
	if (rc == 0)
		rc = take_files(s) < 0 || release(s) < 0 || push_piece(s) < 0 ? -1 : 0;
	pthread_mutex_lock(&s->mu);
	if (rc < 0) {
		s->failed = 1;
		snprintf(s->why, sizeof s->why, "%s", err_msg());
	}
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Main thread: write the queued pieces; with wait, until the dump ends. */
static int drain(struct snap *s, int wait, struct snapshot_out *out)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->qn && rc == 0) {
			struct buf b = s->q[s->qhead];

			s->q[s->qhead] = (struct buf)BUF_INIT;
			s->qhead = (s->qhead + 1) % QUEUE;
			s->qn--;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			rc = snapshot_add_dump(out, b.data, b.len);
			buf_free(&b);
			pthread_mutex_lock(&s->mu);
		}
		if (rc < 0 || !wait || s->done)
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	if (rc == 0 && s->failed)
		rc = err_set("%s", s->why);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

struct hook {
	struct snap *s;
	struct snapshot_out *out;
};

static int between_files(void *ctx)
{
	struct hook *h = ctx;

	return drain(h->s, 0, h->out);
}

static char *public_config(const struct instance *in, const char *env)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "; instance.ini of the snapshot, without its secrets\n[instance]\nname = %s\nversion = %s\n"
		       "port = %d\nenv = %s\ntemplate = %s\ncluster = %s\n",
		   in->name, instance_env_version(in, env), in->port, env, in->cl.template_name, in->cl.name);
	return b.data;
}

static int sync_rename(const char *tmp, const char *path)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno("syncing \"%s\"", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return err_errno("renaming \"%s\" to \"%s\"", tmp, path);
	return 0;
}

int backup_snapshot(struct engine *e, struct instance *in, const char *env, const char *path, int gzip,
		    struct backup_result *res)
{
	struct snap s = {0};
	struct snapshot_out *out = NULL;
	struct hook hook = {&s, NULL};
	char *dest = path ? fs_absolute(path) : backup_default_path(in, env, gzip), *tmp = NULL, *work = NULL,
	     *workdata = NULL, *data = NULL, *dbname = NULL, *conf = NULL, created[32];
	double t0 = progress_now();
	time_t now = time(NULL);
	struct tm tm;
	json_t *meta = NULL;
	struct stat st;
	pthread_t tid;
	int rc = -1, running = 0;

	memset(res, 0, sizeof *res);
	s.in = in;
	s.e = e;
	s.sfd = s.wfd = -1;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if (!dest || !(tmp = fs_pathf("%s.tmp", dest)) ||
	    !(work = cluster_path(&in->cl, "snapshots/.work-%s-%d", in->name, (int)getpid())) ||
	    !(workdata = fs_pathf("%s/data", work)) || !(data = instance_data_dir(in, env)) ||
	    !(dbname = instance_db_name(in->name, env)) || !(conf = public_config(in, env)))
		goto out;
	if (fs_exists(dest)) {
		err_set("\"%s\" exists already", dest);
		goto out;
	}
	if (fs_mkdirs(data, 0755) < 0 || fs_remove_tree(work) < 0 || fs_mkdirs(workdata, 0700) < 0)
		goto out;
	if (engine_open(&s.e2) < 0 || snapshot_open(&out, tmp, gzip) < 0 ||
	    snapshot_add_bytes(out, "config/instance.ini", conf, strlen(conf)) < 0)
		goto out;
	hook.out = out;
	if ((s.sfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", data);
		goto out;
	}
	if ((s.wfd = open(workdata, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno("opening \"%s\"", workdata);
		goto out;
	}
	s.data = data;
	s.dbname = dbname;
	s.hold = strcmp(env, in->env) == 0 && runtime_served(in);
	if (pthread_create(&tid, NULL, dump_thread, &s) != 0) {
		err_set("cannot start a thread");
		goto out;
	}
	running = 1;
	/* The files, once linked, with the dump's pieces in between. */
	pthread_mutex_lock(&s.mu);
	while (!s.linked && !s.done)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	snapshot_set_hook(out, between_files, &hook);
	if (drain(&s, 0, out) < 0 || (s.linked && snapshot_add_tree(out, workdata, "data") < 0) ||
	    drain(&s, 1, out) < 0)
		goto out;
	pthread_join(tid, NULL);
	running = 0;
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	meta = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "format", SNAPSHOT_FORMAT, "format_version",
			 SNAPSHOT_FORMAT_VERSION, "tool", "korcluster " KC_VERSION, "template", in->cl.template_name,
			 "instance", in->name, "version", instance_env_version(in, env), "cluster", in->cl.name, "created",
			 created);
	res->raw = snapshot_bytes(out);
	rc = snapshot_close(out, meta);
	out = NULL;
	if (rc < 0)
		goto out;
	rc = -1;
	if (sync_rename(tmp, dest) < 0 || stat(dest, &st) < 0)
		goto out;
	res->path = dest;
	dest = NULL;
	res->bytes = (uint64_t)st.st_size;
	res->seconds = progress_now() - t0;
	res->held = s.held_for;
	rc = 0;
out:
	if (running) {
		/* Unblock and end the dump (it fails on a full queue). */
		pthread_mutex_lock(&s.mu);
		s.stop = 1;
		pthread_cond_broadcast(&s.cv);
		pthread_mutex_unlock(&s.mu);
		pthread_join(tid, NULL);
	}
	if (rc < 0)
		err_wrap("taking a snapshot of instance \"%s\"", in->name);
	if (s.held) {
		char why[2048];

		snprintf(why, sizeof why, "%s", err_msg());
		if (release(&s) < 0)
			fprintf(stderr, "korcluster: warning: %s\n", err_msg());
		err_set("%s", why);
	}
	progress_clear();
	if (rc < 0) {
		snapshot_abort(out);
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
	return rc;
}

void backup_result_free(struct backup_result *res)
{
	free(res->path);
	memset(res, 0, sizeof *res);
}

/* ---- loading a dump ---- */

static int load_data(void *ctx, const char *data, size_t len)
{
	return dbload_feed(ctx, data, len);
}

static int load_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	return dbload_feed(ctx, data, len);
}

/* The bounds of a load into dbname from a dump that makes about base
 * bytes: [limits] of the cluster, the size checked on the database's
 * folder when the service's data is on this host.  *dir is the caller's
 * to free. */
static void load_limits(const struct cluster *cl, const char *dbname, uint64_t base, char **dir,
			struct dbload_limits *lim)
{
	unsigned g = cl->limits.load_growth;

	memset(lim, 0, sizeof *lim);
	lim->timeout = cl->limits.load_timeout;
	*dir = g ? runtime_db_dir(cl, dbname) : NULL;
	lim->dir = *dir;
	if (*dir)
		lim->max_bytes = base > (UINT64_MAX - SNAPREAD_FLOOR) / g ? UINT64_MAX : base * g + SNAPREAD_FLOOR;
}

/* Remove snapshots/ENTRY when it belongs to instance in and was left by a
 * killed command: its work trees, partial archives, dump folders (and
 * their containers). */
static int clean_entry(struct engine *e, struct instance *in, const char *entry, int *did)
{
	size_t n = strlen(in->name), len = strlen(entry);
	char *path = NULL, *container = NULL;
	const char *rnd;
	int rc = 0;

	if (strncmp(entry, ".work-", 6) == 0 && strncmp(entry + 6, in->name, n) == 0 && entry[6 + n] == '-') {
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	} else if (strncmp(entry, in->name, n) == 0 && entry[n] == '.' && len > 4 && strcmp(entry + len - 4, ".tmp") == 0) {
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	} else if (strncmp(entry, ".dump-", 6) == 0 && strncmp(entry + 6, in->name, n) == 0 && entry[6 + n] == '_' &&
		   (rnd = strrchr(entry, '-')) && rnd > entry + 6 &&
		   ((rnd - entry == 6 + (long)n + 5 && strncmp(entry + 6 + n, "_blue", 5) == 0) ||
		    (rnd - entry == 6 + (long)n + 6 && strncmp(entry + 6 + n, "_green", 6) == 0))) {
		/* Exactly NAME_blue or NAME_green: instance "a" leaves "a_b"'s alone. */
		/* .dump-DBNAME-RND and its container CLUSTER_dump_DBNAME_RND */
		json_t *info = NULL;

		if (!(container = fs_pathf("%s_dump_%.*s_%s", in->cl.name, (int)(rnd - entry - 6), entry + 6, rnd + 1)))
			return -1;
		if (engine_container_inspect(e, container, &info) < 0) {
			free(container);
			return -1;
		}
		if (info) {
			engine_container_stop(e, container, 1);
			rc = engine_container_remove(e, container);
		}
		json_decref(info);
		path = cluster_path(&in->cl, "snapshots/%s", entry);
	} else {
		return 0;
	}
	if (rc == 0 && path) {
		rc = fs_remove_tree(path) < 0 || (fs_exists(path) && unlink(path) < 0) ? -1 : 0;
		*did = 1;
	}
	free(path);
	free(container);
	return rc;
}

/* name as a GRANT stores it, escaped, in a string literal: a_b -> a\\\\_b. */
static void like_literal(const char *name, char *out, size_t n)
{
	size_t k = 0;

	for (; *name && k + 4 < n; name++) {
		if (*name == '_' || *name == '%') {
			out[k++] = '\\';
			out[k++] = '\\';
		}
		out[k++] = *name;
	}
	out[k] = '\0';
}

int backup_cleanup(struct engine *e, struct instance *in, int loads, int *did)
{
	char *staging[2] = {fs_pathf("%s/data/blue.import", in->root), fs_pathf("%s/data/green.import", in->root)};
	char *blue = instance_db_name(in->name, "blue"), *green = instance_db_name(in->name, "green");
	char *snaps = cluster_path(&in->cl, "snapshots"), *conf = NULL, sql[512], users[4096];
	char *confpath = cluster_path(&in->cl, "proxy/conf.d/%s.conf", in->name);
	struct db *root = NULL;
	DIR *d = NULL;
	struct dirent *de;
	size_t clen;
	int rc = -1;

	*did = 0;
	if (!staging[0] || !staging[1] || !blue || !green || !snaps || !confpath)
		goto out;
	if ((d = opendir(snaps))) {
		while ((de = readdir(d)))
			if (clean_entry(e, in, de->d_name, did) < 0)
				goto out;
	}
	for (int i = 0; i < 2; i++) {
		if (fs_exists(staging[i]))
			loads = *did = 1;
		if (fs_remove_tree(staging[i]) < 0)
			goto out;
	}
	/* Writes held by a command that is gone; after any killed command the
	 * proxy may not have loaded its file yet: it is applied again. */
	if (fs_exists(confpath) && fs_read(confpath, &conf, &clen) == 0 && (strstr(conf, "Retry-After") || *did)) {
		if (runtime_route(e, in, in->env, 0) < 0)
			goto out;
		if (strstr(conf, "Retry-After"))
			printf("korcluster: writes to \"%s\" were held by an interrupted command; they go through again\n",
			       in->name);
		*did = 1;
	}
	/* Loading users of this instance's databases left by a killed load. */
	if (loads) {
		char pb[160], pg[160];

		/* Granted as patterns ("a\\_b\\_blue"), or as names before they were. */
		like_literal(blue, pb, sizeof pb);
		like_literal(green, pg, sizeof pg);
		snprintf(sql, sizeof sql,
			 "SELECT IFNULL(GROUP_CONCAT(DISTINCT User), '') FROM mysql.db WHERE Db IN ('%s', '%s', '%s', '%s') "
			 "AND User LIKE 'kcload\\_%%'",
			 blue, green, pb, pg);
		if (runtime_db_connect(e, &in->cl, &root) < 0 || db_query_value(root, sql, users, sizeof users) < 0)
			goto out;
		for (char *u = strtok(users, ","); u; u = strtok(NULL, ",")) {
			if (strncmp(u, "kcload_", 7) != 0 ||
			    strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(u))
				continue;
			snprintf(sql, sizeof sql, "DROP USER IF EXISTS '%s'@'%%'", u);
			if (db_exec(root, sql) < 0)
				goto out;
			*did = 1;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		err_wrap("removing what an interrupted command left");
	if (d)
		closedir(d);
	db_close(root);
	free(conf);
	free(confpath);
	free(snaps);
	free(staging[0]);
	free(staging[1]);
	free(blue);
	free(green);
	return rc;
}

int backup_copy_env(struct engine *e, struct instance *in, const char *from, const char *to)
{
	struct db_server srv = {0};
	struct dbload *l = NULL;
	struct dbload_limits lim;
	char *src = instance_db_name(in->name, from), *dst = instance_db_name(in->name, to);
	char *sdir = instance_data_dir(in, from), *ddir = instance_data_dir(in, to), *srcdb = NULL, *dbdir = NULL;
	double t0 = progress_now();
	int sfd = -1, dfd = -1, rc = -1;

	if (!src || !dst || !sdir || !ddir)
		goto out;
	/* The database: one consistent transaction, streamed into the copy,
	 * which may grow to load_growth times the source's size. */
	srcdb = runtime_db_dir(&in->cl, src);
	load_limits(&in->cl, dst, srcdb ? dbload_dir_bytes(srcdb) : 0, &dbdir, &lim);
	if (runtime_db_server(e, &in->cl, &srv) < 0 || dbload_open(&l, &srv, dst, &lim) < 0)
		goto out;
	if (runtime_dump(e, &in->cl, src, NULL, load_frame, l) < 0 || dbload_finish(l) < 0)
		goto out;
	printf("copied database %s to %s (%zu statements) in %.1f s\n", src, dst, dbload_statements(l),
	       progress_now() - t0);
	fflush(stdout);
	/* The files: real copies (reflinks where the file system has them), so
	 * that whatever the new environment does to them, these stay. */
	t0 = progress_now();
	if (fs_remove_tree(ddir) < 0 || fs_mkdirs(sdir, 0755) < 0 || fs_mkdirs(ddir, 0755) < 0)
		goto out;
	if ((sfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dfd = open(ddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno("opening the data folders");
		goto out;
	}
	rc = copy_tree(sfd, dfd, sdir, 1);
	sfd = -1;
	if (rc == 0) {
		printf("copied files of %s to %s in %.1f s\n", from, to, progress_now() - t0);
		fflush(stdout);
	}
out:
	if (rc < 0)
		err_wrap("copying environment %s to %s", from, to);
	dbload_close(l);
	db_server_free(&srv);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	free(src);
	free(dst);
	free(sdir);
	free(ddir);
	free(srcdb);
	free(dbdir);
	return rc;
}

/* Free bytes on the file system of path. */
static uint64_t free_space(const char *path)
{
	struct statvfs v;

	if (statvfs(path, &v) < 0)
		return UINT64_MAX;
	return (uint64_t)v.f_bavail * v.f_frsize;
}

/* The app version a KorCluster archive is of: version.txt, else the file
 * name's VERSION part. */
static int legacy_version(const char *path, struct snapread_info *info)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char name[128], ts[128], version[128];

	if (info->version)
		return 0;
	if (parse_name(base, name, ts, version, sizeof name) < 0)
		return err_set("the KorCluster snapshot has no version.txt and its name is not NAME.TIMESTAMP.VERSION.tar.gz");
	return (info->version = strdup(version)) ? 0 : err_set("out of memory");
}

/* The longest statement the cluster's server takes. */
static int server_statement_max(const struct db_server *srv, size_t *out)
{
	struct db *root = NULL;
	int rc = db_server_root(srv, 30, &root) < 0 || db_max_statement(root, out) < 0 ? -1 : 0;

	db_close(root);
	return rc;
}

int backup_import(struct engine *e, struct instance *in, const char *path)
{
	struct snapread *r = NULL;
	struct snapread_info info = {0};
	struct snapread_limits lim = {0};
	struct dbload_limits dl;
	struct db_server srv = {0};
	struct dbload *l = NULL;
	const char *target = instance_other_env(in->env), *active = instance_other_env(target);
	char *dbname = instance_db_name(in->name, target), *staging = NULL, *final = NULL, *extra = NULL;
	char *now = NULL, *dbdir = NULL;
	int rc = -1, served = runtime_served(in), started = 0, older;
	double t0 = progress_now(), took;

	if (!dbname || !(staging = fs_pathf("%s/data/%s.import", in->root, target)) ||
	    !(final = instance_data_dir(in, target)) || !(extra = fs_pathf("%s/imported", in->root)))
		goto out;
	/* 1. The whole archive, before anything changes; the same open file
	 * is restored from. */
	printf("checking %s\n", path);
	fflush(stdout);
	if (snapread_open(&r, path) < 0 || runtime_db_server(e, &in->cl, &srv) < 0 ||
	    server_statement_max(&srv, &lim.max_statement) < 0)
		goto out;
	lim.space = free_space(in->root);
	lim.unpack_max = in->cl.limits.unpack_max;
	lim.ratio = in->cl.limits.unpack_ratio;
	lim.target_db = dbname;
	if (snapread_verify(r, &lim, &info) < 0)
		goto out;
	if (info.legacy && legacy_version(path, &info) < 0)
		goto out;
	if (!info.legacy && name_check_template(info.template) < 0) {
		err_set("the snapshot names no valid template");
		goto out;
	}
	if (!info.legacy && strcmp(info.template, in->cl.template_name) != 0) {
		err_set("the snapshot is of template \"%s\", this instance runs \"%s\"", info.template,
			in->cl.template_name);
		goto out;
	}
	if (instance_check_version(info.version) < 0)
		goto out;
	older = strverscmp(info.version, in->version);
	if (older > 0) {
		err_set("the snapshot is of version %s, newer than the instance's %s: upgrade the instance first",
			info.version, in->version);
		goto out;
	}
	printf("archive ok: %s of %s, %zu files (%.1f MiB), dump %.1f MiB\n", info.legacy ? "KorCluster snapshot" : "snapshot",
	       info.version, info.files, (double)info.data_bytes / (1 << 20),
	       (double)info.dump_bytes / (1 << 20));
	/* 2. Restore into the inactive environment.  The active one serves
	 * reads and writes meanwhile: a hostile dump cannot hold them for as
	 * long as its load takes (which is bounded, [limits]). */
	in->env_version[instance_env_index(target)] = in->version;
	if (runtime_stop(e, in, target) < 0)
		goto out;
	load_limits(&in->cl, dbname, info.dump_bytes, &dbdir, &dl);
	dl.max_statement = lim.max_statement;
	if (dbload_open(&l, &srv, dbname, &dl) < 0)
		goto out;
	if (fs_remove_tree(staging) < 0 || fs_mkdirs(staging, 0755) < 0 ||
	    (info.legacy && (fs_remove_tree(extra) < 0 || fs_mkdirs(extra, 0750) < 0)))
		goto out;
	{
		struct snapread_sink sink = {load_data, l, staging, info.legacy ? extra : NULL};

		printf("restoring into environment %s\n", target);
		fflush(stdout);
		if (snapread_restore(r, &info, &sink) < 0 || dbload_finish(l) < 0)
			goto out;
	}
	printf("restored %zu files and %zu statements in %.1f s\n", info.files, dbload_statements(l),
	       progress_now() - t0);
	fflush(stdout);
	dbload_close(l);
	l = NULL;
	if (fs_remove_tree(final) < 0 || rename(staging, final) < 0) {
		err_errno("moving the restored files to \"%s\"", final);
		goto out;
	}
	/* 3. An older snapshot is migrated to the instance's version. */
	if (older < 0 && in->cl.tpl.migrate) {
		printf("migrating from %s to %s\n", info.version, in->version);
		fflush(stdout);
		if (runtime_task(e, in, target, "migrate", in->cl.tpl.migrate, "") < 0)
			goto out;
	}
	/* 4. Switch: start, wait until healthy, route, then stop the old one. */
	if (served) {
		started = 1;
		if (runtime_promote(e, in, target, &took) < 0)
			goto out;
		printf("environment %s is healthy (%.1f s) and serving\n", target, took);
		fflush(stdout);
	}
	if (!(now = instance_now()))
		goto out;
	in->env_version[instance_env_index(target)] = in->version;
	in->env_created[instance_env_index(target)] = now;
	if (instance_save(in, target) < 0)
		goto out;
	started = 0;
	if (served && runtime_stop(e, in, active) < 0)
		fprintf(stderr, "korcluster: warning: stopping the old environment %s: %s\n", active, err_msg());
	printf("imported %s into instance \"%s\" in %.1f s: environment %s is active%s; %s keeps the state before\n",
	       path, in->name, progress_now() - t0, target, served ? " and serving" : "", active);
	if (info.legacy && fs_nonempty_dir(extra) > 0)
		printf("KorCluster's configuration files are in %s\n", extra);
	rc = 0;
out:
	progress_clear();
	if (rc < 0) {
		char why[2048];

		err_wrap("importing \"%s\" into instance \"%s\"", path, in->name);
		snprintf(why, sizeof why, "%s", err_msg());
		/* The active environment serves as before. */
		if (started)
			runtime_stop(e, in, target);
		if (staging)
			fs_remove_tree(staging);
		err_set("%s", why);
	}
	dbload_close(l);
	db_server_free(&srv);
	snapread_info_free(&info);
	snapread_close(r);
	free(dbname);
	free(staging);
	free(final);
	free(extra);
	free(now);
	free(dbdir);
	return rc;
}

/* ---- listing and retention ---- */

static int newest_first(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(y, "created")), json_string_value(json_object_get(x, "created")));

	return c ? c : strcmp(json_string_value(json_object_get(x, "file")), json_string_value(json_object_get(y, "file")));
}

json_t *backup_list(const struct cluster *cl)
{
	char *dir = cluster_path(cl, "snapshots");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	json_t **v = NULL, *out = json_array();
	size_t n = 0;

	if (!d) {
		if (dir && errno == ENOENT) {
			free(dir);
			return out;
		}
		err_errno("reading \"%s\"", dir ? dir : "snapshots");
		free(dir);
		json_decref(out);
		return NULL;
	}
	while ((de = readdir(d))) {
		char name[256], ts[256], version[256], created[32];
		struct stat st;
		char *p;
		json_t **nv;

		if (de->d_name[0] == '.' || parse_name(de->d_name, name, ts, version, sizeof name) < 0)
			continue;
		if (!(p = fs_pathf("%s/%s", dir, de->d_name)) || stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		snprintf(created, sizeof created, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", ts, ts + 4, ts + 6, ts + 9, ts + 11,
			 ts + 13);
		if (!(nv = realloc(v, (n + 1) * sizeof *v))) {
			free(p);
			break;
		}
		v = nv;
		v[n++] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "file", de->d_name, "path", p, "instance", name,
				   "version", version, "created", created, "size", (json_int_t)st.st_size);
		free(p);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, newest_first);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	free(dir);
	return out;
}

int backup_prune(const struct cluster *cl, const char *instance, int keep, int *removed)
{
	json_t *all = backup_list(cl), *s, *kept = json_object();
	size_t i;
	int rc = 0;

	*removed = 0;
	if (!all) {
		json_decref(kept);
		return -1;
	}
	json_array_foreach(all, i, s) {
		const char *name = json_string_value(json_object_get(s, "instance"));
		json_int_t k = json_integer_value(json_object_get(kept, name));

		if (instance && strcmp(name, instance) != 0)
			continue;
		if (k < keep) {
			json_object_set_new(kept, name, json_integer(k + 1));
			continue;
		}
		if (unlink(json_string_value(json_object_get(s, "path"))) < 0) {
			rc = err_errno("removing \"%s\"", json_string_value(json_object_get(s, "path")));
			break;
		}
		printf("removed %s\n", json_string_value(json_object_get(s, "file")));
		(*removed)++;
	}
	json_decref(kept);
	json_decref(all);
	return rc;
}
