/* spec.volumes (emptyDir only: a Fargate pod has no host to share) and
 * the checks that need the whole pod. */
#include "pod/pod.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

/* A volume's fields: its name and Kubernetes' volume sources. */
enum { V_NAME, V_EMPTY_DIR, V_HOST_PATH, V_CM, V_OTHER };
static const struct pod_dec_field vol_fields[] = {
	{ "name", V_NAME, 0 }, { "emptyDir", V_EMPTY_DIR, 0 },
	{ "hostPath", V_HOST_PATH, 0 },
	{ "configMap", V_CM, 0 }, { "secret", V_CM, 0 },
	{ "awsElasticBlockStore", V_OTHER, 0 }, { "azureDisk", V_OTHER, 0 },
	{ "azureFile", V_OTHER, 0 }, { "cephfs", V_OTHER, 0 },
	{ "cinder", V_OTHER, 0 }, { "csi", V_OTHER, 0 },
	{ "downwardAPI", V_OTHER, 0 }, { "ephemeral", V_OTHER, 0 },
	{ "fc", V_OTHER, 0 }, { "flexVolume", V_OTHER, 0 },
	{ "flocker", V_OTHER, 0 }, { "gcePersistentDisk", V_OTHER, 0 },
	{ "gitRepo", V_OTHER, 0 }, { "glusterfs", V_OTHER, 0 },
	{ "image", V_OTHER, 0 }, { "iscsi", V_OTHER, 0 }, { "nfs", V_OTHER, 0 },
	{ "persistentVolumeClaim", V_OTHER, 0 },
	{ "photonPersistentDisk", V_OTHER, 0 }, { "portworxVolume", V_OTHER, 0 },
	{ "projected", V_OTHER, 0 }, { "quobyte", V_OTHER, 0 },
	{ "rbd", V_OTHER, 0 }, { "scaleIO", V_OTHER, 0 },
	{ "storageos", V_OTHER, 0 }, { "vsphereVolume", V_OTHER, 0 },
	POD_DEC_END
};

static void dec_empty_dir(struct pod_dec *d, const char *path,
			  struct json_object *v, struct pod_volume *vol)
{
	static const char *const media[] = { "", "Memory", NULL };
	enum { F_MEDIUM, F_SIZE };
	static const struct pod_dec_field fields[] = {
		{ "medium", F_MEDIUM, 0 }, { "sizeLimit", F_SIZE, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_MEDIUM)
			vol->memory = pod_dec_enum(d, it.path, it.v, media) == 1;
		else
			pod_dec_quantity(d, it.path, it.v, false, &vol->size_limit);
	}
}

static void dec_volume(struct pod_dec *d, const char *ipath,
		       struct json_object *o, void *elem)
{
	struct pod_volume *vol = elem;
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	const char *s;
	size_t n_types = 0;
	bool name_bad = false;

	if (!pod_dec_it_init(&it, d, ipath, o, vol_fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == V_NAME) {
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			name_bad = !s || (*s && !pod_is_dns1123_label(s));
			if (s && *s && name_bad)
				pod_dec_invalid(d, it.path, s, strlen(s) > 63 ?
						"must be no more than 63 characters" :
						POD_MSG_LABEL);
			else if (s && *s)
				vol->name = pod_dec_strdup(d, s);
		} else if (n_types++) {
			pod_dec_fail(d, it.path, R_FORBIDDEN, "Forbidden: may not "
				     "specify more than 1 volume type");
		} else if (it.id == V_EMPTY_DIR) {
			vol->kind = POD_VOLUME_EMPTY_DIR;
			dec_empty_dir(d, it.path, it.v, vol);
		} else if (it.id == V_HOST_PATH) {
			pod_dec_fail(d, it.path, R_FORBIDDEN, "Forbidden: hostPath "
				     "volumes are not supported: pods run in "
				     "their own microVM");
		} else if (it.id == V_CM) {
			pod_dec_unsupp(d, it.path, "podvm has no ConfigMaps or "
				       "Secrets; use emptyDir");
		} else {
			pod_dec_unsupp(d, it.path, "podvm supports emptyDir "
				       "volumes only");
		}
	}
	if (!vol->name && !name_bad) {
		pod_dec_path(fpath, ipath, "name");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (n_types == 0)
		pod_dec_fail(d, ipath, R_REQUIRED, "Required value: must "
			     "specify a volume type");
}

static const struct pod_dec_list volumes_list = {
	POD_MAX_VOLUMES, sizeof(struct pod_volume), dec_volume,
	"name", offsetof(struct pod_volume, name), false,
};

void pod_dec_volumes(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod *pod)
{
	pod->volumes = pod_dec_list(d, path, v, &volumes_list, &pod->n_volumes);
}

static const struct pod_container *chk_nth(const struct pod *pod, size_t i,
					   char *path)
{
	if (i < pod->n_init_containers) {
		pod_dec_path_idx(path, "spec.initContainers", i);
		return &pod->init_containers[i];
	}
	pod_dec_path_idx(path, "spec.containers", i - pod->n_init_containers);
	return &pod->containers[i - pod->n_init_containers];
}

static bool chk_has_volume(const struct pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_volumes; i++)
		if (pod->volumes[i].name && strcmp(pod->volumes[i].name, name) == 0)
			return true;
	return false;
}

static bool chk_has_container(const struct pod *pod, const char *name)
{
	char unused[POD_PATH_MAX];
	size_t total = pod->n_init_containers + pod->n_containers;

	for (size_t i = 0; i < total; i++) {
		const struct pod_container *c = chk_nth(pod, i, unused);

		if (c->name && strcmp(c->name, name) == 0)
			return true;
	}
	return false;
}

void pod_dec_cross_check(struct pod_dec *d, const struct pod *pod)
{
	char cpath[POD_PATH_MAX], opath[POD_PATH_MAX], path[POD_PATH_MAX];
	char sub[96], q[128];
	size_t total = pod->n_init_containers + pod->n_containers;

	/* Kubernetes validates initContainers first, so a clash is
	 * reported on the regular container. */
	for (size_t i = 0; i < total; i++) {
		const struct pod_container *c = chk_nth(pod, i, cpath);

		for (size_t j = 0; c->name && j < i; j++) {
			const struct pod_container *o = chk_nth(pod, j, opath);

			if (!o->name || strcmp(o->name, c->name) != 0)
				continue;
			pod_dec_path(path, cpath, "name");
			pod_quote(q, sizeof(q), c->name);
			pod_dec_fail(d, path, R_DUP, "Duplicate value: %s", q);
			break;
		}
		for (size_t j = 0; j < c->n_mounts; j++) {
			const char *name = c->mounts[j].name;

			if (!name || chk_has_volume(pod, name))
				continue;
			snprintf(sub, sizeof(sub), "volumeMounts[%zu].name", j);
			pod_dec_path(path, cpath, sub);
			pod_quote(q, sizeof(q), name);
			pod_dec_fail(d, path, R_NOTFOUND, "Not found: %s", q);
		}
		for (size_t j = 0; j < c->n_env; j++) {
			const char *name = c->env[j].res_container;

			if (!name || chk_has_container(pod, name))
				continue;
			snprintf(sub, sizeof(sub), "env[%zu].valueFrom."
				 "resourceFieldRef.containerName", j);
			pod_dec_path(path, cpath, sub);
			pod_dec_invalid(d, path, name, "must be the name of a "
					"container in this pod");
		}
	}
}
