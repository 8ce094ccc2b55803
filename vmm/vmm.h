/* VM backends behind one interface. The rest of podvm talks to a backend
 * only through struct vmm_ops (as kvmtool's virtio_ops): vmm/libvirt/ is the
 * first backend, a native KVM VMM can come later. Nothing outside
 * vmm/libvirt/ includes libvirt headers.
 *
 * A backend connection (struct vmm) creates VMs (struct vmm_vm). A VM
 * handle can be released without stopping the VM (daemon restart) and
 * re-obtained with attach(). */
#ifndef PODVM_VMM_VMM_H
#define PODVM_VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define VMM_NAME_MAX   64   /* [a-zA-Z0-9_-], starts alphanumeric */
#define VMM_MAX_DISKS  16
#define VMM_MAX_NICS   4
#define VMM_SERIAL_MAX 20   /* virtio-blk serial limit */
#define VMM_PATH_MAX   512

enum vmm_accel {
	VMM_ACCEL_AUTO = 0,  /* KVM when /dev/kvm really runs guest code, else TCG */
	VMM_ACCEL_KVM,
	VMM_ACCEL_TCG,
};

struct vmm_disk {
	const char *path;       /* host file */
	const char *serial;     /* guest sees it in /sys/block/vdX/serial */
	bool readonly;
};

struct vmm_nic {
	const char *tap;        /* existing tap device name (IFNAMSIZ rules) */
	uint8_t mac[6];
};

/* Everything needed to boot one microVM. All strings are validated by the
 * backend before they reach any configuration it generates. */
struct vmm_machine {
	const char *name;       /* unique VM name, VMM_NAME_MAX */
	const char *uuid;       /* optional canonical UUID text, NULL for any */
	unsigned vcpus;         /* >= 1 */
	uint64_t memory_mib;    /* >= 64 */
	const char *kernel;
	const char *initramfs;
	const char *cmdline;
	struct vmm_disk disks[VMM_MAX_DISKS];
	size_t n_disks;
	struct vmm_nic nics[VMM_MAX_NICS];
	size_t n_nics;
	const char *agent_socket;  /* unix socket the VMM listens on for the
	                            * virtio-serial port agent_port */
	const char *agent_port;    /* its name in the guest (the agent
	                            * protocol's, AGENT_PORT_NAME) */
	const char *console_log;   /* serial console output file */
};

struct vmm_config {
	const char *uri;        /* backend-specific, NULL for the default */
	const char *state_dir;  /* where the backend may keep its files */
	const char *cache_dir;  /* optional persistent cache shared by every
	                         * connection (libvirt: QEMU capabilities) */
	enum vmm_accel accel;
	bool quiet;             /* suppress the one-line accel notice */
};

enum vmm_state {
	VMM_STATE_RUNNING = 1,
	VMM_STATE_PAUSED,
	VMM_STATE_SHUTDOWN,     /* shutting down */
	VMM_STATE_STOPPED,      /* gone or shut off */
};

struct vmm_stats {
	uint64_t cpu_ns;         /* guest CPU time */
	uint64_t rss_bytes;      /* host resident memory of the VMM process */
	uint64_t mem_bytes;      /* guest memory size */
};

struct vmm;
struct vmm_vm;

struct vmm_ops {
	const char *name;
	int (*open)(const struct vmm_config *cfg, struct vmm **out,
		    struct pv_err *err);
	void (*close)(struct vmm *v);
	/* Boot a new VM; returns once the VMM process runs (not when the
	 * guest is up). */
	int (*boot)(struct vmm *v, const struct vmm_machine *m,
		    struct vmm_vm **out, struct pv_err *err);
	/* Handle for a VM that already runs (after a daemon restart). */
	int (*attach)(struct vmm *v, const char *name, struct vmm_vm **out,
		      struct pv_err *err);
	/* Names of the running VMs this backend owns (prefix "podvm-").
	 * *names is a malloc'd array of malloc'd strings. */
	int (*list)(struct vmm *v, char ***names, size_t *n,
		    struct pv_err *err);
	/* Ask the guest to power off (ACPI); the VM may ignore it. */
	int (*shutdown)(struct vmm_vm *vm, struct pv_err *err);
	/* Kill the VM now and forget it. Succeeds when it is already gone. */
	int (*destroy)(struct vmm_vm *vm, struct pv_err *err);
	int (*state)(struct vmm_vm *vm, enum vmm_state *st, struct pv_err *err);
	int (*stats)(struct vmm_vm *vm, struct vmm_stats *st,
		     struct pv_err *err);
	/* An fd (O_CLOEXEC, owned by the handle) that becomes readable once
	 * the VM has stopped, for poll()/epoll loops. */
	int (*exit_fd)(struct vmm_vm *vm);
	/* Host pid of the VMM process, or -1. */
	int (*pid)(struct vmm_vm *vm);
	/* Free the handle; the VM keeps running. */
	void (*release)(struct vmm_vm *vm);
	/* Which accelerator this connection boots with. */
	enum vmm_accel (*accel)(struct vmm *v);
};

/* Every backend struct starts with this. */
struct vmm {
	const struct vmm_ops *ops;
};

struct vmm_vm {
	const struct vmm_ops *ops;
	char name[VMM_NAME_MAX + 1];
};

/* Look up a backend by name ("libvirt"); NULL picks the default. */
const struct vmm_ops *vmm_backend(const char *name);

/* The KVM usability probe (vmm/kvm_probe.c, docs/kvm.md): a guest in
 * 64-bit mode must run a timed loop of 12M instructions within the budget
 * (real KVM: a few ms; hosts that emulate guest code: seconds). */
#define VMM_PROBE_BUDGET_MS 250

#define VMM_CPU_DISABLE_MAX 4

struct vmm_kvm_report {
	bool usable;
	bool forced;            /* PODVM_ACCEL decided, not the probe */
	uint64_t loop_ns;       /* the timed loop, 0 when it did not finish */
	char reason[160];       /* one line: why usable or not */
	/* CPU features whose MSR KVM refused to take back from QEMU: a KVM
	 * domain must disable them (NULL-terminated, static strings). */
	const char *cpu_disable[VMM_CPU_DISABLE_MAX + 1];
};

/* Run the probe now, ignoring PODVM_ACCEL. */
bool vmm_kvm_probe(struct vmm_kvm_report *r);

/* The probe's answer, once per process; PODVM_ACCEL=kvm|tcg overrides it.
 * vmm_kvm_report() says why. */
bool vmm_kvm_usable(void);
const struct vmm_kvm_report *vmm_kvm_report(void);

/* Validation shared by backends. */
bool vmm_name_valid(const char *name);
bool vmm_serial_valid(const char *serial);
bool vmm_path_valid(const char *path);   /* absolute, no control chars */

/* Convenience dispatchers. */
static inline int vmm_boot(struct vmm *v, const struct vmm_machine *m,
			   struct vmm_vm **out, struct pv_err *err)
{
	return v->ops->boot(v, m, out, err);
}
static inline int vmm_destroy(struct vmm_vm *vm, struct pv_err *err)
{
	return vm->ops->destroy(vm, err);
}
static inline void vmm_release(struct vmm_vm *vm)
{
	if (vm)
		vm->ops->release(vm);
}
static inline void vmm_close(struct vmm *v)
{
	if (v)
		v->ops->close(v);
}

#endif
