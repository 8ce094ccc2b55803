/* podvm image: pull, list, remove, prune, load and export archives,
 * import a directory as an image, convert to erofs. */
#include "cli/cli.h"
#include "cli/image_cli.h"
#include "cli/opts.h"
#include "cli/podview.h"
#include "images/store.h"
#include "pod/pod.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/util.h"

static void image_usage(FILE *fp)
{
	fprintf(fp,
		"usage: podvm image pull [-q] REF            fetch from a registry\n"
		"       podvm image ls [-q] [--digests]       reference, digest, size, last used\n"
		"       podvm image rm [-f] REF...            remove (a digest: under every name)\n"
		"       podvm image prune                     remove every image no pod uses\n"
		"       podvm image load -i FILE [--ref REF]  docker/podman save or OCI archive\n"
		"       podvm image export REF -o FILE        write an OCI archive\n"
		"       podvm image import --ref REF [--entrypoint JSON-ARRAY] [--cmd JSON-ARRAY]\n"
		"                          [--env K=V]... [--workdir DIR] [--user U]\n"
		"                          [--stop-signal SIG] ROOTFS_DIR\n"
		"       podvm image convert REF               the erofs disk (path)\n");
}

static int fail(const char *msg)
{
	fprintf(stderr, "podvm: %s\n", msg);
	return 1;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* '["a","b"]' -> vector of strings. */
static int parse_json_argv(const char *opt, const char *text, char ***out,
			   size_t *n_out, struct pv_err *err)
{
	struct json_object *arr;
	char **v = NULL;
	size_t n = 0, i;
	int ret;

	arr = json_tokener_parse(text);
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		ret = pv_err_set(err, EINVAL,
				 "%s wants a JSON array of strings, e.g. '[\"sh\",\"-c\"]'",
				 opt);
		goto out;
	}
	n = json_object_array_length(arr);
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string)) {
			ret = pv_err_set(err, EINVAL, "%s: element %zu is not a string",
					 opt, i);
			goto out;
		}
		v[i] = strdup(json_object_get_string(e));
		if (!v[i]) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	free_strv(*out, *n_out);   /* a repeated option replaces */
	*out = v;
	*n_out = n;
	v = NULL;
	ret = 0;
out:
	free_strv(v, n);
	json_object_put(arr);
	return ret;
}

static int push_str(char ***v, size_t *n, const char *s, struct pv_err *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return pv_err_set(err, ENOMEM, "out of memory");
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return pv_err_set(err, ENOMEM, "out of memory");
	nv[++*n] = NULL;
	return 0;
}

static int set_str(char **dst, const char *s, struct pv_err *err)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : pv_err_set(err, ENOMEM, "out of memory");
}

/* One option of image import into cfg / *ref: 0, 1 (--help done) or -errno. */
static int image_import_opt(int c, const char *arg, struct image_config *cfg,
			    const char **ref, struct pv_err *err)
{
	switch (c) {
	case 'r':
		*ref = arg;
		return 0;
	case 'e':
		return parse_json_argv("--entrypoint", arg, &cfg->entrypoint,
				       &cfg->n_entrypoint, err);
	case 'c':
		return parse_json_argv("--cmd", arg, &cfg->cmd, &cfg->n_cmd, err);
	case 'E':
		if (!strchr(arg, '=') || arg[0] == '=')
			return pv_err_set(err, EINVAL, "--env wants KEY=VALUE, not '%s'",
					  arg);
		return push_str(&cfg->env, &cfg->n_env, arg, err);
	case 'w':
		if (arg[0] != '/')
			return pv_err_set(err, EINVAL, "--workdir must be absolute: '%s'",
					  arg);
		return set_str(&cfg->working_dir, arg, err);
	case 'u':
		return set_str(&cfg->user, arg, err);
	case 'S':
		if (pod_signal_parse(arg) < 0)
			return pv_err_set(err, EINVAL, "--stop-signal: unknown "
					  "signal '%s'", arg);
		return set_str(&cfg->stop_signal, arg, err);
	case 'h':
		image_usage(stdout);
		return 1;
	default:
		return pv_err_set(err, EINVAL, "image import: bad option (see podvm image --help)");
	}
}

static int image_import(struct image_store *s, int argc, char **argv,
			struct pv_err *err)
{
	static const struct option opts[] = {
		{ "ref", required_argument, NULL, 'r' },
		{ "entrypoint", required_argument, NULL, 'e' },
		{ "cmd", required_argument, NULL, 'c' },
		{ "env", required_argument, NULL, 'E' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "stop-signal", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_config cfg;
	const char *ref = NULL;
	int c, ret = 0;

	memset(&cfg, 0, sizeof(cfg));
	optind = 0;   /* GNU: full re-initialisation for this argv */
	while (ret == 0 && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		ret = image_import_opt(c, optarg, &cfg, &ref, err);
		if (ret > 0) {
			ret = 0;
			goto out;
		}
	}
	if (ret < 0)
		goto out;
	if (!ref || optind != argc - 1) {
		ret = pv_err_set(err, EINVAL,
				 "usage: podvm image import --ref REF [options] ROOTFS_DIR");
		goto out;
	}
	ret = image_store_import_dir(s, argv[optind], ref, &cfg, err);
	if (ret == 0) {
		struct image *img = NULL;

		ret = image_store_resolve(s, ref, &img, err);
		if (ret == 0)
			printf("%s %s\n", img->ref, img->manifest_digest);
		image_free(img);
	}
out:
	image_config_free(&cfg);
	return ret;
}

static int image_convert(struct image_store *s, const char *ref,
			 struct pv_err *err)
{
	char path[4096];
	struct image *img = NULL;
	int ret;

	ret = image_store_resolve(s, ref, &img, err);
	if (ret == 0)
		ret = image_store_erofs(s, img, path, sizeof(path), err);
	if (ret == 0)
		printf("%s\n", path);
	image_free(img);
	return ret;
}

static void ago(int64_t ms, char *buf, size_t len)
{
	int64_t s = (util_wall_ms() - ms) / 1000;

	if (ms <= 0)
		snprintf(buf, len, "never");
	else if (s < 120)
		snprintf(buf, len, "%llds ago", (long long)(s < 0 ? 0 : s));
	else if (s < 7200)
		snprintf(buf, len, "%lldm ago", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh ago", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd ago", (long long)(s / 86400));
}

static void image_sub_usage(FILE *fp)
{
	image_usage(fp);
}

/* Options of an image subcommand from its table: the index of the first
 * operand, or a negative errno (--help: -ECANCELED, printed). */
static int image_opts(const char *name, const struct cli_opt *opts, int argc, char **argv,
		      struct pv_err *err)
{
	const struct cli_verb verb = { name, image_sub_usage, NULL, NULL };
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret == CLI_OPTS_HELP)
		return -ECANCELED;
	if (ret < 0)
		return pv_err_set(err, EINVAL, "%s: bad usage", name);
	return ret;
}

static int image_ls(struct image_store *s, int argc, char **argv, struct pv_err *err)
{
	static const char *const head[] = { "REFERENCE", "DIGEST", "SIZE", "LAST USED",
					    "IN USE" };
	struct image_info *v = NULL;
	struct cli_table t;
	bool quiet = false, full = false;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('q', "quiet", &quiet),
		CLI_OPT_FLAG(0, "digests", &full),
		CLI_OPT_FLAG(0, "no-trunc", &full),
		CLI_OPT_END
	};
	size_t n = 0;
	int ret = image_opts("image ls", opts, argc, argv, err);

	if (ret < 0)
		return ret;
	if (ret != argc)
		return pv_err_set(err, EINVAL, "usage: podvm image ls [-q] [--digests]");
	ret = image_store_ls(s, &v, &n, err);
	if (ret < 0)
		return ret;
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i].ref[0] ? v[i].ref : v[i].digest);
		free(v);
		return 0;
	}
	if (cli_table_init(&t, 5) < 0 || cli_table_add(&t, head) < 0) {
		free(v);
		cli_table_free(&t);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		char size[32], used[32], dg[80];
		const char *row[5] = { v[i].ref[0] ? v[i].ref : "<none>", dg, size, used,
				       v[i].in_use ? "yes" : "no" };

		snprintf(dg, sizeof(dg), full ? "%s" : "%.19s", v[i].digest);
		cli_human_bytes(v[i].size, size, sizeof(size));
		ago(v[i].last_used_ms, used, sizeof(used));
		if (cli_table_add(&t, row) < 0)
			ret = pv_err_set(err, ENOMEM, "out of memory");
	}
	if (ret == 0)
		cli_table_flush(&t, stdout);
	cli_table_free(&t);
	free(v);
	return ret;
}

static int image_rm(struct image_store *s, int argc, char **argv, struct pv_err *err)
{
	bool force = false;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('f', "force", &force),
		CLI_OPT_END
	};
	int i = image_opts("image rm", opts, argc, argv, err), ret = 0;

	if (i < 0)
		return i;
	if (i >= argc)
		return pv_err_set(err, EINVAL, "usage: podvm image rm [-f] REF...");
	for (; i < argc && ret == 0; i++) {
		uint64_t freed = 0;
		char b[32];

		ret = image_store_rm(s, argv[i], force, &freed, err);
		if (ret == 0) {
			cli_human_bytes(freed, b, sizeof(b));
			printf("Untagged: %s (%s freed)\n", argv[i], b);
		}
	}
	return ret;
}

static int image_prune(struct image_store *s, int argc, struct pv_err *err)
{
	size_t removed = 0;
	uint64_t freed = 0;
	char b[32];
	int ret;

	if (argc != 1)
		return pv_err_set(err, EINVAL, "usage: podvm image prune");
	ret = image_store_prune(s, NULL, 0, &removed, &freed, err);
	if (ret == 0) {
		cli_human_bytes(freed, b, sizeof(b));
		printf("Removed %zu images, %s freed\n", removed, b);
	}
	return ret;
}

static int image_load(struct image_store *s, int argc, char **argv, struct pv_err *err)
{
	const char *in = NULL, *ref = NULL;
	const struct cli_opt opts[] = {
		CLI_OPT_STR('i', "input", &in),
		CLI_OPT_STR(0, "ref", &ref),
		CLI_OPT_END
	};
	int i = image_opts("image load", opts, argc, argv, err);

	if (i < 0)
		return i;
	if (!in || i != argc)
		return pv_err_set(err, EINVAL, "usage: podvm image load -i FILE [--ref REF]");
	return image_store_load(s, in, ref, stdout, err);
}

static int image_export(struct image_store *s, int argc, char **argv, struct pv_err *err)
{
	const char *out = NULL;
	const struct cli_opt opts[] = {
		CLI_OPT_STR('o', "output", &out),
		CLI_OPT_END
	};
	int i = image_opts("image export", opts, argc, argv, err);

	if (i < 0)
		return i;
	if (!out || i != argc - 1)
		return pv_err_set(err, EINVAL, "usage: podvm image export REF -o FILE");
	return image_store_export(s, argv[i], out, err);
}

int cli_image(const struct cli_env *env, int argc, char **argv)
{
	struct image_store *s = NULL;
	struct pv_err err;
	const char *sub;
	int ret;

	pv_err_clear(&err);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		image_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "import") && strcmp(sub, "ls") && strcmp(sub, "list") &&
	    strcmp(sub, "convert") && strcmp(sub, "pull") && strcmp(sub, "rm") &&
	    strcmp(sub, "prune") && strcmp(sub, "load") && strcmp(sub, "export")) {
		fprintf(stderr, "podvm: image: unknown command '%s' "
			"(pull, ls, rm, prune, load, export, import, convert)\n", sub);
		return 1;
	}
	if (!strcmp(sub, "convert") && argc != 3) {
		image_usage(stderr);
		return 1;
	}
	ret = image_store_open(env->state_dir, &s, &err);
	if (ret < 0)
		goto out;
	if (!strcmp(sub, "import"))
		ret = image_import(s, argc - 1, argv + 1, &err);
	else if (!strcmp(sub, "convert"))
		ret = image_convert(s, argv[2], &err);
	else if (!strcmp(sub, "pull"))
		ret = cli_image_pull(env, s, argc - 1, argv + 1, &err);
	else if (!strcmp(sub, "rm"))
		ret = image_rm(s, argc - 1, argv + 1, &err);
	else if (!strcmp(sub, "prune"))
		ret = image_prune(s, argc - 1, &err);
	else if (!strcmp(sub, "load"))
		ret = image_load(s, argc - 1, argv + 1, &err);
	else if (!strcmp(sub, "export"))
		ret = image_export(s, argc - 1, argv + 1, &err);
	else
		ret = image_ls(s, argc - 1, argv + 1, &err);
	if (ret == 0 && fflush(stdout) != 0)
		ret = pv_err_sys(&err, errno, "write stdout");
out:
	image_store_close(s);
	if (ret == -ECANCELED)   /* --help */
		return 0;
	if (ret < 0)
		return fail(err.msg[0] ? err.msg : "image: failed");
	return 0;
}
