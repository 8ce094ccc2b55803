/* `podvm kvm-probe`: run the KVM usability probe (docs/kvm.md) and say
 * what it found, in one line. Ignores PODVM_ACCEL: it answers what podvm
 * would pick by itself. Exit 0 when KVM is usable, 1 when it is not, 2 on
 * bad usage. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "vmm/vmm.h"

static void kvm_probe_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm kvm-probe\n"
		"  Would pods run on KVM here? Runs podvm's KVM probe (a timed "
		"64-bit loop\n  in a tiny VM), ignoring PODVM_ACCEL; exit 0 for "
		"yes, 1 for no.\n");
}

int cli_kvm_probe(const struct cli_env *env, int argc, char **argv)
{
	const struct cli_verb verb = { "kvm-probe", kvm_probe_usage, NULL, NULL };
	const struct cli_opt opts[] = { CLI_OPT_END };
	struct vmm_kvm_report r;
	char off[128] = "";
	size_t n = 0;
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	(void)env;
	if (ret < 0)
		return ret == CLI_OPTS_HELP ? 0 : 2;
	if (optind < argc) {
		kvm_probe_usage(stderr);
		return 2;
	}
	vmm_kvm_probe(&r);
	for (size_t i = 0; r.cpu_disable[i] && n < sizeof(off); i++)
		n += (size_t)snprintf(off + n, sizeof(off) - n, "%s%s",
				      i ? ", " : "; CPU features off: ",
				      r.cpu_disable[i]);
	printf("kvm: %s: %s%s\n", r.usable ? "yes" : "no", r.reason, off);
	return r.usable ? 0 : 1;
}
