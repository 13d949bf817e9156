/*
 * test_strv.c - vectors of strings (common/util/strv.c): strv_push()
 * appends and takes the string over, growing the array by one or, with
 * a capacity, by doubling; strv_dup() copies deeply; neither leaves a
 * half-built vector or a leak when memory runs out.
 *
 * Running out of memory is a fault no real peer can produce on demand,
 * so this program defines its own reallocarray() and strdup(), which the
 * static library's calls bind to: they behave as libc's until a test
 * arms fail_after, then fail once that many calls have passed. Leaks
 * show under the ASan+LSan build of make check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mtasts.h"
#include "util/strv.h"

static int	fail_after = -1;	/* -1: never fail */

static int
fault_now(void)
{
	if (fail_after < 0)
		return 0;
	return fail_after-- == 0;
}

void	*reallocarray(void *, size_t, size_t);
char	*strdup(const char *);

void *
reallocarray(void *p, size_t n, size_t size)
{
	if (fault_now() || (size != 0 && n > SIZE_MAX / size)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

char *
strdup(const char *s)
{
	size_t	 len = strlen(s) + 1;
	char	*d;

	if (fault_now()) {
		errno = ENOMEM;
		return NULL;
	}
	if ((d = malloc(len)) != NULL)
		memcpy(d, s, len);
	return d;
}

static int
reset(void **state)
{
	fail_after = -1;
	return 0;
}

static char *
copy(const char *s)
{
	size_t	 len = strlen(s) + 1;
	char	*d = malloc(len);

	assert_non_null(d);
	memcpy(d, s, len);
	return d;
}

/* Strings go in in order and are the caller's own pointers. */
static void
test_push_takes_over(void **state)
{
	char	**v = NULL, *a = copy("mx1.example.com"), *b = copy("10.0.0.1");
	size_t	  n = 0;

	assert_int_equal(strv_push(&v, &n, NULL, a), MTASTS_OK);
	assert_int_equal(strv_push(&v, &n, NULL, b), MTASTS_OK);
	assert_int_equal(n, 2);
	assert_ptr_equal(v[0], a);
	assert_ptr_equal(v[1], b);
	strv_free(v, n);
}

/* A vector made with calloc() elsewhere can be pushed to. */
static void
test_push_onto_calloc(void **state)
{
	char	**v = calloc(1, sizeof(*v));
	size_t	  n = 1;

	assert_non_null(v);
	v[0] = copy("a");
	assert_int_equal(strv_push(&v, &n, NULL, copy("b")), MTASTS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	strv_free(v, n);
}

/* A failed strdup() (NULL) is ENOMEM and changes nothing. */
static void
test_push_null(void **state)
{
	char	**v = NULL;
	size_t	  n = 0;

	assert_int_equal(strv_push(&v, &n, NULL, copy("one")), MTASTS_OK);
	assert_int_equal(strv_push(&v, &n, NULL, NULL), MTASTS_ENOMEM);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "one");
	strv_free(v, n);
}

/* The array cannot grow: s is freed (LSan), the vector as it was. */
static void
test_push_nomem(void **state)
{
	char	**v = NULL, **before;
	size_t	  n = 0;

	assert_int_equal(strv_push(&v, &n, NULL, copy("one")), MTASTS_OK);
	before = v;
	fail_after = 0;
	assert_int_equal(strv_push(&v, &n, NULL, copy("two")), MTASTS_ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "one");
	strv_free(v, n);
}

/* With a capacity the array doubles, and a push with room allocates
 * nothing (the armed reallocarray() would fail it). */
static void
test_push_cap_doubles(void **state)
{
	char	**v = NULL;
	size_t	  n = 0, cap = 0, i;

	for (i = 0; i < 5; i++)
		assert_int_equal(strv_push(&v, &n, &cap, copy("x")),
		    MTASTS_OK);
	assert_int_equal(n, 5);
	assert_int_equal(cap, 8);
	fail_after = 0;
	for (; i < 8; i++)
		assert_int_equal(strv_push(&v, &n, &cap, copy("y")),
		    MTASTS_OK);
	assert_int_equal(strv_push(&v, &n, &cap, copy("z")), MTASTS_ENOMEM);
	assert_int_equal(n, 8);
	assert_int_equal(cap, 8);
	assert_string_equal(v[7], "y");
	fail_after = -1;
	assert_int_equal(strv_push(&v, &n, &cap, copy("z")), MTASTS_OK);
	assert_int_equal(cap, 16);
	assert_string_equal(v[8], "z");
	strv_free(v, n);
}

/* A capacity of 0 on a vector made elsewhere is safe: it grows. */
static void
test_push_cap_foreign(void **state)
{
	char	**v = calloc(3, sizeof(*v));
	size_t	  n = 3, cap = 0, i;

	assert_non_null(v);
	for (i = 0; i < 3; i++)
		v[i] = copy("old");
	assert_int_equal(strv_push(&v, &n, &cap, copy("new")), MTASTS_OK);
	assert_int_equal(n, 4);
	assert_true(cap >= 4);
	assert_string_equal(v[3], "new");
	strv_free(v, n);
}

static void
test_dup_deep(void **state)
{
	char	*src[] = { "a.example", "*.b.example", "" };
	char	**d;
	size_t	  i;

	assert_int_equal(strv_dup(src, 3, &d), MTASTS_OK);
	assert_non_null(d);
	for (i = 0; i < 3; i++) {
		assert_ptr_not_equal(d[i], src[i]);
		assert_string_equal(d[i], src[i]);
	}
	strv_free(d, 3);
}

static void
test_dup_empty(void **state)
{
	char	**d = (char **)&d;

	assert_int_equal(strv_dup(NULL, 0, &d), MTASTS_OK);
	assert_null(d);
}

/* The second copy fails: nothing is handed out, nothing leaks. */
static void
test_dup_nomem(void **state)
{
	char	*src[] = { "one", "two", "three" };
	char	**d = (char **)&d;

	fail_after = 1;
	assert_int_equal(strv_dup(src, 3, &d), MTASTS_ENOMEM);
	assert_null(d);
}

static void
test_free_null(void **state)
{
	strv_free(NULL, 5);
	strv_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_push_takes_over, reset),
		cmocka_unit_test_setup(test_push_onto_calloc, reset),
		cmocka_unit_test_setup(test_push_null, reset),
		cmocka_unit_test_setup(test_push_nomem, reset),
		cmocka_unit_test_setup(test_push_cap_doubles, reset),
		cmocka_unit_test_setup(test_push_cap_foreign, reset),
		cmocka_unit_test_setup(test_dup_deep, reset),
		cmocka_unit_test_setup(test_dup_empty, reset),
		cmocka_unit_test_setup(test_dup_nomem, reset),
		cmocka_unit_test_setup(test_free_null, reset),
	};

	return cmocka_run_group_tests_name("strv", tests, NULL, NULL);
}
