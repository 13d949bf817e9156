/*
 * check_int.h - what the deployment check's files share: struct check,
 * which the steps fill in order (check.c runs them), the step functions,
 * and check_emit.c's findings and text helpers. Only common/check/
 * includes it; the rest sees mtasts_check() in mtasts.h.
 */
#ifndef MTASTS_CHECK_INT_H
#define MTASTS_CHECK_INT_H

#include <stddef.h>
#include <time.h>

#include "mtasts.h"
#include "net/dns.h"
#include "net/fetch.h"
#include "net/probe.h"
#include "engine/ctx.h"

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

/*
 * The steps, in the order mtasts_check() runs them; each reads what the
 * ones before it left in c and reports through check_emit().
 */
void	check_txt(struct check *c);		/* check_txt.c */
void	check_policy_host(struct check *c);	/* check_policy.c */
void	check_policy_fetch(struct check *c);
void	check_policy(struct check *c);
void	check_mx(struct check *c);		/* check_mx.c */
void	check_mx_tls(struct check *c);
void	check_tlsrpt(struct check *c);		/* check_tlsrpt.c */
void	check_advice(struct check *c);		/* check_advice.c */

/* check_emit.c */
/* One finding to the caller's callback, counted in c->sum. */
void	check_emit(struct check *c, enum mtasts_check_step step,
	    enum mtasts_check_status status, enum mtasts_result result,
	    const char *subject, const char *evidence, const char *fix,
	    const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Appends to t; what does not fit is cut. */
void	check_text_add(struct check_text *t, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "YYYY-MM-DD hh:mm:ss UTC", or "unknown". */
void	check_fmt_time(char *buf, size_t size, time_t t);
/* A problem senders meet: fail under enforce, warn otherwise. */
enum mtasts_check_status check_severity(const struct check *c);
/* The greeting, TLS and certificate a probe saw, as evidence. */
void	check_cert_evidence(struct check_text *ev,
	    const struct probe_result *res);
/* A warning when the certificate a probe saw expires soon. */
void	check_cert_expiry(struct check *c, enum mtasts_check_step step,
	    const char *subject, const char *name,
	    const struct probe_result *res);

#endif
