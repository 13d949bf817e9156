/*
 * generate.c - "mtasts generate": the DNS records and the policy file
 * that publish an MTA-STS policy (RFC 8461 section 3) and, with --rua, a
 * TLS-RPT record (RFC 8460 section 3).
 *
 * Everything is built first and read back through the library's own
 * parsers; only when all of it parses, and parses to what was asked for,
 * is anything printed. Exit 0 printed, 1 refused (the reason on stderr),
 * 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "cli.h"

#define DEFAULT_MAX_AGE_TESTING	86400	/* a day: changes spread fast */
#define DEFAULT_MAX_AGE_ENFORCE	604800	/* one week */
#define DEFAULT_MAX_AGE_NONE		86400

struct generate {
	const char		*domain_arg;	/* --domain as given */
	const char		*mode_arg;	/* --mode as given */
	const char		*max_age_arg;	/* --max-age or NULL */
	const char		*id_arg;	/* --id or NULL */
	char			**mx_arg;	/* --mx as given */
	size_t			 nmx;
	char			**rua;		/* --rua as given */
	size_t			 nrua;

	char			 domain[MTASTS_NAME_MAX + 1]; /* normalised */
	struct mtasts_policy	 policy;	/* mx: our copies */
	char			*policy_text;	/* the policy file */
	char			*sts_txt;	/* the _mta-sts TXT record */
	char			*tlsrpt_txt;	/* _smtp._tls record or NULL */
};

static int	generate_options(struct generate *, int, char **);
static int	generate_policy(struct generate *);
static int	generate_max_age(struct generate *);
static int	generate_policy_check(struct generate *);
static int	generate_sts(struct generate *);
static int	generate_tlsrpt(struct generate *);
static int	generate_refuse(const char *, const struct mtasts_diag *, int);
static void	generate_warnings(const char *, const struct mtasts_diag *);
static void	generate_print(const struct generate *);
static void	generate_zone_txt(const char *, const char *, const char *);
static void	generate_free(struct generate *);
static int	generate_usage(FILE *);

int
generate_main(int argc, char *argv[])
{
	struct generate	g;
	int		rv;

	memset(&g, 0, sizeof(g));
	g.mx_arg = calloc((size_t)argc, sizeof(*g.mx_arg));
	g.rua = calloc((size_t)argc, sizeof(*g.rua));
	g.policy.mx = calloc((size_t)argc, sizeof(*g.policy.mx));
	if (g.mx_arg == NULL || g.rua == NULL || g.policy.mx == NULL) {
		fprintf(stderr, "mtasts generate: %s\n", strerror(errno));
		rv = CLI_USAGE;
		goto done;
	}
	if ((rv = generate_options(&g, argc, argv)) != CLI_OK ||
	    g.domain_arg == NULL)
		goto done;
	if ((rv = generate_policy(&g)) != CLI_OK ||
	    (rv = generate_sts(&g)) != CLI_OK ||
	    (rv = generate_tlsrpt(&g)) != CLI_OK)
		goto done;
	generate_print(&g);
done:
	generate_free(&g);
	return rv;
}

/* CLI_OK with domain_arg NULL after --help. */
static int
generate_options(struct generate *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "domain",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "id",		required_argument,	NULL, 'i' },
		{ "max-age",	required_argument,	NULL, 'a' },
		{ "mode",	required_argument,	NULL, 'm' },
		{ "mx",		required_argument,	NULL, 'x' },
		{ "rua",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			g->max_age_arg = optarg;
			break;
		case 'd':
			g->domain_arg = optarg;
			break;
		case 'h':
			g->domain_arg = NULL;
			return generate_usage(stdout);
		case 'i':
			g->id_arg = optarg;
			break;
		case 'm':
			g->mode_arg = optarg;
			break;
		case 'r':
			g->rua[g->nrua++] = optarg;
			break;
		case 'x':
			g->mx_arg[g->nmx++] = optarg;
			break;
		default:
			return generate_usage(stderr);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mtasts generate: unexpected argument: %s\n",
		    argv[optind]);
		return generate_usage(stderr);
	}
	if (g->domain_arg == NULL || g->mode_arg == NULL) {
		fprintf(stderr, "mtasts generate: --domain and --mode are "
		    "required\n");
		return generate_usage(stderr);
	}
	return CLI_OK;
}

static int
generate_usage(FILE *fp)
{
	return cli_usage(fp, "generate --domain DOMAIN "
	    "--mode enforce|testing|none\n"
	    "           [--mx PATTERN ...] [--max-age SECONDS] "
	    "[--rua URI ...] [--id ID]\n");
}

/* The policy from the options, formatted and read back. */
static int
generate_policy(struct generate *g)
{
	struct mtasts_policy	*p = &g->policy;
	size_t			 i;
	int			 rv;

	if (mtasts_name_normalize(g->domain_arg, 0, g->domain) != MTASTS_OK) {
		fprintf(stderr, "mtasts generate: invalid domain: %s\n",
		    g->domain_arg);
		return CLI_INVALID;
	}
	if (mtasts_mode_parse(g->mode_arg, &p->mode) != MTASTS_OK) {
		fprintf(stderr, "mtasts generate: invalid mode: %s (enforce, "
		    "testing or none)\n", g->mode_arg);
		return CLI_INVALID;
	}
	if (g->nmx == 0 && p->mode != MTASTS_MODE_NONE) {
		fprintf(stderr, "mtasts generate: mode %s needs at least one "
		    "--mx pattern\n", g->mode_arg);
		return CLI_INVALID;
	}
	for (i = 0; i < g->nmx; i++) {
		if ((p->mx[i] = malloc(MTASTS_NAME_MAX + 1)) == NULL) {
			fprintf(stderr, "mtasts generate: %s\n",
			    strerror(errno));
			return CLI_USAGE;
		}
		p->nmx++;
		rv = mtasts_name_normalize(g->mx_arg[i], 1, p->mx[i]);
		if (rv != MTASTS_OK) {
			fprintf(stderr, "mtasts generate: invalid mx pattern: "
			    "%s\n", g->mx_arg[i]);
			return CLI_INVALID;
		}
	}
	if ((rv = generate_max_age(g)) != CLI_OK)
		return rv;
	return generate_policy_check(g);
}

/*
 * --max-age: 1-10 digits (RFC 8461 section 3.2). Its upper limit is the
 * parser's to enforce when the policy is read back.
 */
static int
generate_max_age(struct generate *g)
{
	const char		*s = g->max_age_arg;
	unsigned long long	 v;
	size_t			 i, n;

	if (s == NULL) {
		if (g->policy.mode == MTASTS_MODE_ENFORCE)
			g->policy.max_age = DEFAULT_MAX_AGE_ENFORCE;
		else if (g->policy.mode == MTASTS_MODE_TESTING)
			g->policy.max_age = DEFAULT_MAX_AGE_TESTING;
		else
			g->policy.max_age = DEFAULT_MAX_AGE_NONE;
		return CLI_OK;
	}
	n = strlen(s);
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			break;
	v = strtoull(s, NULL, 10);
	if (n == 0 || n > 10 || i != n || v > UINT32_MAX) {
		fprintf(stderr, "mtasts generate: invalid max_age: %s (1-10 "
		    "digits, at most %d)\n", s, MTASTS_MAX_AGE_MAX);
		return CLI_INVALID;
	}
	g->policy.max_age = (uint32_t)v;
	return CLI_OK;
}

/* Formats the policy, parses the text and compares the two. */
static int
generate_policy_check(struct generate *g)
{
	struct mtasts_policy	*back = NULL;
	struct mtasts_diag	 diag;
	size_t			 i;
	int			 rv, same;

	if ((g->policy_text = mtasts_policy_format(&g->policy)) == NULL) {
		fprintf(stderr, "mtasts generate: %s\n",
		    mtasts_strerror(MTASTS_ENOMEM));
		return CLI_USAGE;
	}
	memset(&diag, 0, sizeof(diag));
	rv = mtasts_policy_parse(g->policy_text, strlen(g->policy_text),
	    &back, &diag);
	if (rv != MTASTS_OK)
		return generate_refuse("policy", &diag, rv);
	generate_warnings("policy", &diag);
	same = back->mode == g->policy.mode &&
	    back->max_age == g->policy.max_age && back->nmx == g->policy.nmx;
	for (i = 0; same && i < back->nmx; i++)
		same = strcmp(back->mx[i], g->policy.mx[i]) == 0;
	mtasts_policy_free(back);
	if (!same) {
		fprintf(stderr, "mtasts generate: the policy does not read "
		    "back as written\n");
		return CLI_INVALID;
	}
	return CLI_OK;
}

/* The _mta-sts record with --id or a fresh id from the UTC time. */
static int
generate_sts(struct generate *g)
{
	struct mtasts_sts_record	 rec;
	struct mtasts_diag		 diag;
	char				 id[32];
	const char			*txt[1];
	time_t				 now;
	struct tm			 tm;
	int				 rv;

	if (g->id_arg == NULL) {
		now = time(NULL);
		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(id, sizeof(id), "%Y%m%dT%H%M%S", &tm) == 0) {
			fprintf(stderr, "mtasts generate: cannot read the "
			    "clock\n");
			return CLI_USAGE;
		}
	}
	if (asprintf(&g->sts_txt, "v=STSv1; id=%s",
	    g->id_arg != NULL ? g->id_arg : id) == -1) {
		g->sts_txt = NULL;
		fprintf(stderr, "mtasts generate: %s\n", strerror(errno));
		return CLI_USAGE;
	}
	txt[0] = g->sts_txt;
	memset(&diag, 0, sizeof(diag));
	if ((rv = mtasts_sts_record_parse(txt, 1, &rec, &diag)) != MTASTS_OK)
		return generate_refuse("_mta-sts TXT record", &diag, rv);
	generate_warnings("_mta-sts TXT record", &diag);
	return CLI_OK;
}

/* The _smtp._tls record, when --rua was given. */
static int
generate_tlsrpt(struct generate *g)
{
	struct mtasts_tlsrpt_record	*rec = NULL;
	struct mtasts_diag		 diag;
	const char			*txt[1];
	size_t				 i, len;
	int				 rv;

	if (g->nrua == 0)
		return CLI_OK;
	len = sizeof("v=TLSRPTv1; rua=");
	for (i = 0; i < g->nrua; i++)
		len += strlen(g->rua[i]) + 1;
	if ((g->tlsrpt_txt = malloc(len)) == NULL) {
		fprintf(stderr, "mtasts generate: %s\n", strerror(errno));
		return CLI_USAGE;
	}
	strcpy(g->tlsrpt_txt, "v=TLSRPTv1; rua=");
	for (i = 0; i < g->nrua; i++) {
		if (i > 0)
			strcat(g->tlsrpt_txt, ",");
		strcat(g->tlsrpt_txt, g->rua[i]);
	}
	txt[0] = g->tlsrpt_txt;
	memset(&diag, 0, sizeof(diag));
	rv = mtasts_tlsrpt_record_parse(txt, 1, &rec, &diag);
	if (rv != MTASTS_OK)
		return generate_refuse("_smtp._tls TXT record", &diag, rv);
	generate_warnings("_smtp._tls TXT record", &diag);
	rv = rec->nrua == g->nrua ? CLI_OK : CLI_INVALID;
	mtasts_tlsrpt_record_free(rec);
	if (rv != CLI_OK)
		fprintf(stderr, "mtasts generate: the TLS-RPT record does not "
		    "read back as written (a rua with ',' or ';'?)\n");
	return rv;
}

static int
generate_refuse(const char *what, const struct mtasts_diag *diag, int rv)
{
	if (rv == MTASTS_ENOMEM) {
		fprintf(stderr, "mtasts generate: %s\n", mtasts_strerror(rv));
		return CLI_USAGE;
	}
	fprintf(stderr, "mtasts generate: refusing: the %s would be "
	    "invalid: %s\n", what, diag->error.msg[0] != '\0' ?
	    cli_diag_msg(&diag->error) : mtasts_strerror(rv));
	return CLI_INVALID;
}

static void
generate_warnings(const char *what, const struct mtasts_diag *diag)
{
	unsigned	i;

	for (i = 0; i < diag->nwarn && i < MTASTS_DIAG_WARN_MAX; i++)
		fprintf(stderr, "mtasts generate: warning: %s: %s\n", what,
		    cli_diag_msg(&diag->warn[i]));
}

static void
generate_print(const struct generate *g)
{
	const char	*d = g->domain;
	size_t		 len = strlen(g->policy_text);

	printf("; DNS: the MTA-STS record of %s\n", d);
	generate_zone_txt("_mta-sts.", d, g->sts_txt);
	printf("\n; Policy file: https://mta-sts.%s/.well-known/mta-sts.txt\n",
	    d);
	printf("%s%s", g->policy_text,
	    len > 0 && g->policy_text[len - 1] == '\n' ? "" : "\n");
	if (g->tlsrpt_txt != NULL) {
		printf("\n; DNS: the TLS-RPT record of %s\n", d);
		generate_zone_txt("_smtp._tls.", d, g->tlsrpt_txt);
	}
	printf("\n"
	    "; Serve the policy file at "
	    "https://mta-sts.%s/.well-known/mta-sts.txt\n"
	    "; as Content-Type text/plain, over HTTPS with a certificate valid "
	    "for\n"
	    "; mta-sts.%s (that name needs an A or AAAA record), and no "
	    "redirect.\n"
	    "; When the policy changes, publish the new policy file first, "
	    "then put a\n"
	    "; new id in the _mta-sts TXT record: senders fetch the policy "
	    "again only\n"
	    "; when the id changes.\n", d, d);
}

/*
 * One zone-file line: character-strings of at most 255 bytes (RFC 1035
 * section 3.3.14), '"' and '\\' escaped, other non-printables as \DDD.
 */
static void
generate_zone_txt(const char *label, const char *domain, const char *txt)
{
	const unsigned char	*p = (const unsigned char *)txt;
	size_t			 n;

	printf("%s%s. IN TXT", label, domain);
	while (*p != '\0') {
		printf(" \"");
		for (n = 0; n < 255 && *p != '\0'; n++, p++) {
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if (*p < 0x20 || *p >= 0x7f)
				printf("\\%03u", *p);
			else
				putchar(*p);
		}
		putchar('"');
	}
	putchar('\n');
}

static void
generate_free(struct generate *g)
{
	size_t	i;

	if (g->policy.mx != NULL)
		for (i = 0; i < g->policy.nmx; i++)
			free(g->policy.mx[i]);
	free(g->policy.mx);
	free(g->mx_arg);
	free(g->rua);
	free(g->policy_text);
	free(g->sts_txt);
	free(g->tlsrpt_txt);
}
