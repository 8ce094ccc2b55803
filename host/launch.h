/* Launching one pod in one microVM: the code path shared by `podvm run`
 * (foreground, no daemon) and podvmd's supervisor.
 *
 *   launch_prepare  manifest -> images (erofs) -> resolved runtime
 *   launch_boot     per-pod run dir, machine description, VM boot
 *   launch_follow   connect to the agent, follow the pod until it ends
 *                   (host/follow.h)
 *   launch_teardown destroy the VM if it still runs, remove every file
 *
 * Each step records its completion time for `--verbose` and metrics. */
#ifndef PODVM_HOST_LAUNCH_H
#define PODVM_HOST_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include "host/follow.h"
#include "images/store.h"
#include "pod/pod.h"
#include "host/runtime_build.h"
#include "util/err.h"
#include "util/util.h"
#include "vmm/vmm.h"

#define LAUNCH_PATH_MAX 256
#define LAUNCH_SHORT_ID 12        /* hex chars of the uid used in paths */
#define LAUNCH_DEFAULT_MEMORY_MIB 512

struct launch_opts {
	const char *state_dir;   /* image store */
	const char *run_dir;     /* per-pod runtime files */
	const char *guest_dir;   /* vmlinuz, initramfs.img */
	const char *libvirt_uri; /* NULL: embedded driver rooted in the pod dir */
	struct vmm *vmm;         /* shared backend connection (the daemon: one
	                          * embedded driver root per process), or NULL
	                          * for one of the launch's own (podvm run) */
	bool quiet;              /* no accelerator notice */
	const char *host_ip;     /* for env fieldRefs (status.hostIP); NULL = "" */
	const char *node_name;   /* spec.nodeName when the pod sets none */
	const char *pod_ip;      /* status.podIP once networking assigns one */
	/* The pod's network (podvmd with a VPC): the guest's NIC is the
	 * persistent tap `tap` (made by netns_pod_prepare) with net->mac, and
	 * net goes to the guest in the runtime.  NULL/NULL (`podvm run`):
	 * no NIC, the pod has only lo. */
	const char *tap;
	const struct runtime_net *net;
	/* Localhost seccomp profiles are read from here (kubelet's
	 * <root>/seccomp); NULL: a pod that names one is refused. */
	const char *seccomp_root;
};

enum launch_stage {
	LAUNCH_T_BEGIN = 0,
	LAUNCH_T_IMAGES,          /* image ready */
	LAUNCH_T_VM,              /* VM started */
	LAUNCH_T_AGENT,           /* agent ready */
	LAUNCH_T_CONTAINERS,      /* containers started */
	LAUNCH_T_DONE,            /* pod done */
	LAUNCH_T_COUNT,
};

struct launch {
	struct launch_opts opts;
	struct pod *pod;                  /* borrowed */
	char uid[UUID_STR_LEN];
	char vm_name[VMM_NAME_MAX + 1];
	char dir[LAUNCH_PATH_MAX];        /* RUN_DIR/SHORTID */
	char agent_sock[LAUNCH_PATH_MAX];
	char console_log[LAUNCH_PATH_MAX];
	char kernel[LAUNCH_PATH_MAX];
	char initramfs[LAUNCH_PATH_MAX];

	struct image_store *store;
	int image_hold[VMM_MAX_DISKS];    /* in-use locks (images/gc.c), -1 */
	size_t n_disks;
	char disk_path[VMM_MAX_DISKS][LAUNCH_PATH_MAX];
	char disk_serial[VMM_MAX_DISKS][VMM_SERIAL_MAX + 1];
	struct pod_runtime rt;
	bool rt_built;
	struct pod_size size;             /* Fargate size: VM vCPUs and memory */

	struct vmm *vmm;
	bool vmm_owned;                   /* opened by this launch */
	struct vmm_vm *vm;
	bool dir_created;
	int agent_fd;                     /* -1 until connected */
	struct launch_follow f;           /* the agent session (host/follow.h) */

	int64_t t[LAUNCH_T_COUNT];        /* monotonic ms, 0 = not reached */
};

void launch_init(struct launch *l, const struct launch_opts *opts,
		 struct pod *pod);

/* Resolve images (converting to erofs when needed) and build the runtime.
 * Errors name the field: "spec.containers[0].image: ...". */
int launch_prepare(struct launch *l, struct pv_err *err);

/* Create the run dir and boot the VM. */
int launch_boot(struct launch *l, struct pv_err *err);

/* After a daemon restart: adopt the running VM of pod uid (its paths
 * follow from the uid). -ENOENT when the VM is gone after its guest ran;
 * -EAGAIN when it was still starting or is gone before its guest ever
 * answered: nothing ran, the caller boots the pod anew. */
int launch_attach(struct launch *l, const char *uid, struct pv_err *err);

/* Connect to the agent socket (retrying while the VMM creates it). */
int launch_connect(struct launch *l, int timeout_ms, struct pv_err *err);

/* Last lines of the console log, for error messages (malloc'd or NULL). */
char *launch_console_tail(const struct launch *l, int lines);

/* Destroy the VM if it runs, close the backend, remove the run dir. Safe
 * to call at any point and more than once. */
void launch_teardown(struct launch *l);

/* Let go of the VM without stopping it (daemon shutdown): close the agent
 * connection and free handles; the run dir stays. */
void launch_release(struct launch *l);

void launch_mark(struct launch *l, enum launch_stage st);

#endif
