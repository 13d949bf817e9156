/*
 * fetch.h - the HTTPS policy fetch (RFC 8461 section 3.3) on libcurl.
 *
 * https://mta-sts.<domain>/.well-known/mta-sts.txt at the addresses the
 * caller resolved (curl resolves nothing itself); WebPKI certificate
 * valid for mta-sts.<domain>; no redirects; 200 only; text/plain with
 * parameters ignored; body capped at 64 KiB while reading; connect and
 * total timeouts; no HTTP caching; a proxy only when configured.
 */
#ifndef MTASTS_FETCH_H
#define MTASTS_FETCH_H

#include <stddef.h>

#include "mtasts.h"
#include "util/ev.h"
#include "util/log.h"
#include "conf/config.h"

/* Why a fetch failed; maps to RFC 8460 result types. */
enum fetch_fail {
	FETCH_OK = 0,
	FETCH_ECONNECT,		/* could not connect: sts-policy-fetch-error */
	FETCH_ETLS,		/* certificate invalid: sts-webpki-invalid */
	FETCH_EHTTP,		/* status, redirect, media type:
				   sts-policy-fetch-error */
	FETCH_ETOOBIG,		/* body over 64 KiB: sts-policy-invalid */
	FETCH_ETIMEOUT		/* a timeout: sts-policy-fetch-error */
};

struct fetch_result {
	enum fetch_fail	 fail;		/* FETCH_OK on success */
	long		 status;	/* HTTP status, 0 if none */
	char		*body;		/* NUL-terminated, len bytes */
	size_t		 len;
	char		 err[MTASTS_DIAG_MSG]; /* what went wrong, for logs */
};

struct fetch;

int	fetch_new(const struct config *conf, const struct logger *lg,
	    struct ev *ev, struct fetch **out);
void	fetch_free(struct fetch *f);

/* Synchronous: MTASTS_OK with res filled (body set), or MTASTS_EFETCH
 * with res->fail and res->err saying why. */
int	fetch_policy(struct fetch *f, const char *domain,
	    char *const *addrs, size_t naddrs, struct fetch_result *res);
void	fetch_result_clear(struct fetch_result *res);

/* Asynchronous, through curl's multi interface on ev: cb runs once from
 * ev_process(); res is cleared after it returns. Many may be in flight.
 * fetch_free() drops transfers in flight without calling their
 * callbacks; do not call it from a callback. MTASTS_EINVAL when domain
 * is not a host name or an address is not an IP literal (also for
 * fetch_policy()). */
typedef void fetch_cb(void *arg, int err, struct fetch_result *res);
int	fetch_policy_async(struct fetch *f, const char *domain,
	    char *const *addrs, size_t naddrs, fetch_cb *cb, void *arg);

#endif
