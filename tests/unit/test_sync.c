/*
 * test_sync.c - the SQLite side of a fleet sync (store/store_sync.c):
 * results cut into batches exactly once, a batch kept until it is
 * marked sent, batch numbers never reused, the fleet's policies merged
 * only when newer. PostgreSQL's side is tests/integration/fleet.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_sync.h"

struct fixture {
	char		 dir[64];
	char		 path[96];
	struct store	*st;
};

struct seen {
	long long		 batch;
	size_t			 n;
	unsigned long long	 sessions;
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_sync.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mtasts.db", f->dir);
	assert_int_equal(store_open(f->path, 1000, NULL, &f->st), MTASTS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
add(struct store *st, const char *domain, const char *sip,
    unsigned long long count)
{
	struct store_tlsrpt_row	r;

	memset(&r, 0, sizeof(r));
	r.day = 20000;
	r.domain = domain;
	r.policy_type = "sts";
	r.result = "success";
	r.sending_ip = sip;
	r.count = count;
	assert_int_equal(store_tlsrpt_add(st, &r), MTASTS_OK);
}

static int
on_batch(void *arg, long long batch, const struct store_tlsrpt_row *rows,
    size_t n)
{
	struct seen	*s = arg;
	size_t		 i;

	s->batch = batch;
	s->n = n;
	s->sessions = 0;
	for (i = 0; i < n; i++)
		s->sessions += rows[i].count;
	return MTASTS_OK;
}

/* What the counters gained is cut once; a batch waits until sent. */
static void
test_cut_once(void **state)
{
	struct fixture	*f = *state;
	struct seen	 s;
	long long	 b1, b2, b;

	add(f->st, "a.example", "192.0.2.1", 3);
	add(f->st, "b.example", "192.0.2.2", 4);
	assert_int_equal(store_sync_cut(f->st, &b1), MTASTS_OK);
	assert_true(b1 > 0);
	assert_int_equal(store_sync_cut(f->st, &b2), MTASTS_OK);
	assert_int_equal(b2, 0);	/* nothing new */
	add(f->st, "a.example", "192.0.2.1", 2);
	assert_int_equal(store_sync_cut(f->st, &b2), MTASTS_OK);
	assert_true(b2 > b1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sync_batch(f->st, 0, on_batch, &s, &b),
	    MTASTS_OK);
	assert_int_equal(b, b1);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.sessions, 7);
	/* not sent: still the oldest */
	assert_int_equal(store_sync_batch(f->st, 0, on_batch, &s, &b),
	    MTASTS_OK);
	assert_int_equal(b, b1);
	assert_int_equal(store_sync_sent(f->st, b1), MTASTS_OK);
	assert_int_equal(store_sync_batch(f->st, 0, on_batch, &s, &b),
	    MTASTS_OK);
	assert_int_equal(b, b2);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.sessions, 2);
}

/* Numbers never repeat, even when every batch was sent. */
static void
test_numbers_grow(void **state)
{
	struct fixture	*f = *state;
	struct store_sync_waiting w;
	long long	 b1, b2;

	add(f->st, "a.example", "192.0.2.1", 1);
	assert_int_equal(store_sync_cut(f->st, &b1), MTASTS_OK);
	assert_int_equal(store_sync_sent(f->st, b1), MTASTS_OK);
	add(f->st, "a.example", "192.0.2.1", 1);
	assert_int_equal(store_sync_cut(f->st, &b2), MTASTS_OK);
	assert_true(b2 > b1);
	assert_int_equal(store_sync_waiting(f->st, &w), MTASTS_OK);
	assert_int_equal(w.batches, 1);
	assert_int_equal(w.batch_sessions, 1);
	assert_int_equal(w.uncut_sessions, 0);
}

static void
policy(struct store_policy *p, const char *id, time_t fetched,
    time_t checked)
{
	static char	 text[] = "version: STSv1\nmode: enforce\n"
	    "mx: mx.example.com\nmax_age: 86400\n";

	memset(p, 0, sizeof(*p));
	snprintf(p->domain, sizeof(p->domain), "example.com");
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->text = text;
	p->fetched = fetched;
	p->expires = fetched + 86400;
	p->checked = checked;
}

/* Newer wins: fetched, then id; the same policy checked later. */
static void
test_merge_newer(void **state)
{
	struct fixture		*f = *state;
	struct store_policy	 p, got;
	int			 taken;

	policy(&p, "2", 1000, 1000);
	assert_int_equal(store_put(f->st, &p), MTASTS_OK);
	policy(&p, "1", 900, 1500);
	assert_int_equal(store_sync_merge(f->st, &p, &taken), MTASTS_OK);
	assert_false(taken);
	policy(&p, "1", 1000, 1000);
	assert_int_equal(store_sync_merge(f->st, &p, &taken), MTASTS_OK);
	assert_false(taken);		/* same time, smaller id */
	policy(&p, "2", 1000, 1200);
	assert_int_equal(store_sync_merge(f->st, &p, &taken), MTASTS_OK);
	assert_true(taken);		/* checked later */
	policy(&p, "3", 1100, 1100);
	assert_int_equal(store_sync_merge(f->st, &p, &taken), MTASTS_OK);
	assert_true(taken);
	assert_int_equal(store_get(f->st, "example.com", &got), MTASTS_OK);
	assert_string_equal(got.id, "3");
	assert_int_equal(got.checked, 1200);	/* never goes back */
	store_policy_clear(&got);
}

/* The id is made with the schema and stays. */
static void
test_store_id(void **state)
{
	struct fixture	*f = *state;
	char		 a[STORE_SYNC_ID_MAX + 1], b[STORE_SYNC_ID_MAX + 1];

	assert_int_equal(store_sync_id(f->st, a), MTASTS_OK);
	assert_int_equal(strlen(a), 32);
	store_close(f->st);
	assert_int_equal(store_open(f->path, 1000, NULL, &f->st), MTASTS_OK);
	assert_int_equal(store_sync_id(f->st, b), MTASTS_OK);
	assert_string_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cut_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_numbers_grow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_newer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_id, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
