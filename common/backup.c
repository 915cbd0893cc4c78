#include "backup.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "engine.h"
#include "fs.h"
#include "instances.h"
#include "instcfg.h"
#include "lock.h"
#include "mem.h"
#include "name.h"
#include "offsite.h"
#include "report.h"
#include "runtime.h"
#include "seal.h"
#include "snaplist.h"
#include "snapshot.h"

#define SUFFIX ".kcs"

const char *const backup_own_secrets[] = {"backup.key", "backup_ssh_key", "backup_known_hosts", "backup_s3", NULL};

/* A plain file name: [A-Za-z0-9._-], not starting with ".". */
static int plain(const char *s)
{
	return *s && *s != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(s);
}

const struct error *backup_check_file(const char *p)
{
	const char *rest;
	char inst[64];

	if (!strcmp(p, "cluster.ini") || !strcmp(p, BACKUP_MANIFEST) || !strcmp(p, "pool/size"))
		return NULL;
	if (!strncmp(p, "secrets/", 8) && plain(p + 8)) {
		for (size_t i = 0; backup_own_secrets[i]; i++)
			if (!strcmp(p + 8, backup_own_secrets[i]))
				return error_fmt("%s is the backup's own login or key, which a push never sends", p);
		return NULL;
	}
	if (!strncmp(p, "proxy/tls/", 10) && plain(p + 10))
		return NULL;
	if (!strncmp(p, "instances/", 10) && (rest = strchr(p + 10, '/')) && (size_t)(rest - p - 10) < sizeof inst) {
		memcpy(inst, p + 10, (size_t)(rest - p - 10));
		inst[rest - p - 10] = '\0';
		if (!name_check_instance(inst) && (!strcmp(rest, "/instance.ini") || !strcmp(rest, "/routes")))
			return NULL;
	}
	return error_fmt("\"%.100s\" is no file a configuration's backup holds (only plain names: letters, digits, "
			 "\"._-\")",
			 p);
}

/* The key, made on the first push (its phrase shown once). */
static const struct error *key(const struct cluster *cl, int make, struct seal_key *k)
{
	const struct error *err;
	char *path = cluster_path(cl, "secrets/backup.key"), phrase[SEAL_PHRASE_LEN];

	if (fs_exists(path) || !make) {
		err = seal_key_load(path, k);
	} else if (!(err = seal_key_create(path, k))) {
		seal_key_phrase(k, phrase);
		report_line("made the backup key %s; its recovery phrase, shown this once:\n\n    %s\n\n"
			    "Keep it away from this host (on paper, in a password manager): without it no backup can "
			    "be opened.",
			    path, phrase);
		explicit_bzero(phrase, sizeof phrase);
	}
	free(path);
	return err;
}

/* The start of each command: the local folder backup/ and its lock (one
 * backup command at a time), and the target opened (url, or cluster.ini's
 * when NULL). */
static const struct error *begin(const struct cluster *cl, const char *url, int *lock, struct offsite **o)
{
	const struct error *err;
	char *dir = cluster_path(cl, "backup");

	if (!(err = fs_mkdirs(dir, 0700)) && !(err = lock_take(dir, "the backups", lock)))
		err = offsite_open(cl, url, o);
	free(dir);
	return err;
}

/* Seal the file at from, as the object named object, into a new file at to. */
static const struct error *seal_file(const struct seal_key *k, const char *object, const char *from, const char *to)
{
	const struct error *err;
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;

	if (in < 0)
		return error_errno("opening \"%s\"", from);
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		err = error_errno("making \"%s\"", to);
	else
		err = seal_encrypt(k, object, seal_fd_read, &in, seal_fd_write, &out, NULL);
	close(in);
	if (out >= 0 && close(out) < 0 && !err)
		err = error_errno("writing \"%s\"", to);
	return err;
}

/* Seal the file at from and send it as object.  The sealed copy is
 * backup/.BASENAME (BASENAME: object's last part), made whole under a
 * temporary name first; when the send fails it stays, with the transfer's
 * state beside it, and the next send of the same object sends those same
 * bytes again from where the last one stopped (sealing anew would give
 * other bytes).  keep: 0 when object's name is used once (the
 * configuration's), so nothing of a failed send is kept. */
static const struct error *send_sealed(const struct cluster *cl, struct offsite *o, const struct seal_key *k,
				       const char *from, const char *object, int keep, int *resumed)
{
	const struct error *err = NULL;
	const char *base = strrchr(object, '/') ? strrchr(object, '/') + 1 : object;
	char *sealed = cluster_path(cl, "backup/.%s", base), *tmp = xasprintf("%s.tmp", sealed),
	     *state = xasprintf("%s.state", sealed);
	int fd;

	*resumed = keep && fs_exists(sealed);
	if (!*resumed) {
		unlink(state);
		if ((err = seal_file(k, object, from, tmp)) || (err = fs_sync_rename(tmp, sealed)))
			goto out;
	}
	if ((fd = open(sealed, O_RDONLY | O_CLOEXEC)) < 0) {
		err = error_errno("opening \"%s\"", sealed);
		goto out;
	}
	err = offsite_put(o, object, fd, keep ? state : NULL);
	close(fd);
out:
	unlink(tmp);
	if (!err || !keep) {
		unlink(sealed);
		unlink(state);
	}
	free(sealed);
	free(tmp);
	free(state);
	return err;
}

/* data as file rel of the tar. */
static const struct error *tar_data(struct archive *a, const char *rel, const void *data, size_t len, mode_t mode,
				    time_t mtime)
{
	const struct error *err = NULL;
	struct archive_entry *en = archive_entry_new();

	archive_entry_set_pathname(en, rel);
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_perm(en, mode & 0777);
	archive_entry_set_size(en, (la_int64_t)len);
	archive_entry_set_mtime(en, mtime, 0);
	if (archive_write_header(a, en) != ARCHIVE_OK || (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		err = error_fmt("writing \"%s\" into the cluster's backup: %s", rel, archive_error_string(a));
	archive_entry_free(en);
	return err;
}

/* One file of the cluster folder (path relative to it) into the tar. */
static const struct error *tar_add(struct archive *a, const struct cluster *cl, const char *rel)
{
	const struct error *err = NULL;
	char *path = cluster_path(cl, "%s", rel), *data = NULL;
	struct stat st;
	size_t len = 0;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(path);
		return NULL;
	}
	/* What restore-cluster would refuse is not sent: said, and the push
	 * goes on (the rest of the configuration is worth having). */
	if ((err = backup_check_file(rel)) || st.st_size > BACKUP_FILE_MAX) {
		report_warn("%s is not backed up: %s", path, err ? err->msg : "it is larger than 1 MiB");
		free(path);
		return NULL;
	}
	if (!(err = fs_read(path, &data, &len))) {
		err = tar_data(a, rel, data, len, st.st_mode, st.st_mtime);
		explicit_bzero(data, len);
	}
	free(data);
	free(path);
	return err;
}

/* What the files do not say: the instances served now (restore-cluster
 * serves them again). */
static const struct error *add_served(void *ctx, struct instance *in)
{
	if (runtime_served(in))
		json_array_append_new(ctx, json_string(in->name));
	return NULL;
}

static const struct error *tar_manifest(struct archive *a, const struct cluster *cl)
{
	const struct error *err;
	json_t *served = json_array(), *m;
	char *text = NULL;

	if ((err = instances_each(cl, add_served, served))) {
		json_decref(served);
		return err;
	}
	m = json_pack("{s:i, s:s, s:o}", "format", 1, "cluster", cl->name, "served", served);
	if (!m || !(text = json_dumps(m, JSON_INDENT(2))))
		report_out_of_memory();
	err = tar_data(a, BACKUP_MANIFEST, text, strlen(text), 0600, time(NULL));
	free(text);
	json_decref(m);
	return err;
}

/* The files of folder dir (relative) into the tar, but those skip names. */
static const struct error *tar_dir(struct archive *a, const struct cluster *cl, const char *dir,
				   const char *const *skip)
{
	const struct error *err = NULL;
	char *path = cluster_path(cl, "%s", dir);
	DIR *d = opendir(path);
	struct dirent *de;

	free(path);
	if (!d)
		return NULL;
	while (!err && (de = readdir(d))) {
		char *rel;
		int skipped = de->d_name[0] == '.';

		for (size_t i = 0; skip && skip[i] && !skipped; i++)
			skipped = strcmp(de->d_name, skip[i]) == 0;
		if (skipped)
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		err = tar_add(a, cl, rel);
		free(rel);
	}
	closedir(d);
	return err;
}

/* The cluster's configuration and secrets as a tar at path. */
static const struct error *cluster_tar(const struct cluster *cl, const char *path)
{
	const struct error *err;
	struct archive *a = archive_write_new();
	struct strv names = STRV_INIT;
	int fd;

	/* It holds every secret in the clear until sealed: mode 0600. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		err = error_errno("making \"%s\"", path);
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		err = error_fmt("writing \"%s\": %s", path, archive_error_string(a));
		goto out;
	}
	if ((err = tar_add(a, cl, "cluster.ini")) || (err = tar_dir(a, cl, "secrets", backup_own_secrets)) ||
	    (err = tar_dir(a, cl, "proxy/tls", NULL)) || (err = tar_add(a, cl, "pool/size")) ||
	    (err = tar_manifest(a, cl)) || (err = instances_scan(cl, &names, NULL)))
		goto out;
	for (size_t i = 0; i < names.n && !err; i++) {
		char *ini = xasprintf("instances/%s/instance.ini", names.v[i]),
		     *routes = xasprintf("instances/%s/routes", names.v[i]);

		if (!(err = tar_add(a, cl, ini)))
			err = tar_add(a, cl, routes);
		free(ini);
		free(routes);
	}
	if (!err && archive_write_close(a) != ARCHIVE_OK)
		err = error_fmt("writing \"%s\": %s", path, archive_error_string(a));
out:
	archive_write_free(a);
	if (fd >= 0 && close(fd) < 0 && !err)
		err = error_errno("writing \"%s\"", path);
	strv_free(&names);
	return err;
}

/* The newest snapshot of instance name younger than max_age seconds (its
 * file name; caller frees), or NULL. */
static char *recent(const struct cluster *cl, const char *name)
{
	json_t *all = NULL, *s;
	size_t i;
	char *found = NULL;
	time_t now = time(NULL);

	if (snaplist_list(cl, &all))
		return NULL;
	json_array_foreach(all, i, s) {
		struct stat st;
		const char *inst = json_string_value(json_object_get(s, "instance"));
		const char *path = json_string_value(json_object_get(s, "path"));

		if (inst && path && strcmp(inst, name) == 0 && stat(path, &st) == 0 &&
		    now - st.st_mtime <= cl->backup_max_age) {
			found = xstrdup(json_string_value(json_object_get(s, "file")));
			break;
		}
	}
	json_decref(all);
	return found;
}

/* A snapshot of instance name, taken now, online; *file: its name. */
static const struct error *take(const struct cluster *cl, const char *name, char **file)
{
	const struct error *err;
	struct instance in;
	struct engine *e = NULL;
	struct snapshot_result res = {0};
	char *dir = cluster_path(cl, "instances/%s", name), *path = NULL;
	int lock = -1;

	*file = NULL;
	if ((err = instance_open(&in, dir))) {
		free(dir);
		return err;
	}
	path = snaplist_default_path(&in, in.env, 0);
	if (!(err = lock_take(in.root, "the instance", &lock)) && !(err = engine_open(&e)) &&
	    !(err = snapshot_take(e, &in, in.env, path, 0, &res))) {
		*file = xstrdup(strrchr(path, '/') + 1);
		report_line("took a snapshot of \"%s\" in %.1f s (writes held %.2f s)", name, res.seconds, res.held);
	}
	snapshot_result_free(&res);
	lock_release(lock);
	engine_close(e);
	instance_free(&in);
	free(path);
	free(dir);
	return err;
}

/* The snapshot file's time, from its name (this host's local time, as
 * snaplist_default_path() writes it), or 0. */
static time_t snapshot_time(const char *file)
{
	char name[256], ts[256], version[256];
	struct tm tm = {0};
	const char *end;

	if (snaplist_parse_name(file, name, ts, version, sizeof name) < 0 || !(end = strptime(ts, "%Y%m%d_%H%M%S", &tm)) ||
	    *end)
		return 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* backup/sent.json: {INSTANCE: {snapshot, time}}, the newest snapshot of
 * each instance the target holds, as the last push (or restore-cluster)
 * left it. */
static json_t *sent_load(const struct cluster *cl)
{
	char *path = cluster_path(cl, "backup/sent.json");
	json_t *j = json_load_file(path, 0, NULL);

	free(path);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

const struct error *backup_note_sent(const struct cluster *cl, const char *instance, const char *file)
{
	const struct error *err;
	json_t *j = sent_load(cl);
	char *path = cluster_path(cl, "backup/sent.json"), *text, *dir = cluster_path(cl, "backup");

	err = fs_mkdirs(dir, 0700);
	free(dir);
	if (err) {
		free(path);
		json_decref(j);
		return err;
	}
	json_object_set_new(j, instance, json_pack("{s:s, s:I}", "snapshot", file, "time", (json_int_t)snapshot_time(file)));
	if (!(text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS)))
		report_out_of_memory();
	err = fs_write_atomic(path, text, strlen(text), 0644);
	free(text);
	free(path);
	json_decref(j);
	return err;
}

const struct error *backup_ages(const struct cluster *cl, json_t **out)
{
	json_t *j = sent_load(cl), *v;
	const char *name;
	time_t now = time(NULL);

	json_object_foreach(j, name, v) {
		json_int_t t = json_integer_value(json_object_get(v, "time"));

		json_object_set_new(v, "age", json_integer(t ? (json_int_t)now - t : -1));
	}
	*out = j;
	return NULL;
}

/* The snapshot files (their names) whose sealed copies a cut-off send of
 * instance name left in backup/, oldest first. */
static void leftovers(const struct cluster *cl, const char *name, struct strv *files)
{
	char *dir = cluster_path(cl, "backup"), *prefix = xasprintf(".%s.", name);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (!strncmp(de->d_name, prefix, strlen(prefix)) && n > strlen(prefix) + strlen(SUFFIX) &&
		    !strcmp(de->d_name + n - strlen(SUFFIX), SUFFIX))
			strv_pushf(files, "%.*s", (int)(n - 1 - strlen(SUFFIX)), de->d_name + 1);
	}
	if (d)
		closedir(d);
	strv_sort(files);
	free(dir);
	free(prefix);
}

/* Snapshot file of instance name to folder dir of the target, unless it
 * is there (there: dir's names); a sealed copy a cut-off send left is sent
 * on from where it stopped, or dropped when the object is there. */
static const struct error *send_one(const struct cluster *cl, struct offsite *o, const struct seal_key *k,
				    const char *name, const char *dir, const struct strv *there, const char *file)
{
	const struct error *err = NULL;
	char *object = xasprintf("%s/%s" SUFFIX, dir, file), *from = NULL, *sealed, *state;
	int resumed = 0;

	if (strv_has(there, strrchr(object, '/') + 1)) {
		report_line("%s: %s is on the target already", name, file);
		sealed = cluster_path(cl, "backup/.%s" SUFFIX, file);
		state = xasprintf("%s.state", sealed);
		unlink(sealed);
		unlink(state);
		free(sealed);
		free(state);
	} else {
		from = snaplist_path(cl, file);
		if (!(err = send_sealed(cl, o, k, from, object, 1, &resumed)))
			report_line("%s: sent %s (%s%.1f MiB)", name, file,
				    resumed ? "an interrupted send, taken up again: " : "",
				    (double)offsite_sent(o) / (1 << 20));
	}
	free(object);
	free(from);
	return err;
}

/* Instance name's snapshot to the target, unless it is there, after what
 * cut-off sends left; noted in sent.json when note (the target is
 * cluster.ini's, which status reports on). */
static const struct error *push_instance(const struct cluster *cl, struct offsite *o, const struct seal_key *k,
					 const char *name, int note)
{
	const struct error *err;
	struct strv there = STRV_INIT, left = STRV_INIT;
	char *file = recent(cl, name), *dir = xasprintf("%s/instances/%s", cl->name, name);

	leftovers(cl, name, &left);
	if ((err = offsite_list(o, dir, &there)))
		goto out;
	for (size_t i = 0; i < left.n && !err; i++)
		if (!file || strcmp(left.v[i], file))
			err = send_one(cl, o, k, name, dir, &there, left.v[i]);
	if (err || (!file && (err = take(cl, name, &file))) || (err = send_one(cl, o, k, name, dir, &there, file)))
		goto out;
	if (note)
		err = backup_note_sent(cl, name, file);
out:
	strv_free(&there);
	strv_free(&left);
	free(file);
	free(dir);
	return error_wrap(err, "backing up instance \"%s\"", name);
}

/* all narrowed to names, when names has any: the first of names that all
 * does not hold (all then unchanged), or NULL. */
static const char *narrow(struct strv *all, const struct strv *names)
{
	if (!names || !names->n)
		return NULL;
	for (size_t i = 0; i < names->n; i++)
		if (!strv_has(all, names->v[i]))
			return names->v[i];
	strv_free(all);
	for (size_t i = 0; i < names->n; i++)
		strv_push(all, names->v[i]);
	return NULL;
}

const struct error *backup_push(const struct cluster *cl, const char *to, const struct strv *names)
{
	const struct error *err;
	struct offsite *o = NULL;
	struct seal_key k;
	struct strv all = STRV_INIT;
	char *tar = NULL, *object = NULL, ts[32];
	const char *missing;
	int lock = -1, resumed;
	time_t now = time(NULL);
	struct tm tm;

	/* The target answers, as the server it should be, before a key is
	 * made. */
	if ((err = begin(cl, to, &lock, &o)) || (err = offsite_list(o, "", &all)) || (err = key(cl, 1, &k)))
		goto out;
	strv_free(&all);
	if ((err = instances_scan(cl, &all, NULL)))
		goto out;
	/* Instances named: each must be one, before anything is sent. */
	if ((missing = narrow(&all, names))) {
		err = error_fmt("no instance \"%s\"", missing);
		goto out;
	}
	/* The configuration first: without it no instance can come back. */
	strftime(ts, sizeof ts, "%Y%m%d_%H%M%S", gmtime_r(&now, &tm));
	tar = cluster_path(cl, "backup/.cluster.tar");
	object = xasprintf("%s/cluster/%s.tar" SUFFIX, cl->name, ts);
	if ((err = cluster_tar(cl, tar)) || (err = send_sealed(cl, o, &k, tar, object, 0, &resumed)))
		goto out;
	report_line("sent the configuration of cluster \"%s\" to %s", cl->name, offsite_where(o));
	for (size_t i = 0; i < all.n && !err; i++) {
		char *idir = cluster_path(cl, "instances/%s", all.v[i]);
		struct instance in;

		if (!(err = instance_open(&in, idir))) {
			int archived = in.archived != NULL;

			instance_free(&in);
			if (archived)
				report_line("%s: archived; its archive stays here (restore it to back it up)", all.v[i]);
			else
				err = push_instance(cl, o, &k, all.v[i],
						    !to || (cl->backup_target && !strcmp(to, cl->backup_target)));
		}
		free(idir);
	}
out:
	if (tar)
		unlink(tar);
	explicit_bzero(&k, sizeof k);
	offsite_close(o);
	lock_release(lock);
	strv_free(&all);
	free(tar);
	free(object);
	return error_wrap(err, "backing up cluster \"%s\"", cl->name);
}

/* The names of the sealed objects in folder dir of the target, sorted:
 * oldest first, as their names end in their time. */
static const struct error *objects_in(struct offsite *o, const char *dir, struct strv *objects)
{
	const struct error *err;
	struct strv names = STRV_INIT;

	if ((err = offsite_list(o, dir, &names)))
		return err;
	for (size_t i = 0; i < names.n; i++) {
		size_t n = strlen(names.v[i]);

		if (n > strlen(SUFFIX) && strcmp(names.v[i] + n - strlen(SUFFIX), SUFFIX) == 0)
			strv_push(objects, names.v[i]);
	}
	strv_free(&names);
	return NULL;
}

static void add_objects(json_t *list, struct offsite *o, const char *dir, const char *kind, const char *instance,
			const struct error **err)
{
	struct strv names = STRV_INIT;

	if (*err || (*err = objects_in(o, dir, &names)))
		return;
	for (size_t i = 0; i < names.n; i++)
		json_array_append_new(list, json_pack("{s:s+++, s:s, s:s?}", "object", dir, "/", "", names.v[i], "kind",
						      kind, "instance", instance));
	strv_free(&names);
}

static const struct error *list_all(const struct cluster *cl, struct offsite *o, json_t **out)
{
	const struct error *err = NULL;
	struct strv insts = STRV_INIT;
	char *cdir = xasprintf("%s/cluster", cl->name), *idir = xasprintf("%s/instances", cl->name);

	*out = json_array();
	add_objects(*out, o, cdir, "cluster", NULL, &err);
	if (!err)
		err = offsite_list(o, idir, &insts);
	for (size_t i = 0; i < insts.n && !err; i++) {
		char *d = xasprintf("%s/%s", idir, insts.v[i]);

		add_objects(*out, o, d, "snapshot", insts.v[i], &err);
		free(d);
	}
	strv_free(&insts);
	free(cdir);
	free(idir);
	if (err) {
		json_decref(*out);
		*out = NULL;
	}
	return err;
}

const struct error *backup_list(const struct cluster *cl, json_t **out)
{
	const struct error *err;
	struct offsite *o = NULL;

	*out = NULL;
	if (!(err = offsite_open(cl, NULL, &o)))
		err = list_all(cl, o, out);
	offsite_close(o);
	return error_wrap(err, "listing the backups of cluster \"%s\"", cl->name);
}

/* Fetch object into the file at tmp, then open it with k into to (NULL:
 * nowhere, only checked). */
static const struct error *fetch(struct offsite *o, const struct seal_key *k, const char *object, const char *tmp,
				 const char *to)
{
	const struct error *err;
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), out = -1;

	if (fd < 0)
		return error_errno("making \"%s\"", tmp);
	if (!(err = offsite_get(o, object, seal_fd_write, &fd))) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			err = error_errno("reading \"%s\"", tmp);
		else if ((out = open(to ? to : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			err = error_errno("making \"%s\"", to ? to : "/dev/null");
		else
			err = seal_decrypt(k, object, seal_fd_read, &fd, seal_fd_write, &out, NULL);
	}
	if (out >= 0 && close(out) < 0 && !err)
		err = error_errno("writing \"%s\"", to);
	close(fd);
	unlink(tmp);
	return err;
}

const struct error *backup_verify(const struct cluster *cl, int *ok, int *bad)
{
	const struct error *err;
	struct offsite *o = NULL;
	struct seal_key k;
	json_t *list = NULL, *v;
	char *tmp = cluster_path(cl, "backup/.verify" SUFFIX);
	size_t i;
	int lock = -1;

	*ok = *bad = 0;
	if ((err = begin(cl, NULL, &lock, &o)) || (err = key(cl, 0, &k)) || (err = list_all(cl, o, &list)))
		goto out;
	json_array_foreach(list, i, v) {
		const char *object = json_string_value(json_object_get(v, "object"));
		const struct error *e2 = fetch(o, &k, object, tmp, NULL);

		if (e2) {
			report_warn("%s: %s", object, e2->msg);
			(*bad)++;
		} else {
			(*ok)++;
		}
	}
out:
	explicit_bzero(&k, sizeof k);
	json_decref(list);
	offsite_close(o);
	lock_release(lock);
	free(tmp);
	return error_wrap(err, "verifying the backups of cluster \"%s\"", cl->name);
}

/* Object fetched and opened with k into the file to, made whole or not at
 * all (tmp holds the sealed bytes meanwhile). */
static const struct error *backup_fetch_file(struct offsite *o, const struct seal_key *k, const char *object,
					     const char *tmp, const char *to)
{
	const struct error *err;
	char *part = xasprintf("%s.part", to);

	if ((err = fetch(o, k, object, tmp, part)) || (err = fs_sync_rename(part, to)))
		unlink(part);
	free(part);
	return err;
}

/* Reading and writing a buf, for sealed objects held in memory. */
#define MEM_MAX ((size_t)64 << 20)

static const struct error *buf_write(void *ctx, const void *data, size_t len)
{
	struct buf *b = ctx;

	if (b->len + len > MEM_MAX)
		return error_fmt("it is larger than %zu MiB", MEM_MAX >> 20);
	buf_append(b, data, len);
	return NULL;
}

static const struct error *buf_read(void *ctx, void *out, size_t len, size_t *got)
{
	struct buf *b = ctx;

	*got = len < b->len ? len : b->len;
	if (*got) {
		memcpy(out, b->data, *got);
		buf_consume(b, *got);
	}
	return NULL;
}

const struct error *backup_fetch_mem(struct offsite *o, const struct seal_key *k, const char *object, struct buf *out)
{
	const struct error *err;
	struct buf sealed = BUF_INIT;

	if (!(err = offsite_get(o, object, buf_write, &sealed)))
		err = seal_decrypt(k, object, buf_read, &sealed, buf_write, out, NULL);
	buf_free(&sealed);
	return error_wrap(err, "fetching %s", object);
}

const struct error *backup_newest(struct offsite *o, const char *dir, char **object)
{
	const struct error *err;
	struct strv names = STRV_INIT;

	*object = NULL;
	if ((err = objects_in(o, dir, &names)))
		return err;
	if (names.n)
		*object = xasprintf("%s/%s", dir, names.v[names.n - 1]);
	strv_free(&names);
	return NULL;
}

const struct error *backup_fetch_newest_from(struct offsite *o, const struct seal_key *k, const struct cluster *cl,
					     const char *instance, const char *to, char **file)
{
	const struct error *err;
	char *dir = xasprintf("%s/instances/%s", cl->name, instance), *object = NULL, *tmp = xasprintf("%s" SUFFIX, to);

	*file = NULL;
	if ((err = backup_newest(o, dir, &object)))
		goto out;
	if (!object) {
		err = error_fmt("%s holds no snapshot of it", offsite_where(o));
		goto out;
	}
	*file = xstrndup(strrchr(object, '/') + 1, strlen(strrchr(object, '/') + 1) - strlen(SUFFIX));
	report_line("%s: fetching %s from %s", instance, *file, offsite_where(o));
	if (!(err = backup_fetch_file(o, k, object, tmp, to)))
		err = backup_note_sent(cl, instance, *file);
out:
	free(dir);
	free(object);
	free(tmp);
	return error_wrap(err, "fetching the newest off-site snapshot of \"%s\"", instance);
}

const struct error *backup_fetch_newest(const struct cluster *cl, const char *instance, const char *to, char **file)
{
	const struct error *err;
	struct offsite *o = NULL;
	struct seal_key k;
	int lock = -1;

	*file = NULL;
	if (!(err = begin(cl, NULL, &lock, &o)) && !(err = key(cl, 0, &k)))
		err = backup_fetch_newest_from(o, &k, cl, instance, to, file);
	explicit_bzero(&k, sizeof k);
	offsite_close(o);
	lock_release(lock);
	return err;
}

const struct error *backup_get(const struct cluster *cl, const char *file, char **path)
{
	const struct error *err;
	struct offsite *o = NULL;
	struct seal_key k;
	char name[256], ts[256], version[256], *tmp = NULL, *object = NULL;
	int lock = -1;

	*path = NULL;
	if (snaplist_parse_name(file, name, ts, version, sizeof name) < 0) {
		err = error_fmt("\"%s\" is not named as a snapshot (NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst)", file);
		goto out;
	}
	*path = snaplist_path(cl, file);
	if (fs_exists(*path)) {
		err = error_fmt("%s is here already", *path);
		goto out;
	}
	tmp = cluster_path(cl, "backup/.get" SUFFIX);
	object = xasprintf("%s/instances/%s/%s" SUFFIX, cl->name, name, file);
	if ((err = begin(cl, NULL, &lock, &o)) || (err = key(cl, 0, &k)))
		goto out;
	err = backup_fetch_file(o, &k, object, tmp, *path);
out:
	if (err) {
		free(*path);
		*path = NULL;
	}
	explicit_bzero(&k, sizeof k);
	offsite_close(o);
	lock_release(lock);
	free(tmp);
	free(object);
	return error_wrap(err, "fetching \"%s\" from the backups of cluster \"%s\"", file, cl->name);
}

/* Remove all but the newest keep objects of folder dir; *removed counts. */
static const struct error *prune_dir(struct offsite *o, const char *dir, int keep, int *removed)
{
	const struct error *err;
	struct strv objects = STRV_INIT;

	if ((err = objects_in(o, dir, &objects)))
		return err;
	for (size_t i = 0; i + (size_t)keep < objects.n && !err; i++) {
		char *object = xasprintf("%s/%s", dir, objects.v[i]);

		if (!(err = offsite_remove(o, object))) {
			report_line("removed %s", object);
			(*removed)++;
		}
		free(object);
	}
	strv_free(&objects);
	return err;
}

const struct error *backup_prune(const struct cluster *cl, int keep, const struct strv *names, int *removed)
{
	const struct error *err;
	struct offsite *o = NULL;
	struct strv insts = STRV_INIT;
	char *idir = xasprintf("%s/instances", cl->name), *cdir = xasprintf("%s/cluster", cl->name);
	const char *missing;
	int lock = -1;

	*removed = 0;
	if (keep < 1) {
		err = error_fmt("--keep must be 1 or more: the newest copy always stays");
		goto out;
	}
	if ((err = begin(cl, NULL, &lock, &o)) || (err = offsite_list(o, idir, &insts)))
		goto out;
	if ((missing = narrow(&insts, names))) {
		err = error_fmt("the target holds no snapshot of \"%s\"", missing);
		goto out;
	}
	if (!(names && names->n) && (err = prune_dir(o, cdir, keep, removed)))
		goto out;
	for (size_t i = 0; i < insts.n && !err; i++) {
		char *d = xasprintf("%s/%s", idir, insts.v[i]);

		err = prune_dir(o, d, keep, removed);
		free(d);
	}
out:
	offsite_close(o);
	lock_release(lock);
	strv_free(&insts);
	free(idir);
	free(cdir);
	return error_wrap(err, "pruning the backups of cluster \"%s\"", cl->name);
}

/* How often a push runs: every max_age (a day unless set), at least hourly. */
static void schedule_text(const struct cluster *cl, int systemd, char **unit, char **timer)
{
	int hours = cl->backup_max_age / 3600 < 1 ? 1 : cl->backup_max_age / 3600, daily = hours >= 24;
	char *push = cluster_path(cl, "cluster.sh"), *log = cluster_path(cl, "backup/push.log"),
	     *when = daily ? xstrdup("daily") : xasprintf("every %d h", hours),
	     *calendar = daily ? xstrdup("daily\nRandomizedDelaySec=1h") : xasprintf("*-*-* 00/%d:17:00", hours),
	     *cron = daily ? xstrdup("17 3 * * *") : xasprintf("17 */%d * * *", hours);

	*timer = NULL;
	if (systemd) {
		*unit = xasprintf("[Unit]\nDescription=korcluster: off-site backup of cluster %s\n"
				  "After=docker.service\n\n[Service]\nType=oneshot\nExecStart=%s backup push\n",
				  cl->name, push);
		*timer = xasprintf("[Unit]\nDescription=korcluster: off-site backup of cluster %s, %s\n\n"
				   "[Timer]\nOnCalendar=%s\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
				   cl->name, when, calendar);
	} else {
		*unit = xasprintf("# korcluster: off-site backup of cluster %s, %s\n%s root %s backup push >>%s 2>&1\n",
				  cl->name, when, cron, push, log);
	}
	free(push);
	free(log);
	free(when);
	free(calendar);
	free(cron);
}

const struct error *backup_schedule(const struct cluster *cl, int install, const char *systemd_dir,
				    const char *cron_dir, json_t **out)
{
	const struct error *err = NULL;
	int systemd = systemd_dir != NULL;
	char *unit = NULL, *timer = NULL, *upath = NULL, *tpath = NULL;

	*out = NULL;
	if (strspn(cl->root, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != strlen(cl->root))
		return error_fmt("the cluster's folder \"%s\" has characters a schedule would have to quote (only "
				 "letters, digits, \"/._-\" are written there as they are): run \"backup push\" "
				 "from a schedule of your own",
				 cl->root);
	if (!cl->backup_target)
		return error_fmt("no backup target: set [backup] target in cluster.ini first");
	/* The first push shows the key's recovery phrase: not in a log. */
	upath = cluster_path(cl, "secrets/backup.key");
	if (!fs_exists(upath))
		err = error_fmt("no backup key yet: run \"cluster.sh backup push\" once by hand first (it shows the "
				"key's recovery phrase, which a scheduled run would write to its log)");
	free(upath);
	upath = NULL;
	if (err)
		return err;
	schedule_text(cl, systemd, &unit, &timer);
	if (systemd) {
		upath = xasprintf("%s/korcluster-backup-%s.service", systemd_dir, cl->name);
		tpath = xasprintf("%s/korcluster-backup-%s.timer", systemd_dir, cl->name);
	} else {
		upath = xasprintf("%s/korcluster-backup-%s", cron_dir, cl->name);
	}
	if (install && (err = fs_write_atomic(upath, unit, strlen(unit), 0644)) == NULL && timer)
		err = fs_write_atomic(tpath, timer, strlen(timer), 0644);
	if (!err && !(*out = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:b}", "kind", systemd ? "systemd" : "cron", "file",
				       upath, "text", unit, "timer_file", tpath, "timer", timer, "installed", install)))
		report_out_of_memory();
	free(unit);
	free(timer);
	free(upath);
	free(tpath);
	return error_wrap(err, "writing the backup schedule of cluster \"%s\"", cl->name);
}
