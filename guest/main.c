/* podvm-init: PID 1 of a pod's microVM. Boot (mounts, modules), then the
 * agent protocol runs the pod; at the end, or on any fatal error, the VM
 * powers off. PID 1 never exits: that would panic the kernel. */
#include "guest/guest.h"

#include <unistd.h>

int main(int argc, char **argv)
{
	struct pv_err err;

	(void)argc;
	(void)argv;
	pv_err_clear(&err);
	if (getpid() != 1) {
		/* Refuse to mount over a host by accident. */
		guest_diag("must run as PID 1 inside a podvm microVM");
		return 1;
	}
	if (guest_boot(&err) < 0) {
		guest_diag("boot failed: %s", err.msg);
		guest_power_off();
	}
	if (guest_agent_run(&err) < 0)
		guest_diag("fatal: %s", err.msg);
	else
		guest_diag("pod finished; powering off");
	guest_power_off();
}
