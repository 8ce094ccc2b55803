/* Orchestration of start-up orphan removal (netns_cleanup). */
#include "netns/internal.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

/* ---- start-up orphan removal --------------------------------------------- */

struct orphan_scan {
	struct nl_sock *sk;
	const char (*taps)[IFNAMSIZ];
	size_t ntaps;
	size_t tagged;
	struct pv_err *err;
};

static int tag_orphan(void *arg, const char *name, int ifindex, uint32_t group)
{
	struct orphan_scan *s = arg;
	int ret;

	if (group == NETNS_GROUP_DOOMED) {
		s->tagged++;
		return 0;
	}
	for (size_t i = 0; i < s->ntaps; i++)
		if (!strcmp(s->taps[i], name))
			return 0;
	ret = netns_link_set_group(s->sk, ifindex, NULL, NETNS_GROUP_DOOMED, s->err);
	if (ret == -ENODEV)
		return 0;
	if (ret == 0)
		s->tagged++;
	return ret;
}

static bool name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(list[i], name))
			return true;
	return false;
}

/* Unmount every podvm VPC namespace under netns_dir that no one claims. */
static int cleanup_namespaces(struct netns_ctx *ctx, const struct netns_known *k,
			      struct netns_cleanup_report *rep, struct pv_err *err)
{
	size_t plen = strlen(NETNS_VPC_NS_PREFIX);
	struct dirent *de;
	DIR *d = opendir(ctx->netns_dir);
	int ret = 0;

	if (!d)
		return pv_err_sys(err, errno, "open %s", ctx->netns_dir);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name + plen;
		char path[4096];
		struct vpc *v;

		if (strncmp(de->d_name, NETNS_VPC_NS_PREFIX, plen) ||
		    name_in(name, k->vpcs, k->nvpcs))
			continue;
		if (util_fmt(path, sizeof(path), "%s/%s", ctx->netns_dir, de->d_name) < 0)
			continue;   /* cannot be ours: we never make such a name */
		ret = netns_ns_delete(path, err);
		if (ret < 0)
			break;
		v = netns_vpc_find(ctx, name);
		if (v) {
			netns_vpc_unlink(ctx, v);
			netns_vpc_free(v);
		}
		rep->namespaces++;
	}
	closedir(d);
	return ret;
}

/* Remove state files (and temp files) of VPCs no one claims. */
static int cleanup_states(struct netns_ctx *ctx, const struct netns_known *k,
			  struct netns_cleanup_report *rep, struct pv_err *err)
{
	struct dirent *de;
	DIR *d = opendir(ctx->state_dir);
	int ret = 0;

	if (!d)
		return pv_err_sys(err, errno, "open %s", ctx->state_dir);
	while ((de = readdir(d)) != NULL) {
		char name[NETNS_VPC_NAME_MAX + 1], path[4096];
		const char *dot = strchr(de->d_name, '.');
		size_t n = dot ? (size_t)(dot - de->d_name) : 0;

		if (!dot || n == 0 || n > NETNS_VPC_NAME_MAX ||
		    (strcmp(dot, ".ipam") && strcmp(dot, ".ipam.tmp")))
			continue;
		memcpy(name, de->d_name, n);
		name[n] = '\0';
		if (name_in(name, k->vpcs, k->nvpcs) && strcmp(dot, ".ipam.tmp"))
			continue;
		if (netns_valid_vpc_name(name, NULL) < 0 ||
		    util_fmt(path, sizeof(path), "%s/%s", ctx->state_dir, de->d_name) < 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			ret = pv_err_sys(err, errno, "unlink %s", path);
			break;
		}
		if (!strcmp(dot, ".ipam"))
			rep->states++;
	}
	closedir(d);
	return ret;
}

/* In a known VPC: free leases of unknown pods, tag their taps. */
static int cleanup_vpc(struct vpc *v, const struct netns_known *k,
		       struct orphan_scan *scan, struct netns_cleanup_report *rep,
		       struct pv_err *err)
{
	char uid[NETNS_UID_MAX + 1];
	int ret;

	/* downwards: release moves the last lease into the freed slot */
	for (size_t i = netns_ipam_count(v->ipam); i-- > 0;) {
		const char *u = netns_ipam_lease(v->ipam, i, NULL);

		if (!u || name_in(u, k->uids, k->nuids))
			continue;
		memcpy(uid, u, strlen(u) + 1);
		ret = netns_ipam_release(v->ipam, uid, err);
		if (ret < 0)
			return ret;
		rep->leases++;
	}
	scan->sk = v->sk;
	scan->tagged = 0;
	ret = netns_link_foreach(v->sk, NETNS_TAP_PREFIX, tag_orphan, scan, err);
	v->pending += scan->tagged;
	rep->links += scan->tagged;
	return ret;
}

int netns_cleanup(struct netns_ctx *ctx, const struct netns_known *k,
		  struct netns_cleanup_report *rep, struct pv_err *err)
{
	char (*taps)[IFNAMSIZ] = NULL;
	struct orphan_scan scan = { .err = err };
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	if (k->nuids) {
		taps = calloc(k->nuids, sizeof(*taps));
		if (!taps)
			return pv_err_set(err, ENOMEM, "netns cleanup: out of memory");
	}
	for (size_t i = 0; i < k->nuids; i++) {
		ret = netns_tap_name(k->uids[i], taps[i], err);
		if (ret < 0)
			goto out_free;
	}
	scan.taps = (const char (*)[IFNAMSIZ])taps;
	scan.ntaps = k->nuids;
	pthread_mutex_lock(&ctx->lock);
	ret = cleanup_namespaces(ctx, k, rep, err);
	if (ret == 0)
		ret = cleanup_states(ctx, k, rep, err);
	/* adopt the known VPCs (a missing namespace is rebuilt from state;
	 * a VPC without state is the daemon's to create) */
	for (size_t i = 0; ret == 0 && i < k->nvpcs; i++) {
		ret = netns_vpc_open_locked(ctx, k->vpcs[i], err);
		if (ret == -ENOENT)
			ret = 0;
	}
	for (struct vpc *v = ctx->vpcs; ret == 0 && v; v = v->next)
		ret = cleanup_vpc(v, k, &scan, rep, err);
	if (ret == 0) {
		scan.sk = ctx->host;
		scan.tagged = 0;
		ret = netns_link_foreach(ctx->host, NETNS_TAP_PREFIX, tag_orphan, &scan, err);
		ctx->host_pending += scan.tagged;
		rep->links += scan.tagged;
	}
	if (ret == 0)
		ret = netns_flush_locked(ctx, err);
	pthread_mutex_unlock(&ctx->lock);
	if (ret < 0)
		pv_err_prefix(err, "netns cleanup");
out_free:
	free(taps);
	return ret;
}
