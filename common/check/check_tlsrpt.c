/*
 * check_tlsrpt.c - step 7 of mtasts_check(): the _smtp._tls TLS-RPT
 * record (RFC 8460 section 3) is there and parses, and each rua can
 * take reports: a mailto: domain receives mail (MX, or an address), an
 * https: host resolves. Nothing is sent to any rua.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "util/strv.h"
#include "check/check_int.h"

static void	check_rua(struct check *, const char *);
static void	check_rua_mailto(struct check *, const char *);
static void	check_rua_https(struct check *, const char *);

/* ---- 7. TLS-RPT ---- */

void
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
		check_text_add(&ev, "%sTXT \"%s\"", i ? "\n" : "", txt[i]);
	rc = mtasts_tlsrpt_record_parse((const char *const *)txt, n, &rec,
	    &diag);
	strv_free(txt, n);
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
		strv_free(a, n);
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
		strv_free(a, n);
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
