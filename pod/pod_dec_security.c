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
	char fpath[POD_PATH_MAX];

	if (!pod_dec_obj(d, path, v))
		return;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "add") == 0)
			dec_caps_list(d, fpath, fv, &s->cap_add, &s->n_cap_add);
		else if (strcmp(key, "drop") == 0)
			dec_caps_list(d, fpath, fv, &s->cap_drop, &s->n_cap_drop);
		else
			pod_dec_unknown(d, fpath);
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
	char fpath[POD_PATH_MAX], lpath[POD_PATH_MAX];
	const char *lp = NULL;
	int k = -1;

	if (!pod_dec_obj(d, path, v))
		return;
	pod_dec_path(lpath, path, "localhostProfile");
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "type") == 0) {
			k = pod_dec_enum(d, fpath, fv, types);
			if (k >= 0)
				s->seccomp = kinds[k];
		} else if (strcmp(key, "localhostProfile") == 0) {
			lp = pod_dec_str(d, fpath, fv, POD_MAX_STR);
		} else {
			pod_dec_unknown(d, fpath);
		}
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

static bool sec_node_level(const char *key)
{
	static const char *const keys[] = { "seLinuxOptions", "windowsOptions",
		"sysctls", "appArmorProfile", "procMount", "fsGroupChangePolicy",
		"supplementalGroupsPolicy", "seLinuxChangePolicy", NULL };

	for (size_t i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static bool sec_has_sys_admin(const struct pod_security *s)
{
	for (size_t i = 0; i < s->n_cap_add; i++)
		if (strcmp(s->cap_add[i], "SYS_ADMIN") == 0 ||
		    strcmp(s->cap_add[i], "CAP_SYS_ADMIN") == 0)
			return true;
	return false;
}

void pod_dec_security(struct pod_dec *d, const char *path,
		      struct json_object *v, struct pod_security *s,
		      bool pod_level)
{
	char fpath[POD_PATH_MAX];
	bool b;

	if (!pod_dec_obj(d, path, v))
		return;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (strcmp(key, "runAsUser") == 0) {
			if (!pod_dec_is_null(fv))
				dec_id(d, fpath, fv, &s->run_as_user,
				       &s->has_run_as_user);
		} else if (strcmp(key, "runAsGroup") == 0) {
			if (!pod_dec_is_null(fv))
				dec_id(d, fpath, fv, &s->run_as_group,
				       &s->has_run_as_group);
		} else if (strcmp(key, "runAsNonRoot") == 0) {
			if (!pod_dec_is_null(fv))
				s->has_run_as_non_root = pod_dec_bool(d, fpath, fv,
							      &s->run_as_non_root);
		} else if (strcmp(key, "seccompProfile") == 0) {
			if (!pod_dec_is_null(fv))
				dec_seccomp(d, fpath, fv, s);
		} else if (pod_level && strcmp(key, "supplementalGroups") == 0) {
			if (!pod_dec_is_null(fv))
				dec_groups(d, fpath, fv, s);
		} else if (pod_level && strcmp(key, "fsGroup") == 0) {
			if (!pod_dec_is_null(fv))
				dec_id(d, fpath, fv, &s->fs_group, &s->has_fs_group);
		} else if (!pod_level && strcmp(key, "readOnlyRootFilesystem") == 0) {
			if (!pod_dec_is_null(fv))
				pod_dec_bool(d, fpath, fv, &s->read_only_root_fs);
		} else if (!pod_level && strcmp(key, "allowPrivilegeEscalation") == 0) {
			if (!pod_dec_is_null(fv))
				s->has_allow_priv_escalation = pod_dec_bool(d, fpath,
					fv, &s->allow_priv_escalation);
		} else if (!pod_level && strcmp(key, "capabilities") == 0) {
			if (!pod_dec_is_null(fv))
				dec_caps(d, fpath, fv, s);
		} else if (!pod_level && strcmp(key, "privileged") == 0) {
			if (!pod_dec_is_null(fv) && pod_dec_bool(d, fpath, fv, &b) && b)
				pod_dec_fail(d, fpath, R_FORBIDDEN, "Forbidden: "
					     "privileged containers are not "
					     "supported: Fargate-style pods run "
					     "in their own microVM without host "
					     "access");
		} else if (sec_node_level(key)) {
			if (!pod_dec_is_null(fv))
				pod_dec_unsupp(d, fpath, "node-level security "
					       "settings do not apply to a "
					       "microVM pod");
		} else {
			pod_dec_unknown(d, fpath);
		}
	}
	/* Kubernetes: no_new_privs cannot hold with CAP_SYS_ADMIN added. */
	if (!pod_level && s->has_allow_priv_escalation &&
	    !s->allow_priv_escalation && sec_has_sys_admin(s))
		pod_dec_fail(d, path, R_INVALID, "Invalid value: \"false\": "
			     "cannot set `allowPrivilegeEscalation` to false "
			     "and `capabilities.Add` CAP_SYS_ADMIN");
}
