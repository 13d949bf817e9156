/*
 * test_match.c - RFC 8461 section 4.1 matching and name normalisation:
 * case, trailing dots, the one-label wildcard, U-labels through libidn2
 * (IDNA2008, non-transitional), and the host-name checks (LDH labels,
 * lengths, no IP addresses). Each table row is its own cmocka test.
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

#define SYN	MTASTS_ESYNTAX

struct mcase {
	const char	*host;
	const char	*pattern;
	int		 rc;		/* 1, 0 or an error */
};

static const struct mcase mcases[] = {
	/* exact, case-insensitive, trailing dot ignored on either side */
	{ "mail.example.com", "mail.example.com", 1 },
	{ "MAIL.Example.COM", "mail.example.com", 1 },
	{ "mail.example.com", "Mail.EXAMPLE.com", 1 },
	{ "mail.example.com.", "mail.example.com", 1 },
	{ "mail.example.com", "mail.example.com.", 1 },
	{ "mail.example.com.", "mail.example.com.", 1 },
	{ "mail.example.net", "mail.example.com", 0 },
	{ "mail.example.com.evil.net", "mail.example.com", 0 },
	{ "xmail.example.com", "mail.example.com", 0 },
	{ "mail.example.co", "mail.example.com", 0 },
	{ "ail.example.com", "mail.example.com", 0 },
	/* "*." covers exactly one extra left-most label */
	{ "a.example.com", "*.example.com", 1 },
	{ "A.EXAMPLE.COM.", "*.example.com", 1 },
	{ "a.example.com", "*.example.com.", 1 },
	{ "mx-1.example.com", "*.EXAMPLE.com", 1 },
	{ "example.com", "*.example.com", 0 },
	{ "a.b.example.com", "*.example.com", 0 },
	{ "aexample.com", "*.example.com", 0 },
	{ "a.example.com.evil", "*.example.com", 0 },
	{ "a.example.org", "*.example.com", 0 },
	{ "com", "*.com", 0 },
	{ "example.com", "*.com", 1 },
	/* real policies */
	{ "gmail-smtp-in.l.google.com", "gmail-smtp-in.l.google.com", 1 },
	{ "alt1.gmail-smtp-in.l.google.com", "*.gmail-smtp-in.l.google.com",
	    1 },
	{ "alt1.gmail-smtp-in.l.google.com", "gmail-smtp-in.l.google.com",
	    0 },
	{ "example-com.mail.protection.outlook.com",
	    "*.mail.protection.outlook.com", 1 },
	{ "a.b.mail.protection.outlook.com", "*.mail.protection.outlook.com",
	    0 },
	/* IDN: U-labels become A-labels on either side */
	{ "mx.b\xc3\xbc" "cher.example", "mx.xn--bcher-kva.example", 1 },
	{ "MX.B\xc3\x9c" "CHER.example", "mx.xn--bcher-kva.example", 1 },
	{ "mx.xn--bcher-kva.example", "mx.b\xc3\xbc" "cher.example", 1 },
	{ "mx.b\xc3\xbc" "cher.example.", "*.xn--bcher-kva.example", 1 },
	{ "mx.xn--bcher-kva.example", "*.b\xc3\xbc" "cher.example", 1 },
	{ "b\xc3\xbc" "cher.example", "*.xn--bcher-kva.example", 0 },
	{ "mx.bucher.example", "mx.xn--bcher-kva.example", 0 },
	/* IDNA2008 non-transitional: sharp s stays, it is not "ss" */
	{ "fa\xc3\x9f.de", "xn--fa-hia.de", 1 },
	{ "fa\xc3\x9f.de", "fass.de", 0 },
	/* invalid names are errors, not mismatches */
	{ "", "example.com", SYN },
	{ "example.com", "", SYN },
	{ ".", "example.com", SYN },
	{ "*.example.com", "*.example.com", SYN },
	{ "a.example.com", "a.*.com", SYN },
	{ "a.example.com", "*", SYN },
	{ "a.example.com", "*.", SYN },
	{ "a.example.com", "**.example.com", SYN },
	{ "a.example.com", "*a.example.com", SYN },
	{ "192.0.2.1", "192.0.2.1", SYN },
	{ "[192.0.2.1]", "[192.0.2.1]", SYN },
	{ "2001:db8::1", "*.example.com", SYN },
	{ "a..example.com", "*.example.com", SYN },
	{ "-a.example.com", "*.example.com", SYN },
	{ "a-.example.com", "*.example.com", SYN },
	{ "a_b.example.com", "*.example.com", SYN },
	{ "a b.example.com", "*.example.com", SYN },
	{ "a.example.com..", "*.example.com", SYN },
	{ "a.example.com", "*.example.com..", SYN },
	{ "a\xff.example.com", "*.example.com", SYN },
	{ "\xe2\x98\x83.example.com", "*.example.com", SYN },
};

struct ncase {
	const char	*in;
	int		 wildcard;
	int		 rc;
	const char	*out;
};

static const struct ncase ncases[] = {
	{ "Example.COM.", 0, 0, "example.com" },
	{ "localhost", 0, 0, "localhost" },
	{ "123.example", 0, 0, "123.example" },
	{ "xn--bcher-kva.example", 0, 0, "xn--bcher-kva.example" },
	/* ASCII never reaches libidn2, which would refuse this bad A-label */
	{ "xn--zz.example", 0, 0, "xn--zz.example" },
	{ "*.Example.com", 1, 0, "*.example.com" },
	{ "*.Example.com", 0, SYN, "" },
	{ "b\xc3\xbc" "cher.example", 0, 0, "xn--bcher-kva.example" },
	{ "B\xc3\x9c" "CHER.EXAMPLE.", 0, 0, "xn--bcher-kva.example" },
	{ "*.b\xc3\xbc" "cher.example", 1, 0, "*.xn--bcher-kva.example" },
	{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 0,
	    0, "xn--r8jz45g.xn--zckzah" },
	{ "1.2.3.4", 0, SYN, "" },
	{ "example.123", 0, SYN, "" },
	{ "", 0, SYN, "" },
	{ ".", 0, SYN, "" },
	{ "a..", 0, SYN, "" },
	{ "*", 1, SYN, "" },
	{ "*.", 1, SYN, "" },
	{ "*.*.example", 1, SYN, "" },
	{ "a*.example", 1, SYN, "" },
	{ "exa mple.com", 0, SYN, "" },
	{ "a\xc3(.example", 0, SYN, "" },
};

/* A test name with bytes outside printable ASCII written as \xNN. */
static void
name_escape(char *buf, size_t size, const char *prefix, const char *a,
    const char *sep, const char *b)
{
	const char	*parts[4] = { prefix, a, sep, b };
	size_t		 n = 0, i;
	const char	*s;

	for (i = 0; i < 4; i++)
		for (s = parts[i]; *s != '\0' && n + 5 < size; s++) {
			if (*s >= 0x20 && *s < 0x7f)
				buf[n++] = *s;
			else
				n += (size_t)snprintf(buf + n, size - n,
				    "\\x%02x", (unsigned char)*s);
		}
	buf[n] = '\0';
}

static void
test_match(void **state)
{
	const struct mcase	*c = *state;
	int			 rc;

	rc = mtasts_mx_match(c->host, c->pattern);
	if (rc != c->rc)
		fail_msg("match(\"%s\", \"%s\") = %d, want %d", c->host,
		    c->pattern, rc, c->rc);
}

static void
test_normalize(void **state)
{
	const struct ncase	*c = *state;
	char			 out[MTASTS_NAME_MAX + 1];
	int			 rc;

	memset(out, 'X', sizeof(out));
	rc = mtasts_name_normalize(c->in, c->wildcard, out);
	if (rc != c->rc)
		fail_msg("normalize(\"%s\", %d) = %d, want %d", c->in,
		    c->wildcard, rc, c->rc);
	assert_string_equal(out, c->out);
}

/* Labels of 63 and names of 253 octets pass; one more fails. */
static void
test_lengths(void **state)
{
	char	name[300], out[MTASTS_NAME_MAX + 1];
	size_t	i;

	for (i = 0; i < 253; i++)
		name[i] = (i % 64 == 63) ? '.' : 'a';
	name[253] = '\0';
	assert_int_equal(mtasts_name_normalize(name, 0, out), 0);
	assert_string_equal(out, name);
	assert_int_equal(mtasts_mx_match(name, name), 1);
	name[253] = '.';			/* trailing dot: still 253 */
	name[254] = '\0';
	assert_int_equal(mtasts_name_normalize(name, 0, out), 0);
	name[253] = 'a';			/* 254 octets */
	assert_int_equal(mtasts_name_normalize(name, 0, out), SYN);

	/* "*." plus 251 octets is 253 */
	memcpy(name, "*.", 2);
	for (i = 2; i < 253; i++)
		name[i] = ((i - 2) % 64 == 63) ? '.' : 'b';
	name[253] = '\0';
	if (mtasts_name_normalize(name, 1, out) != 0)
		fail_msg("253-octet wildcard pattern refused: %s", name);
	name[253] = 'b';
	name[254] = '\0';
	assert_int_equal(mtasts_name_normalize(name, 1, out), SYN);

	memset(name, 'c', 64);
	memcpy(name + 64, ".com", 5);
	assert_int_equal(mtasts_name_normalize(name, 0, out), SYN);
	assert_int_equal(mtasts_name_normalize(name + 1, 0, out), 0);
}

static void
test_policy_match(void **state)
{
	static const char	 body[] = "version: STSv1\nmode: enforce\n"
	    "mx: gmail-smtp-in.l.google.com\n"
	    "mx: *.gmail-smtp-in.l.google.com\nmax_age: 86400\n";
	struct mtasts_policy	*pol = NULL;
	struct mtasts_policy	 none = { MTASTS_MODE_NONE, 86400, 0, NULL };

	assert_int_equal(mtasts_policy_parse(body, strlen(body), &pol, NULL),
	    0);
	assert_int_equal(mtasts_policy_match(pol,
	    "gmail-smtp-in.l.google.com"), 1);
	assert_int_equal(mtasts_policy_match(pol,
	    "ALT4.gmail-smtp-in.l.google.com."), 1);
	assert_int_equal(mtasts_policy_match(pol,
	    "a.alt4.gmail-smtp-in.l.google.com"), 0);
	assert_int_equal(mtasts_policy_match(pol, "l.google.com"), 0);
	assert_int_equal(mtasts_policy_match(pol, "mx.attacker.example"), 0);
	assert_int_equal(mtasts_policy_match(pol, "192.0.2.1"), SYN);
	assert_int_equal(mtasts_policy_match(pol, ""), SYN);
	assert_int_equal(mtasts_policy_match(pol, NULL), MTASTS_EINVAL);
	assert_int_equal(mtasts_policy_match(NULL, "a.example"),
	    MTASTS_EINVAL);
	assert_int_equal(mtasts_policy_match(&none, "a.example"), 0);
	mtasts_policy_free(pol);
}

static void
test_bad_arguments(void **state)
{
	char	out[MTASTS_NAME_MAX + 1];

	assert_int_equal(mtasts_mx_match(NULL, "a.example"), MTASTS_EINVAL);
	assert_int_equal(mtasts_mx_match("a.example", NULL), MTASTS_EINVAL);
	assert_int_equal(mtasts_name_normalize(NULL, 0, out), MTASTS_EINVAL);
}

int
main(void)
{
	static const struct CMUnitTest	fixed[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_policy_match),
		cmocka_unit_test(test_bad_arguments),
	};
	size_t			 nm = sizeof(mcases) / sizeof(mcases[0]);
	size_t			 nn = sizeof(ncases) / sizeof(ncases[0]);
	size_t			 nf = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest	*tests;
	char			(*names)[128];
	size_t			 i;
	int			 rc;

	tests = calloc(nm + nn + nf, sizeof(*tests));
	names = calloc(nm + nn, sizeof(*names));
	if (tests == NULL || names == NULL)
		return 1;
	for (i = 0; i < nm; i++) {
		name_escape(names[i], sizeof(names[i]), "match ",
		    mcases[i].host, " ~ ", mcases[i].pattern);
		tests[i].name = names[i];
		tests[i].test_func = test_match;
		tests[i].initial_state = (void *)&mcases[i];
	}
	for (i = 0; i < nn; i++) {
		name_escape(names[nm + i], sizeof(names[nm + i]),
		    "normalize ", ncases[i].in, "",
		    ncases[i].wildcard ? " (wildcard)" : "");
		tests[nm + i].name = names[nm + i];
		tests[nm + i].test_func = test_normalize;
		tests[nm + i].initial_state = (void *)&ncases[i];
	}
	memcpy(tests + nm + nn, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("match", tests, nm + nn + nf, NULL,
	    NULL);
	free(names);
	free(tests);
	return rc;
}
