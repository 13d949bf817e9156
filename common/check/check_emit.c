/*
 * check_emit.c - how the deployment check's steps say what they found:
 * check_emit() hands one finding to the caller's callback and counts it
 * in the summary; the helpers build a finding's text (cut when full,
 * never more than CHECK_TEXT), its severity and a certificate's evidence
 * and expiry warning, shared by the policy host and the MX probes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "check/check_int.h"

#define CHECK_EXPIRY_WARN	(14 * 86400)	/* warn: certificate expiry */

void
check_emit(struct check *c, enum mtasts_check_step step,
    enum mtasts_check_status status, enum mtasts_result result,
    const char *subject, const char *evidence, const char *fix,
    const char *fmt, ...)
{
	struct mtasts_check_finding	f;
	char				msg[CHECK_TEXT];
	va_list				ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f.step = step;
	f.status = status;
	f.result = status == MTASTS_CHECK_PASS ||
	    status == MTASTS_CHECK_INFO ? MTASTS_RESULT_SUCCESS : result;
	f.subject = subject;
	f.message = msg;
	f.evidence = evidence != NULL && *evidence != '\0' ? evidence : NULL;
	f.fix = status == MTASTS_CHECK_PASS ? NULL : fix;
	switch (status) {
	case MTASTS_CHECK_PASS:
		c->sum.npass++;
		break;
	case MTASTS_CHECK_INFO:
		c->sum.ninfo++;
		break;
	case MTASTS_CHECK_WARN:
		c->sum.nwarn++;
		break;
	case MTASTS_CHECK_FAIL:
		c->sum.nfail++;
		break;
	}
	c->cb(c->arg, &f);
}

void
check_text_add(struct check_text *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (t->len >= sizeof(t->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->s))
		t->len = sizeof(t->s) - 1;
}

void
check_fmt_time(char *buf, size_t size, time_t t)
{
	struct tm	tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		(void)snprintf(buf, size, "unknown");
	else
		(void)strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A problem senders meet: fail under enforce, warn otherwise. */
enum mtasts_check_status
check_severity(const struct check *c)
{
	return c->policy != NULL && c->policy->mode == MTASTS_MODE_ENFORCE ?
	    MTASTS_CHECK_FAIL : MTASTS_CHECK_WARN;
}

void
check_cert_evidence(struct check_text *ev, const struct probe_result *res)
{
	char	from[40], until[40];

	if (res->greeting[0] != '\0')
		check_text_add(ev, "greeting: %s\n", res->greeting);
	if (res->protocol[0] != '\0')
		check_text_add(ev, "tls: %s %s\n", res->protocol, res->cipher);
	if (res->have_cert) {
		check_fmt_time(from, sizeof(from), res->cert.not_before);
		check_fmt_time(until, sizeof(until), res->cert.not_after);
		check_text_add(ev, "subject: %s\nnames: %s\nissuer: %s\n"
		    "valid: %s to %s\n", res->cert.subject,
		    res->cert.names[0] ? res->cert.names : "(none)",
		    res->cert.issuer, from, until);
	}
	if (ev->len > 0 && ev->s[ev->len - 1] == '\n')
		ev->s[--ev->len] = '\0';
}

void
check_cert_expiry(struct check *c, enum mtasts_check_step step,
    const char *subject, const char *name, const struct probe_result *res)
{
	char	until[40];
	time_t	now = time(NULL);
	long	days;

	if (res->cert.not_after - now >= CHECK_EXPIRY_WARN)
		return;
	check_fmt_time(until, sizeof(until), res->cert.not_after);
	days = (long)((res->cert.not_after - now) / 86400);
	check_emit(c, step, MTASTS_CHECK_WARN, MTASTS_RESULT_CERT_EXPIRED,
	    subject, NULL, "renew the certificate now (automate renewal)",
	    "certificate of %s expires in %ld day%s (%s)", name, days,
	    days == 1 ? "" : "s", until);
}
