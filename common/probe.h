/* probe: the one HTTP health probe: GET http://ADDR:PORT/PATH, on an IPv4
 * or IPv6 address (written [::1] in the URL), with short timeouts. */
#ifndef KC_PROBE_H
#define KC_PROBE_H

#include <stddef.h>

#include "err.h"

/* *status gets the answer's status; an error says why there was none. */
const struct error *probe_http_get(const char *addr, int port, const char *path, long *status);

#endif
