/* podvmd: the pod daemon. Wires the pieces together and waits for a
 * signal:
 *   supervisor_open -> podsvc_open(runner = supervisor) -> supervisor_start
 *   -> control-plane reporter -> HTTP API -> SIGTERM/SIGINT -> API stop
 *   -> reporter stop -> supervisor_close (VMs keep running) -> podsvc_close
 * Logs are JSON lines on stderr (daemon/log.h). */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/metrics.h"
#include "daemon/exec.h"
#include "daemon/metrics.h"
#include "host/log.h"
#include "daemon/podsvc.h"
#include "daemon/reporter.h"
#include "daemon/secrets.h"
#include "daemon/supervisor.h"
#include "images/registry.h"
#include "daemon/vpcsvc.h"
#include "pod/pod.h"
#include "util/err.h"
#include "util/util.h"

#define PODVMD_MAX_VPCS 64
#define PODVMD_MAX_REGISTRIES 16

struct podvmd_opts {
	const char *state_dir;
	const char *run_dir;
	const char *guest_dir;
	const char *libvirt_uri;
	const char *control_plane_url;
	const char *node_name;
	struct api_config api;
	const char *metrics_listen;
	const char *netns_dir;
	const char *seccomp_root;
	struct netns_vpc_info vpcs[PODVMD_MAX_VPCS];   /* --vpc */
	size_t n_vpcs;
	/* images */
	const char *registry_auth;                     /* --registry-auth */
	const char *insecure[PODVMD_MAX_REGISTRIES];   /* --insecure-registry */
	size_t n_insecure;
	const char *mirrors[PODVMD_MAX_REGISTRIES];    /* --registry-mirror */
	size_t n_mirrors;
	const char *secrets_dir;                       /* --secrets-dir */
	int gc_high, gc_low;                           /* --image-gc-*-threshold */
};

static void podvmd_usage(FILE *fp)
{
	fprintf(fp,
		"usage: podvmd [--state-dir DIR] [--socket PATH] [--listen HOST:PORT]\n"
		"              [--token-file FILE] [--control-plane-url URL]\n"
		"              [--libvirt-uri URI] [--run-dir DIR] [--guest-dir DIR]\n"
		"              [--max-body BYTES] [--max-connections N]\n"
		"              [--tls-cert-file PEM --tls-key-file PEM]\n"
		"              [--node-name NAME] [--log-level debug|info|warn|error]\n"
		"              [--metrics-listen HOST:PORT]\n"
		"              [--vpc NAME=CIDR[,dns=IP]...[,egress=none]]... [--vpc default]\n"
		"              [--netns-dir DIR] [--seccomp-profile-root DIR]\n"
		"              [--registry-auth FILE] [--insecure-registry HOST[:PORT]]...\n"
		"              [--registry-mirror [REGISTRY=]URL]... [--secrets-dir DIR]\n"
		"              [--image-gc-high-threshold PCT] [--image-gc-low-threshold PCT]\n"
		"defaults: state dir $PODVM_STATE_DIR or /var/lib/podvm, run dir\n"
		"$PODVM_RUN_DIR or /run/podvm, guest dir $PODVM_GUEST_DIR or guest/\n"
		"next to the binary, socket %s, VPC namespaces in RUN_DIR/netns,\n"
		"Localhost seccomp profiles in STATE_DIR/seccomp.\n"
		"A --listen address off loopback requires --token-file.\n"
		"No VPC (no --vpc, none created through the API): pods have only lo.\n"
		"--vpc default is default=" VPCSVC_DEFAULT_CIDR "; pods without the\n"
		"annotation " VPCSVC_ANN_VPC " join the VPC named default.\n"
		"Images: imagePullPolicy as kubelet (:latest or no tag: Always, else\n"
		"IfNotPresent); credentials from --registry-auth (a Docker config.json or\n"
		"Podman auth.json) and the pod's imagePullSecrets, read from\n"
		"--secrets-dir DIR/NAMESPACE/NAME.json until the Secret API exists.\n"
		"Image GC starts at 85%% of the image filesystem, frees down to 80%%.\n",
		API_DEFAULT_SOCKET);
}

static int podvmd_parse_size(const char *what, const char *s, unsigned long long max,
			     unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "podvmd: %s: want an integer in [1, %llu]\n", what, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* The image options: 0, or -1 (printed); -2: not one of them. */
static int podvmd_image_opt(struct podvmd_opts *o, int c, const char *arg)
{
	char *end = NULL;
	long pct;

	switch (c) {
	case 'A': o->registry_auth = arg; return 0;
	case 'D': o->secrets_dir = arg; return 0;
	case 'I':
	case 'R':
		if ((c == 'I' ? o->n_insecure : o->n_mirrors) == PODVMD_MAX_REGISTRIES) {
			fprintf(stderr, "podvmd: at most %d of each registry option\n",
				PODVMD_MAX_REGISTRIES);
			return -1;
		}
		if (c == 'I')
			o->insecure[o->n_insecure++] = arg;
		else
			o->mirrors[o->n_mirrors++] = arg;
		return 0;
	case 'H':
	case 'O':
		pct = strtol(arg, &end, 10);
		if (!*arg || *end || pct < (c == 'H') || pct > 100) {
			fprintf(stderr, "podvmd: %s: want a percentage\n",
				c == 'H' ? "--image-gc-high-threshold" : "--image-gc-low-threshold");
			return -1;
		}
		*(c == 'H' ? &o->gc_high : &o->gc_low) = (int)pct;
		return 0;
	}
	return -2;
}

/* One option (getopt's c and optarg): 0, 1 (exit 0: --help) or -1. */
static int podvmd_opt(struct podvmd_opts *o, int c, const char *arg)
{
	struct pv_err err = { 0 };
	unsigned long long v;
	int lvl;

	switch (c) {
	case 's': o->state_dir = arg; break;
	case 'S': o->api.socket_path = arg; break;
	case 'l': o->api.listen = arg; break;
	case 't': o->api.token_file = arg; break;
	case 'c': o->control_plane_url = arg; break;
	case 'L': o->libvirt_uri = arg; break;
	case 'r': o->run_dir = arg; break;
	case 'g': o->guest_dir = arg; break;
	case 'n': o->node_name = arg; break;
	case 'M': o->metrics_listen = arg; break;
	case 'N': o->netns_dir = arg; break;
	case 'P': o->seccomp_root = arg; break;
	case 'C': o->api.tls_cert_file = arg; break;
	case 'K': o->api.tls_key_file = arg; break;
	case 'V':
		if (o->n_vpcs == PODVMD_MAX_VPCS) {
			fprintf(stderr, "podvmd: at most %d --vpc\n", PODVMD_MAX_VPCS);
			return -1;
		}
		if (vpcsvc_parse_flag(arg, &o->vpcs[o->n_vpcs], &err) < 0) {
			fprintf(stderr, "podvmd: %s\n", err.msg);
			return -1;
		}
		o->n_vpcs++;
		break;
	case 'b':
		if (podvmd_parse_size("--max-body", arg, 64ULL << 20, &v) < 0)
			return -1;
		o->api.max_body = (size_t)v;
		break;
	case 'm':
		if (podvmd_parse_size("--max-connections", arg, 4096, &v) < 0)
			return -1;
		o->api.max_connections = (unsigned)v;
		break;
	case 'v':
		lvl = log_parse_level(arg);
		if (lvl < 0) {
			fprintf(stderr, "podvmd: --log-level: debug, info, "
				"warn or error\n");
			return -1;
		}
		log_set_level((enum log_level)lvl);
		break;
	case 'h':
		podvmd_usage(stdout);
		return 1;
	default:
		lvl = podvmd_image_opt(o, c, arg);
		if (lvl == -2)
			podvmd_usage(stderr);
		return lvl < 0 ? -1 : 0;
	}
	return 0;
}

/* Returns 0, 1 (exit 0: --help) or -1 (usage error). */
static int podvmd_parse_args(int argc, char **argv, struct podvmd_opts *o)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 't' },
		{ "control-plane-url", required_argument, NULL, 'c' },
		{ "libvirt-uri", required_argument, NULL, 'L' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "node-name", required_argument, NULL, 'n' },
		{ "tls-cert-file", required_argument, NULL, 'C' },
		{ "tls-key-file", required_argument, NULL, 'K' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "vpc", required_argument, NULL, 'V' },
		{ "netns-dir", required_argument, NULL, 'N' },
		{ "registry-auth", required_argument, NULL, 'A' },
		{ "insecure-registry", required_argument, NULL, 'I' },
		{ "registry-mirror", required_argument, NULL, 'R' },
		{ "secrets-dir", required_argument, NULL, 'D' },
		{ "image-gc-high-threshold", required_argument, NULL, 'H' },
		{ "image-gc-low-threshold", required_argument, NULL, 'O' },
		{ "seccomp-profile-root", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		ret = podvmd_opt(o, c, optarg);
		if (ret != 0)
			return ret;
	}
	if (optind != argc) {
		podvmd_usage(stderr);
		return -1;
	}
	if ((o->gc_high < 0) != (o->gc_low < 0) || o->gc_low > o->gc_high) {
		fprintf(stderr, "podvmd: give both image GC thresholds, low <= high\n");
		return -1;
	}
	if (o->node_name && !pod_is_dns1123_subdomain(o->node_name)) {
		fprintf(stderr, "podvmd: --node-name: not a DNS-1123 subdomain\n");
		return -1;
	}
	return 0;
}

static const char *podvmd_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* build/podvmd finds build/guest/, like the CLI. */
static char *podvmd_default_guest_dir(void)
{
	char exe[PATH_MAX], *out = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (asprintf(&out, "%s/guest", dirname(exe)) < 0)
		return NULL;
	return out;
}

/* The node name: --node-name, else the host name when it is a valid
 * DNS-1123 subdomain (lower-cased), else "podvm-node". */
static void podvmd_node_name(const char *opt, char *buf, size_t len)
{
	char host[HOST_NAME_MAX + 1] = "";

	if (opt) {
		snprintf(buf, len, "%s", opt);
		return;
	}
	if (gethostname(host, sizeof(host) - 1) == 0)
		for (char *p = host; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	snprintf(buf, len, "%s", pod_is_dns1123_subdomain(host) ? host : "podvm-node");
}

/* ---- control-plane reporter (daemon/reporter.h) ---- */
static int podvmd_reporter_start(const char *url, const char *node,
				 struct supervisor *sv, struct podsvc *svc,
				 struct reporter **out, struct pv_err *err)
{
	struct reporter_config rc = {
		.url = url, .node_name = node,
		.vm_backend = supervisor_accel(sv),
	};

	*out = NULL;
	if (!url)
		return 0;   /* no control plane: the API is the only consumer */
	return reporter_start(&rc, svc, out, err);
}

/* The paths podvmd keeps (absolute: it may be started from anywhere). */
struct podvmd_paths {
	char *guest_dir, *netns_dir, *sc_root;   /* defaults we made */
	char *state, *run, *guest, *netns, *sc;
};

static void podvmd_paths_free(struct podvmd_paths *pa)
{
	free(pa->guest_dir);
	free(pa->netns_dir);
	free(pa->sc_root);
	free(pa->sc);
	free(pa->state);
	free(pa->run);
	free(pa->guest);
	free(pa->netns);
}

/* Defaults from the environment, then absolute paths into o. */
static int podvmd_paths(struct podvmd_opts *o, struct podvmd_paths *pa)
{
	o->state_dir = o->state_dir ? o->state_dir
				    : podvmd_env("PODVM_STATE_DIR", "/var/lib/podvm");
	o->run_dir = o->run_dir ? o->run_dir : podvmd_env("PODVM_RUN_DIR", "/run/podvm");
	o->libvirt_uri = o->libvirt_uri ? o->libvirt_uri
					: podvmd_env("PODVM_LIBVIRT_URI", NULL);
	if (!o->guest_dir)
		o->guest_dir = getenv("PODVM_GUEST_DIR");
	if (!o->guest_dir || !*o->guest_dir) {
		pa->guest_dir = podvmd_default_guest_dir();
		o->guest_dir = pa->guest_dir ? pa->guest_dir : "/usr/lib/podvm/guest";
	}
	if (!o->api.socket_path)
		o->api.socket_path = API_DEFAULT_SOCKET;
	pa->state = util_abspath(o->state_dir);
	pa->run = util_abspath(o->run_dir);
	pa->guest = util_abspath(o->guest_dir);
	/* per run dir, so that two podvmd never clean up each other's VPCs */
	if (!o->netns_dir && pa->run &&
	    asprintf(&pa->netns_dir, "%s/netns", pa->run) > 0)
		o->netns_dir = pa->netns_dir;
	pa->netns = o->netns_dir ? util_abspath(o->netns_dir) : NULL;
	/* kubelet's default is <root-dir>/seccomp */
	if (!o->seccomp_root && pa->state &&
	    asprintf(&pa->sc_root, "%s/seccomp", pa->state) > 0)
		o->seccomp_root = pa->sc_root;
	pa->sc = o->seccomp_root ? util_abspath(o->seccomp_root) : NULL;
	if (!pa->state || !pa->run || !pa->guest || !pa->netns || !pa->sc)
		return -ENOMEM;
	o->state_dir = pa->state;
	o->run_dir = pa->run;
	o->guest_dir = pa->guest;
	o->netns_dir = pa->netns;
	o->seccomp_root = pa->sc;
	return 0;
}

/* Everything podvmd runs, in the order it starts. */
struct podvmd {
	struct vpcsvc *vpcs;
	struct exec_table *exec;
	struct metrics *metrics;
	struct supervisor *sv;
	struct registry *reg;             /* image pulls */
	struct secret_source secrets;     /* imagePullSecrets */
	struct podsvc *svc;
	struct reporter *rep;
	struct api_metrics_listener *ml;
	struct api_server *api;
};

/* The services and their handles, each handed to those that use it. */
static int podvmd_open(struct podvmd *d, struct podvmd_opts *o,
		       const char *node, struct pv_err *err)
{
	struct vpcsvc_config vcfg = {
		.state_dir = o->state_dir, .netns_dir = o->netns_dir,
		.vpcs = o->vpcs, .n_vpcs = o->n_vpcs,
	};
	struct supervisor_config scfg = {
		.state_dir = o->state_dir, .run_dir = o->run_dir,
		.guest_dir = o->guest_dir, .libvirt_uri = o->libvirt_uri,
		.host_ip = "127.0.0.1", .node_name = node,
		.seccomp_root = o->seccomp_root,
	};
	struct podsvc_config pcfg = {
		.state_dir = o->state_dir, .host_ip = "127.0.0.1",
		.node_name = node, .max_events = 0,
	};

	struct registry_config rcfg = {
		.auth_file = o->registry_auth,
		.insecure = o->insecure, .n_insecure = o->n_insecure,
		.mirrors = o->mirrors, .n_mirrors = o->n_mirrors,
	};

	if (vpcsvc_open(&vcfg, &d->vpcs, err) < 0 ||
	    exec_table_new(&d->exec, err) < 0 ||
	    metrics_new(&d->metrics, err) < 0 ||
	    registry_open(&rcfg, &d->reg, err) < 0 ||
	    (o->secrets_dir && secrets_dir_open(o->secrets_dir, &d->secrets, err) < 0))
		return -1;
	scfg.registry = d->reg;
	scfg.secrets = o->secrets_dir ? &d->secrets : NULL;
	scfg.image_gc_high = o->gc_high > 0 ? o->gc_high : 0;
	scfg.image_gc_low = o->gc_high > 0 ? o->gc_low : 0;
	scfg.vpcs = d->vpcs;
	scfg.exec = d->exec;
	scfg.metrics = d->metrics;
	if (supervisor_open(&scfg, &d->sv, err) < 0 ||
	    podsvc_open(&pcfg, &supervisor_runner_ops, d->sv, &d->svc, err) < 0 ||
	    supervisor_start(d->sv, d->svc, err) < 0)
		return -1;
	return podvmd_reporter_start(o->control_plane_url, node, d->sv, d->svc,
				     &d->rep, err);
}

/* Metrics (the collector samples the supervisor's pods), then the API. */
static int podvmd_serve(struct podvmd *d, struct podvmd_opts *o,
			struct pv_err *err)
{
	struct metrics_config mc = {
		.backend = supervisor_accel(d->sv),
		.pod_counts = metrics_podsvc_counts, .pod_counts_opaque = d->svc,
		.source = &supervisor_metrics_ops, .source_opaque = d->sv,
		.refresh = metrics_reporter_refresh, .refresh_opaque = d->rep,
	};

	if (metrics_start(d->metrics, &mc, err) < 0)
		return -1;
	if (o->metrics_listen &&
	    api_metrics_listener_start(o->metrics_listen, d->metrics, &d->ml,
				       err) < 0)
		return -1;
	o->api.vpcs = d->vpcs;
	o->api.exec = d->exec;
	o->api.metrics = d->metrics;
	return api_start(&o->api, d->svc, &d->api, err);
}

/* In reverse: pods keep running, their VMs are let go. */
static void podvmd_close(struct podvmd *d)
{
	api_metrics_listener_stop(d->ml);
	api_stop(d->api);
	metrics_stop(d->metrics);   /* its collector calls into the supervisor */
	if (d->rep)
		reporter_stop(d->rep);
	if (d->sv)
		supervisor_close(d->sv);
	vpcsvc_close(d->vpcs);   /* after the pod threads: a last flush */
	registry_close(d->reg);   /* after the pod threads: they pull */
	secrets_close(&d->secrets);
	if (d->svc)
		podsvc_close(d->svc);
	exec_table_free(d->exec);   /* after the API and the pod threads */
	metrics_free(d->metrics);
}

int main(int argc, char **argv)
{
	struct podvmd_opts o = { 0 };
	struct podvmd_paths pa = { 0 };
	struct podvmd d = { 0 };
	struct pv_err err = { 0 };
	char node[POD_NAME_MAX + 1];
	sigset_t sigs;
	int ret, sig = 0, rc = 1;

	o.gc_high = o.gc_low = -1;   /* kubelet's 85 % -> 80 % */
	ret = podvmd_parse_args(argc, argv, &o);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	if (podvmd_paths(&o, &pa) < 0) {
		fprintf(stderr, "podvmd: out of memory\n");
		podvmd_paths_free(&pa);
		return 1;
	}
	podvmd_node_name(o.node_name, node, sizeof(node));

	/* Every thread inherits this mask: only sigwait() below sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("podvmd starting", LOG_STR("stateDir", o.state_dir),
		 LOG_STR("runDir", o.run_dir), LOG_STR("guestDir", o.guest_dir),
		 LOG_STR("node", node), LOG_INT("pid", getpid()), LOG_END);
	if (podvmd_open(&d, &o, node, &err) < 0 ||
	    podvmd_serve(&d, &o, &err) < 0) {
		log_error("podvmd failed", LOG_STR("error", err.msg), LOG_END);
	} else {
		log_info("podvmd ready", LOG_STR("accel", supervisor_accel(d.sv)),
			 LOG_END);
		while (sigwait(&sigs, &sig) != 0)
			;
		log_info("podvmd stopping (pods keep running)",
			 LOG_STR("signal", strsignal(sig)), LOG_END);
		rc = 0;
	}
	podvmd_close(&d);
	podvmd_paths_free(&pa);
	if (rc == 0)
		log_info("podvmd stopped", LOG_END);
	return rc;
}
