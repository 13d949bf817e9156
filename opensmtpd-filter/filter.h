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
	struct table		*table;	/* policy domains (enforce,
					   testing): routed to the relay */
	struct event_base	*base;	/* libevent */
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
int	rcpt_table_sync(const char *domain, int routed);

/* rcpt.c: smtp-in tx-mail (the envelope sender of the session). */
void	rcpt_on_mail(const struct proto_line *l);
/* Forgets the smtp-in sessions (after mtasts_ctx_close()). */
void	rcpt_close(void);

/* smtpout.c: smtp-out reports of the plain relay action: TLS-RPT
 * results of domains without a policy. */
void	smtpout_on_report(const struct proto_line *l);
/* Is addr ("<local@domain>" or "local@domain") the sender of report
 * mail (local part MTASTS_REPORT_SENDER)? */
int	smtpout_is_report_sender(const char *addr);
/* Forgets the sessions. */
void	smtpout_close(void);

/* refresh.c: proactive refresh of cached policies every secs seconds. */
int	refresh_start(unsigned secs);
void	refresh_stop(void);

#endif
