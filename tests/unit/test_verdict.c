/*
 * test_verdict.c - the core's MX verdict (RFC 8461 sections 4.1, 5 and
 * 2 for DANE) and the TLS-RPT result of a session (RFC 8460 section
 * 4.3), table-driven: each row is a mode, an MX host and what the
 * adapter saw, and the verdict every adapter must get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mtasts.h"

#define NOW	((time_t)1764633600)	/* 2025-12-02 00:00:00 UTC */

static char	*pats[] = { "mx1.example.com", "*.mx.example.com" };
static struct mtasts_policy policy = { MTASTS_MODE_ENFORCE, 86400, 2, pats };

/* An answer of mode mode; with_policy 0: an override without a policy. */
static void
answer(struct mtasts_answer *a, enum mtasts_mode mode, int with_policy,
    int log_only)
{
	memset(a, 0, sizeof(*a));
	a->mode = mode;
	a->policy = with_policy && mode != MTASTS_MODE_NONE ? &policy : NULL;
	a->log_only = log_only;
	snprintf(a->id, sizeof(a->id), "id1");
}

struct mxcase {
	enum mtasts_mode	 mode;
	int			 with_policy;
	int			 log_only;
	const char		*mx;
	int			 dane;
	enum mtasts_verdict	 verdict;
	int			 match;
	int			 refuse;
	enum mtasts_result	 result;
};

#define E	MTASTS_MODE_ENFORCE
#define T	MTASTS_MODE_TESTING
#define N	MTASTS_MODE_NONE
#define OK_	MTASTS_RESULT_SUCCESS
#define VF	MTASTS_RESULT_VALIDATION_FAILURE

static const struct mxcase mxcases[] = {
	/* none, or no policy: plain whatever the host, DANE or not */
	{ N, 0, 0, "evil.example.net", 0, MTASTS_MX_PLAIN, -1, 0, OK_ },
	{ N, 0, 0, "evil.example.net", 1, MTASTS_MX_PLAIN, -1, 0, OK_ },
	/* enforce: a matching host needs verified TLS */
	{ E, 1, 0, "mx1.example.com", 0, MTASTS_MX_REQUIRE_TLS, 1, 0, OK_ },
	{ E, 1, 0, "MX1.Example.COM.", 0, MTASTS_MX_REQUIRE_TLS, 1, 0, OK_ },
	{ E, 1, 0, "a.mx.example.com", 0, MTASTS_MX_REQUIRE_TLS, 1, 0, OK_ },
	/* ... any other is refused, a validation-failure */
	{ E, 1, 0, "a.b.mx.example.com", 0, MTASTS_MX_REFUSE, 0, 1, VF },
	{ E, 1, 0, "evil.example.net", 0, MTASTS_MX_REFUSE, 0, 1, VF },
	{ E, 1, 0, "not a name", 0, MTASTS_MX_REFUSE, 0, 1, VF },
	/* ... but log_only never refuses: it logs the same detail */
	{ E, 1, 1, "evil.example.net", 0, MTASTS_MX_REFUSE, 0, 0, VF },
	/* DANE takes precedence over the patterns (RFC 8461 section 2) */
	{ E, 1, 0, "evil.example.net", 1, MTASTS_MX_DANE, -1, 0, OK_ },
	{ T, 1, 0, "evil.example.net", 1, MTASTS_MX_DANE, -1, 0, OK_ },
	/* testing: used and reported */
	{ T, 1, 0, "mx1.example.com", 0, MTASTS_MX_REPORT, 1, 0, OK_ },
	{ T, 1, 0, "evil.example.net", 0, MTASTS_MX_REPORT, 0, 0, VF },
	/* an override without a policy: TLS for every host */
	{ E, 0, 0, "evil.example.net", 0, MTASTS_MX_REQUIRE_TLS, -1, 0, OK_ },
	{ T, 0, 0, "evil.example.net", 0, MTASTS_MX_REPORT, -1, 0, OK_ },
};

static void
test_mx(void **state)
{
	const struct mxcase		*c = *state;
	struct mtasts_answer		 a;
	struct mtasts_mx_verdict	 v;

	answer(&a, c->mode, c->with_policy, c->log_only);
	assert_int_equal(mtasts_mx_verdict(&a, c->mx, c->dane, &v),
	    MTASTS_OK);
	assert_int_equal(v.verdict, c->verdict);
	assert_int_equal(v.match, c->match);
	assert_int_equal(v.refuse, c->refuse);
	assert_int_equal(v.result, c->result);
	assert_int_equal(v.dane, c->verdict == MTASTS_MX_DANE);
	if (c->result == VF) {
		assert_non_null(strstr(v.detail, "matches none of the "
		    "policy's mx patterns (mx1.example.com, "
		    "*.mx.example.com)"));
		assert_non_null(strstr(v.detail, c->mx));
	} else
		assert_string_equal(v.detail, "");
	if (!c->dane)
		assert_int_equal(mtasts_answer_mx(&a, c->mx), c->verdict);
}

static void
test_mx_detail_escaped(void **state)
{
	struct mtasts_answer		 a;
	struct mtasts_mx_verdict	 v;

	(void)state;
	answer(&a, E, 1, 0);
	assert_int_equal(mtasts_mx_verdict(&a, "evil\r\n\x1b[31m.net", 0, &v),
	    MTASTS_OK);
	assert_int_equal(v.verdict, MTASTS_MX_REFUSE);
	assert_string_equal(v.detail, "MX host evil???[31m.net matches none "
	    "of the policy's mx patterns (mx1.example.com, *.mx.example.com)");
}

static void
test_mx_detail_many_patterns(void **state)
{
	struct mtasts_policy		 big = policy;
	struct mtasts_answer		 a;
	struct mtasts_mx_verdict	 v;
	char				*many[200], name[200][64];
	size_t				 i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(name[i], sizeof(name[i]), "mx%zu.example.com", i);
		many[i] = name[i];
	}
	big.nmx = 200;
	big.mx = many;
	answer(&a, E, 1, 0);
	a.policy = &big;
	/* the detail is cut; the verdict is not */
	assert_int_equal(mtasts_mx_verdict(&a, "mx199.example.com", 0, &v),
	    MTASTS_OK);
	assert_int_equal(v.verdict, MTASTS_MX_REQUIRE_TLS);
	assert_int_equal(mtasts_mx_verdict(&a, "evil.example.net", 0, &v),
	    MTASTS_OK);
	assert_int_equal(v.verdict, MTASTS_MX_REFUSE);
	assert_true(strlen(v.detail) < sizeof(v.detail));
}

static void
test_mx_einval(void **state)
{
	struct mtasts_answer		 a;
	struct mtasts_mx_verdict	 v;

	(void)state;
	answer(&a, E, 1, 0);
	assert_int_equal(mtasts_mx_verdict(NULL, "a", 0, &v), MTASTS_EINVAL);
	assert_int_equal(mtasts_mx_verdict(&a, NULL, 0, &v), MTASTS_EINVAL);
	assert_int_equal(mtasts_mx_verdict(&a, "a", 0, NULL), MTASTS_EINVAL);
	assert_int_equal(mtasts_answer_mx(&a, NULL), MTASTS_MX_REFUSE);
}

/* Certificates as Exim or OpenSSL describe them. */
static const struct mtasts_cert_facts good_cert = { 1, NOW + 86400,
    "other.example.org\nmx1.example.com\n", "CN=Test CA", "CN=mx1" };
static const struct mtasts_cert_facts expired_cert = { 1, NOW - 1,
    "mx1.example.com", "CN=Test CA", "CN=mx1" };
static const struct mtasts_cert_facts wrongname_cert = { 1, NOW + 86400,
    "a.example.org\nb.example.org", "CN=Test CA", "CN=a" };
static const struct mtasts_cert_facts wildcard_cert = { 1, NOW + 86400,
    "*.example.com", "CN=Test CA", "CN=wild" };
static const struct mtasts_cert_facts self_cert = { 1, NOW + 86400,
    "mx1.example.com", "CN=mx1", "CN=mx1" };
static const struct mtasts_cert_facts none_cert = { 0, 0, NULL, NULL,
    NULL };

struct certcase {
	const struct mtasts_cert_facts	*cert;
	enum mtasts_result		 result;
	const char			*why;
};

static const struct certcase certcases[] = {
	{ &none_cert, VF, "no certificate" },
	{ &expired_cert, MTASTS_RESULT_CERT_EXPIRED, "certificate expired" },
	{ &wrongname_cert, MTASTS_RESULT_CERT_HOST_MISMATCH,
	    "certificate not for mx1.example.com: a.example.org, "
	    "b.example.org" },
	{ &self_cert, MTASTS_RESULT_CERT_NOT_TRUSTED,
	    "self-signed certificate" },
	{ &good_cert, MTASTS_RESULT_CERT_NOT_TRUSTED,
	    "certificate issuer not trusted: CN=Test CA" },
	{ &wildcard_cert, MTASTS_RESULT_CERT_NOT_TRUSTED,
	    "certificate issuer not trusted: CN=Test CA" },
};

static void
test_cert(void **state)
{
	const struct certcase	*c = *state;
	char			 why[MTASTS_DIAG_MSG];

	assert_int_equal(mtasts_cert_result("mx1.example.com", c->cert, NOW,
	    why, sizeof(why)), c->result);
	assert_string_equal(why, c->why);
}

static void
test_cert_hostile_issuer(void **state)
{
	struct mtasts_cert_facts	 c = good_cert;
	char				 why[MTASTS_DIAG_MSG];

	(void)state;
	c.issuer = "CN=Evil\r\nInjected: yes\x1b[2J";
	assert_int_equal(mtasts_cert_result("mx1.example.com", &c, NOW, why,
	    sizeof(why)), MTASTS_RESULT_CERT_NOT_TRUSTED);
	assert_string_equal(why, "certificate issuer not trusted: "
	    "CN=Evil??Injected: yes?[2J");
}

struct sesscase {
	enum mtasts_mode		 mode;
	int				 log_only;
	const char			*mx;
	enum mtasts_tls			 tls;
	const struct mtasts_cert_facts	*cert;
	enum mtasts_result		 result;
	int				 would_refuse;
};

static const struct sesscase sesscases[] = {
	/* no policy in force: any TLS counts, clear text does not */
	{ N, 0, "evil.example.net", MTASTS_TLS_NONE, NULL,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED, 0 },
	{ N, 0, "evil.example.net", MTASTS_TLS_UNVERIFIED, &self_cert, OK_, 0 },
	{ N, 0, "evil.example.net", MTASTS_TLS_VERIFIED, NULL, OK_, 0 },
	/* a policy in force */
	{ T, 0, "mx1.example.com", MTASTS_TLS_VERIFIED, NULL, OK_, 0 },
	{ E, 0, "mx1.example.com", MTASTS_TLS_VERIFIED, NULL, OK_, 0 },
	{ T, 0, "mx1.example.com", MTASTS_TLS_NONE, NULL,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED, 1 },
	{ T, 0, "mx1.example.com", MTASTS_TLS_UNVERIFIED, &expired_cert,
	    MTASTS_RESULT_CERT_EXPIRED, 1 },
	{ E, 1, "mx1.example.com", MTASTS_TLS_UNVERIFIED, &wrongname_cert,
	    MTASTS_RESULT_CERT_HOST_MISMATCH, 1 },
	{ T, 0, "mx1.example.com", MTASTS_TLS_UNVERIFIED, &self_cert,
	    MTASTS_RESULT_CERT_NOT_TRUSTED, 1 },
	/* outside the patterns: validation-failure, even over good TLS */
	{ T, 0, "evil.example.net", MTASTS_TLS_VERIFIED, NULL, VF, 1 },
	{ E, 1, "evil.example.net", MTASTS_TLS_NONE, NULL, VF, 1 },
};

static void
test_session(void **state)
{
	const struct sesscase		*c = *state;
	struct mtasts_answer		 a;
	struct mtasts_session_verdict	 v;

	answer(&a, c->mode, 1, c->log_only);
	assert_int_equal(mtasts_session_verdict(&a, c->mx, 0, c->tls, c->cert,
	    NOW, &v), MTASTS_OK);
	assert_int_equal(v.result, c->result);
	assert_int_equal(v.would_refuse, c->would_refuse);
	if (c->result == OK_ || c->result ==
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED)
		assert_string_equal(v.detail, "");
	else
		assert_true(v.detail[0] != '\0');
}

/* A TLSA RRset that failed DNSSEC validation (RFC 7672 section 2.2):
 * the host is not used, under either mode, and TLS-RPT says
 * dnssec-invalid of the TLSA policy; log_only only logs it. */
static void
test_mx_dane_bogus(void **state)
{
	struct mtasts_answer		 a;
	struct mtasts_mx_verdict	 v;
	enum mtasts_mode		 modes[] = { E, T };
	size_t				 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		answer(&a, modes[i], 1, 0);
		assert_int_equal(mtasts_mx_verdict(&a, "mx1.example.com",
		    MTASTS_DANE_BOGUS, &v), MTASTS_OK);
		assert_int_equal(v.verdict, MTASTS_MX_REFUSE);
		assert_int_equal(v.refuse, 1);
		assert_int_equal(v.dane, 1);
		assert_int_equal(v.result, MTASTS_RESULT_DNSSEC_INVALID);
		assert_non_null(strstr(v.detail, "TLSA RRset of "
		    "mx1.example.com failed DNSSEC validation"));
	}
	answer(&a, E, 1, 1);
	assert_int_equal(mtasts_mx_verdict(&a, "mx1.example.com",
	    MTASTS_DANE_BOGUS, &v), MTASTS_OK);
	assert_int_equal(v.verdict, MTASTS_MX_REFUSE);
	assert_int_equal(v.refuse, 0);
	/* none: no policy, no TLSA asked, nothing to refuse */
	answer(&a, N, 0, 0);
	assert_int_equal(mtasts_mx_verdict(&a, "mx1.example.com",
	    MTASTS_DANE_BOGUS, &v), MTASTS_OK);
	assert_int_equal(v.verdict, MTASTS_MX_PLAIN);
}

/* A certificate that matches no record of a validated TLSA RRset is
 * tlsa-invalid (RFC 8460 section 4.3.2.1), never a certificate-* type:
 * DANE, not the WebPKI, judged it. */
static void
test_session_dane_mismatch(void **state)
{
	struct mtasts_answer		 a;
	struct mtasts_session_verdict	 v;
	struct mtasts_cert_facts	 cert = { 1, NOW - 1, "other.example",
					    "CN=ca", "CN=other" };
	enum mtasts_mode		 modes[] = { E, T };
	size_t				 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		answer(&a, modes[i], 1, 0);
		assert_int_equal(mtasts_session_verdict(&a, "evil.example.net",
		    MTASTS_DANE_VALID, MTASTS_TLS_UNVERIFIED, &cert, NOW, &v),
		    MTASTS_OK);
		assert_int_equal(v.result, MTASTS_RESULT_TLSA_INVALID);
		assert_int_equal(v.would_refuse, 1);
		assert_non_null(strstr(v.detail, "matches no record of the "
		    "TLSA RRset of evil.example.net"));
	}
	/* no STARTTLS at a DANE host stays starttls-not-supported */
	answer(&a, E, 1, 0);
	assert_int_equal(mtasts_session_verdict(&a, "evil.example.net",
	    MTASTS_DANE_VALID, MTASTS_TLS_NONE, NULL, NOW, &v), MTASTS_OK);
	assert_int_equal(v.result, MTASTS_RESULT_STARTTLS_NOT_SUPPORTED);
	assert_int_equal(v.would_refuse, 1);
}

static void
test_session_dane(void **state)
{
	struct mtasts_answer		 a;
	struct mtasts_session_verdict	 v;

	(void)state;
	answer(&a, E, 1, 0);
	/* a DANE host outside the patterns is not a validation-failure */
	assert_int_equal(mtasts_session_verdict(&a, "evil.example.net", 1,
	    MTASTS_TLS_VERIFIED, NULL, NOW, &v), MTASTS_OK);
	assert_int_equal(v.result, OK_);
	assert_int_equal(v.would_refuse, 0);
}

#define ROWS(fn, tab, label) do {					\
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {		\
		snprintf(names[nt], sizeof(names[nt]), label " %zu", i);	\
		t[nt].name = names[nt];					\
		t[nt].test_func = fn;					\
		t[nt].initial_state = (void *)&tab[i];			\
		nt++;							\
	}								\
} while (0)

int
main(void)
{
	struct CMUnitTest	 t[64];
	static char		 names[64][40];
	size_t			 i, nt = 0;

	memset(t, 0, sizeof(t));
	ROWS(test_mx, mxcases, "mx verdict");
	ROWS(test_cert, certcases, "cert result");
	ROWS(test_session, sesscases, "session verdict");
	t[nt++] = (struct CMUnitTest)cmocka_unit_test(test_mx_detail_escaped);
	t[nt++] = (struct CMUnitTest)
	    cmocka_unit_test(test_mx_detail_many_patterns);
	t[nt++] = (struct CMUnitTest)cmocka_unit_test(test_mx_einval);
	t[nt++] = (struct CMUnitTest)
	    cmocka_unit_test(test_cert_hostile_issuer);
	t[nt++] = (struct CMUnitTest)cmocka_unit_test(test_session_dane);
	t[nt++] = (struct CMUnitTest)cmocka_unit_test(test_mx_dane_bogus);
	t[nt++] = (struct CMUnitTest)
	    cmocka_unit_test(test_session_dane_mismatch);
	return _cmocka_run_group_tests("verdict", t, nt, NULL, NULL);
}
