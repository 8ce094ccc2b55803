/* Shared by the image verbs (cli/image*.c) and `podvm run`'s pull. */
#ifndef PODVM_CLI_IMAGE_CLI_H
#define PODVM_CLI_IMAGE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "images/registry.h"
#include "images/store.h"

/* A registry client from the global --registry-auth, --insecure-registry
 * and --registry-mirror options. */
int cli_registry_open(const struct cli_env *env, struct registry **out,
		      struct pv_err *err);
/* Pull ref with progress on stderr (none when quiet). */
int cli_pull(const struct cli_env *env, struct image_store *s, struct registry *r,
	     const char *ref, bool quiet, struct pv_err *err);
int cli_image_pull(const struct cli_env *env, struct image_store *s, int argc,
		   char **argv, struct pv_err *err);
struct pod;
/* podvm run: pull every image the pod lacks (or whose container says
 * Always); errors name the field, spec.containers[N].image. */
int cli_pull_pod(const struct cli_env *env, struct pod *pod, bool quiet,
		 struct pv_err *err);
/* "12.3 MB" (decimal units, as docker). */
void cli_human_bytes(uint64_t b, char *buf, size_t len);

#endif
