/*
 * test_resolve.c - every RFC 8461 section 5 rule of the engine
 * (resolve.c) replayed against a scripted network and clock, through the
 * network seam (net.h): no root, no lab, no real DNS or HTTPS. Each test
 * scripts what _mta-sts.DOMAIN answers and what the policy host serves,
 * moves the clock, and checks the answer and how often DNS and HTTPS
 * were asked. The store is a real SQLite file in a temporary folder.
 *
 * The lab's resolve.sh runs the same rules against real nsd and nginx;
 * this file is for the rules, quickly and exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/ctx.h"

#define T0		((time_t)1764633600)	/* 2025-12-02 00:00 UTC */
#define DOMAIN		"example.test"
#define ENFORCE_BODY	"version: STSv1\nmode: enforce\nmx: mx.example.test\n" \
			"max_age: 86400\n"
#define TESTING_BODY	"version: STSv1\nmode: testing\nmx: mx.example.test\n" \
			"max_age: 86400\n"
#define SHORT_BODY	"version: STSv1\nmode: enforce\nmx: mx.example.test\n" \
			"max_age: 1000\n"

/* ---- the script ---- */
static struct {
	time_t		 now;
	int		 txt_rc;	/* MTASTS_OK: answer txt */
	const char	*txt;		/* the TXT record */
	const char	*body;		/* the policy served; NULL: fetch
					   fails */
	unsigned	 ntxt, naddrs, nfetch;
	char		 dir[64];
	void		(*on_txt)(void);	/* run at each TXT lookup */
} net;

static char	 dns_token, fetch_token;

static time_t
clock_now(void)
{
	return net.now;
}

static char **
strv1(const char *s)
{
	char	**v = calloc(1, sizeof(*v));

	assert_non_null(v);
	assert_non_null(v[0] = strdup(s));
	return v;
}

static int
s_dns_new(const struct config *c, const struct logger *l, struct ev *e,
    struct dns **out)
{
	(void)c; (void)l; (void)e;
	*out = (struct dns *)&dns_token;
	return MTASTS_OK;
}

static void
s_dns_free(struct dns *d)
{
	assert_ptr_equal(d, &dns_token);
}

static int
s_dns_txt(struct dns *d, const char *name, char ***v, size_t *n)
{
	assert_ptr_equal(d, &dns_token);
	assert_string_equal(name, "_mta-sts." DOMAIN);
	net.ntxt++;
	if (net.on_txt != NULL)
		net.on_txt();
	if (net.txt_rc != MTASTS_OK)
		return net.txt_rc;
	*v = strv1(net.txt);
	*n = 1;
	return MTASTS_OK;
}

static int
s_dns_addrs(struct dns *d, const char *name, char ***v, size_t *n)
{
	assert_ptr_equal(d, &dns_token);
	assert_string_equal(name, "mta-sts." DOMAIN);
	net.naddrs++;
	*v = strv1("192.0.2.80");
	*n = 1;
	return MTASTS_OK;
}

static int
s_fetch_new(const struct config *c, const struct logger *l, struct ev *e,
    struct fetch **out)
{
	(void)c; (void)l; (void)e;
	*out = (struct fetch *)&fetch_token;
	return MTASTS_OK;
}

static void
s_fetch_free(struct fetch *f)
{
	assert_ptr_equal(f, &fetch_token);
}

static int
s_fetch_policy(struct fetch *f, const char *domain, char *const *addrs,
    size_t naddrs, struct fetch_result *res)
{
	assert_ptr_equal(f, &fetch_token);
	assert_string_equal(domain, DOMAIN);
	assert_int_equal(naddrs, 1);
	assert_string_equal(addrs[0], "192.0.2.80");
	net.nfetch++;
	if (net.body == NULL) {
		res->fail = FETCH_ECONNECT;
		snprintf(res->err, sizeof(res->err), "scripted: refused");
		return MTASTS_EFETCH;
	}
	res->status = 200;
	assert_non_null(res->body = strdup(net.body));
	res->len = strlen(net.body);
	return MTASTS_OK;
}

/* The asynchronous calls are not scripted: they fail to start, which
 * the engine must take as a DNS or fetch failure. */
static int
s_txt_async(struct dns *d, const char *n, dns_strv_cb *cb, void *a)
{
	(void)d; (void)n; (void)cb; (void)a;
	return MTASTS_EDNS;
}

static const struct net_ops scripted = {
	s_dns_new, s_dns_free, s_dns_txt, NULL, s_dns_addrs, NULL,
	s_txt_async, s_txt_async, NULL,
	s_fetch_new, s_fetch_free, s_fetch_policy, NULL, NULL
};

/* ---- contexts ---- */
static struct mtasts_ctx *
ctx_new(const char *extra)
{
	struct mtasts_ctx	*ctx;
	char			 conf[128];
	FILE			*f;

	snprintf(conf, sizeof(conf), "%s/mtasts.conf", net.dir);
	assert_non_null(f = fopen(conf, "w"));
	if (extra == NULL || strncmp(extra, "store ", 6) != 0)
		fprintf(f, "store %s/store.db\n", net.dir);
	fprintf(f, "check_interval 600s\nretry_interval 1h\n"
	    "dns_timeout 100ms\nfetch_timeout 100ms\n%s",
	    extra != NULL ? extra : "");
	fclose(f);
	assert_int_equal(mtasts_ctx_open(conf, NULL, NULL, MTASTS_LOG_ERR,
	    &ctx, NULL), MTASTS_OK);
	ctx_set_net(ctx, &scripted, clock_now);
	return ctx;
}

static int
setup(void **state)
{
	memset(&net, 0, sizeof(net));
	snprintf(net.dir, sizeof(net.dir), "/tmp/test_resolve.XXXXXX");
	assert_non_null(mkdtemp(net.dir));
	net.now = T0;
	net.txt = "v=STSv1; id=id1";
	net.body = ENFORCE_BODY;
	*state = ctx_new(NULL);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	mtasts_ctx_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", net.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Resolves DOMAIN; checks mode and source; returns nothing. */
static void
expect(struct mtasts_ctx *ctx, enum mtasts_mode mode,
    enum mtasts_source src, const char *why)
{
	struct mtasts_answer	 a;

	assert_int_equal(mtasts_resolve(ctx, DOMAIN, &a), MTASTS_OK);
	if (a.mode != mode || a.source != src ||
	    (why != NULL && strstr(a.why, why) == NULL))
		fail_msg("got mode %s from %s (%s); want %s from %s (%s)",
		    mtasts_mode_name(a.mode), mtasts_source_name(a.source),
		    a.why, mtasts_mode_name(mode), mtasts_source_name(src),
		    why != NULL ? why : "");
	mtasts_answer_clear(&a);
}

#define E	MTASTS_MODE_ENFORCE
#define N	MTASTS_MODE_NONE

/* ---- the rules ---- */

/* Nothing cached: TXT, then the policy host's address, then the fetch. */
static void
test_first_fetch(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, "fetched policy id id1");
	assert_int_equal(net.ntxt, 1);
	assert_int_equal(net.naddrs, 1);
	assert_int_equal(net.nfetch, 1);
}

/* Within check_interval the cache answers without DNS. */
static void
test_cached_no_dns(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now += 599;
	expect(*state, E, MTASTS_SRC_CACHE, "TXT id checked 599s ago");
	assert_int_equal(net.ntxt, 1);
	assert_int_equal(net.nfetch, 1);
}

/* After it, the TXT id is checked; the same id fetches nothing. */
static void
test_same_id_no_fetch(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now += 601;
	expect(*state, E, MTASTS_SRC_CACHE, "id id1 unchanged in DNS");
	assert_int_equal(net.ntxt, 2);
	assert_int_equal(net.nfetch, 1);
	/* ... and the check counts: the cache answers alone again */
	net.now += 599;
	expect(*state, E, MTASTS_SRC_CACHE, "TXT id checked");
	assert_int_equal(net.ntxt, 2);
}

/* A new id fetches the policy again (RFC 8461 section 5.1). */
static void
test_new_id_fetches(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now += 601;
	net.txt = "v=STSv1; id=id2";
	net.body = TESTING_BODY;
	expect(*state, MTASTS_MODE_TESTING, MTASTS_SRC_NETWORK,
	    "fetched policy id id2");
	assert_int_equal(net.nfetch, 2);
}

/* A failed fetch keeps the cached policy; the failed id is not fetched
 * again for retry_interval (at least RFC 8461's five minutes). */
static void
test_failed_fetch_backoff(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now += 601;
	net.txt = "v=STSv1; id=id2";
	net.body = NULL;
	expect(*state, E, MTASTS_SRC_STALE, "policy fetch");
	assert_int_equal(net.nfetch, 2);
	net.now += 601;			/* within retry_interval (1h) */
	expect(*state, E, MTASTS_SRC_STALE, "not retried");
	assert_int_equal(net.nfetch, 2);
	net.now += 3600;		/* past it */
	net.body = TESTING_BODY;
	expect(*state, MTASTS_MODE_TESTING, MTASTS_SRC_NETWORK, "id2");
	assert_int_equal(net.nfetch, 3);
}

/* A TXT record that disappears leaves the cached policy in force until
 * it expires; then there is no policy. */
static void
test_txt_removed_until_expiry(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.txt_rc = MTASTS_ENOTFOUND;
	net.now += 601;
	expect(*state, E, MTASTS_SRC_STALE, "no _mta-sts." DOMAIN);
	net.now = T0 + 86400 + 1;
	expect(*state, N, MTASTS_SRC_NONE, "no _mta-sts." DOMAIN);
	assert_int_equal(net.nfetch, 1);
}

/* DNS failing with nothing cached: no policy, and temporary. */
static void
test_dns_failure_uncached(void **state)
{
	struct mtasts_answer	 a;

	net.txt_rc = MTASTS_EDNS;
	assert_int_equal(mtasts_resolve(*state, DOMAIN, &a), MTASTS_OK);
	assert_int_equal(a.mode, N);
	assert_null(a.policy);
	assert_int_equal(a.temperror, 1);
	mtasts_answer_clear(&a);
	assert_int_equal(net.nfetch, 0);
}

/* DNS failing with a policy cached: the policy rules. */
static void
test_dns_failure_cached(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.txt_rc = MTASTS_EDNS;
	net.now += 601;
	expect(*state, E, MTASTS_SRC_STALE, "DNS lookup");
	assert_int_equal(net.nfetch, 1);
}

/* An invalid TXT record is no record: the cached policy rules. */
static void
test_bad_txt_keeps_cached(void **state)
{
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.txt = "v=STSv1; id=not-alnum!";
	net.now += 601;
	expect(*state, E, MTASTS_SRC_STALE, NULL);
	assert_int_equal(net.nfetch, 1);
}

/* An invalid policy is not cached and changes nothing. */
static void
test_invalid_policy(void **state)
{
	net.body = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
	expect(*state, N, MTASTS_SRC_NONE, "invalid");
	assert_int_equal(net.nfetch, 1);
}

/* Past half its max_age a policy is fetched again although its id did
 * not change, so that it never lapses. */
static void
test_proactive_refresh(void **state)
{
	net.body = SHORT_BODY;
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now += 499;			/* check_interval 600: no check */
	expect(*state, E, MTASTS_SRC_CACHE, NULL);
	assert_int_equal(net.nfetch, 1);
	net.now = T0 + 601;		/* checked, and past 500 s */
	expect(*state, E, MTASTS_SRC_NETWORK, "fetched policy id id1");
	assert_int_equal(net.nfetch, 2);
}

/* An expired policy never rules, even when DNS fails. */
static void
test_expired_not_used(void **state)
{
	net.body = SHORT_BODY;
	expect(*state, E, MTASTS_SRC_NETWORK, NULL);
	net.now = T0 + 1001;
	net.txt_rc = MTASTS_EDNS;
	expect(*state, N, MTASTS_SRC_NONE, NULL);
}

/* Overrides: none wins without any lookup; enforce over a testing
 * policy. */
static void
test_overrides(void **state)
{
	struct mtasts_ctx	*ctx;

	mtasts_ctx_close(*state);
	*state = NULL;
	*state = ctx = ctx_new("override " DOMAIN " none\n");
	expect(ctx, N, MTASTS_SRC_OVERRIDE, NULL);
	assert_int_equal(net.ntxt, 0);
	mtasts_ctx_close(ctx);
	*state = NULL;
	net.body = TESTING_BODY;
	*state = ctx = ctx_new("override " DOMAIN " enforce\n");
	expect(ctx, E, MTASTS_SRC_NETWORK, "forced by configuration");
}

/* One fetch among processes: while another process holds the domain's
 * lease and then stores the policy, this one waits and uses it instead
 * of fetching. The other process is a thread with its own store
 * connection. */
static struct store	*other;

static void *
other_fetches(void *arg)
{
	struct store_policy	 row;

	(void)arg;
	usleep(100 * 1000);
	memset(&row, 0, sizeof(row));
	snprintf(row.domain, sizeof(row.domain), DOMAIN);
	snprintf(row.id, sizeof(row.id), "id1");
	row.text = ENFORCE_BODY;
	row.fetched = row.checked = T0;
	row.expires = T0 + 86400;
	assert_int_equal(store_put_release(other, &row), MTASTS_OK);
	return NULL;
}

static pthread_t	 other_thread;

static void
other_takes_lease(void)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/store.db", net.dir);
	assert_int_equal(store_open(path, 1000, NULL, &other), MTASTS_OK);
	assert_int_equal(store_lease(other, DOMAIN, T0, 60), 1);
	assert_int_equal(pthread_create(&other_thread, NULL, other_fetches,
	    NULL), 0);
	net.on_txt = NULL;
}

static void
test_shared_fetch(void **state)
{
	net.on_txt = other_takes_lease;
	expect(*state, E, MTASTS_SRC_NETWORK, "fetched by another process");
	assert_int_equal(pthread_join(other_thread, NULL), 0);
	store_close(other);
	assert_int_equal(net.nfetch, 0);
	assert_int_equal(net.ntxt, 1);
}

/* No store at all: the engine still follows the rules, uncached. */
static void
test_uncached(void **state)
{
	struct mtasts_ctx	*ctx;

	mtasts_ctx_close(*state);
	*state = NULL;
	*state = ctx = ctx_new("store none\n");
	expect(ctx, E, MTASTS_SRC_NETWORK, NULL);
	expect(ctx, E, MTASTS_SRC_NETWORK, NULL);
	assert_int_equal(net.nfetch, 2);
}

#define RT(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		RT(test_first_fetch),
		RT(test_cached_no_dns),
		RT(test_same_id_no_fetch),
		RT(test_new_id_fetches),
		RT(test_failed_fetch_backoff),
		RT(test_txt_removed_until_expiry),
		RT(test_dns_failure_uncached),
		RT(test_dns_failure_cached),
		RT(test_bad_txt_keeps_cached),
		RT(test_invalid_policy),
		RT(test_proactive_refresh),
		RT(test_expired_not_used),
		RT(test_overrides),
		RT(test_shared_fetch),
		RT(test_uncached),
	};

	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
