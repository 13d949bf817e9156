/*
 * test_probe.c - the SMTP reply reader of probe.c (RFC 5321 section
 * 4.2): multi-line replies, the STARTTLS EHLO keyword, and what is not
 * a reply. The network side of probe.c is tested in the lab
 * (tests/integration/check.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/probe.h"

/* Feeds lines; returns the last probe_reply_line() result. */
static int
feed(struct probe_reply *r, const char *const *lines)
{
	int	rc = 0;

	probe_reply_init(r);
	for (; *lines != NULL; lines++)
		if ((rc = probe_reply_line(r, *lines, strlen(*lines))) != 0)
			break;
	return rc;
}

static void
test_single_line(void **state)
{
	static const char *const l[] = { "220 mx.example ESMTP ready", NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 1);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 1);
	assert_true(r.done);
	assert_string_equal(r.text, "mx.example ESMTP ready");
	assert_false(r.starttls);
}

static void
test_ehlo_multiline_starttls(void **state)
{
	static const char *const l[] = { "250-mx.example hello",
	    "250-PIPELINING", "250-SIZE 10240000", "250-starttls",
	    "250 8BITMIME", NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 1);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 5);
	assert_true(r.starttls);	/* keywords are case-insensitive */
	assert_string_equal(r.text, "mx.example hello");
}

static void
test_ehlo_no_starttls(void **state)
{
	/* STARTTLS as a parameter or a longer word is not the keyword. */
	static const char *const l[] = { "250-mx.example STARTTLS",
	    "250-STARTTLSX", "250-XSTARTTLS", "250 AUTH PLAIN", NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 1);
	assert_false(r.starttls);
}

static void
test_starttls_last_line(void **state)
{
	static const char *const l[] = { "250-mx.example", "250 STARTTLS",
	    NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 1);
	assert_true(r.starttls);
}

static void
test_incomplete(void **state)
{
	static const char *const l[] = { "250-mx.example", "250-SIZE", NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 0);
	assert_false(r.done);
	assert_int_equal(r.nlines, 2);
}

static void
test_bare_code(void **state)
{
	static const char *const l[] = { "250", NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "");
}

static void
test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"", "25", "2x0 x", "650 out of range", "160 out of range",
		"260 second digit", "250x no separator", "hello",
	};
	struct probe_reply	r;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		probe_reply_init(&r);
		assert_int_equal(probe_reply_line(&r, bad[i], strlen(bad[i])),
		    MTASTS_ESYNTAX);
	}
}

static void
test_code_changes(void **state)
{
	static const char *const l[] = { "250-mx.example", "251 other",
	    NULL };
	struct probe_reply	r;

	(void)state;
	assert_int_equal(feed(&r, l), MTASTS_ESYNTAX);
}

static void
test_after_done(void **state)
{
	struct probe_reply	r;

	(void)state;
	probe_reply_init(&r);
	assert_int_equal(probe_reply_line(&r, "220 a", 5), 1);
	assert_int_equal(probe_reply_line(&r, "220 b", 5), MTASTS_ESYNTAX);
}

static void
test_too_many_lines(void **state)
{
	struct probe_reply	r;
	unsigned		i;

	(void)state;
	probe_reply_init(&r);
	for (i = 0; i < PROBE_REPLY_LINES_MAX; i++)
		assert_int_equal(probe_reply_line(&r, "250-x", 5), 0);
	assert_int_equal(probe_reply_line(&r, "250 x", 5), MTASTS_ESYNTAX);
}

static void
test_long_text_cut(void **state)
{
	char			line[600];
	struct probe_reply	r;

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "554 ", 4);
	probe_reply_init(&r);
	assert_int_equal(probe_reply_line(&r, line, sizeof(line)), 1);
	assert_int_equal(r.code, 554);
	assert_int_equal(strlen(r.text), sizeof(r.text) - 1);
}

static void
test_not_nul_terminated(void **state)
{
	/* len counts; bytes after it are not read. */
	static const char	buf[] = "250 STARTTLS and more";
	struct probe_reply	r;

	(void)state;
	probe_reply_init(&r);
	assert_int_equal(probe_reply_line(&r, buf, 12), 1);
	assert_true(r.starttls);
	assert_string_equal(r.text, "STARTTLS");
}

static void
test_stage_names(void **state)
{
	(void)state;
	assert_string_equal(probe_stage_name(PROBE_STARTTLS), "STARTTLS");
	assert_string_equal(probe_stage_name(PROBE_DONE), "done");
	assert_string_equal(probe_stage_name((enum probe_stage)99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_ehlo_multiline_starttls),
		cmocka_unit_test(test_ehlo_no_starttls),
		cmocka_unit_test(test_starttls_last_line),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_bare_code),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_code_changes),
		cmocka_unit_test(test_after_done),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_long_text_cut),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_stage_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
