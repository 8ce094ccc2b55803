/* `podvm kvm-probe`: run the KVM usability probe (docs/kvm.md) and say
 * what it found, in one line. Ignores PODVM_ACCEL: it answers what podvm
 * would pick by itself. Exit 0 when KVM is usable, 1 when it is not. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vmm/vmm.h"

int cli_kvm_probe(const struct cli_env *env, int argc, char **argv)
{
	struct vmm_kvm_report r;
	char off[128] = "";
	size_t n = 0;

	(void)env;
	if (argc > 1) {
		fprintf(stderr, "usage: podvm kvm-probe\n");
		return 2;
	}
	(void)argv;
	vmm_kvm_probe(&r);
	for (size_t i = 0; r.cpu_disable[i] && n < sizeof(off); i++)
		n += (size_t)snprintf(off + n, sizeof(off) - n, "%s%s",
				      i ? ", " : "; CPU features off: ",
				      r.cpu_disable[i]);
	printf("kvm: %s: %s%s\n", r.usable ? "yes" : "no", r.reason, off);
	return r.usable ? 0 : 1;
}
