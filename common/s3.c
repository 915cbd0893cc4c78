#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* An error answer's XML is kept up to this much. */
#define ERROR_BODY_MAX 65536

struct s3 {
	struct s3_target t;
	char *where;   /* the login file, for messages */
	char *userpwd; /* ACCESS:SECRET, wiped when closed */
	char *sigv4;   /* aws:amz:REGION:s3 */
	uint64_t rate;
	CURL *c; /* one handle for every request: its connection is reused */
};

const struct error *s3_parse_target(const char *url, struct s3_target *t)
{
	const struct error *err;
	const char *p, *slash, *end;
	size_t n;

	memset(t, 0, sizeof *t);
	if ((err = name_check_target(url)))
		return err;
	if (strncmp(url, "s3://", 5) == 0) {
		t->https = 1;
		p = url + 5;
	} else if (strncmp(url, "s3+http://", 10) == 0) {
		p = url + 10;
	} else {
		return error_fmt("backup target \"%.100s\" is not s3://HOST[:PORT]/BUCKET[/PREFIX]", url);
	}
	/* name_check_target() saw a '/' after the host, no "//". */
	slash = strchr(p, '/');
	t->host = xstrndup(p, (size_t)(slash - p));
	end = slash + 1 + strcspn(slash + 1, "/");
	t->bucket = xstrndup(slash + 1, (size_t)(end - slash - 1));
	if (*end == '/')
		end++;
	n = strlen(end);
	while (n && end[n - 1] == '/')
		n--;
	t->prefix = xstrndup(end, n);
	return NULL;
}

void s3_target_free(struct s3_target *t)
{
	free(t->host);
	free(t->bucket);
	free(t->prefix);
	memset(t, 0, sizeof *t);
}

/* *s[0, *n) without blanks at its start, nor blanks and line ends at its
 * end. */
static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && (*s)[*n - 1] && strchr(" \t\r\n", (*s)[*n - 1]))
		(*n)--;
}

const struct error *s3_parse_login(const char *text, struct s3_login *l)
{
	const struct error *err = NULL;
	int line = 0;

	memset(l, 0, sizeof *l);
	for (const char *p = text, *next; *p && !err; p = next) {
		const char *eq, *name = p, *value;
		size_t len = strcspn(p, "\n"), nlen, vlen;
		char **slot;

		next = p + len + (p[len] == '\n');
		line++;
		trim(&name, &len);
		if (len == 0 || *name == '#' || *name == ';')
			continue;
		if (!(eq = memchr(name, '=', len))) {
			err = error_fmt("line %d is not NAME = VALUE", line);
			break;
		}
		nlen = (size_t)(eq - name);
		value = eq + 1;
		vlen = len - nlen - 1;
		trim(&name, &nlen);
		trim(&value, &vlen);
		if (nlen == 10 && memcmp(name, "access_key", 10) == 0)
			slot = &l->access;
		else if (nlen == 10 && memcmp(name, "secret_key", 10) == 0)
			slot = &l->secret;
		else if (nlen == 6 && memcmp(name, "region", 6) == 0)
			slot = &l->region;
		else {
			err = error_fmt("line %d: \"%.*s\" is none of access_key, secret_key and region", line,
					(int)(nlen > 40 ? 40 : nlen), name);
			break;
		}
		if (*slot)
			err = error_fmt("line %d: \"%.*s\" is given twice", line, (int)nlen, name);
		else if (vlen == 0)
			err = error_fmt("line %d: \"%.*s\" has no value", line, (int)nlen, name);
		else
			*slot = xstrndup(value, vlen);
	}
	if (!err && (!l->access || !l->secret))
		err = error_fmt("it needs access_key and secret_key");
	/* The access key goes before the ':' of ACCESS:SECRET, the region
	 * between those of aws:amz:REGION:s3. */
	else if (!err && strchr(l->access, ':'))
		err = error_fmt("access_key holds a \":\"");
	else if (!err && l->region && strspn(l->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(l->region))
		err = error_fmt("region may hold lowercase letters, digits and \"-\" only");
	if (!err && !l->region)
		l->region = xstrdup("us-east-1");
	if (err)
		s3_login_free(l);
	return err;
}

void s3_login_free(struct s3_login *l)
{
	if (l->secret)
		explicit_bzero(l->secret, strlen(l->secret));
	free(l->access);
	free(l->secret);
	free(l->region);
	memset(l, 0, sizeof *l);
}

int s3_xml_find(const char *xml, size_t len, const char *tag, size_t *pos, size_t *at, size_t *n)
{
	size_t tl = strlen(tag);

	for (size_t i = *pos; i + tl + 2 < len; i++) {
		const char *gt;
		size_t j = i + 1 + tl, start;

		if (xml[i] != '<' || memcmp(xml + i + 1, tag, tl) != 0 ||
		    !(xml[j] == '>' || xml[j] == '/' || xml[j] == ' ' || xml[j] == '\t' || xml[j] == '\r' ||
		      xml[j] == '\n'))
			continue;
		if (!(gt = memchr(xml + j, '>', len - j)))
			return 0;
		start = (size_t)(gt - xml) + 1;
		if (gt[-1] == '/') {
			*at = start;
			*n = 0;
			*pos = start;
			return 1;
		}
		for (size_t k = start; k + tl + 3 <= len; k++)
			if (xml[k] == '<' && xml[k + 1] == '/' && memcmp(xml + k + 2, tag, tl) == 0 &&
			    xml[k + 2 + tl] == '>') {
				*at = start;
				*n = k - start;
				*pos = k + tl + 3;
				return 1;
			}
		return 0;
	}
	return 0;
}

/* Code point c as UTF-8. */
static void put_utf8(struct buf *b, unsigned long c)
{
	unsigned char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | (c >> 6));
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (c >> 12));
		u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (c >> 18));
		u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

/* The entity e[0, n) (between '&' and ';') into b; 0 if it is none. */
static int entity(struct buf *b, const char *e, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	unsigned long c = 0;
	int hex;
	size_t i;

	for (i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strlen(named[i].name) == n && memcmp(e, named[i].name, n) == 0) {
			buf_append(b, &named[i].c, 1);
			return 1;
		}
	if (n < 2 || e[0] != '#')
		return 0;
	hex = e[1] == 'x' || e[1] == 'X';
	if ((i = 1 + (size_t)hex) == n)
		return 0;
	for (; i < n; i++) {
		const char *digits = hex ? "0123456789abcdef" : "0123456789";
		const char *d = e[i] ? strchr(digits, hex ? (e[i] | 0x20) : e[i]) : NULL;

		if (!d || c > 0x10ffff)
			return 0;
		c = c * (hex ? 16 : 10) + (unsigned long)(d - digits);
	}
	/* Not NUL (the text is a C string), not a surrogate, in Unicode. */
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	put_utf8(b, c);
	return 1;
}

const struct error *s3_xml_text(const char *s, size_t n, char **out)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	*out = NULL;
	while (i < n) {
		size_t run = 0;
		const char *semi;

		while (i + run < n && s[i + run] != '&' && s[i + run] != '<' && s[i + run] != '\0')
			run++;
		buf_append(&b, s + i, run);
		if (i + run < n && s[i + run] == '\0') {
			buf_free(&b);
			return error_fmt("the server's answer holds a NUL byte");
		}
		if ((i += run) == n)
			break;
		if (s[i] == '<') {
			buf_free(&b);
			return error_fmt("the server's answer has an element where text was expected");
		}
		/* Entities are short: "&#x10FFFF;" is the longest taken. */
		semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
		if (!semi || !entity(&b, s + i + 1, (size_t)(semi - s - i - 1))) {
			buf_free(&b);
			return error_fmt("the server's answer has an unknown or unended entity");
		}
		i = (size_t)(semi - s) + 1;
	}
	*out = xstrdup(buf_str(&b));
	buf_free(&b);
	return NULL;
}

/* The first <tag> of xml[0, len) at *pos or after, decoded (caller frees),
 * or NULL when there is none or it is not text. */
static char *xml_get(const char *xml, size_t len, const char *tag, size_t *pos)
{
	size_t at, n;
	char *out = NULL;

	if (s3_xml_find(xml, len, tag, pos, &at, &n))
		(void)s3_xml_text(xml + at, n, &out);
	return out;
}

/* Parts of 8 MiB, doubled for as long as more than S3_MAX_PARTS would
 * be needed. */
static uint64_t part_size(uint64_t size)
{
	uint64_t p = S3_PART_SIZE;

	while ((size + p - 1) / p > S3_MAX_PARTS)
		p *= 2;
	return p;
}

uint32_t s3_part_count(uint64_t size)
{
	uint64_t p = part_size(size);

	return size == 0 ? 1 : (uint32_t)((size + p - 1) / p);
}

uint64_t s3_part_len(uint64_t size, uint32_t i)
{
	uint64_t p = part_size(size), off = (uint64_t)(i - 1) * p;

	return size - off < p ? size - off : p;
}

const struct error *s3_open(const char *url, const char *login, uint64_t rate, struct s3 **out)
{
	const struct error *err;
	struct s3_login l;
	struct s3 *s;
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	s = xcalloc(1, sizeof *s);
	s->where = xstrdup(login);
	s->rate = rate;
	if ((err = s3_parse_target(url, &s->t)))
		goto out;
	if ((err = fs_read(login, &text, &len)))
		goto out;
	if ((err = s3_parse_login(text, &l))) {
		err = error_wrap(err, "%s", login);
		goto out;
	}
	s->userpwd = xasprintf("%s:%s", l.access, l.secret);
	s->sigv4 = xasprintf("aws:amz:%s:s3", l.region);
	s3_login_free(&l);
	if (!(s->c = curl_easy_init()))
		err = error_fmt("libcurl cannot start");
out:
	if (text)
		explicit_bzero(text, len);
	free(text);
	if (err)
		s3_close(s);
	else
		*out = s;
	return err;
}

void s3_close(struct s3 *s)
{
	if (!s)
		return;
	if (s->c)
		curl_easy_cleanup(s->c);
	if (s->userpwd)
		explicit_bzero(s->userpwd, strlen(s->userpwd));
	free(s->userpwd);
	free(s->sigv4);
	free(s->where);
	s3_target_free(&s->t);
	free(s);
}

/* s's bytes as S3 signs them: all but letters, digits and "-._~" (and
 * '/' when keep_slash) as %XX. */
static void put_encoded(struct buf *b, const char *s, int keep_slash)
{
	static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

	for (; *s; s++)
		if (strchr(unreserved, *s) || (keep_slash && *s == '/'))
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
}

/* The key of path (under the target's prefix). */
static char *key_of(const struct s3 *s, const char *path)
{
	return *s->t.prefix ? xasprintf("%s/%s", s->t.prefix, path) : xstrdup(path);
}

/* One request and what came back. */
struct req {
	const char *method; /* GET, PUT (a part of fd), POST (body), DELETE */
	const char *path;   /* an object under the prefix, or NULL: the bucket */
	const char *query;  /* as S3 signs it: sorted, encoded ("" for none) */
	int fd;             /* PUT: len bytes of fd at off */
	uint64_t off, len, done;
	const char *body; /* POST */
	seal_write_fn wr; /* the answer's body, when it is not an error: to wr, */
	void *ctx;
	struct buf out; /* else here (an error's, up to ERROR_BODY_MAX) */
	char etag[128];
	long status;
	uint64_t sent;
	const struct error *err; /* of wr, or reading fd */
	CURL *c;
};

static size_t read_part(char *buf, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t want = size * n;
	ssize_t got;

	if (want > r->len - r->done)
		want = (size_t)(r->len - r->done);
	if (want == 0)
		return 0;
	do
		got = pread(r->fd, buf, want, (off_t)(r->off + r->done));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		r->err = got < 0 ? error_errno("reading the file to send") : error_fmt("the file to send got shorter");
		return CURL_READFUNC_ABORT;
	}
	r->done += (uint64_t)got;
	return (size_t)got;
}

/* The answer's body: an error's into out (its first ERROR_BODY_MAX
 * bytes), else to wr or into out. */
static size_t answer(char *data, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	long status = 0;

	curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 300 && r->wr) {
		if ((r->err = r->wr(r->ctx, data, size * n)))
			return 0;
	} else if (status < 300 || r->out.len + size * n <= ERROR_BODY_MAX) {
		buf_append(&r->out, data, size * n);
	}
	return size * n;
}

/* The ETag header (a part's, to name it when the upload completes). */
static size_t header(char *data, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t len = size * n;

	if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
		const char *v = data + 5;

		len -= 5;
		trim(&v, &len);
		if (len < sizeof r->etag) {
			memcpy(r->etag, v, len);
			r->etag[len] = '\0';
		}
	}
	return size * n;
}

/* Send r; r->status gets the answer's HTTP status (the caller checks it). */
static const struct error *perform(struct s3 *s, struct req *r)
{
	const struct error *err = NULL;
	char errbuf[CURL_ERROR_SIZE];
	struct buf url = BUF_INIT;
	struct curl_slist *h = curl_slist_append(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	curl_off_t up = 0;
	CURLcode rc;

	buf_printf(&url, "%s://%s/%s", s->t.https ? "https" : "http", s->t.host, s->t.bucket);
	if (r->path) {
		char *key = key_of(s, r->path);

		buf_puts(&url, "/");
		put_encoded(&url, key, 1);
		free(key);
	}
	if (*r->query)
		buf_printf(&url, "?%s", r->query);
	r->c = s->c;
	curl_easy_reset(s->c);
	errbuf[0] = '\0';
	curl_easy_setopt(s->c, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(s->c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(s->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->c, CURLOPT_PROTOCOLS_STR, s->t.https ? "https" : "http");
	curl_easy_setopt(s->c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(s->c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(s->c, CURLOPT_HTTPHEADER, h);
	xfer_setup(s->c, s->rate);
	curl_easy_setopt(s->c, CURLOPT_WRITEFUNCTION, answer);
	curl_easy_setopt(s->c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(s->c, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(s->c, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(s->c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s->c, CURLOPT_READFUNCTION, read_part);
		curl_easy_setopt(s->c, CURLOPT_READDATA, r);
		curl_easy_setopt(s->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(s->c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(s->c, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	rc = curl_easy_perform(s->c);
	curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(s->c, CURLINFO_SIZE_UPLOAD_T, &up);
	r->sent = strcmp(r->method, "PUT") == 0 && up > 0 ? (uint64_t)up : 0;
	if (rc != CURLE_OK)
		err = r->err                              ? r->err
		      : rc == CURLE_ABORTED_BY_CALLBACK ? error_interrupted()
							: error_fmt("%s: %s", s->t.host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(h);
	buf_free(&url);
	return err;
}

/* What the server said against r: its Code and Message, or the status. */
static const struct error *refused(const struct s3 *s, const struct req *r)
{
	const struct error *err;
	size_t pos = 0, pos2 = 0;
	char *code = xml_get(r->out.data, r->out.len, "Code", &pos);
	char *msg = xml_get(r->out.data, r->out.len, "Message", &pos2);

	if (code && (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidAccessKeyId") == 0 ||
		     strcmp(code, "AccessDenied") == 0))
		err = error_fmt("the backup target refuses the credentials in %s: %s (%ld)", s->where, code, r->status);
	else if (code)
		err = error_fmt("%s: %.200s (%ld)", code, msg ? msg : "", r->status);
	else
		err = error_fmt("the server answers HTTP %ld", r->status);
	free(code);
	free(msg);
	return err;
}

/* Send r; an answer other than 200 (or 204) is an error. */
static const struct error *ask(struct s3 *s, struct req *r)
{
	const struct error *err = perform(s, r);

	if (!err && r->status != 200 && r->status != 204)
		err = refused(s, r);
	return err;
}

const struct error *s3_get(struct s3 *s, const char *path, seal_write_fn wr, void *ctx)
{
	const struct error *err;
	struct req r = {.method = "GET", .path = path, .query = "", .wr = wr, .ctx = ctx};

	if (!(err = perform(s, &r)) && r.status == 404)
		err = error_fmt("%s is not on the backup target", path);
	else if (!err && r.status != 200)
		err = error_wrap(refused(s, &r), "fetching %s", path);
	else
		err = error_wrap(err, "fetching %s", path);
	buf_free(&r.out);
	return err;
}

const struct error *s3_remove(struct s3 *s, const char *path)
{
	struct req r = {.method = "DELETE", .path = path, .query = ""};
	const struct error *err = ask(s, &r);

	buf_free(&r.out);
	return error_wrap(err, "removing %s", path);
}

/* One page of a listing of every key under prefix: the part of each key
 * right under it (an object's name, or a folder's) into names, once; the
 * next page's token into *token, or NULL.  Folders are told from the keys,
 * not from a delimiter's common prefixes: some S3-compatible servers (s3rver,
 * for one) give those only for keys one level down. */
static const struct error *list_page(const char *xml, size_t len, const char *prefix, struct strv *names,
				     char **token)
{
	size_t pos = 0, plen = strlen(prefix), at, n;
	char *truncated = xml_get(xml, len, "IsTruncated", &pos);
	const struct error *err = NULL;

	pos = 0;
	*token = truncated && strcmp(truncated, "true") == 0 ? xml_get(xml, len, "NextContinuationToken", &pos) : NULL;
	if (truncated && strcmp(truncated, "true") == 0 && !*token)
		err = error_fmt("the server's listing goes on without saying where");
	free(truncated);
	pos = 0;
	while (!err && s3_xml_find(xml, len, "Contents", &pos, &at, &n)) {
		size_t in = 0, nlen;
		char *name = xml_get(xml + at, n, "Key", &in), *part;

		if (!name || strncmp(name, prefix, plen) != 0) {
			err = error_fmt("the server's listing names what is not under %s", *prefix ? prefix : "the top");
		} else if ((nlen = strcspn(name + plen, "/")) > 0) {
			/* (a key "DIR/" some tools make is no name) */
			part = xstrndup(name + plen, nlen);
			if (!strv_has(names, part))
				strv_push(names, part);
			free(part);
		}
		free(name);
	}
	return err;
}

const struct error *s3_list(struct s3 *s, const char *dir, struct strv *names)
{
	const struct error *err = NULL;
	char *prefix = *dir ? key_of(s, dir) : xstrdup(s->t.prefix), *token = NULL;
	struct buf p = BUF_INIT;

	if (*prefix)
		buf_printf(&p, "%s/", prefix);
	do {
		struct req r = {.method = "GET", .path = NULL};
		struct buf q = BUF_INIT;
		char *next = NULL;

		/* The query as S3 signs it: names sorted, values encoded. */
		if (token) {
			buf_puts(&q, "continuation-token=");
			put_encoded(&q, token, 0);
			buf_puts(&q, "&");
		}
		buf_puts(&q, "list-type=2&prefix=");
		put_encoded(&q, buf_str(&p), 0);
		r.query = buf_str(&q);
		if (!(err = ask(s, &r)))
			err = list_page(r.out.data, r.out.len, buf_str(&p), names, &next);
		buf_free(&r.out);
		buf_free(&q);
		/* A page that sends back to itself would list for ever. */
		if (!err && next && token && !strcmp(next, token))
			err = error_fmt("the server's listing goes round in a circle");
		free(token);
		token = next;
	} while (!err && token);
	if (!err)
		strv_sort(names);
	free(token);
	free(prefix);
	buf_free(&p);
	return error_wrap(err, "listing %s", *dir ? dir : "the backup target");
}

/* The state of a multipart upload, at state: "key K\nsize N\nupload_id
 * ID\n", then a line "part I ETAG" for each part the server took, added as
 * it takes them (a server need not list the parts it holds).  The upload id
 * it holds for key and size, or NULL; the parts' ETags into etags. */
static char *state_read(const char *state, const char *key, uint64_t size, char **etags, uint32_t count)
{
	char *data = NULL, *head = xasprintf("key %s\nsize %" PRIu64 "\nupload_id ", key, size), *id = NULL;
	size_t hl = strlen(head), n;

	if (!fs_read(state, &data, NULL) && strncmp(data, head, hl) == 0 && (n = strcspn(data + hl, "\n")) > 0) {
		id = xstrndup(data + hl, n);
		for (char *line = strchr(data + hl, '\n'); line && *++line;) {
			char etag[128];
			unsigned i;
			int used = 0;

			/* A line cut by a crash has no end: not taken. */
			if (!strchr(line, '\n'))
				break;
			if (sscanf(line, "part %u %127s%n", &i, etag, &used) == 2 && line[used] == '\n' && i >= 1 &&
			    i <= count) {
				free(etags[i]);
				etags[i] = xstrdup(etag);
			}
			line = strchr(line, '\n');
		}
	}
	free(data);
	free(head);
	return id;
}

/* Part i's ETag added to the state, on disk before the next part goes. */
static const struct error *state_add(const char *state, uint32_t i, const char *etag)
{
	const struct error *err = NULL;
	char *line = xasprintf("part %" PRIu32 " %s\n", i, etag);
	int fd = open(state, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0)
		err = error_errno("writing \"%s\"", state);
	if (fd >= 0)
		close(fd);
	free(line);
	return err;
}

/* Whether the server no longer holds the upload r was about, or a part
 * of it that its state says it took. */
static int upload_gone(const struct req *r)
{
	size_t pos = 0;
	char *code = xml_get(r->out.data, r->out.len, "Code", &pos);
	int gone = r->status == 404 || (code && (!strcmp(code, "NoSuchUpload") || !strcmp(code, "InvalidPart")));

	free(code);
	return gone;
}

/* A new multipart upload of path: its id into *id. */
static const struct error *create_upload(struct s3 *s, const char *path, char **id)
{
	struct req r = {.method = "POST", .path = path, .query = "uploads="};
	const struct error *err = ask(s, &r);
	size_t pos = 0;

	if (!err && !(*id = xml_get(r.out.data, r.out.len, "UploadId", &pos)))
		err = error_fmt("the server's answer has no upload id");
	buf_free(&r.out);
	return err;
}

/* Complete upload id of path from the parts etags[1..count] name; *gone
 * as upload_gone() says. */
static const struct error *complete(struct s3 *s, const char *path, const char *id, char **etags, uint32_t count,
				    int *gone)
{
	const struct error *err;
	struct buf q = BUF_INIT, body = BUF_INIT;
	struct req r = {.method = "POST", .path = path};
	size_t at, n, pos = 0;

	buf_puts(&q, "uploadId=");
	put_encoded(&q, id, 0);
	r.query = buf_str(&q);
	buf_puts(&body, "<CompleteMultipartUpload>");
	for (uint32_t i = 1; i <= count; i++) {
		buf_printf(&body, "<Part><PartNumber>%" PRIu32 "</PartNumber><ETag>", i);
		/* An ETag is quoted: its quotes as entities. */
		for (const char *e = etags[i]; *e; e++)
			if (*e == '"')
				buf_puts(&body, "&quot;");
			else if (*e == '&')
				buf_puts(&body, "&amp;");
			else if (*e == '<')
				buf_puts(&body, "&lt;");
			else
				buf_append(&body, e, 1);
		buf_puts(&body, "</ETag></Part>");
	}
	buf_puts(&body, "</CompleteMultipartUpload>");
	r.body = buf_str(&body);
	/* S3 may say 200 and then an error in the body. */
	if (!(err = ask(s, &r)) && s3_xml_find(r.out.data, r.out.len, "Error", &pos, &at, &n))
		err = refused(s, &r);
	*gone = err && upload_gone(&r);
	buf_free(&r.out);
	buf_free(&q);
	buf_free(&body);
	return err;
}

/* The file at fd of size bytes as path in parts.  With a state from an
 * earlier put of the same bytes, the parts it names are not sent again;
 * when the server no longer holds that upload (it expired, say), the put
 * starts over, once. */
static const struct error *put_parts(struct s3 *s, const char *path, int fd, uint64_t size, const char *state,
				     uint64_t *sent)
{
	const struct error *err = NULL;
	uint32_t count = s3_part_count(size);
	char **etags = xcalloc((size_t)count + 1, sizeof *etags), *key = key_of(s, path);
	char *id = state ? state_read(state, key, size, etags, count) : NULL;
	int resumed = id != NULL, gone = 0;

	for (;;) {
		if (!id && !(err = create_upload(s, path, &id)) && state) {
			char *text = xasprintf("key %s\nsize %" PRIu64 "\nupload_id %s\n", key, size, id);

			err = fs_write_atomic(state, text, strlen(text), 0600);
			free(text);
		}
		for (uint32_t i = 1; i <= count && !err && !gone; i++) {
			struct buf q = BUF_INIT;
			struct req r = {.method = "PUT", .path = path, .fd = fd, .len = s3_part_len(size, i)};

			if (etags[i])
				continue;
			r.off = (uint64_t)(i - 1) * s3_part_len(size, 1);
			buf_printf(&q, "partNumber=%" PRIu32 "&uploadId=", i);
			put_encoded(&q, id, 0);
			r.query = buf_str(&q);
			err = ask(s, &r);
			*sent += r.sent;
			gone = err && upload_gone(&r);
			if (!err && !r.etag[0])
				err = error_fmt("the server's answer to part %" PRIu32 " has no ETag", i);
			if (!err) {
				etags[i] = xstrdup(r.etag);
				if (state)
					err = state_add(state, i, r.etag);
			}
			buf_free(&r.out);
			buf_free(&q);
		}
		if (!err)
			err = complete(s, path, id, etags, count, &gone);
		if (!err || !gone || !resumed)
			break;
		/* Taken up again, but the server dropped the upload: anew. */
		resumed = gone = 0;
		err = NULL;
		for (uint32_t i = 0; i <= count; i++) {
			free(etags[i]);
			etags[i] = NULL;
		}
		free(id);
		id = NULL;
	}
	for (uint32_t i = 0; i <= count; i++)
		free(etags[i]);
	free(etags);
	free(key);
	free(id);
	return err;
}

const struct error *s3_put(struct s3 *s, const char *path, int fd, const char *state, uint64_t *sent)
{
	const struct error *err;
	struct stat st;

	*sent = 0;
	if (fstat(fd, &st) < 0)
		return error_errno("reading the file to send");
	if (s3_part_count((uint64_t)st.st_size) > 1) {
		err = put_parts(s, path, fd, (uint64_t)st.st_size, state, sent);
	} else {
		struct req r = {.method = "PUT", .path = path, .query = "", .fd = fd, .len = (uint64_t)st.st_size};

		err = ask(s, &r);
		*sent = r.sent;
		buf_free(&r.out);
	}
	if (!err && state && unlink(state) < 0 && errno != ENOENT)
		err = error_errno("removing \"%s\"", state);
	return error_wrap(err, "sending %s", path);
}
