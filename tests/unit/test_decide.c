/*
 * test_decide.c - the Exim adapter's decisions (exim-dlfunc/decide.c)
 * and what it records (exim-dlfunc/report.c), without Exim: the calls
 * into Exim (proc.c) are replaced by a scripted engine answer, scripted
 * certificate fields, and a record of the log lines and TLS-RPT results
 * the adapter gives. Stands in for proc.c only; the lab's exim_e2e.sh
 * drives the real binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exim-dlfunc/decide.c"
#include "../../exim-dlfunc/report.c"

/* ---- the scripted proc.c ---- */
static struct {
	int				 rc;	/* proc_answer()'s result */
	struct mtasts_answer		 ans;
	const char			*notafter, *names, *issuer, *subject;
	const char			*sender;
	char				 log[4096];
	size_t				 nrec;
	struct mtasts_tlsrpt_result	 rec;
	char				 detail[512], mx[256];
} stub;

static char	*pats[] = { "good.mx.test" };
static struct mtasts_policy policy = { MTASTS_MODE_ENFORCE, 86400, 1, pats };

int
proc_answer(const char *conf, const char *domain,
    const struct mtasts_answer **ans)
{
	(void)conf;
	if (mtasts_name_normalize(domain, 0, (char[MTASTS_NAME_MAX + 1]){ 0 })
	    != MTASTS_OK)
		return MTASTS_EINVAL;
	if (stub.rc != MTASTS_OK)
		return stub.rc;
	*ans = &stub.ans;
	return MTASTS_OK;
}

const char *
proc_expand(const char *s)
{
	if (strcmp(s, "$sending_ip_address") == 0)
		return "192.0.2.1";
	if (strstr(s, "notafter") != NULL)
		return stub.notafter;
	if (strstr(s, "subj_altname") != NULL)
		return stub.names;
	if (strstr(s, "subject,CN") != NULL)
		return "";
	if (strstr(s, "{issuer}") != NULL)
		return stub.issuer;
	if (strstr(s, "{subject}") != NULL)
		return stub.subject;
	return NULL;
}

const char *
proc_sender(void)
{
	return stub.sender;
}

int
proc_record(const struct mtasts_tlsrpt_result *res)
{
	stub.nrec++;
	stub.rec = *res;
	snprintf(stub.detail, sizeof(stub.detail), "%s",
	    res->detail != NULL ? res->detail : "(null)");
	snprintf(stub.mx, sizeof(stub.mx), "%s", res->mx_host);
	return MTASTS_OK;
}

const char *
proc_error(void)
{
	return "scripted failure";
}

void
proc_log(enum xlog where, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 off = strlen(stub.log);

	(void)where;
	va_start(ap, fmt);
	vsnprintf(stub.log + off, sizeof(stub.log) - off, fmt, ap);
	va_end(ap);
	off = strlen(stub.log);
	if (off + 1 < sizeof(stub.log))
		strcat(stub.log, "\n");
}

/* ---- helpers ---- */
static int
setup(void **state)
{
	(void)state;
	memset(&stub, 0, sizeof(stub));
	stub.sender = "alice@example.org";
	return 0;
}

static void
script(enum mtasts_mode mode, int log_only)
{
	stub.ans.mode = mode;
	stub.ans.policy = mode != MTASTS_MODE_NONE ? &policy : NULL;
	stub.ans.log_only = log_only;
	snprintf(stub.ans.id, sizeof(stub.ans.id), "pol1");
}

static void
event(const char *name, const char *mx, const char *routed,
    const char *tls, const char *data)
{
	struct report_event	 ev = { name, "example.test", mx, "192.0.2.9",
	    routed, tls, data };

	report_event("", &ev);
}

#define assert_logged(s)	assert_non_null(strstr(stub.log, (s)))

/* ---- the router's mode ---- */
static void
test_mode(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 0);
	assert_string_equal(decide_mode("", "example.test"), "enforce");
	script(MTASTS_MODE_TESTING, 0);
	assert_string_equal(decide_mode("", "example.test"), "testing");
	/* an address literal is not a domain: none */
	assert_string_equal(decide_mode("", "[192.0.2.1]"), "none");
	/* cannot decide: "error", so the transport fails closed */
	stub.rc = MTASTS_ECONFIG;
	assert_string_equal(decide_mode("", "example.test"), "error");
	assert_logged("failing closed");
}

/* ---- hosts_require_tls ---- */
static void
test_tls(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 0);
	assert_string_equal(decide_tls("", "example.test", "enforce"), "*");
	script(MTASTS_MODE_ENFORCE, 1);
	assert_string_equal(decide_tls("", "example.test", "enforce"), "");
	script(MTASTS_MODE_TESTING, 0);
	assert_string_equal(decide_tls("", "example.test", "testing"), "");
	script(MTASTS_MODE_NONE, 0);
	assert_string_equal(decide_tls("", "example.test", "none"), "");
}

static void
test_tls_fails_closed(void **state)
{
	(void)state;
	stub.rc = MTASTS_ESTORE;
	/* routed enforce or error, no answer now: TLS required */
	assert_string_equal(decide_tls("", "example.test", "enforce"), "*");
	assert_string_equal(decide_tls("", "example.test", "error"), "*");
	/* routed testing: nothing to enforce */
	assert_string_equal(decide_tls("", "example.test", "testing"), "");
	/* routed enforce, and now a temporary failure with nothing cached */
	stub.rc = MTASTS_OK;
	memset(&stub.ans, 0, sizeof(stub.ans));
	stub.ans.temperror = 1;
	assert_string_equal(decide_tls("", "example.test", "enforce"), "*");
}

/* ---- tcp:connect ---- */
static void
test_connect_enforce(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 0);
	assert_null(decide_connect("", "example.test", "good.mx.test",
	    "192.0.2.9", "enforce", 0));
	assert_int_equal(stub.nrec, 0);
	assert_string_equal(decide_connect("", "example.test",
	    "attacker.evil.test", "192.0.2.6", "enforce", 0),
	    "mtasts: MX host not in the policy");
	assert_logged("refused MX host attacker.evil.test [192.0.2.6]: "
	    "example.test: matches none of the enforce policy's mx patterns "
	    "(policy id pol1)");
	assert_int_equal(stub.nrec, 1);
	assert_int_equal(stub.rec.result, MTASTS_RESULT_VALIDATION_FAILURE);
	assert_int_equal(stub.rec.policy_type, MTASTS_POLICY_STS);
	assert_string_equal(stub.detail, "MX host attacker.evil.test matches "
	    "none of the policy's mx patterns (good.mx.test)");
}

static void
test_connect_log_only(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 1);
	assert_null(decide_connect("", "example.test", "attacker.evil.test",
	    "192.0.2.6", "enforce", 0));
	assert_logged("would have refused MX host attacker.evil.test");
	assert_logged("log_only, connecting");
	assert_int_equal(stub.nrec, 0);		/* recorded at tcp:close */
}

static void
test_connect_testing_and_dane(void **state)
{
	(void)state;
	script(MTASTS_MODE_TESTING, 0);
	assert_null(decide_connect("", "example.test", "attacker.evil.test",
	    "192.0.2.6", "testing", 0));
	assert_logged("testing: example.test MX host attacker.evil.test");
	script(MTASTS_MODE_ENFORCE, 0);
	assert_null(decide_connect("", "example.test", "attacker.evil.test",
	    "192.0.2.6", "enforce", 1));
	assert_logged("DANE takes precedence over the enforce policy");
	assert_int_equal(stub.nrec, 0);
}

static void
test_connect_policy_unavailable(void **state)
{
	(void)state;
	stub.rc = MTASTS_ESTORE;
	assert_string_equal(decide_connect("", "example.test", "good.mx.test",
	    "192.0.2.9", "enforce", 0), "mtasts: policy unavailable");
	assert_logged("no policy could be had for a domain routed as enforce");
	/* routed none: connect as usual */
	assert_null(decide_connect("", "example.test", "good.mx.test",
	    "192.0.2.9", "none", 0));
}

/* ---- events: what TLS-RPT records ---- */
static void
test_event_enforce(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 0);
	event("tcp:close", "good.mx.test", "enforce", "verified", "");
	assert_int_equal(stub.nrec, 1);
	assert_int_equal(stub.rec.result, MTASTS_RESULT_SUCCESS);
	/* Exim refused it: the failure event records it, not tcp:close */
	event("tcp:close", "good.mx.test", "enforce", "none", "");
	assert_int_equal(stub.nrec, 1);
	event("msg:host:defer", "good.mx.test", "enforce", "none",
	    "the server did not offer TLS");
	assert_int_equal(stub.nrec, 2);
	assert_int_equal(stub.rec.result,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED);
	stub.notafter = "1";			/* 1970 */
	stub.names = "good.mx.test";
	event("msg:host:defer", "good.mx.test", "enforce", "unverified",
	    "TLS session: (certificate verification failed)");
	assert_int_equal(stub.nrec, 3);
	assert_int_equal(stub.rec.result, MTASTS_RESULT_CERT_EXPIRED);
	assert_string_equal(stub.detail, "TLS session: (certificate "
	    "verification failed) (certificate expired)");
}

static void
test_event_testing(void **state)
{
	(void)state;
	script(MTASTS_MODE_TESTING, 0);
	stub.notafter = "99999999999";
	stub.names = "other.mx.test\nwrong.mx.test";
	event("tcp:close", "good.mx.test", "testing", "unverified", "");
	assert_int_equal(stub.rec.result, MTASTS_RESULT_CERT_HOST_MISMATCH);
	assert_string_equal(stub.detail, "certificate not for good.mx.test: "
	    "other.mx.test, wrong.mx.test");
	assert_logged("testing: example.test: session with MX host "
	    "good.mx.test [192.0.2.9] over TLS whose certificate did not "
	    "verify (certificate not for good.mx.test");
	event("tcp:close", "good.mx.test", "testing", "none", "");
	assert_int_equal(stub.rec.result,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED);
	assert_string_equal(stub.detail, "(null)");
	assert_logged("without STARTTLS; enforce would have deferred");
	event("tcp:close", "attacker.evil.test", "testing", "verified", "");
	assert_int_equal(stub.rec.result, MTASTS_RESULT_VALIDATION_FAILURE);
	assert_string_equal(stub.mx, "attacker.evil.test");
	assert_int_equal(stub.nrec, 3);
}

static void
test_event_no_policy(void **state)
{
	(void)state;
	script(MTASTS_MODE_NONE, 0);
	event("tcp:close", "mx.other.test", "none", "none", "");
	assert_int_equal(stub.rec.result,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED);
	assert_int_equal(stub.rec.policy_type, MTASTS_POLICY_NONE_FOUND);
	event("tcp:close", "mx.other.test", "none", "unverified", "");
	assert_int_equal(stub.rec.result, MTASTS_RESULT_SUCCESS);
	assert_int_equal(stub.nrec, 2);
}

static void
test_event_report_mail(void **state)
{
	(void)state;
	script(MTASTS_MODE_ENFORCE, 0);
	stub.sender = MTASTS_REPORT_SENDER "@sender.test";
	event("tcp:close", "good.mx.test", "enforce", "verified", "");
	assert_int_equal(stub.nrec, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mode, setup),
		cmocka_unit_test_setup(test_tls, setup),
		cmocka_unit_test_setup(test_tls_fails_closed, setup),
		cmocka_unit_test_setup(test_connect_enforce, setup),
		cmocka_unit_test_setup(test_connect_log_only, setup),
		cmocka_unit_test_setup(test_connect_testing_and_dane, setup),
		cmocka_unit_test_setup(test_connect_policy_unavailable, setup),
		cmocka_unit_test_setup(test_event_enforce, setup),
		cmocka_unit_test_setup(test_event_testing, setup),
		cmocka_unit_test_setup(test_event_no_policy, setup),
		cmocka_unit_test_setup(test_event_report_mail, setup),
	};

	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
