/*
 * tlsrpt.h - TLS-RPT internals shared by the engine: recording a policy
 * fetch failure, and the RFC 8460 names of result and policy types.
 */
#ifndef MTASTS_TLSRPT_H
#define MTASTS_TLSRPT_H

#include "mtasts.h"
#include "util/log.h"
#include "net/fetch.h"


struct mtasts_ctx;

/*
 * The engine saw a policy fetch fail for domain: one failure session of
 * policy type "sts" with result (sts-policy-fetch-error,
 * sts-policy-invalid or sts-webpki-invalid) and detail (why, or NULL).
 * Fails open: errors are logged only.
 */
void	tlsrpt_note_fetch_failure(struct mtasts_ctx *ctx, const char *domain,
	    enum mtasts_result result, const char *detail);

/* The RFC 8460 result type of a failed fetch (FETCH_OK: success). */
enum mtasts_result tlsrpt_fetch_result(enum fetch_fail fail);

/* "sts", "tlsa", "no-policy-found"; NULL for a value out of range. */
const char *tlsrpt_policy_type_name(enum mtasts_policy_type t);

#endif
