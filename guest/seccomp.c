/* Seccomp profiles -> classic BPF. RuntimeDefault (guest/seccomp_default.c)
 * and Localhost profiles (OCI format, from the host) go through the same
 * path, which follows runc's:
 *   - libseccomp builds the filter; syscall names it does not know are
 *     skipped; a rule whose action is the default action is skipped;
 *     conditions on the same argument twice become one rule each (OR);
 *   - no_new_privs is not libseccomp's to set: it is the container's
 *     choice (allowPrivilegeEscalation), and we load holding CAP_SYS_ADMIN;
 *   - in front of libseccomp's program, a stub answers ENOSYS for any
 *     syscall number above the highest one the profile names on that
 *     architecture, so that libcs fall back from syscalls newer than the
 *     profile (glibc's clone3 -> clone, fchmodat2 -> fchmodat) instead of
 *     failing with EPERM.
 * PID 1 compiles each distinct filter once before it forks (compiling
 * costs milliseconds under TCG); containers, exec'd processes, probes and
 * hooks only install it. Unconfined: no filter at all. */
#include "guest/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>
#include <seccomp.h>

#define GUEST_SC_X32_BIT 0x40000000u
#define GUEST_SC_STUB_LEN 10
#define GUEST_SC_CACHE (2 * GUEST_MAX_CTRS)

static uint32_t guest_sc_act(enum scp_action a, bool has_errno, uint32_t e)
{
	switch (a) {
	case SCP_ACT_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
	case SCP_ACT_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case SCP_ACT_TRAP: return SCMP_ACT_TRAP;
	case SCP_ACT_ERRNO: return SCMP_ACT_ERRNO(seccomp_profile_errno(has_errno, e));
	case SCP_ACT_TRACE: return SCMP_ACT_TRACE(seccomp_profile_errno(has_errno, e));
	case SCP_ACT_ALLOW: return SCMP_ACT_ALLOW;
	case SCP_ACT_LOG: return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;   /* unreachable: decoded enums */
}

static enum scmp_compare guest_sc_op(enum scp_op op)
{
	static const enum scmp_compare ops[] = {
		[SCP_OP_NE] = SCMP_CMP_NE, [SCP_OP_LT] = SCMP_CMP_LT,
		[SCP_OP_LE] = SCMP_CMP_LE, [SCP_OP_EQ] = SCMP_CMP_EQ,
		[SCP_OP_GE] = SCMP_CMP_GE, [SCP_OP_GT] = SCMP_CMP_GT,
		[SCP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};
	return ops[op];
}

/* One rule of the profile, for every name libseccomp knows. */
static int guest_sc_add_rule(scmp_filter_ctx ctx, const struct scp_rule *r,
			     uint32_t act, size_t idx, struct pv_err *err)
{
	struct scmp_arg_cmp cmp[SCP_MAX_ARGS];
	unsigned seen = 0;
	bool split = false;
	size_t i, j;
	int nr, rc;

	for (i = 0; i < r->n_args; i++) {
		cmp[i] = (struct scmp_arg_cmp){ .arg = r->args[i].index,
						.op = guest_sc_op(r->args[i].op),
						.datum_a = r->args[i].value,
						.datum_b = r->args[i].value_two };
		split |= (seen & (1u << r->args[i].index)) != 0;
		seen |= 1u << r->args[i].index;
	}
	for (j = 0; j < r->n_names; j++) {
		nr = seccomp_syscall_resolve_name(r->names[j]);
		if (nr == __NR_SCMP_ERROR)
			continue;   /* unknown here: as runc, skip it */
		if (!split) {
			rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)r->n_args,
						    cmp);
		} else {
			for (i = 0, rc = 0; rc == 0 && i < r->n_args; i++)
				rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
		}
		if (rc < 0)
			return pv_err_set(err, -rc, "seccomp: syscalls[%zu] (%s): %s",
					  idx, r->names[j], strerror(-rc));
	}
	return 0;
}

static int guest_sc_build(const struct seccomp_profile *p, scmp_filter_ctx *out,
			  struct pv_err *err)
{
	uint32_t def = guest_sc_act(p->default_action, p->has_default_errno,
				    p->default_errno);
	scmp_filter_ctx ctx = seccomp_init(def);
	int rc = 0;

	if (!ctx)
		return pv_err_set(err, EINVAL, "seccomp: cannot create the filter");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0 && (p->arches & SCP_ARCH_X86))
		rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (rc == 0 && (p->arches & SCP_ARCH_X32))
		rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
	if (rc < 0 && rc != -EEXIST) {
		seccomp_release(ctx);
		return pv_err_set(err, -rc, "seccomp: architectures: %s", strerror(-rc));
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct scp_rule *r = &p->rules[i];
		uint32_t act = guest_sc_act(r->action, r->has_errno, r->errno_ret);

		if (act == def)
			continue;   /* libseccomp refuses those; they change nothing */
		rc = guest_sc_add_rule(ctx, r, act, i, err);
		if (rc < 0) {
			seccomp_release(ctx);
			return rc;
		}
	}
	*out = ctx;
	return 0;
}

/* The highest syscall number the profile names on arch, or UINT32_MAX
 * (the stub then never answers ENOSYS there). */
static uint32_t guest_sc_max_nr(const struct seccomp_profile *p, uint32_t arch)
{
	int max = -1, nr;

	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t j = 0; j < p->rules[i].n_names; j++) {
			nr = seccomp_syscall_resolve_name_arch(arch, p->rules[i].names[j]);
			if (nr >= 0 && nr > max)
				max = nr;
		}
	return max < 0 ? UINT32_MAX : (uint32_t)max;
}

/* runc's ENOSYS stub, for x86-64, x32 (same audit arch, X32 bit in the
 * number) and i386; other architectures fall through to libseccomp's
 * program, which refuses them. */
static void guest_sc_stub(const struct seccomp_profile *p, struct sock_filter *s)
{
	uint32_t m64 = guest_sc_max_nr(p, SCMP_ARCH_X86_64);
	uint32_t mx32 = (p->arches & SCP_ARCH_X32) ?
			guest_sc_max_nr(p, SCMP_ARCH_X32) : UINT32_MAX;
	uint32_t m32 = (p->arches & SCP_ARCH_X86) ?
		       guest_sc_max_nr(p, SCMP_ARCH_X86) : UINT32_MAX;
	const struct sock_filter stub[GUEST_SC_STUB_LEN] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, GUEST_SC_X32_BIT, 1, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, m64, 4, 5),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, mx32, 3, 4),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, nr)),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, m32, 0, 1),
		/* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		/* 10: libseccomp's program, which loads arch itself */
	};

	memcpy(s, stub, sizeof(stub));
}

static int guest_sc_export(scmp_filter_ctx ctx, const struct seccomp_profile *p,
			   struct guest_bpf *out, struct pv_err *err)
{
	bool stub = p->default_action != SCP_ACT_ALLOW &&
		    p->default_action != SCP_ACT_LOG;
	size_t off = stub ? GUEST_SC_STUB_LEN : 0, n;
	struct stat st;
	int fd, rc;

	fd = memfd_create("podvm-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		rc = pv_err_set(err, EINVAL, "seccomp: exporting the filter");
		goto out;
	}
	n = (size_t)st.st_size / sizeof(struct sock_filter);
	if (n + off > BPF_MAXINSNS) {
		rc = pv_err_set(err, E2BIG, "seccomp: the filter has %zu instructions, "
				"more than the kernel's %d", n + off, BPF_MAXINSNS);
		goto out;
	}
	out->prog = calloc(n + off, sizeof(struct sock_filter));
	if (!out->prog) {
		rc = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (pread(fd, out->prog + off, (size_t)st.st_size, 0) != st.st_size) {
		rc = pv_err_sys(err, errno, "seccomp: reading the filter");
		guest_bpf_free(out);
		goto out;
	}
	if (stub)
		guest_sc_stub(p, out->prog);
	out->len = (unsigned short)(n + off);
	out->flags = ((p->flags & SCP_FLAG_LOG) ? SECCOMP_FILTER_FLAG_LOG : 0) |
		     ((p->flags & SCP_FLAG_SPEC_ALLOW) ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
	rc = 0;
out:
	close(fd);
	return rc;
}

int guest_seccomp_compile(const struct seccomp_profile *p, struct guest_bpf *out,
			  struct pv_err *err)
{
	scmp_filter_ctx ctx = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = guest_sc_build(p, &ctx, err);
	if (rc < 0)
		return rc;
	rc = guest_sc_export(ctx, p, out, err);
	seccomp_release(ctx);
	return rc;
}

int guest_seccomp_install(const struct guest_bpf *b, struct pv_err *err)
{
	struct sock_fprog fp = { .len = b->len, .filter = b->prog };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &fp) < 0)
		return pv_err_sys(err, errno, "seccomp: installing the filter");
	return 0;
}

void guest_bpf_free(struct guest_bpf *b)
{
	free(b->prog);
	memset(b, 0, sizeof(*b));
}

/* Compiled filters, keyed by what they were built from ("default CAPS"
 * or the Localhost profile's canonical JSON). */
static struct guest_sc_entry {
	char *key;
	struct guest_bpf bpf;
} guest_sc_cache[GUEST_SC_CACHE];

static int guest_sc_key(const struct guest_sec *sec,
			const struct seccomp_profile *local, char **key)
{
	struct json_object *j;

	if (!local)
		return asprintf(key, "default %llx", (unsigned long long)sec->caps) < 0 ?
		       -ENOMEM : 0;
	j = seccomp_profile_to_json(local);
	*key = j ? strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN))
		 : NULL;
	json_object_put(j);
	return *key ? 0 : -ENOMEM;
}

int guest_seccomp_prepare(struct guest_sec *sec,
			  const struct runtime_container *rc, struct pv_err *err)
{
	const struct seccomp_profile *local = NULL;
	struct guest_sc_profile def;
	struct guest_sc_entry *e = NULL;
	char *key = NULL;
	int ret;

	sec->bpf = NULL;
	if (!sec->seccomp)
		return 0;
	if (sec->seccomp_localhost) {
		local = rc ? rc->seccomp : NULL;
		if (!local)
			return pv_err_set(err, EINVAL, "seccomp: the Localhost profile "
					  "is missing from the pod spec");
	}
	if (guest_sc_key(sec, local, &key) < 0)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < GUEST_SC_CACHE && !e; i++) {
		if (guest_sc_cache[i].key && !strcmp(guest_sc_cache[i].key, key)) {
			sec->bpf = &guest_sc_cache[i].bpf;
			free(key);
			return 0;
		}
		if (!guest_sc_cache[i].key)
			e = &guest_sc_cache[i];
	}
	if (!e) {
		free(key);
		return pv_err_set(err, ENOSPC, "seccomp: too many distinct filters");
	}
	if (!local) {
		guest_seccomp_default(sec->caps, &def);
		local = &def.p;
	}
	ret = guest_seccomp_compile(local, &e->bpf, err);
	if (ret < 0) {
		free(key);
		return ret;
	}
	e->key = key;
	sec->bpf = &e->bpf;
	return 0;
}

int guest_seccomp_load(const struct guest_sec *sec, struct pv_err *err)
{
	if (!sec->seccomp)
		return 0;
	if (!sec->bpf)
		return pv_err_set(err, EINVAL, "seccomp: no filter was prepared");
	return guest_seccomp_install(sec->bpf, err);
}
