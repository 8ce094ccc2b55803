/* securityContext: the pod's values are defaults, the container's win.
 * Applied in the container child (and in every process exec'd into the
 * container) right before execve, in this order:
 *   KEEPCAPS, bounding set, [seccomp when no_new_privs is off: loading a
 *   filter then needs CAP_SYS_ADMIN, which we still have], groups, gid,
 *   uid, permitted/effective caps, no_new_privs, [seccomp]. */
#include "guest/guest.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void guest_sec_add_group(struct guest_sec *s, int64_t g)
{
	size_t i;

	if (g < 0 || g > UINT32_MAX - 1)
		return;
	for (i = 0; i < s->n_extra_groups; i++)
		if (s->extra_groups[i] == (gid_t)g)
			return;
	if (s->n_extra_groups < GUEST_MAX_GROUPS)
		s->extra_groups[s->n_extra_groups++] = (gid_t)g;
}

int guest_sec_build(const struct pod *pod, const struct pod_container *pc,
		    struct guest_sec *out, struct pv_err *err)
{
	const struct pod_security *ps = pod && pod->has_security ? &pod->security : NULL;
	const struct pod_security *cs = pc && pc->has_security ? &pc->security : NULL;
	enum pod_seccomp sc = POD_SECCOMP_DEFAULT;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (cs && cs->has_run_as_user) {
		out->has_uid = true;
		out->uid = (uid_t)cs->run_as_user;
	} else if (ps && ps->has_run_as_user) {
		out->has_uid = true;
		out->uid = (uid_t)ps->run_as_user;
	}
	if (cs && cs->has_run_as_group) {
		out->has_gid = true;
		out->gid = (gid_t)cs->run_as_group;
	} else if (ps && ps->has_run_as_group) {
		out->has_gid = true;
		out->gid = (gid_t)ps->run_as_group;
	}
	if (cs && cs->has_run_as_non_root)
		out->run_as_non_root = cs->run_as_non_root;
	else if (ps && ps->has_run_as_non_root)
		out->run_as_non_root = ps->run_as_non_root;
	/* supplementalGroups and fsGroup are pod-level only */
	for (i = 0; ps && i < ps->n_supplemental_groups; i++)
		guest_sec_add_group(out, ps->supplemental_groups[i]);
	if (ps && ps->has_fs_group)
		guest_sec_add_group(out, ps->fs_group);
	out->read_only_root = cs && cs->read_only_root_fs;
	out->no_new_privs = cs && cs->has_allow_priv_escalation &&
			    !cs->allow_priv_escalation;
	rc = guest_caps_compute(cs ? cs->cap_add : NULL, cs ? cs->n_cap_add : 0,
				cs ? cs->cap_drop : NULL, cs ? cs->n_cap_drop : 0,
				&out->caps, err);
	if (rc < 0)
		return rc;
	if (ps && ps->seccomp != POD_SECCOMP_DEFAULT)
		sc = ps->seccomp;
	if (cs && cs->seccomp != POD_SECCOMP_DEFAULT)
		sc = cs->seccomp;
	out->seccomp = sc != POD_SECCOMP_UNCONFINED;
	out->seccomp_localhost = sc == POD_SECCOMP_LOCALHOST;
	return 0;
}

int guest_sec_user(const struct guest_sec *sec, const char *image_user,
		   struct guest_user *out, struct pv_err *err)
{
	char spec[64];
	size_t i, j;
	int rc;

	if (sec->has_uid) {
		/* runAsUser replaces the image's user; its group comes from
		 * runAsGroup, else from the image's passwd entry for the uid. */
		if (sec->has_gid)
			snprintf(spec, sizeof(spec), "%u:%u", (unsigned)sec->uid,
				 (unsigned)sec->gid);
		else
			snprintf(spec, sizeof(spec), "%u", (unsigned)sec->uid);
		rc = guest_user_resolve(spec, "/etc/passwd", "/etc/group", out, err);
	} else {
		rc = guest_user_resolve(image_user, "/etc/passwd", "/etc/group", out, err);
		if (rc == 0 && sec->has_gid)
			out->gid = sec->gid;
	}
	if (rc < 0)
		return rc;
	if (sec->run_as_non_root && out->uid == 0)
		return pv_err_set(err, EPERM,
				  "container has runAsNonRoot and image will run as root");
	for (i = 0; i < sec->n_extra_groups; i++) {
		for (j = 0; j < out->n_groups; j++)
			if (out->groups[j] == sec->extra_groups[i])
				break;
		if (j == out->n_groups && out->n_groups < GUEST_MAX_GROUPS)
			out->groups[out->n_groups++] = sec->extra_groups[i];
	}
	return 0;
}

int guest_sec_apply(const struct guest_sec *sec, const struct guest_user *u,
		    struct pv_err *err)
{
	int rc;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return pv_err_sys(err, errno, "PR_SET_KEEPCAPS");
	rc = guest_caps_bound(sec->caps, err);
	if (rc < 0)
		return rc;
	if (sec->seccomp && !sec->no_new_privs) {
		rc = guest_seccomp_load(sec, err);
		if (rc < 0)
			return rc;
	}
	if (setgroups(u->n_groups, u->groups) < 0)
		return pv_err_sys(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return pv_err_sys(err, errno, "setgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return pv_err_sys(err, errno, "setuid %u", (unsigned)u->uid);
	rc = guest_caps_apply(sec->caps, err);
	if (rc < 0)
		return rc;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return pv_err_sys(err, errno, "PR_SET_KEEPCAPS");
	if (sec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return pv_err_sys(err, errno, "PR_SET_NO_NEW_PRIVS");
	if (sec->seccomp && sec->no_new_privs) {
		rc = guest_seccomp_load(sec, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
