#include "probe.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

const struct error *probe_port_free(const char *bind_addr, int port)
{
	const struct error *err = NULL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *ai;
	char ps[8];
	int fd;

	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(bind_addr, ps, &hints, &ai) != 0)
		return error_fmt("cannot use address \"%s\"", bind_addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* As nginx binds: connections lingering in TIME_WAIT do not count. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0)
		err = error_errno("port %d on %s is taken on this host", port, bind_addr);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return err;
}
