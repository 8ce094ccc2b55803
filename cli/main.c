/* podvm: the command developers use to run pods on their own machine. */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/util.h"

#define PODVM_EXIT_ERROR 125  /* podvm itself failed (as docker run does) */

struct cli_cmd {
	const char *name;
	int (*fn)(const struct cli_env *env, int argc, char **argv);
	const char *help;
};

static const struct cli_cmd cli_cmds[] = {
	{ "run",   cli_run,   "run [--verbose] FILE   run a Pod manifest in a microVM, in the foreground" },
	{ "image", cli_image, "image pull|ls|rm|prune|load|export|import|convert   manage the local image store" },
	{ "kvm-probe", cli_kvm_probe, "kvm-probe   would podvm use KVM here? (runs the probe, ignores PODVM_ACCEL)" },
	{ "top",   cli_top,   "top pods [NAME] [-n NS|-A] [--containers]   CPU and memory of pods, like kubectl top" },
	{ "apply", cli_apply, "apply -f FILE [-n NS]   create a pod on podvmd (unchanged if identical)" },
	{ "get", cli_get, "get pods [NAME] [-n NS|-A] [-o wide|json|yaml|name] [-w] [-l SEL]   list pods" },
	{ "describe", cli_describe, "describe pod NAME [-n NS]   show a pod in detail" },
	{ "logs", cli_logs, "logs [-f] [-c CTR] [--tail N] [--timestamps] [-p] NAME   a container's output" },
	{ "exec", cli_exec, "exec [-i] [-t] [-n NS] POD [-c CTR] -- CMD...   run a command in a running container" },
	{ "delete", cli_delete, "delete [pod] NAME [--grace-period N] [--wait=false]   delete a pod" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: podvm [--state-dir DIR] [--server URL] [--token-file FILE]\n"
		"             [--registry-auth FILE] [--insecure-registry HOST[:PORT]]...\n"
		"             [--registry-mirror [REGISTRY=]URL]... COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		fprintf(fp, "  %s\n", cli_cmds[i].help);
	fprintf(fp, "\nenvironment: PODVM_STATE_DIR (default /var/lib/podvm), "
		"PODVM_RUN_DIR (default /run/podvm),\n  PODVM_GUEST_DIR (kernel "
		"and initramfs; default: guest/ beside the podvm binary),\n"
		"  PODVM_LIBVIRT_URI (default: libvirt's embedded QEMU driver), "
		"PODVM_ACCEL (kvm|tcg),\n"
		"  PODVM_SOCKET (podvmd's socket, default /run/podvm/podvmd.sock), "
		"PODVM_SERVER (http://HOST:PORT),\n  PODVM_TOKEN_FILE (bearer "
		"token for --server)\n");
}

/* guest/ next to the binary: build/podvm finds build/guest/. */
static char *default_guest_dir(void)
{
	char exe[PATH_MAX], *dir, *out = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = dirname(exe);
	if (asprintf(&out, "%s/guest", dir) < 0)
		return NULL;
	return out;
}

/* --registry-auth FILE, --insecure-registry H, --registry-mirror M (at
 * most 16 of each): true when argv[*i] was one (its value taken). */
static bool registry_opt(struct cli_env *env, int argc, char **argv, int *i)
{
	const char *o = argv[*i];

	if (*i + 1 >= argc)
		return false;
	if (!strcmp(o, "--registry-auth"))
		env->registry_auth = argv[++*i];
	else if (!strcmp(o, "--insecure-registry") && env->n_insecure_registries < 16)
		env->insecure_registries[env->n_insecure_registries++] = argv[++*i];
	else if (!strcmp(o, "--registry-mirror") && env->n_registry_mirrors < 16)
		env->registry_mirrors[env->n_registry_mirrors++] = argv[++*i];
	else
		return false;
	return true;
}

int main(int argc, char **argv)
{
	struct cli_env env = { 0 };
	char *guest_dir = NULL, *abs_dirs[3] = { NULL, NULL, NULL };
	int i = 1, ret;

	env.state_dir = getenv("PODVM_STATE_DIR");
	env.run_dir = getenv("PODVM_RUN_DIR");
	env.guest_dir = getenv("PODVM_GUEST_DIR");
	env.libvirt_uri = getenv("PODVM_LIBVIRT_URI");
	env.socket_path = getenv("PODVM_SOCKET");
	env.server = getenv("PODVM_SERVER");
	env.token_file = getenv("PODVM_TOKEN_FILE");

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
			env.state_dir = argv[++i];
		} else if (!strcmp(argv[i], "--server") && i + 1 < argc) {
			env.server = argv[++i];
		} else if (!strncmp(argv[i], "--server=", 9)) {
			env.server = argv[i] + 9;
		} else if (!strcmp(argv[i], "--token-file") && i + 1 < argc) {
			env.token_file = argv[++i];
		} else if (!strncmp(argv[i], "--token-file=", 13)) {
			env.token_file = argv[i] + 13;
		} else if (registry_opt(&env, argc, argv, &i)) {
			continue;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "podvm: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!env.state_dir || !*env.state_dir)
		env.state_dir = "/var/lib/podvm";
	if (!env.run_dir || !*env.run_dir)
		env.run_dir = "/run/podvm";
	if (!env.guest_dir || !*env.guest_dir) {
		guest_dir = default_guest_dir();
		env.guest_dir = guest_dir ? guest_dir : "/usr/lib/podvm/guest";
	}
	/* Paths reach the VMM, which takes absolute ones only. */
	abs_dirs[0] = util_abspath(env.state_dir);
	abs_dirs[1] = util_abspath(env.run_dir);
	abs_dirs[2] = util_abspath(env.guest_dir);
	if (!abs_dirs[0] || !abs_dirs[1] || !abs_dirs[2]) {
		fprintf(stderr, "podvm: out of memory\n");
		ret = PODVM_EXIT_ERROR;
		goto out;
	}
	env.state_dir = abs_dirs[0];
	env.run_dir = abs_dirs[1];
	env.guest_dir = abs_dirs[2];

	ret = -1;
	for (size_t c = 0; c < sizeof(cli_cmds) / sizeof(cli_cmds[0]); c++) {
		if (!strcmp(argv[i], cli_cmds[c].name)) {
			ret = cli_cmds[c].fn(&env, argc - i, argv + i);
			goto out;
		}
	}
	fprintf(stderr, "podvm: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	ret = 2;
out:
	for (size_t d = 0; d < 3; d++)
		free(abs_dirs[d]);
	free(guest_dir);
	return ret;
}
