/*
 * test_rstate.c - the report state file reader is strict where the
 * writer is exact: numbers are digits only and in range (a "-1" attempt
 * count once read as 4294967295, "12abc" as 12), a line too long is an
 * error instead of being read as two lines, and what rstate_save()
 * writes rstate_load() reads back unchanged. Found while writing the
 * round-trip invariant of tests/fuzz/fuzz_rstate.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mtasts.h"
#include "tlsrpt/rstate.h"

#define HEAD	"mtasts-report-state 1\ndomain example.com\nreport-id r1\n"

static char	path[64];

static int
load(const char *text, struct rstate *st)
{
	FILE	*fp;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/test_rstate.%ld",
		    (long)getpid());
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return rstate_load(path, st);
}

static void
test_bad_numbers(void **state)
{
	static const char *const bad[] = {
		HEAD "rua pending -1 0 mailto:a@example.com\n",
		HEAD "rua pending 1 -5 mailto:a@example.com\n",
		HEAD "rua pending 4294967296 0 mailto:a@example.com\n",
		HEAD "rua pending 1x 0 mailto:a@example.com\n",
		HEAD "rua pending 1  0 mailto:a@example.com\n",
		HEAD "rua pending 1 0\n",
		HEAD "rua pending 1 0 \n",
		HEAD "rua sentx 1 0 mailto:a@example.com\n",
		HEAD "day 12abc\n",
		HEAD "day -1\n",
		HEAD "day\t1\n",
		HEAD "built 99999999999999999999\n",
		HEAD "built \n",
	};
	struct rstate	st;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (load(bad[i], &st) != MTASTS_ESYNTAX)
			fail_msg("accepted: %s", bad[i]);
	unlink(path);
}

static void
test_good_numbers(void **state)
{
	struct rstate	st;

	(void)state;
	assert_int_equal(load(HEAD "day 1763942400\nbuilt 0\n"
	    "rua sent 4294967295 9223372036854775807 mailto:a@b.example\n",
	    &st), MTASTS_OK);
	assert_int_equal(st.day, 1763942400);
	assert_int_equal(st.nrua, 1);
	assert_int_equal(st.rua[0].attempts, 4294967295u);
	assert_true(st.rua[0].last == INT64_MAX);
	assert_string_equal(st.rua[0].uri, "mailto:a@b.example");
	rstate_clear(&st);
	unlink(path);
}

/* A line of 4096 bytes or more is an error, never two lines. */
static void
test_long_line(void **state)
{
	struct rstate	 st;
	char		*text;
	size_t		 len = strlen(HEAD) + 5000;

	(void)state;
	assert_non_null(text = malloc(len + 64));
	snprintf(text, len + 64, "%s", HEAD);
	strcat(text, "rua pending 0 0 https://x.example/");
	memset(text + strlen(text), 'a', 4100);
	text[strlen(HEAD) + 34 + 4100] = '\0';
	strcat(text, "\nrua pending 0 0 mailto:a@example.com\n");
	assert_int_equal(load(text, &st), MTASTS_ESYNTAX);
	free(text);
	unlink(path);
}

/* Whatever loads saves and loads back the same. */
static void
test_round_trip(void **state)
{
	struct rstate	st, back;

	(void)state;
	assert_int_equal(load(HEAD "day 0\nbuilt 17\n"
	    "rua expired 12 1764030000 mailto:a@example.org\n"
	    "rua bad 0 0 ftp://x y\n", &st), MTASTS_OK);
	assert_int_equal(rstate_save(path, &st), MTASTS_OK);
	assert_int_equal(rstate_load(path, &back), MTASTS_OK);
	assert_string_equal(back.domain, "example.com");
	assert_int_equal(back.built, 17);
	assert_int_equal(back.nrua, 2);
	assert_int_equal(back.rua[0].status, RSTATE_EXPIRED);
	assert_int_equal(back.rua[0].attempts, 12);
	assert_string_equal(back.rua[1].uri, "ftp://x y");
	rstate_clear(&st);
	rstate_clear(&back);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_good_numbers),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
