/*
 * policy.c - the MTA-STS policy file (RFC 8461 section 3.2): parser and
 * printer.
 *
 * The grammar, which the skip_* functions below mirror rule by rule (each
 * returns the position after what it matched, or NULL on a mismatch):
 *
 *   sts-policy-record  = sts-policy-field *WSP
 *                        *(sts-policy-term sts-policy-field *WSP)
 *                        [sts-policy-term]
 *   sts-policy-term    = LF / CRLF
 *   sts-policy-field   = name sts-policy-field-delim value
 *   sts-policy-field-delim = ":" *WSP
 *   version value      = %s"STSv1"
 *   mode value         = %s"testing" / %s"enforce" / %s"none"
 *   max_age value      = 1*10(DIGIT)
 *   mx value           = ["*."] Domain		; RFC 5321 Domain
 *   sts-policy-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" /
 *                          "-" / ".")
 *   sts-policy-ext-value = sts-policy-vchar
 *                          [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 *   sts-policy-vchar   = VCHAR / UTF8-2 / UTF8-3 / UTF8-4
 *
 * A value is first delimited by the widest rule (sts-policy-ext-value),
 * then checked against its own field's rule, so that an error can quote
 * it. Field names are case-sensitive. Fields come in any order (RFC 8461
 * section 3.2 fixes none); "version: STSv1" must appear somewhere, and
 * one that is not the first field gives a warning, since some readers
 * expect it there. Of a repeated version, mode or max_age the first wins
 * and the others give a warning; mx may repeat. Unknown fields are
 * checked against the extension grammar and ignored with a warning.
 *
 * Deliberate leniency, each with a warning: empty or blank lines (the
 * grammar has none, but real policies often end with an extra newline),
 * a UTF-8 byte order mark, and a trailing dot on an mx pattern. A
 * rejected policy makes a sender deliver without MTA-STS at all, so
 * refusing these would weaken security rather than strengthen it.
 *
 * mx patterns must be A-labels: a non-ASCII pattern is refused, and the
 * error names the A-label form. Patterns are kept lower case, without a
 * trailing dot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "util/diag.h"
#include "util/strv.h"

#define FIELD_NAME_MAX	32	/* sts-policy-ext-name: 1 + 31 */
#define MAX_AGE_DIGITS	10	/* sts-policy-max-age-value: 1*10 DIGIT */
#define LABEL_MAX	63	/* RFC 5321 section 4.5.3.1.2 */
#define QUOTE_MAX	48	/* how much of a bad value an error shows */

struct policy_state {
	const char		*end;		/* end of the body */
	unsigned		 line;		/* current line, 1-based */
	unsigned		 version_line;	/* where each field was first */
	unsigned		 mode_line;	/* seen; 0: not yet */
	unsigned		 max_age_line;
	unsigned		 first_line;	/* of the first field; 0: none */
	size_t			 mxcap;		/* room in pol->mx */
	struct mtasts_policy	*pol;
	struct mtasts_diag	*diag;
};

/* Grammar rules. */
static const char	*skip_wsp(const char *, const char *);
static const char	*skip_term(const char *, const char *);
static const char	*skip_field_name(const char *, const char *);
static const char	*skip_field_delim(const char *, const char *);
static const char	*skip_vchar(const char *, const char *);
static const char	*skip_utf8_tail(const char *, const char *, size_t);
static const char	*skip_ext_value(const char *, const char *);
static const char	*skip_mx_value(const char *, const char *);
static const char	*skip_domain(const char *, const char *);
static const char	*skip_sub_domain(const char *, const char *);

/* Fields. */
static int	policy_line(struct policy_state *, const char *,
		    const char **);
static int	policy_field(struct policy_state *, const char *, size_t,
		    const char *, size_t);
static int	policy_version(struct policy_state *, const char *, size_t);
static int	policy_mode(struct policy_state *, const char *, size_t);
static int	policy_max_age(struct policy_state *, const char *, size_t);
static int	policy_mx(struct policy_state *, const char *, size_t);
static int	policy_mx_add(struct policy_state *, const char *);
static int	policy_duplicate(struct policy_state *, const char *,
		    unsigned);
static int	policy_complete(struct policy_state *);
static const char *mx_problem(const char *, size_t);
static void	quote(char *, size_t, const char *, size_t);
static int	is_alpha(int);
static int	is_digit(int);
static int	is_wsp(int);

int
mtasts_policy_parse(const char *body, size_t len,
    struct mtasts_policy **out, struct mtasts_diag *diag)
{
	struct policy_state	 st;
	const char		*p, *nul, *q;
	unsigned		 line;
	int			 rc;

	diag_init(diag);
	if (out == NULL || (body == NULL && len > 0))
		return diag_error(diag, MTASTS_EINVAL, 0, "no policy given");
	*out = NULL;
	if (len > MTASTS_POLICY_MAX_BODY)
		return diag_error(diag, MTASTS_ETOOBIG, 0,
		    "the policy is %zu bytes, over the limit of %d bytes "
		    "(RFC 8461 section 3.3)", len, MTASTS_POLICY_MAX_BODY);
	if (len == 0)
		return diag_error(diag, MTASTS_ESYNTAX, 0,
		    "the policy is empty");
	if ((nul = memchr(body, '\0', len)) != NULL) {
		for (line = 1, q = body; q < nul; q++)
			if (*q == '\n')
				line++;
		return diag_error(diag, MTASTS_ESYNTAX, line,
		    "line %u: the policy contains a NUL byte", line);
	}

	memset(&st, 0, sizeof(st));
	st.end = body + len;
	st.line = 1;
	st.diag = diag;
	if ((st.pol = calloc(1, sizeof(*st.pol))) == NULL)
		return diag_error(diag, MTASTS_ENOMEM, 0, "out of memory");

	p = body;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		diag_warn(diag, 1, "line 1: a UTF-8 byte order mark at the "
		    "start of the policy is ignored");
		p += 3;
	}
	for (;;) {
		if ((rc = policy_line(&st, p, &p)) != MTASTS_OK)
			goto fail;
		if (p == st.end)
			break;
		p = skip_term(p, st.end);	/* policy_line checked it */
		if (p == st.end)
			break;			/* [sts-policy-term] */
		st.line++;
	}
	if ((rc = policy_complete(&st)) != MTASTS_OK)
		goto fail;
	*out = st.pol;
	return MTASTS_OK;

fail:
	mtasts_policy_free(st.pol);
	return rc;
}

void
mtasts_policy_free(struct mtasts_policy *policy)
{
	if (policy == NULL)
		return;
	strv_free(policy->mx, policy->nmx);
	free(policy);
}

char *
mtasts_policy_format(const struct mtasts_policy *policy)
{
	char	*buf;
	size_t	 size, off, i;
	int	 n;

	if (policy == NULL)
		return NULL;
	/* version, mode and max_age lines with room for any value */
	size = sizeof("version: STSv1\nmode: testing\nmax_age: 4294967295\n");
	for (i = 0; i < policy->nmx; i++)
		size += sizeof("mx: \n") + strlen(policy->mx[i]);
	if ((buf = malloc(size)) == NULL)
		return NULL;
	n = snprintf(buf, size, "version: STSv1\nmode: %s\n",
	    mtasts_mode_name(policy->mode));
	off = (size_t)n;
	for (i = 0; i < policy->nmx; i++) {
		n = snprintf(buf + off, size - off, "mx: %s\n", policy->mx[i]);
		off += (size_t)n;
	}
	snprintf(buf + off, size - off, "max_age: %lu\n",
	    (unsigned long)policy->max_age);
	return buf;
}

/*
 * One line: a field and its trailing *WSP, or a blank line. On success
 * *next is at the sts-policy-term after it or at the end of the body.
 */
static int
policy_line(struct policy_state *st, const char *p, const char **next)
{
	const char	*name, *name_end, *value, *value_end, *q;
	char		 shown[QUOTE_MAX + 8];

	q = skip_wsp(p, st->end);
	if (q == st->end || skip_term(q, st->end) != NULL) {
		diag_warn(st->diag, st->line, "line %u: empty line ignored "
		    "(the grammar has none)", st->line);
		*next = q;
		return MTASTS_OK;
	}
	name = p;
	if (*p == '\r')
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: a carriage return that is not followed by a "
		    "line feed", st->line);
	if ((name_end = skip_field_name(p, st->end)) == NULL) {
		quote(shown, sizeof(shown), p, (size_t)(st->end - p));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: expected a field name (a letter or digit, then "
		    "letters, digits, \"_\", \"-\" or \".\"), found \"%s\"",
		    st->line, shown);
	}
	if (name_end - name > FIELD_NAME_MAX) {
		quote(shown, sizeof(shown), name, (size_t)(name_end - name));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: field name \"%s\" is longer than %d characters",
		    st->line, shown, FIELD_NAME_MAX);
	}
	if ((value = skip_field_delim(name_end, st->end)) == NULL) {
		quote(shown, sizeof(shown), name, (size_t)(name_end - name));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: expected \":\" right after the field name "
		    "\"%s\"", st->line, shown);
	}
	if ((value_end = skip_ext_value(value, st->end)) == NULL) {
		quote(shown, sizeof(shown), name, (size_t)(name_end - name));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: field \"%s\" has no value, or its value starts "
		    "with a control character", st->line, shown);
	}
	q = skip_wsp(value_end, st->end);
	if (q != st->end && skip_term(q, st->end) == NULL) {
		if (*q == '\r')
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "line %u: a carriage return that is not followed "
			    "by a line feed", st->line);
		quote(shown, sizeof(shown), q, (size_t)(st->end - q));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: unexpected text after the value: \"%s\"",
		    st->line, shown);
	}
	*next = q;
	return policy_field(st, name, (size_t)(name_end - name), value,
	    (size_t)(value_end - value));
}

/* Dispatches on the field name; fields come in any order. */
static int
policy_field(struct policy_state *st, const char *name, size_t namelen,
    const char *value, size_t len)
{
	static const char	*const known[] = {
		"version", "mode", "max_age", "mx"
	};
	char			 shown[QUOTE_MAX + 8];
	size_t			 i;

	if (st->first_line == 0)
		st->first_line = st->line;
	if (namelen == 7 && memcmp(name, "version", 7) == 0)
		return policy_version(st, value, len);
	if (namelen == 4 && memcmp(name, "mode", 4) == 0)
		return policy_mode(st, value, len);
	if (namelen == 7 && memcmp(name, "max_age", 7) == 0)
		return policy_max_age(st, value, len);
	if (namelen == 2 && memcmp(name, "mx", 2) == 0)
		return policy_mx(st, value, len);

	/* sts-policy-extension: already checked by the grammar. */
	quote(shown, sizeof(shown), name, namelen);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == namelen &&
		    strncasecmp(known[i], name, namelen) == 0) {
			diag_warn(st->diag, st->line, "line %u: unknown field "
			    "\"%s\" ignored; field names are case-sensitive, "
			    "did you mean \"%s\"?", st->line, shown, known[i]);
			return MTASTS_OK;
		}
	diag_warn(st->diag, st->line, "line %u: unknown field \"%s\" ignored",
	    st->line, shown);
	return MTASTS_OK;
}

static int
policy_version(struct policy_state *st, const char *v, size_t len)
{
	char	shown[QUOTE_MAX + 8];

	if (st->version_line != 0)
		return policy_duplicate(st, "version", st->version_line);
	if (len != 5 || memcmp(v, "STSv1", 5) != 0) {
		quote(shown, sizeof(shown), v, len);
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: version \"%s\" is not \"STSv1\"", st->line,
		    shown);
	}
	if (st->first_line != st->line)
		diag_warn(st->diag, st->line, "line %u: \"version: STSv1\" "
		    "is not the first field; RFC 8461 section 3.2 allows any "
		    "order, but some readers expect it first", st->line);
	st->version_line = st->line;
	return MTASTS_OK;
}

static int
policy_mode(struct policy_state *st, const char *v, size_t len)
{
	char	shown[QUOTE_MAX + 8];

	if (st->mode_line != 0)
		return policy_duplicate(st, "mode", st->mode_line);
	if (len == 7 && memcmp(v, "testing", 7) == 0)
		st->pol->mode = MTASTS_MODE_TESTING;
	else if (len == 7 && memcmp(v, "enforce", 7) == 0)
		st->pol->mode = MTASTS_MODE_ENFORCE;
	else if (len == 4 && memcmp(v, "none", 4) == 0)
		st->pol->mode = MTASTS_MODE_NONE;
	else {
		quote(shown, sizeof(shown), v, len);
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: mode \"%s\" is not one of testing, enforce or "
		    "none (RFC 8461 section 3.2)", st->line, shown);
	}
	st->mode_line = st->line;
	return MTASTS_OK;
}

/* 1*10(DIGIT), at most MTASTS_MAX_AGE_MAX. */
static int
policy_max_age(struct policy_state *st, const char *v, size_t len)
{
	char		shown[QUOTE_MAX + 8];
	uint64_t	n = 0;
	size_t		i;

	if (st->max_age_line != 0)
		return policy_duplicate(st, "max_age", st->max_age_line);
	quote(shown, sizeof(shown), v, len);
	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char)v[i]))
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "line %u: max_age \"%s\" is not a number of "
			    "seconds", st->line, shown);
	if (len > MAX_AGE_DIGITS)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: max_age has %zu digits, more than the %d "
		    "allowed (RFC 8461 section 3.2)", st->line, len,
		    MAX_AGE_DIGITS);
	for (i = 0; i < len; i++)
		n = n * 10 + (uint64_t)(v[i] - '0');
	if (n > MTASTS_MAX_AGE_MAX)
		return diag_error(st->diag, MTASTS_ERANGE, st->line,
		    "line %u: max_age %llu is above the maximum of %d seconds "
		    "(RFC 8461 section 3.2)", st->line, (unsigned long long)n,
		    MTASTS_MAX_AGE_MAX);
	st->pol->max_age = (uint32_t)n;
	st->max_age_line = st->line;
	return MTASTS_OK;
}

/* ["*."] Domain, as an A-label pattern; kept in canonical form. */
static int
policy_mx(struct policy_state *st, const char *v, size_t len)
{
	char	 shown[QUOTE_MAX + 8], buf[MTASTS_NAME_MAX + 2];
	char	 canon[MTASTS_NAME_MAX + 1];
	size_t	 i, glen = len;
	int	 rc;

	quote(shown, sizeof(shown), v, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] >= 0x80)
			break;
	if (i < len) {
		if (len < sizeof(buf)) {
			memcpy(buf, v, len);
			buf[len] = '\0';
		}
		if (len < sizeof(buf) &&
		    mtasts_name_normalize(buf, 1, canon) == MTASTS_OK)
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "line %u: mx \"%s\" is not ASCII; a policy must "
			    "list A-labels, here \"%s\" (RFC 8461 section "
			    "3.2)", st->line, shown, canon);
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: mx \"%s\" is not ASCII and not a valid "
		    "internationalised name either", st->line, shown);
	}
	if (len > 1 && v[len - 1] == '.')
		glen--;
	if (skip_mx_value(v, v + glen) != v + glen || glen > MTASTS_NAME_MAX)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: mx \"%s\" %s", st->line, shown,
		    mx_problem(v, glen));
	if (glen < len)
		diag_warn(st->diag, st->line, "line %u: the trailing dot of mx "
		    "\"%s\" is ignored", st->line, shown);
	memcpy(buf, v, glen);
	buf[glen] = '\0';
	if ((rc = mtasts_name_normalize(buf, 1, canon)) != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			return diag_error(st->diag, rc, 0, "out of memory");
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "line %u: mx \"%s\" is not a host name (an all-digit "
		    "last label makes it look like an IP address)", st->line,
		    shown);
	}
	return policy_mx_add(st, canon);
}

static int
policy_mx_add(struct policy_state *st, const char *canon)
{
	struct mtasts_policy	*pol = st->pol;

	if (strv_push(&pol->mx, &pol->nmx, &st->mxcap, strdup(canon)) !=
	    MTASTS_OK)
		return diag_error(st->diag, MTASTS_ENOMEM, 0, "out of memory");
	return MTASTS_OK;
}

static int
policy_duplicate(struct policy_state *st, const char *name, unsigned first)
{
	diag_warn(st->diag, st->line, "line %u: duplicate %s field ignored; "
	    "the first one, on line %u, applies", st->line, name, first);
	return MTASTS_OK;
}

/* The required fields, once the whole body is read. */
static int
policy_complete(struct policy_state *st)
{
	if (st->version_line == 0)
		return diag_error(st->diag, MTASTS_ESYNTAX, 0,
		    "no \"version: STSv1\" field (RFC 8461 section 3.2 "
		    "requires one)");
	if (st->mode_line == 0)
		return diag_error(st->diag, MTASTS_ESYNTAX, 0,
		    "no mode field (RFC 8461 section 3.2 requires one)");
	if (st->max_age_line == 0)
		return diag_error(st->diag, MTASTS_ESYNTAX, 0,
		    "no max_age field (RFC 8461 section 3.2 requires one)");
	if (st->pol->nmx == 0 && st->pol->mode != MTASTS_MODE_NONE)
		return diag_error(st->diag, MTASTS_ESYNTAX, 0,
		    "no mx field; a policy in mode %s must list at least one "
		    "(RFC 8461 section 3.2)", mtasts_mode_name(st->pol->mode));
	return MTASTS_OK;
}

/* Why an mx value failed the grammar, in words. */
static const char *
mx_problem(const char *v, size_t len)
{
	size_t	i, label = 0;

	if (len == 0)
		return "is empty";
	if (memchr(v, '*', len) != NULL)
		return "uses \"*\" other than as a whole left-most label "
		    "\"*.\" (RFC 8461 section 3.2)";
	if (v[0] == '[' || memchr(v, ':', len) != NULL)
		return "is an IP address; mx patterns are host names";
	if (len > MTASTS_NAME_MAX)
		return "is longer than 253 characters";
	for (i = 0; i < len; i++) {
		if (v[i] == '.')
			label = 0;
		else if (++label > LABEL_MAX)
			return "has a label longer than 63 characters";
	}
	return "is not a domain name (dot-separated labels of letters, "
	    "digits and inner hyphens, RFC 5321)";
}

/* *WSP: never fails. */
static const char *
skip_wsp(const char *p, const char *end)
{
	while (p < end && is_wsp((unsigned char)*p))
		p++;
	return p;
}

/* sts-policy-term = LF / CRLF */
static const char *
skip_term(const char *p, const char *end)
{
	if (p < end && *p == '\n')
		return p + 1;
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return p + 2;
	return NULL;
}

/*
 * (ALPHA / DIGIT) *(ALPHA / DIGIT / "_" / "-" / "."); the caller checks
 * the 32-character cap so that it can say so.
 */
static const char *
skip_field_name(const char *p, const char *end)
{
	int	c;

	if (p == end || !(is_alpha((unsigned char)*p) ||
	    is_digit((unsigned char)*p)))
		return NULL;
	for (p++; p < end; p++) {
		c = (unsigned char)*p;
		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' ||
		    c == '.'))
			break;
	}
	return p;
}

/* sts-policy-field-delim = ":" *WSP */
static const char *
skip_field_delim(const char *p, const char *end)
{
	if (p == end || *p != ':')
		return NULL;
	return skip_wsp(p + 1, end);
}

/*
 * sts-policy-ext-value = sts-policy-vchar
 *                        [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 * The longest match: it ends on a vchar, never on a space.
 */
static const char *
skip_ext_value(const char *p, const char *end)
{
	const char	*q, *last;

	if ((last = skip_vchar(p, end)) == NULL)
		return NULL;
	for (p = last; p < end; ) {
		if (*p == ' ')
			p++;
		else if ((q = skip_vchar(p, end)) != NULL)
			p = last = q;
		else
			break;
	}
	return last;
}

/* sts-policy-vchar = VCHAR / UTF8-2 / UTF8-3 / UTF8-4 (RFC 3629) */
static const char *
skip_vchar(const char *p, const char *end)
{
	unsigned char	c, d;

	if (p == end)
		return NULL;
	c = (unsigned char)p[0];
	if (c >= 0x21 && c <= 0x7e)
		return p + 1;
	if (end - p < 2)
		return NULL;
	d = (unsigned char)p[1];
	if (c >= 0xc2 && c <= 0xdf)
		return skip_utf8_tail(p + 1, end, 1);
	if ((c == 0xe0 && d >= 0xa0 && d <= 0xbf) ||
	    (c == 0xed && d >= 0x80 && d <= 0x9f))
		return skip_utf8_tail(p + 2, end, 1);
	if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
		return skip_utf8_tail(p + 1, end, 2);
	if ((c == 0xf0 && d >= 0x90 && d <= 0xbf) ||
	    (c == 0xf4 && d >= 0x80 && d <= 0x8f))
		return skip_utf8_tail(p + 2, end, 2);
	if (c >= 0xf1 && c <= 0xf3)
		return skip_utf8_tail(p + 1, end, 3);
	return NULL;
}

/* n times UTF8-tail = %x80-BF */
static const char *
skip_utf8_tail(const char *p, const char *end, size_t n)
{
	for (; n > 0; n--, p++)
		if (p == end || (*p & 0xc0) != 0x80)
			return NULL;
	return p;
}

/* sts-policy-mx-value = ["*."] Domain */
static const char *
skip_mx_value(const char *p, const char *end)
{
	if (end - p >= 2 && p[0] == '*' && p[1] == '.')
		p += 2;
	return skip_domain(p, end);
}

/* Domain = sub-domain *("." sub-domain)	(RFC 5321) */
static const char *
skip_domain(const char *p, const char *end)
{
	const char	*q;

	if ((p = skip_sub_domain(p, end)) == NULL)
		return NULL;
	while (p < end && *p == '.') {
		if ((q = skip_sub_domain(p + 1, end)) == NULL)
			break;
		p = q;
	}
	return p;
}

/*
 * sub-domain = Let-dig [Ldh-str]; Ldh-str = *(ALPHA / DIGIT / "-") Let-dig
 * and at most 63 octets (RFC 5321 section 4.5.3.1.2).
 */
static const char *
skip_sub_domain(const char *p, const char *end)
{
	const char	*start = p;
	int		 c;

	for (; p < end; p++) {
		c = (unsigned char)*p;
		if (!(is_alpha(c) || is_digit(c) || c == '-'))
			break;
	}
	if (p == start || *start == '-' || p[-1] == '-' ||
	    p - start > LABEL_MAX)
		return NULL;
	return p;
}

/* Copies up to QUOTE_MAX bytes of s for an error, up to a line end. */
static void
quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len && s[i] != '\n' && s[i] != '\r' && n + 4 < size;
	    i++) {
		if (i == QUOTE_MAX) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	buf[n] = '\0';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}
