#include "probe.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "http.h"

#define PROBE_TIMEOUT_MS 3000
#define PROBE_CONNECT_MS 1500

const struct error *probe_http_get(const char *addr, int port, const char *path, long *status)
{
	const struct error *err;
	struct http *h;
	struct buf body = BUF_INIT;
	char url[512];
	struct http_req r = {.url = url, .timeout_ms = PROBE_TIMEOUT_MS, .connect_timeout_ms = PROBE_CONNECT_MS};

	*status = 0;
	if ((err = http_open(NULL, &h)))
		return err;
	snprintf(url, sizeof url, strchr(addr, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", addr, port, path);
	err = http_do(h, &r, status, &body, NULL);
	buf_free(&body);
	http_close(h);
	return err;
}
