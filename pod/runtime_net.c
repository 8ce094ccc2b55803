/* The pod's network in the runtime message (struct runtime_net): its
 * consistency rules and its JSON form, decoded strictly (the guest treats
 * it as hostile input, like the rest of the runtime). */
#include "pod/runtime.h"
#include "util/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static bool rt_add_str(struct json_object *o, const char *key, const char *s)
{
	return util_json_add(o, key, json_object_new_string(s));
}

static uint32_t rt_mask(unsigned prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

int runtime_net_check(const struct runtime_net *net, struct pv_err *err)
{
	uint32_t mask, a = net->addr.s_addr, g = net->gateway.s_addr;
	static const uint8_t zero[6];

	if ((net->mac[0] & 1) || !memcmp(net->mac, zero, sizeof(zero)))
		return pv_err_set(err, EINVAL, "runtime: network.mac: not a "
				  "unicast address");
	if (net->prefix < 1 || net->prefix > 30)
		return pv_err_set(err, EINVAL, "runtime: network.prefixLength: "
				  "want 1 to 30");
	mask = rt_mask(net->prefix);
	/* neither the network nor the broadcast address of its subnet */
	if ((a & ~mask) == 0 || (a & ~mask) == ~mask)
		return pv_err_set(err, EINVAL, "runtime: network.address: not a "
				  "host address of its subnet");
	if ((g & mask) != (a & mask) || g == a || (g & ~mask) == 0 ||
	    (g & ~mask) == ~mask)
		return pv_err_set(err, EINVAL, "runtime: network.gateway: not "
				  "another host address of the pod's subnet");
	if (net->mtu < RUNTIME_NET_MTU_MIN || net->mtu > RUNTIME_NET_MTU_MAX)
		return pv_err_set(err, EINVAL, "runtime: network.mtu: want %d "
				  "to %d", RUNTIME_NET_MTU_MIN, RUNTIME_NET_MTU_MAX);
	if (net->n_dns > RUNTIME_NET_DNS_MAX)
		return pv_err_set(err, EINVAL, "runtime: network.dns: at most %d",
				  RUNTIME_NET_DNS_MAX);
	return 0;
}

static struct json_object *rt_ip_json(struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];

	if (!inet_ntop(AF_INET, &a, buf, sizeof(buf)))
		return NULL;
	return json_object_new_string(buf);
}

struct json_object *runtime_net_to_json(const struct runtime_net *n)
{
	struct json_object *o = json_object_new_object(), *dns = NULL;
	char mac[18];

	if (!o)
		return NULL;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
		 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	if (!rt_add_str(o, "mac", mac) || !util_json_add(o, "address", rt_ip_json(n->addr)) ||
	    !util_json_add(o, "prefixLength", json_object_new_int((int)n->prefix)) ||
	    !util_json_add(o, "gateway", rt_ip_json(n->gateway)) ||
	    !util_json_add(o, "mtu", json_object_new_int((int)n->mtu)))
		goto fail;
	dns = json_object_new_array();
	if (!util_json_add(o, "dns", dns))
		goto fail;
	for (size_t i = 0; i < n->n_dns && i < RUNTIME_NET_DNS_MAX; i++) {
		struct json_object *d = rt_ip_json(n->dns[i]);

		if (!d || json_object_array_add(dns, d) != 0) {
			json_object_put(d);
			goto fail;
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* A dotted-quad IPv4 address (inet_pton: no other forms). */
static int rt_get_ip(struct json_object *v, const char *what,
		     struct in_addr *out, struct pv_err *err)
{
	const char *s = json_object_get_string(v);

	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != strlen(s) ||
	    inet_pton(AF_INET, s, out) != 1)
		return pv_err_set(err, EINVAL, "runtime: network.%s: expected "
				  "an IPv4 address", what);
	return 0;
}

static int rt_get_uint(struct json_object *v, const char *what, unsigned max,
		       unsigned *out, struct pv_err *err)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return pv_err_set(err, EINVAL, "runtime: network.%s: expected "
				  "an integer", what);
	n = json_object_get_int64(v);
	if (n < 0 || n > max)
		return pv_err_set(err, EINVAL, "runtime: network.%s: out of "
				  "range", what);
	*out = (unsigned)n;
	return 0;
}

static int rt_get_mac(struct json_object *v, uint8_t mac[6], struct pv_err *err)
{
	const char *s = json_object_get_string(v);
	unsigned b[6];
	int end = 0;

	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || end != 17)
		return pv_err_set(err, EINVAL, "runtime: network.mac: expected "
				  "xx:xx:xx:xx:xx:xx");
	for (int i = 0; i < 6; i++) {
		if (!strchr("0123456789abcdefABCDEF", s[3 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[3 * i + 1]))
			return pv_err_set(err, EINVAL, "runtime: network.mac: "
					  "expected xx:xx:xx:xx:xx:xx");
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

int runtime_net_from_json(struct json_object *o, struct runtime_net **out,
			  struct pv_err *err)
{
	struct runtime_net *n = calloc(1, sizeof(*n));
	unsigned seen = 0;
	int ret = 0;

	if (!n)
		return pv_err_set(err, ENOMEM, "out of memory");
	if (!json_object_is_type(o, json_type_object)) {
		ret = pv_err_set(err, EINVAL, "runtime: network: expected object");
		goto out;
	}
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "mac") == 0) {
			ret = rt_get_mac(v, n->mac, err);
			seen |= 1;
		} else if (strcmp(key, "address") == 0) {
			ret = rt_get_ip(v, key, &n->addr, err);
			seen |= 2;
		} else if (strcmp(key, "prefixLength") == 0) {
			ret = rt_get_uint(v, key, 32, &n->prefix, err);
			seen |= 4;
		} else if (strcmp(key, "gateway") == 0) {
			ret = rt_get_ip(v, key, &n->gateway, err);
			seen |= 8;
		} else if (strcmp(key, "mtu") == 0) {
			ret = rt_get_uint(v, key, RUNTIME_NET_MTU_MAX, &n->mtu, err);
			seen |= 16;
		} else if (strcmp(key, "dns") == 0) {
			size_t nd = json_object_array_length(v);

			if (!json_object_is_type(v, json_type_array) ||
			    nd > RUNTIME_NET_DNS_MAX) {
				ret = pv_err_set(err, EINVAL, "runtime: network.dns: "
						 "expected at most %d addresses",
						 RUNTIME_NET_DNS_MAX);
				goto out;
			}
			for (size_t i = 0; ret == 0 && i < nd; i++)
				ret = rt_get_ip(json_object_array_get_idx(v, i), key,
						&n->dns[i], err);
			n->n_dns = nd;
		} else {
			ret = pv_err_set(err, EINVAL, "runtime: network.%.32s: "
					 "unknown field", key);
		}
		if (ret < 0)
			goto out;
	}
	if (seen != 31) {
		ret = pv_err_set(err, EINVAL, "runtime: network: mac, address, "
				 "prefixLength, gateway and mtu are required");
		goto out;
	}
	ret = runtime_net_check(n, err);
	if (ret < 0)
		goto out;
	inet_ntop(AF_INET, &n->addr, n->addr_text, sizeof(n->addr_text));
	*out = n;
	n = NULL;
out:
	free(n);
	return ret;
}
