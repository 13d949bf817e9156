/*
 * filter.h - what the parts of filter-mtasts share: the engine context,
 * the routing table, the event base and the log.
 */
#ifndef FILTER_FILTER_H
#define FILTER_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "mtasts.h"

struct event_base;
struct proto_line;
struct table;

struct filter {
	struct mtasts_ctx	*ctx;	/* the engine */
	struct table		*table;	/* enforce-mode domains */
	struct event_base	*base;	/* libevent */
	int			 allow_mixed; /* -M: accept MX sets where
					   only some hosts match */
	int			 closing; /* smtpd is gone: lookups in
					   flight are being cancelled */
};

extern struct filter	filter;

void	filter_log(enum mtasts_loglevel level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* smtpd is gone (a write failed): leave the event loop. */
void	filter_stop(void);

/* rcpt.c: the rcpt-to filter and the end of an smtp-in session. */
void	rcpt_on_filter(const struct proto_line *l);
void	rcpt_on_disconnect(uint64_t reqid);
/* Keeps domain in the routing table (on non-zero) or out of it. */
int	rcpt_table_sync(const char *domain, int enforce);

/* rcpt.c: smtp-in tx-mail (the envelope sender of the session). */
void	rcpt_on_mail(const struct proto_line *l);
/* Forgets the smtp-in sessions (after mtasts_ctx_close()). */
void	rcpt_close(void);

/* smtpout.c: smtp-out reports and TLS-RPT results. */
void	smtpout_on_report(const struct proto_line *l);
/* Is addr ("<local@domain>" or "local@domain") the sender of report
 * mail (local part MTASTS_REPORT_SENDER)? */
int	smtpout_is_report_sender(const char *addr);
/* A domain with a policy was accepted at RCPT TO with this MX set:
 * remember it (and the MX addresses) to attribute smtp-out sessions. */
void	smtpout_expect(const char *domain, int enforce, char **hosts,
	    size_t n);
/* The filter refused domain at RCPT TO because of MX host mx, on which
 * the core gave verdict v (its result and detail are recorded); mx and v
 * NULL: the domain has no MX host at all. */
void	smtpout_refused(const char *domain, const char *mx,
	    const struct mtasts_mx_verdict *v);
/* Forgets sessions and domains; after mtasts_ctx_close(), which answers
 * the lookups that point into them. */
void	smtpout_close(void);

/*
 * mxcache.c: MX sets of recent answers, each used for at most 60 s.
 * mxcache_get() gives the set of domain (normalised) when one is fresh
 * (1; hosts stay the cache's and are valid until the next mxcache_put()
 * or mxcache_clear()), else 0. mxcache_put() keeps a copy of an answer.
 */
int	mxcache_get(const char *domain, char ***hosts, size_t *n);
void	mxcache_put(const char *domain, char **hosts, size_t n);
void	mxcache_clear(void);

/* refresh.c: proactive refresh of cached policies every secs seconds. */
int	refresh_start(unsigned secs);
void	refresh_stop(void);

#endif
