#include "ipnet.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int parse(const char *cidr, uint32_t *base, int *bits)
{
	char addr[32];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	char *end;
	long b;

	if (!slash || (size_t)(slash - cidr) >= sizeof addr)
		return err_set("\"%s\" is not an IPv4 subnet", cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	b = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &a) != 1 || *end || b < 8 || b > 28)
		return err_set("\"%s\" is not an IPv4 subnet from /8 to /28", cidr);
	*bits = (int)b;
	*base = ntohl(a.s_addr) & (uint32_t)(0xffffffffu << (32 - b));
	return 0;
}

static void format(uint32_t v, char *out, size_t n)
{
	struct in_addr a = {htonl(v)};

	inet_ntop(AF_INET, &a, out, (socklen_t)n);
}

int ipnet_lower_half(const char *cidr, char *out, size_t outlen)
{
	uint32_t base;
	int bits;
	char a[INET_ADDRSTRLEN];

	if (parse(cidr, &base, &bits) < 0)
		return -1;
	format(base, a, sizeof a);
	snprintf(out, outlen, "%s/%d", a, bits + 1);
	return 0;
}

int ipnet_fixed(const char *cidr, unsigned index, char *out, size_t outlen)
{
	uint32_t base, half;
	int bits;

	if (parse(cidr, &base, &bits) < 0)
		return -1;
	half = 1u << (31 - bits);
	/* Skip the half's first address; keep clear of the broadcast address. */
	if (index + 2 >= half)
		return err_set("subnet \"%s\" has no fixed address left for slot %u", cidr, index);
	format(base + half + index + 1, out, outlen);
	return 0;
}
