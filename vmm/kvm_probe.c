/* The KVM usability probe (docs/kvm.md).
 *
 * /dev/kvm existing, or even running a few instructions, is not enough:
 * on PVM hosts (pagetable-based nested virtualization) KVM creates VMs and
 * runs real-mode code fine, but an ordinary guest's code is emulated at
 * ~1M instructions/s, and KVM refuses the IA32_ARCH_CAPABILITIES write
 * QEMU makes (QEMU then aborts). So the probe does what QEMU does first
 * (CPUID, feature MSRs; a refused MSR is reported so that the domain
 * disables its feature), then enters 64-bit long mode with paging and
 * times a loop of VMM_PROBE_INSNS instructions between two port writes.
 * KVM is usable when the loop finishes within VMM_PROBE_BUDGET_MS and
 * computed the right 64-bit sum. Real KVM needs a few ms; PVM seconds.
 *
 * It runs in a child process so that a guest stuck in KVM_RUN is simply
 * killed (SIGALRM in the child, SIGKILL from the parent as backstop). */
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VMM_PROBE_PORT      0x10
#define VMM_PROBE_START     0x42
#define VMM_PROBE_END       0x43
#define VMM_PROBE_MEM       0x10000     /* one slot at guest address 0 */
#define VMM_PROBE_PML4      0x1000
#define VMM_PROBE_PDPT      0x2000
#define VMM_PROBE_PD        0x3000
#define VMM_PROBE_CODE      0x8000
#define VMM_PROBE_ITERS     4000000u    /* 3 instructions each */
#define VMM_PROBE_INSNS     (3ull * VMM_PROBE_ITERS)
#define VMM_PROBE_SUM       ((uint64_t)VMM_PROBE_ITERS * (VMM_PROBE_ITERS + 1) / 2)
#define VMM_PROBE_SETUP_S   2           /* child: until the loop starts */
#define VMM_PROBE_WAIT_MS   (VMM_PROBE_SETUP_S * 1000 + VMM_PROBE_BUDGET_MS + 1000)

/* Failure codes the child reports; the table gives each its reason. */
enum vmm_probe_code {
	PROBE_OK = 0, PROBE_OPEN, PROBE_API, PROBE_CREATE_VM, PROBE_MEM,
	PROBE_VCPU, PROBE_CPUID, PROBE_MSR, PROBE_REGS, PROBE_RUN,
	PROBE_STUCK, PROBE_EXIT, PROBE_SLOW, PROBE_SUM, PROBE_CODES
};

static const char *const vmm_probe_why[PROBE_CODES] = {
	[PROBE_OK]        = "usable",
	[PROBE_OPEN]      = "cannot open /dev/kvm",
	[PROBE_API]       = "/dev/kvm speaks an unknown KVM API version",
	[PROBE_CREATE_VM] = "KVM_CREATE_VM failed",
	[PROBE_MEM]       = "cannot give the probe VM memory",
	[PROBE_VCPU]      = "cannot create a vCPU",
	[PROBE_CPUID]     = "cannot set the vCPU's CPUID to what KVM supports",
	[PROBE_MSR]       = "cannot list KVM's feature MSRs",
	[PROBE_REGS]      = "cannot put the vCPU into 64-bit mode",
	[PROBE_RUN]       = "KVM_RUN failed",
	[PROBE_STUCK]     = "the guest did not reach the timed loop in time",
	[PROBE_EXIT]      = "the guest did not run as expected",
	[PROBE_SLOW]      = "guest code runs emulated",
	[PROBE_SUM]       = "the guest computed a wrong 64-bit sum",
};

/* What the child writes to the pipe. */
struct vmm_probe_msg {
	int code;
	uint64_t loop_ns;
	uint64_t sum;           /* the guest's rbx after the loop */
	unsigned disable;       /* bits of vmm_probe_msrs KVM refused */
};

/*   mov al,0x42; out 0x10,al; xor rbx,rbx; mov rcx,ITERS
 * l: add rbx,rcx; dec rcx; jnz l
 *   mov al,0x43; out 0x10,al; hlt                        (rbx = n(n+1)/2) */
static const unsigned char vmm_probe_code_bytes[] = {
	0xb0, VMM_PROBE_START, 0xe6, VMM_PROBE_PORT,
	0x48, 0x31, 0xdb,
	0x48, 0xc7, 0xc1,
	VMM_PROBE_ITERS & 0xff, (VMM_PROBE_ITERS >> 8) & 0xff,
	(VMM_PROBE_ITERS >> 16) & 0xff, (VMM_PROBE_ITERS >> 24) & 0xff,
	0x48, 0x01, 0xcb,
	0x48, 0xff, 0xc9,
	0x75, 0xf8,
	0xb0, VMM_PROBE_END, 0xe6, VMM_PROBE_PORT,
	0xf4,
};

struct vmm_probe_cpuid {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[256];
};

static void vmm_probe_noop(int sig)
{
	(void)sig;
}

static uint64_t vmm_probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Feature MSRs that QEMU's -cpu host copies from what KVM reports into
 * every vCPU, each with the CPU feature that makes QEMU leave it alone.
 * QEMU aborts when KVM refuses one of these writes (PVM refuses
 * ARCH_CAPABILITIES): the probe tries each, and a refused one gets its
 * feature disabled in the domain (docs/kvm.md). */
static const struct vmm_probe_msr {
	uint32_t first, last;
	const char *feature;        /* libvirt/QEMU feature name */
} vmm_probe_msrs[] = {
	{ 0x10a, 0x10a, "arch-capabilities" },  /* IA32_ARCH_CAPABILITIES */
	{ 0x0cf, 0x0cf, "core-capability" },    /* IA32_CORE_CAPABILITIES */
	{ 0x345, 0x345, "pdcm" },               /* IA32_PERF_CAPABILITIES */
	{ 0x480, 0x491, "vmx" },                /* VMX capability MSRs */
};
#define VMM_PROBE_N_MSRS (sizeof(vmm_probe_msrs) / sizeof(vmm_probe_msrs[0]))

static int vmm_probe_msr_feature(uint32_t index)
{
	for (size_t i = 0; i < VMM_PROBE_N_MSRS; i++)
		if (index >= vmm_probe_msrs[i].first && index <= vmm_probe_msrs[i].last)
			return (int)i;
	return -1;
}

/* What QEMU does first: CPUID as KVM supports it, then the feature MSRs
 * with the values KVM reports. Sets a bit in *disable for each table
 * entry whose MSR KVM refused. */
static int vmm_probe_cpu_features(int kvm, int vcpu, unsigned *disable)
{
	static struct vmm_probe_cpuid cpuid;
	struct {
		struct kvm_msr_list l;
		__u32 idx[256];
	} list;
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[1];
	} msrs;
	unsigned i;
	int f;

	cpuid.c.nent = sizeof(cpuid.e) / sizeof(cpuid.e[0]);
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0)
		return PROBE_CPUID;
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) <= 0)
		return PROBE_OK;
	memset(&list, 0, sizeof(list));
	list.l.nmsrs = 256;
	if (ioctl(kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, &list) < 0)
		return PROBE_MSR;
	for (i = 0; i < list.l.nmsrs && i < 256; i++) {
		f = vmm_probe_msr_feature(list.idx[i]);
		if (f < 0)
			continue;
		memset(&msrs, 0, sizeof(msrs));
		msrs.m.nmsrs = 1;
		msrs.e[0].index = list.idx[i];
		if (ioctl(kvm, KVM_GET_MSRS, &msrs) != 1 ||
		    ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1)
			*disable |= 1u << f;
	}
	return PROBE_OK;
}

/* Identity-map the first 2 MiB with one large page; flat 64-bit segments. */
static int vmm_probe_long_mode(int vcpu, unsigned char *mem)
{
	struct kvm_segment seg;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t *pml4 = (uint64_t *)(mem + VMM_PROBE_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + VMM_PROBE_PDPT);
	uint64_t *pd = (uint64_t *)(mem + VMM_PROBE_PD);

	pml4[0] = VMM_PROBE_PDPT | 0x3;         /* present, writable */
	pdpt[0] = VMM_PROBE_PD | 0x3;
	pd[0] = 0x83;                           /* present, writable, 2 MiB */
	memcpy(mem + VMM_PROBE_CODE, vmm_probe_code_bytes,
	       sizeof(vmm_probe_code_bytes));

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return PROBE_REGS;
	memset(&seg, 0, sizeof(seg));
	seg.limit = 0xffffffff;
	seg.present = 1;
	seg.s = 1;
	seg.g = 1;
	seg.selector = 2 << 3;
	seg.type = 3;                           /* data, read/write, accessed */
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	seg.selector = 1 << 3;
	seg.type = 11;                          /* code, execute/read, accessed */
	seg.l = 1;
	sregs.cs = seg;
	sregs.cr3 = VMM_PROBE_PML4;
	sregs.cr4 = 1u << 5;                    /* PAE */
	/* PE, MP, ET, NE, WP, AM, PG */
	sregs.cr0 = 0x1 | 0x2 | 0x10 | 0x20 | 0x10000 | 0x40000 | 0x80000000u;
	sregs.efer = 0x100 | 0x400;             /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return PROBE_REGS;
	memset(&regs, 0, sizeof(regs));
	regs.rip = VMM_PROBE_CODE;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return PROBE_REGS;
	return PROBE_OK;
}

/* Run until HLT; time the loop between the two port writes. */
static int vmm_probe_run(int vcpu, struct kvm_run *run, struct vmm_probe_msg *m)
{
	uint64_t t0 = 0;
	struct itimerval budget = { 0 };
	struct kvm_regs regs;
	int exits;

	for (exits = 0; exits < 16; exits++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			/* A timer fired: the setup alarm or the budget. */
			if (errno == EINTR)
				return t0 ? PROBE_SLOW : PROBE_STUCK;
			return PROBE_RUN;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			const unsigned char *data =
				(const unsigned char *)run + run->io.data_offset;

			if (run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != VMM_PROBE_PORT || run->io.size != 1)
				return PROBE_EXIT;
			if (data[0] == VMM_PROBE_START && !t0) {
				budget.it_value.tv_sec = VMM_PROBE_BUDGET_MS / 1000;
				budget.it_value.tv_usec =
					(VMM_PROBE_BUDGET_MS % 1000) * 1000;
				setitimer(ITIMER_REAL, &budget, NULL);
				t0 = vmm_probe_now_ns();
			} else if (data[0] == VMM_PROBE_END && t0 && !m->loop_ns) {
				m->loop_ns = vmm_probe_now_ns() - t0;
				setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
			} else {
				return PROBE_EXIT;
			}
			continue;
		}
		if (run->exit_reason != KVM_EXIT_HLT || !m->loop_ns)
			return PROBE_EXIT;
		if (m->loop_ns > VMM_PROBE_BUDGET_MS * 1000000ull)
			return PROBE_SLOW;
		if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0)
			return PROBE_REGS;
		m->sum = regs.rbx;
		if (regs.rbx != VMM_PROBE_SUM)
			return PROBE_SUM;
		return PROBE_OK;
	}
	return PROBE_EXIT;
}

/* Child side: only system calls (async-signal-safe after fork). */
static int vmm_probe_child(struct vmm_probe_msg *m)
{
	struct kvm_userspace_memory_region region;
	struct sigaction sa;
	struct kvm_run *run;
	unsigned char *mem;
	int kvm, vm, vcpu, mmap_size, rc;

	/* SIGALRM interrupts KVM_RUN (EINTR) instead of killing us. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vmm_probe_noop;
	sigaction(SIGALRM, &sa, NULL);
	alarm(VMM_PROBE_SETUP_S);

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return PROBE_OPEN;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != 12)
		return PROBE_API;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return PROBE_CREATE_VM;
	mem = mmap(NULL, VMM_PROBE_MEM, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return PROBE_MEM;
	memset(&region, 0, sizeof(region));
	region.guest_phys_addr = 0;
	region.memory_size = VMM_PROBE_MEM;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return PROBE_MEM;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return PROBE_VCPU;
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(*run))
		return PROBE_VCPU;
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return PROBE_VCPU;
	rc = vmm_probe_cpu_features(kvm, vcpu, &m->disable);
	if (rc == PROBE_OK)
		rc = vmm_probe_long_mode(vcpu, mem);
	/* The setup alarm stays armed until the loop's budget replaces it. */
	if (rc == PROBE_OK)
		rc = vmm_probe_run(vcpu, run, m);
	return rc;
}

static void vmm_probe_explain(struct vmm_kvm_report *r,
			      const struct vmm_probe_msg *m, bool timeout)
{
	int code = m->code;
	const char *why;

	if (timeout) {
		snprintf(r->reason, sizeof(r->reason),
			 "the probe guest did not finish within %d ms",
			 VMM_PROBE_WAIT_MS);
		return;
	}
	why = code >= 0 && code < PROBE_CODES ? vmm_probe_why[code]
					      : "the probe failed";
	if (code == PROBE_SLOW && r->loop_ns)
		snprintf(r->reason, sizeof(r->reason), "%s: %llu instructions "
			 "took %llu ms (budget %d ms)", why, VMM_PROBE_INSNS,
			 (unsigned long long)(r->loop_ns / 1000000), VMM_PROBE_BUDGET_MS);
	else if (code == PROBE_SLOW)
		snprintf(r->reason, sizeof(r->reason), "%s: %llu instructions "
			 "took over %d ms", why, VMM_PROBE_INSNS, VMM_PROBE_BUDGET_MS);
	else if (code == PROBE_SUM)
		snprintf(r->reason, sizeof(r->reason), "%s (%llu, want %llu)", why,
			 (unsigned long long)m->sum, (unsigned long long)VMM_PROBE_SUM);
	else if (code == PROBE_OK)
		snprintf(r->reason, sizeof(r->reason), "%s: %llu instructions "
			 "in 64-bit mode took %.1f ms (budget %d ms)", why,
			 VMM_PROBE_INSNS, (double)r->loop_ns / 1e6, VMM_PROBE_BUDGET_MS);
	else
		snprintf(r->reason, sizeof(r->reason), "%s", why);
}

bool vmm_kvm_probe(struct vmm_kvm_report *r)
{
	struct vmm_probe_msg msg = { .code = -1 };
	int pfd[2] = { -1, -1 };
	bool timeout = false;
	struct pollfd p;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (access("/dev/kvm", F_OK) < 0) {
		snprintf(r->reason, sizeof(r->reason), "no /dev/kvm");
		return false;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(r->reason, sizeof(r->reason), "pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(r->reason, sizeof(r->reason), "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		struct vmm_probe_msg m = { 0 };
		ssize_t w;

		m.code = vmm_probe_child(&m);
		w = write(pfd[1], &m, sizeof(m));
		_exit(w == (ssize_t)sizeof(m) ? 0 : 1);
	}
	close(pfd[1]);
	pfd[1] = -1;
	p.fd = pfd[0];
	p.events = POLLIN;
	for (;;) {
		int n = poll(&p, 1, VMM_PROBE_WAIT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && read(pfd[0], &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			msg.code = -1;  /* the child died before it could answer */
		timeout = n == 0;
		break;
	}
	kill(pid, SIGKILL);  /* no-op when it already exited */
	/* ECHILD when SIGCHLD is ignored by the embedding program: fine. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->loop_ns = msg.loop_ns;
	r->usable = msg.code == PROBE_OK;
	for (size_t i = 0, n = 0; i < VMM_PROBE_N_MSRS; i++)
		if (msg.disable & (1u << i))
			r->cpu_disable[n++] = vmm_probe_msrs[i].feature;
	vmm_probe_explain(r, &msg, timeout);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return r->usable;
}

/* ---- cached answer with the PODVM_ACCEL override --------------------- */

static pthread_once_t vmm_kvm_once = PTHREAD_ONCE_INIT;
static struct vmm_kvm_report vmm_kvm_answer;

static void vmm_kvm_init(void)
{
	const char *env = getenv("PODVM_ACCEL");
	struct vmm_kvm_report *r = &vmm_kvm_answer;

	if (env && strcmp(env, "kvm") == 0) {
		/* Forced: probe anyway, for the CPU features to disable. */
		vmm_kvm_probe(r);
		r->usable = r->forced = true;
		snprintf(r->reason, sizeof(r->reason), "PODVM_ACCEL=kvm");
	} else if (env && strcmp(env, "tcg") == 0) {
		r->usable = false;
		r->forced = true;
		snprintf(r->reason, sizeof(r->reason), "PODVM_ACCEL=tcg");
	} else {
		vmm_kvm_probe(r);
	}
}

bool vmm_kvm_usable(void)
{
	pthread_once(&vmm_kvm_once, vmm_kvm_init);
	return vmm_kvm_answer.usable;
}

const struct vmm_kvm_report *vmm_kvm_report(void)
{
	pthread_once(&vmm_kvm_once, vmm_kvm_init);
	return &vmm_kvm_answer;
}
