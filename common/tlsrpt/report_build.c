/*
 * report_build.c - "mtasts report build": the day's counters into one
 * RFC 8460 report per policy domain (section 4), gzipped and named as
 * section 5.3 recommends:
 *
 *	submitter "!" policy-domain "!" begin "!" end ".json.gz"
 *
 * begin and end are unix times of the first and last second of the UTC
 * day (the date-range is 00:00:00Z to 23:59:59Z, as reporters send).
 *
 * A domain gets a report only when it had results that day and its
 * _smtp._tls TXT record, looked up now, parses; otherwise it is logged
 * and skipped (a DNS failure is an error: the next run tries again).
 * One "policies" entry per policy type seen; for "sts" the policy string
 * and mx patterns come from the cached policy at build time (recording
 * stays one store write; a policy that changed during the day is
 * reported as it is now). Failure details are the failure counters as
 * recorded; the summary is their sum and the sum of the successes.
 *
 * Beside each report a ".state" file (rstate.c) lists the rua URIs for
 * "send". A report whose state file exists is not built again.
 *
 * In a fleet ("fleet" in mtasts.conf) this host's results are moved
 * into PostgreSQL first (engine/sync.c), the rows are the fleet's sums,
 * and each domain's report is built only by the host that claims it in
 * PostgreSQL (claims of a host that died lapse after fleet_lease); that
 * host sends it. Without PostgreSQL no fleet report is built: the
 * results wait, and the next run tries again.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/gz.h"
#include "util/strv.h"
#include "rfc/report.h"
#include "net/dns.h"
#include "store/store.h"
#include "store/pg.h"
#include "engine/ctx.h"
#include "engine/sync.h"
#include "tlsrpt/rstate.h"

#define BUILD_DAY	86400

struct build_row {
	char			*domain, *type, *result, *mx, *rip, *sip,
				*detail;
	unsigned long long	 count;
};

struct build_rows {
	struct build_row	*v;
	size_t			 n;
	int			 nomem;
};

static int	build_rows(struct mtasts_ctx *, long long, struct pg **,
		    struct build_rows *);
static int	build_fleet_domain(struct mtasts_ctx *, struct pg *,
		    const char *, time_t, const struct build_row *, size_t,
		    unsigned *);
static int	build_collect(void *, const struct store_tlsrpt_row *);
static void	build_rows_free(struct build_rows *);
static int	build_domain(struct mtasts_ctx *, const char *, time_t,
		    const struct build_row *, size_t, unsigned *);
static int	build_record(struct mtasts_ctx *, const char *,
		    struct mtasts_tlsrpt_record **);
static int	build_model(struct mtasts_ctx *, const char *, const char *,
		    time_t, const struct build_row *, size_t,
		    struct mtasts_report *);
static int	build_policy(struct mtasts_ctx *, const char *,
		    const struct build_row *, size_t,
		    struct mtasts_report_policy *);
static int	build_policy_text(struct mtasts_ctx *, const char *,
		    struct mtasts_report_policy *);
static int	build_detail(const struct build_row *,
		    struct mtasts_report_policy *);
static int	build_write(struct mtasts_ctx *, const char *,
		    const struct mtasts_report *);
static int	build_submitter(struct mtasts_ctx *, char *, size_t);
static char	*build_dup(const char *);

int
mtasts_report_build(struct mtasts_ctx *ctx, time_t day, unsigned *nbuilt)
{
	struct build_rows	 rows;
	struct pg		*pg = NULL;
	time_t			 day0;
	size_t			 i, j;
	unsigned		 built = 0;
	int			 rc, err = MTASTS_OK;

	if (nbuilt != NULL)
		*nbuilt = 0;
	if (ctx == NULL || day < 0)
		return MTASTS_EINVAL;
	day0 = day - day % BUILD_DAY;
	memset(&rows, 0, sizeof(rows));
	if ((rc = build_rows(ctx, (long long)(day0 / BUILD_DAY), &pg,
	    &rows)) != MTASTS_OK)
		goto done;
	if (rows.n == 0)
		log_info(&ctx->log, "report: no results recorded on that "
		    "day: no report");
	for (i = 0; i < rows.n; i = j) {
		for (j = i; j < rows.n && strcmp(rows.v[j].domain,
		    rows.v[i].domain) == 0; j++)
			;
		rc = pg != NULL ? build_fleet_domain(ctx, pg, rows.v[i].domain,
		    day0, rows.v + i, j - i, &built) : build_domain(ctx,
		    rows.v[i].domain, day0, rows.v + i, j - i, &built);
		if (rc == MTASTS_ENOMEM || rc == MTASTS_ECONFIG)
			goto done;
		if (rc != MTASTS_OK)
			err = rc;
	}
	rc = err;
done:
	pg_close(pg);
	build_rows_free(&rows);
	if (nbuilt != NULL)
		*nbuilt = built;
	return rc;
}

/*
 * The day's rows: this store's, or in a fleet the fleet's (after this
 * host's results are moved there); *pg is then the connection.
 */
static int
build_rows(struct mtasts_ctx *ctx, long long day, struct pg **pg,
    struct build_rows *rows)
{
	struct store	*st;
	int		 rc;

	*pg = NULL;
	if ((st = ctx_store(ctx)) == NULL)
		return MTASTS_ESTORE;
	if (ctx->conf->fleet == NULL)
		rc = store_tlsrpt_day(st, day, build_collect, rows);
	else if ((rc = sync_open(ctx, pg)) == MTASTS_OK &&
	    (rc = sync_push(ctx, *pg, NULL)) == MTASTS_OK)
		rc = pg_tlsrpt_day(*pg, day, build_collect, rows);
	if (rc == MTASTS_OK && rows->nomem)
		rc = MTASTS_ENOMEM;
	if (rc != MTASTS_OK && ctx->conf->fleet != NULL)
		log_err(&ctx->log, "report: the fleet's results cannot be "
		    "read: no report built; they wait for the next run");
	return rc;
}

/* One domain of the fleet: built here only when this host claims it. */
static int
build_fleet_domain(struct mtasts_ctx *ctx, struct pg *pg,
    const char *domain, time_t day0, const struct build_row *rows,
    size_t n, unsigned *built)
{
	char	holder[256];
	int	rc;

	rc = pg_report_claim(pg, domain, (long long)(day0 / BUILD_DAY),
	    ctx->conf->fleet_lease, holder, sizeof(holder));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		log_info(&ctx->log, "report: %s: the fleet's report is built "
		    "by host %s", domain, holder[0] ? holder : "(another)");
		return MTASTS_OK;
	}
	if ((rc = build_domain(ctx, domain, day0, rows, n, built)) !=
	    MTASTS_OK)
		return rc;
	return pg_report_done(pg, domain, (long long)(day0 / BUILD_DAY));
}

static char *
build_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
build_collect(void *arg, const struct store_tlsrpt_row *r)
{
	struct build_rows	*rows = arg;
	struct build_row	*v, *b;

	if ((v = reallocarray(rows->v, rows->n + 1, sizeof(*v))) == NULL) {
		rows->nomem = 1;
		return 1;
	}
	rows->v = v;
	b = &v[rows->n++];
	b->domain = build_dup(r->domain);
	b->type = build_dup(r->policy_type);
	b->result = build_dup(r->result);
	b->mx = build_dup(r->mx);
	b->rip = build_dup(r->receiving_ip);
	b->sip = build_dup(r->sending_ip);
	b->detail = build_dup(r->detail);
	b->count = r->count;
	if (b->domain == NULL || b->type == NULL || b->result == NULL ||
	    b->mx == NULL || b->rip == NULL || b->sip == NULL ||
	    b->detail == NULL) {
		rows->nomem = 1;
		return 1;
	}
	return 0;
}

static void
build_rows_free(struct build_rows *rows)
{
	struct build_row	*b;
	size_t			 i;

	for (i = 0; i < rows->n; i++) {
		b = &rows->v[i];
		free(b->domain);
		free(b->type);
		free(b->result);
		free(b->mx);
		free(b->rip);
		free(b->sip);
		free(b->detail);
	}
	free(rows->v);
}

static int
build_domain(struct mtasts_ctx *ctx, const char *domain, time_t day0,
    const struct build_row *rows, size_t n, unsigned *built)
{
	struct mtasts_tlsrpt_record	*rec = NULL;
	struct mtasts_report		*r = NULL;
	struct rstate			 state;
	struct stat			 sb;
	char				 sub[MTASTS_NAME_MAX + 1];
	char				 base[4096], path[4200];
	size_t				 i;
	int				 rc;

	memset(&state, 0, sizeof(state));
	if ((rc = build_submitter(ctx, sub, sizeof(sub))) != MTASTS_OK)
		return rc;
	snprintf(base, sizeof(base), "%s/%s!%s!%lld!%lld",
	    ctx->conf->report_dir, sub, domain, (long long)day0,
	    (long long)(day0 + BUILD_DAY - 1));
	snprintf(path, sizeof(path), "%s.state", base);
	if (stat(path, &sb) == 0) {
		log_debug(&ctx->log, "report: %s: already built", domain);
		return MTASTS_OK;
	}
	if ((rc = build_record(ctx, domain, &rec)) != MTASTS_OK)
		return rc == MTASTS_ENOTFOUND ? MTASTS_OK : rc;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = MTASTS_ENOMEM;
		goto fail;
	}
	if ((rc = build_model(ctx, domain, sub, day0, rows, n, r)) !=
	    MTASTS_OK)
		goto fail;
	snprintf(path, sizeof(path), "%s.json.gz", base);
	if ((rc = build_write(ctx, path, r)) != MTASTS_OK)
		goto fail;
	rc = MTASTS_ENOMEM;
	if ((state.domain = strdup(domain)) == NULL ||
	    (state.report_id = strdup(r->report_id)) == NULL)
		goto fail;
	state.day = day0;
	state.built = time(NULL);
	for (i = 0; i < rec->nrua; i++)
		if ((rc = rstate_add_rua(&state, rec->rua[i])) != MTASTS_OK)
			goto fail;
	snprintf(path, sizeof(path), "%s.state", base);
	if ((rc = rstate_save(path, &state)) != MTASTS_OK) {
		log_err(&ctx->log, "report: %s: cannot write: %s", path,
		    strerror(errno));
		goto fail;
	}
	log_info(&ctx->log, "report: built %s.json.gz (%zu rua)", base,
	    rec->nrua);
	(*built)++;
fail:
	rstate_clear(&state);
	mtasts_report_free(r);
	mtasts_tlsrpt_record_free(rec);
	return rc;
}

/*
 * The _smtp._tls record of domain: MTASTS_ENOTFOUND (logged) when there
 * is none that parses, MTASTS_EDNS when DNS did not answer.
 */
static int
build_record(struct mtasts_ctx *ctx, const char *domain,
    struct mtasts_tlsrpt_record **rec)
{
	struct mtasts_diag	 diag;
	struct dns		*dns;
	char			 name[MTASTS_NAME_MAX + 16], **txt = NULL;
	size_t			 n = 0;
	int			 rc;

	*rec = NULL;
	if ((dns = ctx_dns(ctx)) == NULL)
		return MTASTS_EDNS;
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	rc = ctx->net->dns_txt(dns, name, &txt, &n);
	if (rc == MTASTS_ENOTFOUND) {
		log_info(&ctx->log, "report: %s: no TLS-RPT record at %s: no "
		    "report", domain, name);
		return rc;
	}
	if (rc != MTASTS_OK) {
		log_warn(&ctx->log, "report: %s: TXT lookup of %s failed: %s; "
		    "the next run tries again", domain, name,
		    mtasts_strerror(rc));
		return rc;
	}
	rc = mtasts_tlsrpt_record_parse((const char *const *)txt, n, rec,
	    &diag);
	strv_free(txt, n);
	if (rc == MTASTS_ENOMEM)
		return rc;
	if (rc != MTASTS_OK) {
		log_info(&ctx->log, "report: %s: TLS-RPT record at %s is not "
		    "valid (%s): no report", domain, name,
		    diag.error.msg[0] ? diag.error.msg : mtasts_strerror(rc));
		return MTASTS_ENOTFOUND;
	}
	return MTASTS_OK;
}

/* report_submitter, else this host's name when it has a dot. */
static int
build_submitter(struct mtasts_ctx *ctx, char *buf, size_t size)
{
	char	host[256];

	if (ctx->conf->report_submitter != NULL) {
		snprintf(buf, size, "%s", ctx->conf->report_submitter);
		return MTASTS_OK;
	}
	if (gethostname(host, sizeof(host)) == 0 &&
	    (host[sizeof(host) - 1] = '\0', strchr(host, '.') != NULL) &&
	    mtasts_name_normalize(host, 0, buf) == MTASTS_OK)
		return MTASTS_OK;
	log_err(&ctx->log, "report: report_submitter is not set and the host "
	    "name is not a domain name");
	return MTASTS_ECONFIG;
}

static int
build_model(struct mtasts_ctx *ctx, const char *domain, const char *sub,
    time_t day0, const struct build_row *rows, size_t n,
    struct mtasts_report *r)
{
	struct mtasts_report_policy	*p;
	const struct config		*conf = ctx->conf;
	unsigned char			 rnd[8];
	char				 id[512], date[16];
	struct tm			 tm;
	size_t				 i, j;
	int				 rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	gmtime_r(&day0, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	snprintf(id, sizeof(id), "%s.%02x%02x%02x%02x%02x%02x%02x%02x@%s",
	    date, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7], sub);
	r->start = day0;
	r->end = day0 + BUILD_DAY - 1;
	if ((r->org = strdup(conf->report_org ? conf->report_org : sub)) ==
	    NULL || (r->report_id = strdup(id)) == NULL)
		return MTASTS_ENOMEM;
	if (conf->report_contact != NULL)
		r->contact = strdup(conf->report_contact);
	else if (asprintf(&r->contact, "postmaster@%s", sub) == -1)
		r->contact = NULL;
	if (r->contact == NULL)
		return MTASTS_ENOMEM;
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && strcmp(rows[j].type, rows[i].type) == 0;
		    j++)
			;
		if ((p = report_add_policy(r)) == NULL)
			return MTASTS_ENOMEM;
		if ((rc = build_policy(ctx, domain, rows + i, j - i, p)) !=
		    MTASTS_OK)
			return rc;
	}
	return MTASTS_OK;
}

static int
build_policy(struct mtasts_ctx *ctx, const char *domain,
    const struct build_row *rows, size_t n, struct mtasts_report_policy *p)
{
	size_t	i;
	int	rc;

	if ((p->type = strdup(rows[0].type)) == NULL ||
	    (p->domain = strdup(domain)) == NULL)
		return MTASTS_ENOMEM;
	if (strcmp(p->type, "sts") == 0 &&
	    (rc = build_policy_text(ctx, domain, p)) != MTASTS_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].result, "success") == 0) {
			p->success += rows[i].count;
			continue;
		}
		p->failure += rows[i].count;
		if (build_detail(&rows[i], p) != 0)
			return MTASTS_ENOMEM;
	}
	return MTASTS_OK;
}

/* policy-string and mx-host from the cached policy, when there is one. */
static int
build_policy_text(struct mtasts_ctx *ctx, const char *domain,
    struct mtasts_report_policy *p)
{
	struct store_policy	 row;
	struct mtasts_policy	*pol = NULL;
	const char		*s, *e;
	size_t			 i, len;
	int			 rc;

	if (store_get(ctx->store, domain, &row) != MTASTS_OK)
		return MTASTS_OK;
	rc = MTASTS_ENOMEM;
	for (s = row.text; s != NULL && *s != '\0'; s = *e ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		len = (size_t)(e - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len > 0 && strv_push(&p->strings, &p->nstrings, NULL,
		    strndup(s, len)) != MTASTS_OK)
			goto fail;
	}
	if (row.text != NULL && mtasts_policy_parse(row.text,
	    strlen(row.text), &pol, NULL) == MTASTS_OK)
		for (i = 0; i < pol->nmx; i++)
			if (strv_push(&p->mx, &p->nmx, NULL,
			    strdup(pol->mx[i])) != MTASTS_OK)
				goto fail;
	rc = MTASTS_OK;
fail:
	mtasts_policy_free(pol);
	store_policy_clear(&row);
	return rc;
}

static int
build_detail(const struct build_row *b, struct mtasts_report_policy *p)
{
	struct mtasts_report_failure	*f;

	if ((f = report_add_failure(p)) == NULL ||
	    (f->result_type = strdup(b->result)) == NULL)
		return -1;
	f->count = b->count;
	if ((*b->sip && (f->sending_ip = strdup(b->sip)) == NULL) ||
	    (*b->mx && (f->mx_host = strdup(b->mx)) == NULL) ||
	    (*b->rip && (f->receiving_ip = strdup(b->rip)) == NULL) ||
	    (*b->detail && (f->reason_code = strdup(b->detail)) == NULL))
		return -1;
	return 0;
}

/* JSON, gzip, and a temporary file renamed into place. */
static int
build_write(struct mtasts_ctx *ctx, const char *path,
    const struct mtasts_report *r)
{
	char	*json, *gz = NULL, tmp[4300];
	size_t	 gzlen;
	ssize_t	 w;
	int	 fd, rc;

	if (mkdir(ctx->conf->report_dir, 0750) == -1 && errno != EEXIST) {
		log_err(&ctx->log, "report: cannot create %s: %s",
		    ctx->conf->report_dir, strerror(errno));
		return MTASTS_EIO;
	}
	if ((json = mtasts_report_json(r)) == NULL)
		return MTASTS_ENOMEM;
	rc = gz_compress(json, strlen(json), &gz, &gzlen);
	free(json);
	if (rc != MTASTS_OK)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = MTASTS_EIO;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) == -1)
		goto fail;
	w = write(fd, gz, gzlen);
	if (close(fd) != 0 || w != (ssize_t)gzlen || rename(tmp, path) != 0) {
		unlink(tmp);
		goto fail;
	}
	free(gz);
	return MTASTS_OK;
fail:
	log_err(&ctx->log, "report: cannot write %s: %s", path,
	    strerror(errno));
	free(gz);
	return rc;
}
