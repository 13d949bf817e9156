/*
 * verdict.c - may this MX host be used, and what does TLS-RPT say about
 * a session with it (RFC 8461 sections 4.1 and 5, RFC 8460 section 4.3).
 *
 * The one place where the adapters' questions about an MX host are
 * answered, so that Exim, the OpenSMTPD side and the CLI give the same
 * verdict with the same words:
 *
 *  - mtasts_mx_verdict(): before connecting. No policy or mode none:
 *    plain. A host that DANE verifies (a TLSA RRset validated under
 *    DNSSEC) is left to DANE: RFC 8461 section 2 gives DANE precedence,
 *    so the mx patterns do not apply to it; a host whose TLSA lookup
 *    failed DNSSEC validation is refused (RFC 7672 section 2.2: DANE
 *    forbids it whatever the MTA-STS mode), dnssec-invalid of the TLSA
 *    policy. Otherwise a host must match
 *    a pattern: under enforce a host that does not is refused (unless
 *    log_only), under testing it is used and reported. The TLS-RPT
 *    result of a host outside the patterns is validation-failure.
 *  - mtasts_session_verdict(): after a session, from what the adapter
 *    saw (clear text, TLS that did not verify, verified TLS) and the
 *    peer's certificate: the RFC 8460 result type, and whether enforce
 *    refuses (or would have refused) such a session. At a host DANE
 *    verifies, a certificate that did not verify is tlsa-invalid.
 *  - mtasts_cert_result(): why a certificate did not verify for a host:
 *    past its notAfter, not naming the host, or not chaining to a
 *    trusted root (self-signed, or an unknown issuer).
 *
 * Detail texts are one sentence, cut to MTASTS_DIAG_MSG; the lists they
 * carry are for people, never counted from.
 */
#include <stdio.h>
#include <string.h>

#include "mtasts.h"

static int	 verdict_in_force(const struct mtasts_answer *);
static void	 verdict_outside(const struct mtasts_policy *, const char *,
		    char *, size_t);
static int	 verdict_names_match(const char *, const char *);
static void	 verdict_names_join(const char *, char *, size_t);
static void	 verdict_printable(const char *, char *, size_t);
static enum mtasts_result verdict_tlsa_invalid(const char *, char *,
		    size_t);
static void	 verdict_dane_bogus(const struct mtasts_answer *,
		    const char *, struct mtasts_mx_verdict *);

/* DANE verified the host and its certificate matched no TLSA record. */
static enum mtasts_result
verdict_tlsa_invalid(const char *mx, char *why, size_t len)
{
	char	 host[MTASTS_NAME_MAX + 1];

	verdict_printable(mx, host, sizeof(host));
	snprintf(why, len, "the certificate matches no record of the TLSA "
	    "RRset of %.180s", host);
	return MTASTS_RESULT_TLSA_INVALID;
}

/* The TLSA RRset of mx failed DNSSEC validation: the host is not used. */
static void
verdict_dane_bogus(const struct mtasts_answer *ans, const char *mx,
    struct mtasts_mx_verdict *out)
{
	char	 host[MTASTS_NAME_MAX + 1];

	verdict_printable(mx, host, sizeof(host));
	out->verdict = MTASTS_MX_REFUSE;
	out->dane = 1;
	out->refuse = !ans->log_only;
	out->result = MTASTS_RESULT_DNSSEC_INVALID;
	snprintf(out->detail, sizeof(out->detail), "TLSA RRset of %.180s "
	    "failed DNSSEC validation: DANE forbids the host", host);
}

int
mtasts_mx_verdict(const struct mtasts_answer *ans, const char *mx,
    int dane, struct mtasts_mx_verdict *out)
{
	if (ans == NULL || mx == NULL || out == NULL)
		return MTASTS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->result = MTASTS_RESULT_SUCCESS;
	out->match = -1;
	if (!verdict_in_force(ans)) {
		out->verdict = MTASTS_MX_PLAIN;
		return MTASTS_OK;
	}
	if (dane < 0) {
		verdict_dane_bogus(ans, mx, out);
		return MTASTS_OK;
	}
	if (dane) {
		out->verdict = MTASTS_MX_DANE;
		out->dane = 1;
		return MTASTS_OK;
	}
	if (ans->policy == NULL) {
		/* an override to enforce or testing without a policy: TLS
		 * to every MX, no patterns to match */
		out->verdict = ans->mode == MTASTS_MODE_ENFORCE ?
		    MTASTS_MX_REQUIRE_TLS : MTASTS_MX_REPORT;
		return MTASTS_OK;
	}
	out->match = mtasts_policy_match(ans->policy, mx) == 1;
	if (out->match) {
		out->verdict = ans->mode == MTASTS_MODE_ENFORCE ?
		    MTASTS_MX_REQUIRE_TLS : MTASTS_MX_REPORT;
		return MTASTS_OK;
	}
	out->result = MTASTS_RESULT_VALIDATION_FAILURE;
	verdict_outside(ans->policy, mx, out->detail, sizeof(out->detail));
	if (ans->mode == MTASTS_MODE_TESTING) {
		out->verdict = MTASTS_MX_REPORT;
		return MTASTS_OK;
	}
	out->verdict = MTASTS_MX_REFUSE;
	out->refuse = !ans->log_only;
	return MTASTS_OK;
}

enum mtasts_verdict
mtasts_answer_mx(const struct mtasts_answer *ans, const char *mx)
{
	struct mtasts_mx_verdict	 v;

	if (mtasts_mx_verdict(ans, mx, 0, &v) != MTASTS_OK)
		return MTASTS_MX_REFUSE;
	return v.verdict;
}

int
mtasts_session_verdict(const struct mtasts_answer *ans, const char *mx,
    int dane, enum mtasts_tls tls, const struct mtasts_cert_facts *cert,
    time_t now, struct mtasts_session_verdict *out)
{
	struct mtasts_mx_verdict	 mv;
	int				 rc;

	if (out == NULL)
		return MTASTS_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = mtasts_mx_verdict(ans, mx, dane, &mv)) != MTASTS_OK)
		return rc;
	if (mv.verdict == MTASTS_MX_PLAIN) {
		/* no-policy-found: any TLS counts, clear text does not */
		out->result = tls == MTASTS_TLS_NONE ?
		    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED :
		    MTASTS_RESULT_SUCCESS;
		return MTASTS_OK;
	}
	out->would_refuse = 1;
	if (mv.result != MTASTS_RESULT_SUCCESS) {
		out->result = mv.result;
		memcpy(out->detail, mv.detail, sizeof(out->detail));
	} else if (tls == MTASTS_TLS_NONE)
		out->result = MTASTS_RESULT_STARTTLS_NOT_SUPPORTED;
	else if (tls == MTASTS_TLS_UNVERIFIED && mv.verdict == MTASTS_MX_DANE)
		out->result = verdict_tlsa_invalid(mx, out->detail,
		    sizeof(out->detail));
	else if (tls == MTASTS_TLS_UNVERIFIED)
		out->result = mtasts_cert_result(mx, cert, now, out->detail,
		    sizeof(out->detail));
	else {
		out->result = MTASTS_RESULT_SUCCESS;
		out->would_refuse = 0;
	}
	return MTASTS_OK;
}

enum mtasts_result
mtasts_cert_result(const char *mx, const struct mtasts_cert_facts *cert,
    time_t now, char *why, size_t len)
{
	char	 names[MTASTS_DIAG_MSG], issuer[MTASTS_DIAG_MSG];

	if (cert == NULL || !cert->present) {
		snprintf(why, len, "no certificate");
		return MTASTS_RESULT_VALIDATION_FAILURE;
	}
	if (cert->not_after < now) {
		snprintf(why, len, "certificate expired");
		return MTASTS_RESULT_CERT_EXPIRED;
	}
	if (mx == NULL || !verdict_names_match(cert->names, mx)) {
		verdict_names_join(cert->names, names, sizeof(names));
		snprintf(why, len, "certificate not for %s: %.100s",
		    mx != NULL ? mx : "the MX host", names);
		return MTASTS_RESULT_CERT_HOST_MISMATCH;
	}
	if (cert->issuer != NULL && cert->subject != NULL &&
	    strcmp(cert->issuer, cert->subject) == 0)
		snprintf(why, len, "self-signed certificate");
	else {
		verdict_printable(cert->issuer, issuer, sizeof(issuer));
		snprintf(why, len, "certificate issuer not trusted: %.100s",
		    issuer);
	}
	return MTASTS_RESULT_CERT_NOT_TRUSTED;
}

/* Does a policy rule the hosts: a mode other than none? */
static int
verdict_in_force(const struct mtasts_answer *ans)
{
	return ans->mode != MTASTS_MODE_NONE;
}

/* "MX host X matches none of the policy's mx patterns (a, b)". */
static void
verdict_outside(const struct mtasts_policy *p, const char *mx, char *buf,
    size_t len)
{
	char	 host[MTASTS_NAME_MAX + 1];
	size_t	 i, off;
	int	 n;

	verdict_printable(mx, host, sizeof(host));
	n = snprintf(buf, len, "MX host %s matches none of the policy's mx "
	    "patterns (", host);
	off = n > 0 && (size_t)n < len ? (size_t)n : len;
	for (i = 0; i < p->nmx && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		    p->mx[i]);
		off = n > 0 && (size_t)n < len - off ? off + (size_t)n : len;
	}
	if (off < len - 1)
		snprintf(buf + off, len - off, ")");
}

/* Does one of the names (one per line; "*.x" allowed) name host? */
static int
verdict_names_match(const char *names, const char *host)
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

/* The names, one per line, as "a, b" for a detail text. */
static void
verdict_names_join(const char *names, char *buf, size_t len)
{
	size_t	 i, off = 0;

	for (i = 0; names != NULL && names[i] != '\0' && off + 3 < len; i++) {
		if (names[i] != '\n') {
			buf[off++] = names[i];
			continue;
		}
		if (names[i + 1] == '\0')
			break;
		buf[off++] = ',';
		buf[off++] = ' ';
	}
	buf[off] = '\0';
	verdict_printable(buf, buf, len);
}

/* A certificate's text made safe for a log line: every byte outside
 * printable ASCII becomes '?'. in may be out; NULL gives "". */
static void
verdict_printable(const char *in, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; in != NULL && in[i] != '\0' && i + 1 < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}
