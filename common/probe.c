#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "mem.h"

#define PROBE_TIMEOUT_MS 3000
#define PROBE_CONNECT_MS 1500

const struct error *probe_http_get(const char *addr, int port, const char *path, long *status)
{
	const struct error *err;
	struct http *h;
	struct buf body = BUF_INIT;
	char *url = probe_url(addr, port, path);
	struct http_req r = {.url = url, .timeout_ms = PROBE_TIMEOUT_MS, .connect_timeout_ms = PROBE_CONNECT_MS};

	*status = 0;
	if (!(err = http_open(NULL, &h))) {
		err = http_do(h, &r, status, &body, NULL);
		http_close(h);
	}
	buf_free(&body);
	free(url);
	return err;
}

char *probe_url(const char *addr, int port, const char *path)
{
	return xasprintf(strchr(addr, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", addr, port, path);
}

void probe_http_many(const char *const *url, long *status, size_t n)
{
	http_get_many(url, status, n, PROBE_TIMEOUT_MS, PROBE_CONNECT_MS);
}
