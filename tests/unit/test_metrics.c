/*
 * test_metrics.c - "mtasts metrics": results recorded through the engine
 * with the answer they ran under come out as exact counters by mode and
 * result type; enforce failures (not log_only) as deferrals; spool lines
 * of version 1 (no mode) as mode "unknown"; the spool backlog measured
 * before the fold; the per-domain labels limited to the busiest N with
 * domain="other", and no counter ever going down as the set grows; a
 * successful policy fetch counted in its store transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/ctx.h"
#include "store/store.h"
#include "store/tlsrpt_spool.h"

struct fixture {
	char			 dir[64];
	char			 conf[128];
	char			 db[128];
	struct mtasts_ctx	*ctx;
};

static int
setup(void **state)
{
	struct fixture	*f;
	FILE		*fp;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/mtasts.conf", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	assert_non_null(fp = fopen(f->conf, "w"));
	fprintf(fp, "store %s\n", f->db);
	fclose(fp);
	assert_int_equal(mtasts_ctx_open(f->conf, NULL, NULL, MTASTS_LOG_ERR,
	    &f->ctx, NULL), MTASTS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	mtasts_ctx_close(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* n results for domain under mode (log_only as given); -1: no answer. */
static void
record(struct mtasts_ctx *ctx, const char *domain, int mode, int log_only,
    enum mtasts_result res, int n)
{
	struct mtasts_tlsrpt_result	r;
	struct mtasts_answer		a;

	memset(&r, 0, sizeof(r));
	memset(&a, 0, sizeof(a));
	a.mode = mode < 0 ? MTASTS_MODE_NONE : (enum mtasts_mode)mode;
	a.log_only = log_only;
	r.domain = domain;
	r.policy_type = MTASTS_POLICY_STS;
	r.mx_host = "mx.example.net";
	r.result = res;
	r.answer = mode < 0 ? NULL : &a;
	while (n-- > 0)
		assert_int_equal(mtasts_tlsrpt_record(ctx, &r), MTASTS_OK);
}

/* The value of the sample line that starts with series, or -1. */
static long long
sample(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 len = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
		p += len;
	}
	return -1;
}

static char *
metrics(struct fixture *f, unsigned top)
{
	char	*text = NULL;

	assert_int_equal(mtasts_metrics(f->ctx, top, &text), MTASTS_OK);
	assert_non_null(text);
	return text;
}

static void
test_counts_by_mode(void **state)
{
	struct fixture	*f = *state;
	char		*t;

	record(f->ctx, "a.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 5);
	record(f->ctx, "a.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_CERT_EXPIRED, 2);
	record(f->ctx, "a.example", MTASTS_MODE_ENFORCE, 1,
	    MTASTS_RESULT_CERT_EXPIRED, 1);
	record(f->ctx, "b.example", MTASTS_MODE_TESTING, 0,
	    MTASTS_RESULT_STARTTLS_NOT_SUPPORTED, 3);
	record(f->ctx, "c.example", -1, 0, MTASTS_RESULT_SUCCESS, 4);
	t = metrics(f, 10);
	assert_int_equal(sample(t, "mtasts_spool_backlog_lines"), 15);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"enforce\",result=\"success\"}"), 5);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"enforce\",result=\"certificate-expired\"}"), 3);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"testing\",result=\"starttls-not-supported\"}"), 3);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"unknown\",result=\"success\"}"), 4);
	/* log_only and testing refuse nothing */
	assert_int_equal(sample(t, "mtasts_deferrals_total{reason="
	    "\"certificate-expired\"}"), 2);
	assert_int_equal(sample(t, "mtasts_deferrals_total{reason="
	    "\"starttls-not-supported\"}"), -1);
	assert_int_equal(sample(t, "mtasts_store_up"), 1);
	assert_int_equal(sample(t, "mtasts_store_writable"), 1);
	assert_int_equal(sample(t, "mtasts_store_errors"), 0);
	assert_non_null(strstr(t, "# TYPE mtasts_sessions_total counter\n"));
	assert_non_null(strstr(t, "# TYPE mtasts_policies_cached gauge\n"));
	free(t);
	/* folded: no backlog, the counters stay */
	t = metrics(f, 10);
	assert_int_equal(sample(t, "mtasts_spool_backlog_lines"), 0);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"enforce\",result=\"success\"}"), 5);
	free(t);
}

/* The daily counters may be purged; the metrics' are not. */
static void
test_survives_purge(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = ctx_store(f->ctx);
	char		*t;

	record(f->ctx, "a.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 2);
	free(metrics(f, 10));
	assert_int_equal(store_tlsrpt_purge(st, time(NULL) / 86400 + 2),
	    MTASTS_OK);
	t = metrics(f, 10);
	assert_int_equal(sample(t, "mtasts_sessions_total{policy_type=\"sts\","
	    "mode=\"enforce\",result=\"success\"}"), 2);
	free(t);
}

/* Top N: the busiest get labels, the rest "other"; nothing goes down. */
static void
test_top_domains(void **state)
{
	struct fixture	*f = *state;
	char		*t;
	long long	 other;

	record(f->ctx, "busy.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 5);
	record(f->ctx, "quiet.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 1);
	record(f->ctx, "late.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 2);
	t = metrics(f, 1);
	assert_int_equal(sample(t, "mtasts_domain_sessions_total{domain="
	    "\"busy.example\",outcome=\"success\"}"), 0);
	assert_int_equal(sample(t, "mtasts_domain_sessions_total{domain="
	    "\"late.example\",outcome=\"success\"}"), -1);
	other = sample(t, "mtasts_domain_sessions_total{domain=\"other\","
	    "outcome=\"success\"}");
	assert_int_equal(other, 8);
	free(t);
	record(f->ctx, "busy.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 1);
	record(f->ctx, "late.example", MTASTS_MODE_ENFORCE, 0,
	    MTASTS_RESULT_SUCCESS, 1);
	/* a second label now: late.example joins, "other" keeps its past */
	t = metrics(f, 2);
	assert_int_equal(sample(t, "mtasts_domain_sessions_total{domain="
	    "\"busy.example\",outcome=\"success\"}"), 1);
	assert_int_equal(sample(t, "mtasts_domain_sessions_total{domain="
	    "\"late.example\",outcome=\"success\"}"), 0);
	assert_true(sample(t, "mtasts_domain_sessions_total{domain=\"other\","
	    "outcome=\"success\"}") >= other);
	assert_int_equal(sample(t, "mtasts_domain_sessions_total{domain="
	    "\"other\",outcome=\"success\"}"), 9);
	free(t);
}

/* A fetched policy is counted with its store write; one cached. */
static void
test_fetch_and_cache(void **state)
{
	struct fixture		*f = *state;
	struct store		*st = ctx_store(f->ctx);
	struct store_policy	 p;
	char			*t;

	memset(&p, 0, sizeof(p));
	strcpy(p.domain, "a.example");
	strcpy(p.id, "1");
	p.text = "version: STSv1\nmode: enforce\nmx: mx.a.example\n"
	    "max_age: 86400\n";
	p.fetched = p.checked = time(NULL);
	p.expires = p.fetched + 86400;
	assert_int_equal(store_put_release(st, &p), MTASTS_OK);
	t = metrics(f, 10);
	assert_int_equal(sample(t, "mtasts_policy_fetches_total{result="
	    "\"success\"}"), 1);
	assert_int_equal(sample(t, "mtasts_policies_cached{mode=\"enforce\"}"),
	    1);
	assert_int_equal(sample(t, "mtasts_policies_cached{mode=\"testing\"}"),
	    0);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts_by_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_survives_purge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_top_domains, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fetch_and_cache, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
