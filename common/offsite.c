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
#include "mem.h"
#include "name.h"

struct offsite {
	char *base;      /* sftp://USER@HOST[:PORT]/PATH, no trailing / */
	char *path;      /* /PATH, as the server names it (quote commands) */
	char *where;     /* sftp://HOST[:PORT]/PATH */
	char *key, *known_hosts;
};

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
	if ((err = name_check_target(url)))
		return err;
	o = xcalloc(1, sizeof *o);
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
	if (!fs_exists(o->key))
		err = error_fmt("the key to log in to the backup target is not there: put it in %s (mode 0600)", o->key);
	else if (!fs_exists(o->known_hosts))
		err = error_fmt("the backup target's host key is not known: put it in %s (ssh-keyscan -p PORT HOST)",
				o->known_hosts);
	else {
		struct stat st;

		if (stat(o->key, &st) == 0 && (st.st_mode & 077))
			err = error_fmt("%s may be read by others than its owner: it must be mode 0600", o->key);
	}
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

/* A handle for url (owned by the caller) with the login and the checks. */
static CURL *handle(struct offsite *o, const char *url, char *errbuf)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
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
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* Stalled for a minute: given up (the next push goes on from there). */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	return c;
}

static const struct error *failed(CURLcode rc, const char *errbuf, const char *what, const char *where)
{
	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return error_fmt("%s %s: the server's host key is not the one in secrets/backup_known_hosts", what, where);
	if (rc == CURLE_LOGIN_DENIED)
		return error_fmt("%s %s: the server refuses the login with secrets/backup_ssh_key", what, where);
	return error_fmt("%s %s: %s", what, where, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

struct reading {
	int fd;
	const struct error *err;
};

static size_t read_fd(char *buf, size_t size, size_t n, void *ctx)
{
	struct reading *r = ctx;
	ssize_t got;

	do
		got = read(r->fd, buf, size * n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->err = error_errno("reading the file to send");
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

const struct error *offsite_put(struct offsite *o, const char *path, int fd, const char *state)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s/%s.part", o->base, path);
	char *rm = xasprintf("*rm \"%s/%s\"", o->path, path);
	char *mv = xasprintf("rename \"%s/%s.part\" \"%s/%s\"", o->path, path, o->path, path);
	struct curl_slist *post = curl_slist_append(curl_slist_append(NULL, rm), mv);
	struct reading r = {fd, NULL};
	struct stat st;
	CURL *c;
	CURLcode rc;

	(void)state;
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		err = error_errno("reading the file to send");
		goto out;
	}
	if (!(c = handle(o, url, errbuf))) {
		err = error_fmt("libcurl cannot start");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_fd);
	curl_easy_setopt(c, CURLOPT_READDATA, &r);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(c, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
	curl_easy_setopt(c, CURLOPT_POSTQUOTE, post);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = r.err ? r.err : failed(rc, errbuf, "sending", path);
	curl_easy_cleanup(c);
out:
	curl_slist_free_all(post);
	free(url);
	free(rm);
	free(mv);
	return err;
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
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s/%s", o->base, path);
	struct writing w = {wr, ctx, NULL};
	CURL *c = handle(o, url, errbuf);
	CURLcode rc;

	if (!c) {
		free(url);
		return error_fmt("libcurl cannot start");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = w.err ? w.err
			    : rc == CURLE_REMOTE_FILE_NOT_FOUND ? error_fmt("%s is not on the backup target", path)
								: failed(rc, errbuf, "fetching", path);
	curl_easy_cleanup(c);
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
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s/%s%s", o->base, dir, *dir ? "/" : "");
	struct buf b = BUF_INIT;
	struct writing w = {to_buf, &b, NULL};
	CURL *c = handle(o, url, errbuf);
	CURLcode rc;

	if (!c) {
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
	curl_easy_cleanup(c);
	free(url);
	return err;
}

const struct error *offsite_remove(struct offsite *o, const char *path)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s/", o->base), *rm = xasprintf("rm \"%s/%s\"", o->path, path);
	struct curl_slist *q = curl_slist_append(NULL, rm);
	CURL *c = handle(o, url, errbuf);
	CURLcode rc;

	if (!c) {
		err = error_fmt("libcurl cannot start");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_QUOTE, q);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		err = failed(rc, errbuf, "removing", path);
	curl_easy_cleanup(c);
out:
	curl_slist_free_all(q);
	free(url);
	free(rm);
	return err;
}
