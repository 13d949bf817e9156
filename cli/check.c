/*
 * check.c - "mtasts check [--json] [--mx-port N] [--timeout S] [-c CONF]
 * DOMAIN": is DOMAIN's MTA-STS and TLS-RPT deployment sound, end to end?
 *
 * The work is mtasts_check() in the core; this file parses options and
 * prints each finding as it comes: "STATUS STEP SUBJECT: MESSAGE", the
 * evidence indented below it and "fix: ..." for what is not a pass.
 * --json prints one object with every finding and the counts.
 *
 * Exit 0 when nothing failed (warnings allowed), 1 when something
 * failed, 2 on a usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "cli.h"
#include "jsonw.h"

#define CHECK_TIMEOUT_MAX	300	/* seconds */

struct check_out {
	int		 json;
	struct jsonw	 js;
};

static void	check_on_finding(void *, const struct mtasts_check_finding *);
static void	check_print(const struct mtasts_check_finding *);
static void	check_print_json(struct jsonw *,
		    const struct mtasts_check_finding *);
static int	check_number(const char *, unsigned long, unsigned long,
		    unsigned *);
static int	check_usage(FILE *);

int
check_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "mx-port",	required_argument,	NULL, 'p' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_check_opts	 o;
	struct mtasts_check_summary	 sum;
	struct mtasts_ctx		*ctx = NULL;
	struct check_out		 out;
	const char			*conf = NULL;
	unsigned			 secs = 10;
	int				 ch, rc, verbose = 0;

	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	o.mx_port = 25;
	while ((ch = getopt_long(argc, argv, "c:hjp:t:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return check_usage(stdout);
		case 'j':
			out.json = 1;
			break;
		case 'p':
			if (check_number(optarg, 1, 65535, &o.mx_port) == -1) {
				fprintf(stderr, "mtasts check: bad port: "
				    "%s\n", optarg);
				return check_usage(stderr);
			}
			break;
		case 't':
			if (check_number(optarg, 1, CHECK_TIMEOUT_MAX,
			    &secs) == -1) {
				fprintf(stderr, "mtasts check: bad timeout "
				    "(1-%d seconds): %s\n", CHECK_TIMEOUT_MAX,
				    optarg);
				return check_usage(stderr);
			}
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return check_usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return check_usage(stderr);
	o.timeout_ms = secs * 1000;
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK)
		return rc;
	if (out.json) {
		jsonw_init(&out.js, stdout);
		jsonw_object_begin(&out.js, NULL);
		jsonw_string(&out.js, "domain", argv[0]);
		jsonw_array_begin(&out.js, "findings");
	}
	rc = mtasts_check(ctx, argv[0], &o, check_on_finding, &out, &sum);
	mtasts_ctx_close(ctx);
	if (out.json) {
		jsonw_array_end(&out.js);
		jsonw_object_begin(&out.js, "summary");
		jsonw_uint(&out.js, "pass", sum.npass);
		jsonw_uint(&out.js, "info", sum.ninfo);
		jsonw_uint(&out.js, "warn", sum.nwarn);
		jsonw_uint(&out.js, "fail", sum.nfail);
		jsonw_object_end(&out.js);
		if (rc != MTASTS_OK)
			jsonw_string(&out.js, "error", mtasts_strerror(rc));
		jsonw_object_end(&out.js);
		jsonw_finish(&out.js);
	} else if (rc == MTASTS_OK)
		printf("\n%s: %u pass, %u warn, %u fail\n", argv[0],
		    sum.npass, sum.nwarn, sum.nfail);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "mtasts check: %s: %s\n", argv[0],
		    mtasts_strerror(rc));
		return CLI_USAGE;
	}
	return sum.nfail > 0 ? CLI_INVALID : CLI_OK;
}

static void
check_on_finding(void *arg, const struct mtasts_check_finding *f)
{
	struct check_out	*out = arg;

	if (out->json)
		check_print_json(&out->js, f);
	else
		check_print(f);
}

static void
check_print(const struct mtasts_check_finding *f)
{
	const char	*p;
	size_t		 n;

	printf("%-4s %-12s %s: %s\n", mtasts_check_status_name(f->status),
	    mtasts_check_step_name(f->step), f->subject, f->message);
	for (p = f->evidence; p != NULL && *p != '\0';
	    p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		printf("       | %.*s\n", (int)n, p);
	}
	if (f->fix != NULL)
		printf("       fix: %s\n", f->fix);
	fflush(stdout);
}

static void
check_print_json(struct jsonw *js, const struct mtasts_check_finding *f)
{
	jsonw_object_begin(js, NULL);
	jsonw_string(js, "step", mtasts_check_step_name(f->step));
	jsonw_string(js, "status", mtasts_check_status_name(f->status));
	jsonw_string(js, "subject", f->subject);
	jsonw_string(js, "message", f->message);
	if (f->evidence != NULL)
		jsonw_string(js, "evidence", f->evidence);
	if (f->fix != NULL)
		jsonw_string(js, "fix", f->fix);
	if (f->result != MTASTS_RESULT_SUCCESS)
		jsonw_string(js, "result_type", mtasts_result_name(f->result));
	jsonw_object_end(js);
}

static int
check_number(const char *s, unsigned long min, unsigned long max,
    unsigned *out)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
check_usage(FILE *fp)
{
	return cli_usage(fp, "check [--json] [--mx-port N] [--timeout S] "
	    "[-c CONF] [-v] DOMAIN\n");
}
