/*
 * check_policy.c - steps 2 to 4 of mtasts_check(): the policy host
 * mta-sts.DOMAIN resolves and each of its addresses shows a valid WebPKI
 * certificate (a TLS probe); the real fetch (fetch.c: status, redirect,
 * media type, size); and the policy file, parsed again after each error
 * with the bad line blanked, so that every bad line is named. Leaves
 * the addresses, the fetched body and the valid policy in c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "check/check_int.h"

#define CHECK_PASSES_MAX	16	/* policy re-parses after errors */

static void	check_policy_cert(struct check *, const char *);
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

/* ---- 2. the policy host ---- */

void
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
		check_text_add(&ev, "%s%s", i ? ", " : "", c->paddrs[i]);
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

/* ---- 3. the fetch ---- */

void
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
void
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
	check_text_add(&ev, "mode: %s\nmax_age: %lu", mtasts_mode_name(p->mode),
	    (unsigned long)p->max_age);
	for (i = 0; i < p->nmx; i++)
		check_text_add(&ev, "\nmx: %s", p->mx[i]);
	check_emit(c, MTASTS_CHECK_POLICY, MTASTS_CHECK_PASS,
	    MTASTS_RESULT_SUCCESS, c->url, ev.s, NULL, "valid policy: mode "
	    "%s, max_age %lu, %zu mx pattern%s", mtasts_mode_name(p->mode),
	    (unsigned long)p->max_age, p->nmx, p->nmx == 1 ? "" : "s");
}
