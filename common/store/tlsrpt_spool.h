/*
 * tlsrpt_spool.h - the TLS-RPT spool: results appended to a flat file
 * beside the store by mtasts_tlsrpt_record() (one write(2), no lock),
 * folded into the store's counters before they are read.
 */
#ifndef MTASTS_TLSRPT_SPOOL_H
#define MTASTS_TLSRPT_SPOOL_H

#include "util/log.h"
#include "store/store.h"

#define TLSRPT_DETAIL_MAX	255	/* bytes of a failure-reason-code */
#define TLSRPT_SPOOL_LINE_MAX	2048	/* a spool line, LF included */

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
/* The lines spooled at path and not folded yet (reads only). */
int	tlsrpt_spool_backlog(const char *path, unsigned long long *lines);
/* Parses one line (LF included) in place: 0, or -1 when malformed. */
int	tlsrpt_spool_parse(char *line, size_t len, const char **tag,
	    struct store_tlsrpt_row *r);

#endif
