/* probe: the one HTTP health probe: GET http://ADDR:PORT/PATH, on an IPv4
 * or IPv6 address (written [::1] in the URL), with short timeouts. */
#ifndef KC_PROBE_H
#define KC_PROBE_H

#include <stddef.h>

#include "err.h"

/* *status gets the answer's status; an error says why there was none. */
const struct error *probe_http_get(const char *addr, int port, const char *path, long *status);
/* The URL probe_http_get() asks; caller frees. */
char *probe_url(const char *addr, int port, const char *path);
/* GET every url[i] at once, with the same short timeouts: its status into
 * status[i], 0 when none came. */
void probe_http_many(const char *const *url, long *status, size_t n);
/* NULL if port can be bound at addr on this host (as nginx binds, with
 * SO_REUSEADDR), else why not. */
const struct error *probe_port_free(const char *addr, int port);

#endif
