/* Seccomp inside the guest: the RuntimeDefault profile as data
 * (seccomp_default.c) and the compiler shared with Localhost profiles
 * (seccomp.c): profile -> libseccomp -> classic BPF, with runc's ENOSYS
 * stub in front. */
#ifndef PODVM_GUEST_SECCOMP_H
#define PODVM_GUEST_SECCOMP_H

#include <stdint.h>

#include "guest/guest.h"
#include "pod/seccomp_profile.h"

#define GUEST_SC_MAX_RULES 32

/* The default profile for one capability set (rules point into static
 * tables; nothing to free). */
struct guest_sc_profile {
	struct seccomp_profile p;
	struct scp_rule rules[GUEST_SC_MAX_RULES];
};
void guest_seccomp_default(uint64_t caps, struct guest_sc_profile *out);

struct guest_sc_refusal { const char *name, *why; };
extern const struct guest_sc_refusal guest_sc_refused[];   /* NULL-ended */

/* A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
struct guest_bpf {
	struct sock_filter *prog;
	unsigned short len;
	unsigned flags;            /* SECCOMP_FILTER_FLAG_* */
};
int guest_seccomp_compile(const struct seccomp_profile *p,
			  struct guest_bpf *out, struct pv_err *err);
int guest_seccomp_install(const struct guest_bpf *b, struct pv_err *err);
void guest_bpf_free(struct guest_bpf *b);

#endif
