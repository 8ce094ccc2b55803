/* podvm CLI: one function per subcommand, routed by a table in cli/main.c. */
#ifndef PODVM_CLI_CLI_H
#define PODVM_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#include "util/err.h"

/* Global options, parsed before the subcommand. */
struct cli_env {
	const char *state_dir;   /* --state-dir / PODVM_STATE_DIR, default /var/lib/podvm */
	const char *run_dir;     /* PODVM_RUN_DIR, default /run/podvm */
	const char *guest_dir;   /* PODVM_GUEST_DIR, default <dir of podvm>/guest */
	const char *libvirt_uri; /* PODVM_LIBVIRT_URI, NULL: embedded driver */
	/* podvmd connection (client commands, cli/client.c) */
	const char *socket_path; /* PODVM_SOCKET, default /run/podvm/podvmd.sock */
	const char *server;      /* --server / PODVM_SERVER: http(s)://HOST:PORT */
	const char *token_file;  /* --token-file / PODVM_TOKEN_FILE: bearer token */
	/* registries (image pull, run) */
	const char *registry_auth;                 /* --registry-auth FILE */
	const char *insecure_registries[16];       /* --insecure-registry HOST[:PORT] */
	size_t n_insecure_registries;
	const char *registry_mirrors[16];          /* --registry-mirror [REG=]URL */
	size_t n_registry_mirrors;
};

int cli_run(const struct cli_env *env, int argc, char **argv);    /* cli/run.c */
int cli_image(const struct cli_env *env, int argc, char **argv);  /* cli/image.c */
int cli_top(const struct cli_env *env, int argc, char **argv);    /* cli/top.c */
int cli_kvm_probe(const struct cli_env *env, int argc, char **argv); /* cli/kvm.c */
/* Clients of podvmd, kubectl-style (cli/client.c and the files named). */
int cli_apply(const struct cli_env *env, int argc, char **argv);    /* cli/apply.c */
int cli_get(const struct cli_env *env, int argc, char **argv);      /* cli/get.c */
int cli_describe(const struct cli_env *env, int argc, char **argv); /* cli/describe.c */
int cli_logs(const struct cli_env *env, int argc, char **argv);     /* cli/logs.c */
int cli_delete(const struct cli_env *env, int argc, char **argv);   /* cli/delete.c */
int cli_exec(const struct cli_env *env, int argc, char **argv);     /* cli/exec.c */

/* Read a Kubernetes manifest (YAML or JSON, detected by content) into a
 * json-c tree. Errors name the file and, for syntax errors, line and column.
 * Multi-document YAML is refused. (cli/manifest.c) */
int manifest_load(const char *path, struct json_object **out,
		  struct pv_err *err);
int manifest_parse(const char *text, size_t len, const char *name,
		   struct json_object **out, struct pv_err *err);

#endif
