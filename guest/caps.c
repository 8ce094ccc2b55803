/* Capabilities the way containerd gives them: a default set, then the
 * container's securityContext.capabilities drop (ALL supported) and add.
 * The set becomes the bounding set (all that a root process can ever
 * get back by exec), and permitted + effective after the uid switch.
 * Inheritable and ambient stay empty, as in containerd since
 * CVE-2022-24769: a non-root process gets no capabilities through exec
 * of an ordinary binary. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const guest_cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
#define GUEST_NCAPS ((int)(sizeof(guest_cap_names) / sizeof(guest_cap_names[0])))

int guest_cap_from_name(const char *name)
{
	int i;

	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (i = 0; i < GUEST_NCAPS; i++)
		if (strcasecmp(name, guest_cap_names[i]) == 0)
			return i;
	return -1;
}

int guest_cap_last(void)
{
	static int last = -1;
	char buf[16];
	ssize_t n;
	int fd;

	if (last >= 0)
		return last;
	last = GUEST_NCAPS - 1;
	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			last = atoi(buf);
			if (last < 0 || last > 63)
				last = GUEST_NCAPS - 1;
		}
		close(fd);
	}
	return last;
}

uint64_t guest_caps_default(void)
{
	/* containerd's default set (oci/spec.go defaultUnixCaps). */
	static const int caps[] = {
		CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
		CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
		CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
	};
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		m |= 1ULL << caps[i];
	return m;
}

static uint64_t guest_caps_all(void)
{
	int last = guest_cap_last();

	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

int guest_caps_compute(char *const *add, size_t n_add, char *const *drop,
		       size_t n_drop, uint64_t *out, struct pv_err *err)
{
	uint64_t m = guest_caps_default();
	size_t i;
	int c;

	/* Kubernetes applies drop first, then add (add wins). */
	for (i = 0; i < n_drop; i++) {
		if (strcasecmp(drop[i], "ALL") == 0) {
			m = 0;
			continue;
		}
		c = guest_cap_from_name(drop[i]);
		if (c < 0)
			return pv_err_set(err, EINVAL, "unknown capability \"%s\"", drop[i]);
		m &= ~(1ULL << c);
	}
	for (i = 0; i < n_add; i++) {
		if (strcasecmp(add[i], "ALL") == 0) {
			m = guest_caps_all();
			continue;
		}
		c = guest_cap_from_name(add[i]);
		if (c < 0)
			return pv_err_set(err, EINVAL, "unknown capability \"%s\"", add[i]);
		m |= 1ULL << c;
	}
	*out = m & guest_caps_all();
	return 0;
}

/* Before the uid switch: dropping from the bounding set needs
 * CAP_SETPCAP in the effective set, which setresuid to non-root clears. */
int guest_caps_bound(uint64_t caps, struct pv_err *err)
{
	int c, last = guest_cap_last();

	for (c = 0; c <= last; c++)
		if (!(caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return pv_err_sys(err, errno, "dropping capability %d from the "
					  "bounding set", c);
	return 0;
}

/* After setresuid with PR_SET_KEEPCAPS: permitted + effective. */
int guest_caps_apply(uint64_t caps, struct pv_err *err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)caps;
	d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
	/* inheritable empty: see the top of this file */
	if (syscall(SYS_capset, &h, d) < 0)
		return pv_err_sys(err, errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return pv_err_sys(err, errno, "clearing ambient capabilities");
	return 0;
}
