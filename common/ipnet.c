#include "ipnet.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const struct error *parse(const char *cidr, uint32_t *base, int *bits)
{
	char addr[32];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	char *end;
	long b;

	*base = 0;
	*bits = 0;
	if (!slash || (size_t)(slash - cidr) >= sizeof addr)
		return error_fmt("\"%s\" is not an IPv4 subnet", cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	b = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &a) != 1 || *end || b < 8 || b > 28)
		return error_fmt("\"%s\" is not an IPv4 subnet from /8 to /28", cidr);
	*bits = (int)b;
	*base = ntohl(a.s_addr) & (uint32_t)(0xffffffffu << (32 - b));
	return NULL;
}

static void format(uint32_t v, char *out, size_t n)
{
	struct in_addr a = {htonl(v)};

	inet_ntop(AF_INET, &a, out, (socklen_t)n);
}

const struct error *ipnet_lower_half(const char *cidr, char *out, size_t outlen)
{
	const struct error *err;
	uint32_t base;
	int bits;
	char a[INET_ADDRSTRLEN];

	if ((err = parse(cidr, &base, &bits)))
		return err;
	format(base, a, sizeof a);
	snprintf(out, outlen, "%s/%d", a, bits + 1);
	return NULL;
}

/* The index-th fixed address of the upper half, from its bottom (skipping
 * the half's first address) or from its top (below the broadcast address),
 * the latter only in the half's upper half: with both kinds in use for the
 * same indexes (a cluster whose template has a frontend), the two never
 * meet. */
static const struct error *fixed(const char *cidr, unsigned index, int top, char *out, size_t outlen)
{
	const struct error *err;
	uint32_t base, half;
	int bits;

	if ((err = parse(cidr, &base, &bits)))
		return err;
	half = 1u << (31 - bits);
	if (index + 2 >= (top ? half / 2 : half))
		return error_fmt("subnet \"%s\" has no fixed %saddress left for slot %u", cidr, top ? "frontend " : "",
				 index);
	format(top ? base + 2 * half - 2 - index : base + half + index + 1, out, outlen);
	return NULL;
}

const struct error *ipnet_fixed(const char *cidr, unsigned index, char *out, size_t outlen)
{
	return fixed(cidr, index, 0, out, outlen);
}

const struct error *ipnet_fixed_top(const char *cidr, unsigned index, char *out, size_t outlen)
{
	return fixed(cidr, index, 1, out, outlen);
}
