/*
 * report.c - a TLS-RPT report (RFC 8460 section 4.4) in memory, written
 * as JSON and read back from what reporters really send.
 *
 * Writing follows the RFC's schema exactly: key names as in section
 * 4.4, "policies" always an array, "policy-string" and "mx-host" arrays
 * of strings, date-times in UTC with "Z", absent optional fields left
 * out, summary counts always present.
 *
 * Reading is tolerant (Postel): unknown members are ignored; the quirks
 * seen in the wild are accepted with a warning: date-times without a
 * zone, mx-host as one string or missing, failure-error-code (the RFC's
 * own example) for failure-reason-code, counts as strings, a policies
 * object instead of an array, summaries that disagree with their
 * details. What cannot be understood (not JSON, no policies) is an
 * error. The input may be JSON, gzip or a whole message (mime.c).
 *
 * Every string read is hostile: it is kept as sent (valid UTF-8, which
 * jansson guarantees) for the caller to escape, except that a NUL
 * (\u0000) becomes U+FFFD, since a C string would cut it short. Counts are capped at REPORT_COUNT_MAX (INT64_MAX, what the
 * JSON writer can hold) with a warning, and sums of them saturate
 * there: an implausible count never wraps a total.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/diag.h"
#include "util/gz.h"
#include "util/mime.h"
#include "util/strv.h"
#include "rfc/report.h"

#define REPORT_COUNT_MAX	((uint64_t)INT64_MAX)

static json_t	*report_policy_json(const struct mtasts_report_policy *);
static json_t	*report_failure_json(const struct mtasts_report_failure *);
static json_t	*report_strv_json(char *const *, size_t);
static int	 report_set_opt(json_t *, const char *, const char *);
static int	 report_decode(const char *, size_t, char **, size_t *,
		    struct mtasts_diag *);
static int	 report_read(json_t *, struct mtasts_report *,
		    struct mtasts_diag *);
static int	 report_read_range(json_t *, struct mtasts_report *,
		    struct mtasts_diag *);
static int	 report_read_policy(json_t *, unsigned,
		    struct mtasts_report *, struct mtasts_diag *);
static int	 report_read_pol(json_t *, unsigned,
		    struct mtasts_report_policy *, struct mtasts_diag *);
static int	 report_read_summary(json_t *, unsigned,
		    struct mtasts_report_policy *, struct mtasts_diag *);
static int	 report_read_failure(json_t *, unsigned,
		    struct mtasts_report_policy *, struct mtasts_diag *);
static int	 report_read_strv(json_t *, const char *, unsigned,
		    char ***, size_t *, struct mtasts_diag *);
static int	 report_str(json_t *, const char *, char **);
static char	*report_strdup_nul(const char *, size_t);
static int	 report_count(json_t *, const char *, unsigned, uint64_t *,
		    struct mtasts_diag *);
static uint64_t	 report_count_add(uint64_t, uint64_t);
static int	 report_count_cap(const char *, unsigned, uint64_t *,
		    struct mtasts_diag *);
static void	 report_policy_free(struct mtasts_report_policy *);
static json_t	*report_jstr(const char *);

/* ---------------------------------------------------------------- model */

static void
report_policy_free(struct mtasts_report_policy *p)
{
	struct mtasts_report_failure	*f;
	size_t				 i;

	free(p->type);
	free(p->domain);
	strv_free(p->strings, p->nstrings);
	strv_free(p->mx, p->nmx);
	for (i = 0; i < p->ndetails; i++) {
		f = &p->details[i];
		free(f->result_type);
		free(f->sending_ip);
		free(f->mx_host);
		free(f->mx_helo);
		free(f->receiving_ip);
		free(f->reason_code);
		free(f->info);
	}
	free(p->details);
}

void
mtasts_report_free(struct mtasts_report *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->org);
	free(r->contact);
	free(r->report_id);
	for (i = 0; i < r->npolicies; i++)
		report_policy_free(&r->policies[i]);
	free(r->policies);
	free(r);
}

struct mtasts_report_policy *
report_add_policy(struct mtasts_report *r)
{
	struct mtasts_report_policy	*v;

	v = reallocarray(r->policies, r->npolicies + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	r->policies = v;
	memset(&v[r->npolicies], 0, sizeof(*v));
	return &v[r->npolicies++];
}

struct mtasts_report_failure *
report_add_failure(struct mtasts_report_policy *p)
{
	struct mtasts_report_failure	*v;

	v = reallocarray(p->details, p->ndetails + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	p->details = v;
	memset(&v[p->ndetails], 0, sizeof(*v));
	return &v[p->ndetails++];
}

void
report_datetime(time_t t, char *buf, size_t size)
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/*
 * date-time = full-date "T" full-time (RFC 3339 section 5.6), with the
 * zone optional here.
 */
int
report_parse_datetime(const char *s, time_t *out, int *nozone)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, hh, mm;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	*nozone = 0;
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    (*p != 'T' && *p != 't' && *p != ' ') ||
	    (p = strptime(p + 1, "%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh,
	    &mm) == 2 && strlen(p) == 6) {
		sign = *p == '+' ? 1 : -1;
		t -= sign * (hh * 3600 + mm * 60);
		p += 6;
	} else if (*p == '\0')
		*nozone = 1;
	if (*p != '\0')
		return -1;
	*out = t;
	return 0;
}

/* ---------------------------------------------------------------- write */

/*
 * jansson's json_string() by another name: the CLI has a json_string()
 * of its own (cli/json.c) that would take its place at link time.
 */
static json_t *
report_jstr(const char *s)
{
	return json_stringn(s, strlen(s));
}

char *
mtasts_report_json(const struct mtasts_report *r)
{
	json_t	*root, *range, *pols, *p;
	char	 start[32], end[32], *s = NULL;
	size_t	 i;

	report_datetime(r->start, start, sizeof(start));
	report_datetime(r->end, end, sizeof(end));
	root = json_object();
	range = json_pack("{s:s, s:s}", "start-datetime", start,
	    "end-datetime", end);
	pols = json_array();
	if (root == NULL || range == NULL || pols == NULL)
		goto fail;
	if (json_object_set_new(root, "organization-name",
	    report_jstr(r->org ? r->org : "")) != 0 ||
	    json_object_set(root, "date-range", range) != 0 ||
	    json_object_set_new(root, "contact-info",
	    report_jstr(r->contact ? r->contact : "")) != 0 ||
	    json_object_set_new(root, "report-id",
	    report_jstr(r->report_id ? r->report_id : "")) != 0 ||
	    json_object_set(root, "policies", pols) != 0)
		goto fail;
	for (i = 0; i < r->npolicies; i++)
		if ((p = report_policy_json(&r->policies[i])) == NULL ||
		    json_array_append_new(pols, p) != 0)
			goto fail;
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
fail:
	json_decref(range);
	json_decref(pols);
	json_decref(root);
	return s;
}

static json_t *
report_policy_json(const struct mtasts_report_policy *p)
{
	json_t	*o, *pol, *sum, *fd = NULL, *f;
	size_t	 i;
	int	 bad = 0;

	o = json_object();
	pol = json_object();
	sum = json_pack("{s:I, s:I}", "total-successful-session-count",
	    (json_int_t)p->success, "total-failure-session-count",
	    (json_int_t)p->failure);
	if (o == NULL || pol == NULL || sum == NULL)
		goto fail;
	bad |= json_object_set_new(pol, "policy-type",
	    report_jstr(p->type ? p->type : "no-policy-found"));
	if (p->nstrings > 0)
		bad |= json_object_set_new(pol, "policy-string",
		    report_strv_json(p->strings, p->nstrings));
	bad |= json_object_set_new(pol, "policy-domain",
	    report_jstr(p->domain ? p->domain : ""));
	if (p->nmx > 0)
		bad |= json_object_set_new(pol, "mx-host",
		    report_strv_json(p->mx, p->nmx));
	bad |= json_object_set(o, "policy", pol);
	bad |= json_object_set(o, "summary", sum);
	if (p->ndetails > 0) {
		bad |= (fd = json_array()) == NULL;
		for (i = 0; !bad && i < p->ndetails; i++)
			bad |= (f = report_failure_json(&p->details[i])) ==
			    NULL || json_array_append_new(fd, f) != 0;
		bad |= json_object_set_new(o, "failure-details", fd);
	}
	json_decref(pol);
	json_decref(sum);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(o);
	json_decref(pol);
	json_decref(sum);
	return NULL;
}

static json_t *
report_failure_json(const struct mtasts_report_failure *f)
{
	json_t	*o;
	int	 bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	bad |= json_object_set_new(o, "result-type",
	    report_jstr(f->result_type ? f->result_type : ""));
	bad |= report_set_opt(o, "sending-mta-ip", f->sending_ip);
	bad |= report_set_opt(o, "receiving-mx-hostname", f->mx_host);
	bad |= report_set_opt(o, "receiving-mx-helo", f->mx_helo);
	bad |= report_set_opt(o, "receiving-ip", f->receiving_ip);
	bad |= json_object_set_new(o, "failed-session-count",
	    json_integer((json_int_t)f->count));
	bad |= report_set_opt(o, "additional-information", f->info);
	bad |= report_set_opt(o, "failure-reason-code", f->reason_code);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
report_set_opt(json_t *o, const char *key, const char *val)
{
	if (val == NULL || *val == '\0')
		return 0;
	return json_object_set_new(o, key, report_jstr(val)) != 0;
}

static json_t *
report_strv_json(char *const *v, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, report_jstr(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---------------------------------------------------------------- read */

int
mtasts_report_parse(const char *buf, size_t len, struct mtasts_report **out,
    struct mtasts_diag *diag)
{
	struct mtasts_report	*r = NULL;
	json_error_t		 jerr;
	json_t			*root = NULL;
	char			*text = NULL;
	size_t			 tlen;
	int			 rc;

	diag_init(diag);
	*out = NULL;
	if (len > MTASTS_REPORT_MAX)
		return diag_error(diag, MTASTS_ETOOBIG, 0, "the input is "
		    "larger than %d bytes", MTASTS_REPORT_MAX);
	if ((rc = report_decode(buf, len, &text, &tlen, diag)) != MTASTS_OK)
		return rc;
	root = json_loadb(text ? text : buf, text ? tlen : len,
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		rc = diag_error(diag, MTASTS_ESYNTAX, (unsigned)jerr.line,
		    "line %d: not JSON: %s", jerr.line, jerr.text);
		goto fail;
	}
	if (!json_is_object(root)) {
		rc = diag_error(diag, MTASTS_ESYNTAX, 0, "the report is not "
		    "a JSON object");
		goto fail;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = MTASTS_ENOMEM;
		goto fail;
	}
	if ((rc = report_read(root, r, diag)) != MTASTS_OK)
		goto fail;
	*out = r;
	r = NULL;
fail:
	mtasts_report_free(r);
	json_decref(root);
	free(text);
	return rc;
}

/*
 * Gzip, a message, or JSON as it is (*text stays NULL). A gzipped
 * report inside a message is unpacked too.
 */
static int
report_decode(const char *buf, size_t len, char **text, size_t *tlen,
    struct mtasts_diag *diag)
{
	char	*part = NULL;
	size_t	 plen, i;
	int	 rc;

	*text = NULL;
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i < len && (buf[i] == '{' || buf[i] == '['))
		return MTASTS_OK;
	if (!gz_is_gzip(buf, len)) {
		rc = mime_find_report(buf, len, &part, &plen);
		if (rc == MTASTS_ENOMEM)
			return rc;
		if (rc != MTASTS_OK)
			return diag_error(diag, MTASTS_ESYNTAX, 0, "neither "
			    "JSON, gzip nor a message with an "
			    "application/tlsrpt+gzip or +json part");
		if (!gz_is_gzip(part, plen)) {
			*text = part;
			*tlen = plen;
			return MTASTS_OK;
		}
		buf = part;
		len = plen;
	}
	rc = gz_decompress(buf, len, MTASTS_REPORT_MAX, text, tlen);
	free(part);
	if (rc == MTASTS_ESYNTAX)
		return diag_error(diag, rc, 0, "corrupt or truncated gzip "
		    "data");
	if (rc == MTASTS_ETOOBIG)
		return diag_error(diag, rc, 0, "the report is larger than "
		    "%d bytes once decompressed", MTASTS_REPORT_MAX);
	return rc;
}

static int
report_read(json_t *root, struct mtasts_report *r, struct mtasts_diag *diag)
{
	json_t	*pols, *one;
	size_t	 i;
	int	 rc;

	if (report_str(root, "organization-name", &r->org) != 0 ||
	    report_str(root, "contact-info", &r->contact) != 0 ||
	    report_str(root, "report-id", &r->report_id) != 0)
		return MTASTS_ENOMEM;
	if (r->org == NULL)
		diag_warn(diag, 0, "no organization-name");
	if (r->report_id == NULL)
		diag_warn(diag, 0, "no report-id");
	if ((rc = report_read_range(root, r, diag)) != MTASTS_OK)
		return rc;
	pols = json_object_get(root, "policies");
	if (json_is_object(pols)) {
		diag_warn(diag, 0, "policies is an object, not an array");
		return report_read_policy(pols, 1, r, diag);
	}
	if (!json_is_array(pols))
		return diag_error(diag, MTASTS_ESYNTAX, 0, "no policies "
		    "array");
	json_array_foreach(pols, i, one)
		if ((rc = report_read_policy(one, (unsigned)i + 1, r, diag)) !=
		    MTASTS_OK)
			return rc;
	return MTASTS_OK;
}

static int
report_read_range(json_t *root, struct mtasts_report *r,
    struct mtasts_diag *diag)
{
	static const char *const keys[] = { "start-datetime",
					    "end-datetime" };
	json_t		*range = json_object_get(root, "date-range");
	time_t		*dst[2];
	const char	*s;
	int		 i, nozone;

	dst[0] = &r->start;
	dst[1] = &r->end;
	if (!json_is_object(range)) {
		diag_warn(diag, 0, "no date-range");
		return MTASTS_OK;
	}
	for (i = 0; i < 2; i++) {
		s = json_string_value(json_object_get(range, keys[i]));
		if (s == NULL || report_parse_datetime(s, dst[i], &nozone)) {
			diag_warn(diag, 0, "%s is missing or not a date-time",
			    keys[i]);
			continue;
		}
		if (nozone)
			diag_warn(diag, 0, "%s \"%.40s\" has no time zone; "
			    "taken as UTC", keys[i], s);
	}
	return MTASTS_OK;
}

static int
report_read_policy(json_t *one, unsigned n, struct mtasts_report *r,
    struct mtasts_diag *diag)
{
	struct mtasts_report_policy	*p;
	json_t				*fd, *f;
	uint64_t			 sum = 0;
	size_t				 i;
	int				 rc;

	if (!json_is_object(one))
		return diag_error(diag, MTASTS_ESYNTAX, n, "policy %u is not "
		    "an object", n);
	if ((p = report_add_policy(r)) == NULL)
		return MTASTS_ENOMEM;
	if ((rc = report_read_pol(json_object_get(one, "policy"), n, p,
	    diag)) != MTASTS_OK)
		return rc;
	fd = json_object_get(one, "failure-details");
	if (fd != NULL && !json_is_array(fd))
		diag_warn(diag, n, "policy %u: failure-details is not an "
		    "array; ignored", n);
	else
		json_array_foreach(fd, i, f) {
			if ((rc = report_read_failure(f, n, p, diag)) !=
			    MTASTS_OK)
				return rc;
			if (p->ndetails > 0)
				sum = report_count_add(sum,
				    p->details[p->ndetails - 1].count);
		}
	if ((rc = report_read_summary(json_object_get(one, "summary"), n, p,
	    diag)) != MTASTS_OK)
		return rc;
	if (json_object_get(one, "summary") == NULL)
		p->failure = sum;
	else if (p->ndetails > 0 && sum != p->failure)
		diag_warn(diag, n, "policy %u: the summary counts %llu "
		    "failures, the details %llu", n,
		    (unsigned long long)p->failure, (unsigned long long)sum);
	return MTASTS_OK;
}

static int
report_read_pol(json_t *pol, unsigned n, struct mtasts_report_policy *p,
    struct mtasts_diag *diag)
{
	int	rc;

	if (!json_is_object(pol)) {
		diag_warn(diag, n, "policy %u: no policy object", n);
		return MTASTS_OK;
	}
	if (report_str(pol, "policy-type", &p->type) != 0 ||
	    report_str(pol, "policy-domain", &p->domain) != 0)
		return MTASTS_ENOMEM;
	if (p->domain == NULL)
		diag_warn(diag, n, "policy %u: no policy-domain", n);
	if ((rc = report_read_strv(pol, "policy-string", n, &p->strings,
	    &p->nstrings, diag)) != MTASTS_OK ||
	    (rc = report_read_strv(pol, "mx-host", n, &p->mx, &p->nmx,
	    diag)) != MTASTS_OK)
		return rc;
	if (p->nmx == 0 && p->type != NULL && strcmp(p->type, "sts") == 0)
		diag_warn(diag, n, "policy %u: no mx-host", n);
	return MTASTS_OK;
}

static int
report_read_summary(json_t *sum, unsigned n, struct mtasts_report_policy *p,
    struct mtasts_diag *diag)
{
	if (!json_is_object(sum)) {
		diag_warn(diag, n, "policy %u: no summary; failures counted "
		    "from the details", n);
		return MTASTS_OK;
	}
	report_count(sum, "total-successful-session-count", n, &p->success,
	    diag);
	report_count(sum, "total-failure-session-count", n, &p->failure,
	    diag);
	return MTASTS_OK;
}

static int
report_read_failure(json_t *f, unsigned n, struct mtasts_report_policy *p,
    struct mtasts_diag *diag)
{
	struct mtasts_report_failure	*d;

	if (!json_is_object(f)) {
		diag_warn(diag, n, "policy %u: a failure detail is not an "
		    "object; ignored", n);
		return MTASTS_OK;
	}
	if ((d = report_add_failure(p)) == NULL)
		return MTASTS_ENOMEM;
	if (report_str(f, "result-type", &d->result_type) != 0 ||
	    report_str(f, "sending-mta-ip", &d->sending_ip) != 0 ||
	    report_str(f, "receiving-mx-hostname", &d->mx_host) != 0 ||
	    report_str(f, "receiving-mx-helo", &d->mx_helo) != 0 ||
	    report_str(f, "receiving-ip", &d->receiving_ip) != 0 ||
	    report_str(f, "failure-reason-code", &d->reason_code) != 0 ||
	    report_str(f, "additional-information", &d->info) != 0)
		return MTASTS_ENOMEM;
	if (d->reason_code == NULL && json_object_get(f,
	    "failure-error-code") != NULL) {
		if (report_str(f, "failure-error-code", &d->reason_code) != 0)
			return MTASTS_ENOMEM;
		diag_warn(diag, n, "policy %u: failure-error-code taken for "
		    "failure-reason-code", n);
	}
	if (d->result_type == NULL)
		diag_warn(diag, n, "policy %u: a failure detail has no "
		    "result-type", n);
	report_count(f, "failed-session-count", n, &d->count, diag);
	return MTASTS_OK;
}

/* An array of strings, or one string (with a warning). */
static int
report_read_strv(json_t *o, const char *key, unsigned n, char ***v,
    size_t *nv, struct mtasts_diag *diag)
{
	json_t		*a = json_object_get(o, key), *e;
	const char	*s;
	size_t		 i;

	if (a == NULL)
		return MTASTS_OK;
	if (json_is_string(a)) {
		diag_warn(diag, n, "policy %u: %s is a string, not an array",
		    n, key);
		s = json_string_value(a);
		return strv_push(v, nv, NULL, strdup(s));
	}
	if (!json_is_array(a)) {
		diag_warn(diag, n, "policy %u: %s ignored: not an array", n,
		    key);
		return MTASTS_OK;
	}
	json_array_foreach(a, i, e) {
		if ((s = json_string_value(e)) == NULL)
			continue;
		if (strv_push(v, nv, NULL, strdup(s)) != MTASTS_OK)
			return MTASTS_ENOMEM;
	}
	return MTASTS_OK;
}

/*
 * A copy of a string member (NULL when absent or not a string), each
 * NUL in it replaced by U+FFFD.
 */
static int
report_str(json_t *o, const char *key, char **out)
{
	json_t		*v = json_object_get(o, key);
	const char	*s = json_string_value(v);

	*out = NULL;
	if (s == NULL)
		return 0;
	*out = report_strdup_nul(s, json_string_length(v));
	return *out == NULL ? -1 : 0;
}

/* len bytes of s, NUL-terminated, each inner NUL as U+FFFD (3 bytes). */
static char *
report_strdup_nul(const char *s, size_t len)
{
	char	*d, *q;
	size_t	 i, nnul = 0;

	for (i = 0; i < len; i++)
		nnul += s[i] == '\0';
	if ((d = q = malloc(len + 2 * nnul + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] != '\0') {
			*q++ = s[i];
			continue;
		}
		memcpy(q, "\xef\xbf\xbd", 3);
		q += 3;
	}
	*q = '\0';
	return d;
}

/* a + b, saturating at REPORT_COUNT_MAX. */
static uint64_t
report_count_add(uint64_t a, uint64_t b)
{
	if (a > REPORT_COUNT_MAX || b > REPORT_COUNT_MAX - a)
		return REPORT_COUNT_MAX;
	return a + b;
}

/* A count: a non-negative integer, or a string of digits (warned). */
static int
report_count(json_t *o, const char *key, unsigned n, uint64_t *out,
    struct mtasts_diag *diag)
{
	json_t		*v = json_object_get(o, key);
	const char	*s;
	char		*end;
	unsigned long long u;

	*out = 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 1e18) {
		*out = (uint64_t)json_real_value(v);
		return 0;
	}
	if ((s = json_string_value(v)) != NULL && *s >= '0' && *s <= '9') {
		errno = 0;
		u = strtoull(s, &end, 10);
		if (*end == '\0' && (errno == 0 || errno == ERANGE)) {
			diag_warn(diag, n, "policy %u: %s is a string", n,
			    key);
			*out = errno == 0 && u <= REPORT_COUNT_MAX ? u :
			    REPORT_COUNT_MAX + 1;
			return report_count_cap(key, n, out, diag);
		}
	}
	diag_warn(diag, n, "policy %u: %s missing or not a count; taken as "
	    "0", n, key);
	return -1;
}

/* An implausible count (above REPORT_COUNT_MAX) is capped, warned. */
static int
report_count_cap(const char *key, unsigned n, uint64_t *v,
    struct mtasts_diag *diag)
{
	if (*v <= REPORT_COUNT_MAX)
		return 0;
	*v = REPORT_COUNT_MAX;
	diag_warn(diag, n, "policy %u: %s is implausibly large; capped at "
	    "%llu", n, key, (unsigned long long)REPORT_COUNT_MAX);
	return 0;
}
