/*
 * sync.c - the fleet synchroniser: "mtasts sync" (mtasts_sync()), the
 * fleet's refresh leases and "mtasts fleet status". Knows no SQL: the
 * host's side is store/store_sync.c, PostgreSQL's store/pg.c.
 *
 * One sync, in this order: (1) cut the results recorded since the last
 * cut into a batch in the store (works without PostgreSQL: batches wait
 * here); (2) connect; (3) push every waiting batch, oldest first, each
 * dropped here only after PostgreSQL committed it (a batch pushed again
 * after a crash between the two adds nothing there); (4) publish the
 * policies fetched or checked here since the last publish; (5) take the
 * fleet's policies changed since the last pull, newer ones only;
 * (6) say that this host synced. A failure stops the sync; what was not
 * done waits for the next one. Nothing here runs on the delivery path.
 *
 * Test hook: MTASTS_TEST_SYNC_STOP=cut|pushed in the environment stops
 * the process (SIGSTOP) after the cut, or after PostgreSQL committed
 * the first batch and before it is dropped here, so that a test can
 * kill it there with SIGKILL (tests/integration/fleet.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/pg.h"
#include "store/store_sync.h"
#include "engine/ctx.h"
#include "engine/sync.h"

struct push_arg {
	struct mtasts_ctx	*ctx;
	struct pg		*pg;
	char			 id[STORE_SYNC_ID_MAX + 1];
	struct mtasts_sync_stats *stats;
};

struct publish_arg {
	struct store_policy	*v;
	size_t			 n;
	int			 nomem;
};

struct pull_arg {
	struct mtasts_ctx	*ctx;
	unsigned		 pulled;
	int			 err;
};

struct hosts_arg {
	mtasts_fleet_cb		*cb;
	void			*arg;
	const struct mtasts_fleet_local *local;
};

static int	sync_host(struct mtasts_ctx *, char *, size_t);
static void	sync_test_stop(struct mtasts_ctx *, const char *);
static int	sync_push_one(void *, long long,
		    const struct store_tlsrpt_row *, size_t);
static int	sync_collect(void *, const struct store_policy *);
static int	sync_pull(struct mtasts_ctx *, struct pg *,
		    struct mtasts_sync_stats *);
static int	sync_take(void *, const struct store_policy *);
static int	sync_host_cb(void *, const struct pg_host *);

int
mtasts_sync(struct mtasts_ctx *ctx, struct mtasts_sync_stats *stats)
{
	struct mtasts_sync_stats	 dummy;
	struct pg			*pg = NULL;
	struct store			*st;
	char				 id[STORE_SYNC_ID_MAX + 1];
	long long			 batch;
	int				 rc;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (ctx == NULL)
		return MTASTS_EINVAL;
	if (ctx->conf->fleet == NULL)
		return MTASTS_ECONFIG;
	if ((st = ctx_store(ctx)) == NULL)
		return MTASTS_ESTORE;
	if ((rc = store_sync_cut(st, &batch)) != MTASTS_OK)
		return rc;
	if (batch != 0)
		sync_test_stop(ctx, "cut");
	if ((rc = sync_open(ctx, &pg)) != MTASTS_OK)
		return rc;
	if ((rc = sync_push(ctx, pg, stats)) != MTASTS_OK ||
	    (rc = sync_publish(ctx, pg, stats)) != MTASTS_OK ||
	    (rc = sync_pull(ctx, pg, stats)) != MTASTS_OK ||
	    (rc = store_sync_id(st, id)) != MTASTS_OK ||
	    (rc = pg_host_seen(pg, id)) != MTASTS_OK)
		goto done;
	rc = store_sync_meta_set(st, "last_sync", (long long)time(NULL));
	log_info(&ctx->log, "sync: %u result batches (%llu sessions) moved, "
	    "%u policies published, %u taken from the fleet", stats->batches,
	    stats->sessions, stats->published, stats->pulled);
done:
	pg_close(pg);
	return rc;
}

int
sync_open(struct mtasts_ctx *ctx, struct pg **pg)
{
	char	host[256];
	int	rc;

	*pg = NULL;
	if (ctx->conf->fleet == NULL)
		return MTASTS_ECONFIG;
	if ((rc = sync_host(ctx, host, sizeof(host))) != MTASTS_OK)
		return rc;
	return pg_open(ctx->conf->fleet, host, &ctx->log, pg);
}

/* fleet_host, else the host name. */
static int
sync_host(struct mtasts_ctx *ctx, char *buf, size_t size)
{
	if (ctx->conf->fleet_host != NULL) {
		snprintf(buf, size, "%s", ctx->conf->fleet_host);
		return MTASTS_OK;
	}
	if (gethostname(buf, size) != 0 || buf[0] == '\0') {
		log_err(&ctx->log, "fleet: no host name: set fleet_host");
		return MTASTS_ECONFIG;
	}
	buf[size - 1] = '\0';
	return MTASTS_OK;
}

/* The test hook (see the top of this file). */
static void
sync_test_stop(struct mtasts_ctx *ctx, const char *where)
{
	const char	*want = getenv("MTASTS_TEST_SYNC_STOP");

	if (want == NULL || strcmp(want, where) != 0)
		return;
	log_warn(&ctx->log, "sync: test hook: stopped %s", where);
	raise(SIGSTOP);
}

int
sync_push(struct mtasts_ctx *ctx, struct pg *pg,
    struct mtasts_sync_stats *stats)
{
	struct mtasts_sync_stats	 dummy;
	struct push_arg			 pa;
	struct store			*st;
	long long			 batch, after = 0;
	int				 rc;

	if ((st = ctx_store(ctx)) == NULL)
		return MTASTS_ESTORE;
	memset(&dummy, 0, sizeof(dummy));
	pa.ctx = ctx;
	pa.pg = pg;
	pa.stats = stats != NULL ? stats : &dummy;
	if ((rc = store_sync_cut(st, &batch)) != MTASTS_OK ||
	    (rc = store_sync_id(st, pa.id)) != MTASTS_OK)
		return rc;
	for (;;) {
		rc = store_sync_batch(st, after, sync_push_one, &pa, &batch);
		if (rc != MTASTS_OK || batch == 0)
			return rc;
		after = batch;
	}
}

/* One batch into PostgreSQL, then out of the store. */
static int
sync_push_one(void *arg, long long batch, const struct store_tlsrpt_row *rows,
    size_t n)
{
	struct push_arg		*pa = arg;
	unsigned long long	 sessions = 0;
	size_t			 i;
	int			 dup, rc;

	if ((rc = pg_batch_push(pa->pg, pa->id, batch, rows, n, &dup)) !=
	    MTASTS_OK)
		return rc;
	sync_test_stop(pa->ctx, "pushed");
	if ((rc = store_sync_sent(pa->ctx->store, batch)) != MTASTS_OK)
		return rc;
	if (dup) {
		log_info(&pa->ctx->log, "sync: batch %lld was already in the "
		    "fleet (a sync stopped before it was dropped here)", batch);
		return MTASTS_OK;
	}
	for (i = 0; i < n; i++)
		sessions += rows[i].count;
	pa->stats->batches++;
	pa->stats->sessions += sessions;
	log_debug(&pa->ctx->log, "sync: batch %lld: %zu rows, %llu sessions",
	    batch, n, sessions);
	return MTASTS_OK;
}

int
sync_publish(struct mtasts_ctx *ctx, struct pg *pg,
    struct mtasts_sync_stats *stats)
{
	struct publish_arg	 pa;
	struct store		*st;
	long long		 since;
	time_t			 start = time(NULL);
	size_t			 i;
	int			 rc;

	if ((st = ctx_store(ctx)) == NULL)
		return MTASTS_ESTORE;
	memset(&pa, 0, sizeof(pa));
	if ((rc = store_sync_meta_get(st, "policy_pushed", &since)) !=
	    MTASTS_OK)
		return rc;
	/* the watermark is this host's clock at the start, never a time
	 * from another host's rows (its clock may be ahead) */
	rc = store_sync_changed(st, (time_t)since, sync_collect, &pa);
	if (rc == MTASTS_OK && pa.nomem)
		rc = MTASTS_ENOMEM;
	if (rc == MTASTS_OK && (rc = pg_policy_publish(pg, pa.v, pa.n)) ==
	    MTASTS_OK)
		rc = store_sync_meta_set(st, "policy_pushed",
		    (long long)start);
	if (rc == MTASTS_OK && stats != NULL)
		stats->published += (unsigned)pa.n;
	for (i = 0; i < pa.n; i++)
		free(pa.v[i].text);
	free(pa.v);
	return rc;
}

static int
sync_collect(void *arg, const struct store_policy *p)
{
	struct publish_arg	*pa = arg;
	struct store_policy	*v;

	if ((v = reallocarray(pa->v, pa->n + 1, sizeof(*v))) == NULL)
		goto nomem;
	pa->v = v;
	v[pa->n] = *p;
	if ((v[pa->n].text = strdup(p->text)) == NULL)
		goto nomem;
	pa->n++;
	return 0;
nomem:
	pa->nomem = 1;
	return 1;
}

static int
sync_pull(struct mtasts_ctx *ctx, struct pg *pg,
    struct mtasts_sync_stats *stats)
{
	struct pull_arg	 pa;
	long long	 since, last;
	int		 rc;

	memset(&pa, 0, sizeof(pa));
	pa.ctx = ctx;
	if ((rc = store_sync_meta_get(ctx->store, "policy_rev", &since)) !=
	    MTASTS_OK)
		return rc;
	rc = pg_policy_pull(pg, since, sync_take, &pa, &last);
	if (rc == MTASTS_OK)
		rc = pa.err;
	if (last > since && store_sync_meta_set(ctx->store, "policy_rev",
	    last) != MTASTS_OK && rc == MTASTS_OK)
		rc = MTASTS_ESTORE;
	stats->pulled += pa.pulled;
	return rc;
}

/* A fleet policy, taken when newer; a policy that does not parse is
 * not cached (another version of mtasts wrote it, or a bad row). */
static int
sync_take(void *arg, const struct store_policy *p)
{
	struct pull_arg		*pa = arg;
	struct mtasts_policy	*pol = NULL;
	int			 taken, rc;

	if (mtasts_policy_parse(p->text, strlen(p->text), &pol, NULL) !=
	    MTASTS_OK) {
		log_warn(&pa->ctx->log, "sync: %s: the fleet's policy does not"
		    " parse: not cached", p->domain);
		return 0;
	}
	mtasts_policy_free(pol);
	if ((rc = store_sync_merge(pa->ctx->store, p, &taken)) != MTASTS_OK) {
		pa->err = rc;
		return 1;
	}
	if (taken) {
		pa->pulled++;
		log_debug(&pa->ctx->log, "sync: %s: policy id %s from the "
		    "fleet", p->domain, p->id);
	}
	return 0;
}

void
sync_leases(struct mtasts_ctx *ctx, char **due, size_t *n)
{
	struct pg	*pg = NULL;
	unsigned char	*won = NULL;
	size_t		 i, k = 0;

	if (ctx->conf->fleet == NULL || *n == 0)
		return;
	if ((won = calloc(*n, 1)) == NULL || sync_open(ctx, &pg) !=
	    MTASTS_OK || pg_lease(pg, due, *n, ctx->conf->fleet_lease, won) !=
	    MTASTS_OK) {
		log_warn(&ctx->log, "refresh: the fleet's leases cannot be "
		    "taken: refreshing every due domain here");
		goto done;
	}
	for (i = 0; i < *n; i++) {
		if (won[i]) {
			due[k++] = due[i];
			continue;
		}
		log_debug(&ctx->log, "%s: refresh: another host of the fleet "
		    "holds its lease", due[i]);
		free(due[i]);
	}
	*n = k;
done:
	pg_close(pg);
	free(won);
}

void
sync_refreshed(struct mtasts_ctx *ctx)
{
	struct pg	*pg = NULL;

	if (ctx->conf->fleet == NULL)
		return;
	if (sync_open(ctx, &pg) != MTASTS_OK ||
	    sync_publish(ctx, pg, NULL) != MTASTS_OK)
		log_warn(&ctx->log, "refresh: the refreshed policies are "
		    "published at the next sync");
	pg_close(pg);
}

int
mtasts_fleet_status(struct mtasts_ctx *ctx, struct mtasts_fleet_local *local,
    mtasts_fleet_cb *cb, void *arg)
{
	struct store_sync_waiting	 w;
	struct hosts_arg		 ha;
	struct pg			*pg = NULL;
	struct store			*st;
	long long			 last;
	int				 rc;

	memset(local, 0, sizeof(*local));
	if (ctx->conf->fleet == NULL)
		return MTASTS_ECONFIG;
	if ((st = ctx_store(ctx)) == NULL)
		return MTASTS_ESTORE;
	if ((rc = sync_host(ctx, local->host, sizeof(local->host))) !=
	    MTASTS_OK ||
	    (rc = store_sync_id(st, local->store)) != MTASTS_OK ||
	    (rc = store_sync_meta_get(st, "last_sync", &last)) != MTASTS_OK ||
	    (rc = store_sync_waiting(st, &w)) != MTASTS_OK)
		return rc;
	local->last_sync = (time_t)last;
	local->batches = w.batches;
	local->batch_sessions = w.batch_sessions;
	local->uncut_sessions = w.uncut_sessions;
	local->spooled_bytes = w.spooled;
	if ((rc = sync_open(ctx, &pg)) != MTASTS_OK)
		return rc;
	ha.cb = cb;
	ha.arg = arg;
	ha.local = local;
	rc = pg_hosts(pg, sync_host_cb, &ha);
	pg_close(pg);
	return rc;
}

static int
sync_host_cb(void *arg, const struct pg_host *h)
{
	struct hosts_arg		*ha = arg;
	struct mtasts_fleet_host	 fh;

	fh.host = h->host;
	fh.store = h->store_id;
	fh.last_sync = h->last_sync;
	fh.batches = h->batches;
	fh.sessions = h->sessions;
	fh.self = strcmp(h->host, ha->local->host) == 0 &&
	    strcmp(h->store_id, ha->local->store) == 0;
	return ha->cb(ha->arg, &fh);
}
