/* The VPC registry, pod admission, each pod's network steps, and the
 * flusher thread (daemon/vpcsvc.h). */
#include "daemon/vpcsvc_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/log.h"
#include "util/util.h"

#define VPCSVC_FLUSH_PERIOD_MS 1000

/* ---- --vpc ------------------------------------------------------------- */

int vpcsvc_parse_flag(const char *arg, struct netns_vpc_info *out,
		      struct pv_err *err)
{
	char buf[256], *save = NULL, *tok, *eq;
	int ret;

	memset(out, 0, sizeof(*out));
	if (strlen(arg) >= sizeof(buf))
		return pv_err_set(err, EINVAL, "--vpc: too long");
	memcpy(buf, arg, strlen(arg) + 1);
	if (!strcmp(buf, VPCSVC_DEFAULT)) {
		memcpy(out->name, VPCSVC_DEFAULT, sizeof(VPCSVC_DEFAULT));
		return netns_cidr_parse(VPCSVC_DEFAULT_CIDR, &out->cidr, err);
	}
	eq = strchr(buf, '=');
	if (!eq)
		return pv_err_set(err, EINVAL, "--vpc %s: want NAME=CIDR[,dns=IP]..."
				  "[,egress=none|nat] or \"default\"", arg);
	*eq = '\0';
	ret = netns_valid_vpc_name(buf, err);
	if (ret < 0)
		goto out;
	memcpy(out->name, buf, strlen(buf) + 1);
	tok = strtok_r(eq + 1, ",", &save);
	ret = netns_cidr_parse(tok ? tok : "", &out->cidr, err);
	while (ret == 0 && (tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "dns=", 4)) {
			if (out->ndns == NETNS_DNS_MAX)
				ret = pv_err_set(err, E2BIG, "at most %d dns servers",
						 NETNS_DNS_MAX);
			else if (inet_pton(AF_INET, tok + 4, &out->dns[out->ndns]) != 1)
				ret = pv_err_set(err, EINVAL, "dns=%.40s: not an IPv4 "
						 "address", tok + 4);
			else
				out->ndns++;
		} else if (!strcmp(tok, "egress=nat")) {
			ret = pv_err_set(err, EOPNOTSUPP, "egress=nat: not supported "
					 "yet (VPCs are isolated: no route out)");
		} else if (strcmp(tok, "egress=none") != 0) {
			ret = pv_err_set(err, EINVAL, "unknown option \"%.40s\"", tok);
		}
	}
out:
	if (ret < 0)
		pv_err_prefix(err, "--vpc %.*s", (int)strnlen(arg, 64), arg);
	return ret;
}

/* ---- registry ------------------------------------------------------------- */

struct vpcsvc_vpc *vpcsvc_find_locked(struct vpcsvc *vs, const char *name)
{
	for (struct vpcsvc_vpc *v = vs->vpcs; v; v = v->next)
		if (!strcmp(v->info.name, name))
			return v;
	return NULL;
}

void vpcsvc_insert_locked(struct vpcsvc *vs, struct vpcsvc_vpc *v)
{
	struct vpcsvc_vpc **pp = &vs->vpcs;

	while (*pp && strcmp((*pp)->info.name, v->info.name) < 0)
		pp = &(*pp)->next;
	v->next = *pp;
	*pp = v;
}

void vpcsvc_remove_locked(struct vpcsvc *vs, struct vpcsvc_vpc *v)
{
	for (struct vpcsvc_vpc **pp = &vs->vpcs; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			return;
		}
}

/* ---- flusher ---------------------------------------------------------------- */

/* Released taps are deleted here, one RTM_DELLINK per namespace for all of
 * them (one RCU grace period), never on a pod's critical path. */
static void vpcsvc_flush_now(struct vpcsvc *vs)
{
	struct pv_err err = { 0 };
	size_t n = netns_pending(vs->ctx);
	int64_t t0;

	if (!n)
		return;
	t0 = util_mono_ms();
	if (netns_flush(vs->ctx, &err) < 0)
		log_warn("network flush failed (retried in a second)",
			 LOG_STR("error", err.msg), LOG_END);
	else
		log_debug("released taps deleted", LOG_INT("taps", n),
			  LOG_INT("ms", util_mono_ms() - t0), LOG_END);
}

static void *vpcsvc_flusher(void *arg)
{
	struct vpcsvc *vs = arg;
	struct timespec ts;

	pthread_mutex_lock(&vs->lock);
	while (!vs->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += VPCSVC_FLUSH_PERIOD_MS / 1000;
		while (!vs->stop &&
		       pthread_cond_timedwait(&vs->cond, &vs->lock, &ts) != ETIMEDOUT)
			;
		if (vs->stop)
			break;
		pthread_mutex_unlock(&vs->lock);
		vpcsvc_flush_now(vs);
		pthread_mutex_lock(&vs->lock);
	}
	pthread_mutex_unlock(&vs->lock);
	return NULL;
}

int vpcsvc_ctx_ensure_locked(struct vpcsvc *vs, struct pv_err *err)
{
	struct netns_config nc = { .netns_dir = vs->netns_dir,
				   .state_dir = vs->net_dir };
	int ret;

	if (vs->ctx)
		return 0;
	/* Privileged (CAP_SYS_ADMIN): makes the namespace dir a shared mount;
	 * the calling thread's namespace becomes the taps' "host". */
	ret = netns_ctx_new(&nc, &vs->ctx, err);
	if (ret < 0)
		return ret;
	vs->stop = false;
	if (pthread_create(&vs->flusher, NULL, vpcsvc_flusher, vs) != 0) {
		netns_ctx_free(vs->ctx);
		vs->ctx = NULL;
		return pv_err_set(err, EAGAIN, "cannot start the network flusher");
	}
	vs->flusher_on = true;
	return 0;
}

/* ---- open / start / close ----------------------------------------------- */

int vpcsvc_open(const struct vpcsvc_config *cfg, struct vpcsvc **out,
		struct pv_err *err)
{
	struct vpcsvc *vs = calloc(1, sizeof(*vs));
	pthread_condattr_t ca;
	int ret = 0;

	*out = NULL;
	if (!vs)
		return pv_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&vs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vs->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (util_fmt(vs->net_dir, sizeof(vs->net_dir), "%s/net", cfg->state_dir) < 0 ||
	    util_fmt(vs->defs_dir, sizeof(vs->defs_dir), "%s/vpcs", cfg->state_dir) < 0 ||
	    util_fmt(vs->netns_dir, sizeof(vs->netns_dir), "%s", cfg->netns_dir) < 0) {
		ret = pv_err_set(err, ENAMETOOLONG, "state or netns dir path too long");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_vpcs; i++) {
		struct vpcsvc_vpc *v;

		if (vpcsvc_find_locked(vs, cfg->vpcs[i].name)) {
			ret = pv_err_set(err, EINVAL, "--vpc %s given twice",
					 cfg->vpcs[i].name);
			goto out;
		}
		v = calloc(1, sizeof(*v));
		if (!v) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		v->info = cfg->vpcs[i];
		v->configured = true;
		v->created_ms = util_wall_ms();
		vpcsvc_insert_locked(vs, v);
	}
	ret = vpcsvc_defs_load(vs, err);
out:
	if (ret < 0)
		vpcsvc_close(vs);
	else
		*out = vs;
	return ret;
}

static bool vpcsvc_in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* A VPC that stored pods use but nobody defines any more (its --vpc flag
 * was dropped): keep it, as an API VPC, so that it can be deleted once its
 * pods are gone. */
static void vpcsvc_adopt_locked(struct vpcsvc *vs, const char *name)
{
	struct vpcsvc_vpc *v;
	struct pv_err err = { 0 };

	if (vpcsvc_find_locked(vs, name))
		return;
	v = calloc(1, sizeof(*v));
	if (!v || netns_vpc_info(vs->ctx, name, &v->info, &err) < 0) {
		log_warn("stored pods use a VPC that is gone", LOG_STR("vpc", name),
			 LOG_STR("error", v ? err.msg : "out of memory"), LOG_END);
		free(v);
		return;
	}
	v->created_ms = util_wall_ms();
	if (vpcsvc_def_write(vs, v, &err) < 0)
		log_warn("cannot persist adopted VPC", LOG_STR("vpc", name),
			 LOG_STR("error", err.msg), LOG_END);
	vpcsvc_insert_locked(vs, v);
	log_warn("adopted the VPC of stored pods (no --vpc defines it; delete it "
		 "through the API once its pods are gone)", LOG_STR("vpc", name), LOG_END);
}

int vpcsvc_start(struct vpcsvc *vs, const char *const *uids,
		 const char *const *vpcs, size_t n, struct pv_err *err)
{
	const char **known = NULL;
	struct netns_known k = { 0 };
	struct netns_cleanup_report rep;
	size_t nk = 0, cap = n;
	bool need;
	int ret = 0;

	pthread_mutex_lock(&vs->lock);
	need = vs->vpcs || access(vs->net_dir, F_OK) == 0;
	for (struct vpcsvc_vpc *v = vs->vpcs; v; v = v->next)
		cap++;
	for (size_t i = 0; i < n; i++)
		need |= vpcs[i] && vpcs[i][0];
	if (!need)
		goto out;   /* no networking: touch nothing */
	known = calloc(cap + 1, sizeof(*known));
	if (!known) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (struct vpcsvc_vpc *v = vs->vpcs; v; v = v->next)
		known[nk++] = v->info.name;
	for (size_t i = 0; i < n; i++)
		if (vpcs[i] && vpcs[i][0] && !vpcsvc_in(known, nk, vpcs[i]))
			known[nk++] = vpcs[i];
	ret = vpcsvc_ctx_ensure_locked(vs, err);
	if (ret < 0)
		goto out;
	k.vpcs = known;
	k.nvpcs = nk;
	k.uids = uids;
	k.nuids = n;
	ret = netns_cleanup(vs->ctx, &k, &rep, err);
	if (ret < 0)
		goto out;
	log_info("network orphans removed", LOG_INT("namespaces", rep.namespaces),
		 LOG_INT("stateFiles", rep.states), LOG_INT("links", rep.links),
		 LOG_INT("leases", rep.leases), LOG_INT("knownPods", n),
		 LOG_INT("knownVPCs", nk), LOG_END);
	for (struct vpcsvc_vpc *v = vs->vpcs; v; v = v->next) {
		char cidr[NETNS_CIDR_STRLEN];

		ret = netns_vpc_create(vs->ctx, &v->info, err);
		if (ret < 0) {
			if (ret == -EEXIST)
				pv_err_prefix(err, "keep its CIDR and DNS, or delete it "
					      "first (without the flag, once no pod "
					      "uses it)");
			goto out;
		}
		netns_cidr_format(&v->info.cidr, cidr, sizeof(cidr));
		log_info("VPC ready", LOG_STR("vpc", v->info.name), LOG_STR("cidr", cidr),
			 LOG_STR("source", v->configured ? "flag" : "api"), LOG_END);
	}
	for (size_t i = 0; i < n; i++)
		if (vpcs[i] && vpcs[i][0])
			vpcsvc_adopt_locked(vs, vpcs[i]);
out:
	pthread_mutex_unlock(&vs->lock);
	free(known);
	return ret;
}

void vpcsvc_close(struct vpcsvc *vs)
{
	if (!vs)
		return;
	if (vs->flusher_on) {
		pthread_mutex_lock(&vs->lock);
		vs->stop = true;
		pthread_cond_broadcast(&vs->cond);
		pthread_mutex_unlock(&vs->lock);
		pthread_join(vs->flusher, NULL);
		vpcsvc_flush_now(vs);   /* what was released before shutdown */
	}
	netns_ctx_free(vs->ctx);
	while (vs->vpcs) {
		struct vpcsvc_vpc *v = vs->vpcs;

		vs->vpcs = v->next;
		free(v);
	}
	pthread_cond_destroy(&vs->cond);
	pthread_mutex_destroy(&vs->lock);
	free(vs);
}

/* ---- admission ------------------------------------------------------------ */

static const char *vpcsvc_ann(const struct pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->n_annotations; i++)
		if (!strcmp(pod->annotations[i].key, key))
			return pod->annotations[i].value;
	return NULL;
}

int vpcsvc_pod_vpc(struct vpcsvc *vs, const struct pod *pod,
		   char vpc[NETNS_VPC_NAME_MAX + 1], struct pv_err *err)
{
	const char *a = vpcsvc_ann(pod, VPCSVC_ANN_VPC);
	int ret;

	vpc[0] = '\0';
	if (a) {
		ret = netns_valid_vpc_name(a, err);
		if (ret < 0)
			return ret;
		memcpy(vpc, a, strlen(a) + 1);
		return 0;
	}
	pthread_mutex_lock(&vs->lock);
	if (vpcsvc_find_locked(vs, VPCSVC_DEFAULT))
		memcpy(vpc, VPCSVC_DEFAULT, sizeof(VPCSVC_DEFAULT));
	pthread_mutex_unlock(&vs->lock);
	return 0;
}

#define VPCSVC_F_VPC "metadata.annotations[" VPCSVC_ANN_VPC "]"
#define VPCSVC_F_IP  "metadata.annotations[" VPCSVC_ANN_IP "]"

int vpcsvc_admit(struct vpcsvc *vs, const struct pod *pod,
		 struct podsvc_status *st)
{
	const char *a_vpc = vpcsvc_ann(pod, VPCSVC_ANN_VPC);
	const char *a_ip = vpcsvc_ann(pod, VPCSVC_ANN_IP);
	char vpc[NETNS_VPC_NAME_MAX + 1], cidr[NETNS_CIDR_STRLEN];
	struct pv_err err = { 0 };
	struct vpcsvc_vpc *v;
	struct in_addr want;
	int ret = 0;

	if (vpcsvc_pod_vpc(vs, pod, vpc, &err) < 0) {
		vpcsvc_st_invalid(st, "Pod", pod->name, VPCSVC_F_VPC, "FieldValueInvalid",
				  "Invalid value: \"%.64s\": %s", a_vpc, err.msg);
		return -1;
	}
	pthread_mutex_lock(&vs->lock);
	v = vpc[0] ? vpcsvc_find_locked(vs, vpc) : NULL;
	if (a_vpc && !v) {
		vpcsvc_st_invalid(st, "Pod", pod->name, VPCSVC_F_VPC, "FieldValueNotFound",
				  "Not found: \"%s\": no such VPC", vpc);
		ret = -1;
	} else if (a_ip && !v) {
		vpcsvc_st_invalid(st, "Pod", pod->name, VPCSVC_F_IP, "FieldValueForbidden",
				  "Forbidden: the pod has no VPC (set %s)", VPCSVC_F_VPC);
		ret = -1;
	} else if (a_ip && inet_pton(AF_INET, a_ip, &want) != 1) {
		vpcsvc_st_invalid(st, "Pod", pod->name, VPCSVC_F_IP, "FieldValueInvalid",
				  "Invalid value: \"%.64s\": not an IPv4 address", a_ip);
		ret = -1;
	} else if (a_ip && !netns_cidr_is_pod_addr(&v->info.cidr, want)) {
		netns_cidr_format(&v->info.cidr, cidr, sizeof(cidr));
		vpcsvc_st_invalid(st, "Pod", pod->name, VPCSVC_F_IP, "FieldValueInvalid",
				  "Invalid value: \"%s\": not a pod address of VPC %s "
				  "(%s without its network, gateway and broadcast "
				  "addresses)", a_ip, vpc, cidr);
		ret = -1;
	}
	pthread_mutex_unlock(&vs->lock);
	return ret;
}

/* ---- a pod's network --------------------------------------------------------- */

int vpcsvc_pod_bind(struct vpcsvc *vs, const struct pod *pod, const char *uid,
		    struct vpcsvc_pod *pp, struct pv_err *err)
{
	const char *a_ip = vpcsvc_ann(pod, VPCSVC_ANN_IP);
	struct vpcsvc_vpc *v;
	int ret;

	memset(pp, 0, sizeof(*pp));
	ret = netns_valid_uid(uid, err);
	if (ret < 0)
		return ret;
	memcpy(pp->uid, uid, strlen(uid) + 1);
	ret = vpcsvc_pod_vpc(vs, pod, pp->vpc, err);
	if (ret < 0 || !pp->vpc[0])
		return ret;
	if (a_ip) {
		if (inet_pton(AF_INET, a_ip, &pp->want) != 1)
			return pv_err_set(err, EINVAL, VPCSVC_F_IP ": not an IPv4 address");
		pp->want_set = true;
	}
	pthread_mutex_lock(&vs->lock);
	v = vpcsvc_find_locked(vs, pp->vpc);
	if (v) {
		v->refs++;
		pp->bound = true;
	}
	pthread_mutex_unlock(&vs->lock);
	if (!v)
		return pv_err_set(err, ENOENT, "VPC %s does not exist (any more)", pp->vpc);
	return 0;
}

static void vpcsvc_pod_leased(struct vpcsvc_pod *pp)
{
	pp->leased = true;
	inet_ntop(AF_INET, &pp->net.addr, pp->ip, sizeof(pp->ip));
}

int vpcsvc_pod_prepare(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		       struct pv_err *err)
{
	int ret = netns_pod_prepare(vs->ctx, pp->vpc, pp->uid,
				    pp->want_set ? &pp->want : NULL, &pp->net, err);

	if (ret == 0)
		vpcsvc_pod_leased(pp);
	return ret;
}

int vpcsvc_pod_lookup(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		      struct pv_err *err)
{
	int ret = netns_pod_info(vs->ctx, pp->vpc, pp->uid, &pp->net, err);

	if (ret == 0)
		vpcsvc_pod_leased(pp);
	return ret;
}

int vpcsvc_pod_attach(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		      struct pv_err *err)
{
	int ret = netns_pod_attach(vs->ctx, pp->vpc, pp->uid, err);

	if (ret == 0)
		pp->attached = true;
	return ret;
}

void vpcsvc_pod_unbind(struct vpcsvc *vs, struct vpcsvc_pod *pp)
{
	struct vpcsvc_vpc *v;

	if (!pp->bound)
		return;
	pthread_mutex_lock(&vs->lock);
	v = vpcsvc_find_locked(vs, pp->vpc);
	if (v && v->refs)
		v->refs--;
	pthread_mutex_unlock(&vs->lock);
	pp->bound = false;
}

void vpcsvc_pod_release(struct vpcsvc *vs, struct vpcsvc_pod *pp)
{
	struct pv_err err = { 0 };

	if (!pp->bound)
		return;
	/* Idempotent: frees a lease and tags a tap wherever they are, also
	 * when this thread never saw them (a reattach after a crash). */
	if (netns_pod_release(vs->ctx, pp->vpc, pp->uid, &err) < 0)
		log_warn("cannot release the pod's network (start-up cleanup "
			 "retries)", LOG_STR("uid", pp->uid), LOG_STR("vpc", pp->vpc),
			 LOG_STR("error", err.msg), LOG_END);
	pp->leased = pp->attached = false;
	vpcsvc_pod_unbind(vs, pp);
}

int vpcsvc_ns_path(struct vpcsvc *vs, const char *vpc, char *buf, size_t len)
{
	/* ctx is set once, before any pod is bound, and lives until close */
	if (!vs->ctx)
		return -ENOENT;
	return netns_vpc_ns_path(vs->ctx, vpc, buf, len, NULL);
}

void vpcsvc_pod_runtime_net(const struct vpcsvc_pod *pp, struct runtime_net *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->mac, pp->net.mac, sizeof(out->mac));
	out->addr = pp->net.addr;
	out->prefix = pp->net.prefix;
	out->gateway = pp->net.gateway;
	out->mtu = VPCSVC_MTU;
	for (size_t i = 0; i < pp->net.ndns && i < RUNTIME_NET_DNS_MAX; i++)
		out->dns[out->n_dns++] = pp->net.dns[i];
	snprintf(out->addr_text, sizeof(out->addr_text), "%s", pp->ip);
}
