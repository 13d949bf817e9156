/*
 * cli.h - what the mtasts(8) commands share: the command table entry,
 * exit statuses, input reading and usage printing.
 *
 * Each command lives in its own file (lint.c, match.c, generate.c) as
 * NAME_main(argc, argv), where argv[0] is the command's name. It parses
 * its own options with getopt_long(3) and returns an exit status.
 */
#ifndef MTASTS_CLI_H
#define MTASTS_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#ifndef MTASTS_VERSION
#define MTASTS_VERSION	"0.1"
#endif

#define CLI_OK		0	/* valid, matches */
#define CLI_INVALID	1	/* invalid, no match: the reason on stderr */
#define CLI_USAGE	2	/* usage or I/O error */

struct cli_cmd {
	const char	*name;			/* as typed: "lint" */
	int		(*main)(int, char **);	/* returns an exit status */
	const char	*summary;		/* one line for --help */
};

int	lint_main(int, char **);
int	match_main(int, char **);
int	generate_main(int, char **);
int	query_main(int, char **);
int	refresh_main(int, char **);
int	cache_main(int, char **);
int	report_main(int, char **);
int	check_main(int, char **);
int	sync_main(int, char **);
int	fleet_main(int, char **);
int	metrics_main(int, char **);
/* "mtasts report digest" (digest.c), from report_main(). */
int	digest_main(int, char **);
/*
 * Writes s to fp with every control character, backslash, bidi or line
 * separator format character and invalid UTF-8 escaped (\n, \xHH,
 * \uHHHH: report.c), so that untrusted text cannot write to a terminal;
 * returns the bytes written.
 */
size_t	report_put(FILE *fp, const char *s);

struct mtasts_ctx;
/*
 * Opens the engine with config file conf (NULL: the default), logging to
 * stderr: warnings and errors, everything with verbose. Prints why it
 * failed and returns CLI_USAGE, or CLI_OK.
 */
int	cli_open(const char *conf, int verbose, struct mtasts_ctx **ctx);
/* "2026-11-25 12:00:00 UTC" */
void	cli_time(char *buf, size_t size, long long t);

/*
 * Reads at most max + 1 bytes of path ("-" is standard input) into a new
 * buffer *buf (NUL-terminated, freed by the caller) of *len bytes, so
 * that *len > max means "too large". Returns 0, or -1 with errno set.
 */
int	cli_read(const char *path, size_t max, char **buf, size_t *len);

/* The name to show for path in messages: "<stdin>" for "-". */
const char *cli_display_name(const char *path);
/* YYYY-MM-DD as the UTC midnight that starts it: 0, or -1 when s is not
 * such a date. */
int	cli_parse_day(const char *s, time_t *out);

/*
 * Prints "usage: mtasts " followed by text to fp; returns CLI_OK when fp
 * is stdout (--help), CLI_USAGE otherwise.
 */
int	cli_usage(FILE *fp, const char *text);

/* Points getopt_long(3) at the start of a new argument vector. */
void	cli_getopt_reset(void);

struct mtasts_diag_item;
/*
 * The message of a parser diagnostic without a leading "line N: " or
 * "record N: " that repeats its line number, which the CLI shows itself.
 */
const char *cli_diag_msg(const struct mtasts_diag_item *item);

/* "7 days", "1 day 2 hours", "30 seconds": for human output. */
void	cli_duration(char *buf, size_t size, unsigned long secs);

#endif
