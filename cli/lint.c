/*
 * lint.c - "mtasts lint": validate a policy file (RFC 8461 section 3.2),
 * the TXT RRset of _mta-sts.<domain> (section 3.1) or that of
 * _smtp._tls.<domain> (RFC 8460 section 3) with the library's parsers.
 *
 * Exit 0 valid, 1 invalid (the error on stderr, compiler style), 2 usage
 * or I/O error. With --json the report on stdout is JSON; diagnostics
 * still go to stderr. A record argument that starts with '"' is read in
 * zone-file presentation form, as dig(1) prints it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "cli.h"
#include "jsonw.h"

enum lint_kind {
	LINT_POLICY,
	LINT_STS,
	LINT_TLSRPT
};

/* How to name the input in messages: "FILE:3: ..." or "NAME record 3: ..." */
struct lint_where {
	const char	*name;	/* file name or record set name */
	const char	*sep;	/* between name and line number */
};

static int	lint_policy(const char *, int);
static int	lint_policy_parse(const char *, size_t, struct mtasts_policy **,
		    struct mtasts_diag *);
static void	lint_policy_ok(const char *, const struct mtasts_policy *,
		    const struct mtasts_diag *, int);
static int	lint_records(enum lint_kind, int, char **, int);
static int	lint_sts(const char *const *, size_t, int);
static int	lint_tlsrpt(const char *const *, size_t, int);
static int	lint_result(int, const struct lint_where *,
		    const struct mtasts_diag *, int);
static void	lint_item_print(const struct lint_where *,
		    const struct mtasts_diag_item *, const char *);
static void	lint_json_invalid(const struct mtasts_diag *);
static void	lint_json_end(struct jsonw *, const struct mtasts_diag *);
static int	lint_unquote(const char *, char **);
static int	lint_usage(FILE *);

static const char usage_text[] =
    "lint [--json] FILE|-\n"
    "       mtasts lint --sts-txt [--json] RECORD...\n"
    "       mtasts lint --tlsrpt-txt [--json] RECORD...\n";

static const struct lint_where where_sts = { "_mta-sts TXT", " record " };
static const struct lint_where where_tlsrpt = { "_smtp._tls TXT", " record " };

int
lint_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ "json",	no_argument,	NULL, 'j' },
		{ "sts-txt",	no_argument,	NULL, 's' },
		{ "tlsrpt-txt",	no_argument,	NULL, 't' },
		{ NULL,		0,		NULL, 0 }
	};
	enum lint_kind	kind = LINT_POLICY;
	int		ch, json = 0, nkind = 0;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return lint_usage(stdout);
		case 'j':
			json = 1;
			break;
		case 's':
			kind = LINT_STS;
			nkind++;
			break;
		case 't':
			kind = LINT_TLSRPT;
			nkind++;
			break;
		default:
			return lint_usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (nkind > 1) {
		fprintf(stderr, "mtasts lint: --sts-txt and --tlsrpt-txt "
		    "exclude each other\n");
		return lint_usage(stderr);
	}
	if (kind != LINT_POLICY)
		return lint_records(kind, argc, argv, json);
	if (argc != 1)
		return lint_usage(stderr);
	return lint_policy(argv[0], json);
}

static int
lint_usage(FILE *fp)
{
	return cli_usage(fp, usage_text);
}

static int
lint_policy(const char *path, int json)
{
	struct lint_where	 where;
	struct mtasts_policy	*policy = NULL;
	struct mtasts_diag	 diag;
	char			*body;
	size_t			 len;
	int			 rv;

	memset(&diag, 0, sizeof(diag));
	where.name = cli_display_name(path);
	where.sep = ":";
	if (cli_read(path, MTASTS_POLICY_MAX_BODY, &body, &len) == -1) {
		fprintf(stderr, "mtasts lint: %s: %s\n", where.name,
		    strerror(errno));
		return CLI_USAGE;
	}
	rv = lint_policy_parse(body, len, &policy, &diag);
	free(body);
	if (rv == MTASTS_OK)
		lint_policy_ok(where.name, policy, &diag, json);
	mtasts_policy_free(policy);
	return lint_result(rv, &where, &diag, json);
}

/* The parser, with the 64 KiB cap checked here so the message is ours. */
static int
lint_policy_parse(const char *body, size_t len, struct mtasts_policy **out,
    struct mtasts_diag *diag)
{
	if (len > MTASTS_POLICY_MAX_BODY) {
		memset(diag, 0, sizeof(*diag));
		snprintf(diag->error.msg, sizeof(diag->error.msg),
		    "policy file too large: more than %d bytes "
		    "(RFC 8461 section 3.3)", MTASTS_POLICY_MAX_BODY);
		return MTASTS_ETOOBIG;
	}
	return mtasts_policy_parse(body, len, out, diag);
}

static void
lint_policy_ok(const char *name, const struct mtasts_policy *policy,
    const struct mtasts_diag *diag, int json)
{
	struct jsonw	js;
	char		dur[64];
	size_t		i;

	if (!json) {
		cli_duration(dur, sizeof(dur), policy->max_age);
		printf("%s: valid: mode %s, max_age %lu (%s), %zu mx "
		    "pattern%s\n", name, mtasts_mode_name(policy->mode),
		    (unsigned long)policy->max_age, dur, policy->nmx,
		    policy->nmx == 1 ? "" : "s");
		return;
	}
	jsonw_init(&js, stdout);
	jsonw_object_begin(&js, NULL);
	jsonw_bool(&js, "valid", 1);
	jsonw_string(&js, "version", "STSv1");
	jsonw_string(&js, "mode", mtasts_mode_name(policy->mode));
	jsonw_uint(&js, "max_age", policy->max_age);
	jsonw_array_begin(&js, "mx");
	for (i = 0; i < policy->nmx; i++)
		jsonw_string(&js, NULL, policy->mx[i]);
	jsonw_array_end(&js);
	lint_json_end(&js, diag);
}

static int
lint_records(enum lint_kind kind, int argc, char *argv[], int json)
{
	char	**txt;
	int	  i, rv = CLI_USAGE;

	if ((txt = calloc((size_t)argc + 1, sizeof(*txt))) == NULL) {
		fprintf(stderr, "mtasts lint: %s\n", strerror(errno));
		return CLI_USAGE;
	}
	for (i = 0; i < argc; i++) {
		if (lint_unquote(argv[i], &txt[i]) == -1) {
			fprintf(stderr, "mtasts lint: record %d: bad "
			    "quoted TXT data: %s\n", i + 1, argv[i]);
			goto done;
		}
	}
	if (kind == LINT_STS)
		rv = lint_sts((const char *const *)txt, (size_t)argc, json);
	else
		rv = lint_tlsrpt((const char *const *)txt, (size_t)argc, json);
done:
	for (i = 0; i < argc; i++)
		free(txt[i]);
	free(txt);
	return rv;
}

static int
lint_sts(const char *const *txt, size_t n, int json)
{
	struct mtasts_sts_record	rec;
	struct mtasts_diag		diag;
	struct jsonw			js;
	int				rv;

	memset(&rec, 0, sizeof(rec));
	memset(&diag, 0, sizeof(diag));
	rv = mtasts_sts_record_parse(txt, n, &rec, &diag);
	if (rv == MTASTS_OK && json) {
		jsonw_init(&js, stdout);
		jsonw_object_begin(&js, NULL);
		jsonw_bool(&js, "valid", 1);
		jsonw_string(&js, "version", "STSv1");
		jsonw_string(&js, "id", rec.id);
		jsonw_uint(&js, "extensions", rec.next);
		lint_json_end(&js, &diag);
	} else if (rv == MTASTS_OK)
		printf("%s: valid: id %s\n", where_sts.name, rec.id);
	return lint_result(rv, &where_sts, &diag, json);
}

static int
lint_tlsrpt(const char *const *txt, size_t n, int json)
{
	struct mtasts_tlsrpt_record	*rec = NULL;
	struct mtasts_diag		 diag;
	struct jsonw			 js;
	size_t				 i;
	int				 rv;

	memset(&diag, 0, sizeof(diag));
	rv = mtasts_tlsrpt_record_parse(txt, n, &rec, &diag);
	if (rv == MTASTS_OK && json) {
		jsonw_init(&js, stdout);
		jsonw_object_begin(&js, NULL);
		jsonw_bool(&js, "valid", 1);
		jsonw_string(&js, "version", "TLSRPTv1");
		jsonw_array_begin(&js, "rua");
		for (i = 0; i < rec->nrua; i++)
			jsonw_string(&js, NULL, rec->rua[i]);
		jsonw_array_end(&js);
		jsonw_uint(&js, "extensions", rec->next);
		lint_json_end(&js, &diag);
	} else if (rv == MTASTS_OK) {
		printf("%s: valid: rua ", where_tlsrpt.name);
		for (i = 0; i < rec->nrua; i++)
			printf("%s%s", i > 0 ? ", " : "", rec->rua[i]);
		printf("\n");
	}
	mtasts_tlsrpt_record_free(rec);
	return lint_result(rv, &where_tlsrpt, &diag, json);
}

/*
 * The common end of every lint: the error and warnings on stderr, the
 * JSON document of an invalid input, the exit status.
 */
static int
lint_result(int rv, const struct lint_where *where,
    const struct mtasts_diag *diag, int json)
{
	struct mtasts_diag	d = *diag;
	unsigned		i;

	if (rv == MTASTS_ENOMEM) {
		fprintf(stderr, "mtasts lint: %s\n", mtasts_strerror(rv));
		return CLI_USAGE;
	}
	if (rv != MTASTS_OK && d.error.msg[0] == '\0')
		snprintf(d.error.msg, sizeof(d.error.msg), "%s",
		    mtasts_strerror(rv));
	if (rv != MTASTS_OK)
		lint_item_print(where, &d.error, "error");
	for (i = 0; i < d.nwarn && i < MTASTS_DIAG_WARN_MAX; i++)
		lint_item_print(where, &d.warn[i], "warning");
	if (rv == MTASTS_OK)
		return CLI_OK;
	if (json)
		lint_json_invalid(&d);
	return CLI_INVALID;
}

/* "FILE:LINE: KIND: MSG", "NAME record N: KIND: MSG" or "NAME: KIND: MSG" */
static void
lint_item_print(const struct lint_where *where,
    const struct mtasts_diag_item *item, const char *kind)
{
	if (item->line > 0)
		fprintf(stderr, "%s%s%u: %s: %s\n", where->name, where->sep,
		    item->line, kind, cli_diag_msg(item));
	else
		fprintf(stderr, "%s: %s: %s\n", where->name, kind,
		    cli_diag_msg(item));
}

static void
lint_json_invalid(const struct mtasts_diag *diag)
{
	struct jsonw	js;

	jsonw_init(&js, stdout);
	jsonw_object_begin(&js, NULL);
	jsonw_bool(&js, "valid", 0);
	jsonw_object_begin(&js, "error");
	jsonw_uint(&js, "line", diag->error.line);
	jsonw_string(&js, "message", cli_diag_msg(&diag->error));
	jsonw_object_end(&js);
	lint_json_end(&js, diag);
}

/* Adds "warnings":[...] and closes the document. */
static void
lint_json_end(struct jsonw *js, const struct mtasts_diag *diag)
{
	unsigned	i;

	jsonw_array_begin(js, "warnings");
	for (i = 0; i < diag->nwarn && i < MTASTS_DIAG_WARN_MAX; i++) {
		jsonw_object_begin(js, NULL);
		jsonw_uint(js, "line", diag->warn[i].line);
		jsonw_string(js, "message", cli_diag_msg(&diag->warn[i]));
		jsonw_object_end(js);
	}
	jsonw_array_end(js);
	jsonw_object_end(js);
	jsonw_finish(js);
}

/*
 * A record argument as the strings of one TXT record: taken as it is,
 * or, when it starts with '"', as zone-file character-strings ("a" "b",
 * with \X and \DDD escapes, RFC 1035 section 5.1) joined without spaces.
 * Returns 0 with a new string in *out, or -1 when the quoting is bad.
 */
static int
lint_unquote(const char *in, char **out)
{
	const char	*p = in;
	char		*s, *q;
	int		 v;

	if ((s = q = strdup(in)) == NULL)
		return -1;
	*out = s;
	if (*p != '"')
		return 0;
	while (*p != '\0') {
		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		if (*p++ != '"')
			return -1;
		while (*p != '"') {
			if (*p == '\0')
				return -1;
			if (*p != '\\') {
				*q++ = *p++;
				continue;
			}
			p++;
			if (p[0] >= '0' && p[0] <= '9') {
				if (p[1] < '0' || p[1] > '9' ||
				    p[2] < '0' || p[2] > '9')
					return -1;
				v = (p[0] - '0') * 100 + (p[1] - '0') * 10 +
				    (p[2] - '0');
				if (v == 0 || v > 255)
					return -1;
				*q++ = (char)v;
				p += 3;
			} else if (*p == '\0')
				return -1;
			else
				*q++ = *p++;
		}
		p++;
	}
	*q = '\0';
	return 0;
}
