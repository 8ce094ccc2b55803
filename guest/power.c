/* The end of the VM. PID 1 must never exit (that panics the kernel), so
 * every way out of podvm-init ends here. */
#include "guest/guest.h"

#include <errno.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

void guest_power_off(void)
{
	sync();
	/* microvm with ACPI: S5 turns the VM off and QEMU exits. */
	if (reboot(RB_POWER_OFF) < 0)
		guest_diag("power off failed: %s; halting", strerror(errno));
	reboot(RB_HALT_SYSTEM);
	for (;;)
		pause();
}
