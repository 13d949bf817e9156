/*
 * main.c - mtasts(8): the command table and its dispatch.
 *
 * "mtasts [--help | --version]" or "mtasts COMMAND [ARG...]". Each
 * command parses its own options; a new command is one file with a
 * NAME_main() and one line in the table below.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd *cmd_find(const char *);
static int	usage(FILE *);

static const struct cli_cmd cmds[] = {
	{ "lint", lint_main,
	    "validate a policy file or the DNS TXT records" },
	{ "match", match_main,
	    "check a host name against policy mx patterns" },
	{ "generate", generate_main,
	    "write the DNS records and policy file for a domain" },
	{ "query", query_main,
	    "the policy that rules a domain now, and why" },
	{ "refresh", refresh_main,
	    "re-check the cached policies that are due (for cron)" },
	{ "cache", cache_main,
	    "list, show, forget or flush cached policies" },
	{ "report", report_main, "build, send or show TLS-RPT reports" },
	{ "check", check_main, "check a domain's MTA-STS and TLS-RPT setup" },
	{ "sync", sync_main, "share policies and results with the fleet" },
	{ "fleet", fleet_main, "the fleet's hosts and what waits here" },
	{ "metrics", metrics_main,
	    "counters and gauges for Prometheus (textfile collector)" },
};

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ NULL,		0,		NULL, 0 }
	};
	const struct cli_cmd	*cmd;
	int			 ch;

	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return usage(stdout);
		case 'V':
			printf("mtasts %s\n", MTASTS_VERSION);
			return CLI_OK;
		default:
			return usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage(stderr);
	if ((cmd = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "mtasts: unknown command: %s\n", argv[0]);
		return usage(stderr);
	}
	cli_getopt_reset();
	return cmd->main(argc, argv);
}

static const struct cli_cmd *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static int
usage(FILE *fp)
{
	size_t	i;

	cli_usage(fp, "[--help | --version]\n"
	    "       mtasts COMMAND [--help | ARG...]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\nSee mtasts(8).\n");
	return fp == stdout ? CLI_OK : CLI_USAGE;
}
