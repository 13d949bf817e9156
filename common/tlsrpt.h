/*
 * tlsrpt.h - TLS-RPT internals shared by the engine: recording a policy
 * fetch failure, and the RFC 8460 names of result and policy types.
 */
#ifndef MTASTS_TLSRPT_H
#define MTASTS_TLSRPT_H

#include "mtasts.h"
#include "fetch.h"
#include "log.h"
#include "store.h"

#define TLSRPT_DETAIL_MAX	255	/* bytes of a failure-reason-code */
#define TLSRPT_SPOOL_LINE_MAX	2048	/* a spool line, LF included */

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

/*
 * The spool (tlsrpt_spool.c): results appended to a flat file beside the
 * store, folded into the counters by store.c before they are read.
 */
struct tlsrpt_spool_sink {
	int	(*begin)(void *arg);	/* one transaction per spool file */
	int	(*add)(void *arg, const struct store_tlsrpt_row *r);
	int	(*commit)(void *arg);
	void	(*rollback)(void *arg);
	void	*arg;
};

/* Appends one session of r's key (r->count is not used): one write(2). */
int	tlsrpt_spool_append(const char *path, const char *tag,
	    const struct store_tlsrpt_row *r, const struct logger *lg);
/*
 * Moves every line spooled at path into sink, one transaction per file;
 * malformed lines are logged and skipped, lines of another tag (the
 * store's database file was replaced) are dropped; "-" matches any.
 * MTASTS_OK when nothing is spooled. A file whose transaction fails
 * stays for the next fold.
 */
int	tlsrpt_spool_fold(const char *path, const char *tag,
	    const struct logger *lg, const struct tlsrpt_spool_sink *sink);
/* The spool line of r into buf: its length, or -1 (bad row, too long). */
int	tlsrpt_spool_line(const char *tag, const struct store_tlsrpt_row *r,
	    char *buf, size_t size);
/* Parses one line (LF included) in place: 0, or -1 when malformed. */
int	tlsrpt_spool_parse(char *line, size_t len, const char **tag,
	    struct store_tlsrpt_row *r);

#endif
