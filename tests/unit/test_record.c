/*
 * test_record.c - the _mta-sts (RFC 8461 section 3.1) and _smtp._tls
 * (RFC 8460 section 3) TXT RRset parsers: record selection, every
 * grammar rule valid and invalid, the RFCs' examples, rua URI checks.
 * Each table row is its own cmocka test.
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
#define NOTF	MTASTS_ENOTFOUND
#define MAXREC	4

struct scase {
	const char	*name;
	const char	*txt[MAXREC];	/* the RRset, ends at NULL */
	int		 rc;
	const char	*id;		/* when rc is 0 */
	unsigned	 next;
	unsigned	 nwarn;
	unsigned	 line;		/* error record, or first warning's */
	const char	*msg;		/* in the error or the first warning */
};

static const struct scase scases[] = {
	/* RFC 8461 section 3.1 example */
	{ "rfc8461 example", { "v=STSv1; id=20160831085700Z;" }, 0,
	    "20160831085700Z", 0, 0, 0, NULL },
	{ "no spaces", { "v=STSv1;id=abc" }, 0, "abc", 0, 0, 0, NULL },
	{ "white space around delimiters", { "v=STSv1 ;\tid=abc \t; " }, 0,
	    "abc", 0, 0, 0, NULL },
	{ "extension counted", { "v=STSv1; id=abc; foo=bar; x.y-z_1=!\"#" },
	    0, "abc", 2, 0, 0, NULL },
	{ "extension before id", { "v=STSv1; foo=bar; id=abc" }, 0, "abc", 1,
	    0, 0, NULL },
	{ "id of 32", { "v=STSv1; id=abcdefghijABCDEFGHIJ012345678901" }, 0,
	    "abcdefghijABCDEFGHIJ012345678901", 0, 0, 0, NULL },
	{ "trailing white space warns", { "v=STSv1; id=abc  " }, 0, "abc", 0,
	    1, 1, "white space after the last field" },
	{ "duplicate id first wins", { "v=STSv1; id=one; id=two" }, 0, "one",
	    0, 1, 1, "duplicate id \"two\"" },
	{ "ID is an extension", { "v=STSv1; id=abc; ID=x" }, 0, "abc", 1, 1,
	    1, "did you mean \"id\"" },
	/* selection */
	{ "other TXT records dropped", { "v=spf1 -all",
	    "google-site-verification=xyz", "v=STSv1; id=2" }, 0, "2", 0, 0,
	    0, NULL },
	{ "v=STSv10 does not count", { "v=STSv10; id=1" }, NOTF, NULL, 0, 0,
	    0, "no v=STSv1 record" },
	{ "v=STSv10 beside v=STSv1", { "v=STSv10; id=1", "v=STSv1; id=2" },
	    0, "2", 0, 0, 0, NULL },
	{ "version is case-sensitive", { "v=stsv1; id=1" }, NOTF, NULL, 0, 0,
	    0, NULL },
	{ "leading space does not count", { " v=STSv1; id=1" }, NOTF, NULL, 0,
	    0, 0, NULL },
	{ "empty RRset", { NULL }, NOTF, NULL, 0, 0, 0,
	    "no v=STSv1 record among 0 TXT records" },
	{ "two STS records", { "v=STSv1; id=1", "v=spf1 -all",
	    "v=STSv1; id=2" }, SYN, NULL, 0, 0, 0,
	    "2 STS records (records 1 and 3" },
	{ "two STS records even if one is bad", { "v=STSv1; id=1",
	    "v=STSv1 garbage" }, SYN, NULL, 0, 0, 0, "2 STS records" },
	{ "error names the record", { "v=spf1 -all", "v=STSv1; id=a-b" },
	    SYN, NULL, 0, 0, 2, "record 2: id \"a-b\" may hold only letters "
	    "and digits" },
	/* sts-text-record = sts-version 1*(delim field) [delim] */
	{ "version only", { "v=STSv1" }, SYN, NULL, 0, 0, 1, "no id field" },
	{ "version and delimiter only", { "v=STSv1;" }, SYN, NULL, 0, 0, 1,
	    "no id field" },
	{ "no id", { "v=STSv1; foo=bar" }, SYN, NULL, 0, 0, 1,
	    "no id field" },
	{ "space instead of delimiter", { "v=STSv1 id=abc" }, SYN, NULL, 0, 0,
	    1, "unexpected text \"id=abc\"" },
	{ "text after value", { "v=STSv1; id=abc def" }, SYN, NULL, 0, 0, 1,
	    "unexpected text \"def\"" },
	{ "empty field", { "v=STSv1; id=abc;;" }, SYN, NULL, 0, 0, 1,
	    "expected a field name=value" },
	{ "comma delimiter", { "v=STSv1, id=abc" }, NOTF, NULL, 0, 0, 0,
	    NULL },
	/* sts-id = "id=" 1*32(ALPHA / DIGIT) */
	{ "id of 33", { "v=STSv1; id=abcdefghijABCDEFGHIJ0123456789012" },
	    SYN, NULL, 0, 0, 1, "33 characters long" },
	{ "id empty", { "v=STSv1; id=" }, SYN, NULL, 0, 0, 1, "id is empty" },
	{ "id empty before delimiter", { "v=STSv1; id=;" }, SYN, NULL, 0, 0,
	    1, "id is empty" },
	{ "id with hyphen", { "v=STSv1; id=2016-08-31" }, SYN, NULL, 0, 0, 1,
	    "only letters and digits" },
	{ "id with dot", { "v=STSv1; id=a.b" }, SYN, NULL, 0, 0, 1, NULL },
	{ "id non-ascii", { "v=STSv1; id=caf\xc3\xa9" }, SYN, NULL, 0, 0, 1,
	    NULL },
	/* sts-extension = name "=" value */
	{ "extension value with =", { "v=STSv1; id=1; ext=a=b" }, SYN, NULL,
	    0, 0, 1, "bad field \"ext=a=b\"" },
	{ "extension empty value", { "v=STSv1; id=1; ext=" }, SYN, NULL, 0,
	    0, 1, "bad field" },
	{ "extension without =", { "v=STSv1; id=1; ext" }, SYN, NULL, 0, 0, 1,
	    "expected a field name=value" },
	{ "extension name starts with _", { "v=STSv1; id=1; _e=1" }, SYN,
	    NULL, 0, 0, 1, NULL },
	{ "extension name of 32", { "v=STSv1; id=1; "
	    "a2345678901234567890123456789012=1" }, 0, "1", 1, 0, 0, NULL },
	{ "extension name of 33", { "v=STSv1; id=1; "
	    "a23456789012345678901234567890123=1" }, SYN, NULL, 0, 0, 1,
	    "longer than 32" },
	{ "extension value control char", { "v=STSv1; id=1; e=a\x01" "b" },
	    SYN, NULL, 0, 0, 1, NULL },
	{ "extension value non-ascii", { "v=STSv1; id=1; e=\xc3\xa9" }, SYN,
	    NULL, 0, 0, 1, NULL },
};

struct tcase {
	const char	*name;
	const char	*txt[MAXREC];
	int		 rc;
	const char	*rua[3];	/* expected URIs, ends at NULL */
	unsigned	 next;
	unsigned	 nwarn;
	unsigned	 line;
	const char	*msg;
};

#define V	"v=TLSRPTv1; rua="

static const struct tcase tcases[] = {
	/* RFC 8460 section 3 examples */
	{ "rfc8460 mailto", { "v=TLSRPTv1;rua=mailto:reports@example.com" },
	    0, { "mailto:reports@example.com" }, 0, 0, 0, NULL },
	{ "rfc8460 https", { "v=TLSRPTv1; "
	    "rua=https://reporting.example.com/v1/tlsrpt" }, 0,
	    { "https://reporting.example.com/v1/tlsrpt" }, 0, 0, 0, NULL },
	/* tlsrpt-rua = "rua=" uri *(*WSP "," *WSP uri) */
	{ "two URIs", { V "mailto:a@example.com,https://r.example.net/x" },
	    0, { "mailto:a@example.com", "https://r.example.net/x" }, 0, 0,
	    0, NULL },
	{ "white space around comma", { V "mailto:a@example.com ,\t "
	    "mailto:b@example.net; " }, 0, { "mailto:a@example.com",
	    "mailto:b@example.net" }, 0, 0, 0, NULL },
	{ "trailing comma", { V "mailto:a@example.com," }, SYN, { NULL }, 0,
	    0, 1, "empty URI" },
	{ "empty rua", { "v=TLSRPTv1; rua=" }, SYN, { NULL }, 0, 0, 1,
	    "empty URI" },
	{ "no rua", { "v=TLSRPTv1" }, SYN, { NULL }, 0, 0, 1,
	    "no rua field" },
	{ "RUA is not rua", { "v=TLSRPTv1; RUA=mailto:a@example.com" }, SYN,
	    { NULL }, 0, 1, 1, "no rua field" },
	{ "duplicate rua first wins", { V "mailto:a@example.com; "
	    "rua=mailto:b@example.com" }, 0, { "mailto:a@example.com" }, 0, 1,
	    1, "duplicate rua" },
	{ "extension counted", { V "mailto:a@example.com; ext=1; x=y" }, 0,
	    { "mailto:a@example.com" }, 2, 0, 0, NULL },
	{ "trailing delimiter", { V "mailto:a@example.com;" }, 0,
	    { "mailto:a@example.com" }, 0, 0, 0, NULL },
	{ "space before first delimiter",
	    { "v=TLSRPTv1 ;rua=mailto:a@b.example" }, 0, { "mailto:a@b.example" }, 0, 0, 0, NULL },
	{ "space separated URIs", { V "mailto:a@example.com "
	    "mailto:b@example.com" }, SYN, { NULL }, 0, 0, 1,
	    "unexpected text" },
	/* mailto: */
	{ "mailto upper-case scheme", { V "MAILTO:a@example.com" }, 0,
	    { "MAILTO:a@example.com" }, 0, 0, 0, NULL },
	{ "mailto with hfields", { V "mailto:a@example.com?subject=tls" }, 0,
	    { "mailto:a@example.com?subject=tls" }, 0, 0, 0, NULL },
	{ "mailto percent-encoded", { V "mailto:a%2Bb@example.com" }, 0,
	    { "mailto:a%2Bb@example.com" }, 0, 0, 0, NULL },
	{ "mailto plus and dots", { V "mailto:tls.rpt+x@mx.example.com" }, 0,
	    { "mailto:tls.rpt+x@mx.example.com" }, 0, 0, 0, NULL },
	{ "mailto no @", { V "mailto:example.com" }, SYN, { NULL }, 0, 0, 1,
	    "has no \"@\"" },
	{ "mailto empty local", { V "mailto:@example.com" }, SYN, { NULL }, 0,
	    0, 1, "invalid local part" },
	{ "mailto dot local", { V "mailto:.a@example.com" }, SYN, { NULL }, 0,
	    0, 1, "invalid local part" },
	{ "mailto empty domain", { V "mailto:a@" }, SYN, { NULL }, 0, 0, 1,
	    "invalid mail domain" },
	{ "mailto bad domain", { V "mailto:a@-x.example" }, SYN, { NULL }, 0,
	    0, 1, "invalid mail domain" },
	{ "mailto ip domain", { V "mailto:a@192.0.2.1" }, SYN, { NULL }, 0, 0,
	    1, "invalid mail domain" },
	{ "mailto two @", { V "mailto:a@b@example.com" }, SYN, { NULL }, 0, 0,
	    1, NULL },
	{ "mailto bang", { V "mailto:a!b@example.com" }, SYN, { NULL }, 0, 0,
	    1, "has \"!\", which must be percent-encoded" },
	{ "mailto bad percent", { V "mailto:a%zz@example.com" }, SYN,
	    { NULL }, 0, 0, 1, "percent-encoded octet" },
	{ "mailto percent at end", { V "mailto:a@example.com%4" }, SYN,
	    { NULL }, 0, 0, 1, "percent-encoded octet" },
	{ "mailto non-ascii", { V "mailto:a@b\xc3\xbc" "cher.example" }, SYN,
	    { NULL }, 0, 0, 1, "non-ASCII" },
	/* https: */
	{ "https with port query fragment",
	    { V "https://r.example.com:8443/p/q?x=1&y=2#frag" }, 0,
	    { "https://r.example.com:8443/p/q?x=1&y=2#frag" }, 0, 0, 0,
	    NULL },
	{ "https bare host", { V "https://r.example.com" }, 0,
	    { "https://r.example.com" }, 0, 0, 0, NULL },
	{ "https upper-case scheme", { V "HTTPS://R.Example.com/" }, 0,
	    { "HTTPS://R.Example.com/" }, 0, 0, 0, NULL },
	{ "https without //", { V "https:r.example.com" }, SYN, { NULL }, 0,
	    0, 1, "https://" },
	{ "https empty host", { V "https:///x" }, SYN, { NULL }, 0, 0, 1,
	    "invalid host" },
	{ "https ipv4 host", { V "https://192.0.2.1/x" }, SYN, { NULL }, 0, 0,
	    1, "invalid host" },
	{ "https ipv6 host", { V "https://[2001:db8::1]/x" }, SYN, { NULL },
	    0, 0, 1, "IP address" },
	{ "https user info", { V "https://u:p@r.example.com/" }, SYN,
	    { NULL }, 0, 0, 1, "user information" },
	{ "https port 0", { V "https://r.example.com:0/" }, SYN, { NULL }, 0,
	    0, 1, "bad port" },
	{ "https port 65536", { V "https://r.example.com:65536/" }, SYN,
	    { NULL }, 0, 0, 1, "bad port" },
	{ "https port 65535", { V "https://r.example.com:65535/" }, 0,
	    { "https://r.example.com:65535/" }, 0, 0, 0, NULL },
	{ "https empty port", { V "https://r.example.com:/" }, SYN, { NULL },
	    0, 0, 1, "bad port" },
	{ "https letters in port", { V "https://r.example.com:44a/" }, SYN,
	    { NULL }, 0, 0, 1, "bad port" },
	{ "https bracket in path", { V "https://r.example.com/[x]" }, SYN,
	    { NULL }, 0, 0, 1, "outside the host" },
	{ "https two fragments", { V "https://r.example.com/#a#b" }, SYN,
	    { NULL }, 0, 0, 1, NULL },
	/* other schemes */
	{ "http refused", { V "http://r.example.com/" }, SYN, { NULL }, 0, 0,
	    1, "scheme \"http\"; only mailto: and https: are allowed" },
	{ "ftp refused", { V "ftp://r.example.com/" }, SYN, { NULL }, 0, 0, 1,
	    "scheme \"ftp\"" },
	{ "no scheme", { V "reports@example.com" }, SYN, { NULL }, 0, 0, 1,
	    "no scheme" },
	/* selection */
	{ "v=TLSRPTv10 does not count",
	    { "v=TLSRPTv10; rua=mailto:a@b.example" }, NOTF, { NULL }, 0, 0, 0, "no v=TLSRPTv1 record" },
	{ "other records dropped", { "v=spf1 -all",
	    V "mailto:a@example.com" }, 0, { "mailto:a@example.com" }, 0, 0,
	    0, NULL },
	{ "two TLSRPT records", { V "mailto:a@example.com",
	    V "mailto:b@example.com" }, SYN, { NULL }, 0, 0, 0,
	    "2 TLSRPT records" },
	{ "sts record is not tlsrpt", { "v=STSv1; id=1" }, NOTF, { NULL }, 0,
	    0, 0, NULL },
	{ "extension value with =", { V "mailto:a@example.com; e=a=b" }, SYN,
	    { NULL }, 0, 0, 1, "bad field" },
};

static size_t
count(const char *const *txt)
{
	size_t	n = 0;

	while (n < MAXREC && txt[n] != NULL)
		n++;
	return n;
}

static void
check_diag(const struct mtasts_diag *diag, int rc, unsigned nwarn,
    unsigned line, const char *msg)
{
	const char	*text;

	assert_int_equal(diag->nwarn, nwarn);
	if (rc != 0) {
		assert_true(diag->error.msg[0] != '\0');
		assert_int_equal(diag->error.line, line);
		text = diag->error.msg;
	} else {
		assert_string_equal(diag->error.msg, "");
		if (nwarn == 0)
			return;
		assert_int_equal(diag->warn[0].line, line);
		text = diag->warn[0].msg;
	}
	if (msg != NULL && strstr(text, msg) == NULL)
		fail_msg("\"%s\" not in \"%s\"", msg, text);
}

static void
test_sts(void **state)
{
	const struct scase		*c = *state;
	struct mtasts_sts_record	 rec;
	struct mtasts_diag		 diag;
	int				 rc;

	memset(&rec, 'X', sizeof(rec));
	rc = mtasts_sts_record_parse(c->txt, count(c->txt), &rec, &diag);
	if (rc != c->rc)
		fail_msg("rc %d, want %d: %s", rc, c->rc, diag.error.msg);
	check_diag(&diag, rc, c->nwarn, c->line, c->msg);
	if (rc == 0) {
		assert_string_equal(rec.id, c->id);
		assert_int_equal(rec.next, c->next);
	} else
		assert_string_equal(rec.id, "");
}

static void
test_tlsrpt(void **state)
{
	const struct tcase		*c = *state;
	struct mtasts_tlsrpt_record	*rec = (void *)1;
	struct mtasts_diag		 diag;
	size_t				 i;
	int				 rc;

	rc = mtasts_tlsrpt_record_parse(c->txt, count(c->txt), &rec, &diag);
	if (rc != c->rc)
		fail_msg("rc %d, want %d: %s", rc, c->rc, diag.error.msg);
	check_diag(&diag, rc, c->nwarn, c->line, c->msg);
	if (rc != 0) {
		assert_null(rec);
		return;
	}
	for (i = 0; i < 3 && c->rua[i] != NULL; i++) {
		assert_true(i < rec->nrua);
		assert_string_equal(rec->rua[i], c->rua[i]);
	}
	assert_int_equal(rec->nrua, i);
	assert_int_equal(rec->next, c->next);
	mtasts_tlsrpt_record_free(rec);
}

/* NULL entries in the RRset are skipped; NULL arguments refused. */
static void
test_bad_arguments(void **state)
{
	const char			*txt[] = { NULL, "v=STSv1; id=x",
	    NULL, "v=TLSRPTv1; rua=mailto:a@example.com" };
	struct mtasts_sts_record	 sts;
	struct mtasts_tlsrpt_record	*rpt = NULL;
	struct mtasts_diag		 diag;

	assert_int_equal(mtasts_sts_record_parse(txt, 4, &sts, NULL), 0);
	assert_string_equal(sts.id, "x");
	assert_int_equal(mtasts_tlsrpt_record_parse(txt, 4, &rpt, NULL), 0);
	assert_int_equal(rpt->nrua, 1);
	mtasts_tlsrpt_record_free(rpt);
	mtasts_tlsrpt_record_free(NULL);

	assert_int_equal(mtasts_sts_record_parse(txt, 4, NULL, &diag),
	    MTASTS_EINVAL);
	assert_int_equal(mtasts_sts_record_parse(NULL, 1, &sts, &diag),
	    MTASTS_EINVAL);
	assert_int_equal(mtasts_tlsrpt_record_parse(txt, 4, NULL, &diag),
	    MTASTS_EINVAL);
	assert_int_equal(mtasts_tlsrpt_record_parse(NULL, 0, &rpt, &diag),
	    MTASTS_ENOTFOUND);
}

/* Many URIs grow the array; every one is kept in order. */
static void
test_many_rua(void **state)
{
	struct mtasts_tlsrpt_record	*rec = NULL;
	char				 txt[4096], want[64];
	const char			*set[1] = { txt };
	size_t				 off;
	int				 i;

	off = (size_t)snprintf(txt, sizeof(txt), "v=TLSRPTv1; rua=");
	for (i = 0; i < 50; i++)
		off += (size_t)snprintf(txt + off, sizeof(txt) - off,
		    "%smailto:r%d@example.com", i ? "," : "", i);
	assert_int_equal(mtasts_tlsrpt_record_parse(set, 1, &rec, NULL), 0);
	assert_int_equal(rec->nrua, 50);
	for (i = 0; i < 50; i++) {
		snprintf(want, sizeof(want), "mailto:r%d@example.com", i);
		assert_string_equal(rec->rua[i], want);
	}
	mtasts_tlsrpt_record_free(rec);
}

int
main(void)
{
	static const struct CMUnitTest	fixed[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_many_rua),
	};
	size_t			 ns = sizeof(scases) / sizeof(scases[0]);
	size_t			 nt = sizeof(tcases) / sizeof(tcases[0]);
	size_t			 nf = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest	*tests;
	char			(*names)[96];
	size_t			 i;
	int			 rc;

	tests = calloc(ns + nt + nf, sizeof(*tests));
	names = calloc(ns + nt, sizeof(*names));
	if (tests == NULL || names == NULL)
		return 1;
	for (i = 0; i < ns; i++) {
		snprintf(names[i], sizeof(names[i]), "sts: %s",
		    scases[i].name);
		tests[i].name = names[i];
		tests[i].test_func = test_sts;
		tests[i].initial_state = (void *)&scases[i];
	}
	for (i = 0; i < nt; i++) {
		snprintf(names[ns + i], sizeof(names[ns + i]), "tlsrpt: %s",
		    tcases[i].name);
		tests[ns + i].name = names[ns + i];
		tests[ns + i].test_func = test_tlsrpt;
		tests[ns + i].initial_state = (void *)&tcases[i];
	}
	memcpy(tests + ns + nt, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("record", tests, ns + nt + nf, NULL,
	    NULL);
	free(names);
	free(tests);
	return rc;
}
