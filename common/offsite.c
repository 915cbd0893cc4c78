#include "offsite.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "xfer.h"
#include "mem.h"
#include "name.h"
#include "s3.h"

struct offsite {
	struct s3 *s3;   /* an s3 target's, else NULL: an SFTP one */
	char *base;      /* sftp://USER@HOST[:PORT]/PATH, no trailing / */
	char *path;      /* /PATH, as the server names it (quote commands) */
	char *where;     /* sftp://HOST[:PORT]/PATH, or the s3 URL */
	char *key, *known_hosts;
	uint64_t rate;   /* [backup] rate_limit */
	uint64_t sent;   /* by the last put */
	CURL *c;         /* reused: one SSH connection serves every operation */
};

/* The file at path, which holds a login: there, and of mode 0600. */
static const struct error *private_file(const char *path, const char *what)
{
	if (!fs_exists(path))
		return error_fmt("%s is not there: put it in %s (mode 0600)", what, path);
	return fs_private(path);
}

/* An s3:// or s3+http:// target (s3.h). */
static const struct error *open_s3(const struct cluster *cl, const char *url, struct offsite *o)
{
	const struct error *err;
	char *login = cluster_path(cl, "secrets/backup_s3");

	o->where = xstrdup(url);
	if (!(err = name_check_target(url)) &&
	    !(err = private_file(login, "the login to the backup target (access_key, secret_key, region)")))
		err = s3_open(url, login, cl->backup_rate_limit, &o->s3);
	free(login);
	return err;
}

const struct error *offsite_open(const struct cluster *cl, const char *url, struct offsite **out)
{
	const struct error *err;
	struct offsite *o;
	const char *slash, *at;
	size_t n;

	*out = NULL;
	if (!url)
		url = cl->backup_target;
	if (!url)
		return error_fmt("no backup target: set [backup] target in cluster.ini");
	o = xcalloc(1, sizeof *o);
	o->rate = cl->backup_rate_limit;
	if (strncmp(url, "s3://", 5) == 0 || strncmp(url, "s3+http://", 10) == 0) {
		err = open_s3(cl, url, o);
		goto out;
	}
	if ((err = name_check_target(url)))
		goto out;
	o->base = xstrdup(url);
	n = strlen(o->base);
	while (n > 8 && o->base[n - 1] == '/')
		o->base[--n] = '\0';
	at = strchr(o->base + 7, '@');
	slash = strchr(o->base + 7, '/');
	o->path = xstrdup(slash ? slash : "/");
	o->where = xasprintf("sftp://%s", at + 1);
	o->key = cluster_path(cl, "secrets/backup_ssh_key");
	o->known_hosts = cluster_path(cl, "secrets/backup_known_hosts");
	if (!(err = private_file(o->key, "the key to log in to the backup target")) && !fs_exists(o->known_hosts))
		err = error_fmt("the backup target's host key is not known: put it in %s (ssh-keyscan -p PORT HOST)",
				o->known_hosts);
out:
	if (err) {
		offsite_close(o);
		return err;
	}
	*out = o;
	return NULL;
}

void offsite_close(struct offsite *o)
{
	if (!o)
		return;
	s3_close(o->s3);
	if (o->c)
		curl_easy_cleanup(o->c);
	free(o->base);
	free(o->path);
	free(o->where);
	free(o->key);
	free(o->known_hosts);
	free(o);
}

const char *offsite_where(const struct offsite *o)
{
	return o->where;
}

uint64_t offsite_sent(const struct offsite *o)
{
	return o->sent;
}

/* Only the host keys known_hosts has. */
static int host_key(CURL *c, const struct curl_khkey *known, const struct curl_khkey *found, enum curl_khmatch match,
		    void *ctx)
{
	(void)c;
	(void)known;
	(void)found;
	(void)ctx;
	return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

/* The target's handle (o's), set for url with the login and the checks.
 * It is reset, not made anew, for each operation, so that the connection
 * it holds is used again: one SSH handshake for all of a command's. */
static CURL *handle(struct offsite *o, const char *url, char *errbuf)
{
	CURL *c;

	if (o->c)
		curl_easy_reset(o->c);
	else if (!(o->c = curl_easy_init()))
		return NULL;
	c = o->c;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "sftp");
	curl_easy_setopt(c, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
	curl_easy_setopt(c, CURLOPT_SSH_PRIVATE_KEYFILE, o->key);
	curl_easy_setopt(c, CURLOPT_SSH_PUBLIC_KEYFILE, "");
	curl_easy_setopt(c, CURLOPT_SSH_KNOWNHOSTS, o->known_hosts);
	curl_easy_setopt(c, CURLOPT_SSH_KEYFUNCTION, host_key);
	xfer_setup(c, o->rate);
	/* As many SFTP reads in flight as the buffer holds (curl's default
	 * 16 KiB waits on the server every 16 KiB). */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L << 10);
	return c;
}

static const struct error *failed(CURLcode rc, const char *errbuf, const char *what, const char *where)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return error_interrupted();
	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return error_fmt("%s %s: the server's host key is not the one in secrets/backup_known_hosts", what, where);
	if (rc == CURLE_LOGIN_DENIED)
		return error_fmt("%s %s: the server refuses the login with secrets/backup_ssh_key", what, where);
	return error_fmt("%s %s: %s", what, where, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

struct reading {
	int fd;
	const struct error *err;
	/* The state to write once the server has opened the .part anew (not
	 * before: a .part of other bytes would then be taken up), or NULL. */
	const char *state, *text;
};

static size_t read_fd(char *buf, size_t size, size_t n, void *ctx)
{
	struct reading *r = ctx;
	ssize_t got;

	if (r->state) {
		if ((r->err = fs_write_atomic(r->state, r->text, strlen(r->text), 0600)))
			return CURL_READFUNC_ABORT;
		r->state = NULL;
	}
	do
		got = read(r->fd, buf, size * n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->err = error_errno("reading the file to send");
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* Where a resumed upload starts: libcurl seeks the file to the size the
 * .part has on the server. */
static int seek_fd(void *ctx, curl_off_t offset, int origin)
{
	struct reading *r = ctx;

	return lseek(r->fd, (off_t)offset, origin) < 0 ? CURL_SEEKFUNC_CANTSEEK : CURL_SEEKFUNC_OK;
}

/* SFTP: PATH.part, renamed to PATH once whole.  state holds the size the
 * .part is sent for: found again, the .part is taken up where it ends. */
static const struct error *put_sftp(struct offsite *o, const char *path, int fd, const char *state)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s/%s.part", o->base, path);
	char *rm = xasprintf("*rm \"%s/%s\"", o->path, path);
	char *mv = xasprintf("rename \"%s/%s.part\" \"%s/%s\"", o->path, path, o->path, path);
	struct curl_slist *post = curl_slist_append(curl_slist_append(NULL, rm), mv);
	struct reading r = {fd, NULL, NULL, NULL};
	struct stat st;
	char *had = NULL, *size = NULL;
	curl_off_t up = 0;
	int resume = 0;
	CURL *c;
	CURLcode rc;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		err = error_errno("reading the file to send");
		goto out;
	}
	if (state) {
		size = xasprintf("size %lld\n", (long long)st.st_size);
		resume = !fs_read(state, &had, NULL) && strcmp(had, size) == 0;
		if (!resume) {
			unlink(state);
			r.state = state;
			r.text = size;
		}
	}
	if (!(c = handle(o, url, errbuf))) {
		err = error_fmt("libcurl cannot start");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	/* libssh2 keeps as many SFTP writes in flight as one buffer holds:
	 * curl's default of 64 KiB waits on the server every 64 KiB. */
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_fd);
	curl_easy_setopt(c, CURLOPT_READDATA, &r);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(c, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
	curl_easy_setopt(c, CURLOPT_POSTQUOTE, post);
	if (resume) {
		/* -1: from the .part's size on the server (0 when it is not
		 * there), the file seeked to it. */
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)-1);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_fd);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &r);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = r.err ? r.err : failed(rc, errbuf, "sending", path);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	o->sent = up > 0 ? (uint64_t)up : 0;
	if (!err && state && unlink(state) < 0 && errno != ENOENT)
		err = error_errno("removing \"%s\"", state);
out:
	curl_slist_free_all(post);
	free(url);
	free(rm);
	free(mv);
	free(had);
	free(size);
	return err;
}

const struct error *offsite_put(struct offsite *o, const char *path, int fd, const char *state)
{
	o->sent = 0;
	return o->s3 ? s3_put(o->s3, path, fd, state, &o->sent) : put_sftp(o, path, fd, state);
}

struct writing {
	seal_write_fn wr;
	void *ctx;
	const struct error *err;
};

static size_t write_to(char *data, size_t size, size_t n, void *ctx)
{
	struct writing *w = ctx;

	if ((w->err = w->wr(w->ctx, data, size * n)))
		return 0;
	return size * n;
}

const struct error *offsite_get(struct offsite *o, const char *path, seal_write_fn wr, void *ctx)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url;
	struct writing w = {wr, ctx, NULL};
	CURL *c;
	CURLcode rc;

	if (o->s3)
		return s3_get(o->s3, path, wr, ctx);
	url = xasprintf("%s/%s", o->base, path);
	if (!(c = handle(o, url, errbuf))) {
		free(url);
		return error_fmt("libcurl cannot start");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = w.err ? w.err
			    : rc == CURLE_REMOTE_FILE_NOT_FOUND ? error_fmt("%s is not on the backup target", path)
								: failed(rc, errbuf, "fetching", path);
	free(url);
	return err;
}

static const struct error *to_buf(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
	return NULL;
}

const struct error *offsite_list(struct offsite *o, const char *dir, struct strv *names)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url;
	struct buf b = BUF_INIT;
	struct writing w = {to_buf, &b, NULL};
	CURL *c;
	CURLcode rc;

	if (o->s3)
		return s3_list(o->s3, dir, names);
	url = xasprintf("%s/%s%s", o->base, dir, *dir ? "/" : "");
	if (!(c = handle(o, url, errbuf))) {
		free(url);
		return error_fmt("libcurl cannot start");
	}
	curl_easy_setopt(c, CURLOPT_DIRLISTONLY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK && rc != CURLE_REMOTE_FILE_NOT_FOUND)
		err = failed(rc, errbuf, "listing", *dir ? dir : o->where);
	if (!err && rc == CURLE_OK) {
		for (char *line = (char *)buf_str(&b), *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			line[strcspn(line, "\r")] = '\0';
			if (*line && strcmp(line, ".") && strcmp(line, ".."))
				strv_push(names, line);
		}
		strv_sort(names);
	}
	buf_free(&b);
	free(url);
	return err;
}

const struct error *offsite_remove(struct offsite *o, const char *path)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url, *rm;
	struct curl_slist *q;
	CURL *c;
	CURLcode rc;

	if (o->s3)
		return s3_remove(o->s3, path);
	url = xasprintf("%s/", o->base);
	rm = xasprintf("rm \"%s/%s\"", o->path, path);
	q = curl_slist_append(NULL, rm);
	if (!(c = handle(o, url, errbuf))) {
		err = error_fmt("libcurl cannot start");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_QUOTE, q);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = failed(rc, errbuf, "removing", path);
out:
	curl_slist_free_all(q);
	free(url);
	free(rm);
	return err;
}
