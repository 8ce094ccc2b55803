/* VPC orchestration: every operation either completes or undoes its own
 * steps in reverse order (for links inside a VPC namespace the undo of
 * "create the namespace" covers them all). A pod's network in its VPC is
 * in netns/podnet.c. */
#include "netns/internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

#define LO_IFINDEX 1   /* loopback is always ifindex 1 in a namespace */

static const char *vpc_name(const struct vpc *v)
{
	return netns_ipam_info(v->ipam)->name;
}

void netns_vpc_free(struct vpc *v)
{
	if (!v)
		return;
	netns_link_sock_close(v->sk);
	if (v->nsfd >= 0)
		close(v->nsfd);
	netns_ipam_close(v->ipam);
	free(v);
}

struct vpc *netns_vpc_find(struct netns_ctx *ctx, const char *name)
{
	for (struct vpc *v = ctx->vpcs; v; v = v->next)
		if (!strcmp(vpc_name(v), name))
			return v;
	return NULL;
}

void netns_vpc_unlink(struct netns_ctx *ctx, struct vpc *v)
{
	for (struct vpc **pp = &ctx->vpcs; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			return;
		}
}

int netns_ctx_new(const struct netns_config *cfg, struct netns_ctx **out, struct pv_err *err)
{
	const char *dir = cfg->netns_dir ? cfg->netns_dir : NETNS_DEFAULT_DIR;
	struct netns_ctx *ctx;
	int ret;

	*out = NULL;
	if (dir[0] != '/' || !cfg->state_dir || cfg->state_dir[0] != '/')
		return pv_err_set(err, EINVAL, "netns: the namespace and state dirs must be absolute paths");
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return pv_err_set(err, ENOMEM, "netns: out of memory");
	ctx->host_nsfd = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	if (util_fmt(ctx->netns_dir, sizeof(ctx->netns_dir), "%s", dir) < 0 ||
	    util_fmt(ctx->state_dir, sizeof(ctx->state_dir), "%s", cfg->state_dir) < 0) {
		ret = pv_err_set(err, ENAMETOOLONG, "netns: directory path too long");
		goto out;
	}
	ret = netns_ns_dir_prepare(ctx->netns_dir, err);
	if (ret < 0)
		goto out;
	ret = util_mkdir_p(ctx->state_dir, 0700, err);
	if (ret < 0)
		goto out;
	/* the caller's namespace, to move a tap back on rollback */
	ctx->host_nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ctx->host_nsfd < 0) {
		ret = pv_err_sys(err, errno, "open /proc/thread-self/ns/net");
		goto out;
	}
	ret = netns_link_sock_open(-1, &ctx->host, err);
out:
	if (ret < 0)
		netns_ctx_free(ctx);
	else
		*out = ctx;
	return ret;
}

void netns_ctx_free(struct netns_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->vpcs) {
		struct vpc *v = ctx->vpcs;

		ctx->vpcs = v->next;
		netns_vpc_free(v);
	}
	netns_link_sock_close(ctx->host);
	if (ctx->host_nsfd >= 0)
		close(ctx->host_nsfd);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

static int ns_path_of(const struct netns_ctx *ctx, const char *name, char *buf,
		      size_t len, struct pv_err *err)
{
	if (util_fmt(buf, len, "%s/" NETNS_VPC_NS_PREFIX "%s", ctx->netns_dir, name) < 0)
		return pv_err_set(err, ENAMETOOLONG, "vpc %s: namespace path too long", name);
	return 0;
}

/* Bridge MAC from the VPC name: stable across restarts and rebuilds. */
static void bridge_mac(const char *name, uint8_t mac[6])
{
	uint64_t h = netns_hash(name, 0x627267);

	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

/* Inside a fresh namespace: lo up, bridge with the gateway address, up. */
static int vpc_fill_ns(struct vpc *v, struct pv_err *err)
{
	const struct netns_vpc_info *info = netns_ipam_info(v->ipam);
	uint8_t mac[6];
	int ret;

	ret = netns_link_set_up(v->sk, LO_IFINDEX, NULL, err);
	if (ret < 0)
		return ret;
	bridge_mac(info->name, mac);
	ret = netns_link_bridge_add(v->sk, NETNS_BRIDGE, mac, err);
	if (ret < 0)
		return ret;
	ret = netns_link_ifindex(v->sk, NETNS_BRIDGE, err);
	if (ret < 0)
		return ret;
	v->bridge = ret;
	ret = netns_link_addr_add(v->sk, v->bridge, netns_cidr_gateway(&info->cidr),
			    info->cidr.prefix, netns_cidr_broadcast(&info->cidr), err);
	if (ret < 0)
		return ret;
	return netns_link_set_up(v->sk, v->bridge, NULL, err);
}

/* Attach to the VPC's namespace, creating and filling it when missing.
 * Takes ipam on success; on failure the caller keeps it, and no namespace
 * made here is left. */
static int vpc_build(struct netns_ctx *ctx, struct netns_ipam *ipam, struct pv_err *err)
{
	const char *name = netns_ipam_info(ipam)->name;
	struct vpc *v;
	bool created = false;
	int ret, m;

	v = calloc(1, sizeof(*v));
	if (!v)
		return pv_err_set(err, ENOMEM, "vpc %s: out of memory", name);
	v->ipam = ipam;
	v->nsfd = -1;
	ret = ns_path_of(ctx, name, v->ns_path, sizeof(v->ns_path), err);
	if (ret < 0)
		goto out;
	m = netns_ns_is_mounted(v->ns_path);
	if (m == 0 && unlink(v->ns_path) < 0 && errno != ENOENT) {
		/* a file without a namespace: a crash between create and mount */
		ret = pv_err_sys(err, errno, "unlink stale %s", v->ns_path);
		goto out;
	}
	if (m != 1) {
		ret = netns_ns_create(v->ns_path, err);
		if (ret < 0)
			goto out;
		created = true;
	}
	ret = netns_ns_open(v->ns_path, &v->nsfd, err);
	if (ret < 0)
		goto out;
	ret = netns_link_sock_open(v->nsfd, &v->sk, err);
	if (ret < 0)
		goto out;
	if (created) {
		ret = vpc_fill_ns(v, err);
	} else {
		ret = netns_link_ifindex(v->sk, NETNS_BRIDGE, err);
		if (ret >= 0) {
			v->bridge = ret;
			ret = 0;
		}
	}
out:
	if (ret < 0) {
		pv_err_prefix(err, "vpc %s", name);
		/* the namespace holds every link made in it: one undo */
		if (created)
			netns_ns_delete(v->ns_path, NULL);
		v->ipam = NULL;
		netns_vpc_free(v);
		return ret;
	}
	v->next = ctx->vpcs;
	ctx->vpcs = v;
	return 0;
}

static bool info_equal(const struct netns_vpc_info *a, const struct netns_vpc_info *b)
{
	if (a->cidr.net.s_addr != b->cidr.net.s_addr || a->cidr.prefix != b->cidr.prefix ||
	    a->ndns != b->ndns)
		return false;
	for (size_t i = 0; i < a->ndns; i++)
		if (a->dns[i].s_addr != b->dns[i].s_addr)
			return false;
	return true;
}

static int vpc_create_locked(struct netns_ctx *ctx, const struct netns_vpc_info *info,
			     struct pv_err *err)
{
	struct netns_ipam *ipam = NULL;
	struct vpc *v;
	bool created_state = false;
	int ret;

	ret = netns_valid_vpc_name(info->name, err);
	if (ret < 0)
		return ret;
	v = netns_vpc_find(ctx, info->name);
	if (v) {
		if (!info_equal(netns_ipam_info(v->ipam), info))
			return pv_err_set(err, EEXIST, "vpc %s exists with other settings", info->name);
		return 0;
	}
	ret = netns_ipam_create(ctx->state_dir, info, &ipam, err);
	if (ret == 0) {
		created_state = true;
	} else if (ret == -EEXIST) {
		/* adopt: a restart, or the same request again */
		ret = netns_ipam_open(ctx->state_dir, info->name, &ipam, err);
		if (ret < 0)
			return ret;
		if (!info_equal(netns_ipam_info(ipam), info)) {
			char have[NETNS_CIDR_STRLEN];

			netns_cidr_format(&netns_ipam_info(ipam)->cidr, have, sizeof(have));
			netns_ipam_close(ipam);
			return pv_err_set(err, EEXIST, "vpc %s exists with cidr %s (dns may differ)",
					  info->name, have);
		}
	} else {
		return ret;
	}
	ret = vpc_build(ctx, ipam, err);
	if (ret < 0) {
		if (created_state)
			netns_ipam_remove(ipam, NULL);   /* undo the state file */
		else
			netns_ipam_close(ipam);
	}
	return ret;
}

int netns_vpc_create(struct netns_ctx *ctx, const struct netns_vpc_info *info,
		     struct pv_err *err)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ret = vpc_create_locked(ctx, info, err);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_vpc_open_locked(struct netns_ctx *ctx, const char *name, struct pv_err *err)
{
	struct netns_ipam *ipam = NULL;
	int ret = netns_valid_vpc_name(name, err);

	if (ret < 0)
		return ret;
	if (netns_vpc_find(ctx, name))
		return 0;
	ret = netns_ipam_open(ctx->state_dir, name, &ipam, err);
	if (ret < 0)
		return ret;
	ret = vpc_build(ctx, ipam, err);
	if (ret < 0)
		netns_ipam_close(ipam);
	return ret;
}

int netns_vpc_open(struct netns_ctx *ctx, const char *name, struct pv_err *err)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ret = netns_vpc_open_locked(ctx, name, err);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

/* Remove a VPC's namespace and state whether or not the context holds it
 * (cleanup of VPCs nobody claims).  Retry-safe: each step tolerates the
 * earlier ones having been done. */
static int vpc_destroy_locked(struct netns_ctx *ctx, const char *name, unsigned flags,
			      struct pv_err *err)
{
	struct vpc *v = netns_vpc_find(ctx, name);
	struct netns_ipam *ipam = v ? v->ipam : NULL;
	char path[4096];
	int ret;

	ret = ns_path_of(ctx, name, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	if (!ipam) {
		ret = netns_ipam_open(ctx->state_dir, name, &ipam, err);
		if (ret < 0 && ret != -ENOENT)
			return ret;
	}
	if (ipam && netns_ipam_count(ipam) && !(flags & NETNS_DESTROY_FORCE)) {
		ret = pv_err_set(err, EBUSY, "vpc %s: %zu pods still hold addresses", name,
				 netns_ipam_count(ipam));
		goto out;
	}
	/* the kernel frees the namespace, and deletes its links in one
	 * batch, once our fds on it below are closed too */
	ret = netns_ns_delete(path, err);
	if (ret < 0)
		goto out;
	ret = NETNS_STEP("remove state", err);
	if (ret < 0)
		goto out;
	if (v) {
		netns_vpc_unlink(ctx, v);
		v->ipam = NULL;
		netns_vpc_free(v);
		v = NULL;
	}
	ret = ipam ? netns_ipam_remove(ipam, err) : 0;
	ipam = NULL;
out:
	if (!v && ipam)
		netns_ipam_close(ipam);
	if (ret < 0)
		pv_err_prefix(err, "destroy vpc %s", name);
	return ret;
}

int netns_vpc_destroy(struct netns_ctx *ctx, const char *name, unsigned flags,
		      struct pv_err *err)
{
	int ret = netns_valid_vpc_name(name, err);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&ctx->lock);
	ret = vpc_destroy_locked(ctx, name, flags, err);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_vpc_info(struct netns_ctx *ctx, const char *name, struct netns_vpc_info *out,
		   struct pv_err *err)
{
	struct vpc *v;
	int ret = 0;

	pthread_mutex_lock(&ctx->lock);
	v = netns_vpc_find(ctx, name);
	if (v)
		*out = *netns_ipam_info(v->ipam);
	else
		ret = pv_err_set(err, ENOENT, "vpc %s: not open", name);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_vpc_ns_path(struct netns_ctx *ctx, const char *name, char *buf, size_t len,
		      struct pv_err *err)
{
	int ret = netns_valid_vpc_name(name, err);

	return ret < 0 ? ret : ns_path_of(ctx, name, buf, len, err);
}
