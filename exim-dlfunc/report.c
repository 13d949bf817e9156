/*
 * report.c - the result of each delivery attempt under a policy: the
 * log, and one TLS-RPT result (RFC 8460 section 4.3) per attempt.
 *
 * Exim's transport events say how an attempt went. Where each fact is
 * true (measured with Exim 4.96):
 *  - tcp:close, in the transport process: whether the session used TLS
 *    and whether the certificate verified ($tls_out_certificate_verified
 *    is right here; at msg:delivery it is always 0);
 *  - tls:fail:connect and msg:host:defer: why an attempt failed;
 *  - msg:delivery, in the delivery process: a message went out, and
 *    whether over TLS at all.
 * Under enforce Exim itself refuses clear text and unverified
 * certificates (hosts_require_tls, tls_verify_hosts): those attempts are
 * recorded where Exim refuses them (msg:host:defer, whose text starts
 * "TLS session" for a failed certificate with Exim 4.96 and GnuTLS, or
 * says the server "did not offer TLS"; tls:fail:connect when raised;
 * decide.c records the MX hosts refused at tcp:connect), and tcp:close
 * records only the verified sessions. Under testing, and under enforce
 * with log_only, Exim goes on: tcp:close records what enforcement would
 * have refused, and this file logs it.
 *
 * Exim's error text from GnuTLS does not always say why a certificate
 * failed ("certificate invalid"), so the peer's certificate
 * ($tls_out_peercert) is read here and the core's mtasts_cert_result()
 * names the result type; mtasts_session_verdict() and
 * mtasts_mx_verdict() say what a session and an MX host come to. No RFC
 * rule is decided in this file.
 *
 * Reporting never changes a delivery, and report mail itself is not
 * recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exim.h"

static void	 report_session(const struct report_event *,
		    const struct decision *);
static void	 report_delivery(const struct report_event *,
		    const struct decision *);
static void	 report_failure(const struct report_event *,
		    const struct decision *);
static void	 report_cert(struct mtasts_cert_facts *);
static enum mtasts_tls report_tls(const char *);
static int	 report_is_report_mail(void);
static const char *report_mode(const struct decision *);

void
report_event(const char *conf, const struct report_event *ev)
{
	struct decision	 d;

	if (ev->domain[0] == '\0' || ev->mx[0] == '\0')
		return;		/* no delivery of ours */
	decide_policy(conf, ev->domain, ev->routed, &d);
	if (!d.internal && d.mode == MTASTS_MODE_NONE) {
		if (strcmp(ev->event, "tcp:close") == 0)
			report_session(ev, &d);
		return;
	}
	if (strcmp(ev->event, "tcp:close") == 0)
		report_session(ev, &d);
	else if (strcmp(ev->event, "msg:delivery") == 0)
		report_delivery(ev, &d);
	else if (strcmp(ev->event, "msg:host:defer") == 0 ||
	    strcmp(ev->event, "tls:fail:connect") == 0)
		report_failure(ev, &d);
}

void
report_tlsrpt_record(const char *domain, const struct decision *d,
    const char *mx, const char *addr, enum mtasts_result result,
    const char *detail)
{
	struct mtasts_tlsrpt_result	 res;
	int				 rc;

	if (report_is_report_mail())
		return;
	memset(&res, 0, sizeof(res));
	res.domain = domain;
	res.policy_type = d->ans != NULL && d->ans->policy != NULL &&
	    d->mode != MTASTS_MODE_NONE ? MTASTS_POLICY_STS :
	    MTASTS_POLICY_NONE_FOUND;
	res.mx_host = mx;
	res.receiving_ip = addr;
	res.sending_ip = proc_expand("$sending_ip_address");
	res.result = result;
	res.detail = detail != NULL && *detail != '\0' ? detail : NULL;
	res.answer = d->ans;
	if ((rc = proc_record(&res)) != MTASTS_OK)
		proc_log(XLOG_MAIN, "tlsrpt: %s: %s at MX host %s not "
		    "recorded: %s", domain, mtasts_result_name(result), mx,
		    mtasts_strerror(rc));
}

/* A session with an MX host ended: verified TLS, or what enforce would
 * have refused. Under enforce (not log_only) Exim refused the others
 * already and the failure events recorded them. Without a policy in
 * force: any TLS is a success, clear text a failure to offer STARTTLS. */
static void
report_session(const struct report_event *ev, const struct decision *d)
{
	struct mtasts_answer		 stand_in;
	const struct mtasts_answer	*ans = d->ans;
	struct mtasts_mx_verdict	 mv;
	struct mtasts_session_verdict	 sv;
	struct mtasts_cert_facts	 cert;
	enum mtasts_tls			 tls = report_tls(ev->tls);

	if (d->mode == MTASTS_MODE_ENFORCE && !d->log_only) {
		if (tls == MTASTS_TLS_VERIFIED && !d->internal)
			report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
			    MTASTS_RESULT_SUCCESS, NULL);
		return;
	}
	if (d->internal || ans == NULL) {
		/* no answer now: the mode the router saw, no patterns */
		memset(&stand_in, 0, sizeof(stand_in));
		stand_in.mode = d->mode;
		ans = &stand_in;
	}
	if (mtasts_mx_verdict(ans, ev->mx, 0, &mv) != MTASTS_OK)
		return;
	if (mv.result != MTASTS_RESULT_SUCCESS) {
		/* decide_connect() logged it when connecting */
		report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
		    mv.result, mv.detail);
		return;
	}
	memset(&cert, 0, sizeof(cert));
	if (tls == MTASTS_TLS_UNVERIFIED)
		report_cert(&cert);
	if (mtasts_session_verdict(ans, ev->mx, 0, tls, &cert, time(NULL),
	    &sv) != MTASTS_OK)
		return;
	if (sv.would_refuse && d->mode == MTASTS_MODE_TESTING)
		proc_log(XLOG_MAIN, "testing: %s: session with MX host %s [%s] "
		    "%s%s%s; enforce would have deferred (policy id %s)",
		    ev->domain, ev->mx, ev->addr, tls == MTASTS_TLS_NONE ?
		    "without STARTTLS" : "over TLS whose certificate did not "
		    "verify (", sv.detail, tls == MTASTS_TLS_NONE ? "" : ")",
		    d->ans != NULL ? d->ans->id : "");
	else if (sv.would_refuse)
		proc_log(XLOG_MAIN, "would have refused MX host %s [%s]: %s: "
		    "session %s%s%s (log_only)", ev->mx, ev->addr, ev->domain,
		    tls == MTASTS_TLS_NONE ? "without STARTTLS" :
		    "over TLS whose certificate did not verify (", sv.detail,
		    tls == MTASTS_TLS_NONE ? "" : ")");
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr, sv.result,
	    sv.detail);
}

/* A message went out. Under enforce it must have been over TLS: say so
 * loudly if not (a transport misconfigured by hand). */
static void
report_delivery(const struct report_event *ev, const struct decision *d)
{
	if (d->mode != MTASTS_MODE_ENFORCE || d->log_only ||
	    strcmp(ev->tls, "none") != 0)
		return;
	proc_log(XLOG_PANIC, "%s delivered to MX host %s [%s] in clear text "
	    "under an enforce policy: check the transport's TLS options",
	    ev->domain, ev->mx, ev->addr);
}

/* An attempt failed at this MX host: log why, under which mode. When
 * Exim refused it for MTA-STS (a TLS failure, or no STARTTLS under
 * enforce) it is a TLS-RPT failure, with Exim's text as detail. */
static void
report_failure(const struct report_event *ev, const struct decision *d)
{
	struct mtasts_cert_facts cert;
	char			 why[MTASTS_DIAG_MSG], detail[MTASTS_DIAG_MSG];
	enum mtasts_result	 result;
	int			 tls_fail, no_tls;

	tls_fail = strcmp(ev->event, "tls:fail:connect") == 0 ||
	    strncmp(ev->data, "TLS session", 11) == 0;
	no_tls = strstr(ev->data, "did not offer TLS") != NULL;
	proc_log(XLOG_MAIN, "%s: %s at MX host %s [%s] under mode %s: %s",
	    ev->domain, tls_fail ? "TLS failed" : "deferred", ev->mx,
	    ev->addr, report_mode(d),
	    ev->data[0] != '\0' ? ev->data : "no detail");
	if ((!tls_fail && !no_tls) || d->mode != MTASTS_MODE_ENFORCE ||
	    d->log_only || d->internal)
		return;
	if (no_tls) {
		report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
		    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED, ev->data);
		return;
	}
	report_cert(&cert);
	result = mtasts_cert_result(ev->mx, &cert, time(NULL), why,
	    sizeof(why));
	snprintf(detail, sizeof(detail), "%.120s (%.120s)", ev->data, why);
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr, result, detail);
}

/* What Exim knows of the peer's certificate ($tls_out_peercert). */
static void
report_cert(struct mtasts_cert_facts *c)
{
	const char	*s;

	memset(c, 0, sizeof(*c));
	s = proc_expand("${certextract{notafter,int}{$tls_out_peercert}}");
	if (s == NULL || *s == '\0')
		return;
	c->present = 1;
	c->not_after = (time_t)strtoll(s, NULL, 10);
	c->names = proc_expand("${certextract{subj_altname,dns}"
	    "{$tls_out_peercert}}");
	if (c->names == NULL || *c->names == '\0')
		c->names = proc_expand("${certextract{subject,CN}"
		    "{$tls_out_peercert}}");
	c->issuer = proc_expand("${certextract{issuer}{$tls_out_peercert}}");
	c->subject = proc_expand("${certextract{subject}"
	    "{$tls_out_peercert}}");
}

/* exim_event's tls argument: "none", "unverified" or "verified". */
static enum mtasts_tls
report_tls(const char *tls)
{
	if (strcmp(tls, "verified") == 0)
		return MTASTS_TLS_VERIFIED;
	if (strcmp(tls, "none") == 0)
		return MTASTS_TLS_NONE;
	return MTASTS_TLS_UNVERIFIED;
}

/* Is the message being delivered a TLS-RPT report of ours? */
static int
report_is_report_mail(void)
{
	const char	*s = proc_sender();
	size_t		 n = strlen(MTASTS_REPORT_SENDER);

	return strncasecmp(s, MTASTS_REPORT_SENDER, n) == 0 && s[n] == '@';
}

static const char *
report_mode(const struct decision *d)
{
	if (d->internal)
		return "enforce (policy unavailable)";
	return mtasts_mode_name(d->mode);
}
