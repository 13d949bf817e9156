/*
 * digest.c - "mtasts report digest [--since DATE] [--until DATE]
 * [--json] [--html FILE] PATH...": many TLS-RPT reports sent to us, for
 * a period, in one view (digest_out.c writes it).
 *
 * A PATH is a report file (JSON, gzip or a whole message, as
 * mtasts_report_parse() reads them), an mbox (a file starting with
 * "From "; split at each "From " line after an empty line), a Maildir
 * (a folder with cur/ and new/: their files) or a folder (its files).
 * A report-id seen before is a duplicate and counted once; a report
 * without an id is keyed by organisation, start and first domain. A
 * report belongs to the UTC day its date-range starts in. The period is
 * --since to --until, both whole UTC days (default: the 7 days up to
 * the latest report); the previous period is as long and ends where it
 * begins. Exit: 0 done; 1 some input was not a report; 2 usage or I/O.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "cli.h"
#include "digest.h"

#define DIGEST_FILE_MAX		(64 * 1024 * 1024)
#define DIGEST_DAYS_DEFAULT	7
#define DIGEST_DAYS_MAX		3660
#define DAY			86400

static int	digest_usage(FILE *);
static void	digest_path(struct digest *, const char *);
static void	digest_folder(struct digest *, const char *, int);
static void	digest_file(struct digest *, const char *);
static void	digest_mbox(struct digest *, const char *, char *, size_t);
static void	digest_one(struct digest *, const char *, const char *,
		    size_t);
static char	*digest_id(const struct mtasts_report *);
static int	digest_seen(const struct digest *, const struct mtasts_report *);
static void	digest_period(struct digest *, time_t, time_t);
static void	digest_count(struct digest *);
static void	digest_count_report(struct digest *,
		    const struct mtasts_report *, int);
static void	digest_add(struct digest *, struct dg_table *, const char *,
		    const char *, uint64_t, uint64_t);
static void	dg_table_free(struct dg_table *);
static int	dg_by_failures(const void *, const void *);
static void	dg_sort(struct dg_table *);
static void	digest_free(struct digest *);

int
digest_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "html",	required_argument,	NULL, 'H' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "since",	required_argument,	NULL, 's' },
		{ "until",	required_argument,	NULL, 'u' },
		{ NULL,		0,			NULL, 0 }
	};
	struct digest	 d;
	const char	*html = NULL;
	time_t		 since = 0, until = 0;
	FILE		*fp;
	int		 ch, asjson = 0, i, rc = CLI_OK;

	while ((ch = getopt_long(argc, argv, "hH:js:u:", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			html = optarg;
			break;
		case 'j':
			asjson = 1;
			break;
		case 's':
		case 'u':
			if (cli_parse_day(optarg, ch == 's' ? &since : &until)) {
				fprintf(stderr, "mtasts report digest: bad day "
				    "%s (YYYY-MM-DD)\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h':
			return digest_usage(stdout);
		default:
			return digest_usage(stderr);
		}
	}
	if (optind >= argc)
		return digest_usage(stderr);
	memset(&d, 0, sizeof(d));
	for (i = optind; i < argc; i++)
		digest_path(&d, argv[i]);
	digest_period(&d, since, until);
	if (d.since >= d.until) {
		fprintf(stderr, "mtasts report digest: --since is after "
		    "--until, or the period is over %d days\n",
		    DIGEST_DAYS_MAX);
		digest_free(&d);
		return CLI_USAGE;
	}
	digest_count(&d);
	if (d.nomem) {
		fprintf(stderr, "mtasts report digest: out of memory\n");
		digest_free(&d);
		return CLI_USAGE;
	}
	if (html != NULL) {
		if ((fp = fopen(html, "w")) == NULL) {
			fprintf(stderr, "mtasts report digest: %s: %s\n", html,
			    strerror(errno));
			rc = CLI_USAGE;
		} else {
			digest_html(&d, fp);
			if (fclose(fp) != 0)
				rc = CLI_USAGE;
		}
	}
	if (asjson)
		digest_json(&d, stdout);
	else if (html == NULL)
		digest_text(&d, stdout);
	if (rc == CLI_OK && d.nbad > 0)
		rc = CLI_INVALID;
	digest_free(&d);
	return rc;
}

static int
digest_usage(FILE *fp)
{
	return cli_usage(fp, "report digest [--since YYYY-MM-DD] "
	    "[--until YYYY-MM-DD] [--json] [--html FILE] PATH...\n\n"
	    "Many TLS-RPT reports sent to us (files, folders, a Maildir or an\n"
	    "mbox) for a period: by policy domain, sending organisation and\n"
	    "day, failures by type and MX host, and the change since the\n"
	    "previous period. --html writes one self-contained page.\n");
}

static void
digest_path(struct digest *d, const char *path)
{
	struct stat	 sb;
	char		*sub;

	if (stat(path, &sb) == -1) {
		fprintf(stderr, "mtasts report digest: %s: %s\n", path,
		    strerror(errno));
		d->nbad++;
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		digest_file(d, path);
		return;
	}
	/* a Maildir: its cur/ and new/ (tmp/ is being written) */
	if (asprintf(&sub, "%s/cur", path) != -1) {
		if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			digest_folder(d, sub, 0);
			free(sub);
			if (asprintf(&sub, "%s/new", path) != -1) {
				digest_folder(d, sub, 0);
				free(sub);
			}
			return;
		}
		free(sub);
	}
	digest_folder(d, path, 1);
}

/* The files of a folder in name order (and its folders, when deep). */
static void
digest_folder(struct digest *d, const char *dir, int deep)
{
	struct dirent	**names;
	struct stat	  sb;
	char		 *p;
	int		  i, n;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		if (errno != ENOENT) {
			fprintf(stderr, "mtasts report digest: %s: %s\n", dir,
			    strerror(errno));
			d->nbad++;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' &&
		    asprintf(&p, "%s/%s", dir, names[i]->d_name) != -1) {
			if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
				digest_file(d, p);
			else if (deep && stat(p, &sb) == 0 &&
			    S_ISDIR(sb.st_mode))
				digest_path(d, p);
			free(p);
		}
		free(names[i]);
	}
	free(names);
}

static void
digest_file(struct digest *d, const char *path)
{
	char	*buf;
	size_t	 len;

	if (cli_read(path, DIGEST_FILE_MAX, &buf, &len) != 0) {
		fprintf(stderr, "mtasts report digest: %s: %s\n", path,
		    strerror(errno));
		d->nbad++;
		return;
	}
	if (len > DIGEST_FILE_MAX) {
		fprintf(stderr, "mtasts report digest: %s: larger than %d "
		    "bytes\n", path, DIGEST_FILE_MAX);
		d->nbad++;
	} else if (len > 5 && memcmp(buf, "From ", 5) == 0)
		digest_mbox(d, path, buf, len);
	else
		digest_one(d, path, buf, len);
	free(buf);
}

/* Each message of an mbox: from a "From " line after an empty line. */
static void
digest_mbox(struct digest *d, const char *path, char *buf, size_t len)
{
	char	*msg, *body, *next, *end = buf + len;

	for (msg = buf; msg != NULL && msg < end; msg = next) {
		if ((body = memchr(msg, '\n', (size_t)(end - msg))) == NULL)
			break;
		body++;
		next = memmem(body, (size_t)(end - body), "\n\nFrom ", 7);
		digest_one(d, path, body, (size_t)((next != NULL ? next + 1 :
		    end) - body));
		if (next != NULL)
			next += 2;
	}
}

/* One report: parsed, kept unless its id was seen; warnings said. */
static void
digest_one(struct digest *d, const char *path, const char *buf, size_t len)
{
	struct mtasts_report	*r, **nv;
	struct mtasts_diag	 diag;

	if (mtasts_report_parse(buf, len, &r, &diag) != MTASTS_OK) {
		report_put(stderr, path);
		fputs(": not a report: ", stderr);
		report_put(stderr, diag.error.msg[0] ? diag.error.msg :
		    "unreadable");
		fputc('\n', stderr);
		d->nbad++;
		return;
	}
	d->nread++;
	if (digest_seen(d, r)) {
		d->ndup++;
		mtasts_report_free(r);
		return;
	}
	if (d->nreps == d->capreps) {
		d->capreps = d->capreps ? d->capreps * 2 : 32;
		if ((nv = reallocarray(d->reps, d->capreps, sizeof(*nv))) ==
		    NULL) {
			d->nomem = 1;
			mtasts_report_free(r);
			return;
		}
		d->reps = nv;
	}
	d->reps[d->nreps++] = r;
}

/* The key that makes two reports one: report-id, else its other facts. */
static char *
digest_id(const struct mtasts_report *r)
{
	char	*id;

	if (r->report_id != NULL)
		return strdup(r->report_id);
	if (asprintf(&id, "\n%s\n%lld\n%s", r->org ? r->org : "",
	    (long long)r->start, r->npolicies > 0 && r->policies[0].domain ?
	    r->policies[0].domain : "") == -1)
		return NULL;
	return id;
}

static int
digest_seen(const struct digest *d, const struct mtasts_report *r)
{
	char	*a, *b;
	size_t	 i;
	int	 same = 0;

	if ((a = digest_id(r)) == NULL)
		return 0;
	for (i = 0; i < d->nreps && !same; i++) {
		if ((b = digest_id(d->reps[i])) != NULL)
			same = strcmp(a, b) == 0;
		free(b);
	}
	free(a);
	return same;
}

/* The period asked, or the DIGEST_DAYS_DEFAULT days to the latest. */
static void
digest_period(struct digest *d, time_t since, time_t until)
{
	time_t	last = 0;
	size_t	i;

	for (i = 0; i < d->nreps; i++)
		if (d->reps[i]->start > last)
			last = d->reps[i]->start;
	if (until != 0)
		d->until = until + DAY;
	else if (since != 0 && last < since)
		d->until = since + DIGEST_DAYS_DEFAULT * DAY;
	else
		d->until = (last / DAY + 1) * DAY;
	d->since = since != 0 ? since : d->until - DIGEST_DAYS_DEFAULT * DAY;
	if (d->until - d->since > (time_t)DIGEST_DAYS_MAX * DAY)
		d->since = d->until;
	d->psince = d->since - (d->until - d->since);
}

uint64_t
dg_add(uint64_t a, uint64_t b)
{
	if (a > (uint64_t)INT64_MAX || b > (uint64_t)INT64_MAX - a)
		return (uint64_t)INT64_MAX;
	return a + b;
}

int
dg_in(const struct mtasts_report *r, time_t from, time_t to)
{
	return r->start >= from && r->start < to;
}

struct dg_row *
dg_row(struct dg_table *t, const char *key, const char *key2)
{
	struct dg_row	*nv, *row;
	size_t		 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0 && (key2 == NULL ?
		    t->v[i].key2 == NULL : t->v[i].key2 != NULL &&
		    strcmp(t->v[i].key2, key2) == 0))
			return &t->v[i];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((nv = reallocarray(t->v, t->cap, sizeof(*nv))) == NULL)
			return NULL;
		t->v = nv;
	}
	row = &t->v[t->n];
	memset(row, 0, sizeof(*row));
	if ((row->key = strdup(key)) == NULL ||
	    (key2 != NULL && (row->key2 = strdup(key2)) == NULL)) {
		free(row->key);
		return NULL;
	}
	t->n++;
	return row;
}

/* Every day of the period (so that the chart has them all), then the
 * reports of the period and of the previous one. */
static void
digest_count(struct digest *d)
{
	struct tm	tm;
	char		day[16];
	time_t		t;
	size_t		i;

	for (t = d->since; t < d->until && !d->nomem; t += DAY) {
		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		if (dg_row(&d->days, day, NULL) == NULL)
			d->nomem = 1;
	}
	for (i = 0; i < d->nreps; i++) {
		if (dg_in(d->reps[i], d->since, d->until))
			digest_count_report(d, d->reps[i], 1);
		else if (dg_in(d->reps[i], d->psince, d->since))
			digest_count_report(d, d->reps[i], 0);
		else
			d->nout++;
	}
	dg_sort(&d->domains);
	dg_sort(&d->orgs);
	dg_sort(&d->results);
	dg_sort(&d->result_mx);
	dg_sort(&d->mx);
}

static void
dg_sort(struct dg_table *t)
{
	if (t->n > 0)
		qsort(t->v, t->n, sizeof(*t->v), dg_by_failures);
}

/* Most failures first, then most sessions, then by key. */
static int
dg_by_failures(const void *a, const void *b)
{
	const struct dg_row	*x = a, *y = b;
	uint64_t		 nx = dg_add(x->ok, x->fail);
	uint64_t		 ny = dg_add(y->ok, y->fail);
	int			 c;

	if (x->fail != y->fail)
		return x->fail > y->fail ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0 || x->key2 == NULL ||
	    y->key2 == NULL)
		return c;
	return strcmp(x->key2, y->key2);
}

/* Adds (ok, fail) to the row of (key, key2) of t. */
static void
digest_add(struct digest *d, struct dg_table *t, const char *key,
    const char *key2, uint64_t ok, uint64_t fail)
{
	struct dg_row	*row;

	if ((row = dg_row(t, key, key2)) == NULL) {
		d->nomem = 1;
		return;
	}
	row->ok = dg_add(row->ok, ok);
	row->fail = dg_add(row->fail, fail);
}

static void
digest_count_report(struct digest *d, const struct mtasts_report *r,
    int now)
{
	const struct mtasts_report_policy	*p;
	const struct mtasts_report_failure	*f;
	const char				*org = r->org ? r->org :
						    "(no organization)";
	struct dg_row				*row;
	struct tm				 tm;
	char					 day[16];
	size_t					 i, j;

	if ((row = dg_row(now ? &d->orgs : &d->porgs, org, NULL)) == NULL) {
		d->nomem = 1;
		return;
	}
	row->reports++;
	gmtime_r(&r->start, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	for (i = 0; i < r->npolicies; i++) {
		p = &r->policies[i];
		digest_add(d, now ? &d->orgs : &d->porgs, org, NULL,
		    p->success, p->failure);
		if (!now) {
			d->pok = dg_add(d->pok, p->success);
			d->pfail = dg_add(d->pfail, p->failure);
			for (j = 0; j < p->ndetails; j++)
				digest_add(d, &d->presults,
				    p->details[j].result_type ?
				    p->details[j].result_type : "(unknown)",
				    NULL, 0, p->details[j].count);
			continue;
		}
		d->ok = dg_add(d->ok, p->success);
		d->fail = dg_add(d->fail, p->failure);
		digest_add(d, &d->domains, p->domain ? p->domain :
		    "(no domain)", NULL, p->success, p->failure);
		digest_add(d, &d->days, day, NULL, p->success, p->failure);
		for (j = 0; j < p->ndetails; j++) {
			f = &p->details[j];
			digest_add(d, &d->results, f->result_type ?
			    f->result_type : "(unknown)", NULL, 0, f->count);
			digest_add(d, &d->result_mx, f->result_type ?
			    f->result_type : "(unknown)", f->mx_host ?
			    f->mx_host : "(no MX host)", 0, f->count);
			digest_add(d, &d->mx, f->mx_host ? f->mx_host :
			    "(no MX host)", NULL, 0, f->count);
		}
	}
}

static void
dg_table_free(struct dg_table *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].key2);
	}
	free(t->v);
}

static void
digest_free(struct digest *d)
{
	size_t	i;

	for (i = 0; i < d->nreps; i++)
		mtasts_report_free(d->reps[i]);
	free(d->reps);
	dg_table_free(&d->domains);
	dg_table_free(&d->orgs);
	dg_table_free(&d->days);
	dg_table_free(&d->results);
	dg_table_free(&d->result_mx);
	dg_table_free(&d->mx);
	dg_table_free(&d->presults);
	dg_table_free(&d->porgs);
}
