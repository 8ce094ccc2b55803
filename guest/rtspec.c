/* The one place that knows how struct pod_runtime lays out what the host
 * resolved (init containers, pod IP, DNS), so that the rest of the guest
 * does not change when the runtime message grows. */
#include "guest/guest.h"

#include <arpa/inet.h>
#include <stdio.h>

size_t guest_rt_n_init(const struct pod_runtime *rt)
{
	return rt->n_init_containers;
}

const struct runtime_container *guest_rt_ctr(const struct pod_runtime *rt,
					     bool init, size_t i)
{
	if (init)
		return i < rt->n_init_containers ? &rt->init_containers[i] : NULL;
	return i < rt->n_containers ? &rt->containers[i] : NULL;
}

/* /etc/hosts gets "POD_IP HOSTNAME" when the pod has a network. */
const char *guest_rt_pod_ip(const struct pod_runtime *rt)
{
	return rt->net && rt->net->addr_text[0] ? rt->net->addr_text : NULL;
}

/* resolv.conf from the network's DNS servers; NULL: none configured. */
const char *guest_rt_resolv_conf(const struct pod_runtime *rt)
{
	static char buf[RUNTIME_NET_DNS_MAX * 32 + 1];
	size_t i, off = 0;

	if (!rt->net || !rt->net->n_dns)
		return NULL;
	for (i = 0; i < rt->net->n_dns && i < RUNTIME_NET_DNS_MAX; i++) {
		char a[INET_ADDRSTRLEN];
		int n;

		if (!inet_ntop(AF_INET, &rt->net->dns[i], a, sizeof(a)))
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, "nameserver %s\n", a);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	return off ? buf : NULL;
}
