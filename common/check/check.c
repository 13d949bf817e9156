/*
 * check.c - mtasts_check(): a domain's MTA-STS (RFC 8461) and TLS-RPT
 * (RFC 8460) deployment, checked end to end as a sender would meet it.
 *
 * The steps run in order and share what they learn in struct check:
 *   txt           _mta-sts TXT: present, exactly one STS record, syntax
 *   policy-host   mta-sts.DOMAIN resolves; a TLS probe of each address
 *                 reports its certificate (trust, name, expiry)
 *   policy-fetch  the real fetch (fetch.c): status, redirect, media type,
 *                 size
 *   policy        the policy file; after an error the bad line is blanked
 *                 and the file parsed again, so every bad line is named
 *   mx            each MX host against the patterns
 *   mx-tls        probe.c's STARTTLS probe of every address of every MX
 *   tlsrpt        _smtp._tls: present, syntax, each rua looked up
 *   advice        mode, max_age, the order of updates, provider patterns
 * A failure that senders meet is "fail" under enforce; under testing,
 * where they still deliver, it is "warn". Nothing is sent to any rua.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mtasts.h"
#include "net/dns.h"
#include "net/fetch.h"
#include "net/probe.h"
#include "engine/ctx.h"

#define CHECK_TIMEOUT_MS	10000
#define CHECK_EXPIRY_WARN	(14 * 86400)	/* warn: certificate expiry */
#define CHECK_DAY		86400
#define CHECK_WEEK		(7 * 86400)
#define CHECK_PASSES_MAX	16	/* policy re-parses after errors */
#define CHECK_TEXT		2048	/* evidence and messages */
#define CHECK_HOST_MAX		(MTASTS_NAME_MAX + 16)

struct check {
	struct mtasts_ctx	*ctx;
	const struct net_ops	*net;		/* ctx's network */
	struct dns		*dns;
	struct mtasts_check_opts o;
	char			 helo[256];
	mtasts_check_cb		*cb;
	void			*arg;
	struct mtasts_check_summary sum;
	int			 err;		/* latched ENOMEM */
	char			 domain[MTASTS_NAME_MAX + 1];
	char			 host[CHECK_HOST_MAX]; /* mta-sts.DOMAIN */
	char			 url[CHECK_HOST_MAX + 32];
	int			 txt_ok;	/* one valid STS record */
	char			**paddrs;	/* policy host addresses */
	size_t			 npaddrs;
	int			 cert_failed;
	struct fetch_result	 fetched;	/* body when fetched */
	struct mtasts_policy	*policy;	/* NULL: none valid */
	struct dns_mx		*mx;
	size_t			 nmx;
};

/* A text being built; cut when full. */
struct check_text {
	char	s[CHECK_TEXT];
	size_t	len;
};

/* Hosted providers and the patterns they publish for their MX hosts. */
struct check_provider {
	const char	*name;
	const char	*patterns[3];	/* NULL-terminated */
};

static const struct check_provider providers[] = {
	{ "Google Workspace", { "aspmx.l.google.com",
	    "*.aspmx.l.google.com", NULL } },
	{ "Google Workspace (legacy googlemail.com)",
	    { "*.googlemail.com", NULL, NULL } },
	{ "Google Workspace (smtp.google.com)",
	    { "smtp.google.com", NULL, NULL } },
	{ "Gmail", { "gmail-smtp-in.l.google.com",
	    "*.gmail-smtp-in.l.google.com", NULL } },
	{ "Microsoft 365", { "*.mail.protection.outlook.com", NULL, NULL } },
};

static void	check_emit(struct check *, enum mtasts_check_step,
		    enum mtasts_check_status, enum mtasts_result,
		    const char *, const char *, const char *, const char *,
		    ...) __attribute__((format(printf, 8, 9)));
static void	text_add(struct check_text *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	check_fmt_time(char *, size_t, time_t);
static enum mtasts_check_status check_severity(const struct check *);
static void	check_txt(struct check *);
static void	check_policy_host(struct check *);
static void	check_policy_cert(struct check *, const char *);
static void	check_cert_evidence(struct check_text *,
		    const struct probe_result *);
static void	check_cert_expiry(struct check *, enum mtasts_check_step,
		    const char *, const char *, const struct probe_result *);
static void	check_policy_fetch(struct check *);
static void	check_policy(struct check *);
static void	check_policy_warnings(struct check *,
		    const struct mtasts_diag *, const unsigned *, size_t,
		    unsigned, unsigned);
static void	check_line_text(const char *, size_t, unsigned, char *,
		    size_t);
static int	check_blank_line(char *, size_t, unsigned);
static void	check_policy_ok(struct check *,
		    const struct mtasts_policy *);
static void	check_diag_msg(const struct mtasts_diag_item *, unsigned,
		    char *, size_t);
static void	check_mx(struct check *);
static void	check_mx_one(struct check *, const struct dns_mx *);
static void	check_mx_tls(struct check *);
static void	check_mx_probe(struct check *, const char *, const char *);
static const char *check_probe_fix(const struct probe_result *);
static void	check_tlsrpt(struct check *);
static void	check_rua(struct check *, const char *);
static void	check_rua_mailto(struct check *, const char *);
static void	check_rua_https(struct check *, const char *);
static void	check_advice(struct check *);
static void	check_advice_max_age(struct check *);
static void	check_advice_providers(struct check *);
static void	check_free(struct check *);

static const char *const step_names[] = {
	"txt", "policy-host", "policy-fetch", "policy", "mx", "mx-tls",
	"tlsrpt", "advice"
};
static const char *const status_names[] = { "pass", "info", "warn",
	"fail" };

const char *
mtasts_check_step_name(enum mtasts_check_step step)
{
	if ((unsigned)step >= sizeof(step_names) / sizeof(step_names[0]))
		return "?";
	return step_names[step];
}

const char *
mtasts_check_status_name(enum mtasts_check_status status)
{
	if ((unsigned)status >= sizeof(status_names) /
	    sizeof(status_names[0]))
		return "?";
	return status_names[status];
}

int
mtasts_check(struct mtasts_ctx *ctx, const char *domain,
    const struct mtasts_check_opts *opts, mtasts_check_cb *cb, void *arg,
    struct mtasts_check_summary *sum)
{
	struct check	c;
	int		rc;

	if (sum != NULL)
		memset(sum, 0, sizeof(*sum));
	memset(&c, 0, sizeof(c));
	if (ctx == NULL || domain == NULL || cb == NULL ||
	    mtasts_name_normalize(domain, 0, c.domain) != MTASTS_OK)
		return MTASTS_EINVAL;
	if (opts != NULL)
		c.o = *opts;
	if (c.o.mx_port == 0)
		c.o.mx_port = 25;
	if (c.o.timeout_ms == 0)
		c.o.timeout_ms = CHECK_TIMEOUT_MS;
	if (c.o.helo != NULL)
		(void)snprintf(c.helo, sizeof(c.helo), "%s", c.o.helo);
	else if (gethostname(c.helo, sizeof(c.helo) - 1) == -1 ||
	    c.helo[0] == '\0')
		(void)snprintf(c.helo, sizeof(c.helo), "localhost");
	c.ctx = ctx;
	c.cb = cb;
	c.arg = arg;
	(void)snprintf(c.host, sizeof(c.host), "mta-sts.%s", c.domain);
	(void)snprintf(c.url, sizeof(c.url),
	    "https://%s/.well-known/mta-sts.txt", c.host);
	if ((c.dns = ctx_dns(ctx)) == NULL)
		return MTASTS_EDNS;
	c.net = ctx->net;
	check_txt(&c);
	check_policy_host(&c);
	check_policy_fetch(&c);
	check_policy(&c);
	check_mx(&c);
	check_mx_tls(&c);
	check_tlsrpt(&c);
	check_advice(&c);
	rc = c.err;
	if (sum != NULL)
		*sum = c.sum;
	check_free(&c);
	return rc;
}

static void
check_free(struct check *c)
{
	dns_strv_free(c->paddrs, c->npaddrs);
	fetch_result_clear(&c->fetched);
	mtasts_policy_free(c->policy);
	free(c->mx);
}

/* ---- output ---- */

static void
check_emit(struct check *c, enum mtasts_check_step step,
    enum mtasts_check_status status, enum mtasts_result result,
    const char *subject, const char *evidence, const char *fix,
    const char *fmt, ...)
{
	struct mtasts_check_finding	f;
	char				msg[CHECK_TEXT];
	va_list				ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f.step = step;
	f.status = status;
	f.result = status == MTASTS_CHECK_PASS ||
	    status == MTASTS_CHECK_INFO ? MTASTS_RESULT_SUCCESS : result;
	f.subject = subject;
	f.message = msg;
	f.evidence = evidence != NULL && *evidence != '\0' ? evidence : NULL;
	f.fix = status == MTASTS_CHECK_PASS ? NULL : fix;
	switch (status) {
	case MTASTS_CHECK_PASS:
		c->sum.npass++;
		break;
	case MTASTS_CHECK_INFO:
		c->sum.ninfo++;
		break;
	case MTASTS_CHECK_WARN:
		c->sum.nwarn++;
		break;
	case MTASTS_CHECK_FAIL:
		c->sum.nfail++;
		break;
	}
	c->cb(c->arg, &f);
}

static void
text_add(struct check_text *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (t->len >= sizeof(t->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->s))
		t->len = sizeof(t->s) - 1;
}

static void
check_fmt_time(char *buf, size_t size, time_t t)
{
	struct tm	tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		(void)snprintf(buf, size, "unknown");
	else
		(void)strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A problem senders meet: fail under enforce, warn otherwise. */
static enum mtasts_check_status
check_severity(const struct check *c)
{
	return c->policy != NULL && c->policy->mode == MTASTS_MODE_ENFORCE ?
	    MTASTS_CHECK_FAIL : MTASTS_CHECK_WARN;
}

/* ---- 1. _mta-sts TXT ---- */

static void
check_txt(struct check *c)
{
	struct mtasts_sts_record	rec;
	struct mtasts_diag		diag;
	struct check_text		ev;
	char				name[CHECK_HOST_MAX];
	char				fix[CHECK_TEXT];
	char				**txt = NULL;
	size_t				n = 0, i, nsts = 0;
	int				rc;

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
	(void)snprintf(fix, sizeof(fix), "publish one TXT record "
	    "\"v=STSv1; id=YYYYMMDDhhmmss\" at %s", name);
	rc = c->net->dns_txt(c->dns, name, &txt, &n);
	if (rc == MTASTS_ENOTFOUND) {
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, name, NULL, fix, "no TXT record "
		    "at %s: senders will not look for a policy", name);
		return;
	}
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, name, NULL, "make the domain's "
		    "name servers answer TXT queries", "DNS lookup of %s "
		    "failed: %s", name, mtasts_strerror(rc));
		return;
	}
	for (i = 0; i < n; i++) {
		text_add(&ev, "%sTXT \"%s\"", i ? "\n" : "", txt[i]);
		if (strncmp(txt[i], "v=STSv1", 7) == 0)
			nsts++;
	}
	rc = mtasts_sts_record_parse((const char *const *)txt, n, &rec,
	    &diag);
	dns_strv_free(txt, n);
	if (rc == MTASTS_OK) {
		c->txt_ok = 1;
		check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, name, ev.s, NULL, "one STS "
		    "record, id %s", rec.id);
		for (i = 0; i < diag.nwarn; i++)
			check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_WARN,
			    MTASTS_RESULT_SUCCESS, name, ev.s, "remove what "
			    "the warning names", "%s", diag.warn[i].msg);
		return;
	}
	if (rc == MTASTS_ENOMEM)
		c->err = rc;
	if (nsts > 1)
		(void)snprintf(fix, sizeof(fix), "delete all but one "
		    "v=STSv1 record at %s", name);
	else if (nsts == 1)
		(void)snprintf(fix, sizeof(fix), "correct the record: "
		    "\"v=STSv1; id=ID\" where ID is 1-32 letters and digits");
	check_emit(c, MTASTS_CHECK_TXT, MTASTS_CHECK_FAIL,
	    MTASTS_RESULT_SUCCESS, name, ev.s, fix, "%s%s",
	    nsts > 1 ? "more than one STS record: " : "",
	    diag.error.msg);
}

/* ---- 2. the policy host ---- */

static void
check_policy_host(struct check *c)
{
	struct check_text	ev;
	size_t			i;
	int			rc;

	memset(&ev, 0, sizeof(ev));
	rc = c->net->dns_addrs(c->dns, c->host, &c->paddrs, &c->npaddrs);
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		c->paddrs = NULL;
		c->npaddrs = 0;
		check_emit(c, MTASTS_CHECK_POLICY_HOST, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_STS_POLICY_FETCH_ERROR, c->host, NULL,
		    "add A (and AAAA) records for the policy host, pointing "
		    "at the web server that serves the policy",
		    rc == MTASTS_ENOTFOUND ? "%s has no address (no A or "
		    "AAAA record): the policy cannot be fetched" :
		    "DNS lookup of %s failed: the policy cannot be fetched",
		    c->host);
		return;
	}
	for (i = 0; i < c->npaddrs; i++)
		text_add(&ev, "%s%s", i ? ", " : "", c->paddrs[i]);
	check_emit(c, MTASTS_CHECK_POLICY_HOST, MTASTS_CHECK_PASS,
	    MTASTS_RESULT_SUCCESS, c->host, ev.s, NULL, "%s resolves",
	    c->host);
	for (i = 0; i < c->npaddrs; i++)
		check_policy_cert(c, c->paddrs[i]);
}

static void
check_policy_cert(struct check *c, const char *addr)
{
	struct probe_result	res;
	struct check_text	ev;
	char			subject[CHECK_HOST_MAX + 64];
	const char		*fix;

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(subject, sizeof(subject), strchr(addr, ':') ?
	    "%s [%s]:443" : "%s %s:443", c->host, addr);
	if (probe_https(c->ctx->conf, addr, 443, c->host, c->o.timeout_ms,
	    &res) != MTASTS_OK) {
		c->err = MTASTS_ENOMEM;
		return;
	}
	check_cert_evidence(&ev, &res);
	if (res.stage == PROBE_DONE) {
		check_emit(c, MTASTS_CHECK_POLICY_HOST, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, subject, ev.s, NULL,
		    "HTTPS certificate valid for %s", c->host);
		check_cert_expiry(c, MTASTS_CHECK_POLICY_HOST, subject,
		    c->host, &res);
		return;
	}
	c->cert_failed = 1;
	if (res.stage == PROBE_VERIFY)
		fix = res.certflags & PROBE_CERT_EXPIRED ? "renew the "
		    "certificate of the policy host" :
		    res.certflags & PROBE_CERT_UNTRUSTED ? "use a certificate "
		    "from a public CA (WebPKI), served with its intermediate "
		    "certificates" : res.certflags & PROBE_CERT_NAME ? "use a "
		    "certificate whose subjectAltName names the policy host" :
		    "use a valid WebPKI certificate for the policy host";
	else
		fix = "make the web server accept HTTPS (TLS 1.2 or later) "
		    "on port 443 at every address of the policy host";
	check_emit(c, MTASTS_CHECK_POLICY_HOST, MTASTS_CHECK_FAIL,
	    MTASTS_RESULT_STS_WEBPKI_INVALID, subject, ev.s, fix,
	    "HTTPS %s: %s", res.stage == PROBE_VERIFY ?
	    "certificate refused" : "failed", res.err);
}

static void
check_cert_evidence(struct check_text *ev, const struct probe_result *res)
{
	char	from[40], until[40];

	if (res->greeting[0] != '\0')
		text_add(ev, "greeting: %s\n", res->greeting);
	if (res->protocol[0] != '\0')
		text_add(ev, "tls: %s %s\n", res->protocol, res->cipher);
	if (res->have_cert) {
		check_fmt_time(from, sizeof(from), res->cert.not_before);
		check_fmt_time(until, sizeof(until), res->cert.not_after);
		text_add(ev, "subject: %s\nnames: %s\nissuer: %s\n"
		    "valid: %s to %s\n", res->cert.subject,
		    res->cert.names[0] ? res->cert.names : "(none)",
		    res->cert.issuer, from, until);
	}
	if (ev->len > 0 && ev->s[ev->len - 1] == '\n')
		ev->s[--ev->len] = '\0';
}

static void
check_cert_expiry(struct check *c, enum mtasts_check_step step,
    const char *subject, const char *name, const struct probe_result *res)
{
	char	until[40];
	time_t	now = time(NULL);
	long	days;

	if (res->cert.not_after - now >= CHECK_EXPIRY_WARN)
		return;
	check_fmt_time(until, sizeof(until), res->cert.not_after);
	days = (long)((res->cert.not_after - now) / 86400);
	check_emit(c, step, MTASTS_CHECK_WARN, MTASTS_RESULT_CERT_EXPIRED,
	    subject, NULL, "renew the certificate now (automate renewal)",
	    "certificate of %s expires in %ld day%s (%s)", name, days,
	    days == 1 ? "" : "s", until);
}

/* ---- 3. the fetch ---- */

static void
check_policy_fetch(struct check *c)
{
	struct fetch	*f;
	struct fetch_result *r = &c->fetched;
	const char	*fix;
	enum mtasts_result result = MTASTS_RESULT_STS_POLICY_FETCH_ERROR;
	int		 rc;

	if (c->npaddrs == 0)
		return;
	if ((f = ctx_fetch(c->ctx)) == NULL) {
		c->err = MTASTS_ENOMEM;
		return;
	}
	rc = c->net->fetch_policy(f, c->domain, c->paddrs, c->npaddrs, r);
	if (rc == MTASTS_OK) {
		check_emit(c, MTASTS_CHECK_POLICY_FETCH, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, NULL, "HTTP 200, "
		    "text/plain, %zu bytes, no redirect", r->len);
		return;
	}
	if (rc != MTASTS_EFETCH) {
		c->err = rc == MTASTS_ENOMEM ? rc : c->err;
		check_emit(c, MTASTS_CHECK_POLICY_FETCH, MTASTS_CHECK_FAIL,
		    result, c->url, NULL, "check the policy host's name",
		    "cannot fetch: %s", mtasts_strerror(rc));
		return;
	}
	switch (r->fail) {
	case FETCH_ETLS:
		if (c->cert_failed)
			return;		/* said under policy-host */
		result = MTASTS_RESULT_STS_WEBPKI_INVALID;
		fix = "use a valid WebPKI certificate for the policy host";
		break;
	case FETCH_EHTTP:
		fix = r->status >= 300 && r->status < 400 ? "serve the "
		    "policy at this URL itself, with status 200: senders "
		    "do not follow redirects (RFC 8461 section 3.3)" :
		    r->status != 200 ? "serve the policy file at this URL "
		    "with status 200" : "serve the policy file with "
		    "Content-Type: text/plain";
		break;
	case FETCH_ETOOBIG:
		result = MTASTS_RESULT_STS_POLICY_INVALID;
		fix = "keep the policy file under 64 KiB";
		break;
	default:
		fix = "make the web server answer HTTPS on port 443 at "
		    "every address of the policy host, within seconds";
		break;
	}
	check_emit(c, MTASTS_CHECK_POLICY_FETCH, MTASTS_CHECK_FAIL, result,
	    c->url, NULL, fix, "%s", r->err);
}

/* ---- 4. the policy file ---- */

/*
 * Parses, and after each error blanks the bad line and parses again, to
 * name every bad line. A bad first line is replaced by a version line
 * put in front, which moves the parser's line numbers by one (shift);
 * findings use the file's own numbers. Whole-file errors after the first
 * pass may come from the blanking and are not reported.
 */
static void
check_policy(struct check *c)
{
	static const char	 vline[] = "version: STSv1\n";
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	char			 line[160], msg[MTASTS_DIAG_MSG], *work;
	unsigned		 blanked[CHECK_PASSES_MAX], nb = 0, shift = 0;
	unsigned		 after = 0, ln, pass;
	size_t			 len = c->fetched.len;
	int			 rc;

	if (c->fetched.body == NULL)
		return;
	if ((work = malloc(len + sizeof(vline))) == NULL) {
		c->err = MTASTS_ENOMEM;
		return;
	}
	memcpy(work, c->fetched.body, len);
	for (pass = 0; pass < CHECK_PASSES_MAX; pass++) {
		rc = mtasts_policy_parse(work, len, &pol, &diag);
		check_policy_warnings(c, &diag, blanked, nb, shift,
		    pass > 0 ? after : 0);
		if (rc == MTASTS_OK) {
			if (pass == 0) {
				check_policy_ok(c, pol);
				c->policy = pol;
			} else
				mtasts_policy_free(pol);
			break;
		}
		if (rc == MTASTS_ENOMEM) {
			c->err = rc;
			break;
		}
		if (pass > 0 && diag.error.line == 0)
			break;
		ln = diag.error.line > shift ? diag.error.line - shift : 0;
		check_line_text(c->fetched.body, c->fetched.len, ln, line,
		    sizeof(line));
		check_diag_msg(&diag.error, shift, msg, sizeof(msg));
		check_emit(c, MTASTS_CHECK_POLICY, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_STS_POLICY_INVALID, c->url, line,
		    ln ? "correct the line: \"version: STSv1\", "
		    "\"mode: testing|enforce|none\", \"mx: HOST\" (one per "
		    "MX), \"max_age: SECONDS\" (RFC 8461 section 3.2)" :
		    "add what is missing (RFC 8461 section 3.2)", "%s", msg);
		if (ln == 0 || nb == CHECK_PASSES_MAX ||
		    check_blank_line(work, len, diag.error.line) == -1)
			break;
		blanked[nb++] = ln;
		after = ln;
		if (ln == 1 && shift == 0) {
			memmove(work + sizeof(vline) - 1, work, len);
			memcpy(work, vline, sizeof(vline) - 1);
			len += sizeof(vline) - 1;
			shift = 1;
		}
	}
	free(work);
}

/* A diagnostic's message with its "line N: " in the file's numbers. */
static void
check_diag_msg(const struct mtasts_diag_item *item, unsigned shift,
    char *out, size_t size)
{
	char	prefix[32];
	size_t	n;

	n = (size_t)snprintf(prefix, sizeof(prefix), "line %u: ", item->line);
	if (shift == 0 || item->line <= shift ||
	    strncmp(item->msg, prefix, n) != 0)
		(void)snprintf(out, size, "%s", item->msg);
	else
		(void)snprintf(out, size, "line %u: %s", item->line - shift,
		    item->msg + n);
}

/*
 * Warnings of one pass, in the file's line numbers: those after line
 * "after" (the earlier ones were reported by an earlier pass; 0 on the
 * first pass: all), on lines not blanked.
 */
static void
check_policy_warnings(struct check *c, const struct mtasts_diag *diag,
    const unsigned *blanked, size_t nb, unsigned shift, unsigned after)
{
	char		line[160], msg[MTASTS_DIAG_MSG];
	unsigned	ln;
	size_t		i, j;

	for (i = 0; i < diag->nwarn; i++) {
		if (shift && diag->warn[i].line == 1)
			continue;	/* the version line we put in */
		ln = diag->warn[i].line > shift ? diag->warn[i].line - shift :
		    0;
		if (after > 0 && ln <= after)
			continue;
		for (j = 0; j < nb; j++)
			if (blanked[j] == ln)
				break;
		if (j < nb)
			continue;
		check_line_text(c->fetched.body, c->fetched.len, ln, line,
		    sizeof(line));
		check_diag_msg(&diag->warn[i], shift, msg, sizeof(msg));
		check_emit(c, MTASTS_CHECK_POLICY, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, c->url, line, "correct or remove "
		    "the line", "%s", msg);
	}
}

/* "line N: TEXT" of body, cut; "" for line 0. */
static void
check_line_text(const char *body, size_t len, unsigned ln, char *out,
    size_t size)
{
	const char	*p = body, *end = body + len, *nl;
	unsigned	 i;

	out[0] = '\0';
	if (ln == 0)
		return;
	for (i = 1; i < ln && p < end; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return;
		p = nl + 1;
	}
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		nl = end;
	if (nl > p && nl[-1] == '\r')
		nl--;
	(void)snprintf(out, size, "line %u: %.*s", ln,
	    (int)(nl - p > 100 ? 100 : nl - p), p);
}

/* Overwrites line ln with spaces (a blank line); -1 if there is none. */
static int
check_blank_line(char *work, size_t len, unsigned ln)
{
	char		*p = work, *end = work + len, *nl;
	unsigned	 i;

	for (i = 1; i < ln && p < end; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		p = nl + 1;
	}
	if (p >= end)
		return -1;
	for (; p < end && *p != '\n' && *p != '\r'; p++)
		*p = ' ';
	return 0;
}

static void
check_policy_ok(struct check *c, const struct mtasts_policy *p)
{
	struct check_text	ev;
	size_t			i;

	memset(&ev, 0, sizeof(ev));
	text_add(&ev, "mode: %s\nmax_age: %lu", mtasts_mode_name(p->mode),
	    (unsigned long)p->max_age);
	for (i = 0; i < p->nmx; i++)
		text_add(&ev, "\nmx: %s", p->mx[i]);
	check_emit(c, MTASTS_CHECK_POLICY, MTASTS_CHECK_PASS,
	    MTASTS_RESULT_SUCCESS, c->url, ev.s, NULL, "valid policy: mode "
	    "%s, max_age %lu, %zu mx pattern%s", mtasts_mode_name(p->mode),
	    (unsigned long)p->max_age, p->nmx, p->nmx == 1 ? "" : "s");
}

/* ---- 5. MX records against the patterns ---- */

static void
check_mx(struct check *c)
{
	struct check_text	ev;
	size_t			i;
	int			rc;

	memset(&ev, 0, sizeof(ev));
	rc = c->net->dns_mx(c->dns, c->domain, &c->mx, &c->nmx);
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		c->mx = NULL;
		c->nmx = 0;
		check_emit(c, MTASTS_CHECK_MX, rc == MTASTS_ENOTFOUND ?
		    MTASTS_CHECK_WARN : MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, c->domain, NULL, "publish MX "
		    "records for the domain, each named in the policy",
		    rc == MTASTS_ENOTFOUND ? "%s has no MX records: "
		    "MTA-STS protects delivery to MX hosts" :
		    "DNS lookup of the MX records of %s failed", c->domain);
		return;
	}
	for (i = 0; i < c->nmx; i++)
		text_add(&ev, "%sMX %u %s", i ? "\n" : "", c->mx[i].pref,
		    c->mx[i].host[0] ? c->mx[i].host : ".");
	if (c->nmx == 1 && c->mx[0].host[0] == '\0') {
		check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, c->domain, ev.s, "remove the "
		    "MTA-STS records of a domain that takes no mail",
		    "null MX (RFC 7505): %s accepts no mail", c->domain);
		return;
	}
	for (i = 0; i < c->nmx; i++)
		check_mx_one(c, &c->mx[i]);
}

static void
check_mx_one(struct check *c, const struct dns_mx *mx)
{
	const struct mtasts_policy	*p = c->policy;
	char				 fix[CHECK_TEXT];
	size_t				 i;

	if (p == NULL || p->mode == MTASTS_MODE_NONE) {
		check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, mx->host, NULL, NULL, "MX %s "
		    "(preference %u): %s", mx->host, mx->pref, p == NULL ?
		    "no valid policy to check it against" :
		    "mode none: patterns do not apply");
		return;
	}
	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(mx->host, p->mx[i]) == 1) {
			check_emit(c, MTASTS_CHECK_MX, MTASTS_CHECK_PASS,
			    MTASTS_RESULT_SUCCESS, mx->host, NULL, NULL,
			    "MX %s matches the policy pattern \"%s\"",
			    mx->host, p->mx[i]);
			return;
		}
	(void)snprintf(fix, sizeof(fix), "add \"mx: %s\" (or a wildcard "
	    "that covers it) to the policy and change the TXT id, or "
	    "remove the MX record", mx->host);
	check_emit(c, MTASTS_CHECK_MX, check_severity(c),
	    MTASTS_RESULT_VALIDATION_FAILURE, mx->host, NULL, fix,
	    "MX %s matches no mx pattern of the policy: %s", mx->host,
	    p->mode == MTASTS_MODE_ENFORCE ? "senders refuse to deliver "
	    "to it" : "senders would refuse it under enforce");
}

/* ---- 6. STARTTLS on every MX address ---- */

static void
check_mx_tls(struct check *c)
{
	char	**addrs;
	size_t	  i, j, n;
	int	  rc;

	for (i = 0; i < c->nmx; i++) {
		if (c->mx[i].host[0] == '\0')
			continue;
		rc = c->net->dns_addrs(c->dns, c->mx[i].host, &addrs, &n);
		if (rc != MTASTS_OK) {
			if (rc == MTASTS_ENOMEM)
				c->err = rc;
			check_emit(c, MTASTS_CHECK_MX_TLS, check_severity(c),
			    MTASTS_RESULT_SUCCESS, c->mx[i].host, NULL,
			    "add A/AAAA records for the MX host or remove "
			    "the MX record", rc == MTASTS_ENOTFOUND ?
			    "MX %s has no address: mail cannot reach it" :
			    "DNS lookup of MX %s failed", c->mx[i].host);
			continue;
		}
		for (j = 0; j < n; j++)
			check_mx_probe(c, c->mx[i].host, addrs[j]);
		dns_strv_free(addrs, n);
	}
}

static void
check_mx_probe(struct check *c, const char *host, const char *addr)
{
	struct probe_result	res;
	struct check_text	ev;
	char			subject[CHECK_HOST_MAX + 64], where[64];

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(subject, sizeof(subject), strchr(addr, ':') ?
	    "%s [%s]:%u" : "%s %s:%u", host, addr, c->o.mx_port);
	if (probe_smtp(c->ctx->conf, addr, c->o.mx_port, host, c->helo,
	    c->o.timeout_ms, &res) != MTASTS_OK) {
		c->err = MTASTS_ENOMEM;
		return;
	}
	check_cert_evidence(&ev, &res);
	if (res.stage == PROBE_DONE) {
		check_emit(c, MTASTS_CHECK_MX_TLS, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, subject, ev.s, NULL, "STARTTLS, "
		    "%s, certificate valid for %s", res.protocol, host);
		check_cert_expiry(c, MTASTS_CHECK_MX_TLS, subject, host,
		    &res);
		return;
	}
	where[0] = '\0';
	if (res.stage != PROBE_VERIFY)
		(void)snprintf(where, sizeof(where), " (at %s)",
		    probe_stage_name(res.stage));
	check_emit(c, MTASTS_CHECK_MX_TLS, check_severity(c), res.result,
	    subject, ev.s, check_probe_fix(&res), "%s%s%s", res.err,
	    c->policy != NULL && c->policy->mode == MTASTS_MODE_ENFORCE ?
	    "" : "; senders would not deliver under enforce", where);
}

static const char *
check_probe_fix(const struct probe_result *res)
{
	switch (res->stage) {
	case PROBE_CONNECT:
	case PROBE_GREETING:
		return "make the MX accept SMTP on this address and port, "
		    "or remove the address or the MX record";
	case PROBE_EHLO:
	case PROBE_STARTTLS:
		return "enable STARTTLS on the MX with a certificate for its "
		    "name from a public CA";
	case PROBE_HANDSHAKE:
		return "enable TLS 1.2 or later with current cipher suites "
		    "on the MX";
	default:
		break;
	}
	if (res->certflags & PROBE_CERT_UNTRUSTED)
		return "use a certificate from a public CA, served with its "
		    "intermediate certificates";
	if (res->certflags & PROBE_CERT_EXPIRED)
		return "renew the MX certificate (automate renewal)";
	if (res->certflags & PROBE_CERT_NAME)
		return "use a certificate whose subjectAltName names the MX "
		    "host exactly as in the MX record";
	return "use a valid certificate for the MX host";
}

/* ---- 7. TLS-RPT ---- */

static void
check_tlsrpt(struct check *c)
{
	struct mtasts_tlsrpt_record	*rec = NULL;
	struct mtasts_diag		 diag;
	struct check_text		 ev;
	char				 name[CHECK_HOST_MAX];
	char				 fix[CHECK_TEXT];
	char				**txt = NULL;
	size_t				 n = 0, i;
	int				 rc;

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(name, sizeof(name), "_smtp._tls.%s", c->domain);
	(void)snprintf(fix, sizeof(fix), "publish a TXT record "
	    "\"v=TLSRPTv1; rua=mailto:tlsrpt@%s\" at %s", c->domain, name);
	if ((rc = c->net->dns_txt(c->dns, name, &txt, &n)) != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, name, NULL, fix,
		    rc == MTASTS_ENOTFOUND ? "no TLS-RPT record at %s: "
		    "senders will not report their TLS failures to you" :
		    "DNS lookup of %s failed", name);
		return;
	}
	for (i = 0; i < n; i++)
		text_add(&ev, "%sTXT \"%s\"", i ? "\n" : "", txt[i]);
	rc = mtasts_tlsrpt_record_parse((const char *const *)txt, n, &rec,
	    &diag);
	dns_strv_free(txt, n);
	if (rc != MTASTS_OK) {
		if (rc == MTASTS_ENOMEM)
			c->err = rc;
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, name, ev.s, fix,
		    "TLS-RPT record invalid: %s", diag.error.msg);
		return;
	}
	check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_PASS,
	    MTASTS_RESULT_SUCCESS, name, ev.s, NULL, "valid TLS-RPT record "
	    "with %zu rua", rec->nrua);
	for (i = 0; i < diag.nwarn; i++)
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, name, ev.s, "remove what the "
		    "warning names", "%s", diag.warn[i].msg);
	for (i = 0; i < rec->nrua; i++)
		check_rua(c, rec->rua[i]);
	mtasts_tlsrpt_record_free(rec);
}

static void
check_rua(struct check *c, const char *uri)
{
	if (strncasecmp(uri, "mailto:", 7) == 0)
		check_rua_mailto(c, uri);
	else
		check_rua_https(c, uri);
}

/* mailto:local@domain[?hfields]: the domain takes mail (MX, or A). */
static void
check_rua_mailto(struct check *c, const char *uri)
{
	struct dns_mx	*mx = NULL;
	char		 dom[MTASTS_NAME_MAX + 1], fix[CHECK_TEXT], **a;
	const char	*at = strrchr(uri, '@');
	size_t		 n = 0, len;
	int		 rc;

	len = at != NULL ? strcspn(at + 1, "?") : 0;
	(void)snprintf(dom, sizeof(dom), "%.*s", (int)len, at ? at + 1 : "");
	(void)snprintf(fix, sizeof(fix), "use a rua address at a domain "
	    "that receives mail, or publish MX records for %s", dom);
	rc = c->net->dns_mx(c->dns, dom, &mx, &n);
	if (rc == MTASTS_OK && !(n == 1 && mx[0].host[0] == '\0')) {
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, uri, NULL, NULL, "rua %s: %s "
		    "receives mail (MX %s)", uri, dom, mx[0].host);
		free(mx);
		return;
	}
	free(mx);
	if (rc == MTASTS_OK) {
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_FAIL,
		    MTASTS_RESULT_SUCCESS, uri, NULL, fix, "rua %s: %s has a "
		    "null MX and accepts no mail: reports cannot be "
		    "delivered", uri, dom);
		return;
	}
	if (rc == MTASTS_ENOTFOUND &&
	    (rc = c->net->dns_addrs(c->dns, dom, &a, &n)) == MTASTS_OK) {
		dns_strv_free(a, n);
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, uri, NULL, NULL, "rua %s: %s has "
		    "no MX but an address (implicit MX)", uri, dom);
		return;
	}
	if (rc == MTASTS_ENOMEM)
		c->err = rc;
	check_emit(c, MTASTS_CHECK_TLSRPT, rc == MTASTS_ENOTFOUND ?
	    MTASTS_CHECK_FAIL : MTASTS_CHECK_WARN, MTASTS_RESULT_SUCCESS, uri,
	    NULL, fix, rc == MTASTS_ENOTFOUND ? "rua %s: %s has no MX and no "
	    "address: reports cannot be delivered" : "rua %s: DNS lookup of "
	    "%s failed", uri, dom);
}

/* https://host[:port]/...: the host resolves. Nothing is posted. */
static void
check_rua_https(struct check *c, const char *uri)
{
	char		 host[MTASTS_NAME_MAX + 1], fix[CHECK_TEXT], **a;
	const char	*h = uri + 8;	/* after "https://" (parser-checked) */
	size_t		 n, len;
	int		 rc;

	len = strcspn(h, ":/?#");
	(void)snprintf(host, sizeof(host), "%.*s", (int)len, h);
	(void)snprintf(fix, sizeof(fix), "publish A/AAAA records for %s "
	    "or use another rua", host);
	if ((rc = c->net->dns_addrs(c->dns, host, &a, &n)) == MTASTS_OK) {
		check_emit(c, MTASTS_CHECK_TLSRPT, MTASTS_CHECK_PASS,
		    MTASTS_RESULT_SUCCESS, uri, a[0], NULL, "rua %s: %s "
		    "resolves", uri, host);
		dns_strv_free(a, n);
		return;
	}
	if (rc == MTASTS_ENOMEM)
		c->err = rc;
	check_emit(c, MTASTS_CHECK_TLSRPT, rc == MTASTS_ENOTFOUND ?
	    MTASTS_CHECK_FAIL : MTASTS_CHECK_WARN, MTASTS_RESULT_SUCCESS, uri,
	    NULL, fix, rc == MTASTS_ENOTFOUND ? "rua %s: %s does not "
	    "resolve: reports cannot be delivered" : "rua %s: DNS lookup of "
	    "%s failed", uri, host);
}

/* ---- 8. advice ---- */

static void
check_advice(struct check *c)
{
	const struct mtasts_policy	*p = c->policy;
	char				 fix[CHECK_TEXT];

	if (p != NULL && p->mode == MTASTS_MODE_TESTING)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "once reports are "
		    "clean, set \"mode: enforce\" and change the TXT id",
		    "mode testing: senders report failures but still "
		    "deliver; move to enforce after some weeks of clean "
		    "TLS-RPT reports");
	else if (p != NULL && p->mode == MTASTS_MODE_NONE)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "start with "
		    "\"mode: testing\" unless the policy is being withdrawn",
		    "mode none: senders drop the policy; it is meant for "
		    "withdrawing MTA-STS");
	if (p != NULL)
		check_advice_max_age(c);
	if (p != NULL || c->txt_ok) {
		(void)snprintf(fix, sizeof(fix), "publish the new policy "
		    "file first, then change the id at _mta-sts.%s",
		    c->domain);
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, fix, "when the "
		    "policy changes, update the file before the TXT id: "
		    "senders fetch when they see a new id and keep what "
		    "they get until max_age runs out");
	}
	check_advice_providers(c);
}

/* A day while testing, a week or more under enforce. */
static void
check_advice_max_age(struct check *c)
{
	const struct mtasts_policy	*p = c->policy;

	if (p->mode == MTASTS_MODE_ENFORCE && p->max_age < CHECK_WEEK)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_WARN,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "set \"max_age: "
		    "604800\" or more (weeks; RFC 8461 section 3.2)",
		    "max_age %lu is short for enforce: senders forget the "
		    "policy after that long and an attacker who blocks the "
		    "fetch then downgrades them", (unsigned long)p->max_age);
	else if (p->mode == MTASTS_MODE_TESTING && p->max_age > CHECK_DAY)
		check_emit(c, MTASTS_CHECK_ADVICE, MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->url, NULL, "set \"max_age: "
		    "86400\" while testing",
		    "max_age %lu while testing: a day (86400) lets a mistake "
		    "expire quickly", (unsigned long)p->max_age);
}

/* Only when the MX records show the provider. */
static void
check_advice_providers(struct check *c)
{
	const struct check_provider	*pv;
	struct check_text		 ev;
	char				 fix[CHECK_TEXT], pats[512];
	size_t				 i, j, k, seen, have;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		pv = &providers[i];
		memset(&ev, 0, sizeof(ev));
		for (seen = 0, j = 0; j < c->nmx; j++)
			for (k = 0; pv->patterns[k] != NULL; k++)
				if (mtasts_mx_match(c->mx[j].host,
				    pv->patterns[k]) == 1) {
					text_add(&ev, "%sMX %s", seen++ ? "\n"
					    : "", c->mx[j].host);
					break;
				}
		if (seen == 0)
			continue;
		memset(pats, 0, sizeof(pats));
		for (have = 0, k = 0; pv->patterns[k] != NULL; k++) {
			(void)snprintf(pats + strlen(pats), sizeof(pats) -
			    strlen(pats), "%smx: %s", k ? ", " : "",
			    pv->patterns[k]);
			for (j = 0; c->policy != NULL && j < c->policy->nmx;
			    j++)
				if (strcasecmp(c->policy->mx[j],
				    pv->patterns[k]) == 0) {
					have++;
					break;
				}
		}
		(void)snprintf(fix, sizeof(fix), "put these lines in the "
		    "policy, then change the TXT id: %s", pats);
		check_emit(c, MTASTS_CHECK_ADVICE, have == k ?
		    MTASTS_CHECK_PASS : MTASTS_CHECK_INFO,
		    MTASTS_RESULT_SUCCESS, c->domain, ev.s, fix,
		    "the MX records are %s's: %s the patterns it publishes "
		    "(%s)", pv->name, have == k ? "the policy lists" :
		    "list", pats);
	}
}
