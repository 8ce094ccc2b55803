/* A seccomp profile in the OCI runtime-spec format (linux.seccomp, the
 * format kubelet's Localhost profiles use), shared by host and guest:
 * the host reads and validates a Localhost profile file and sends it in
 * the runtime; the guest decodes it again (strictly: the host's bytes are
 * hostile too) and compiles it with libseccomp. The RuntimeDefault profile
 * is built in the guest into the same structure.
 *
 * Strict: an unknown field, a wrong type, an unknown action, operator,
 * architecture or flag is an error naming the field path
 * ("syscalls[2].args[0].op: unknown operator \"SCMP_CMP_FOO\""). Not
 * supported: SCMP_ACT_NOTIFY and listenerPath (no seccomp agent), and
 * Docker's own extensions (archMap, includes/excludes), which the OCI
 * format does not have. */
#ifndef PODVM_POD_SECCOMP_PROFILE_H
#define PODVM_POD_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct json_object;

#define SCP_FILE_MAX      (256u * 1024)   /* profile file size, bytes */
#define SCP_MAX_RULES     1024
#define SCP_MAX_NAMES     4096            /* syscall names, all rules */
#define SCP_NAME_MAX      64
#define SCP_MAX_ARGS      6               /* syscall arguments 0..5 */
#define SCP_ERRNO_MAX     4095            /* the kernel's MAX_ERRNO */

enum scp_action {
	SCP_ACT_KILL_THREAD = 0,   /* also "SCMP_ACT_KILL" */
	SCP_ACT_KILL_PROCESS,
	SCP_ACT_TRAP,
	SCP_ACT_ERRNO,
	SCP_ACT_TRACE,
	SCP_ACT_ALLOW,
	SCP_ACT_LOG,
};

enum scp_op {
	SCP_OP_NE = 0, SCP_OP_LT, SCP_OP_LE, SCP_OP_EQ, SCP_OP_GE, SCP_OP_GT,
	SCP_OP_MASKED_EQ,
};

/* Only the architectures a syscall can come from on x86-64; the others
 * of the OCI list are accepted and have no effect in an x86-64 VM. */
enum scp_arch_bit {
	SCP_ARCH_X86_64 = 1u << 0,
	SCP_ARCH_X86    = 1u << 1,
	SCP_ARCH_X32    = 1u << 2,
	SCP_ARCH_OTHER  = 1u << 3,
};

enum scp_flag_bit {
	SCP_FLAG_TSYNC      = 1u << 0,   /* no effect: one thread at load */
	SCP_FLAG_LOG        = 1u << 1,
	SCP_FLAG_SPEC_ALLOW = 1u << 2,
	SCP_FLAG_WAIT_KILLABLE_RECV = 1u << 3,   /* no effect without a listener */
};

struct scp_arg {
	unsigned index;            /* 0..5 */
	uint64_t value, value_two;
	enum scp_op op;
};

struct scp_rule {
	const char *const *names;
	size_t n_names;
	enum scp_action action;
	bool has_errno;
	uint32_t errno_ret;        /* ERRNO: errno; TRACE: the tracer's data */
	struct scp_arg args[SCP_MAX_ARGS];
	size_t n_args;
};

struct seccomp_profile {
	enum scp_action default_action;
	bool has_default_errno;
	uint32_t default_errno;
	unsigned arches;           /* enum scp_arch_bit; 0: the native one */
	unsigned flags;            /* enum scp_flag_bit */
	struct scp_rule *rules;
	size_t n_rules;
	bool owned;                /* names and rules are malloc'd (decoded) */
};

/* errno a rule or the default action returns: errnoRet, else EPERM (as
 * runc does for ERRNO and TRACE). */
uint32_t seccomp_profile_errno(bool has, uint32_t v);

/* Strict decode of a JSON profile object (*out malloc'd). */
int seccomp_profile_from_json(struct json_object *obj,
			      struct seccomp_profile **out, struct pv_err *err);
/* Parse profile text (a file's contents, len bytes). Errors name the
 * field, or the JSON error with its offset. */
int seccomp_profile_parse(const char *text, size_t len,
			  struct seccomp_profile **out, struct pv_err *err);
/* The canonical JSON object (NULL on ENOMEM). */
struct json_object *seccomp_profile_to_json(const struct seccomp_profile *p);
void seccomp_profile_free(struct seccomp_profile *p);

/* Names for messages: "SCMP_ACT_ERRNO" etc. */
const char *seccomp_profile_action_name(enum scp_action a);

#endif
