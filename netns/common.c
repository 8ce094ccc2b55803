/* Name validation, names and MACs derived from pod UIDs, fault hook. */
#include "netns/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int netns_fail_at;
int netns_steps;

int netns_fault(const char *what, struct pv_err *err)
{
	if (++netns_steps != netns_fail_at)
		return 0;
	return pv_err_set(err, EIO, "%s: injected fault at step %d", what, netns_steps);
}

/* FNV-1a, 64 bit: stable across runs and builds, which is all we need
 * (names and MACs must not change when the daemon restarts). */
uint64_t netns_hash(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	/* final avalanche (splitmix64) so that close UIDs differ everywhere */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int netns_valid_vpc_name(const char *name, struct pv_err *err)
{
	size_t n;

	if (!name || !*name)
		return pv_err_set(err, EINVAL, "vpc name is empty");
	n = strlen(name);
	if (n > NETNS_VPC_NAME_MAX)
		return pv_err_set(err, EINVAL, "vpc name \"%.*s...\" is longer than %d characters",
				  NETNS_VPC_NAME_MAX, name, NETNS_VPC_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(name[i]) && name[i] != '-')
			return pv_err_set(err, EINVAL,
					  "vpc name \"%s\": only a-z, 0-9 and '-' are allowed", name);
	if (name[0] == '-' || name[n - 1] == '-')
		return pv_err_set(err, EINVAL,
				  "vpc name \"%s\" must start and end with a letter or digit", name);
	return 0;
}

int netns_valid_uid(const char *uid, struct pv_err *err)
{
	size_t n;

	if (!uid || !*uid)
		return pv_err_set(err, EINVAL, "pod uid is empty");
	n = strlen(uid);
	if (n > NETNS_UID_MAX)
		return pv_err_set(err, EINVAL, "pod uid is longer than %d characters", NETNS_UID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = uid[i];

		if (!is_lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != '-' &&
		    c != '_' && c != '.')
			return pv_err_set(err, EINVAL,
					  "pod uid \"%.64s\": only letters, digits, '-', '_' and '.' are allowed",
					  uid);
	}
	return 0;
}

int netns_valid_ifname(const char *name, struct pv_err *err)
{
	size_t n;

	if (!name || !*name)
		return pv_err_set(err, EINVAL, "interface name is empty");
	n = strlen(name);
	if (n >= IFNAMSIZ)
		return pv_err_set(err, EINVAL, "interface name \"%.32s\" is longer than %d characters",
				  name, IFNAMSIZ - 1);
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(name[i]) && name[i] != '-')
			return pv_err_set(err, EINVAL,
					  "interface name \"%s\": only a-z, 0-9 and '-' are allowed", name);
	return 0;
}

int netns_tap_name(const char *uid, char out[IFNAMSIZ], struct pv_err *err)
{
	int ret = netns_valid_uid(uid, err);

	if (ret < 0)
		return ret;
	/* 4 + 11 = 15 characters: 44 bits of hash */
	snprintf(out, IFNAMSIZ, NETNS_TAP_PREFIX "%011llx",
		 (unsigned long long)(netns_hash(uid, 0) >> 20));
	return 0;
}

int netns_pod_mac(const char *uid, uint8_t mac[6], struct pv_err *err)
{
	uint64_t h;
	int ret = netns_valid_uid(uid, err);

	if (ret < 0)
		return ret;
	h = netns_hash(uid, 0x6d6163);   /* other seed than the tap name */
	mac[0] = 0x02;                   /* locally administered, unicast */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
	return 0;
}
