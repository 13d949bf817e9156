/*
 * test_mxcache.c - the OpenSMTPD filter's MX set cache: an answer is
 * used for 60 s from its arrival and never longer, a copy is kept, a
 * domain that loses its slot is simply looked up again.
 *
 * The cache is private to the filter, so its source is compiled in here;
 * the test ages an entry by moving its arrival time back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../opensmtpd-filter/mxcache.c"

static void
age(const char *domain, time_t secs)
{
	mxcache_slot(domain)->when.tv_sec -= secs;
}

static void
test_hit_is_a_copy(void **state)
{
	char	 a[] = "mx1.example.org", b[] = "mx2.example.org";
	char	*in[] = { a, b };
	char	**out;
	size_t	 n;

	(void)state;
	mxcache_clear();
	assert_int_equal(mxcache_get("example.org", &out, &n), 0);
	mxcache_put("example.org", in, 2);
	a[0] = 'X';	/* the caller's strings are not kept */
	assert_int_equal(mxcache_get("example.org", &out, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "mx1.example.org");
	assert_string_equal(out[1], "mx2.example.org");
	assert_int_equal(mxcache_get("example.net", &out, &n), 0);
	mxcache_clear();
}

static void
test_sixty_seconds_at_most(void **state)
{
	char	 a[] = "mx.example.org";
	char	*in[] = { a };
	char	**out;
	size_t	 n;

	(void)state;
	mxcache_clear();
	mxcache_put("example.org", in, 1);
	age("example.org", 59);
	assert_int_equal(mxcache_get("example.org", &out, &n), 1);
	age("example.org", 1);
	assert_int_equal(mxcache_get("example.org", &out, &n), 0);
	/* and the stale entry is gone, not kept for later */
	assert_string_equal(mxcache_slot("example.org")->domain, "");
	mxcache_clear();
}

static void
test_empty_set_and_replacement(void **state)
{
	char	 a[] = "old.example.org", b[] = "new.example.org";
	char	*old[] = { a }, *new[] = { b };
	char	**out;
	size_t	 n;

	(void)state;
	mxcache_clear();
	mxcache_put("null.example", NULL, 0);	/* a null MX: no hosts */
	assert_int_equal(mxcache_get("null.example", &out, &n), 1);
	assert_int_equal(n, 0);
	mxcache_put("example.org", old, 1);
	mxcache_put("example.org", new, 1);
	assert_int_equal(mxcache_get("example.org", &out, &n), 1);
	assert_string_equal(out[0], "new.example.org");
	mxcache_clear();
}

static void
test_slot_collision(void **state)
{
	char	 a[] = "mx.a";
	char	*in[] = { a };
	char	 name[32], other[32];
	char	**out;
	size_t	 n;
	int	 i;

	(void)state;
	mxcache_clear();
	snprintf(name, sizeof(name), "d0.example");
	/* find another domain with the same slot */
	for (i = 1; i < 100000; i++) {
		snprintf(other, sizeof(other), "d%d.example", i);
		if (mxcache_slot(other) == mxcache_slot(name))
			break;
	}
	assert_true(i < 100000);
	mxcache_put(name, in, 1);
	mxcache_put(other, in, 1);
	assert_int_equal(mxcache_get(other, &out, &n), 1);
	assert_int_equal(mxcache_get(name, &out, &n), 0);
	mxcache_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_is_a_copy),
		cmocka_unit_test(test_sixty_seconds_at_most),
		cmocka_unit_test(test_empty_set_and_replacement),
		cmocka_unit_test(test_slot_collision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
