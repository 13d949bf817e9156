/*
 * smtpout.c - smtp-out reports of the plain relay action: what smtpd did
 * when it relayed a domain WITHOUT an MTA-STS policy, and its TLS-RPT
 * (RFC 8460) no-policy-found result, recorded with mtasts_tlsrpt_record()
 * (a failure to record is only logged).
 *
 * Domains with a policy (enforce, testing) go to mtasts-relay(8), which
 * records their exact result itself; what smtpd's opportunistic relay
 * could tell about them (no certificate check, no reason for a refusal)
 * is not recorded here. What remains is the one thing only smtpd sees:
 * sessions to domains that publish no policy (a TLS-RPT record alone is
 * enough to want reports), for which any TLS is success and clear text
 * is starttls-not-supported (mtasts_session_verdict() without a policy).
 *
 * One record per outgoing session (link-connect .. link-disconnect)
 * holds the MX address, whether TLS was used, the envelope sender and
 * the recipient domains. At link-disconnect, for each recipient domain
 * (not for report mail, sender MTASTS_REPORT_SENDER): the domain is
 * resolved (the cache answers); with mode none the core's session
 * verdict is recorded (policy type sts for a mode-none policy,
 * no-policy-found without one); with a policy in force nothing is
 * recorded (the mail should have gone through the relay: logged).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "filter.h"
#include "proto.h"

#define OUT_DOMAINS	8	/* recipient domains remembered */
#define ADDR_MAX	64	/* an address in text */

struct out {
	uint64_t	 reqid;
	char		 dst[128];	/* MX address:port */
	char		 src[128];	/* our address:port */
	char		 rdns[MTASTS_NAME_MAX + 1];
	char		 tls[256];	/* link-tls text, "" without TLS */
	char		 domain[OUT_DOMAINS][MTASTS_NAME_MAX + 1];
	size_t		 ndomain;
	int		 report_mail;	/* sent by the report sender */
	unsigned	 committed;	/* messages committed */
	struct out	*next;
};

/* One session's result waiting for the domain's answer. */
struct rec {
	char		 domain[MTASTS_NAME_MAX + 1];
	char		 rip[ADDR_MAX], sip[ADDR_MAX];
	enum mtasts_tls	 tls;		/* what the session showed */
};

static struct out		*out_list;

static struct out	*smtpout_find(uint64_t, int);
static void		 smtpout_copy(char *, size_t, const char *);
static void		 smtpout_addr(char *, size_t, const char *);
static void		 smtpout_rcpt(struct out *, const char *);
static void		 smtpout_mail(struct out *, const char *);
static void		 smtpout_connect(struct out *, const char *);
static void		 smtpout_end(struct out *);
static void		 smtpout_result(const struct out *, const char *);
static void		 smtpout_on_policy(void *, int,
			    struct mtasts_answer *);
static void		 smtpout_record(const struct rec *,
			    const struct mtasts_answer *);

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

/* link-connect: rdns|fcrdns|src|dst */
static void
smtpout_connect(struct out *o, const char *params)
{
	char		 buf[256];
	const char	*p;

	smtpout_copy(o->rdns, sizeof(o->rdns), params);
	if ((p = strchr(o->rdns, '|')) != NULL)
		o->rdns[p - o->rdns] = '\0';
	if ((p = strrchr(params, '|')) != NULL)
		smtpout_copy(o->dst, sizeof(o->dst), p + 1);
	smtpout_copy(buf, sizeof(buf), params);
	if ((p = strrchr(buf, '|')) != NULL) {
		buf[p - buf] = '\0';
		if ((p = strrchr(buf, '|')) != NULL)
			smtpout_copy(o->src, sizeof(o->src), p + 1);
	}
}

void
smtpout_on_report(const struct proto_line *l)
{
	struct out	*o;

	if ((o = smtpout_find(l->reqid, 1)) == NULL)
		return;
	if (strcmp(l->event, "link-connect") == 0)
		smtpout_connect(o, l->params);
	else if (strcmp(l->event, "link-tls") == 0) {
		smtpout_copy(o->tls, sizeof(o->tls), l->params);
		filter_log(MTASTS_LOG_INFO, "smtp-out %016llx: TLS with %s:"
		    " %s", (unsigned long long)o->reqid, o->dst, o->tls);
	} else if (strcmp(l->event, "tx-mail") == 0)
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

	for (i = 0; i < o->ndomain; i++) {
		filter_log(MTASTS_LOG_INFO, "delivery to %s via %s (%s): %s,"
		    " %u message(s) sent", o->domain[i],
		    o->rdns[0] ? o->rdns : "?", o->dst[0] ? o->dst : "?",
		    o->tls[0] ? o->tls : "no TLS", o->committed);
		if (!o->report_mail)
			smtpout_result(o, o->domain[i]);
	}
	if (o->report_mail)
		filter_log(MTASTS_LOG_DEBUG, "tlsrpt: report mail via %s: not"
		    " recorded", o->dst);
	for (p = &out_list; *p != NULL; p = &(*p)->next)
		if (*p == o) {
			*p = o->next;
			break;
		}
	free(o);
}

/* A session that sent recipients of domain: resolve it, then record. */
static void
smtpout_result(const struct out *o, const char *domain)
{
	struct rec	*r;
	int		 rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: out of memory; not "
		    "recorded", domain);
		return;
	}
	smtpout_copy(r->domain, sizeof(r->domain), domain);
	smtpout_addr(r->rip, sizeof(r->rip), o->dst);
	smtpout_addr(r->sip, sizeof(r->sip), o->src);
	r->tls = o->tls[0] != '\0' ? MTASTS_TLS_VERIFIED : MTASTS_TLS_NONE;
	rc = mtasts_resolve_async(filter.ctx, r->domain, smtpout_on_policy, r);
	if (rc != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: %s; not recorded",
		    r->domain, mtasts_strerror(rc));
		free(r);
	}
}

static void
smtpout_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	struct rec	*r = arg;

	if (err != MTASTS_OK)
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: no answer (%s); not "
		    "recorded", r->domain, mtasts_strerror(err));
	else if (ans->mode != MTASTS_MODE_NONE)
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: policy in force "
		    "(%s) but relayed by smtpd, not by mtasts-relay (a rule "
		    "before the mtasts one?); not recorded", r->domain,
		    mtasts_mode_name(ans->mode));
	else
		smtpout_record(r, ans);
	mtasts_answer_clear(ans);	/* the callee owns it (mtasts.h) */
	free(r);
}

/* The core's verdict on r's session, without a policy in force. */
static void
smtpout_record(const struct rec *r, const struct mtasts_answer *ans)
{
	struct mtasts_session_verdict	 sv;
	struct mtasts_tlsrpt_result	 res;
	int				 rc;

	if (mtasts_session_verdict(ans, r->rip, 0, r->tls, NULL, time(NULL),
	    &sv) != MTASTS_OK) {
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: no verdict; not "
		    "recorded", r->domain);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.domain = r->domain;
	res.policy_type = ans->policy != NULL ? MTASTS_POLICY_STS :
	    MTASTS_POLICY_NONE_FOUND;
	res.receiving_ip = r->rip[0] ? r->rip : NULL;
	res.sending_ip = r->sip[0] ? r->sip : NULL;
	res.result = sv.result;
	res.detail = sv.detail[0] ? sv.detail : NULL;
	res.answer = ans;
	if ((rc = mtasts_tlsrpt_record(filter.ctx, &res)) != MTASTS_OK)
		filter_log(MTASTS_LOG_WARN, "tlsrpt: %s: cannot record %s: %s",
		    r->domain, mtasts_result_name(sv.result),
		    mtasts_strerror(rc));
	else
		filter_log(MTASTS_LOG_INFO, "tlsrpt: recorded %s %s for %s "
		    "([%s])", res.policy_type == MTASTS_POLICY_STS ? "sts" :
		    "no-policy-found", mtasts_result_name(sv.result),
		    r->domain, r->rip[0] ? r->rip : "?");
}

void
smtpout_close(void)
{
	struct out	*o;

	while ((o = out_list) != NULL) {
		out_list = o->next;
		free(o);
	}
}
