/* Pod- and container-level securityContext. What a Fargate pod cannot
 * have (privileged) is Forbidden; node-level knobs (SELinux, Windows,
 * sysctls, AppArmor, procMount) are not supported. */
#include "pod/pod.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

#define SEC_ID_MAX 2147483647LL   /* Kubernetes: uids and gids are int32 */
#define SEC_CAP_MAX 64

static void dec_id(struct pod_dec *d, const char *path, struct json_object *v,
		   int64_t *out, bool *has)
{
	*has = pod_dec_int(d, path, v, 0, SEC_ID_MAX, out);
}

/* NET_ADMIN, CAP_NET_ADMIN or ALL: [A-Z_]+ with an optional CAP_. */
static bool sec_cap_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SEC_CAP_MAX)
		return false;
	if (strncmp(s, "CAP_", 4) == 0 && len > 4)
		s += 4;
	/* a letter first, no trailing '_' ("CAP_" alone is no name) */
	if (*s < 'A' || *s > 'Z' || s[strlen(s) - 1] == '_')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
			return false;
	return true;
}

static void dec_caps_list(struct pod_dec *d, const char *path,
			  struct json_object *v, char ***out, size_t *n_out)
{
	char ipath[POD_PATH_MAX];
	size_t n;
	const char *s;

	*out = pod_dec_array(d, path, v, "expected array of strings", POD_MAX_CAPS,
			   sizeof(**out), 1, &n);
	if (!*out)
		return;
	for (size_t i = 0; i < n; i++) {
		pod_dec_path_idx(ipath, path, i);
		s = pod_dec_str(d, ipath, json_object_array_get_idx(v, i),
				POD_MAX_STR);
		if (!s)
			continue;
		if (!sec_cap_ok(s)) {
			pod_dec_invalid(d, ipath, s, "must be a capability name "
					"such as \"NET_ADMIN\" or \"CAP_NET_ADMIN\", "
					"or \"ALL\"");
			continue;
		}
		(*out)[*n_out] = pod_dec_strdup(d, s);
		if ((*out)[*n_out])
			(*n_out)++;
	}
}

static void dec_caps(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod_security *s)
{
	enum { F_ADD, F_DROP };
	static const struct pod_dec_field fields[] = {
		{ "add", F_ADD, 0 }, { "drop", F_DROP, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_ADD)
			dec_caps_list(d, it.path, it.v, &s->cap_add, &s->n_cap_add);
		else
			dec_caps_list(d, it.path, it.v, &s->cap_drop, &s->n_cap_drop);
	}
}

static bool localhost_path_ok(const char *p)
{
	if (!*p || p[0] == '/' || pod_has_dotdot(p))
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void dec_seccomp(struct pod_dec *d, const char *path,
			struct json_object *v, struct pod_security *s)
{
	static const char *const types[] = { "RuntimeDefault", "Unconfined",
					     "Localhost", NULL };
	static const enum pod_seccomp kinds[] = { POD_SECCOMP_RUNTIME_DEFAULT,
		POD_SECCOMP_UNCONFINED, POD_SECCOMP_LOCALHOST };
	enum { F_TYPE, F_LOCALHOST };
	static const struct pod_dec_field fields[] = {
		{ "type", F_TYPE, 0 }, { "localhostProfile", F_LOCALHOST, 0 },
		POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX], lpath[POD_PATH_MAX];
	const char *lp = NULL;
	int k = -1;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	pod_dec_path(lpath, path, "localhostProfile");
	while (pod_dec_it_next(&it)) {
		if (it.id == F_LOCALHOST) {
			lp = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			continue;
		}
		k = pod_dec_enum(d, it.path, it.v, types);
		if (k >= 0)
			s->seccomp = kinds[k];
	}
	if (!json_object_object_get_ex(v, "type", NULL)) {
		pod_dec_path(fpath, path, "type");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	/* Kubernetes: a descending relative path, only with Localhost */
	if (k >= 0 && s->seccomp != POD_SECCOMP_LOCALHOST && lp) {
		pod_dec_invalid(d, lpath, lp, "can only be set when seccomp type "
				"is \"Localhost\"");
	} else if (s->seccomp == POD_SECCOMP_LOCALHOST && !lp) {
		pod_dec_fail(d, lpath, R_REQUIRED, "Required value: must be set "
			     "when seccomp type is \"Localhost\"");
	} else if (lp && !localhost_path_ok(lp)) {
		pod_dec_invalid(d, lpath, lp, "must be a relative path without "
				"'..' or control characters");
	} else if (lp) {
		s->localhost_profile = pod_dec_strdup(d, lp);
	}
}

static void dec_groups(struct pod_dec *d, const char *path,
		       struct json_object *v, struct pod_security *s)
{
	char ipath[POD_PATH_MAX];
	size_t n;
	int64_t g;

	s->supplemental_groups = pod_dec_array(d, path, v, "expected array of integers", POD_MAX_GROUPS,
			   sizeof(*s->supplemental_groups), 0, &n);
	if (!s->supplemental_groups)
		return;
	for (size_t i = 0; i < n; i++) {
		pod_dec_path_idx(ipath, path, i);
		if (pod_dec_int(d, ipath, json_object_array_get_idx(v, i), 0,
				SEC_ID_MAX, &g))
			s->supplemental_groups[s->n_supplemental_groups++] = g;
	}
}

static bool sec_has_sys_admin(const struct pod_security *s)
{
	for (size_t i = 0; i < s->n_cap_add; i++)
		if (strcmp(s->cap_add[i], "SYS_ADMIN") == 0 ||
		    strcmp(s->cap_add[i], "CAP_SYS_ADMIN") == 0)
			return true;
	return false;
}

enum {
	S_USER, S_GROUP, S_NON_ROOT, S_SECCOMP, S_GROUPS, S_FS_GROUP, S_RO_ROOT,
	S_PRIV_ESC, S_CAPS, S_PRIVILEGED, S_NODE,
};

/* Node-level knobs: not supported, a microVM pod has its own kernel. */
#define SEC_NODE_FIELDS \
	{ "seLinuxOptions", S_NODE, 0 }, { "windowsOptions", S_NODE, 0 }, \
	{ "sysctls", S_NODE, 0 }, { "appArmorProfile", S_NODE, 0 }, \
	{ "procMount", S_NODE, 0 }, { "fsGroupChangePolicy", S_NODE, 0 }, \
	{ "supplementalGroupsPolicy", S_NODE, 0 }, \
	{ "seLinuxChangePolicy", S_NODE, 0 }

static const struct pod_dec_field pod_sec_fields[] = {
	{ "runAsUser", S_USER, 0 }, { "runAsGroup", S_GROUP, 0 },
	{ "runAsNonRoot", S_NON_ROOT, 0 }, { "seccompProfile", S_SECCOMP, 0 },
	{ "supplementalGroups", S_GROUPS, 0 }, { "fsGroup", S_FS_GROUP, 0 },
	SEC_NODE_FIELDS, POD_DEC_END
};

static const struct pod_dec_field ctr_sec_fields[] = {
	{ "runAsUser", S_USER, 0 }, { "runAsGroup", S_GROUP, 0 },
	{ "runAsNonRoot", S_NON_ROOT, 0 }, { "seccompProfile", S_SECCOMP, 0 },
	{ "readOnlyRootFilesystem", S_RO_ROOT, 0 },
	{ "allowPrivilegeEscalation", S_PRIV_ESC, 0 },
	{ "capabilities", S_CAPS, 0 }, { "privileged", S_PRIVILEGED, 0 },
	SEC_NODE_FIELDS, POD_DEC_END
};

static void dec_sec_field(struct pod_dec *d, const struct pod_dec_it *it,
			  struct pod_security *s)
{
	const char *path = it->path;
	struct json_object *v = it->v;
	bool b;

	switch (it->id) {
	case S_USER: dec_id(d, path, v, &s->run_as_user, &s->has_run_as_user); break;
	case S_GROUP: dec_id(d, path, v, &s->run_as_group, &s->has_run_as_group); break;
	case S_NON_ROOT:
		s->has_run_as_non_root = pod_dec_bool(d, path, v,
						      &s->run_as_non_root);
		break;
	case S_SECCOMP: dec_seccomp(d, path, v, s); break;
	case S_GROUPS: dec_groups(d, path, v, s); break;
	case S_FS_GROUP: dec_id(d, path, v, &s->fs_group, &s->has_fs_group); break;
	case S_RO_ROOT: pod_dec_bool(d, path, v, &s->read_only_root_fs); break;
	case S_PRIV_ESC:
		s->has_allow_priv_escalation = pod_dec_bool(d, path, v,
							    &s->allow_priv_escalation);
		break;
	case S_CAPS: dec_caps(d, path, v, s); break;
	case S_PRIVILEGED:
		if (pod_dec_bool(d, path, v, &b) && b)
			pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: "
				     "privileged containers are not "
				     "supported: Fargate-style pods run "
				     "in their own microVM without host "
				     "access");
		break;
	case S_NODE:
		pod_dec_unsupp(d, path, "node-level security settings do not "
			       "apply to a microVM pod");
		break;
	}
}

void pod_dec_security(struct pod_dec *d, const char *path,
		      struct json_object *v, struct pod_security *s,
		      bool pod_level)
{
	struct pod_dec_it it;

	if (!pod_dec_it_init(&it, d, path, v,
			     pod_level ? pod_sec_fields : ctr_sec_fields))
		return;
	while (pod_dec_it_next(&it))
		dec_sec_field(d, &it, s);
	/* Kubernetes: no_new_privs cannot hold with CAP_SYS_ADMIN added. */
	if (!pod_level && s->has_allow_priv_escalation &&
	    !s->allow_priv_escalation && sec_has_sys_admin(s))
		pod_dec_fail(d, path, R_INVALID, "Invalid value: \"false\": "
			     "cannot set `allowPrivilegeEscalation` to false "
			     "and `capabilities.Add` CAP_SYS_ADMIN");
}
