/*
 * store.h - the policy cache and TLS-RPT counters in SQLite (WAL),
 * shared by many processes. The only module that knows SQL.
 *
 * Every call waits at most the busy timeout given to store_open(); a
 * missing, locked or corrupt database gives MTASTS_ESTORE (logged),
 * never a crash or a hang. One that exists but cannot be written (full
 * disk, I/O error, read-only) is opened read-only: reads work, writes
 * give MTASTS_ESTORE.
 */
#ifndef MTASTS_STORE_H
#define MTASTS_STORE_H

#include <time.h>

#include "mtasts.h"
#include "util/log.h"

struct store;

/* One cached policy. */
struct store_policy {
	char	 domain[MTASTS_NAME_MAX + 1]; /* normalised policy domain */
	char	 id[MTASTS_ID_MAX + 1];	/* id of the TXT record it came with */
	char	*text;			/* the policy file as fetched; NULL
					   when only a failure is known */
	time_t	 fetched;		/* when it was fetched */
	time_t	 expires;		/* fetched + max_age */
	time_t	 checked;		/* last time the TXT id was checked */
	time_t	 failed;		/* last failed fetch, 0: none */
	char	 failed_id[MTASTS_ID_MAX + 1]; /* the id that failed */
};

/*
 * Opens the database at path, creating it (mode 0660) when missing; the
 * folder must be writable by the MTA's user, for SQLite's -wal and -shm
 * files. busy_ms bounds every wait for a lock. Tries read-write, then
 * read-only, then immutable read-only (no -shm needed) and logs the
 * mode taken when it is not read-write, with the reason.
 * MTASTS_ESTORE when no way works (locked, corrupt, missing and not
 * creatable, or a schema from a newer version).
 */
int	store_open(const char *path, unsigned busy_ms,
	    const struct logger *lg, struct store **out);
void	store_close(struct store *st);

/* MTASTS_OK, MTASTS_ENOTFOUND, MTASTS_ESTORE. Clear with
 * store_policy_clear(). */
int	store_get(struct store *st, const char *domain,
	    struct store_policy *out);
void	store_policy_clear(struct store_policy *p);
/* Inserts or replaces the whole row of p->domain. */
int	store_put(struct store *st, const struct store_policy *p);
/* The TXT id was checked at when and had not changed. */
int	store_touch(struct store *st, const char *domain, time_t when);
/* A fetch for id failed at when (creates a row without text if none). */
int	store_fail(struct store *st, const char *domain, const char *id,
	    time_t when);
int	store_forget(struct store *st, const char *domain);
int	store_flush(struct store *st);
/* Calls cb for every row in domain order; a non-zero return stops. */
int	store_list(struct store *st,
	    int (*cb)(void *arg, const struct store_policy *p), void *arg);

/*
 * Fetch lease: so that concurrent processes do not all fetch the same
 * domain. Returns 1 when this process now holds the lease for ttl
 * seconds, 0 when another holds an unexpired one, or MTASTS_ESTORE.
 */
int	store_lease(struct store *st, const char *domain, time_t now,
	    unsigned ttl);
int	store_release(struct store *st, const char *domain);
/* store_put() and store_release() of p->domain in one transaction. */
int	store_put_release(struct store *st, const struct store_policy *p);

/*
 * TLS-RPT counters (schema version 2): one row per UTC day (days since
 * the epoch) and key; fields the caller does not know are NULL or "".
 * Names are as in RFC 8460 ("sts", "certificate-expired", ...).
 */
struct store_tlsrpt_row {
	long long	 day;		/* time / 86400 */
	const char	*domain;	/* policy domain, normalised */
	const char	*policy_type;	/* "sts", "tlsa", "no-policy-found" */
	const char	*result;	/* "success" or a result-type */
	const char	*mx;		/* receiving-mx-hostname */
	const char	*receiving_ip;
	const char	*sending_ip;
	const char	*detail;	/* failure-reason-code */
	unsigned long long count;	/* sessions */
	const char	*mode;		/* the mode the session ran under
					   ("none", "testing", "enforce"),
					   "unknown" or NULL: not said */
	int		 deferred;	/* enforce refused the session */
};
/* Adds r->count to the row of r's key (one prepared UPSERT). */
int	store_tlsrpt_add(struct store *st, const struct store_tlsrpt_row *r);
/* Calls cb for each row of day, in key order (domains grouped); the
 * strings are valid during the call only. A non-zero return stops. */
int	store_tlsrpt_day(struct store *st, long long day,
	    int (*cb)(void *arg, const struct store_tlsrpt_row *r), void *arg);
/*
 * The results spooled by mtasts_tlsrpt_record() (a file beside the
 * store, see tlsrpt_spool.c) are folded into the counters by
 * store_tlsrpt_fold(), which store_tlsrpt_day() and store_tlsrpt_purge()
 * call first. store_tlsrpt_spool() is the spool's path, NULL when the
 * store is read-only.
 */
const char *store_tlsrpt_spool(struct store *st);
/* Names the database file in spool lines (see store.c). */
const char *store_tlsrpt_spool_tag(struct store *st);
int	store_tlsrpt_fold(struct store *st);
/* Drops every row of the days before day. */
int	store_tlsrpt_purge(struct store *st, long long day);

/*
 * Cumulative counters (schema version 3) for "mtasts metrics": never
 * purged, so that they only go up. name "session" counts TLS-RPT
 * results (each spooled result is added to them when the spool is
 * folded), "fetch" the successful policy fetches (result "success",
 * added by store_put_release()). Fields not known are "".
 */
struct store_counter_row {
	const char	*name;		/* "session", "fetch" */
	const char	*domain;	/* policy domain */
	const char	*policy_type;	/* as in store_tlsrpt_row, or "" */
	const char	*mode;		/* "none", "testing", "enforce",
					   "unknown", or "" */
	const char	*result;	/* "success" or a result-type */
	int		 deferred;	/* enforce refused these sessions */
	unsigned long long count;
};
/* Adds r->count to r's counter (one prepared UPSERT, no transaction of
 * its own: the caller's, or autocommit). */
int	store_counter_add(struct store *st, const struct store_counter_row *r);
/* Calls cb for every counter (strings valid during the call only); a
 * non-zero return stops. */
int	store_counter_list(struct store *st,
	    int (*cb)(void *arg, const struct store_counter_row *r), void *arg);
/*
 * The domains that have a label of their own in the metrics, in the
 * order they were added, with their session counts when they were
 * (their series start from there, and domain="other" keeps what came
 * before, so that it never goes down): *out a new array of *n (free()).
 * store_metric_domain_add() adds one (MTASTS_OK when it was there).
 */
struct store_metric_domain {
	char			domain[MTASTS_NAME_MAX + 1];
	unsigned long long	base_success;
	unsigned long long	base_failure;
};
int	store_metric_domains(struct store *st,
	    struct store_metric_domain **out, size_t *n);
int	store_metric_domain_add(struct store *st,
	    const struct store_metric_domain *d, time_t now);
/*
 * The results spooled and not yet folded: *lines counts the lines of
 * the spool and of any fold left behind. Reads only.
 */
int	store_tlsrpt_backlog(struct store *st, unsigned long long *lines);
/* Did the store open read-write (1) or read-only (0)? */
int	store_writable(const struct store *st);

#endif
