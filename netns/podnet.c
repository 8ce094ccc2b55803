/* A pod's network in its VPC: the address lease, the persistent tap
 * (created before boot so QEMU can open it), moving it into the VPC
 * namespace onto the bridge once QEMU holds it, and releasing both; taps
 * are tagged and deleted in batches (netns_flush) off the critical path.
 * Each operation completes or undoes its own steps. VPCs themselves are
 * in netns/vpc.c. */
#include "netns/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static int pod_lookup(struct netns_ctx *ctx, const char *vpc, const char *uid,
		      struct vpc **v, char tap[IFNAMSIZ], struct pv_err *err)
{
	int ret = netns_tap_name(uid, tap, err);

	if (ret < 0)
		return ret;
	*v = netns_vpc_find(ctx, vpc);
	if (!*v)
		return pv_err_set(err, ENOENT, "vpc %s: not open", vpc);
	return 0;
}

/* What the VM needs, from the VPC and the pod's lease. */
static void pod_net_fill(const struct vpc *v, const char *uid, struct in_addr addr,
			 struct netns_pod_net *out)
{
	const struct netns_vpc_info *info = netns_ipam_info(v->ipam);

	netns_pod_mac(uid, out->mac, NULL);
	out->addr = addr;
	out->prefix = info->cidr.prefix;
	out->gateway = netns_cidr_gateway(&info->cidr);
	memcpy(out->dns, info->dns, sizeof(out->dns));
	out->ndns = info->ndns;
}

/* The pod's tap exists in the host namespace already: a daemon restart
 * between prepare and boot, or the same pod prepared again before the
 * flush.  It is ours (the name follows from the uid) and no VM has it open
 * (none was booted with it), so keep it; untag it if it was released. */
static int pod_tap_reuse(struct netns_ctx *ctx, const char *tap, struct pv_err *err)
{
	uint32_t group = 0;
	int ret = netns_link_group(ctx->host, tap, &group, err);

	if (ret < 0)
		return ret;
	if (group != NETNS_GROUP_DOOMED)
		return 0;
	ret = netns_link_set_group(ctx->host, ret, NULL, 0, err);
	if (ret == 0 && ctx->host_pending)
		ctx->host_pending--;
	return ret;
}

int netns_pod_prepare(struct netns_ctx *ctx, const char *vpc, const char *uid,
		      const struct in_addr *want, struct netns_pod_net *out,
		      struct pv_err *err)
{
	struct in_addr addr;
	struct vpc *v;
	bool had_lease;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctx->lock);
	ret = pod_lookup(ctx, vpc, uid, &v, out->tap, err);
	if (ret < 0)
		goto out;
	had_lease = netns_ipam_lookup(v->ipam, uid, &addr) == 0;
	if (want) {
		addr = *want;
		ret = netns_ipam_alloc_addr(v->ipam, uid, addr, err);
	} else {
		ret = netns_ipam_alloc(v->ipam, uid, &addr, err);
	}
	if (ret < 0)
		goto out;
	ret = netns_tap_create_persistent(out->tap, err);
	if (ret == -EBUSY)
		ret = pod_tap_reuse(ctx, out->tap, err);
	if (ret < 0) {
		if (!had_lease)
			netns_ipam_release(v->ipam, uid, NULL);
		goto out;
	}
	pod_net_fill(v, uid, addr, out);
out:
	if (ret < 0)
		pv_err_prefix(err, "pod %s", uid);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_pod_info(struct netns_ctx *ctx, const char *vpc, const char *uid,
		   struct netns_pod_net *out, struct pv_err *err)
{
	struct in_addr addr;
	struct vpc *v;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctx->lock);
	ret = pod_lookup(ctx, vpc, uid, &v, out->tap, err);
	if (ret == 0 && netns_ipam_lookup(v->ipam, uid, &addr) < 0)
		ret = pv_err_set(err, ENOENT, "pod %s: no address in vpc %s", uid, vpc);
	if (ret == 0)
		pod_net_fill(v, uid, addr, out);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

/* Move the tap into the VPC.  *moved is false when it was there already
 * (attached before a daemon restart): attach is then only re-asserted. */
static int pod_move_in(struct netns_ctx *ctx, struct vpc *v, const char *tap,
		       bool *moved, struct pv_err *err)
{
	int deleted, ret = netns_link_move(ctx->host, 0, tap, v->nsfd, err);
	uint32_t group = 0;

	*moved = ret == 0;
	if (ret == -ENODEV && netns_link_group(v->sk, tap, &group, NULL) > 0 &&
	    group != NETNS_GROUP_DOOMED)
		return 0;
	if (ret != -EEXIST)
		return ret;
	/* A released tap of the same pod uid, not flushed yet, holds the
	 * name in the VPC: flush now (the rare case pays the batch). */
	ret = netns_link_delete_group(v->sk, NETNS_GROUP_DOOMED, &deleted, err);
	if (ret < 0)
		return ret;
	v->pending = 0;
	ret = netns_link_move(ctx->host, 0, tap, v->nsfd, err);
	*moved = ret == 0;
	return ret;
}

int netns_pod_attach(struct netns_ctx *ctx, const char *vpc, const char *uid,
		     struct pv_err *err)
{
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	struct vpc *v;
	bool moved = false;
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ret = pod_lookup(ctx, vpc, uid, &v, tap, err);
	if (ret < 0)
		goto out;
	ret = pod_move_in(ctx, v, tap, &moved, err);
	if (ret < 0)
		goto out;
	/* Host side MAC of the tap: the guest's with 0xfe first, as libvirt
	 * does, so it never equals a guest's. */
	netns_pod_mac(uid, mac, NULL);
	mac[0] = 0xfe;
	ret = netns_link_attach(v->sk, 0, tap, v->bridge, mac, err);
	if (ret < 0 && moved)
		netns_link_move(v->sk, 0, tap, ctx->host_nsfd, NULL);   /* undo the move */
out:
	if (ret < 0)
		pv_err_prefix(err, "pod %s: attach to vpc %s", uid, vpc);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_pod_release(struct netns_ctx *ctx, const char *vpc, const char *uid,
		      struct pv_err *err)
{
	struct nl_sock *where = NULL;
	char tap[IFNAMSIZ];
	struct vpc *v;
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ret = pod_lookup(ctx, vpc, uid, &v, tap, err);
	if (ret < 0)
		goto out;
	/* Tag the tap wherever it is (attached: in the VPC; never attached:
	 * in the host namespace).  No deletion here: see netns_flush(). */
	ret = netns_link_set_group(v->sk, 0, tap, NETNS_GROUP_DOOMED, err);
	if (ret == 0) {
		where = v->sk;
	} else if (ret == -ENODEV) {
		ret = netns_link_set_group(ctx->host, 0, tap, NETNS_GROUP_DOOMED, err);
		if (ret == 0)
			where = ctx->host;
		else if (ret == -ENODEV)
			ret = 0;   /* no tap: released before, or never made */
	}
	if (ret < 0)
		goto out;
	ret = netns_ipam_release(v->ipam, uid, err);
	if (ret < 0) {
		if (where)   /* undo the tag: the pod keeps everything */
			netns_link_set_group(where, 0, tap, 0, NULL);
		goto out;
	}
	if (where == v->sk)
		v->pending++;
	else if (where)
		ctx->host_pending++;
out:
	if (ret < 0)
		pv_err_prefix(err, "pod %s: release from vpc %s", uid, vpc);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int netns_flush_locked(struct netns_ctx *ctx, struct pv_err *err)
{
	int deleted, ret, first = 0;

	/* In the host namespace only links carrying podvm's own group are
	 * deleted; a VPC namespace is podvm's alone. */
	ret = netns_link_delete_group(ctx->host, NETNS_GROUP_DOOMED, &deleted, err);
	if (ret < 0)
		first = ret;
	else
		ctx->host_pending = 0;
	for (struct vpc *v = ctx->vpcs; v; v = v->next) {
		ret = netns_link_delete_group(v->sk, NETNS_GROUP_DOOMED, &deleted,
					first ? NULL : err);
		if (ret < 0 && !first)
			first = ret;
		else if (ret == 0)
			v->pending = 0;
	}
	return first;
}

int netns_flush(struct netns_ctx *ctx, struct pv_err *err)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ret = netns_flush_locked(ctx, err);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

size_t netns_pending(struct netns_ctx *ctx)
{
	size_t n;

	pthread_mutex_lock(&ctx->lock);
	n = ctx->host_pending;
	for (struct vpc *v = ctx->vpcs; v; v = v->next)
		n += v->pending;
	pthread_mutex_unlock(&ctx->lock);
	return n;
}
