/*
 * pg.h - the fleet's shared store in PostgreSQL (libpq): policies that
 * hosts publish and pull, refresh leases, TLS-RPT result batches and
 * their sums, the hosts seen, and report claims. The seam beside store.h:
 * only store/ knows SQL. Never on the delivery path: "mtasts sync",
 * "mtasts refresh" and "mtasts report build" use it.
 *
 * Every call is bounded (connect_timeout and statement_timeout, unless
 * the connection string sets them) and returns MTASTS_OK or
 * MTASTS_ESTORE with the server's or libpq's message logged.
 */
#ifndef MTASTS_PG_H
#define MTASTS_PG_H

#include <time.h>

#include "mtasts.h"
#include "util/log.h"
#include "store/store.h"

struct pg;

/* The schema version this code writes (table fleet_schema). */
#define PG_SCHEMA_VERSION	1

/*
 * Connects with the libpq connection string conninfo as fleet host
 * host, and brings the schema to PG_SCHEMA_VERSION (one transaction per
 * step, serialised between hosts; a newer schema is refused).
 */
int	pg_open(const char *conninfo, const char *host,
	    const struct logger *lg, struct pg **out);
void	pg_close(struct pg *pg);

/*
 * Publishes n policies in one transaction: a row replaces the fleet's
 * when it is newer (fetched, then id), or the same policy checked later.
 */
int	pg_policy_publish(struct pg *pg, const struct store_policy *v,
	    size_t n);
/*
 * Calls cb for each policy changed after revision since, in revision
 * order; *last is the highest revision seen (since when none). A
 * non-zero return of cb stops.
 */
int	pg_policy_pull(struct pg *pg, long long since,
	    int (*cb)(void *arg, const struct store_policy *p), void *arg,
	    long long *last);

/*
 * Refresh leases: won[i] is set to 1 for each of the n domains (sorted,
 * to take row locks in one order) this host now holds for ttl seconds
 * (free, expired, or already its own), else 0.
 */
int	pg_lease(struct pg *pg, char *const *domains, size_t n,
	    unsigned ttl, unsigned char *won);

/*
 * One batch of results of this host's store store_id, added to the
 * fleet's sums in one transaction unless (host, store_id, batch) is
 * already there: pushing a batch again is harmless. *dup is set when it
 * was.
 */
int	pg_batch_push(struct pg *pg, const char *store_id, long long batch,
	    const struct store_tlsrpt_row *rows, size_t n, int *dup);
/* The fleet's sums of one day, in key order (domains grouped). */
int	pg_tlsrpt_day(struct pg *pg, long long day,
	    int (*cb)(void *arg, const struct store_tlsrpt_row *r), void *arg);

/* This host's store synced now. */
int	pg_host_seen(struct pg *pg, const char *store_id);
/* A host of the fleet as pg_hosts() gives it. */
struct pg_host {
	const char	*host;
	const char	*store_id;
	time_t		 last_sync;	/* the server's clock */
	long long	 batches;	/* result batches it moved */
	long long	 sessions;	/* sessions in them */
};
int	pg_hosts(struct pg *pg,
	    int (*cb)(void *arg, const struct pg_host *h), void *arg);

/*
 * Report claims, one per policy domain and day: 1 when this host now
 * holds it (new, its own, or another's older than ttl seconds and not
 * done), 0 when another holds it or it is done (*holder names the
 * host, up to size bytes), or MTASTS_ESTORE.
 */
int	pg_report_claim(struct pg *pg, const char *domain, long long day,
	    unsigned ttl, char *holder, size_t size);
/* The claimed report is built: nobody builds it again. */
int	pg_report_done(struct pg *pg, const char *domain, long long day);

#endif
