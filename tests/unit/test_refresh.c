/*
 * test_refresh.c - the one proactive refresh rule (cache_due() in
 * cache.c) and the two ways the core applies it: mtasts_refresh() for
 * "mtasts refresh" and mtasts_refresh_async() for the filter's timer.
 *
 * The rule is a table of rows and verdicts. The two entry points run on
 * a real store holding one row per state; every domain has an
 * "override ... none" in the configuration, so resolving it answers at
 * once without the network, and the test sees exactly which domains each
 * entry point resolved.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/cache.h"
#include "store/store.h"

#define CI	600	/* check_interval of the tests */
#define NOW	((time_t)1760000000)
#define DAY	86400

static char	policy_text[] = "version: STSv1\nmode: enforce\n"
		    "mx: mx.example.org\nmax_age: 86400\n";

/* One store row and what the rule says about it. */
struct due_case {
	const char	*name;
	int		 text;		/* has a policy text */
	time_t		 fetched, expires, checked, failed;
	const char	*failed_id;
	unsigned	 ci;
	int		 all;
	enum cache_due	 want;
};

static const struct due_case due_cases[] = {
	{ "fresh", 1, NOW - 60, NOW - 60 + DAY, NOW - 60, 0, "", CI, 0,
	    CACHE_NOT_DUE },
	{ "fresh-all", 1, NOW - 60, NOW - 60 + DAY, NOW - 60, 0, "", CI, 1,
	    CACHE_DUE_ALL },
	{ "check-interval-passed", 1, NOW - 700, NOW - 700 + DAY, NOW - 700,
	    0, "", CI, 0, CACHE_DUE_CHECK },
	{ "check-interval-exactly", 1, NOW - CI, NOW - CI + DAY, NOW - CI, 0,
	    "", CI, 0, CACHE_DUE_CHECK },
	{ "check-interval-zero", 1, NOW - 1, NOW - 1 + DAY, NOW - 1, 0, "",
	    0, 0, CACHE_DUE_CHECK },
	{ "checked-in-the-future", 1, NOW, NOW + DAY, NOW + 100, 0, "", CI,
	    0, CACHE_DUE_CHECK },
	{ "past-half-max-age", 1, NOW - DAY / 2 - 1, NOW + DAY / 2 - 1,
	    NOW - 10, 0, "", CI, 0, CACHE_DUE_HALF },
	{ "at-half-max-age", 1, NOW - DAY / 2, NOW + DAY / 2, NOW - 10, 0,
	    "", CI, 0, CACHE_NOT_DUE },
	{ "expired", 1, NOW - 2 * DAY, NOW - DAY, NOW - DAY, 0, "", CI, 0,
	    CACHE_NOT_DUE },
	{ "expires-now", 1, NOW - DAY, NOW, NOW - 700, 0, "", CI, 0,
	    CACHE_NOT_DUE },
	{ "expired-all", 1, NOW - 2 * DAY, NOW - DAY, NOW - DAY, 0, "", CI, 1,
	    CACHE_NOT_DUE },
	{ "failure-only", 0, 0, 0, NOW - 700, NOW - 700, "x", CI, 0,
	    CACHE_NOT_DUE },
	{ "failure-only-all", 0, 0, 0, NOW - 700, NOW - 700, "x", CI, 1,
	    CACHE_NOT_DUE },
	/* a failed fetch of another id: the engine skips its fetch during
	 * retry_interval, the TXT id check is still due */
	{ "failed-id-backoff", 1, NOW - 700, NOW - 700 + DAY, NOW - 700,
	    NOW - 60, "new", CI, 0, CACHE_DUE_CHECK },
	{ "failed-id-backoff-fresh", 1, NOW - 60, NOW - 60 + DAY, NOW - 60,
	    NOW - 60, "new", CI, 0, CACHE_NOT_DUE },
};

static void
fill_row(struct store_policy *p, const struct due_case *c)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->domain, sizeof(p->domain), "%s.example", c->name);
	snprintf(p->id, sizeof(p->id), "old");
	p->text = c->text ? policy_text : NULL;
	p->fetched = c->fetched;
	p->expires = c->expires;
	p->checked = c->checked;
	p->failed = c->failed;
	snprintf(p->failed_id, sizeof(p->failed_id), "%s", c->failed_id);
}

static void
test_due_rule(void **state)
{
	struct store_policy	p;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(due_cases) / sizeof(due_cases[0]); i++) {
		fill_row(&p, &due_cases[i]);
		if (cache_due(&p, NOW, due_cases[i].ci, due_cases[i].all) !=
		    due_cases[i].want)
			fail_msg("%s: cache_due() %d, want %d",
			    due_cases[i].name, cache_due(&p, NOW,
			    due_cases[i].ci, due_cases[i].all),
			    due_cases[i].want);
	}
}

/*
 * The entry points, on a store with one row per state (times relative to
 * now, check_interval CI).
 */
struct fixture {
	char		 dir[64];
	char		 conf[96];
	char		 seen[1024];	/* domains answered, in order */
	unsigned	 calls;
};

static const struct {
	const char	*domain;
	time_t		 fetched, expires, checked;	/* from now */
	int		 text;
	int		 due;
} rows[] = {
	{ "fresh.test", -60, DAY - 60, -60, 1, 0 },
	{ "checkdue.test", -700, DAY - 700, -700, 1, 1 },
	{ "half.test", -DAY / 2 - 100, DAY / 2 - 100, -10, 1, 1 },
	{ "expired.test", -2 * DAY, -10, -700, 1, 0 },
	{ "failonly.test", 0, 0, -700, 0, 0 },
};
#define NROWS	(sizeof(rows) / sizeof(rows[0]))

static int
setup(void **state)
{
	struct fixture		*f;
	struct store_policy	 p;
	struct store		*st;
	struct logger		 lg;
	FILE			*fp;
	time_t			 now = time(NULL);
	size_t			 i;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_refresh.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/mtasts.conf", f->dir);
	assert_non_null(fp = fopen(f->conf, "w"));
	fprintf(fp, "store %s/store.db\ncheck_interval %u\n", f->dir, CI);
	for (i = 0; i < NROWS; i++)
		fprintf(fp, "override %s none\n", rows[i].domain);
	assert_int_equal(fclose(fp), 0);

	memset(&lg, 0, sizeof(lg));
	memset(&p, 0, sizeof(p));
	snprintf(p.domain, sizeof(p.domain), "%s/store.db", f->dir);
	assert_int_equal(store_open(p.domain, 1000, &lg, &st), MTASTS_OK);
	for (i = 0; i < NROWS; i++) {
		snprintf(p.domain, sizeof(p.domain), "%s", rows[i].domain);
		snprintf(p.id, sizeof(p.id), "1");
		p.text = rows[i].text ? policy_text : NULL;
		p.fetched = rows[i].text ? now + rows[i].fetched : 0;
		p.expires = rows[i].text ? now + rows[i].expires : 0;
		p.checked = now + rows[i].checked;
		assert_int_equal(store_put(st, &p), MTASTS_OK);
	}
	store_close(st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The domains the rule picks, in store order, one space after each. */
static const char *
want_due(int all)
{
	static char	buf[512];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < NROWS; i++)
		if (rows[i].due || (all && rows[i].text &&
		    rows[i].expires > 0))
			strcat(strcat(buf, rows[i].domain), " ");
	return buf;
}

static void
on_refreshed(void *arg, const char *domain, int err,
    struct mtasts_answer *ans)
{
	struct fixture	*f = arg;
	size_t		 len = strlen(f->seen);

	assert_int_equal(err, MTASTS_OK);
	assert_int_equal(ans->source, MTASTS_SRC_OVERRIDE);
	snprintf(f->seen + len, sizeof(f->seen) - len, "%s ", domain);
	f->calls++;
	mtasts_answer_clear(ans);
}

static struct mtasts_ctx *
open_ctx(const struct fixture *f)
{
	struct mtasts_ctx	*ctx;
	struct mtasts_diag	 diag;

	assert_int_equal(mtasts_ctx_open(f->conf, NULL, NULL,
	    MTASTS_LOG_ERR, &ctx, &diag), MTASTS_OK);
	return ctx;
}

/* Sorted store order is the rows' order when the names sort alike. */
static const char *
sorted(const char *list)
{
	static char	buf[512];
	char		copy[512], *w[NROWS + 1], *t;
	size_t		n = 0, i, j;

	snprintf(copy, sizeof(copy), "%s", list);
	for (t = strtok(copy, " "); t != NULL && n < NROWS; t = strtok(NULL,
	    " "))
		w[n++] = t;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(w[j - 1], w[j]) > 0; j--) {
			t = w[j];
			w[j] = w[j - 1];
			w[j - 1] = t;
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(strcat(buf, w[i]), " ");
	return buf;
}

static void
test_async_picks_the_due_rows(void **state)
{
	struct fixture		*f = *state;
	struct mtasts_ctx	*ctx = open_ctx(f);
	unsigned		 n;

	assert_int_equal(mtasts_refresh_async(ctx, 0, 0, on_refreshed, f,
	    &n), MTASTS_OK);
	assert_string_equal(sorted(f->seen), sorted(want_due(0)));
	assert_int_equal(n, f->calls);
	assert_int_equal(n, 2);
	mtasts_ctx_close(ctx);
}

static void
test_async_all_and_max(void **state)
{
	struct fixture		*f = *state;
	struct mtasts_ctx	*ctx = open_ctx(f);
	unsigned		 n;

	assert_int_equal(mtasts_refresh_async(ctx, 1, 0, on_refreshed, f,
	    &n), MTASTS_OK);
	assert_string_equal(sorted(f->seen), sorted(want_due(1)));
	assert_int_equal(n, 3);
	f->seen[0] = '\0';
	f->calls = 0;
	assert_int_equal(mtasts_refresh_async(ctx, 1, 2, on_refreshed, f,
	    &n), MTASTS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(f->calls, 2);
	mtasts_ctx_close(ctx);
}

/* The blocking refresh looks at the same number of domains. */
static void
test_sync_counts_the_same(void **state)
{
	struct fixture		*f = *state;
	struct mtasts_ctx	*ctx = open_ctx(f);
	unsigned		 nchecked, nfailed;

	assert_int_equal(mtasts_refresh(ctx, 0, &nchecked, &nfailed),
	    MTASTS_OK);
	assert_int_equal(nchecked, 2);
	assert_int_equal(nfailed, 0);
	assert_int_equal(mtasts_refresh(ctx, 1, &nchecked, &nfailed),
	    MTASTS_OK);
	assert_int_equal(nchecked, 3);
	mtasts_ctx_close(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_rule),
		cmocka_unit_test_setup_teardown(test_async_picks_the_due_rows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_all_and_max,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_counts_the_same,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
