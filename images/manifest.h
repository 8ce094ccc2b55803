/* OCI / Docker manifests and indexes as a registry serves them (hostile
 * input): decoding with field paths in every error, platform selection
 * from an index, the config's rootfs.diff_ids. Shared by the registry
 * client, archive loading and the store. */
#ifndef PODVM_IMAGES_MANIFEST_H
#define PODVM_IMAGES_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "images/store.h"

#define IMAGE_MANIFEST_MAX  (4u << 20)   /* as containerd and distribution v3 */
#define IMAGE_MT_MAX        128
#define IMAGE_PLATFORM_MAX  32

#define MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG    "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2     "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1     "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_JWS "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* What a registry is asked for (Accept), most preferred first. */
#define IMAGE_MANIFEST_ACCEPT \
	MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_V2 \
	", " MT_DOCKER_V1_JWS ";q=0.1"

enum image_comp { IMAGE_COMP_NONE = 0, IMAGE_COMP_GZIP, IMAGE_COMP_ZSTD };

struct image_desc {
	char media_type[IMAGE_MT_MAX];
	char digest[IMAGE_DIGEST_MAX];
	uint64_t size;
	enum image_comp comp;                  /* layers */
	char os[IMAGE_PLATFORM_MAX];           /* index entries */
	char arch[IMAGE_PLATFORM_MAX];
	char variant[IMAGE_PLATFORM_MAX];
};

enum image_mkind { IMAGE_MK_MANIFEST = 1, IMAGE_MK_INDEX };

struct image_manifest {
	enum image_mkind kind;
	char media_type[IMAGE_MT_MAX];
	struct image_desc config;              /* manifest */
	struct image_desc *layers;             /* manifest */
	size_t n_layers;
	struct image_desc *manifests;          /* index */
	size_t n_manifests;
};

#define IMAGE_MAX_LAYERS     1024
#define IMAGE_MAX_MANIFESTS  1024

/* Decode a manifest or an index. content_type: the registry's
 * Content-Type (NULL or "" when unknown, e.g. from an archive). Docker
 * schema 1 is refused as unsupported; errors name the field
 * ("manifest: layers[2].digest: ..."). */
int image_manifest_decode(const char *text, size_t len, const char *content_type,
			  struct image_manifest *out, struct pv_err *err);
void image_manifest_free(struct image_manifest *m);

/* The index entry for os/arch (e.g. "linux"/"amd64"); -ENOENT naming the
 * platforms the index has when there is none. */
int image_index_select(const struct image_manifest *idx, const char *os,
		       const char *arch, const struct image_desc **out,
		       struct pv_err *err);

/* The config's os/architecture and rootfs.diff_ids (caller frees *ids). */
struct image_config_meta {
	char os[IMAGE_PLATFORM_MAX];
	char arch[IMAGE_PLATFORM_MAX];
	char (*diff_ids)[IMAGE_DIGEST_MAX];
	size_t n_diff_ids;
};
int image_config_meta_parse(const char *text, size_t len,
			    struct image_config_meta *out, struct pv_err *err);
void image_config_meta_free(struct image_config_meta *m);

#endif
