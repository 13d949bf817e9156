/*
 * report.c - the result of each delivery attempt under a policy.
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
 * certificates (hosts_require_tls, tls_verify_hosts); under testing, and
 * under enforce with log_only, it goes on, and this file logs what
 * enforcement would have refused. Each TLS session's result goes to
 * report_tlsrpt_record(), where the TLS-RPT counters will be kept.
 * Reporting never changes a delivery.
 */
#include <string.h>
#include <strings.h>

#include "exim.h"

static void	 report_session(const struct report_event *,
		    const struct decision *);
static void	 report_delivery(const struct report_event *,
		    const struct decision *);
static void	 report_failure(const struct report_event *,
		    const struct decision *);
static const char *report_classify(const char *);
static const char *report_mode(const struct decision *);

void
report_event(const char *conf, const struct report_event *ev)
{
	struct decision	 d;

	decide_policy(conf, ev->domain, ev->routed, &d);
	if (!d.internal && d.mode == MTASTS_MODE_NONE)
		return;
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
    const char *mx, const char *addr, const char *result)
{
	/*
	 * The core's TLS-RPT recording call goes here (policy domain,
	 * policy type and string from d->ans, mx, addr, result type).
	 * Until it exists nothing is recorded; the log has the result.
	 */
	(void)domain;
	(void)d;
	(void)mx;
	(void)addr;
	(void)result;
}

/* A session with an MX host ended: verified TLS, or what enforce would
 * have refused. Under enforce (not log_only) Exim refused it already
 * and the failure events said why. */
static void
report_session(const struct report_event *ev, const struct decision *d)
{
	const char	*why, *result;

	if (strcmp(ev->tls, "verified") == 0) {
		report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
		    "success");
		return;
	}
	if (d->mode == MTASTS_MODE_ENFORCE && !d->log_only)
		return;
	if (strcmp(ev->tls, "none") == 0) {
		why = "without STARTTLS";
		result = "starttls-not-supported";
	} else {
		why = "over TLS whose certificate did not verify (expired, "
		    "untrusted or not naming the MX host)";
		result = "validation-failure";
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
	report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr, result);
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

/* An attempt failed at this MX host: log why, under which mode. A TLS
 * failure, or a host that offered no STARTTLS, is a TLS-RPT result. */
static void
report_failure(const struct report_event *ev, const struct decision *d)
{
	int	 tls_fail, no_tls;

	tls_fail = strcmp(ev->event, "tls:fail:connect") == 0;
	no_tls = strstr(ev->data, "did not offer TLS") != NULL;
	proc_log(XLOG_MAIN, "%s: %s at MX host %s [%s] under mode %s: %s",
	    ev->domain, tls_fail ? "TLS failed" : "deferred", ev->mx,
	    ev->addr, report_mode(d),
	    ev->data[0] != '\0' ? ev->data : "no detail");
	if (tls_fail || no_tls)
		report_tlsrpt_record(ev->domain, d, ev->mx, ev->addr,
		    no_tls ? "starttls-not-supported" :
		    report_classify(ev->data));
}

/* An RFC 8460 result type for an error text from Exim or the TLS
 * library, as well as words can tell. */
static const char *
report_classify(const char *text)
{
	static const struct {
		const char	*word;
		const char	*result;
	} words[] = {
		{ "STARTTLS", "starttls-not-supported" },
		{ "expired", "certificate-expired" },
		{ "name", "certificate-host-mismatch" },
		{ "signer", "certificate-not-trusted" },
		{ "trust", "certificate-not-trusted" },
		{ "self", "certificate-not-trusted" },
		{ "issuer", "certificate-not-trusted" }
	};
	size_t	 i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(text, words[i].word) != NULL)
			return words[i].result;
	return "validation-failure";
}

static const char *
report_mode(const struct decision *d)
{
	if (d->internal)
		return "enforce (policy unavailable)";
	return mtasts_mode_name(d->mode);
}
