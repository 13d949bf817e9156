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
 *
 * Each step is in a file of its own (check_txt.c, check_policy.c,
 * check_mx.c, check_tlsrpt.c, check_advice.c); check_emit.c turns what a
 * step found into a finding and counts it in the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"
#include "util/strv.h"
#include "check/check_int.h"

#define CHECK_TIMEOUT_MS	10000

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
	strv_free(c->paddrs, c->npaddrs);
	fetch_result_clear(&c->fetched);
	mtasts_policy_free(c->policy);
	free(c->mx);
}
