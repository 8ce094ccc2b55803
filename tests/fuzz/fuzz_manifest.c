/* libFuzzer target: bytes -> image_manifest_decode (as a registry or an
 * archive serves them, under each Content-Type a registry may claim),
 * index platform selection, config metadata, and the WWW-Authenticate
 * and auth.json parsers. Nothing may crash, leak or read out of bounds;
 * every accepted manifest must be self-consistent.
 *
 * Built and run by `make fuzz` (FUZZ_SECONDS each). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images/manifest.h"
#include "images/registry.h"
#include "images/store_priv.h"

static const char *const content_types[] = {
	NULL, "", "application/json", MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST,
	MT_DOCKER_V2, MT_DOCKER_V1_JWS, "application/vnd.oci.image.manifest.v1+json; charset=x",
};

static void check_manifest(const struct image_manifest *m)
{
	const struct image_desc *sel;

	if (m->kind == IMAGE_MK_MANIFEST) {
		if (!image_digest_valid(m->config.digest))
			abort();
		for (size_t i = 0; i < m->n_layers; i++)
			if (!image_digest_valid(m->layers[i].digest) ||
			    m->layers[i].comp > IMAGE_COMP_ZSTD)
				abort();
	} else if (m->kind == IMAGE_MK_INDEX) {
		for (size_t i = 0; i < m->n_manifests; i++)
			if (!image_digest_valid(m->manifests[i].digest))
				abort();
		if (image_index_select(m, "linux", "amd64", &sel, NULL) == 0 &&
		    (strcmp(sel->os, "linux") || strcmp(sel->arch, "amd64")))
			abort();
	} else {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_manifest m;
	struct image_config_meta meta;
	struct registry_challenge ch;
	struct registry_creds creds = { 0 };
	const char *ct;
	char *text;

	if (size == 0)
		return 0;
	ct = content_types[data[0] % (sizeof(content_types) / sizeof(content_types[0]))];
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (image_manifest_decode(text, size - 1, ct, &m, NULL) == 0) {
		check_manifest(&m);
		image_manifest_free(&m);
	}
	if (image_config_meta_parse(text, size - 1, &meta, NULL) == 0) {
		for (size_t i = 0; i < meta.n_diff_ids; i++)
			if (!image_digest_valid(meta.diff_ids[i]))
				abort();
		image_config_meta_free(&meta);
	}
	if (registry_challenge_parse(text, &ch, NULL) == 0 &&
	    (ch.scheme == REG_AUTH_BEARER && !ch.realm[0]))
		abort();
	if (registry_creds_add_json(&creds, text, size - 1, "fuzz", NULL) == 0)
		registry_creds_find(&creds, "docker.io", "library/busybox");
	registry_creds_free(&creds);
	free(text);
	return 0;
}
