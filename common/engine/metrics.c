/*
 * metrics.c - "mtasts metrics": the store's counters and gauges in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * mtasts_metrics() folds the TLS-RPT spool (its backlog is measured
 * first), reads the cumulative counters (store_counter.c) and the policy
 * cache, and writes one family per line group with HELP and TYPE. Label
 * values come from a bounded set (policy type, mode, result type) except
 * domain, which only the domains of a set kept in the store have (at
 * most top, chosen busiest first, never removed); the others are summed
 * as domain="other". A domain's series starts from its count when it
 * joined the set, and "other" keeps what came before, so that no
 * counter ever goes down. Label values are escaped as the format wants
 * (backslash, double quote, newline). A batch job: never on the
 * delivery path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "engine/ctx.h"

#define METRICS_NMODES	3

/* One counter of a family, keyed by up to three label values. */
struct mcount {
	char			 k[3][64];
	unsigned long long	 n;
};
struct mfamily {
	struct mcount	*v;
	size_t		 n, cap;
};
/* A domain's sessions, to pick the busiest and label them. */
struct mdomain {
	char			 domain[MTASTS_NAME_MAX + 1];
	unsigned long long	 success, failure;
};

struct metrics {
	struct mtasts_ctx	*ctx;
	struct mfamily		 sessions;	/* policy_type, mode, result */
	struct mfamily		 deferrals;	/* result */
	struct mfamily		 fetches;	/* result */
	struct mdomain		*dom;
	size_t			 ndom, capdom;
	unsigned long long	 cached[METRICS_NMODES], expired;
	unsigned long long	 backlog;
	int			 store_up, writable, nerrors, nomem;
	time_t			 now;
};

static int	metrics_count(struct mfamily *, const char *, const char *,
		    const char *, unsigned long long);
static int	metrics_on_counter(void *, const struct store_counter_row *);
static int	metrics_domain_add(struct metrics *, const char *, int,
		    unsigned long long);
static int	metrics_on_policy(void *, const struct store_policy *);
static void	metrics_read(struct metrics *, struct store *);
static int	metrics_by_busy(const void *, const void *);
static struct mdomain *metrics_domain(struct metrics *, const char *);
static void	metrics_top(struct metrics *, struct store *, unsigned,
		    FILE *);
static void	metrics_head(FILE *, const char *, const char *,
		    const char *);
static void	metrics_label(FILE *, const char *, const char *, int);
static void	metrics_family(FILE *, const char *, const char *const *,
		    const struct mfamily *);
static void	metrics_write(struct metrics *, struct store *, unsigned,
		    FILE *);

int
mtasts_metrics(struct mtasts_ctx *ctx, unsigned top, char **text)
{
	struct metrics	 m;
	struct store	*st;
	FILE		*fp;
	size_t		 len;
	int		 rc = MTASTS_OK;

	if (ctx == NULL || text == NULL)
		return MTASTS_EINVAL;
	*text = NULL;
	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.now = ctx_now(ctx);
	if ((fp = open_memstream(text, &len)) == NULL)
		return MTASTS_ENOMEM;
	if ((st = ctx_store(ctx)) != NULL)
		metrics_read(&m, st);
	else
		m.nerrors++;
	if (!m.nomem)
		metrics_write(&m, st, top, fp);
	if (fclose(fp) != 0 || m.nomem) {
		free(*text);
		*text = NULL;
		rc = MTASTS_ENOMEM;
	}
	free(m.sessions.v);
	free(m.deferrals.v);
	free(m.fetches.v);
	free(m.dom);
	return rc;
}

/* Backlog, fold, counters and the policy cache; failures are counted. */
static void
metrics_read(struct metrics *m, struct store *st)
{
	int	rc;

	m->store_up = 1;
	m->writable = store_writable(st);
	if (store_tlsrpt_backlog(st, &m->backlog) != MTASTS_OK)
		m->nerrors++;
	if (store_tlsrpt_fold(st) != MTASTS_OK)
		m->nerrors++;
	if ((rc = store_counter_list(st, metrics_on_counter, m)) !=
	    MTASTS_OK && !m->nomem)
		m->nerrors++;
	if ((rc = store_list(st, metrics_on_policy, m)) != MTASTS_OK &&
	    !m->nomem)
		m->nerrors++;
}

static int
metrics_on_counter(void *arg, const struct store_counter_row *r)
{
	struct metrics	*m = arg;
	int		 failure = strcmp(r->result, "success") != 0;

	if (strcmp(r->name, "fetch") == 0)
		return metrics_count(&m->fetches, r->result, NULL, NULL,
		    r->count);
	if (strcmp(r->name, "session") != 0)
		return 0;
	if (metrics_count(&m->sessions, r->policy_type, r->mode, r->result,
	    r->count) != 0)
		return 1;
	if (r->deferred && metrics_count(&m->deferrals, r->result, NULL,
	    NULL, r->count) != 0)
		return 1;
	/* a failed policy fetch is recorded as an sts-* result */
	if (strncmp(r->result, "sts-", 4) == 0 && metrics_count(&m->fetches,
	    r->result, NULL, NULL, r->count) != 0)
		return 1;
	return metrics_domain_add(m, r->domain, failure, r->count);
}

/* Adds n to the counter of the key (a, b, c); 1 when out of memory. */
static int
metrics_count(struct mfamily *f, const char *a, const char *b,
    const char *c, unsigned long long n)
{
	const char	*key[3] = { a ? a : "", b ? b : "", c ? c : "" };
	struct mcount	*nv;
	size_t		 i;
	int		 j;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].k[0], key[0]) == 0 &&
		    strcmp(f->v[i].k[1], key[1]) == 0 &&
		    strcmp(f->v[i].k[2], key[2]) == 0) {
			f->v[i].n += n;
			return 0;
		}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		if ((nv = reallocarray(f->v, f->cap, sizeof(*nv))) == NULL)
			return 1;
		f->v = nv;
	}
	memset(&f->v[f->n], 0, sizeof(f->v[f->n]));
	for (j = 0; j < 3; j++)
		snprintf(f->v[f->n].k[j], sizeof(f->v[f->n].k[j]), "%s",
		    key[j]);
	f->v[f->n++].n = n;
	return 0;
}

static struct mdomain *
metrics_domain(struct metrics *m, const char *domain)
{
	size_t	i;

	for (i = 0; i < m->ndom; i++)
		if (strcmp(m->dom[i].domain, domain) == 0)
			return &m->dom[i];
	return NULL;
}

/* Counters come in domain order: the last one is usually the one. */
static int
metrics_domain_add(struct metrics *m, const char *domain, int failure,
    unsigned long long n)
{
	struct mdomain	*d = NULL, *nv;

	if (m->ndom > 0 && strcmp(m->dom[m->ndom - 1].domain, domain) == 0)
		d = &m->dom[m->ndom - 1];
	else if ((d = metrics_domain(m, domain)) == NULL) {
		if (m->ndom == m->capdom) {
			m->capdom = m->capdom ? m->capdom * 2 : 16;
			nv = reallocarray(m->dom, m->capdom, sizeof(*nv));
			if (nv == NULL) {
				m->nomem = 1;
				return 1;
			}
			m->dom = nv;
		}
		d = &m->dom[m->ndom++];
		memset(d, 0, sizeof(*d));
		snprintf(d->domain, sizeof(d->domain), "%s", domain);
	}
	if (failure)
		d->failure += n;
	else
		d->success += n;
	return 0;
}

static int
metrics_on_policy(void *arg, const struct store_policy *p)
{
	struct metrics		*m = arg;
	struct mtasts_policy	*pol;

	if (p->text == NULL)
		return 0;
	if (p->expires <= m->now) {
		m->expired++;
		return 0;
	}
	if (mtasts_policy_parse(p->text, strlen(p->text), &pol, NULL) !=
	    MTASTS_OK)
		return 0;
	if ((unsigned)pol->mode < METRICS_NMODES)
		m->cached[pol->mode]++;
	mtasts_policy_free(pol);
	return 0;
}

static int
metrics_by_busy(const void *a, const void *b)
{
	const struct mdomain	*x = a, *y = b;
	unsigned long long	 nx = x->success + x->failure;
	unsigned long long	 ny = y->success + y->failure;

	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

static void
metrics_head(FILE *fp, const char *name, const char *type,
    const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name="value", escaped; first: no comma before it. */
static void
metrics_label(FILE *fp, const char *name, const char *val, int first)
{
	fprintf(fp, "%s%s=\"", first ? "" : ",", name);
	for (; *val != '\0'; val++) {
		if (*val == '\\' || *val == '"')
			fputc('\\', fp);
		if (*val == '\n')
			fputs("\\n", fp);
		else
			fputc(*val, fp);
	}
	fputc('"', fp);
}

/* Every counter of f, with labels named by label (NULL-ended). */
static void
metrics_family(FILE *fp, const char *name, const char *const *label,
    const struct mfamily *f)
{
	size_t	i;
	int	j;

	for (i = 0; i < f->n; i++) {
		fprintf(fp, "%s{", name);
		for (j = 0; j < 3 && label[j] != NULL; j++)
			metrics_label(fp, label[j], f->v[i].k[j], j == 0);
		fprintf(fp, "} %llu\n", f->v[i].n);
	}
}

/*
 * The domains with a label of their own: those kept in the store, then
 * the busiest others up to top (kept in turn, with their counts now as
 * the start of their series). Writes the family.
 */
static void
metrics_top(struct metrics *m, struct store *st, unsigned top, FILE *fp)
{
	struct store_metric_domain	*kept = NULL, add;
	struct mdomain			*d;
	unsigned long long		 os = 0, of = 0;
	size_t				 nkept = 0, i, n;

	if (st != NULL && store_metric_domains(st, &kept, &nkept) !=
	    MTASTS_OK)
		m->nerrors++;
	if (m->ndom > 0)
		qsort(m->dom, m->ndom, sizeof(*m->dom), metrics_by_busy);
	for (i = 0; i < m->ndom && nkept < top && m->writable; i++) {
		for (n = 0; n < nkept; n++)
			if (strcmp(kept[n].domain, m->dom[i].domain) == 0)
				break;
		if (n < nkept)
			continue;
		memset(&add, 0, sizeof(add));
		snprintf(add.domain, sizeof(add.domain), "%s",
		    m->dom[i].domain);
		add.base_success = m->dom[i].success;
		add.base_failure = m->dom[i].failure;
		if (store_metric_domain_add(st, &add, m->now) != MTASTS_OK) {
			m->nerrors++;
			break;
		}
		free(kept);
		kept = NULL;
		if (store_metric_domains(st, &kept, &nkept) != MTASTS_OK) {
			m->nerrors++;
			break;
		}
	}
	for (i = 0; i < m->ndom; i++) {
		os += m->dom[i].success;
		of += m->dom[i].failure;
	}
	for (n = 0; n < nkept && n < top; n++) {
		if ((d = metrics_domain(m, kept[n].domain)) == NULL ||
		    d->success < kept[n].base_success ||
		    d->failure < kept[n].base_failure)
			continue;
		/* the counts before it joined stay in "other" */
		os -= d->success - kept[n].base_success;
		of -= d->failure - kept[n].base_failure;
		fputs("mtasts_domain_sessions_total{", fp);
		metrics_label(fp, "domain", d->domain, 1);
		fprintf(fp, ",outcome=\"success\"} %llu\n",
		    d->success - kept[n].base_success);
		fputs("mtasts_domain_sessions_total{", fp);
		metrics_label(fp, "domain", d->domain, 1);
		fprintf(fp, ",outcome=\"failure\"} %llu\n",
		    d->failure - kept[n].base_failure);
	}
	fprintf(fp, "mtasts_domain_sessions_total{domain=\"other\","
	    "outcome=\"success\"} %llu\n", os);
	fprintf(fp, "mtasts_domain_sessions_total{domain=\"other\","
	    "outcome=\"failure\"} %llu\n", of);
	free(kept);
}

static void
metrics_write(struct metrics *m, struct store *st, unsigned top, FILE *fp)
{
	static const char *const l_sessions[] = { "policy_type", "mode",
	    "result", NULL };
	static const char *const l_reason[] = { "reason", NULL };
	static const char *const l_result[] = { "result", NULL };
	int	i;

	metrics_head(fp, "mtasts_sessions_total", "counter", "TLS-RPT "
	    "results recorded (one per session with an MX host or policy "
	    "fetch), by policy type, mode and RFC 8460 result type.");
	metrics_family(fp, "mtasts_sessions_total", l_sessions, &m->sessions);
	metrics_head(fp, "mtasts_deferrals_total", "counter", "Sessions "
	    "refused under an enforce policy (the MTA defers), by result "
	    "type.");
	metrics_family(fp, "mtasts_deferrals_total", l_reason, &m->deferrals);
	metrics_head(fp, "mtasts_domain_sessions_total", "counter",
	    "Sessions by policy domain (the busiest; the rest as "
	    "domain=\"other\") and outcome.");
	metrics_top(m, st, top, fp);
	if (metrics_count(&m->fetches, "success", NULL, NULL, 0) != 0)
		m->nomem = 1;
	metrics_head(fp, "mtasts_policy_fetches_total", "counter", "Policy "
	    "fetches: success, or the RFC 8460 result type of the failure.");
	metrics_family(fp, "mtasts_policy_fetches_total", l_result,
	    &m->fetches);
	metrics_head(fp, "mtasts_policies_cached", "gauge", "Unexpired "
	    "policies in the cache, by mode.");
	for (i = 0; i < METRICS_NMODES; i++)
		fprintf(fp, "mtasts_policies_cached{mode=\"%s\"} %llu\n",
		    mtasts_mode_name(i), m->cached[i]);
	metrics_head(fp, "mtasts_policies_expired", "gauge", "Cached "
	    "policies past their max_age (the next delivery fetches).");
	fprintf(fp, "mtasts_policies_expired %llu\n", m->expired);
	metrics_head(fp, "mtasts_store_up", "gauge", "1 when the store "
	    "could be opened.");
	fprintf(fp, "mtasts_store_up %d\n", m->store_up);
	metrics_head(fp, "mtasts_store_writable", "gauge", "1 when the store "
	    "is writable (else cached policies are used, nothing is folded)."
	    );
	fprintf(fp, "mtasts_store_writable %d\n", m->writable);
	metrics_head(fp, "mtasts_store_errors", "gauge", "Store operations "
	    "that failed while these metrics were read (details in the "
	    "log).");
	fprintf(fp, "mtasts_store_errors %d\n", m->nerrors);
	metrics_head(fp, "mtasts_spool_backlog_lines", "gauge", "TLS-RPT "
	    "results spooled and not yet folded into the store, before this "
	    "run folded them.");
	fprintf(fp, "mtasts_spool_backlog_lines %llu\n", m->backlog);
}
