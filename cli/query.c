/*
 * query.c - "mtasts query [-v] [--json] [-c CONF] DOMAIN [--mx HOST...]":
 * the policy that rules DOMAIN now, where it came from and why; with
 * --mx, what a sender must do with each MX host.
 *
 * Exit 0 when an answer was found (whatever the mode) and every --mx host
 * may be used; 1 when an --mx host would be refused under enforce; 2 on a
 * usage or configuration error. -v logs each step of the resolution.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "cli.h"
#include "jsonw.h"

static void	query_print(const struct mtasts_answer *, const char *);
static void	query_json(const struct mtasts_answer *, const char *,
		    char **, int);
static int	query_usage(FILE *);

int
query_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "mx",		required_argument,	NULL, 'm' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 }
	};
	struct mtasts_ctx	*ctx = NULL;
	struct mtasts_answer	 ans;
	enum mtasts_verdict	 v;
	const char		*conf = NULL;
	char			**mx = NULL;
	int			 ch, i, nmx = 0, json = 0, verbose = 0, rc;
	int			 status = CLI_OK;

	if ((mx = calloc(argc, sizeof(*mx))) == NULL)
		return CLI_USAGE;
	while ((ch = getopt_long(argc, argv, "c:hjm:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			free(mx);
			return query_usage(stdout);
		case 'j':
			json = 1;
			break;
		case 'm':
			mx[nmx++] = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			free(mx);
			return query_usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		free(mx);
		return query_usage(stderr);
	}
	if ((rc = cli_open(conf, verbose, &ctx)) != CLI_OK) {
		free(mx);
		return rc;
	}
	if ((rc = mtasts_resolve(ctx, argv[0], &ans)) != MTASTS_OK) {
		fprintf(stderr, "mtasts query: %s: %s\n", argv[0],
		    mtasts_strerror(rc));
		mtasts_ctx_close(ctx);
		free(mx);
		return CLI_USAGE;
	}
	if (json)
		query_json(&ans, argv[0], mx, nmx);
	else
		query_print(&ans, argv[0]);
	for (i = 0; i < nmx; i++) {
		v = mtasts_answer_mx(&ans, mx[i]);
		if (!json)
			printf("mx %s: %s\n", mx[i], mtasts_verdict_name(v));
		if (v == MTASTS_MX_REFUSE)
			status = CLI_INVALID;
	}
	mtasts_answer_clear(&ans);
	mtasts_ctx_close(ctx);
	free(mx);
	return status;
}

static void
query_print(const struct mtasts_answer *a, const char *domain)
{
	char	fetched[64], expires[64];
	size_t	i;

	printf("domain:  %s\n", domain);
	printf("mode:    %s%s\n", mtasts_mode_name(a->mode),
	    a->log_only ? " (log-only: nothing is refused)" : "");
	printf("source:  %s\n", mtasts_source_name(a->source));
	printf("why:     %s\n", a->why);
	if (a->policy == NULL)
		return;
	cli_time(fetched, sizeof(fetched), a->fetched);
	cli_time(expires, sizeof(expires), a->expires);
	printf("id:      %s\n", a->id);
	printf("fetched: %s\n", fetched);
	printf("expires: %s\n", expires);
	printf("max_age: %u\n", a->policy->max_age);
	for (i = 0; i < a->policy->nmx; i++)
		printf("mx:      %s\n", a->policy->mx[i]);
}

static void
query_json(const struct mtasts_answer *a, const char *domain, char **mx,
    int nmx)
{
	struct jsonw	js;
	size_t		i;
	int		j;

	jsonw_init(&js, stdout);
	jsonw_object_begin(&js, NULL);
	jsonw_string(&js, "domain", domain);
	jsonw_string(&js, "mode", mtasts_mode_name(a->mode));
	jsonw_string(&js, "source", mtasts_source_name(a->source));
	jsonw_bool(&js, "log_only", a->log_only);
	jsonw_bool(&js, "temperror", a->temperror);
	jsonw_string(&js, "why", a->why);
	if (a->policy != NULL) {
		jsonw_string(&js, "id", a->id);
		jsonw_uint(&js, "fetched", (unsigned long long)a->fetched);
		jsonw_uint(&js, "expires", (unsigned long long)a->expires);
		jsonw_object_begin(&js, "policy");
		jsonw_string(&js, "mode", mtasts_mode_name(a->policy->mode));
		jsonw_uint(&js, "max_age", a->policy->max_age);
		jsonw_array_begin(&js, "mx");
		for (i = 0; i < a->policy->nmx; i++)
			jsonw_string(&js, NULL, a->policy->mx[i]);
		jsonw_array_end(&js);
		jsonw_object_end(&js);
	}
	if (nmx > 0) {
		jsonw_object_begin(&js, "mx");
		for (j = 0; j < nmx; j++)
			jsonw_string(&js, mx[j],
			    mtasts_verdict_name(mtasts_answer_mx(a, mx[j])));
		jsonw_object_end(&js);
	}
	jsonw_object_end(&js);
	jsonw_finish(&js);
}

static int
query_usage(FILE *fp)
{
	return cli_usage(fp, "query [-v] [--json] [-c CONF] DOMAIN "
	    "[--mx HOST...]\n\n"
	    "Prints the MTA-STS policy that rules DOMAIN now (from the cache\n"
	    "or the network) and why; with --mx, the verdict for each MX host:\n"
	    "plain, require-tls, refuse or report.\n");
}
