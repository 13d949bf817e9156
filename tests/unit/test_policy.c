/*
 * test_policy.c - the policy file parser and printer (RFC 8461 section
 * 3.2): one table row per grammar rule, valid and invalid, the RFC's
 * example, real published policies, the size and max_age limits, and a
 * format/re-parse round trip for every valid row. Each row is its own
 * cmocka test.
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

#define ENF	MTASTS_MODE_ENFORCE
#define TST	MTASTS_MODE_TESTING
#define NON	MTASTS_MODE_NONE

struct pcase {
	const char		*name;
	const char		*body;
	size_t			 len;	/* 0: strlen(body) */
	int			 rc;
	enum mtasts_mode	 mode;	/* when rc is 0 */
	uint32_t		 max_age;
	const char		*mx;	/* expected patterns, space-separated */
	unsigned		 nwarn;
	unsigned		 line;	/* error line, or first warning's */
	const char		*msg;	/* in the error, or the first warning */
};

#define HDR	"version: STSv1\n"
#define GOOD	HDR "mode: enforce\nmx: mail.example.com\nmax_age: 86400\n"

static const struct pcase cases[] = {
	/* RFC 8461 section 3.2 example, LF and CRLF */
	{ "rfc8461 example", HDR "mode: enforce\nmx: mail.example.com\n"
	    "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
	    0, 0, ENF, 604800,
	    "mail.example.com *.example.net backupmx.example.com", 0, 0,
	    NULL },
	{ "rfc8461 example crlf", "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\n"
	    "mx: backupmx.example.com\r\nmax_age: 604800\r\n",
	    0, 0, ENF, 604800,
	    "mail.example.com *.example.net backupmx.example.com", 0, 0,
	    NULL },
	/* published policies */
	{ "google shape", HDR "mode: enforce\nmx: gmail-smtp-in.l.google.com\n"
	    "mx: *.gmail-smtp-in.l.google.com\nmax_age: 86400\n", 0, 0, ENF,
	    86400, "gmail-smtp-in.l.google.com *.gmail-smtp-in.l.google.com",
	    0, 0, NULL },
	{ "microsoft shape crlf", "version: STSv1\r\nmode: enforce\r\n"
	    "mx: *.mail.protection.outlook.com\r\nmax_age: 604800\r\n", 0, 0,
	    ENF, 604800, "*.mail.protection.outlook.com", 0, 0, NULL },
	/* sts-policy-record / sts-policy-term */
	{ "no final newline", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400", 0, 0, ENF, 86400, "mail.example.com", 0, 0,
	    NULL },
	{ "mixed lf and crlf", "version: STSv1\nmode: testing\r\n"
	    "mx: mail.example.com\nmax_age: 1\r\n", 0, 0, TST, 1,
	    "mail.example.com", 0, 0, NULL },
	{ "trailing wsp on lines", "version: STSv1 \t\nmode: enforce  \n"
	    "mx: mail.example.com\t\nmax_age: 86400 \r\n", 0, 0, ENF, 86400,
	    "mail.example.com", 0, 0, NULL },
	{ "fields in any order after version", HDR "max_age: 5\n"
	    "mx: b.example.com\nmode: testing\nmx: a.example.com\n", 0, 0,
	    TST, 5, "b.example.com a.example.com", 0, 0, NULL },
	{ "bare cr is not a line end", "version: STSv1\rmode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 1, "carriage return" },
	{ "cr at the very end", GOOD "\r", 0, MTASTS_ESYNTAX, 0, 0, NULL,
	    0, 5, "carriage return" },
	/* sts-policy-field-delim = ":" *WSP */
	{ "no space after colon", "version:STSv1\nmode:enforce\n"
	    "mx:mail.example.com\nmax_age:86400\n", 0, 0, ENF, 86400,
	    "mail.example.com", 0, 0, NULL },
	{ "tab and spaces after colon", "version:\tSTSv1\nmode:  \tenforce\n"
	    "mx:   mail.example.com\nmax_age:\t86400\n", 0, 0, ENF, 86400,
	    "mail.example.com", 0, 0, NULL },
	{ "space before colon", HDR "mode : enforce\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2,
	    "expected \":\"" },
	{ "no colon", HDR "mode enforce\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2,
	    "expected \":\"" },
	{ "leading white space", HDR " mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2,
	    "expected a field name" },
	/* version */
	/* any order (RFC 8461 section 3.2 fixes none); a warning if late */
	{ "version second", "mode: enforce\n" HDR "mx: mail.example.com\n"
	    "max_age: 86400\n", 0, 0, ENF, 86400, "mail.example.com", 1, 2,
	    "line 2: \"version: STSv1\" is not the first field" },
	{ "version in the middle", "mode: testing\nmx: a.example.com\n"
	    HDR "mx: b.example.com\nmax_age: 600\n", 0, 0, TST, 600,
	    "a.example.com b.example.com", 1, 3, "not the first field" },
	{ "version after the mx lines", "mode: enforce\nmax_age: 86400\n"
	    "mx: a.example.com\nmx: *.b.example.com\n" HDR, 0, 0, ENF, 86400,
	    "a.example.com *.b.example.com", 1, 5, "not the first field" },
	{ "version last", "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400\nversion: STSv1", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 4, "not the first field" },
	{ "version last crlf", "mode: enforce\r\nmx: mail.example.com\r\n"
	    "max_age: 604800\r\nversion: STSv1\r\n", 0, 0, ENF, 604800,
	    "mail.example.com", 1, 4, "not the first field" },
	{ "version after an extension", "comment: hi\n" GOOD, 0, 0, ENF,
	    86400, "mail.example.com", 2, 1, "unknown field \"comment\"" },
	{ "version after a blank line is first", "\n" GOOD, 0, 0, ENF,
	    86400, "mail.example.com", 1, 1, "empty line" },
	{ "version missing", "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 0,
	    "no \"version: STSv1\" field" },
	{ "version STSv2 not first", "mode: enforce\nversion: STSv2\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 2, "version \"STSv2\" is not \"STSv1\"" },
	{ "version last STSv2", "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400\nversion: STSv2\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 0, 4, "version \"STSv2\"" },
	{ "version late first wins", "mode: enforce\n" HDR
	    "mx: mail.example.com\nversion: STSv2\nmax_age: 86400\n", 0, 0,
	    ENF, 86400, "mail.example.com", 2, 2, "not the first field" },
	{ "version late bad first wins", "mode: enforce\nversion: STSv0\n"
	    HDR "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX,
	    0, 0, NULL, 0, 2, "\"STSv0\"" },
	{ "version STSv2", "version: STSv2\nmode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 1, "version \"STSv2\"" },
	{ "version is case-sensitive", "version: stsv1\nmode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 1, "stsv1" },
	{ "version with trailing text", "version: STSv1 x\nmode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 1, NULL },
	{ "field name Version", "Version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 1, 0, "no \"version: STSv1\" field" },
	{ "duplicate version warns", GOOD "version: STSv2\n", 0, 0, ENF,
	    86400, "mail.example.com", 1, 5, "duplicate version" },
	/* mode */
	{ "mode testing", HDR "mode: testing\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, 0, TST, 86400, "mail.example.com", 0, 0,
	    NULL },
	{ "mode none without mx", HDR "mode: none\nmax_age: 86400\n", 0, 0,
	    NON, 86400, "", 0, 0, NULL },
	{ "mode none with mx", HDR "mode: none\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, 0, NON, 86400, "mail.example.com", 0, 0,
	    NULL },
	{ "mode Enforce", HDR "mode: Enforce\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2,
	    "mode \"Enforce\" is not one of testing, enforce or none" },
	{ "mode enforced", HDR "mode: enforced\nmx: mail.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2,
	    "enforced" },
	{ "mode empty", HDR "mode:\nmx: mail.example.com\nmax_age: 86400\n",
	    0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 2, "has no value" },
	{ "missing mode", HDR "mx: mail.example.com\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 0, "no mode field" },
	{ "duplicate mode first wins", HDR "mode: testing\n"
	    "mx: mail.example.com\nmode: enforce\nmax_age: 86400\n", 0, 0,
	    TST, 86400, "mail.example.com", 1, 4, "duplicate mode field "
	    "ignored; the first one, on line 2" },
	{ "field name Mode warns", GOOD "Mode: testing\n", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 5, "did you mean \"mode\"" },
	{ "only Mode is missing mode", HDR "Mode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 1, 0, "no mode field" },
	/* max_age = 1*10(DIGIT), at most 31557600 */
	{ "max_age maximum", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 31557600\n", 0, 0, ENF, 31557600, "mail.example.com",
	    0, 0, NULL },
	{ "max_age above maximum", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 31557601\n", 0, MTASTS_ERANGE, 0, 0, NULL, 0, 4,
	    "line 4: max_age 31557601 is above the maximum of 31557600 "
	    "seconds (RFC 8461 section 3.2)" },
	{ "max_age ten nines", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 9999999999\n", 0, MTASTS_ERANGE, 0, 0, NULL, 0, 4,
	    "9999999999 is above" },
	{ "max_age zero", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 0\n", 0, 0, ENF, 0, "mail.example.com", 0, 0, NULL },
	{ "max_age ten digits leading zeros", HDR "mode: enforce\n"
	    "mx: mail.example.com\nmax_age: 0000086400\n", 0, 0, ENF, 86400,
	    "mail.example.com", 0, 0, NULL },
	{ "max_age eleven digits", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 00000086400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 4,
	    "11 digits" },
	{ "max_age negative", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: -1\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 4,
	    "not a number" },
	{ "max_age with unit", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 86400s\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 4,
	    "\"86400s\" is not a number" },
	{ "max_age with spaced unit", HDR "mode: enforce\n"
	    "mx: mail.example.com\nmax_age: 86400 s\n", 0, MTASTS_ESYNTAX, 0,
	    0, NULL, 0, 4, "not a number" },
	{ "max_age hex", HDR "mode: enforce\nmx: mail.example.com\n"
	    "max_age: 0x10\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 4, NULL },
	{ "missing max_age", HDR "mode: enforce\nmx: mail.example.com\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 0, "no max_age field" },
	{ "duplicate max_age first wins", GOOD "max_age: 31557601\n", 0, 0,
	    ENF, 86400, "mail.example.com", 1, 5, "duplicate max_age" },
	/* mx = ["*."] Domain */
	{ "missing mx enforce", HDR "mode: enforce\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 0, "no mx field; a policy in "
	    "mode enforce" },
	{ "missing mx testing", HDR "mode: testing\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 0, "mode testing" },
	{ "mx lower-cased", HDR "mode: enforce\nmx: MX1.Example.COM\n"
	    "mx: *.EXAMPLE.net\nmax_age: 86400\n", 0, 0, ENF, 86400,
	    "mx1.example.com *.example.net", 0, 0, NULL },
	{ "mx digits and hyphens", HDR "mode: enforce\n"
	    "mx: 123.mx-1.example.com\nmx: xn--bcher-kva.example\n"
	    "max_age: 86400\n", 0, 0, ENF, 86400,
	    "123.mx-1.example.com xn--bcher-kva.example", 0, 0, NULL },
	{ "mx single label", HDR "mode: enforce\nmx: localhost\n"
	    "max_age: 86400\n", 0, 0, ENF, 86400, "localhost", 0, 0, NULL },
	{ "mx trailing dot warns", HDR "mode: enforce\n"
	    "mx: mail.example.com.\nmax_age: 86400\n", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 3, "trailing dot" },
	{ "mx empty", HDR "mode: enforce\nmx:\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, "has no value" },
	{ "mx lone wildcard", HDR "mode: enforce\nmx: *\nmax_age: 86400\n",
	    0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, "\"*.\"" },
	{ "mx wildcard and dot only", HDR "mode: enforce\nmx: *.\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx inner wildcard", HDR "mode: enforce\nmx: mail.*.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "whole left-most label" },
	{ "mx partial wildcard label", HDR "mode: enforce\n"
	    "mx: mx*.example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 0, 3, "whole left-most label" },
	{ "mx wildcard without dot", HDR "mode: enforce\n"
	    "mx: *example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 0, 3, "whole left-most label" },
	{ "mx double wildcard", HDR "mode: enforce\nmx: *.*.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx ipv4 literal", HDR "mode: enforce\nmx: [192.0.2.1]\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "IP address" },
	{ "mx ipv6 literal", HDR "mode: enforce\nmx: [IPv6:2001:db8::1]\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "IP address" },
	{ "mx dotted quad", HDR "mode: enforce\nmx: 192.0.2.1\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "IP address" },
	{ "mx leading hyphen", HDR "mode: enforce\nmx: -mx.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "not a domain name" },
	{ "mx trailing hyphen", HDR "mode: enforce\nmx: mx-.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "not a domain name" },
	{ "mx empty label", HDR "mode: enforce\nmx: mx..example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx leading dot", HDR "mode: enforce\nmx: .example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx underscore", HDR "mode: enforce\nmx: mx_1.example.com\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx trailing garbage", HDR "mode: enforce\n"
	    "mx: mail.example.com extra\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, "mail.example.com extra" },
	{ "mx two names with comma", HDR "mode: enforce\n"
	    "mx: a.example.com,b.example.com\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx u-label refused naming a-label", HDR "mode: enforce\n"
	    "mx: mx.b\xc3\xbc" "cher.example\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 3,
	    "not ASCII; a policy must list A-labels, here "
	    "\"mx.xn--bcher-kva.example\"" },
	{ "mx u-label wildcard refused", HDR "mode: enforce\n"
	    "mx: *.b\xc3\xbc" "cher.example\nmax_age: 86400\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, "\"*.xn--bcher-kva.example\"" },
	{ "mx invalid utf-8", HDR "mode: enforce\nmx: mx.\xc3\xbc\xff.example\n"
	    "max_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 3, NULL },
	{ "mx label 63", HDR "mode: enforce\nmx: "
	    "a23456789012345678901234567890123456789012345678901234567890123"
	    ".example.com\nmax_age: 86400\n", 0, 0, ENF, 86400,
	    "a23456789012345678901234567890123456789012345678901234567890123"
	    ".example.com", 0, 0, NULL },
	{ "mx label 64", HDR "mode: enforce\nmx: "
	    "a234567890123456789012345678901234567890123456789012345678901234"
	    ".example.com\nmax_age: 86400\n", 0, MTASTS_ESYNTAX, 0, 0, NULL,
	    0, 3, "label longer than 63" },
	/* extensions: name ":" *WSP value, checked and ignored */
	{ "extension ignored with warning", GOOD "comment: hello world\n", 0,
	    0, ENF, 86400, "mail.example.com", 1, 5,
	    "line 5: unknown field \"comment\" ignored" },
	{ "extension utf-8 value", GOOD "note: gr\xc3\xbc\xc3\x9f" "e "
	    "\xe2\x9c\x89 \xf0\x9f\x93\xa7\n", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 5, "unknown field" },
	{ "extension name punctuation", GOOD "x_1-a.b: v\n", 0, 0, ENF,
	    86400, "mail.example.com", 1, 5, "x_1-a.b" },
	{ "extension name 32", GOOD "a2345678901234567890123456789012: v\n",
	    0, 0, ENF, 86400, "mail.example.com", 1, 5, NULL },
	{ "extension name 33", GOOD "a23456789012345678901234567890123: v\n",
	    0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 5, "longer than 32" },
	{ "extension name starts with _", GOOD "_x: v\n", 0, MTASTS_ESYNTAX,
	    0, 0, NULL, 0, 5, "expected a field name" },
	{ "extension empty value", GOOD "x:\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 0, 5, "has no value" },
	{ "extension value control char", GOOD "x: a\x01" "b\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 5, "unexpected text" },
	{ "extension value inner tab", GOOD "x: a\tb\n", 0, MTASTS_ESYNTAX,
	    0, 0, NULL, 0, 5, "unexpected text" },
	{ "extension value bad utf-8", GOOD "x: a\xc3(\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 5, NULL },
	{ "extension value surrogate", GOOD "x: \xed\xa0\x80\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 5, NULL },
	{ "extension value overlong", GOOD "x: \xc0\xaf\n", 0,
	    MTASTS_ESYNTAX, 0, 0, NULL, 0, 5, NULL },
	{ "line of only a colon", GOOD ": v\n", 0, MTASTS_ESYNTAX, 0, 0,
	    NULL, 0, 5, NULL },
	/* blank lines: not in the grammar, accepted with a warning */
	{ "extra newline at end", GOOD "\n", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 5, "empty line" },
	{ "extra crlf at end", "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmax_age: 86400\r\n\r\n", 0, 0, ENF,
	    86400, "mail.example.com", 1, 5, "empty line" },
	{ "blank line inside", HDR "mode: enforce\n  \t\n"
	    "mx: mail.example.com\nmax_age: 86400\n", 0, 0, ENF, 86400,
	    "mail.example.com", 1, 3, "empty line" },
	{ "blank first line", "\n" GOOD, 0, 0, ENF, 86400,
	    "mail.example.com", 1, 1, "empty line" },
	{ "byte order mark", "\xef\xbb\xbf" GOOD, 0, 0, ENF, 86400,
	    "mail.example.com", 1, 1, "byte order mark" },
	/* the body as a whole */
	{ "empty body", "", 0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 0, "empty" },
	{ "only newlines", "\n\n", 0, MTASTS_ESYNTAX, 0, 0, NULL, 2, 0,
	    "no \"version: STSv1\" field" },
	{ "nul byte", HDR "mode: enforce\nmx: mail.exa\0mple.com\n"
	    "max_age: 86400\n", sizeof(HDR "mode: enforce\nmx: mail.exa\0"
	    "mple.com\nmax_age: 86400\n") - 1, MTASTS_ESYNTAX, 0, 0, NULL,
	    0, 3, "line 3: the policy contains a NUL byte" },
	{ "html instead of a policy", "<html><body>Not found</body></html>\n",
	    0, MTASTS_ESYNTAX, 0, 0, NULL, 0, 1, NULL },
};

static int	same_mx(const struct mtasts_policy *, const char *);
static void	check_roundtrip(const struct mtasts_policy *);

/* Are the policy's patterns exactly the space-separated list? */
static int
same_mx(const struct mtasts_policy *pol, const char *list)
{
	char	*copy, *tok, *save = NULL;
	size_t	 i = 0;
	int	 ok = 1;

	copy = strdup(list);
	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save), i++)
		if (i >= pol->nmx || strcmp(pol->mx[i], tok) != 0)
			ok = 0;
	free(copy);
	return ok && i == pol->nmx;
}

/* Formatting then parsing gives back the same policy, without warnings. */
static void
check_roundtrip(const struct mtasts_policy *pol)
{
	struct mtasts_policy	*again = NULL;
	struct mtasts_diag	 diag;
	char			*text;
	size_t			 i;

	text = mtasts_policy_format(pol);
	assert_non_null(text);
	assert_int_equal(mtasts_policy_parse(text, strlen(text), &again,
	    &diag), 0);
	assert_int_equal(diag.nwarn, 0);
	assert_int_equal(again->mode, pol->mode);
	assert_int_equal(again->max_age, pol->max_age);
	assert_int_equal(again->nmx, pol->nmx);
	for (i = 0; i < pol->nmx; i++)
		assert_string_equal(again->mx[i], pol->mx[i]);
	mtasts_policy_free(again);
	free(text);
}

static void
test_case(void **state)
{
	const struct pcase	*c = *state;
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	size_t			 len = c->len ? c->len : strlen(c->body);
	int			 rc;

	rc = mtasts_policy_parse(c->body, len, &pol, &diag);
	if (rc != c->rc)
		print_error("error: %s (line %u)\n", diag.error.msg,
		    diag.error.line);
	assert_int_equal(rc, c->rc);
	assert_int_equal(diag.nwarn, c->nwarn);
	if (rc != 0) {
		assert_null(pol);
		assert_true(diag.error.msg[0] != '\0');
		assert_int_equal(diag.error.line, c->line);
		if (c->line != 0) {
			char	prefix[32];

			snprintf(prefix, sizeof(prefix), "line %u: ", c->line);
			assert_memory_equal(diag.error.msg, prefix,
			    strlen(prefix));
		}
		if (c->msg != NULL && strstr(diag.error.msg, c->msg) == NULL)
			fail_msg("\"%s\" not in \"%s\"", c->msg,
			    diag.error.msg);
		return;
	}
	assert_non_null(pol);
	assert_string_equal(diag.error.msg, "");
	assert_int_equal(pol->mode, c->mode);
	assert_int_equal(pol->max_age, c->max_age);
	if (!same_mx(pol, c->mx))
		fail_msg("mx patterns differ from \"%s\"", c->mx);
	if (c->nwarn > 0) {
		assert_int_equal(diag.warn[0].line, c->line);
		if (c->msg != NULL && strstr(diag.warn[0].msg, c->msg) == NULL)
			fail_msg("\"%s\" not in \"%s\"", c->msg,
			    diag.warn[0].msg);
	}
	check_roundtrip(pol);
	mtasts_policy_free(pol);
}

/* A policy of exactly n bytes: GOOD padded by an extension line. */
static char *
policy_of_size(size_t n)
{
	char	*body;
	size_t	 head = strlen(GOOD "pad: ");

	body = malloc(n);
	assert_non_null(body);
	memcpy(body, GOOD "pad: ", head);
	memset(body + head, 'x', n - head - 1);
	body[n - 1] = '\n';
	return body;
}

static void
test_size_limit(void **state)
{
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	char			*body;

	body = policy_of_size(MTASTS_POLICY_MAX_BODY);
	assert_int_equal(mtasts_policy_parse(body, MTASTS_POLICY_MAX_BODY,
	    &pol, &diag), 0);
	mtasts_policy_free(pol);
	free(body);

	body = policy_of_size(MTASTS_POLICY_MAX_BODY + 1);
	assert_int_equal(mtasts_policy_parse(body,
	    MTASTS_POLICY_MAX_BODY + 1, &pol, &diag), MTASTS_ETOOBIG);
	assert_null(pol);
	assert_non_null(strstr(diag.error.msg, "65537 bytes"));
	free(body);
}

/* A 253-octet pattern is fine, 254 is not. */
static void
test_name_length(void **state)
{
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	char			 body[512], name[300];
	size_t			 i;

	for (i = 0; i < 253; i++)	/* labels "aaa...a." of 63 + dot */
		name[i] = (i % 64 == 63) ? '.' : 'a';
	name[253] = '\0';
	snprintf(body, sizeof(body), HDR "mode: enforce\nmx: %s\n"
	    "max_age: 1\n", name);
	assert_int_equal(mtasts_policy_parse(body, strlen(body), &pol,
	    &diag), 0);
	assert_string_equal(pol->mx[0], name);
	mtasts_policy_free(pol);

	name[253] = 'a';
	name[254] = '\0';
	snprintf(body, sizeof(body), HDR "mode: enforce\nmx: %s\n"
	    "max_age: 1\n", name);
	assert_int_equal(mtasts_policy_parse(body, strlen(body), &pol,
	    &diag), MTASTS_ESYNTAX);
	assert_int_equal(diag.error.line, 3);
	assert_non_null(strstr(diag.error.msg, "longer than 253"));
}

/* Warnings beyond MTASTS_DIAG_WARN_MAX are dropped, parsing goes on. */
static void
test_many_warnings(void **state)
{
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	char			 body[1024];
	size_t			 off;
	int			 i;

	off = (size_t)snprintf(body, sizeof(body), "%s", GOOD);
	for (i = 0; i < 20; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off,
		    "ext%d: %d\n", i, i);
	assert_int_equal(mtasts_policy_parse(body, off, &pol, &diag), 0);
	assert_int_equal(diag.nwarn, MTASTS_DIAG_WARN_MAX);
	assert_int_equal(diag.warn[MTASTS_DIAG_WARN_MAX - 1].line,
	    4 + MTASTS_DIAG_WARN_MAX);
	mtasts_policy_free(pol);
}

/* The printer's exact output; many mx lines survive a round trip. */
static void
test_format(void **state)
{
	static const char	 google[] = HDR "mode: enforce\n"
	    "mx: gmail-smtp-in.l.google.com\n"
	    "mx: *.gmail-smtp-in.l.google.com\nmax_age: 86400\n";
	static const char	 ms[] = "version: STSv1\r\nmode: enforce\r\n"
	    "mx: *.MAIL.protection.outlook.com.\r\nmax_age: 604800\r\n";
	struct mtasts_policy	*pol = NULL;
	char			*text, body[8192];
	size_t			 off;
	int			 i;

	assert_int_equal(mtasts_policy_parse(google, strlen(google), &pol,
	    NULL), 0);
	text = mtasts_policy_format(pol);
	assert_string_equal(text, google);
	free(text);
	mtasts_policy_free(pol);

	assert_int_equal(mtasts_policy_parse(ms, strlen(ms), &pol, NULL), 0);
	text = mtasts_policy_format(pol);
	assert_string_equal(text, HDR "mode: enforce\n"
	    "mx: *.mail.protection.outlook.com\nmax_age: 604800\n");
	free(text);
	mtasts_policy_free(pol);

	off = (size_t)snprintf(body, sizeof(body), HDR "mode: testing\n"
	    "max_age: 31557600\n");
	for (i = 0; i < 200; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off,
		    "mx: mx%d.example.com\n", i);
	assert_int_equal(mtasts_policy_parse(body, off, &pol, NULL), 0);
	assert_int_equal(pol->nmx, 200);
	assert_string_equal(pol->mx[199], "mx199.example.com");
	check_roundtrip(pol);
	mtasts_policy_free(pol);

	assert_null(mtasts_policy_format(NULL));
}

static void
test_bad_arguments(void **state)
{
	struct mtasts_policy	*pol = (struct mtasts_policy *)1;
	struct mtasts_diag	 diag;

	assert_int_equal(mtasts_policy_parse(GOOD, strlen(GOOD), NULL,
	    &diag), MTASTS_EINVAL);
	assert_int_equal(mtasts_policy_parse(NULL, 5, &pol, &diag),
	    MTASTS_EINVAL);
	/* diag may be NULL; *out is NULL after a failure */
	assert_int_equal(mtasts_policy_parse("x", 1, &pol, NULL),
	    MTASTS_ESYNTAX);
	assert_null(pol);
	mtasts_policy_free(NULL);
}

int
main(void)
{
	static const struct CMUnitTest	fixed[] = {
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_many_warnings),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_bad_arguments),
	};
	size_t			 ncase = sizeof(cases) / sizeof(cases[0]);
	size_t			 nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest	*tests;
	size_t			 i;
	int			 rc;

	tests = calloc(ncase + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	memcpy(tests + ncase, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("policy", tests, ncase + nfixed, NULL,
	    NULL);
	free(tests);
	return rc;
}
