/* IPv4 CIDR blocks: parsing ("10.0.0.0/24", strict), formatting, and the
 * addresses in a block (network, gateway, pods, broadcast). */
#include "netns/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netns_ipv4_parse(const char *s, struct in_addr *out)
{
	/* inet_pton accepts only the dotted quad, no octal or short forms */
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

int netns_cidr_parse(const char *text, struct netns_cidr *out, struct pv_err *err)
{
	char buf[32];
	const char *slash;
	char *end;
	unsigned long prefix;
	struct in_addr a;
	uint32_t mask;
	size_t n;

	if (!text || !(slash = strchr(text, '/')))
		return pv_err_set(err, EINVAL, "cidr \"%s\": want ADDRESS/PREFIX, e.g. 10.0.0.0/24",
				  text ? text : "");
	n = (size_t)(slash - text);
	if (n == 0 || n >= sizeof(buf))
		return pv_err_set(err, EINVAL, "cidr \"%s\": bad address", text);
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (netns_ipv4_parse(buf, &a) < 0)
		return pv_err_set(err, EINVAL, "cidr \"%s\": \"%s\" is not an IPv4 address", text, buf);
	if (slash[1] < '0' || slash[1] > '9')
		return pv_err_set(err, EINVAL, "cidr \"%s\": bad prefix length", text);
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || *end || end - (slash + 1) > 2)
		return pv_err_set(err, EINVAL, "cidr \"%s\": bad prefix length", text);
	if (prefix < NETNS_PREFIX_MIN || prefix > NETNS_PREFIX_MAX)
		return pv_err_set(err, EINVAL, "cidr \"%s\": prefix must be /%d to /%d", text,
				  NETNS_PREFIX_MIN, NETNS_PREFIX_MAX);
	mask = ~0u << (32 - prefix);
	if (ntohl(a.s_addr) & ~mask) {
		struct in_addr na = { htonl(ntohl(a.s_addr) & mask) };
		char nb[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &na, nb, sizeof(nb));
		return pv_err_set(err, EINVAL, "cidr \"%s\": host bits set (the network is %s/%lu)",
				  text, nb, prefix);
	}
	out->net = a;
	out->prefix = (unsigned)prefix;
	return 0;
}

void netns_cidr_format(const struct netns_cidr *c, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->net, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}

struct in_addr netns_cidr_at(const struct netns_cidr *c, uint32_t off)
{
	struct in_addr a = { htonl(ntohl(c->net.s_addr) + off) };

	return a;
}

uint32_t netns_cidr_size(const struct netns_cidr *c)
{
	return 1u << (32 - c->prefix);
}

struct in_addr netns_cidr_gateway(const struct netns_cidr *c)
{
	return netns_cidr_at(c, 1);
}

struct in_addr netns_cidr_broadcast(const struct netns_cidr *c)
{
	return netns_cidr_at(c, netns_cidr_size(c) - 1);
}

uint32_t netns_cidr_offset(const struct netns_cidr *c, struct in_addr a)
{
	uint32_t off = ntohl(a.s_addr) - ntohl(c->net.s_addr);

	return off < netns_cidr_size(c) ? off : UINT32_MAX;
}

/* Pod addresses: everything but network (0), gateway (1), broadcast. */
bool netns_cidr_is_pod_addr(const struct netns_cidr *c, struct in_addr a)
{
	uint32_t off = netns_cidr_offset(c, a);

	return off != UINT32_MAX && off >= 2 && off < netns_cidr_size(c) - 1;
}
