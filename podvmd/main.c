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
#include "daemon/supervisor.h"
#include "daemon/vpcsvc.h"
#include "pod/pod.h"
#include "util/err.h"
#include "util/util.h"

#define PODVMD_MAX_VPCS 64

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
		"defaults: state dir $PODVM_STATE_DIR or /var/lib/podvm, run dir\n"
		"$PODVM_RUN_DIR or /run/podvm, guest dir $PODVM_GUEST_DIR or guest/\n"
		"next to the binary, socket %s, VPC namespaces in RUN_DIR/netns,\n"
		"Localhost seccomp profiles in STATE_DIR/seccomp.\n"
		"A --listen address off loopback requires --token-file.\n"
		"No VPC (no --vpc, none created through the API): pods have only lo.\n"
		"--vpc default is default=" VPCSVC_DEFAULT_CIDR "; pods without the\n"
		"annotation " VPCSVC_ANN_VPC " join the VPC named default.\n",
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
		{ "seccomp-profile-root", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_err err = { 0 };
	unsigned long long v;
	int c, lvl;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->state_dir = optarg; break;
		case 'S': o->api.socket_path = optarg; break;
		case 'l': o->api.listen = optarg; break;
		case 't': o->api.token_file = optarg; break;
		case 'c': o->control_plane_url = optarg; break;
		case 'L': o->libvirt_uri = optarg; break;
		case 'r': o->run_dir = optarg; break;
		case 'g': o->guest_dir = optarg; break;
		case 'n': o->node_name = optarg; break;
		case 'M': o->metrics_listen = optarg; break;
		case 'N': o->netns_dir = optarg; break;
		case 'P': o->seccomp_root = optarg; break;
		case 'V':
			if (o->n_vpcs == PODVMD_MAX_VPCS) {
				fprintf(stderr, "podvmd: at most %d --vpc\n", PODVMD_MAX_VPCS);
				return -1;
			}
			if (vpcsvc_parse_flag(optarg, &o->vpcs[o->n_vpcs], &err) < 0) {
				fprintf(stderr, "podvmd: %s\n", err.msg);
				return -1;
			}
			o->n_vpcs++;
			break;
		case 'C': o->api.tls_cert_file = optarg; break;
		case 'K': o->api.tls_key_file = optarg; break;
		case 'b':
			if (podvmd_parse_size("--max-body", optarg, 64ULL << 20, &v) < 0)
				return -1;
			o->api.max_body = (size_t)v;
			break;
		case 'm':
			if (podvmd_parse_size("--max-connections", optarg, 4096, &v) < 0)
				return -1;
			o->api.max_connections = (unsigned)v;
			break;
		case 'v':
			lvl = log_parse_level(optarg);
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
			podvmd_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		podvmd_usage(stderr);
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

int main(int argc, char **argv)
{
	struct podvmd_opts o = { 0 };
	struct supervisor_config scfg;
	struct podsvc_config pcfg;
	struct supervisor *sv = NULL;
	struct vpcsvc_config vcfg;
	struct vpcsvc *vpcs = NULL;
	struct podsvc *svc = NULL;
	struct reporter *rep = NULL;
	struct api_server *api = NULL;
	struct api_metrics_listener *ml = NULL;
	struct exec_table *exec = NULL;
	struct metrics *metrics = NULL;
	struct metrics_config mc;
	struct pv_err err = { 0 };
	char node[POD_NAME_MAX + 1];
	char *guest_dir = NULL, *abs_state = NULL, *abs_run = NULL, *abs_guest = NULL;
	char *netns_dir = NULL, *abs_netns = NULL, *sc_root = NULL, *abs_sc = NULL;
	sigset_t sigs;
	int ret, sig = 0, rc = 1;

	ret = podvmd_parse_args(argc, argv, &o);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	o.state_dir = o.state_dir ? o.state_dir
				  : podvmd_env("PODVM_STATE_DIR", "/var/lib/podvm");
	o.run_dir = o.run_dir ? o.run_dir : podvmd_env("PODVM_RUN_DIR", "/run/podvm");
	o.libvirt_uri = o.libvirt_uri ? o.libvirt_uri
				      : podvmd_env("PODVM_LIBVIRT_URI", NULL);
	if (!o.guest_dir)
		o.guest_dir = getenv("PODVM_GUEST_DIR");
	if (!o.guest_dir || !*o.guest_dir) {
		guest_dir = podvmd_default_guest_dir();
		o.guest_dir = guest_dir ? guest_dir : "/usr/lib/podvm/guest";
	}
	if (!o.api.socket_path)
		o.api.socket_path = API_DEFAULT_SOCKET;
	/* The daemon may be started from anywhere: keep absolute paths. */
	abs_state = util_abspath(o.state_dir);
	abs_run = util_abspath(o.run_dir);
	abs_guest = util_abspath(o.guest_dir);
	/* per run dir, so that two podvmd never clean up each other's VPCs */
	if (!o.netns_dir && abs_run && asprintf(&netns_dir, "%s/netns", abs_run) > 0)
		o.netns_dir = netns_dir;
	abs_netns = o.netns_dir ? util_abspath(o.netns_dir) : NULL;
	/* kubelet's default is <root-dir>/seccomp */
	if (!o.seccomp_root && abs_state &&
	    asprintf(&sc_root, "%s/seccomp", abs_state) > 0)
		o.seccomp_root = sc_root;
	abs_sc = o.seccomp_root ? util_abspath(o.seccomp_root) : NULL;
	if (!abs_state || !abs_run || !abs_guest || !abs_netns || !abs_sc) {
		fprintf(stderr, "podvmd: out of memory\n");
		goto out_paths;
	}
	o.state_dir = abs_state;
	o.run_dir = abs_run;
	o.guest_dir = abs_guest;
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

	vcfg = (struct vpcsvc_config){
		.state_dir = o.state_dir, .netns_dir = abs_netns,
		.vpcs = o.vpcs, .n_vpcs = o.n_vpcs,
	};
	ret = vpcsvc_open(&vcfg, &vpcs, &err);
	if (ret < 0)
		goto fail;
	ret = exec_table_new(&exec, &err);
	if (ret < 0)
		goto fail;
	ret = metrics_new(&metrics, &err);
	if (ret < 0)
		goto fail;
	o.api.vpcs = vpcs;
	o.api.exec = exec;
	o.api.metrics = metrics;
	scfg = (struct supervisor_config){
		.state_dir = o.state_dir, .run_dir = o.run_dir,
		.guest_dir = o.guest_dir, .libvirt_uri = o.libvirt_uri,
		.host_ip = "127.0.0.1", .node_name = node, .vpcs = vpcs,
		.seccomp_root = abs_sc,
		.exec = exec, .metrics = metrics,
	};
	ret = supervisor_open(&scfg, &sv, &err);
	if (ret < 0)
		goto fail;
	pcfg = (struct podsvc_config){
		.state_dir = o.state_dir, .host_ip = "127.0.0.1",
		.node_name = node, .max_events = 0,
	};
	ret = podsvc_open(&pcfg, &supervisor_runner_ops, sv, &svc, &err);
	if (ret < 0)
		goto fail;
	ret = supervisor_start(sv, svc, &err);
	if (ret < 0)
		goto fail;
	ret = podvmd_reporter_start(o.control_plane_url, node, sv, svc, &rep,
				    &err);
	if (ret < 0)
		goto fail;
	mc = (struct metrics_config){
		.backend = supervisor_accel(sv),
		.pod_counts = metrics_podsvc_counts, .pod_counts_opaque = svc,
		.source = &supervisor_metrics_ops, .source_opaque = sv,
		.refresh = metrics_reporter_refresh, .refresh_opaque = rep,
	};
	ret = metrics_start(metrics, &mc, &err);
	if (ret < 0)
		goto fail;
	if (o.metrics_listen) {
		ret = api_metrics_listener_start(o.metrics_listen, metrics, &ml,
						 &err);
		if (ret < 0)
			goto fail;
	}
	ret = api_start(&o.api, svc, &api, &err);
	if (ret < 0)
		goto fail;
	log_info("podvmd ready", LOG_STR("accel", supervisor_accel(sv)), LOG_END);

	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("podvmd stopping (pods keep running)",
		 LOG_STR("signal", strsignal(sig)), LOG_END);
	rc = 0;
	goto out;
fail:
	log_error("podvmd failed", LOG_STR("error", err.msg), LOG_END);
out:
	api_metrics_listener_stop(ml);
	api_stop(api);
	metrics_stop(metrics);   /* its collector calls into the supervisor */
	if (rep)
		reporter_stop(rep);
	if (sv)
		supervisor_close(sv);
	vpcsvc_close(vpcs);   /* after the pod threads: a last flush */
	exec_table_free(exec);   /* after the API and the pod threads */
	metrics_free(metrics);
	if (svc)
		podsvc_close(svc);
out_paths:
	free(sc_root);
	free(abs_sc);
	free(netns_dir);
	free(abs_netns);
	free(abs_state);
	free(abs_run);
	free(abs_guest);
	free(guest_dir);
	if (rc == 0)
		log_info("podvmd stopped", LOG_END);
	return rc;
}
