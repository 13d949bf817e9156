/*
 * exim.h - what the files of the Exim adapter (mtasts.so) share.
 *
 * proc.c	the one engine context of an Exim process, its log callback,
 *		and the last answer kept for the next calls of the process
 * decide.c	the decisions: routing mode, TLS requirement, MX check
 * report.c	results of delivery attempts: the log and TLS-RPT
 * exim.c	the ${dlfunc} entry points Exim calls
 *
 * Nothing here includes local_scan.h except exim.c and proc.c (the only
 * files that call Exim), so that the decision code builds and reads
 * without Exim's types (report.c reads Exim variables through
 * proc_expand()).
 */
#ifndef MTASTS_EXIM_H
#define MTASTS_EXIM_H

#include "mtasts.h"

/* Log levels of the adapter's own lines, as Exim sees them. */
enum xlog {
	XLOG_MAIN,		/* main log */
	XLOG_PANIC		/* main and panic log */
};

/*
 * The policy that rules a domain now in this process: the context is
 * opened on first use (conf "": the default file; NULL: the file of the
 * last call that named one, inherited across fork) and the answer
 * kept for PROC_MEMO_SECONDS, so that the router, the transport options
 * and the events of one delivery ask the store once. Returns MTASTS_OK
 * with *ans pointing at the kept answer (valid until the next call), or
 * a negative MTASTS_* code when nothing could be decided (configuration
 * unreadable, out of memory, a name that is not a domain).
 */
#define PROC_MEMO_SECONDS	10
int	 proc_answer(const char *conf, const char *domain,
	    const struct mtasts_answer **ans);
/*
 * Exim's expansion of s (a variable, a certextract), in Exim's memory,
 * or NULL when it fails.
 */
const char *proc_expand(const char *s);
/* The envelope sender of the message being delivered ("" for none). */
const char *proc_sender(void);
/*
 * One TLS-RPT result into the store, through this process's context
 * (opened now, with the file of the last proc_answer(), when a transport
 * process answered from the kept answer): MTASTS_OK, or an error the
 * caller only logs.
 */
int	 proc_record(const struct mtasts_tlsrpt_result *res);
/* The last error of proc_answer() in words (for log lines). */
const char *proc_error(void);
/* One line to Exim's log, "mtasts: " in front. */
void	 proc_log(enum xlog where, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The policy as a transport applies it to domain, given the router's
 * answer (routed, from $address_data). internal is set when the router
 * said enforce or "error" and no policy can be had now: fail closed
 * (mode enforce, every MX refused) unless log_only.
 */
struct decision {
	enum mtasts_mode		 mode;		/* effective mode */
	const struct mtasts_answer	*ans;		/* NULL: none at all */
	int				 log_only;	/* log, never refuse */
	int				 internal;	/* fail closed */
};
void	 decide_policy(const char *conf, const char *domain,
	    const char *routed, struct decision *d);

/*
 * The mode a router sees: "none", "testing" or "enforce", or "error"
 * when the configuration cannot be read (then the transport fails
 * closed). A name that is not a domain (an address literal) is "none".
 */
const char *decide_mode(const char *conf, const char *domain);

/*
 * The host list for hosts_require_tls and tls_verify_hosts: "*" when TLS
 * with a verified certificate is required (enforce and not log_only, or
 * an internal error while the router had said enforce or error), ""
 * otherwise. routed is the router's answer carried in $address_data.
 */
const char *decide_tls(const char *conf, const char *domain,
	    const char *routed);

/*
 * The tcp:connect verdict for MX host mx: NULL to connect, else why not
 * (a static string). Under testing and log_only, a host the policy would
 * refuse is logged and connected to. dane non-zero: Exim will verify the
 * host by DANE, which takes precedence (RFC 8461 section 2), so the
 * pattern check is skipped.
 */
const char *decide_connect(const char *conf, const char *domain,
	    const char *mx, const char *addr, const char *routed, int dane);

/* What one transport event says about a delivery attempt. */
struct report_event {
	const char	*event;		/* $event_name */
	const char	*domain;	/* $domain */
	const char	*mx;		/* $host */
	const char	*addr;		/* $host_address */
	const char	*routed;	/* $address_data: the router's mode */
	const char	*tls;		/* "none", "unverified", "verified" */
	const char	*data;		/* $event_data */
};

/*
 * Records the result of a delivery attempt (tcp:close, msg:delivery,
 * msg:host:defer, tls:fail:connect) under the domain's policy: logs it,
 * says what testing mode and log_only would have refused, and hands it
 * to report_tlsrpt_record(). Never changes the delivery.
 */
void	 report_event(const char *conf, const struct report_event *ev);

/*
 * Records one delivery attempt's TLS-RPT result (RFC 8460 section 4.3)
 * in the store: policy type sts when d has a policy in force, else
 * no-policy-found; mx and addr the MX host and its address; the sending
 * address from $sending_ip_address; detail (may be NULL) Exim's error
 * text or ours. Report mail itself (envelope sender
 * MTASTS_REPORT_SENDER@...) is not recorded. Fails open: a failure is
 * only logged.
 */
void	 report_tlsrpt_record(const char *domain, const struct decision *d,
	    const char *mx, const char *addr, enum mtasts_result result,
	    const char *detail);
#endif
