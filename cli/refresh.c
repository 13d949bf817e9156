/*
 * refresh.c - "mtasts refresh [-v] [--all] [-c CONF]": for cron, re-check
 * every cached policy that is due so that policies never lapse between
 * deliveries. Which are due is the core's rule (mtasts_refresh(), the
 * same as the filter's timer): an unexpired policy whose TXT id check
 * interval passed, or that is past half its max_age.
 *
 * Exit 0 when every due domain was refreshed, 1 when some could not be
 * (their cached policy still applies), 2 on a usage, configuration or
 * cache error.
 */
#include <getopt.h>
#include <stdio.h>

#include "mtasts.h"
#include "cli.h"

static int	refresh_usage(FILE *);

int
refresh_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "all",	no_argument,		NULL, 'a' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_ctx	*ctx;
	const char		*conf = NULL;
	unsigned		 nchecked, nfailed;
	int			 ch, all = 0, verbose = 0, rc;

	while ((ch = getopt_long(argc, argv, "ac:hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return refresh_usage(stdout);
		case 'v':
			verbose = 1;
			break;
		default:
			return refresh_usage(stderr);
		}
	}
	if (optind != argc)
		return refresh_usage(stderr);
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	rc = mtasts_refresh(ctx, all, &nchecked, &nfailed);
	mtasts_ctx_close(ctx);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts refresh: %s\n", mtasts_strerror(rc));
		return CLI_USAGE;
	}
	printf("%u domains refreshed, %u failed\n", nchecked - nfailed,
	    nfailed);
	return nfailed ? CLI_INVALID : CLI_OK;
}

static int
refresh_usage(FILE *fp)
{
	return cli_usage(fp, "refresh [-v] [--all] [-c CONF]\n\n"
	    "Re-checks the cached policies that are due (all with --all).\n"
	    "Run it from cron every few minutes.\n");
}
