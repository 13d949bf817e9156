/*
 * metrics.c - "mtasts metrics [-c CONF] [--top N] [--textfile PATH]":
 * the store's counters and gauges in the Prometheus text format
 * (mtasts_metrics() makes the text), on standard output or, with
 * --textfile, written atomically for node_exporter's textfile
 * collector: a temporary file in the same folder, fsync, rename. The
 * collector reads *.prom files: PATH should end so.
 * Exit: 0 written; 2 usage, configuration or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtasts.h"
#include "cli.h"

#define METRICS_TOP_DEFAULT	10
#define METRICS_TOP_MAX		1000

static int	metrics_usage(FILE *);
static int	metrics_textfile(const char *, const char *);

int
metrics_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "textfile",	required_argument,	NULL, 't' },
		{ "top",	required_argument,	NULL, 'n' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_ctx	*ctx;
	const char		*conf = NULL, *textfile = NULL;
	unsigned long		 top = METRICS_TOP_DEFAULT;
	char			*text, *end;
	int			 ch, verbose = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:hn:t:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			errno = 0;
			top = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || top > METRICS_TOP_MAX) {
				fprintf(stderr, "mtasts metrics: bad --top %s "
				    "(0-%d)\n", optarg, METRICS_TOP_MAX);
				return CLI_USAGE;
			}
			break;
		case 't':
			textfile = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			return metrics_usage(stdout);
		default:
			return metrics_usage(stderr);
		}
	}
	if (optind != argc)
		return metrics_usage(stderr);
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	rc = mtasts_metrics(ctx, (unsigned)top, &text);
	mtasts_ctx_close(ctx);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts metrics: %s\n", mtasts_strerror(rc));
		return CLI_USAGE;
	}
	if (textfile != NULL)
		rc = metrics_textfile(textfile, text);
	else if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
		rc = CLI_USAGE;
	free(text);
	return rc;
}

static int
metrics_usage(FILE *fp)
{
	return cli_usage(fp, "metrics [-v] [-c CONF] [--top N] "
	    "[--textfile PATH]\n\n"
	    "The store's counters and gauges in the Prometheus text format:\n"
	    "TLS-RPT results by mode and result type, deferrals, per-domain\n"
	    "sessions for the N busiest domains (default 10), policy\n"
	    "fetches, cached policies, the store and the spool. --textfile\n"
	    "writes PATH atomically for node_exporter's textfile collector.\n");
}

/* text into path through a temporary file beside it and rename(2). */
static int
metrics_textfile(const char *path, const char *text)
{
	char	*tmp = NULL;
	size_t	 len = strlen(text);
	int	 fd = -1;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) == -1) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 ||
	    write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return CLI_OK;
fail:
	fprintf(stderr, "mtasts metrics: %s: %s\n", path, strerror(errno));
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	return CLI_USAGE;
}
