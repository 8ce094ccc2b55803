/* Private to the libvirt backend: connection and VM handle layouts. Only
 * vmm/libvirt/ includes this (and libvirt's headers). */
#ifndef PODVM_VMM_LIBVIRT_LV_H
#define PODVM_VMM_LIBVIRT_LV_H

#include <libvirt/libvirt.h>

#include "util/err.h"
#include "vmm/vmm.h"

#define LV_NAME_PREFIX "podvm-"

struct lv_conn {
	struct vmm base;
	virConnectPtr conn;
	enum vmm_accel accel;
	const char *const *cpu_disable; /* KVM: features off (kvm_probe.c) */
	char root[VMM_PATH_MAX];   /* embed root, "" when cfg->uri was given */
	char pid_dir[VMM_PATH_MAX];/* where NAME.pid lives, "" if unknown */
};

struct lv_vm {
	struct vmm_vm base;
	struct lv_conn *c;
	virDomainPtr dom;
	int exit_fd;               /* eventfd, written when the VM stopped */
	int cb_id;                 /* lifecycle callback, -1 when none */
};

extern const struct vmm_ops vmm_libvirt_ops;

/* conn.c */
int lv_open(const struct vmm_config *cfg, struct vmm **out, struct pv_err *err);
/* Become a child subreaper and reap exited QEMU processes (reap.c). */
void lv_reaper_start(void);

void lv_close(struct vmm *v);
enum vmm_accel lv_accel(struct vmm *v);
/* pv_err_set() with libvirt's last error message appended. */
int lv_err(struct pv_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* libvirt's last error code (VIR_ERR_*), VIR_ERR_OK when none. */
int lv_last_code(void);

/* domain.c */
int lv_boot(struct vmm *v, const struct vmm_machine *m, struct vmm_vm **out,
	    struct pv_err *err);
int lv_attach(struct vmm *v, const char *name, struct vmm_vm **out,
	      struct pv_err *err);
int lv_list(struct vmm *v, char ***names, size_t *n, struct pv_err *err);
int lv_shutdown(struct vmm_vm *vm, struct pv_err *err);
int lv_destroy(struct vmm_vm *vm, struct pv_err *err);
int lv_state(struct vmm_vm *vm, enum vmm_state *st, struct pv_err *err);
int lv_stats(struct vmm_vm *vm, struct vmm_stats *st, struct pv_err *err);
int lv_exit_fd(struct vmm_vm *vm);
int lv_pid(struct vmm_vm *vm);
void lv_release(struct vmm_vm *vm);

#endif
