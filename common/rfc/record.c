/*
 * record.c - the TXT records that announce a policy: "_mta-sts.<domain>"
 * (RFC 8461 section 3.1) and "_smtp._tls.<domain>" (RFC 8460 section 3).
 *
 * The grammar, which the skip_* and field functions mirror:
 *
 *   sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *                     [sts-field-delim]
 *   sts-field       = sts-id / sts-extension
 *   sts-field-delim = *WSP ";" *WSP
 *   sts-version     = %s"v=STSv1"
 *   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *   sts-extension   = sts-ext-name "=" sts-ext-value
 *   sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *   tlsrpt-record   = tlsrpt-version 1*(field-delim tlsrpt-field)
 *                     [field-delim]
 *   field-delim     = *WSP ";" *WSP
 *   tlsrpt-field    = tlsrpt-rua / tlsrpt-extension
 *   tlsrpt-version  = %s"v=TLSRPTv1"
 *   tlsrpt-rua      = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-uri      = URI	; RFC 3986; ",", "!" and ";" percent-encoded
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value  ; as sts-
 *
 * Selection (both RFCs): records that do not begin with the version are
 * dropped, and exactly one must remain. The prose says "v=STSv1;" but the
 * grammar lets white space come before the ";" (RFC 8461 erratum 6285),
 * so a record counts when the version is followed by ";", white space or
 * the end; "v=STSv10;..." does not count. A counted record that then
 * fails to parse is an error, not a reason to look at the others.
 *
 * Of a repeated id or rua field the first wins (with a warning); unknown
 * fields are checked against the extension grammar and counted. White
 * space after the last field is accepted with a warning.
 *
 * rua URIs are mailto: (local@domain, optional ?hfields) or https: (a
 * host name, optional port, path, query and fragment); the domain or host
 * is checked as a host name. Other schemes, IP-address hosts and user
 * information in https URIs are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "util/diag.h"
#include "util/strv.h"

#define EXT_NAME_MAX	32	/* (ALPHA / DIGIT) *31(...) */
#define LOCAL_MAX	64	/* RFC 5321 section 4.5.3.1.1 */
#define QUOTE_MAX	48	/* how much of a bad value an error shows */
#define WHY_MAX		128

struct record_state;

/* What differs between the two kinds of record. */
struct record_kind {
	const char	*version;	/* "v=STSv1" */
	const char	*what;		/* "STS" in messages */
	const char	*rfc;		/* "RFC 8461 section 3.1" */
	int		(*field)(struct record_state *, const char *,
			    const char **);
	int		(*complete)(struct record_state *);
};

struct record_state {
	const struct record_kind	*kind;
	unsigned			 line;	/* 1-based record index */
	struct mtasts_diag		*diag;
	unsigned			 next;	/* extension fields */
	int				 have_id;
	char				 id[MTASTS_ID_MAX + 1];
	struct mtasts_tlsrpt_record	*rpt;
	size_t				 ruacap;	/* room in rpt->rua */
	int				 have_rua;
};

/* Grammar rules. */
static const char	*skip_wsp(const char *);
static const char	*skip_field_delim(const char *);
static const char	*skip_ext_name(const char *);
static const char	*skip_ext_value(const char *);
static const char	*skip_value_token(const char *);

/* Both records. */
static int	record_select(const struct record_kind *, const char *const *,
		    size_t, struct mtasts_diag *, size_t *);
static int	record_is_candidate(const struct record_kind *, const char *);
static int	record_parse(struct record_state *, const char *);
static int	record_extension(struct record_state *, const char *,
		    const char **);

/* _mta-sts */
static int	sts_field(struct record_state *, const char *, const char **);
static int	sts_id(struct record_state *, const char *, const char **);
static int	sts_complete(struct record_state *);

/* _smtp._tls */
static int	tlsrpt_field(struct record_state *, const char *,
		    const char **);
static int	tlsrpt_rua(struct record_state *, const char *, const char **);
static int	tlsrpt_rua_add(struct record_state *, const char *, size_t);
static int	tlsrpt_complete(struct record_state *);
static int	uri_check(const char *, size_t, char *, size_t);
static int	uri_check_mailto(const char *, size_t, char *, size_t);
static int	uri_check_https(const char *, size_t, char *, size_t);
static int	uri_check_host(const char *, size_t);
static int	uri_char(int);
static int	local_char(int);

static void	quote(char *, size_t, const char *, size_t);
static int	is_alnum(int);
static int	is_wsp(int);
static int	is_hex(int);

static const struct record_kind sts_kind = {
	"v=STSv1", "STS", "RFC 8461 section 3.1", sts_field, sts_complete
};
static const struct record_kind tlsrpt_kind = {
	"v=TLSRPTv1", "TLSRPT", "RFC 8460 section 3", tlsrpt_field,
	tlsrpt_complete
};

int
mtasts_sts_record_parse(const char *const *txt, size_t n,
    struct mtasts_sts_record *out, struct mtasts_diag *diag)
{
	struct record_state	st;
	size_t			i;
	int			rc;

	diag_init(diag);
	if (out == NULL || (txt == NULL && n > 0))
		return diag_error(diag, MTASTS_EINVAL, 0, "no records given");
	memset(out, 0, sizeof(*out));
	if ((rc = record_select(&sts_kind, txt, n, diag, &i)) != MTASTS_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	st.kind = &sts_kind;
	st.line = (unsigned)i + 1;
	st.diag = diag;
	if ((rc = record_parse(&st, txt[i])) != MTASTS_OK)
		return rc;
	memcpy(out->id, st.id, sizeof(out->id));
	out->next = st.next;
	return MTASTS_OK;
}

int
mtasts_tlsrpt_record_parse(const char *const *txt, size_t n,
    struct mtasts_tlsrpt_record **out, struct mtasts_diag *diag)
{
	struct record_state	st;
	size_t			i;
	int			rc;

	diag_init(diag);
	if (out == NULL || (txt == NULL && n > 0))
		return diag_error(diag, MTASTS_EINVAL, 0, "no records given");
	*out = NULL;
	if ((rc = record_select(&tlsrpt_kind, txt, n, diag, &i)) != MTASTS_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	st.kind = &tlsrpt_kind;
	st.line = (unsigned)i + 1;
	st.diag = diag;
	if ((st.rpt = calloc(1, sizeof(*st.rpt))) == NULL)
		return diag_error(diag, MTASTS_ENOMEM, 0, "out of memory");
	if ((rc = record_parse(&st, txt[i])) != MTASTS_OK)
		goto fail;
	st.rpt->next = st.next;
	*out = st.rpt;
	return MTASTS_OK;

fail:
	mtasts_tlsrpt_record_free(st.rpt);
	return rc;
}

void
mtasts_tlsrpt_record_free(struct mtasts_tlsrpt_record *rec)
{
	if (rec == NULL)
		return;
	strv_free(rec->rua, rec->nrua);
	free(rec);
}

/* Exactly one record of the RRset must begin with the version. */
static int
record_select(const struct record_kind *kind, const char *const *txt,
    size_t n, struct mtasts_diag *diag, size_t *index)
{
	size_t	i, count = 0, first = 0, second = 0;

	for (i = 0; i < n; i++) {
		if (!record_is_candidate(kind, txt[i]))
			continue;
		if (count == 0)
			first = i;
		else if (count == 1)
			second = i;
		count++;
	}
	if (count == 0)
		return diag_error(diag, MTASTS_ENOTFOUND, 0,
		    "no %s record among %zu TXT record%s", kind->version, n,
		    n == 1 ? "" : "s");
	if (count > 1)
		return diag_error(diag, MTASTS_ESYNTAX, 0,
		    "%zu %s records (records %zu and %zu begin with %s); "
		    "exactly one is allowed (%s)", count, kind->what,
		    first + 1, second + 1, kind->version, kind->rfc);
	*index = first;
	return MTASTS_OK;
}

/* The version, then ";", white space or the end ("v=STSv10" is not). */
static int
record_is_candidate(const struct record_kind *kind, const char *txt)
{
	size_t	len = strlen(kind->version);

	if (txt == NULL || strncmp(txt, kind->version, len) != 0)
		return 0;
	return txt[len] == ';' || txt[len] == '\0' ||
	    is_wsp((unsigned char)txt[len]);
}

/* version 1*(field-delim field) [field-delim], then the end. */
static int
record_parse(struct record_state *st, const char *txt)
{
	const char	*p, *q;
	char		 shown[QUOTE_MAX + 8];
	int		 rc;

	p = txt + strlen(st->kind->version);
	for (;;) {
		if ((q = skip_field_delim(p)) == NULL)
			break;
		p = q;
		if (*p == '\0')
			break;			/* [field-delim] */
		if ((rc = st->kind->field(st, p, &p)) != MTASTS_OK)
			return rc;
	}
	q = skip_wsp(p);
	if (*q != '\0') {
		quote(shown, sizeof(shown), q, strlen(q));
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: unexpected text \"%s\"; fields are separated "
		    "by \";\" (%s)", st->line, shown, st->kind->rfc);
	}
	if (q != p)
		diag_warn(st->diag, st->line, "record %u: white space after "
		    "the last field ignored", st->line);
	return st->kind->complete(st);
}

/*
 * ext-name "=" ext-value, the same for both records. Counted, ignored,
 * and named in a warning when it looks like a known field miswritten.
 */
static int
record_extension(struct record_state *st, const char *p, const char **next)
{
	static const char	*const known[] = { "v", "id", "rua" };
	const char		*name_end, *value_end, *end;
	char			 shown[QUOTE_MAX + 8];
	size_t			 i, namelen;

	end = skip_value_token(p);
	quote(shown, sizeof(shown), p, (size_t)(end - p));
	if ((name_end = skip_ext_name(p)) == NULL || *name_end != '=')
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: expected a field name=value, found \"%s\" (%s)",
		    st->line, shown, st->kind->rfc);
	namelen = (size_t)(name_end - p);
	if (namelen > EXT_NAME_MAX)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: field name in \"%s\" is longer than %d "
		    "characters", st->line, shown, EXT_NAME_MAX);
	if ((value_end = skip_ext_value(name_end + 1)) == NULL ||
	    value_end != end)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: bad field \"%s\": a value is one or more "
		    "visible ASCII characters other than \"=\" and \";\" (%s)",
		    st->line, shown, st->kind->rfc);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == namelen &&
		    strncasecmp(known[i], p, namelen) == 0) {
			diag_warn(st->diag, st->line, "record %u: unknown "
			    "field \"%.*s\" ignored; field names are "
			    "case-sensitive, did you mean \"%s\"?", st->line,
			    (int)namelen, p, known[i]);
			break;
		}
	st->next++;
	*next = value_end;
	return MTASTS_OK;
}

static int
sts_field(struct record_state *st, const char *p, const char **next)
{
	if (strncmp(p, "id=", 3) == 0)
		return sts_id(st, p, next);
	return record_extension(st, p, next);
}

/* sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
static int
sts_id(struct record_state *st, const char *p, const char **next)
{
	const char	*v = p + 3, *end;
	char		 shown[QUOTE_MAX + 8];
	size_t		 len, i;

	end = skip_value_token(v);
	len = (size_t)(end - v);
	quote(shown, sizeof(shown), v, len);
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)v[i]))
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "record %u: id \"%s\" may hold only letters and "
			    "digits (%s)", st->line, shown, st->kind->rfc);
	if (len == 0)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: id is empty (%s)", st->line, st->kind->rfc);
	if (len > MTASTS_ID_MAX)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: id \"%s\" is %zu characters long, more than "
		    "%d (%s)", st->line, shown, len, MTASTS_ID_MAX,
		    st->kind->rfc);
	if (st->have_id)
		diag_warn(st->diag, st->line, "record %u: duplicate id "
		    "\"%s\" ignored; the first one applies", st->line, shown);
	else {
		memcpy(st->id, v, len);
		st->id[len] = '\0';
		st->have_id = 1;
	}
	*next = end;
	return MTASTS_OK;
}

static int
sts_complete(struct record_state *st)
{
	if (!st->have_id)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: no id field (%s)", st->line, st->kind->rfc);
	return MTASTS_OK;
}

static int
tlsrpt_field(struct record_state *st, const char *p, const char **next)
{
	if (strncmp(p, "rua=", 4) == 0)
		return tlsrpt_rua(st, p, next);
	return record_extension(st, p, next);
}

/* tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
static int
tlsrpt_rua(struct record_state *st, const char *p, const char **next)
{
	const char	*u, *q;
	char		 shown[QUOTE_MAX + 8], why[WHY_MAX];
	int		 keep = !st->have_rua, rc;

	if (!keep)
		diag_warn(st->diag, st->line, "record %u: duplicate rua field "
		    "ignored; the first one applies", st->line);
	p += 4;
	for (;;) {
		u = p;
		while (*p != '\0' && *p != ',' && *p != ';' &&
		    !is_wsp((unsigned char)*p))
			p++;
		quote(shown, sizeof(shown), u, (size_t)(p - u));
		if (p == u)
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "record %u: rua has an empty URI (%s)", st->line,
			    st->kind->rfc);
		if (uri_check(u, (size_t)(p - u), why, sizeof(why)) != 0)
			return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
			    "record %u: rua URI \"%s\" %s (%s)", st->line,
			    shown, why, st->kind->rfc);
		if (keep &&
		    (rc = tlsrpt_rua_add(st, u, (size_t)(p - u))) != MTASTS_OK)
			return rc;
		q = skip_wsp(p);
		if (*q != ',')
			break;
		p = skip_wsp(q + 1);
	}
	st->have_rua = 1;
	*next = p;
	return MTASTS_OK;
}

static int
tlsrpt_rua_add(struct record_state *st, const char *u, size_t len)
{
	struct mtasts_tlsrpt_record	*rpt = st->rpt;

	if (strv_push(&rpt->rua, &rpt->nrua, &st->ruacap, strndup(u, len)) !=
	    MTASTS_OK)
		return diag_error(st->diag, MTASTS_ENOMEM, 0, "out of memory");
	return MTASTS_OK;
}

static int
tlsrpt_complete(struct record_state *st)
{
	if (!st->have_rua)
		return diag_error(st->diag, MTASTS_ESYNTAX, st->line,
		    "record %u: no rua field (%s)", st->line, st->kind->rfc);
	return MTASTS_OK;
}

/*
 * A URI in the RFC 3986 character set, with "," "!" and ";" encoded and
 * every "%" starting a pct-encoded octet; then by scheme. 0 when good,
 * -1 with why filled in.
 */
static int
uri_check(const char *u, size_t len, char *why, size_t whysz)
{
	const char	*colon;
	size_t		 i;
	int		 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)u[i];
		if (c == '%' && (i + 2 >= len || !is_hex(u[i + 1]) ||
		    !is_hex(u[i + 2]))) {
			snprintf(why, whysz, "has a \"%%\" that does not start "
			    "a percent-encoded octet");
			return -1;
		}
		if (!uri_char(c)) {
			if (c > 0x20 && c < 0x7f)
				snprintf(why, whysz, "has \"%c\", which must "
				    "be percent-encoded", c);
			else
				snprintf(why, whysz, "has a control or "
				    "non-ASCII byte");
			return -1;
		}
	}
	if ((colon = memchr(u, ':', len)) == NULL) {
		snprintf(why, whysz, "has no scheme; use mailto: or https:");
		return -1;
	}
	if (colon - u == 6 && strncasecmp(u, "mailto", 6) == 0)
		return uri_check_mailto(u + 7, len - 7, why, whysz);
	if (colon - u == 5 && strncasecmp(u, "https", 5) == 0)
		return uri_check_https(u + 6, len - 6, why, whysz);
	snprintf(why, whysz, "has scheme \"%.*s\"; only mailto: and https: "
	    "are allowed", (int)(colon - u < 16 ? colon - u : 16), u);
	return -1;
}

/* local "@" domain ["?" hfields] */
static int
uri_check_mailto(const char *u, size_t len, char *why, size_t whysz)
{
	const char	*at, *end, *domain;
	size_t		 i, local;

	end = memchr(u, '?', len);
	if (end == NULL)
		end = u + len;
	if ((at = memchr(u, '@', (size_t)(end - u))) == NULL) {
		snprintf(why, whysz, "has no \"@\"; expected "
		    "mailto:local@domain");
		return -1;
	}
	local = (size_t)(at - u);
	for (i = 0; i < local; i++)
		if (!local_char((unsigned char)u[i]))
			break;
	if (local == 0 || local > LOCAL_MAX || i < local || u[0] == '.' ||
	    u[local - 1] == '.' || memmem(u, local, "..", 2) != NULL) {
		snprintf(why, whysz, "has an invalid local part");
		return -1;
	}
	domain = at + 1;
	if (uri_check_host(domain, (size_t)(end - domain)) != 0) {
		snprintf(why, whysz, "has an invalid mail domain");
		return -1;
	}
	return 0;
}

/* "//" host [":" port] path-abempty ["?" query] ["#" fragment] */
static int
uri_check_https(const char *u, size_t len, char *why, size_t whysz)
{
	const char	*end = u + len, *host, *hend, *p;
	unsigned long	 port = 0;
	int		 hashes = 0;

	if (len < 2 || u[0] != '/' || u[1] != '/') {
		snprintf(why, whysz, "does not start with https://");
		return -1;
	}
	host = p = u + 2;
	while (p < end && *p != '/' && *p != '?' && *p != '#')
		p++;
	if (memchr(host, '@', (size_t)(p - host)) != NULL) {
		snprintf(why, whysz, "has user information before the host");
		return -1;
	}
	if (p > host && host[0] == '[') {
		snprintf(why, whysz, "has an IP address where a host name is "
		    "needed");
		return -1;
	}
	if ((hend = memchr(host, ':', (size_t)(p - host))) != NULL) {
		if (p - hend < 2 || p - hend > 6 ||
		    strspn(hend + 1, "0123456789") < (size_t)(p - hend - 1) ||
		    (port = strtoul(hend + 1, NULL, 10)) == 0 ||
		    port > 65535) {
			snprintf(why, whysz, "has a bad port");
			return -1;
		}
	} else
		hend = p;
	if (uri_check_host(host, (size_t)(hend - host)) != 0) {
		snprintf(why, whysz, "has an invalid host name");
		return -1;
	}
	for (; p < end; p++) {
		if (*p == '[' || *p == ']' || (*p == '#' && hashes++ > 0)) {
			snprintf(why, whysz, "has \"%c\" outside the host", *p);
			return -1;
		}
	}
	return 0;
}

/* A host name (not an IP address): mtasts_name_normalize() decides. */
static int
uri_check_host(const char *s, size_t len)
{
	char	buf[MTASTS_NAME_MAX + 2], out[MTASTS_NAME_MAX + 1];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '%', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return mtasts_name_normalize(buf, 0, out) == MTASTS_OK ? 0 : -1;
}

/* RFC 3986 characters, less "," "!" ";" which RFC 8460 wants encoded. */
static int
uri_char(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~:/?#[]@$&'()*+=%",
	    c) != NULL);
}

/* What we accept in a mailto: local part (RFC 6068, plausibly). */
static int
local_char(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~$&'()*+=/%", c) !=
	    NULL);
}

/* *WSP: never fails. */
static const char *
skip_wsp(const char *p)
{
	while (is_wsp((unsigned char)*p))
		p++;
	return p;
}

/* field-delim = *WSP ";" *WSP */
static const char *
skip_field_delim(const char *p)
{
	p = skip_wsp(p);
	if (*p != ';')
		return NULL;
	return skip_wsp(p + 1);
}

/*
 * ext-name = (ALPHA / DIGIT) *(ALPHA / DIGIT / "_" / "-" / "."); the
 * caller checks the 32-character cap so that it can say so.
 */
static const char *
skip_ext_name(const char *p)
{
	if (!is_alnum((unsigned char)*p))
		return NULL;
	for (p++; is_alnum((unsigned char)*p) || *p == '_' || *p == '-' ||
	    *p == '.'; p++)
		;
	return p;
}

/* ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static const char *
skip_ext_value(const char *p)
{
	const char	*start = p;
	unsigned char	 c;

	for (;; p++) {
		c = (unsigned char)*p;
		if (!((c >= 0x21 && c <= 0x3a) || c == 0x3c ||
		    (c >= 0x3e && c <= 0x7e)))
			break;
	}
	return p == start ? NULL : p;
}

/* A field's text: up to white space, ";" or the end. */
static const char *
skip_value_token(const char *p)
{
	while (*p != '\0' && *p != ';' && !is_wsp((unsigned char)*p))
		p++;
	return p;
}

/* Copies up to QUOTE_MAX bytes of s for an error, controls as "?". */
static void
quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len && n + 4 < size; i++) {
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
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}
