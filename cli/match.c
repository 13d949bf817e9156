/*
 * match.c - "mtasts match HOST PATTERN...": does an MX host match one of
 * a policy's mx patterns (RFC 8461 section 4.1)?
 *
 * Exit 0 and "HOST matches PATTERN" on stdout for the first pattern that
 * matches; exit 1 and "HOST matches none of: ..." on stderr when none
 * does; exit 2 when the host or a pattern is not a valid name (a usage
 * error: the question cannot be asked).
 */
#include <getopt.h>
#include <stdio.h>

#include "mtasts.h"
#include "cli.h"

static int	match_check(const char *, char **, int);
static int	match_usage(FILE *);

int
match_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 }
	};
	int	ch, i, rv;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return match_usage(stdout);
		default:
			return match_usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		return match_usage(stderr);
	if (match_check(argv[0], argv + 1, argc - 1) == -1)
		return CLI_USAGE;
	for (i = 1; i < argc; i++) {
		if ((rv = mtasts_mx_match(argv[0], argv[i])) < 0) {
			fprintf(stderr, "mtasts match: %s %s: %s\n", argv[0],
			    argv[i], mtasts_strerror(rv));
			return CLI_USAGE;
		}
		if (rv == 1) {
			printf("%s matches %s\n", argv[0], argv[i]);
			return CLI_OK;
		}
	}
	fprintf(stderr, "%s matches none of: ", argv[0]);
	for (i = 1; i < argc; i++)
		fprintf(stderr, "%s%s", i > 1 ? ", " : "", argv[i]);
	fprintf(stderr, "\n");
	return CLI_INVALID;
}

/* Says which argument is not a valid name, so the error names it. */
static int
match_check(const char *host, char **pattern, int npattern)
{
	char	name[MTASTS_NAME_MAX + 1];
	int	i;

	if (mtasts_name_normalize(host, 0, name) != MTASTS_OK) {
		fprintf(stderr, "mtasts match: invalid host name: %s\n", host);
		return -1;
	}
	for (i = 0; i < npattern; i++) {
		if (mtasts_name_normalize(pattern[i], 1, name) != MTASTS_OK) {
			fprintf(stderr, "mtasts match: invalid mx pattern: "
			    "%s\n", pattern[i]);
			return -1;
		}
	}
	return 0;
}

static int
match_usage(FILE *fp)
{
	return cli_usage(fp, "match HOST PATTERN...\n");
}
