/*
 * report.c - "mtasts report build|send|show": TLS-RPT (RFC 8460).
 *
 *   build [-v] [--day YYYY-MM-DD] [-c CONF]  reports of a UTC day
 *					     (default: yesterday)
 *   send [-v] [--now] [--delay SECS] [-c CONF]  deliver what was built
 *   show [--json] FILE|-                    read a report sent to us
 *   digest ... PATH...                      many of them (digest.c)
 *
 * The work is the library's (mtasts_report_*); this file parses options
 * and prints. --delay sleeps a random 0..SECS seconds first, so that
 * reporters started at midnight by cron do not all arrive at once.
 * Exit: 0 done; 1 some delivery failed or is pending, or show found
 * quirks; 2 usage, configuration or I/O error.
 *
 * show prints every string of the report, and every message about it,
 * escaped (report_put): C0 controls, DEL, backslash, C1 controls, bidi
 * and line-separator format characters and invalid UTF-8 as \r, \n, \t,
 * \\, \xHH or \uHHHH, so that a report cannot write to the terminal.
 * Counts are at most INT64_MAX (the library caps them); sums saturate
 * there and are then printed with "(capped)".
 */
#include <sys/random.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtasts.h"
#include "cli.h"

struct tally {
	const char	*key;
	uint64_t	 n;
};

static int	report_usage(FILE *);
static int	report_build(int, char **);
static int	report_send(int, char **);
static int	report_show(int, char **);
static void	report_print(const struct mtasts_report *);
static void	report_print_policy(const struct mtasts_report_policy *);
static void	report_print_tally(const char *, struct tally *, size_t);
static size_t	report_tally_add(struct tally *, size_t, const char *,
		    uint64_t);
static size_t	report_put_cp(FILE *, const unsigned char *, size_t *);
static size_t	report_utf8(const unsigned char *, unsigned *);
static uint64_t	report_add(uint64_t, uint64_t);
static void	report_put_count(uint64_t);

static const struct option report_common_opts[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "day",	required_argument,	NULL, 'd' },
	{ "delay",	required_argument,	NULL, 'D' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "json",	no_argument,		NULL, 'j' },
	{ "now",	no_argument,		NULL, 'n' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ NULL,		0,			NULL, 0 }
};

int
report_main(int argc, char *argv[])
{
	if (argc < 2)
		return report_usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return report_usage(stdout);
	cli_getopt_reset();
	if (strcmp(argv[1], "build") == 0)
		return report_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "send") == 0)
		return report_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return report_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "digest") == 0)
		return digest_main(argc - 1, argv + 1);
	fprintf(stderr, "mtasts report: unknown subcommand: %s\n", argv[1]);
	return report_usage(stderr);
}

static int
report_usage(FILE *fp)
{
	return cli_usage(fp, "report build [-v] [--day YYYY-MM-DD] "
	    "[-c CONF]\n"
	    "       mtasts report send [-v] [--now] [--delay SECONDS] "
	    "[-c CONF]\n"
	    "       mtasts report show [--json] FILE|-\n"
	    "       mtasts report digest [--since DATE] [--until DATE] "
	    "[--json] [--html FILE] PATH...\n\n"
	    "build: one RFC 8460 report per policy domain for a UTC day\n"
	    "(default yesterday), into report_dir. send: deliver them to\n"
	    "each rua, retrying for 24 hours. show: read a report sent to\n"
	    "us (JSON, gzip or the whole message). digest: many of them\n"
	    "for a period (see mtasts(8)).\n");
}

static int
report_build(int argc, char *argv[])
{
	struct mtasts_ctx	*ctx;
	const char		*conf = NULL;
	time_t			 day = time(NULL) - 86400;
	unsigned		 n;
	int			 ch, verbose = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:d:hv", report_common_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			if (cli_parse_day(optarg, &day) != 0) {
				fprintf(stderr, "mtasts report build: bad day "
				    "%s (YYYY-MM-DD)\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			return report_usage(stdout);
		default:
			return report_usage(stderr);
		}
	}
	if (optind != argc)
		return report_usage(stderr);
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	rc = mtasts_report_build(ctx, day, &n);
	mtasts_ctx_close(ctx);
	printf("%u reports built\n", n);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts report build: %s\n",
		    mtasts_strerror(rc));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
report_send(int argc, char *argv[])
{
	struct mtasts_ctx	*ctx;
	const char		*conf = NULL;
	unsigned		 flags = 0, sent, failed, pending, r;
	unsigned long		 delay = 0;
	char			*end;
	int			 ch, verbose = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:D:hnv", report_common_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'D':
			delay = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || delay > 86400) {
				fprintf(stderr, "mtasts report send: bad delay "
				    "%s (0-86400 seconds)\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'n':
			flags |= MTASTS_SEND_NOW;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			return report_usage(stdout);
		default:
			return report_usage(stderr);
		}
	}
	if (optind != argc)
		return report_usage(stderr);
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	if (delay > 0) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (unsigned)getpid();
		sleep((unsigned)(r % (delay + 1)));
	}
	rc = mtasts_report_send(ctx, flags, &sent, &failed, &pending);
	mtasts_ctx_close(ctx);
	printf("%u delivered, %u given up, %u pending\n", sent, failed,
	    pending);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts report send: %s\n",
		    mtasts_strerror(rc));
		return CLI_USAGE;
	}
	return failed || pending ? CLI_INVALID : CLI_OK;
}

static int
report_show(int argc, char *argv[])
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;
	char			*buf, *json;
	size_t			 len;
	unsigned		 i;
	int			 ch, asjson = 0, rc;

	while ((ch = getopt_long(argc, argv, "hj", report_common_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j':
			asjson = 1;
			break;
		case 'h':
			return report_usage(stdout);
		default:
			return report_usage(stderr);
		}
	}
	if (optind + 1 != argc)
		return report_usage(stderr);
	if (cli_read(argv[optind], MTASTS_REPORT_MAX, &buf, &len) != 0) {
		fprintf(stderr, "mtasts report show: %s: %m\n",
		    cli_display_name(argv[optind]));
		return CLI_USAGE;
	}
	rc = mtasts_report_parse(buf, len, &r, &diag);
	free(buf);
	for (i = 0; i < diag.nwarn; i++) {
		report_put(stderr, cli_display_name(argv[optind]));
		fputs(": warning: ", stderr);
		report_put(stderr, diag.warn[i].msg);
		fputc('\n', stderr);
	}
	if (rc != MTASTS_OK) {
		report_put(stderr, cli_display_name(argv[optind]));
		fputs(": ", stderr);
		report_put(stderr, diag.error.msg[0] ? diag.error.msg :
		    mtasts_strerror(rc));
		fputc('\n', stderr);
		return CLI_INVALID;
	}
	if (asjson) {
		if ((json = mtasts_report_json(r)) != NULL)
			printf("%s\n", json);
		free(json);
	} else
		report_print(r);
	mtasts_report_free(r);
	return CLI_OK;
}

static void
report_print(const struct mtasts_report *r)
{
	char	start[64], end[64];
	size_t	i;

	cli_time(start, sizeof(start), (long long)r->start);
	cli_time(end, sizeof(end), (long long)r->end);
	fputs("report:  ", stdout);
	report_put(stdout, r->report_id ? r->report_id : "(no id)");
	fputs("\nfrom:    ", stdout);
	report_put(stdout, r->org ? r->org : "(no organization)");
	if (r->contact != NULL) {
		fputs(" <", stdout);
		report_put(stdout, r->contact);
		fputc('>', stdout);
	}
	printf("\nperiod:  %s to %s\n", start, end);
	for (i = 0; i < r->npolicies; i++)
		report_print_policy(&r->policies[i]);
}

static void
report_print_policy(const struct mtasts_report_policy *p)
{
	struct tally	*types, *ips, *mxs;
	size_t		 i, nt = 0, ni = 0, nm = 0;
	const struct mtasts_report_failure *f;

	fputs("\npolicy:  ", stdout);
	report_put(stdout, p->type ? p->type : "(no type)");
	fputc(' ', stdout);
	report_put(stdout, p->domain ? p->domain : "(no domain)");
	fputc('\n', stdout);
	for (i = 0; i < p->nmx; i++) {
		fputs("  mx: ", stdout);
		report_put(stdout, p->mx[i]);
		fputc('\n', stdout);
	}
	fputs("  sessions: ", stdout);
	report_put_count(report_add(p->success, p->failure));
	fputs(" (", stdout);
	report_put_count(p->success);
	fputs(" successful, ", stdout);
	report_put_count(p->failure);
	fputs(" failed)\n", stdout);
	if (p->ndetails == 0)
		return;
	types = calloc(p->ndetails, sizeof(*types));
	ips = calloc(p->ndetails, sizeof(*ips));
	mxs = calloc(p->ndetails, sizeof(*mxs));
	if (types == NULL || ips == NULL || mxs == NULL)
		goto done;
	for (i = 0; i < p->ndetails; i++) {
		f = &p->details[i];
		nt = report_tally_add(types, nt, f->result_type, f->count);
		ni = report_tally_add(ips, ni, f->sending_ip, f->count);
		nm = report_tally_add(mxs, nm, f->mx_host, f->count);
	}
	report_print_tally("failures by type", types, nt);
	report_print_tally("failures by sending IP", ips, ni);
	report_print_tally("failures by MX", mxs, nm);
done:
	free(types);
	free(ips);
	free(mxs);
}

static size_t
report_tally_add(struct tally *t, size_t n, const char *key, uint64_t c)
{
	size_t	i;

	if (key == NULL)
		key = "(unknown)";
	for (i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0) {
			t[i].n = report_add(t[i].n, c);
			return n;
		}
	t[n].key = key;
	t[n].n = report_add(0, c);
	return n + 1;
}

static void
report_print_tally(const char *title, struct tally *t, size_t n)
{
	size_t	i;

	size_t	w;

	printf("  %s:\n", title);
	for (i = 0; i < n; i++) {
		fputs("    ", stdout);
		for (w = report_put(stdout, t[i].key); w < 40; w++)
			fputc(' ', stdout);
		fputc(' ', stdout);
		report_put_count(t[i].n);
		fputc('\n', stdout);
	}
}

/* a + b, saturating at INT64_MAX, the library's cap on one count. */
static uint64_t
report_add(uint64_t a, uint64_t b)
{
	if (a > (uint64_t)INT64_MAX || b > (uint64_t)INT64_MAX - a)
		return (uint64_t)INT64_MAX;
	return a + b;
}

static void
report_put_count(uint64_t n)
{
	printf("%llu%s", (unsigned long long)n, n >= (uint64_t)INT64_MAX ?
	    " (capped)" : "");
}

/* Writes s to fp escaped (see the top of the file); returns the bytes. */
size_t
report_put(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 w = 0, used;

	while (*p != '\0') {
		w += report_put_cp(fp, p, &used);
		p += used;
	}
	return w;
}

/* One character at p, escaped if it must be; *used: the bytes read. */
static size_t
report_put_cp(FILE *fp, const unsigned char *p, size_t *used)
{
	unsigned	cp;

	*used = 1;
	if (*p == '\\')
		return (size_t)fprintf(fp, "\\\\");
	if (*p == '\n' || *p == '\r' || *p == '\t')
		return (size_t)fprintf(fp, "\\%c", *p == '\n' ? 'n' :
		    *p == '\r' ? 'r' : 't');
	if (*p < 0x20 || *p == 0x7f)
		return (size_t)fprintf(fp, "\\x%02x", *p);
	if (*p < 0x80) {
		fputc(*p, fp);
		return 1;
	}
	if ((*used = report_utf8(p, &cp)) == 0) {
		*used = 1;
		return (size_t)fprintf(fp, "\\x%02x", *p);
	}
	if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return (size_t)fprintf(fp, "\\u%04x", cp);
	fwrite(p, 1, *used, fp);
	return *used;
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, at most U+10FFFF) with its code point
 * in *cp, or 0.
 */
static size_t
report_utf8(const unsigned char *p, unsigned *cp)
{
	size_t		n, i;
	unsigned	min;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2, *cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3, *cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4, *cp = p[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}
