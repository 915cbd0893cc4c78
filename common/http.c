#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "interrupt.h"
#include "mem.h"
#include "report.h"

/* Abort a transfer that was under way when an interrupt came; transfers
 * started after it (the cleanup) run. */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return interrupt_count() != *(int *)p;
}

struct http {
	CURL *curl;
	char *socket;
};

struct xfer {
	struct http *h;
	const struct http_req *r;
	struct buf *out;
	const struct error *failed; /* why the sink or the source refused */
};

/* libcurl's global state, once per process. */
static const struct error *global_init(void)
{
	static int inited;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return error_fmt("initialising libcurl failed");
		inited = 1;
	}
	return NULL;
}

const struct error *http_open(const char *socket, struct http **out)
{
	const struct error *err;
	struct http *h;

	*out = NULL;
	if ((err = global_init()))
		return err;
	h = xcalloc(1, sizeof *h);
	if (!(h->curl = curl_easy_init())) {
		free(h);
		return error_fmt("initialising libcurl failed");
	}
	h->socket = socket ? xstrdup(socket) : NULL;
	*out = h;
	return NULL;
}

void http_close(struct http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->socket);
	free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct xfer *x = user;
	long code = 0;

	n *= size;
	curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300 && x->r->sink) {
		if ((x->failed = x->r->sink(x->r->ctx, data, n)))
			return 0;
		return n;
	}
	/* Error bodies are small JSON; cap what we keep of any unexpected one. */
	if (x->out && x->out->len < (64u << 20))
		buf_append(x->out, data, n);
	return n;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *user)
{
	struct xfer *x = user;
	long got = x->r->upload(x->r->upload_ctx, buf, size * n, &x->failed);

	if (got < 0) {
		if (!x->failed)
			x->failed = error_fmt("reading the request's body failed");
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;

	n *= size;
	buf_append(b, data, n);
	return n;
}

const struct error *http_do(struct http *h, const struct http_req *r, long *status, struct buf *out,
			    struct buf *headers)
{
	CURL *c = h->curl;
	struct curl_slist *hdr = NULL;
	struct xfer x = {h, r, out, NULL};
	int gen = interrupt_count();
	struct buf dummy = BUF_INIT;
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE] = "";

	curl_easy_reset(c);
	if (h->socket)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->socket);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	/* The path as given: no "/../" squashed away by libcurl. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method ? r->method : "GET");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024); /* streams: fewer, larger callbacks */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, headers ? headers : &dummy);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &gen);
	if (r->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	if (r->connect_timeout_ms)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
	if (r->body) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	} else if (r->upload) {
		/* Size unknown: chunked. */
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		hdr = curl_slist_append(hdr, "Transfer-Encoding: chunked");
	} else if (r->method && strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	for (size_t i = 0; r->headers && r->headers[i]; i++)
		hdr = curl_slist_append(hdr, r->headers[i]);
	/* No "Expect: 100-continue" round trip on bodies. */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(c);
	/* errbuf lives on this stack frame only. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdr);
	buf_free(&dummy);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (x.failed)
		return x.failed;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return error_interrupted();
	if (rc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

		if (h->socket && rc == CURLE_COULDNT_CONNECT) {
			long os = 0;

			curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
			if (os == EACCES)
				return error_fmt("cannot connect to \"%s\": permission denied (run as root, or as a member of "
						 "the docker group)", h->socket);
			return error_fmt("cannot connect to \"%s\": %s", h->socket, os ? strerror((int)os) : why);
		}
		return error_fmt("%s", why);
	}
	return NULL;
}

static size_t drop(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

void http_get_many(const char *const *url, long *status, size_t n, long timeout_ms, long connect_timeout_ms)
{
	CURLM *m;
	CURL **c;
	CURLMsg *msg;
	int running = 0, left, gen = interrupt_count();

	memset(status, 0, n * sizeof *status);
	if (n == 0 || global_init() || !(m = curl_multi_init()))
		return;
	c = xcalloc(n, sizeof *c);
	for (size_t i = 0; i < n; i++) {
		if (!(c[i] = curl_easy_init()))
			continue;
		curl_easy_setopt(c[i], CURLOPT_URL, url[i]);
		curl_easy_setopt(c[i], CURLOPT_PRIVATE, (void *)&status[i]);
		curl_easy_setopt(c[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c[i], CURLOPT_PROXY, "");
		curl_easy_setopt(c[i], CURLOPT_WRITEFUNCTION, drop);
		curl_easy_setopt(c[i], CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(c[i], CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
		curl_easy_setopt(c[i], CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c[i], CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c[i], CURLOPT_XFERINFODATA, &gen);
		curl_multi_add_handle(m, c[i]);
	}
	/* Bounded: every transfer ends by its own timeout. */
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running && curl_multi_poll(m, NULL, 0, 200, NULL) != CURLM_OK)
			break;
	} while (running);
	/* An answer counts only when the transfer completed. */
	while ((msg = curl_multi_info_read(m, &left))) {
		char *to = NULL;

		if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK &&
		    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &to) == CURLE_OK && to)
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, (long *)(void *)to);
	}
	for (size_t i = 0; i < n; i++) {
		if (!c[i])
			continue;
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
	}
	free(c);
	curl_multi_cleanup(m);
}

char *http_escape(struct http *h, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0), *out;

	if (!e)
		report_out_of_memory();
	out = xstrdup(e);
	curl_free(e);
	return out;
}

int http_header(const char *headers, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	for (const char *l = headers; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			size_t len;

			v += strspn(v, " \t");
			len = strcspn(v, "\r\n");
			if (len >= outlen)
				len = outlen - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
	}
	return -1;
}
