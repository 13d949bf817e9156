/*
 * rcpt.c - the rcpt-to filter: resolve the recipient domain's policy
 * without blocking other sessions, look up its MX set, and decide.
 *
 *	enforce, some MX host matches the policy: put the domain in the
 *	    routing table (smtpd then relays it with mandatory STARTTLS and a
 *	    certificate checked against the MX name), then proceed;
 *	enforce, no MX host matches or the MX set is unknown: 451 4.7.5;
 *	enforce, some MX hosts match and others do not: 451 4.7.5 too,
 *	    because smtpd's "relay tls" would use the others as well (a
 *	    host with a valid certificate for its own name passes it);
 *	    -M accepts such sets (and logs the risk);
 *	testing: proceed, log what enforce would refuse;
 *	none or no policy: proceed;
 *	log-only (mtasts.conf): never refuse and never route; log instead.
 *
 * Report mail (envelope sender MTASTS_REPORT_SENDER, seen in the smtp-in
 * tx-mail report) is never held: RFC 8460 section 3 wants reports
 * delivered despite TLS failures; smtpd.conf routes it around the TLS
 * action.
 *
 * Whether an MX host matches the policy, and the TLS-RPT result and
 * detail of one that does not, is the core's verdict (mtasts_mx_verdict());
 * this file only counts the verdicts over the set and acts on them.
 *
 * MX sets come from mxcache.c when an answer for the domain is less than
 * 60 s old, from DNS otherwise.
 *
 * Refusals of an MX set outside the policy are recorded for TLS-RPT, and
 * accepted policy domains are handed to smtpout.c, which attributes the
 * smtp-out sessions to them.
 *
 * A request whose smtp-in session ends before the answer is kept until
 * the engine answers (the engine owns callbacks to it) and then dropped
 * without a reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "proto.h"
#include "table.h"

#define REPLY_MAX	500	/* an SMTP reply line is at most 512 octets */
#define HOSTS_MAX	400	/* text of the MX set in a log line */
#define HOSTS_MORE	32	/* room kept for ", ... and N more" */

/* The core's verdicts on a domain's MX set. */
struct mxset {
	size_t			 outside;	/* hosts matching no pattern */
	const char		*first;		/* the first of them, or NULL */
	struct mtasts_mx_verdict v;		/* the core's verdict on it */
	char			 text[HOSTS_MAX]; /* the set, for the log */
};

struct rcpt {
	uint64_t		 reqid;		/* smtp-in session */
	uint64_t		 token;
	int			 vmajor, vminor;
	int			 cancelled;	/* the session is gone */
	char			 domain[MTASTS_NAME_MAX + 1];
	struct mtasts_answer	 ans;
	struct rcpt		*next;
};

/* An smtp-in session whose envelope sender is the report sender. */
struct rsess {
	uint64_t		 reqid;
	struct rsess		*next;
};

static struct rcpt	*rcpt_list;
static struct rsess	*rsess_list;

static int	 rcpt_domain(const char *, char *, size_t);
static void	 rcpt_on_policy(void *, int, struct mtasts_answer *);
static void	 rcpt_on_mx(void *, int, char **, size_t);
static void	 rcpt_on_mx_dns(void *, int, char **, size_t);
static void	 rcpt_enforce(struct rcpt *, int, char **, size_t);
static void	 rcpt_testing(struct rcpt *, int, char **, size_t);
static void	 rcpt_hosts(const struct rcpt *, char **, size_t,
		    struct mxset *);
static void	 rcpt_verdict(const struct rcpt *, const char *,
		    struct mtasts_mx_verdict *);
static int	 rcpt_enforce_outside(struct rcpt *, size_t,
		    const struct mxset *);
static void	 rcpt_proceed(struct rcpt *);
static void	 rcpt_reject(struct rcpt *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 rcpt_free(struct rcpt *);
static struct rsess **rcpt_rsess(uint64_t);

/*
 * The domain of the address smtpd passes ("<user@domain>" or
 * "user@domain", maybe followed by parameters), lower case. -1 when the
 * address has no domain.
 */
static int
rcpt_domain(const char *param, char *out, size_t outsz)
{
	const char	*s = param, *e, *at;
	size_t		 n;

	while (*s == ' ')
		s++;
	if (*s == '<')
		s++;
	e = s + strcspn(s, "> ");
	for (at = NULL; s < e; s++)
		if (*s == '@')
			at = s;
	if (at == NULL || (n = (size_t)(e - at - 1)) == 0 || n >= outsz)
		return -1;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return 0;
}

static struct rsess **
rcpt_rsess(uint64_t reqid)
{
	struct rsess	**p;

	for (p = &rsess_list; *p != NULL; p = &(*p)->next)
		if ((*p)->reqid == reqid)
			break;
	return p;
}

/* tx-mail: msgid|result|address (0.6 and later; address|result before) */
void
rcpt_on_mail(const struct proto_line *l)
{
	const char	*f1, *f2, *addr;
	struct rsess	**p, *s;
	int		 report;

	if ((f1 = strchr(l->params, '|')) == NULL ||
	    (f2 = strchr(++f1, '|')) == NULL)
		return;
	f2++;
	addr = (strncmp(f1, "ok|", 3) == 0 || strncmp(f1, "permfail|", 9) ==
	    0 || strncmp(f1, "tempfail|", 9) == 0) ? f2 : f1;
	report = smtpout_is_report_sender(addr);
	p = rcpt_rsess(l->reqid);
	if (!report && *p != NULL) {
		s = *p;
		*p = s->next;
		free(s);
	} else if (report && *p == NULL &&
	    (s = calloc(1, sizeof(*s))) != NULL) {
		s->reqid = l->reqid;
		*p = s;
	}
}

void
rcpt_on_filter(const struct proto_line *l)
{
	struct rcpt	*r;
	char		 domain[MTASTS_NAME_MAX + 2];
	int		 rc;

	if (*rcpt_rsess(l->reqid) != NULL) {
		filter_log(MTASTS_LOG_INFO, "session %016llx: report mail "
		    "(sender %s@): not held for MTA-STS",
		    (unsigned long long)l->reqid, MTASTS_REPORT_SENDER);
		if (proto_result_proceed(l->vmajor, l->vminor, l->reqid,
		    l->token) == -1)
			filter_stop();
		return;
	}
	if (rcpt_domain(l->params, domain, sizeof(domain)) == -1) {
		filter_log(MTASTS_LOG_DEBUG, "session %016llx: no domain in"
		    " recipient; proceeding", (unsigned long long)l->reqid);
		if (proto_result_proceed(l->vmajor, l->vminor, l->reqid,
		    l->token) == -1)
			filter_stop();
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		filter_log(MTASTS_LOG_ERR, "out of memory");
		if (proto_result_reject(l->vmajor, l->vminor, l->reqid,
		    l->token, "451 4.3.0 MTA-STS check: out of memory") == -1)
			filter_stop();
		return;
	}
	r->reqid = l->reqid;
	r->token = l->token;
	r->vmajor = l->vmajor;
	r->vminor = l->vminor;
	if (mtasts_name_normalize(domain, 0, r->domain) != MTASTS_OK) {
		/* an address literal or junk: no MTA-STS for it */
		filter_log(MTASTS_LOG_INFO, "recipient domain \"%s\" is not"
		    " a host name: no MTA-STS policy applies", domain);
		rcpt_proceed(r);
		rcpt_free(r);
		return;
	}
	r->next = rcpt_list;
	rcpt_list = r;
	rc = mtasts_resolve_async(filter.ctx, r->domain, rcpt_on_policy, r);
	if (rc != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "%s: cannot resolve policy: %s;"
		    " proceeding", r->domain, mtasts_strerror(rc));
		rcpt_proceed(r);
		rcpt_free(r);
	}
}

void
rcpt_on_disconnect(uint64_t reqid)
{
	struct rcpt	*r;
	struct rsess	**p, *s;

	if (*(p = rcpt_rsess(reqid)) != NULL) {
		s = *p;
		*p = s->next;
		free(s);
	}

	for (r = rcpt_list; r != NULL; r = r->next)
		if (r->reqid == reqid)
			r->cancelled = 1;
}

static void
rcpt_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	struct rcpt	*r = arg;
	char		**hosts;
	size_t		  n;

	if (err != MTASTS_OK && filter.closing) {
		filter_log(MTASTS_LOG_INFO, "%s: policy lookup cancelled: "
		    "the filter is exiting", r->domain);
		rcpt_free(r);
		return;
	}
	if (err != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "%s: policy lookup failed: %s;"
		    " proceeding", r->domain, mtasts_strerror(err));
		rcpt_proceed(r);
		rcpt_free(r);
		return;
	}
	r->ans = *ans;
	memset(ans, 0, sizeof(*ans));
	if (r->ans.mode == MTASTS_MODE_NONE) {
		if (r->ans.temperror)
			filter_log(MTASTS_LOG_WARN, "%s: no policy could be "
			    "had (%s); delivering as without MTA-STS",
			    r->domain, r->ans.why);
		else
			filter_log(MTASTS_LOG_DEBUG, "%s: mode none (%s, %s)",
			    r->domain, mtasts_source_name(r->ans.source),
			    r->ans.why);
		rcpt_table_sync(r->domain, 0);
		rcpt_proceed(r);
		rcpt_free(r);
		return;
	}
	if (mxcache_get(r->domain, &hosts, &n)) {
		rcpt_on_mx(r, MTASTS_OK, hosts, n);
		return;
	}
	if (mtasts_mx_lookup_async(filter.ctx, r->domain, rcpt_on_mx_dns,
	    r) != MTASTS_OK)
		rcpt_on_mx(r, MTASTS_ENOMEM, NULL, 0);
}

/* An MX set from DNS: keep it for the next recipients, then decide. */
static void
rcpt_on_mx_dns(void *arg, int err, char **hosts, size_t n)
{
	struct rcpt	*r = arg;

	if (err == MTASTS_OK)
		mxcache_put(r->domain, hosts, n);
	rcpt_on_mx(r, err, hosts, n);
	mtasts_mx_free(hosts, n);	/* ours: the engine handed it over */
}

static void
rcpt_on_mx(void *arg, int err, char **hosts, size_t n)
{
	struct rcpt	*r = arg;

	if (err != MTASTS_OK && filter.closing) {
		/* mtasts_ctx_close(): smtpd is gone, nobody waits for us */
		filter_log(MTASTS_LOG_INFO, "%s: MX lookup cancelled: the "
		    "filter is exiting", r->domain);
		rcpt_free(r);
		return;
	}
	if (r->ans.mode == MTASTS_MODE_ENFORCE)
		rcpt_enforce(r, err, hosts, n);
	else
		rcpt_testing(r, err, hosts, n);
	rcpt_free(r);
}

/*
 * The core's verdict on MX host mx (dane: smtpd does not do it). It
 * cannot fail for a host name; if it did, the host is taken as outside
 * the policy and refused (fail closed).
 */
static void
rcpt_verdict(const struct rcpt *r, const char *mx,
    struct mtasts_mx_verdict *v)
{
	if (mtasts_mx_verdict(&r->ans, mx, 0, v) == MTASTS_OK)
		return;
	memset(v, 0, sizeof(*v));
	v->verdict = MTASTS_MX_REFUSE;
	v->refuse = 1;
	v->result = MTASTS_RESULT_VALIDATION_FAILURE;
	snprintf(v->detail, sizeof(v->detail), "no verdict on MX host %s",
	    mx);
}

/*
 * Asks the core about every host of the set, counts those outside the
 * policy's patterns and keeps the verdict on the first of them. The set
 * is written with a mark on each host outside into s->text, only for
 * the log and the reply: when it is full it ends with "... and N more"
 * and the count goes on.
 */
static void
rcpt_hosts(const struct rcpt *r, char **hosts, size_t n, struct mxset *s)
{
	struct mtasts_mx_verdict	 v;
	size_t				 i, len = 0, shown = 0;
	int				 k;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		rcpt_verdict(r, hosts[i], &v);
		if (v.match == 0 && s->outside++ == 0) {
			s->first = hosts[i];
			s->v = v;
		}
		if (shown < i)
			continue;	/* the text is full */
		k = snprintf(s->text + len, sizeof(s->text) - len, "%s%s%s",
		    i ? ", " : "", hosts[i], v.match == 0 ? " (no match)" : "");
		if (k >= 0 && (size_t)k < sizeof(s->text) - len - HOSTS_MORE) {
			len += (size_t)k;
			shown++;
		} else
			s->text[len] = '\0';
	}
	if (shown < n)
		snprintf(s->text + len, sizeof(s->text) - len,
		    "%s... and %zu more", shown ? ", " : "", n - shown);
	if (n == 0)
		snprintf(s->text, sizeof(s->text), "none");
}

/*
 * Enforce, and some hosts are outside the policy (or there are none):
 * refuses (or, log-only, logs) and returns 1; 0 when the set may be
 * routed (every host matches, or -M accepts a mixed set).
 */
static int
rcpt_enforce_outside(struct rcpt *r, size_t n, const struct mxset *s)
{
	int	refuse = n == 0 ? !r->ans.log_only : s->v.refuse;

	if (n > 0 && s->outside == 0)
		return 0;
	if (n > 0 && s->outside < n && filter.allow_mixed) {
		filter_log(MTASTS_LOG_WARN, "%s: enforce: %zu of %zu MX hosts "
		    "match no pattern; accepted because of -M: smtpd may "
		    "deliver to them if their certificate is valid; MX: %s; "
		    "%s", r->domain, s->outside, n, s->text, s->v.detail);
		return 0;
	}
	if (!refuse) {
		if (s->outside == n)
			filter_log(MTASTS_LOG_WARN, "%s: log-only: would refuse"
			    " (enforce): no MX host matches the policy's mx "
			    "patterns; MX: %s%s%s", r->domain, s->text,
			    n ? "; " : "", s->v.detail);
		else
			filter_log(MTASTS_LOG_WARN, "%s: log-only: would refuse"
			    " (enforce): %zu of %zu MX hosts match no pattern "
			    "and smtpd cannot be kept from them; MX: %s; %s",
			    r->domain, s->outside, n, s->text, s->v.detail);
		rcpt_table_sync(r->domain, 0);
		rcpt_proceed(r);
		return 1;
	}
	smtpout_refused(r->domain, s->first, n ? &s->v : NULL);
	if (s->outside == n)
		rcpt_reject(r, "451 4.7.5 MTA-STS: no MX host of %s matches "
		    "its enforce policy (MX: %s); the domain's owner must fix"
		    " its MX records or its mta-sts.txt; mail is held",
		    r->domain, s->text);
	else	/* smtpd would also use the hosts outside: fail closed */
		rcpt_reject(r, "451 4.7.5 MTA-STS: %zu of %zu MX hosts of %s "
		    "match no pattern of its enforce policy and this MTA "
		    "cannot exclude them at delivery (MX: %s); the domain's "
		    "owner must fix its MX records or its mta-sts.txt; mail "
		    "is held", s->outside, n, r->domain, s->text);
	return 1;
}

static void
rcpt_enforce(struct rcpt *r, int err, char **hosts, size_t n)
{
	struct mxset	s;

	if (err != MTASTS_OK) {
		if (r->ans.log_only) {
			filter_log(MTASTS_LOG_WARN, "%s: log-only: would refuse"
			    " (enforce): cannot look up its MX hosts: %s",
			    r->domain, mtasts_strerror(err));
			goto proceed;
		}
		rcpt_reject(r, "451 4.7.5 MTA-STS: %s has an enforce policy "
		    "and its MX hosts cannot be looked up (%s); try again "
		    "later", r->domain, mtasts_strerror(err));
		return;
	}
	rcpt_hosts(r, hosts, n, &s);
	if (rcpt_enforce_outside(r, n, &s))
		return;
	if (r->ans.log_only) {
		filter_log(MTASTS_LOG_INFO, "%s: log-only: enforce policy "
		    "would require TLS to %s; not routed", r->domain, s.text);
		goto proceed;
	}
	if (rcpt_table_sync(r->domain, 1) == -1) {
		rcpt_reject(r, "451 4.7.5 MTA-STS: %s has an enforce policy "
		    "and the routing table cannot be updated; try again "
		    "later", r->domain);
		return;
	}
	filter_log(MTASTS_LOG_INFO, "%s: enforce (%s): relayed with "
	    "mandatory verified TLS; MX: %s", r->domain,
	    mtasts_source_name(r->ans.source), s.text);
	smtpout_expect(r->domain, 1, hosts, n);
	rcpt_proceed(r);
	return;
proceed:
	rcpt_table_sync(r->domain, 0);
	rcpt_proceed(r);
}

static void
rcpt_testing(struct rcpt *r, int err, char **hosts, size_t n)
{
	struct mxset	s;

	rcpt_table_sync(r->domain, 0);
	if (err == MTASTS_OK)
		smtpout_expect(r->domain, 0, hosts, n);
	if (err != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "%s: testing: cannot look up its "
		    "MX hosts (%s); delivering", r->domain,
		    mtasts_strerror(err));
		rcpt_proceed(r);
		return;
	}
	rcpt_hosts(r, hosts, n, &s);
	if (s.outside > 0)
		filter_log(MTASTS_LOG_WARN, "%s: testing: %zu of %zu MX hosts"
		    " match no pattern and would be refused under enforce; "
		    "delivering; MX: %s; %s", r->domain, s.outside, n, s.text,
		    s.v.detail);
	else
		filter_log(MTASTS_LOG_INFO, "%s: testing: MX hosts match; "
		    "delivering, TLS not required; MX: %s", r->domain,
		    n ? s.text : "");
	rcpt_proceed(r);
}

int
rcpt_table_sync(const char *domain, int enforce)
{
	if (enforce) {
		if (table_has(filter.table, domain))
			return 0;
		if (table_add(filter.table, domain) == -1)
			return -1;
		filter_log(MTASTS_LOG_INFO, "%s: added to the routing table",
		    domain);
		return 0;
	}
	if (!table_has(filter.table, domain))
		return 0;
	if (table_del(filter.table, domain) == -1)
		return -1;
	filter_log(MTASTS_LOG_INFO, "%s: removed from the routing table",
	    domain);
	return 0;
}

static void
rcpt_proceed(struct rcpt *r)
{
	if (r->cancelled)
		return;
	if (proto_result_proceed(r->vmajor, r->vminor, r->reqid, r->token) ==
	    -1)
		filter_stop();
}

static void
rcpt_reject(struct rcpt *r, const char *fmt, ...)
{
	char	reply[REPLY_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reply, sizeof(reply), fmt, ap);
	va_end(ap);
	filter_log(MTASTS_LOG_WARN, "%s: refused: %s", r->domain, reply);
	if (r->cancelled)
		return;
	if (proto_result_reject(r->vmajor, r->vminor, r->reqid, r->token,
	    reply) == -1)
		filter_stop();
}

/* Unlinks r from the list (when linked) and frees it. */
static void
rcpt_free(struct rcpt *r)
{
	struct rcpt	**p;

	for (p = &rcpt_list; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	mtasts_answer_clear(&r->ans);
	free(r);
}

void
rcpt_close(void)
{
	struct rsess	*s;

	while ((s = rsess_list) != NULL) {
		rsess_list = s->next;
		free(s);
	}
	while (rcpt_list != NULL)
		rcpt_free(rcpt_list);
}
