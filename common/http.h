/* http: HTTP/1.1 requests with libcurl, over a unix socket (the engine) or
 * TCP (readiness checks). */
#ifndef KC_HTTP_H
#define KC_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct http;

/* Bytes of a successful (2xx) response body as they arrive; return an
 * error to abort the transfer with it. */
typedef const struct error *(*http_sink)(void *ctx, const char *data, size_t len);
/* The next bytes of a request body streamed as it is made (chunked): up to
 * n into buf; returns how many, 0 at its end, -1 on failure (the transfer
 * then fails with *why). */
typedef long (*http_source)(void *ctx, char *buf, size_t n, const struct error **why);

struct http_req {
	const char *method;   /* "GET" if NULL */
	const char *url;      /* e.g. "http://docker/v1.41/containers/json" */
	const char *body;     /* JSON, or NULL */
	http_source upload;   /* or a body streamed from here (POST) */
	void *upload_ctx;
	const char *const *headers; /* more "Name: value" lines, NULL-terminated */
	http_sink sink;       /* NULL: 2xx body goes to out */
	void *ctx;
	long timeout_ms;      /* whole transfer; 0: none */
	long connect_timeout_ms;
};

/* socket: unix socket path, or NULL for TCP.  *out is the caller's.  A
 * transfer under way when SIGINT or SIGTERM comes aborts (interrupt.h). */
const struct error *http_open(const char *socket, struct http **out);
void http_close(struct http *h);
/* Perform r.  *status gets the HTTP status; out gets the body of a 2xx
 * reply (when no sink) or of any other reply (always).  headers, if not
 * NULL, gets the raw response headers.  Fails only if no HTTP answer came
 * (or the sink refused). */
const struct error *http_do(struct http *h, const struct http_req *r, long *status, struct buf *out,
			    struct buf *headers);
/* Many GETs over TCP at once, for checks: each url's status into
 * status[i] (0 when no answer came: refused, timed out).  Bodies are
 * dropped.  Each transfer gets timeout_ms in all. */
void http_get_many(const char *const *url, long *status, size_t n, long timeout_ms, long connect_timeout_ms);
/* Escape s for a URL query or path segment; caller frees. */
char *http_escape(struct http *h, const char *s);
/* Value of header name in raw headers (case-insensitive), copied to out. */
int http_header(const char *headers, const char *name, char *out, size_t outlen);

#endif
