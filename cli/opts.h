/* Declarative options for the podvm verbs, in the manner of kvmtool's
 * OPT_* tables: each entry names an option and where its value goes, and
 * cli_opts_parse builds getopt's tables, stores the values, answers
 * -h/--help and takes the client options (-n/--namespace, --server,
 * --token-file) when the verb talks to podvmd. */
#ifndef PODVM_CLI_OPTS_H
#define PODVM_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

enum cli_opt_kind { CLI_OPT_FLAG = 1, CLI_OPT_STR, CLI_OPT_INT, CLI_OPT_FN };

struct cli_opt {
	char short_name;          /* 0: long option only */
	const char *long_name;
	enum cli_opt_kind kind;
	void *dst;                /* bool *, const char **, int64_t *, or FN's */
	int64_t min;              /* INT: smallest value accepted */
	const char *what;         /* INT: "seconds", "a number" (for messages) */
	/* FN: store arg (NULL for an absent optional argument); false once
	 * the message is printed */
	bool (*fn)(void *dst, const char *arg);
	bool optional_arg;        /* FN: --name[=ARG] */
};

#define CLI_OPT_FLAG(s, l, p)        { s, l, CLI_OPT_FLAG, p, 0, NULL, NULL, false }
#define CLI_OPT_STR(s, l, p)         { s, l, CLI_OPT_STR, p, 0, NULL, NULL, false }
#define CLI_OPT_INT(s, l, p, lo, w)  { s, l, CLI_OPT_INT, p, lo, w, NULL, false }
#define CLI_OPT_FN(s, l, p, f, opt)  { s, l, CLI_OPT_FN, p, 0, NULL, f, opt }
#define CLI_OPT_END                  { 0, NULL, 0, NULL, 0, NULL, NULL, false }

struct cli_verb {
	const char *name;            /* "logs": messages read "podvm logs: ..." */
	void (*usage)(FILE *fp);
	struct cli_env *env;         /* non-NULL: take the client options */
	const char **ns;             /* -n/--namespace goes here */
};

#define CLI_OPTS_HELP (-1)           /* --help: usage printed on stdout */
#define CLI_OPTS_BAD  (-2)           /* printed on stderr */

/* Parse argv[1..]: the index of the first operand, or CLI_OPTS_*. */
int cli_opts_parse(const struct cli_verb *v, const struct cli_opt *opts,
		   int argc, char **argv);

#endif
