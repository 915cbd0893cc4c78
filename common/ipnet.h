/* ipnet: IPv4 subnet arithmetic for fixed container addresses.
 *
 * A cluster network's subnet is split in two: the engine hands out the
 * lower half to containers that ask for no address (services), the upper
 * half holds fixed addresses, one per instance environment, so that the
 * front proxy's configuration stays true when the engine restarts
 * containers by itself. */
#ifndef KC_IPNET_H
#define KC_IPNET_H

#include <stddef.h>

#include "err.h"

/* "a.b.c.d/n" -> the lower half as CIDR (n + 1), for IPAM's IPRange. */
const struct error *ipnet_lower_half(const char *cidr, char *out, size_t outlen);
/* The index-th fixed address (0-based) in the upper half; fails when the
 * half is full. */
const struct error *ipnet_fixed(const char *cidr, unsigned index, char *out, size_t outlen);
/* The index-th fixed address counted down from the top of the upper half
 * (the second kind of fixed address: read-only frontends); fails when it
 * would reach the upper half's middle. */
const struct error *ipnet_fixed_top(const char *cidr, unsigned index, char *out, size_t outlen);

#endif
