/*
 * sync.c - "mtasts sync [-v] [-c CONF]": one fleet sync (mtasts_sync()):
 * this host's TLS-RPT results into PostgreSQL, its fetched policies out,
 * the fleet's policies in. Run by mtasts-sync.timer every minute.
 *
 * Exit 0 when the sync completed, 1 when it failed (PostgreSQL down,
 * refused, TLS or authentication: the reason on stderr; what was not
 * moved waits here for the next run), 2 on a usage or configuration
 * error, or when mtasts.conf has no "fleet".
 */
#include <getopt.h>
#include <stdio.h>

#include "mtasts.h"
#include "cli.h"

static int	sync_usage(FILE *);

int
sync_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_sync_stats	 st;
	struct mtasts_ctx		*ctx;
	const char			*conf = NULL;
	int				 ch, verbose = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return sync_usage(stdout);
		case 'v':
			verbose = 1;
			break;
		default:
			return sync_usage(stderr);
		}
	}
	if (optind != argc)
		return sync_usage(stderr);
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	rc = mtasts_sync(ctx, &st);
	mtasts_ctx_close(ctx);
	if (rc == MTASTS_ECONFIG) {
		fprintf(stderr, "mtasts sync: no fleet in the configuration\n");
		return CLI_USAGE;
	}
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts sync: failed (%s); local operation "
		    "goes on, results wait here\n", rc == MTASTS_ESTORE ?
		    "the store or PostgreSQL, see above" :
		    mtasts_strerror(rc));
		return CLI_INVALID;
	}
	printf("%u result batches (%llu sessions) moved, %u policies "
	    "published, %u taken from the fleet\n", st.batches, st.sessions,
	    st.published, st.pulled);
	return CLI_OK;
}

static int
sync_usage(FILE *fp)
{
	return cli_usage(fp, "sync [-v] [-c CONF]\n\n"
	    "Moves this host's TLS-RPT results into the fleet's PostgreSQL,\n"
	    "publishes its policies and takes the fleet's (mtasts.conf: fleet).\n");
}
