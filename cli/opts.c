/* Declarative verb options (cli/opts.h). */
#include "cli/opts.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"

#define CLI_OPTS_MAX  24
#define CLI_OPT_VAL   0x2000   /* getopt value of opts[i]: CLI_OPT_VAL + i */

static bool opt_store(const char *verb, const struct cli_opt *o,
		      const char *arg)
{
	char *end;
	long long v;

	switch (o->kind) {
	case CLI_OPT_FLAG:
		*(bool *)o->dst = true;
		return true;
	case CLI_OPT_STR:
		*(const char **)o->dst = arg;
		return true;
	case CLI_OPT_INT:
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || end == arg || *end || v < o->min) {
			fprintf(stderr, "podvm %s: --%s: expected %s >= %" PRId64
				", got \"%.64s\"\n", verb, o->long_name, o->what,
				o->min, arg);
			return false;
		}
		*(int64_t *)o->dst = v;
		return true;
	default:
		return o->fn(o->dst, arg);
	}
}

/* getopt's long table and short string from opts (plus the client
 * options and help). */
static int opts_tables(const struct cli_verb *v, const struct cli_opt *opts,
		       struct option *lo, char *so, size_t so_len)
{
	size_t n = 0, s = 0;

	if (v->env) {
		lo[n++] = (struct option){ "namespace", required_argument, NULL, 'n' };
		lo[n++] = (struct option){ "server", required_argument, NULL, CLIENT_OPT_SERVER };
		lo[n++] = (struct option){ "token-file", required_argument, NULL, CLIENT_OPT_TOKEN };
		so[s++] = 'n';
		so[s++] = ':';
	}
	for (size_t i = 0; opts[i].long_name; i++) {
		bool has_arg = opts[i].kind != CLI_OPT_FLAG;

		if (n + 2 >= CLI_OPTS_MAX || s + 4 >= so_len)
			return -1;
		lo[n++] = (struct option){ opts[i].long_name,
			opts[i].optional_arg ? optional_argument :
			has_arg ? required_argument : no_argument,
			NULL, CLI_OPT_VAL + (int)i };
		if (opts[i].short_name) {
			so[s++] = opts[i].short_name;
			if (has_arg)
				so[s++] = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	so[s++] = 'h';
	so[s] = '\0';
	return 0;
}

/* The table entry behind getopt's answer ch, or NULL. */
static const struct cli_opt *opts_find(const struct cli_opt *opts, int ch)
{
	for (size_t i = 0; opts[i].long_name; i++)
		if (ch == CLI_OPT_VAL + (int)i ||
		    (opts[i].short_name && ch == opts[i].short_name))
			return &opts[i];
	return NULL;
}

int cli_opts_parse(const struct cli_verb *v, const struct cli_opt *opts,
		   int argc, char **argv)
{
	struct option lo[CLI_OPTS_MAX];
	char so[2 * CLI_OPTS_MAX + 4];
	const struct cli_opt *o;
	int ch;

	if (opts_tables(v, opts, lo, so, sizeof(so)) < 0) {
		fprintf(stderr, "podvm %s: too many options\n", v->name);
		return CLI_OPTS_BAD;
	}
	optind = 0;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (v->env && client_common_opt(v->env, ch, optarg, v->ns))
			continue;
		if (ch == 'h') {
			v->usage(stdout);
			return CLI_OPTS_HELP;
		}
		o = opts_find(opts, ch);
		if (!o) {
			v->usage(stderr);
			return CLI_OPTS_BAD;
		}
		if (!opt_store(v->name, o, optarg))
			return CLI_OPTS_BAD;
	}
	return optind;
}
