/* http: HTTP/1.1 requests with libcurl, over a unix socket (the engine) or
 * TCP (readiness checks). */
#ifndef KC_HTTP_H
#define KC_HTTP_H

#include <stddef.h>

#include "buf.h"

struct http;

/* Bytes of a successful (2xx) response body as they arrive; return -1 to
 * abort the transfer (err set). */
typedef int (*http_sink)(void *ctx, const char *data, size_t len);

struct http_req {
	const char *method;   /* "GET" if NULL */
	const char *url;      /* e.g. "http://docker/v1.41/containers/json" */
	const char *body;     /* JSON, or NULL */
	http_sink sink;       /* NULL: 2xx body goes to out */
	void *ctx;
	long timeout_ms;      /* whole transfer; 0: none */
	long connect_timeout_ms;
};

/* For SIGINT/SIGTERM handlers (async-signal-safe): the transfers under way
 * abort; waits check http_interrupted() and give up. */
void http_interrupt(void);
int http_interrupted(void);

/* socket: unix socket path, or NULL for TCP.  Owned by the caller. */
struct http *http_open(const char *socket);
void http_close(struct http *h);
/* Perform r.  *status gets the HTTP status; out gets the body of a 2xx
 * reply (when no sink) or of any other reply (always).  headers, if not
 * NULL, gets the raw response headers.  Returns -1 only if no HTTP answer
 * came (err set). */
int http_do(struct http *h, const struct http_req *r, long *status, struct buf *out,
	    struct buf *headers);
/* Escape s for a URL query or path segment; caller frees. */
char *http_escape(struct http *h, const char *s);
/* Value of header name in raw headers (case-insensitive), copied to out. */
int http_header(const char *headers, const char *name, char *out, size_t outlen);

#endif
