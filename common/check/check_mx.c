/*
 * check_mx.c - steps 5 and 6 of mtasts_check(): each MX host against the
 * policy's patterns, then probe.c's STARTTLS probe of every address of
 * every MX (certificate trust, name, expiry). A problem senders meet is
 * "fail" under enforce, "warn" otherwise. Leaves the MX set in c.
 */
#include <stdio.h>
#include <string.h>

#include "mtasts.h"
#include "util/strv.h"
#include "check/check_int.h"

static void	check_mx_one(struct check *, const struct dns_mx *);
static void	check_mx_probe(struct check *, const char *, const char *);
static const char *check_probe_fix(const struct probe_result *);

/* ---- 5. MX records against the patterns ---- */

void
check_mx(struct check *c)
{
	struct check_text	ev;
	size_t			i;
	int			rc;

	memset(&ev, 0, sizeof(ev));
	rc = c->net->dns_mx(c->dns, c->domain, &c->mx, &c->nmx);
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		c->mx = NULL;
		c->nmx = 0;
		check_emit(c, MTASTS_CHECK_MX, rc == MTASTS_ENOTFOUND ?
		    MTASTS_CHECK_WARN : MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, c->domain, NULL, "publish MX "
		    "records for the domain, each named in the policy",
		    rc == MTASTS_ENOTFOUND ? "%s has no MX records: "
		    "MTA-STS protects delivery to MX hosts" :
		    "DNS lookup of the MX records of %s failed", c->domain);
		return;
	}
	for (i = 0; i < c->nmx; i++)
		check_text_add(&ev, "%sMX %u %s", i ? "\n" : "", c->mx[i].pref,
		    c->mx[i].host[0] ? c->mx[i].host : ".");
	if (c->nmx == 1 && c->mx[0].host[0] == '\0') {
		check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, c->domain, ev.s, "remove the "
		    "MTA-STS records of a domain that takes no mail",
		    "null MX (RFC 7505): %s accepts no mail", c->domain);
		return;
	}
	for (i = 0; i < c->nmx; i++)
		check_mx_one(c, &c->mx[i]);
}

static void
check_mx_one(struct check *c, const struct dns_mx *mx)
{
	const struct mtasts_policy	*p = c->policy;
	char				 fix[CHECK_TEXT];
	size_t				 i;

	if (p == NULL || p->mode == MTASTS_MODE_NONE) {
		check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, mx->host, NULL, NULL, "MX %s "
		    "(preference %u): %s", mx->host, mx->pref, p == NULL ?
		    "no valid policy to check it against" :
		    "mode none: patterns do not apply");
		return;
	}
	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(mx->host, p->mx[i]) == 1) {
			check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_PASS,
			    MTASTS_RESULT_SUCCESS, mx->host, NULL, NULL,
			    "MX %s matches the policy pattern \"%s\"",
			    mx->host, p->mx[i]);
			return;
		}
	(void)snprintf(fix, sizeof(fix), "add \"mx: %s\" (or a wildcard "
	    "that covers it) to the policy and change the TXT id, or "
	    "remove the MX record", mx->host);
	check_emit(c, MTASTS_CHECK_MX, check_severity(c),
	    MTASTS_RESULT_VALIDATION_FAILURE, mx->host, NULL, fix,
	    "MX %s matches no mx pattern of the policy: %s", mx->host,
	    p->mode == MTASTS_MODE_ENFORCE ? "senders refuse to deliver "
	    "to it" : "senders would refuse it under enforce");
}

/* ---- 6. STARTTLS on every MX address ---- */

void
check_mx_tls(struct check *c)
{
	char	**addrs;
	size_t	  i, j, n;
	int	  rc;

	for (i = 0; i < c->nmx; i++) {
		if (c->mx[i].host[0] == '\0')
			continue;
		rc = c->net->dns_addrs(c->dns, c->mx[i].host, &addrs, &n);
		if (rc != MTASTS_OK) {
			if (rc == MTASTS_ENOMEM)
				c->err = rc;
			check_emit(c, MTASTS_CHECK_MX_TLS, check_severity(c),
			    MTASTS_RESULT_SUCCESS, c->mx[i].host, NULL,
			    "add A/AAAA records for the MX host or remove "
			    "the MX record", rc == MTASTS_ENOTFOUND ?
			    "MX %s has no address: mail cannot reach it" :
			    "DNS lookup of MX %s failed", c->mx[i].host);
			continue;
		}
		for (j = 0; j < n; j++)
			check_mx_probe(c, c->mx[i].host, addrs[j]);
		strv_free(addrs, n);
	}
}

static void
check_mx_probe(struct check *c, const char *host, const char *addr)
{
	struct probe_result	res;
	struct check_text	ev;
	char			subject[CHECK_HOST_MAX + 64], where[64];

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(subject, sizeof(subject), strchr(addr, ':') ?
	    "%s [%s]:%u" : "%s %s:%u", host, addr, c->o.mx_port);
	if (probe_smtp(c->ctx->conf, addr, c->o.mx_port, host, c->helo,
	    c->o.timeout_ms, &res) != MTASTS_OK) {
		c->err = MTASTS_ENOMEM;
		return;
	}
	check_cert_evidence(&ev, &res);
	if (res.stage == PROBE_DONE) {
		check_emit(c, MTASTS_CHECK_MX_TLS, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, subject, ev.s, NULL, "STARTTLS, "
		    "%s, certificate valid for %s", res.protocol, host);
		check_cert_expiry(c, MTASTS_CHECK_MX_TLS, subject, host,
		    &res);
		return;
	}
	where[0] = '\0';
	if (res.stage != PROBE_VERIFY)
		(void)snprintf(where, sizeof(where), " (at %s)",
		    probe_stage_name(res.stage));
	check_emit(c, MTASTS_CHECK_MX_TLS, check_severity(c), res.result,
	    subject, ev.s, check_probe_fix(&res), "%s%s%s", res.err,
	    c->policy != NULL && c->policy->mode == MTASTS_MODE_ENFORCE ?
	    "" : "; senders would not deliver under enforce", where);
}

static const char *
check_probe_fix(const struct probe_result *res)
{
	switch (res->stage) {
	case PROBE_CONNECT:
	case PROBE_GREETING:
		return "make the MX accept SMTP on this address and port, "
		    "or remove the address or the MX record";
	case PROBE_EHLO:
	case PROBE_STARTTLS:
		return "enable STARTTLS on the MX with a certificate for its "
		    "name from a public CA";
	case PROBE_HANDSHAKE:
		return "enable TLS 1.2 or later with current cipher suites "
		    "on the MX";
	default:
		break;
	}
	if (res->certflags & PROBE_CERT_UNTRUSTED)
		return "use a certificate from a public CA, served with its "
		    "intermediate certificates";
	if (res->certflags & PROBE_CERT_EXPIRED)
		return "renew the MX certificate (automate renewal)";
	if (res->certflags & PROBE_CERT_NAME)
		return "use a certificate whose subjectAltName names the MX "
		    "host exactly as in the MX record";
	return "use a valid certificate for the MX host";
}
