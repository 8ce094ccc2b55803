/* Backend table, validation shared by backends, and the KVM usability probe. */
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern const struct vmm_ops vmm_libvirt_ops;

static const struct vmm_ops *const vmm_backends[] = {
	&vmm_libvirt_ops,       /* first entry is the default */
};

const struct vmm_ops *vmm_backend(const char *name)
{
	size_t i;

	if (!name || !*name)
		return vmm_backends[0];
	for (i = 0; i < sizeof(vmm_backends) / sizeof(vmm_backends[0]); i++)
		if (strcmp(vmm_backends[i]->name, name) == 0)
			return vmm_backends[i];
	return NULL;
}

static bool vmm_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool vmm_name_valid(const char *name)
{
	size_t i;

	if (!name || !vmm_is_alnum(name[0]))
		return false;
	for (i = 0; name[i]; i++) {
		if (i >= VMM_NAME_MAX)
			return false;
		if (!vmm_is_alnum(name[i]) && name[i] != '_' && name[i] != '-')
			return false;
	}
	return true;
}

bool vmm_serial_valid(const char *serial)
{
	size_t i;

	if (!serial || !serial[0])
		return false;
	for (i = 0; serial[i]; i++) {
		if (i >= VMM_SERIAL_MAX)
			return false;
		if (!vmm_is_alnum(serial[i]) && serial[i] != '_' &&
		    serial[i] != '-' && serial[i] != '.')
			return false;
	}
	return true;
}

/* Absolute, printable ASCII only (generated configuration and QEMU option
 * strings stay unambiguous), no "." or ".." components, < VMM_PATH_MAX. */
bool vmm_path_valid(const char *path)
{
	const char *p, *comp;
	size_t len;

	if (!path || path[0] != '/')
		return false;
	len = strnlen(path, VMM_PATH_MAX);
	if (len >= VMM_PATH_MAX)
		return false;
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	for (comp = path; *comp; ) {
		size_t n;

		while (*comp == '/')
			comp++;
		n = strcspn(comp, "/");
		if ((n == 1 && comp[0] == '.') ||
		    (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		comp += n;
	}
	return true;
}

/* ---- KVM probe ------------------------------------------------------------
 * /dev/kvm existing is not enough: on some nested hosts KVM creates VMs and
 * vCPUs fine but QEMU aborts setting MSR 0x10a (IA32_ARCH_CAPABILITIES) or
 * the guest hangs.  So the probe runs a few real-mode instructions
 * (out 0x42 to port 0x10; hlt) and, like QEMU, sets the vCPU CPUID to what
 * KVM supports and writes ARCH_CAPABILITIES with the value KVM reports.
 * It runs in a child process so that a guest stuck in KVM_RUN can simply
 * be killed (SIGALRM in the child, SIGKILL from the parent as backstop).
 *
 * Environment override: PODVM_ACCEL=kvm or PODVM_ACCEL=tcg forces the
 * answer (kvm → true, tcg → false) without probing. */

#define VMM_PROBE_PORT  0x10
#define VMM_PROBE_VALUE 0x42
#define VMM_PROBE_GPA   0x1000
#define VMM_MSR_ARCH_CAPABILITIES 0x10a
#define VMM_PROBE_TIMEOUT_MS 3000

struct vmm_probe_cpuid {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[256];
};

/* What QEMU does after CPUID: the feature MSRs (ARCH_CAPABILITIES is
 * where PVM fails). 0, or the child's failure code. */
static int vmm_probe_msrs(int kvm, int vcpu)
{
	struct {
		struct kvm_msr_list l;
		__u32 idx[256];
	} list;
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[1];
	} msrs;
	bool has_arch_caps = false;

	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) <= 0)
		return 0;
	memset(&list, 0, sizeof(list));
	list.l.nmsrs = 256;
	if (ioctl(kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, &list) < 0)
		return 11;
	for (int i = 0; i < (int)list.l.nmsrs && i < 256; i++)
		if (list.idx[i] == VMM_MSR_ARCH_CAPABILITIES)
			has_arch_caps = true;
	if (!has_arch_caps)
		return 0;
	memset(&msrs, 0, sizeof(msrs));
	msrs.m.nmsrs = 1;
	msrs.e[0].index = VMM_MSR_ARCH_CAPABILITIES;
	if (ioctl(kvm, KVM_GET_MSRS, &msrs) != 1)
		return 12;
	if (ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1)
		return 13;  /* QEMU aborts here */
	return 0;
}

/* Run the guest to its HLT, checking its one OUT on the way. */
static int vmm_probe_run(int vcpu, struct kvm_run *run)
{
	bool saw_io = false;

	for (int i = 0; i < 8; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return 17;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			const unsigned char *data =
				(const unsigned char *)run + run->io.data_offset;

			if (run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != VMM_PROBE_PORT ||
			    run->io.size != 1 || data[0] != VMM_PROBE_VALUE)
				return 18;
			saw_io = true;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			return saw_io ? 0 : 19;
		return 20;
	}
	return 21;
}

/* Child side: only system calls (async-signal-safe after fork). Returns 0
 * when the guest ran as expected, else a small failure code. */
static int vmm_probe_child(void)
{
	static const unsigned char code[] = {
		0xb0, VMM_PROBE_VALUE,  /* mov al, 0x42 */
		0xe6, VMM_PROBE_PORT,   /* out 0x10, al */
		0xf4,                   /* hlt */
	};
	static struct vmm_probe_cpuid cpuid;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	unsigned char *mem;
	int kvm, vm, vcpu, mmap_size, i;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return 1;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != 12)
		return 2;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return 3;
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 4;
	memcpy(mem, code, sizeof(code));
	memset(&region, 0, sizeof(region));
	region.guest_phys_addr = VMM_PROBE_GPA;
	region.memory_size = 4096;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return 5;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return 6;
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(*run))
		return 7;
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return 8;

	/* What QEMU does first: CPUID, then feature MSRs. */
	cpuid.c.nent = sizeof(cpuid.e) / sizeof(cpuid.e[0]);
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
		return 9;
	if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0)
		return 10;
	i = vmm_probe_msrs(kvm, vcpu);
	if (i)
		return i;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return 14;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return 15;
	memset(&regs, 0, sizeof(regs));
	regs.rip = VMM_PROBE_GPA;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return 16;

	alarm(2);  /* a hung guest kills the child */
	return vmm_probe_run(vcpu, run);
}

static bool vmm_kvm_probe(void)
{
	int pfd[2] = { -1, -1 };
	unsigned char result = 0xff;
	struct pollfd p;
	pid_t pid;
	bool ok = false;

	if (access("/dev/kvm", F_OK) < 0)
		return false;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		unsigned char r = (unsigned char)vmm_probe_child();
		ssize_t w = write(pfd[1], &r, 1);

		_exit(w == 1 ? 0 : 1);
	}
	close(pfd[1]);
	pfd[1] = -1;
	p.fd = pfd[0];
	p.events = POLLIN;
	for (;;) {
		int n = poll(&p, 1, VMM_PROBE_TIMEOUT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && read(pfd[0], &result, 1) == 1)
			ok = result == 0;
		break;
	}
	kill(pid, SIGKILL);  /* no-op when it already exited */
	/* ECHILD when SIGCHLD is ignored by the embedding program: fine. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return ok;
}

static pthread_once_t vmm_kvm_once = PTHREAD_ONCE_INIT;
static bool vmm_kvm_answer;

static void vmm_kvm_init(void)
{
	const char *env = getenv("PODVM_ACCEL");

	if (env && strcmp(env, "kvm") == 0)
		vmm_kvm_answer = true;
	else if (env && strcmp(env, "tcg") == 0)
		vmm_kvm_answer = false;
	else
		vmm_kvm_answer = vmm_kvm_probe();
}

bool vmm_kvm_usable(void)
{
	pthread_once(&vmm_kvm_once, vmm_kvm_init);
	return vmm_kvm_answer;
}
