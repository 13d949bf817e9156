/*
 * smtpout.c - smtp-out reports: what smtpd did when it relayed, and the
 * TLS-RPT (RFC 8460) result of each outgoing session, recorded with
 * mtasts_tlsrpt_record() (a failure to record is only logged).
 *
 * One record per outgoing session (link-connect .. link-disconnect)
 * holds the MX address, its TLS parameters, the envelope sender and the
 * recipient domains. At link-disconnect:
 *	report mail (sender MTASTS_REPORT_SENDER): nothing is recorded;
 *	recipients were sent: the core's session verdict
 *	    (mtasts_session_verdict()) on the MX host under the domain's
 *	    answer, over TLS or in clear: success, starttls-not-supported,
 *	    or validation-failure with the core's detail when the host
 *	    matches no pattern of the policy. smtpd reports nothing about
 *	    certificate checks, so TLS that carried a transaction counts as
 *	    verified (under "relay tls" smtpd did verify it);
 *	no transaction: the session is matched by its MX address to an
 *	    enforce domain accepted at RCPT TO (smtpd relays those with
 *	    "relay tls"): a failed TLS negotiation is validation-failure
 *	    (smtpd does not report why); EHLO without TLS is
 *	    starttls-not-supported; anything else (connection failed, no
 *	    greeting) is not a TLS result.
 * A failed TLS negotiation is a STARTTLS that the MX host answered with
 * 2xx (protocol-client, protocol-server), or a link-tls, followed by no
 * transaction. smtpd 6.8 reports link-tls before it checks the
 * certificate; 7.6 reports no link-tls at all when the check fails, so
 * the STARTTLS answer is what both have in common.
 * The policy type comes from resolving the domain (the cache answers):
 * sts with a policy, no-policy-found without; the same answer is what
 * the session verdict is asked under. This file matches no pattern and
 * writes no detail about a host outside the policy: the core does both.
 *
 * The MX addresses of the domains accepted at RCPT TO are looked up
 * through the engine's resolver (mtasts_addrs_lookup_async), without
 * blocking,
 * only when a host is new to the domain's entry or its addresses are
 * older than EXP_ADDR_TTL (5 minutes; 30 s after a failed lookup): a
 * per-host cache inside the EXP_MAX entries, so bounded as they are.
 * An address change is thus seen within 5 minutes.
 */

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "filter.h"
#include "proto.h"
#include "table.h"

#define OUT_DOMAINS	8	/* recipient domains remembered */
#define EXP_MAX		1024	/* domains remembered from RCPT TO */
#define EXP_HOSTS	8	/* MX hosts per domain */
#define EXP_ADDRS	8	/* addresses per MX host */
#define EXP_TTL		(5 * 86400)	/* smtpd keeps mail 4 days */
#define EXP_ADDR_TTL	300	/* seconds an MX host's addresses are kept */
#define EXP_ADDR_RETRY	30	/* seconds before a failed lookup is redone */
#define ADDR_MAX	64	/* an address in text */

struct out {
	uint64_t	 reqid;
	char		 dst[128];	/* MX address:port */
	char		 src[128];	/* our address:port */
	char		 rdns[MTASTS_NAME_MAX + 1];
	char		 tls[256];	/* link-tls text, "" without TLS */
	char		 domain[OUT_DOMAINS][MTASTS_NAME_MAX + 1];
	size_t		 ndomain;
	int		 identified;	/* EHLO/HELO sent */
	int		 starttls;	/* STARTTLS: 1 sent, 2 accepted (2xx),
					   3 refused */
	int		 report_mail;	/* sent by the report sender */
	unsigned	 ok;		/* recipients accepted */
	unsigned	 committed;	/* messages committed */
	struct out	*next;
};

struct exp_host {
	char		 name[MTASTS_NAME_MAX + 1];
	char		 addr[EXP_ADDRS][ADDR_MAX];
	size_t		 naddr;
	time_t		 fresh_until;	/* addresses (or lookup) good till */
};

/* A policy domain accepted at RCPT TO, with its MX set. */
struct exp {
	char		 domain[MTASTS_NAME_MAX + 1];
	int		 enforce;
	time_t		 when;
	struct exp_host	 host[EXP_HOSTS];
	size_t		 nhost;
	unsigned	 gen;		/* bumped when reused */
	struct exp	*next;
};

/* One address lookup in flight, for host name of entry e. */
struct exp_q {
	struct exp	*e;
	unsigned	 gen;
	char		 name[MTASTS_NAME_MAX + 1];
};

/* One result waiting for the domain's answer: its policy type and, for
 * a session that carried a transaction, the core's verdict on it. */
struct rec {
	char		 domain[MTASTS_NAME_MAX + 1];
	char		 mx[MTASTS_NAME_MAX + 1];	/* "" unknown */
	char		 rip[ADDR_MAX], sip[ADDR_MAX];
	char		 detail[512];
	enum mtasts_result result;
	int		 judge;		/* result and detail are the core's
					   session verdict, made on arrival
					   of the answer */
	enum mtasts_tls	 tls;		/* what the session showed (judge) */
};

static struct out		*out_list;
static struct exp		*exp_list;
static size_t			 exp_count;

static struct out	*smtpout_find(uint64_t, int);
static void		 smtpout_copy(char *, size_t, const char *);
static void		 smtpout_addr(char *, size_t, const char *);
static void		 smtpout_rcpt(struct out *, const char *);
static void		 smtpout_mail(struct out *, const char *);
static void		 smtpout_protocol(struct out *, int, const char *);
static void		 smtpout_end(struct out *);
static void		 smtpout_tlsrpt_result(const struct out *,
			    const char *);
static void		 smtpout_tlsrpt_orphan(const struct out *);
static struct exp	*smtpout_exp_find(const char *);
static struct exp	*smtpout_exp_by_addr(const char *, size_t *);
static void		 smtpout_exp_hosts(struct exp *, char **, size_t);
static void		 smtpout_exp_resolve(struct exp *, size_t);
static void		 smtpout_exp_on_addr(void *, int, char **, size_t);
static struct rec	*smtpout_rec(const char *, const char *,
			    const char *, const char *);
static void		 smtpout_record(const char *, const char *,
			    const char *, const char *, enum mtasts_result,
			    const char *);
static void		 smtpout_judge(const char *, const char *,
			    const char *, const char *, enum mtasts_tls);
static void		 smtpout_rec_start(struct rec *);
static void		 smtpout_verdict(struct rec *,
			    const struct mtasts_answer *);
static void		 smtpout_on_policy(void *, int,
			    struct mtasts_answer *);

static struct out *
smtpout_find(uint64_t reqid, int create)
{
	struct out	*o;

	for (o = out_list; o != NULL; o = o->next)
		if (o->reqid == reqid)
			return o;
	if (!create || (o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->reqid = reqid;
	o->next = out_list;
	out_list = o;
	return o;
}

static void
smtpout_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

/* "1.2.3.4:25", "[::1]:25" or "::1" to the bare address. */
static void
smtpout_addr(char *out, size_t outsz, const char *hostport)
{
	const char	*e;
	size_t		 n;

	if (hostport[0] == '[') {
		hostport++;
		e = strchr(hostport, ']');
	} else if ((e = strrchr(hostport, ':')) != NULL &&
	    strchr(hostport, ':') != e)
		e = NULL;	/* bare IPv6 address */
	n = e != NULL ? (size_t)(e - hostport) : strlen(hostport);
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, hostport, n);
	out[n] = '\0';
}

int
smtpout_is_report_sender(const char *addr)
{
	size_t	n = strlen(MTASTS_REPORT_SENDER);

	while (*addr == ' ' || *addr == '<')
		addr++;
	return strncasecmp(addr, MTASTS_REPORT_SENDER, n) == 0 &&
	    addr[n] == '@';
}

/* tx-rcpt: msgid|result|address (protocol 0.6 and later) */
static void
smtpout_rcpt(struct out *o, const char *params)
{
	const char	*result, *addr, *at;
	char		 dom[MTASTS_NAME_MAX + 1];
	size_t		 i;

	if ((result = strchr(params, '|')) == NULL)
		return;
	result++;
	if ((addr = strchr(result, '|')) == NULL)
		return;
	addr++;
	if (strncmp(result, "ok|", 3) == 0)
		o->ok++;
	if ((at = strrchr(addr, '@')) == NULL ||
	    mtasts_name_normalize(at + 1, 0, dom) != MTASTS_OK)
		return;
	for (i = 0; i < o->ndomain; i++)
		if (strcmp(o->domain[i], dom) == 0)
			return;
	if (o->ndomain < OUT_DOMAINS)
		smtpout_copy(o->domain[o->ndomain++], sizeof(o->domain[0]), dom);
}

/* tx-mail: msgid|result|address (0.6 and later; address|result before) */
static void
smtpout_mail(struct out *o, const char *params)
{
	const char	*f1, *f2;

	if ((f1 = strchr(params, '|')) == NULL ||
	    (f2 = strchr(++f1, '|')) == NULL)
		return;
	f2++;
	if (smtpout_is_report_sender(f1) || smtpout_is_report_sender(f2))
		o->report_mail = 1;
}

/*
 * protocol-client (a command we sent) and protocol-server (a reply line):
 * follows STARTTLS and the reply to it. A multi-line reply ("220-")
 * decides on its last line.
 */
static void
smtpout_protocol(struct out *o, int client, const char *line)
{
	if (client) {
		if (strncasecmp(line, "STARTTLS", 8) == 0 &&
		    (line[8] == '\0' || line[8] == ' '))
			o->starttls = 1;
		return;
	}
	if (o->starttls != 1 || strlen(line) < 4 || line[3] == '-')
		return;
	o->starttls = line[0] == '2' ? 2 : 3;
}

void
smtpout_on_report(const struct proto_line *l)
{
	struct out	*o;
	const char	*p;
	char		 buf[256];

	if ((o = smtpout_find(l->reqid, 1)) == NULL)
		return;
	if (strcmp(l->event, "link-connect") == 0) {
		/* rdns|fcrdns|src|dst */
		smtpout_copy(o->rdns, sizeof(o->rdns), l->params);
		if ((p = strchr(o->rdns, '|')) != NULL)
			o->rdns[p - o->rdns] = '\0';
		if ((p = strrchr(l->params, '|')) != NULL)
			smtpout_copy(o->dst, sizeof(o->dst), p + 1);
		smtpout_copy(buf, sizeof(buf), l->params);
		if ((p = strrchr(buf, '|')) != NULL) {
			buf[p - buf] = '\0';
			if ((p = strrchr(buf, '|')) != NULL)
				smtpout_copy(o->src, sizeof(o->src), p + 1);
		}
	} else if (strcmp(l->event, "link-identify") == 0)
		o->identified = 1;
	else if (strcmp(l->event, "link-tls") == 0) {
		smtpout_copy(o->tls, sizeof(o->tls), l->params);
		filter_log(MTASTS_LOG_INFO, "smtp-out %016llx: TLS with %s:"
		    " %s", (unsigned long long)o->reqid, o->dst, o->tls);
	} else if (strcmp(l->event, "protocol-client") == 0)
		smtpout_protocol(o, 1, l->params);
	else if (strcmp(l->event, "protocol-server") == 0)
		smtpout_protocol(o, 0, l->params);
	else if (strcmp(l->event, "tx-mail") == 0)
		smtpout_mail(o, l->params);
	else if (strcmp(l->event, "tx-rcpt") == 0)
		smtpout_rcpt(o, l->params);
	else if (strcmp(l->event, "tx-commit") == 0)
		o->committed++;
	else if (strcmp(l->event, "link-disconnect") == 0)
		smtpout_end(o);
}

/* The session is over: log it, hand its TLS result on, forget it. */
static void
smtpout_end(struct out *o)
{
	struct out	**p;
	size_t		  i;
	const char	 *mode;

	for (i = 0; i < o->ndomain; i++) {
		mode = table_has(filter.table, o->domain[i]) ?
		    "enforce-routed" : "not-routed";
		filter_log(MTASTS_LOG_INFO, "delivery to %s via %s (%s): %s,"
		    " %u message(s) sent, %s", o->domain[i],
		    o->rdns[0] ? o->rdns : "?", o->dst[0] ? o->dst : "?",
		    o->tls[0] ? o->tls : "no TLS", o->committed, mode);
		if (!o->report_mail)
			smtpout_tlsrpt_result(o, o->domain[i]);
	}
	if (o->report_mail)
		filter_log(MTASTS_LOG_DEBUG, "tlsrpt: report mail via %s: not"
		    " recorded", o->dst);
	else if (o->ndomain == 0)
		smtpout_tlsrpt_orphan(o);
	for (p = &out_list; *p != NULL; p = &(*p)->next)
		if (*p == o) {
			*p = o->next;
			break;
		}
	free(o);
}

/* A session that sent recipients of domain: the MX host is the one of
 * the domain's MX set that has the session's address, if any. */
static void
smtpout_tlsrpt_result(const struct out *o, const char *domain)
{
	struct exp	*e;
	const char	*mx = NULL;
	char		 rip[ADDR_MAX], sip[ADDR_MAX];
	size_t		 h, a;

	smtpout_addr(rip, sizeof(rip), o->dst);
	smtpout_addr(sip, sizeof(sip), o->src);
	if ((e = smtpout_exp_find(domain)) != NULL)
		for (h = 0; h < e->nhost && mx == NULL; h++)
			for (a = 0; a < e->host[h].naddr; a++)
				if (strcmp(e->host[h].addr[a], rip) == 0) {
					mx = e->host[h].name;
					break;
				}
	smtpout_judge(domain, mx, rip, sip, o->tls[0] != '\0' ?
	    MTASTS_TLS_VERIFIED : MTASTS_TLS_NONE);
}

/*
 * A session without a transaction: under "relay tls" smtpd stops before
 * MAIL FROM when STARTTLS is missing or the certificate is refused. The
 * domain is the enforce domain that has this MX address.
 */
static void
smtpout_tlsrpt_orphan(const struct out *o)
{
	struct exp	*e;
	char		 rip[ADDR_MAX], sip[ADDR_MAX];
	size_t		 h = 0;

	smtpout_addr(rip, sizeof(rip), o->dst);
	smtpout_addr(sip, sizeof(sip), o->src);
	if ((e = smtpout_exp_by_addr(rip, &h)) == NULL) {
		filter_log(MTASTS_LOG_DEBUG, "tlsrpt: session %016llx to %s "
		    "without a transaction: no enforce domain has that MX "
		    "address; not recorded", (unsigned long long)o->reqid,
		    o->dst);
		return;
	}
	if (o->tls[0] != '\0')
		smtpout_record(e->domain, e->host[h].name, rip, sip,
		    MTASTS_RESULT_VALIDATION_FAILURE,
		    "TLS verification failed (smtpd gave up after the TLS "
		    "handshake and does not report why)");
	else if (o->starttls == 2)
		smtpout_record(e->domain, e->host[h].name, rip, sip,
		    MTASTS_RESULT_VALIDATION_FAILURE,
		    "TLS negotiation failed (the MX host accepted STARTTLS, "
		    "then smtpd gave up before any transaction and does not "
		    "report why)");
	else if (o->identified)
		smtpout_record(e->domain, e->host[h].name, rip, sip,
		    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED, NULL);
	else
		filter_log(MTASTS_LOG_INFO, "tlsrpt: session to %s (%s) of %s"
		    " ended before EHLO: not a TLS result, not recorded",
		    e->host[h].name, o->dst, e->domain);
}

void
smtpout_refused(const char *domain, const char *mx,
    const struct mtasts_mx_verdict *v)
{
	char	detail[512];

	if (v == NULL) {
		smtpout_record(domain, NULL, NULL, NULL,
		    MTASTS_RESULT_VALIDATION_FAILURE, "the domain has no MX "
		    "host (null MX); refused at RCPT TO");
		return;
	}
	snprintf(detail, sizeof(detail), "%s; refused at RCPT TO", v->detail);
	smtpout_record(domain, mx, NULL, NULL, v->result, detail);
}

/* A new result for domain (mx, rip, sip may be NULL), or NULL when out
 * of memory (logged). */
static struct rec *
smtpout_rec(const char *domain, const char *mx, const char *rip,
    const char *sip)
{
	struct rec	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: out of memory; not "
		    "recorded", domain);
		return NULL;
	}
	smtpout_copy(r->domain, sizeof(r->domain), domain);
	smtpout_copy(r->mx, sizeof(r->mx), mx ? mx : "");
	smtpout_copy(r->rip, sizeof(r->rip), rip ? rip : "");
	smtpout_copy(r->sip, sizeof(r->sip), sip ? sip : "");
	return r;
}

/* Records a result known now, once the domain's policy type is known. */
static void
smtpout_record(const char *domain, const char *mx, const char *rip,
    const char *sip, enum mtasts_result result, const char *detail)
{
	struct rec	*r;

	if ((r = smtpout_rec(domain, mx, rip, sip)) == NULL)
		return;
	smtpout_copy(r->detail, sizeof(r->detail), detail ? detail : "");
	r->result = result;
	smtpout_rec_start(r);
}

/* Records the core's verdict on a session with MX host mx (NULL: not
 * known) that showed tls, under the domain's answer. */
static void
smtpout_judge(const char *domain, const char *mx, const char *rip,
    const char *sip, enum mtasts_tls tls)
{
	struct rec	*r;

	if ((r = smtpout_rec(domain, mx, rip, sip)) == NULL)
		return;
	r->judge = 1;
	r->tls = tls;
	smtpout_rec_start(r);
}

/* Resolves the domain's policy (the cache answers), then records. */
static void
smtpout_rec_start(struct rec *r)
{
	int	rc;

	rc = mtasts_resolve_async(filter.ctx, r->domain, smtpout_on_policy, r);
	if (rc != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: %s; not recorded",
		    r->domain, mtasts_strerror(rc));
		free(r);
	}
}

/*
 * The core's verdict on r's session under ans (NULL: no answer). A host
 * not known from RCPT TO, or no answer, leaves no patterns to judge the
 * host by: the session alone decides, as without a policy.
 */
static void
smtpout_verdict(struct rec *r, const struct mtasts_answer *ans)
{
	struct mtasts_answer		 none;
	struct mtasts_session_verdict	 sv;

	if (ans == NULL || r->mx[0] == '\0') {
		memset(&none, 0, sizeof(none));
		none.mode = MTASTS_MODE_NONE;
		ans = &none;
	}
	if (mtasts_session_verdict(ans, r->mx[0] ? r->mx : r->rip, 0, r->tls,
	    NULL, time(NULL), &sv) != MTASTS_OK) {
		/* cannot happen: every argument is set */
		r->result = MTASTS_RESULT_VALIDATION_FAILURE;
		smtpout_copy(r->detail, sizeof(r->detail), "no verdict");
		return;
	}
	r->result = sv.result;
	smtpout_copy(r->detail, sizeof(r->detail), sv.detail);
}

static void
smtpout_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	struct rec			*r = arg;
	struct mtasts_tlsrpt_result	 res;
	int				 rc;

	if (r->judge)
		smtpout_verdict(r, err == MTASTS_OK ? ans : NULL);
	memset(&res, 0, sizeof(res));
	res.domain = r->domain;
	res.policy_type = err == MTASTS_OK && ans->policy != NULL ?
	    MTASTS_POLICY_STS : MTASTS_POLICY_NONE_FOUND;
	res.mx_host = r->mx[0] ? r->mx : NULL;
	res.receiving_ip = r->rip[0] ? r->rip : NULL;
	res.sending_ip = r->sip[0] ? r->sip : NULL;
	res.result = r->result;
	res.detail = r->detail[0] ? r->detail : NULL;
	res.answer = err == MTASTS_OK ? ans : NULL;
	if ((rc = mtasts_tlsrpt_record(filter.ctx, &res)) != MTASTS_OK)
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: cannot record %s: %s",
		    r->domain, mtasts_result_name(r->result),
		    mtasts_strerror(rc));
	else
		filter_log(MTASTS_LOG_INFO, "tlsrpt: recorded %s %s for %s "
		    "(MX %s [%s])%s%s",
		    res.policy_type == MTASTS_POLICY_STS ? "sts" :
		    "no-policy-found", mtasts_result_name(r->result),
		    r->domain, r->mx[0] ? r->mx : "?", r->rip[0] ? r->rip :
		    "?", r->detail[0] ? ": " : "", r->detail);
	mtasts_answer_clear(ans);	/* the callee owns it (mtasts.h) */
	free(r);
}

static struct exp *
smtpout_exp_find(const char *domain)
{
	struct exp	*e;

	for (e = exp_list; e != NULL; e = e->next)
		if (strcmp(e->domain, domain) == 0)
			return e;
	return NULL;
}

/* The most recently accepted live enforce domain with MX address addr. */
static struct exp *
smtpout_exp_by_addr(const char *addr, size_t *hp)
{
	struct exp	*e, *best = NULL;
	time_t		 now = time(NULL);
	size_t		 h, a;

	for (e = exp_list; e != NULL; e = e->next) {
		if (!e->enforce || now - e->when > EXP_TTL ||
		    (best != NULL && best->when >= e->when))
			continue;
		for (h = 0; h < e->nhost; h++)
			for (a = 0; a < e->host[h].naddr; a++)
				if (strcmp(e->host[h].addr[a], addr) == 0) {
					best = e;
					*hp = h;
				}
	}
	return best;
}

/*
 * Keeps what e knows of the MX hosts that are still in hosts (their
 * addresses and when to look them up again), in the new order.
 */
static void
smtpout_exp_hosts(struct exp *e, char **hosts, size_t n)
{
	struct exp_host	 old[EXP_HOSTS];
	size_t		 i, j, nold = e->nhost;

	memcpy(old, e->host, nold * sizeof(old[0]));
	e->nhost = n < EXP_HOSTS ? n : EXP_HOSTS;
	for (i = 0; i < e->nhost; i++) {
		for (j = 0; j < nold; j++)
			if (strcmp(old[j].name, hosts[i]) == 0)
				break;
		if (j < nold)
			e->host[i] = old[j];
		else {
			memset(&e->host[i], 0, sizeof(e->host[i]));
			smtpout_copy(e->host[i].name,
			    sizeof(e->host[i].name), hosts[i]);
		}
	}
}

void
smtpout_expect(const char *domain, int enforce, char **hosts, size_t n)
{
	struct exp	*e, **pp, *old;
	time_t		 now = time(NULL);
	size_t		 i;

	if ((e = smtpout_exp_find(domain)) == NULL) {
		if (exp_count >= EXP_MAX) {
			/* reuse the oldest */
			for (old = e = exp_list; e != NULL; e = e->next)
				if (e->when < old->when)
					old = e;
			for (pp = &exp_list; *pp != old; pp = &(*pp)->next)
				;
			*pp = old->next;
			exp_count--;
			e = old;
			e->gen++;
			e->nhost = 0;
		} else if ((e = calloc(1, sizeof(*e))) == NULL)
			return;
		smtpout_copy(e->domain, sizeof(e->domain), domain);
		e->next = exp_list;
		exp_list = e;
		exp_count++;
	}
	e->enforce = enforce;
	e->when = now;
	smtpout_exp_hosts(e, hosts, n);
	for (i = 0; i < e->nhost; i++)
		if (e->host[i].fresh_until <= now) {
			e->host[i].fresh_until = now + EXP_ADDR_TTL;
			smtpout_exp_resolve(e, i);
		}
}

static void
smtpout_exp_resolve(struct exp *e, size_t h)
{
	struct exp_q	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return;
	q->e = e;
	q->gen = e->gen;
	smtpout_copy(q->name, sizeof(q->name), e->host[h].name);
	/* the callback frees q, also when it runs at once */
	if (mtasts_addrs_lookup_async(filter.ctx, q->name, smtpout_exp_on_addr,
	    q) != MTASTS_OK)
		free(q);
}

static void
smtpout_exp_on_addr(void *arg, int err, char **addrs, size_t n)
{
	struct exp_q	*q = arg;
	struct exp_host	*h = NULL;
	size_t		 i;

	if (q->e->gen == q->gen)
		for (i = 0; i < q->e->nhost && h == NULL; i++)
			if (strcmp(q->e->host[i].name, q->name) == 0)
				h = &q->e->host[i];
	if (h == NULL)
		goto done;
	if (err != MTASTS_OK) {
		filter_log(MTASTS_LOG_DEBUG, "tlsrpt: address lookup of %s "
		    "failed: %s", q->name, mtasts_strerror(err));
		h->fresh_until = time(NULL) + EXP_ADDR_RETRY;
		goto done;
	}
	h->naddr = 0;
	for (i = 0; i < n && h->naddr < EXP_ADDRS; i++)
		smtpout_copy(h->addr[h->naddr++], ADDR_MAX, addrs[i]);
	h->fresh_until = time(NULL) + EXP_ADDR_TTL;
	filter_log(MTASTS_LOG_DEBUG, "tlsrpt: %s: MX %s has %zu address(es)",
	    q->e->domain, h->name, h->naddr);
done:
	mtasts_mx_free(addrs, n);	/* ours: the engine handed it over */
	free(q);
}

void
smtpout_close(void)
{
	struct exp	*e;
	struct out	*o;

	while ((o = out_list) != NULL) {
		out_list = o->next;
		free(o);
	}
	while ((e = exp_list) != NULL) {
		exp_list = e->next;
		free(e);
	}
	exp_count = 0;
}
