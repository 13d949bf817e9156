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
 * failed ("certificate invalid"), so the result type is worked out from
 * the peer's certificate ($tls_out_peercert): past its notAfter:
 * certificate-expired; no DNS name (or CN) for the MX host:
 * certificate-host-mismatch; otherwise it did not chain to a trusted CA:
 * certificate-not-trusted.
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

#define REPORT_DETAIL	256

static void	 report_session(const struct report_event *,
		    const struct decision *);
static void	 report_plain(const struct report_event *,
		    const struct decision *);
static void	 report_delivery(const struct report_event *,
		    const struct decision *);
static void	 report_failure(const struct report_event *,
		    const struct decision *);
static enum mtasts_result report_cert(const char *, char *, size_t);
static int	 report_names_match(const char *, const char *);
static int	 report_outside(const struct decision *, const char *);
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
			report_plain(ev, &d);
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
	if ((rc = proc_record(&res)) != MTASTS_OK)
		proc_log(XLOG_MAIN, "tlsrpt: %s: %s at MX host %s not "
		    "recorded: %s", domain, mtasts_result_name(result), mx,
		    mtasts_strerror(rc));
}

void
report_outside_mx(const char *domain, const struct decision *d,
    const char *mx, const char *addr)
{
	char	 detail[REPORT_DETAIL];
	size_t	 i, off;
	int	 n;

	n = snprintf(detail, sizeof(detail), "MX host %s matches none of "
	    "the policy's mx patterns:", mx);
	off = n > 0 && (size_t)n < sizeof(detail) ? (size_t)n : 0;
	for (i = 0; i < d->ans->policy->nmx && off < sizeof(detail); i++) {
		n = snprintf(detail + off, sizeof(detail) - off, " %s",
		    d->ans->policy->mx[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	report_tlsrpt_record(domain, d, mx, addr,
	    MTASTS_RESULT_VALIDATION_FAILURE, detail);
}

/* A session with an MX host ended: verified TLS, or what enforce would
 * have refused. Under enforce (not log_only) Exim refused the others
 * already and the failure events recorded them. */
static void
report_session(const struct report_event *ev, const struct decision *d)
{
	char			 why[REPORT_DETAIL], detail[REPORT_DETAIL];
	enum mtasts_result	 result;
	int			 verified;

	verified = strcmp(ev->tls, "verified") == 0;
	if (d->mode == MTASTS_MODE_ENFORCE && !d->log_only) {
		if (verified && !d->internal)
			report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
			    MTASTS_RESULT_SUCCESS, NULL);
		return;
	}
	if (report_outside(d, ev->mx)) {
		/* decide_connect() logged it when connecting */
		report_outside_mx(ev->domain, d, ev->mx, ev->addr);
		return;
	}
	if (verified) {
		report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
		    MTASTS_RESULT_SUCCESS, NULL);
		return;
	}
	if (strcmp(ev->tls, "none") == 0) {
		snprintf(why, sizeof(why), "without STARTTLS");
		result = MTASTS_RESULT_STARTTLS_NOT_SUPPORTED;
		detail[0] = '\0';
	} else {
		result = report_cert(ev->mx, detail, sizeof(detail));
		snprintf(why, sizeof(why), "over TLS whose certificate did "
		    "not verify (%.200s)", detail);
	}
	if (d->mode == MTASTS_MODE_TESTING)
		proc_log(XLOG_MAIN, "testing: %s: session with MX host %s [%s] "
		    "%s; enforce would have deferred (policy id %s)",
		    ev->domain, ev->mx, ev->addr, why,
		    d->ans != NULL ? d->ans->id : "");
	else
		proc_log(XLOG_MAIN, "would have refused MX host %s [%s]: %s: "
		    "session %s (log_only)", ev->mx, ev->addr, ev->domain,
		    why);
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr, result, detail);
}

/* A session for a domain without a policy in force (no-policy-found):
 * any TLS is a success, clear text a failure to offer STARTTLS. */
static void
report_plain(const struct report_event *ev, const struct decision *d)
{
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
	    strcmp(ev->tls, "none") == 0 ?
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED : MTASTS_RESULT_SUCCESS,
	    NULL);
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
	char			 why[REPORT_DETAIL], detail[REPORT_DETAIL];
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
	result = report_cert(ev->mx, why, sizeof(why));
	snprintf(detail, sizeof(detail), "%.120s (%.120s)", ev->data, why);
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr, result, detail);
}

/* Why the peer's certificate did not verify for MX host mx, as an
 * RFC 8460 result type, with a few words in why. */
static enum mtasts_result
report_cert(const char *mx, char *why, size_t len)
{
	const char	*s, *names, *issuer, *subject;

	s = proc_expand("${certextract{notafter,int}{$tls_out_peercert}}");
	if (s == NULL || *s == '\0') {
		snprintf(why, len, "no certificate");
		return MTASTS_RESULT_VALIDATION_FAILURE;
	}
	if (strtoll(s, NULL, 10) < (long long)time(NULL)) {
		snprintf(why, len, "certificate expired");
		return MTASTS_RESULT_CERT_EXPIRED;
	}
	names = proc_expand("${certextract{subj_altname,dns}"
	    "{$tls_out_peercert}}");
	if (names == NULL || *names == '\0')
		names = proc_expand("${certextract{subject,CN}"
		    "{$tls_out_peercert}}");
	if (!report_names_match(names, mx)) {
		snprintf(why, len, "certificate not for %s: %.100s", mx,
		    names != NULL ? names : "");
		return MTASTS_RESULT_CERT_HOST_MISMATCH;
	}
	issuer = proc_expand("${certextract{issuer}{$tls_out_peercert}}");
	subject = proc_expand("${certextract{subject}{$tls_out_peercert}}");
	if (issuer != NULL && subject != NULL && strcmp(issuer, subject) == 0)
		snprintf(why, len, "self-signed certificate");
	else
		snprintf(why, len, "certificate issuer not trusted: %.100s",
		    issuer != NULL ? issuer : "");
	return MTASTS_RESULT_CERT_NOT_TRUSTED;
}

/* Does one of the names (one per line; "*.x" allowed) name host? */
static int
report_names_match(const char *names, const char *host)
{
	char		 name[MTASTS_NAME_MAX + 2];
	const char	*p, *e;
	size_t		 n;

	for (p = names; p != NULL && *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (mtasts_mx_match(host, name) == 1)
			return 1;
	}
	return 0;
}

/* Under testing or log_only: is mx outside the policy's patterns? */
static int
report_outside(const struct decision *d, const char *mx)
{
	if (d->internal || d->ans == NULL || d->ans->policy == NULL)
		return 0;
	return mtasts_policy_match(d->ans->policy, mx) != 1;
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
