/*
 * tlsrpt.c - recording TLS-RPT results (RFC 8460 section 4.3) on the
 * delivery path.
 *
 * mtasts_tlsrpt_record() adds one session to the counter of its key
 * (UTC day, policy domain, policy type, result type, MX host, receiving
 * and sending IP, detail) by appending one line to the spool beside the
 * store (tlsrpt_spool.c): one write(2), no SQLite, no DNS, no policy
 * lookup. The store folds the spool into its counters before they are
 * read (store_tlsrpt_day(), store_tlsrpt_purge()). The policy string
 * and mx patterns of a report are taken from the cached policy when the
 * report is built (report_build.c), not here, so recording stays one
 * write. Reporting fails open: a bad argument or a store failure returns
 * an error that callers only log.
 *
 * Arguments are checked before they reach the store: the domain and MX
 * host are normalised (lower case, A-labels, no trailing dot), IP
 * addresses must be IP literals (else they are left out, with a debug
 * line), the detail is cut at TLSRPT_DETAIL_MAX bytes and must be
 * printable ASCII (other bytes become '?'). The answer the session ran
 * under, when the adapter gives it, adds the mode and whether enforce
 * refused the session to the line, for the metrics.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/tlsrpt_spool.h"
#include "engine/ctx.h"
#include "engine/tlsrpt.h"

#define TLSRPT_IP_MAX		INET6_ADDRSTRLEN

static const char *const tlsrpt_result_names[] = {
	[MTASTS_RESULT_SUCCESS] = "success",
	[MTASTS_RESULT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[MTASTS_RESULT_CERT_HOST_MISMATCH] = "certificate-host-mismatch",
	[MTASTS_RESULT_CERT_EXPIRED] = "certificate-expired",
	[MTASTS_RESULT_CERT_NOT_TRUSTED] = "certificate-not-trusted",
	[MTASTS_RESULT_VALIDATION_FAILURE] = "validation-failure",
	[MTASTS_RESULT_TLSA_INVALID] = "tlsa-invalid",
	[MTASTS_RESULT_DNSSEC_INVALID] = "dnssec-invalid",
	[MTASTS_RESULT_DANE_REQUIRED] = "dane-required",
	[MTASTS_RESULT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[MTASTS_RESULT_STS_POLICY_INVALID] = "sts-policy-invalid",
	[MTASTS_RESULT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};
#define TLSRPT_NRESULTS \
	(sizeof(tlsrpt_result_names) / sizeof(tlsrpt_result_names[0]))

static const char *const tlsrpt_type_names[] = {
	[MTASTS_POLICY_STS] = "sts",
	[MTASTS_POLICY_TLSA] = "tlsa",
	[MTASTS_POLICY_NONE_FOUND] = "no-policy-found",
};

static int	tlsrpt_ip(const struct logger *, const char *, const char *,
		    char *);
static void	tlsrpt_detail(const char *, char *);
static void	tlsrpt_mode(const struct mtasts_tlsrpt_result *,
		    struct store_tlsrpt_row *);

const char *
mtasts_result_name(enum mtasts_result r)
{
	if ((unsigned)r >= TLSRPT_NRESULTS)
		return "unknown";
	return tlsrpt_result_names[r];
}

const char *
tlsrpt_policy_type_name(enum mtasts_policy_type t)
{
	if ((unsigned)t >= sizeof(tlsrpt_type_names) /
	    sizeof(tlsrpt_type_names[0]))
		return NULL;
	return tlsrpt_type_names[t];
}

int
mtasts_tlsrpt_record(struct mtasts_ctx *ctx,
    const struct mtasts_tlsrpt_result *res)
{
	struct store_tlsrpt_row	 row;
	struct store		*st;
	const char		*spool;
	char			 domain[MTASTS_NAME_MAX + 1];
	char			 mx[MTASTS_NAME_MAX + 1];
	char			 rip[TLSRPT_IP_MAX], sip[TLSRPT_IP_MAX];
	char			 detail[TLSRPT_DETAIL_MAX + 1];
	int			 rc;

	if (ctx == NULL || res == NULL || res->domain == NULL ||
	    (unsigned)res->result >= TLSRPT_NRESULTS ||
	    tlsrpt_policy_type_name(res->policy_type) == NULL)
		return MTASTS_EINVAL;
	if (mtasts_name_normalize(res->domain, 0, domain) != MTASTS_OK) {
		log_warn(&ctx->log, "tlsrpt: not a domain: %.64s",
		    res->domain);
		return MTASTS_EINVAL;
	}
	mx[0] = '\0';
	if (res->mx_host != NULL && *res->mx_host != '\0' &&
	    mtasts_name_normalize(res->mx_host, 0, mx) != MTASTS_OK) {
		log_debug(&ctx->log, "tlsrpt: %s: MX host %.64s left out: "
		    "not a host name", domain, res->mx_host);
		mx[0] = '\0';
	}
	tlsrpt_ip(&ctx->log, domain, res->receiving_ip, rip);
	tlsrpt_ip(&ctx->log, domain, res->sending_ip, sip);
	tlsrpt_detail(res->detail, detail);
	if ((st = ctx_store(ctx)) == NULL) {
		log_debug(&ctx->log, "tlsrpt: %s: no store, result not "
		    "recorded", domain);
		return MTASTS_ESTORE;
	}
	memset(&row, 0, sizeof(row));
	row.day = (long long)(time(NULL) / 86400);
	row.domain = domain;
	row.policy_type = tlsrpt_policy_type_name(res->policy_type);
	row.result = tlsrpt_result_names[res->result];
	row.mx = mx;
	row.receiving_ip = rip;
	row.sending_ip = sip;
	row.detail = detail;
	row.count = 1;
	tlsrpt_mode(res, &row);
	if ((spool = store_tlsrpt_spool(st)) == NULL)
		rc = MTASTS_ESTORE;
	else
		rc = tlsrpt_spool_append(spool,
		    store_tlsrpt_spool_tag(st), &row, &ctx->log);
	if (rc != MTASTS_OK)
		log_warn(&ctx->log, "tlsrpt: %s: %s not recorded: %s", domain,
		    row.result, mtasts_strerror(rc));
	return rc;
}

/* Copies an IP literal to out (""): anything else is left out. */
static int
tlsrpt_ip(const struct logger *lg, const char *domain, const char *ip,
    char *out)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	out[0] = '\0';
	if (ip == NULL || *ip == '\0')
		return 0;
	if (strlen(ip) >= TLSRPT_IP_MAX || (inet_pton(AF_INET, ip, buf) != 1 &&
	    inet_pton(AF_INET6, ip, buf) != 1)) {
		log_debug(lg, "tlsrpt: %s: address %.64s left out: not an IP "
		    "address", domain, ip);
		return -1;
	}
	/* The canonical text form, so that one address is one key. */
	if (strchr(ip, ':') != NULL)
		inet_ntop(AF_INET6, buf, out, TLSRPT_IP_MAX);
	else
		inet_ntop(AF_INET, buf, out, TLSRPT_IP_MAX);
	return 0;
}

/*
 * For the metrics: the mode the session ran under, and whether enforce
 * refused it (a failure under enforce, log_only not set). Without an
 * answer the line says neither (the metrics say "unknown").
 */
static void
tlsrpt_mode(const struct mtasts_tlsrpt_result *res,
    struct store_tlsrpt_row *row)
{
	const struct mtasts_answer	*a = res->answer;

	if (a == NULL)
		return;
	row->mode = mtasts_mode_name(a->mode);
	row->deferred = a->mode == MTASTS_MODE_ENFORCE && !a->log_only &&
	    res->result != MTASTS_RESULT_SUCCESS;
}

static void
tlsrpt_detail(const char *in, char *out)
{
	size_t	i;

	for (i = 0; in != NULL && in[i] != '\0' && i < TLSRPT_DETAIL_MAX;
	    i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

void
tlsrpt_note_fetch_failure(struct mtasts_ctx *ctx, const char *domain,
    enum mtasts_result result, const char *detail)
{
	struct mtasts_tlsrpt_result	res;

	memset(&res, 0, sizeof(res));
	res.domain = domain;
	res.policy_type = MTASTS_POLICY_STS;
	res.result = result;
	res.detail = detail;
	(void)mtasts_tlsrpt_record(ctx, &res);
}

enum mtasts_result
tlsrpt_fetch_result(enum fetch_fail fail)
{
	switch (fail) {
	case FETCH_OK:
		return MTASTS_RESULT_SUCCESS;
	case FETCH_ETLS:
		return MTASTS_RESULT_STS_WEBPKI_INVALID;
	case FETCH_ETOOBIG:
		return MTASTS_RESULT_STS_POLICY_INVALID;
	case FETCH_ECONNECT:
	case FETCH_EHTTP:
	case FETCH_ETIMEOUT:
		break;
	}
	return MTASTS_RESULT_STS_POLICY_FETCH_ERROR;
}
