/*
 * sync.h - the fleet synchroniser (sync.c), for the engine's refresh and
 * the TLS-RPT report builder: what they need of PostgreSQL beside
 * mtasts_sync().
 */
#ifndef MTASTS_SYNC_H
#define MTASTS_SYNC_H

#include <stddef.h>

#include "store/pg.h"
#include "engine/ctx.h"

/* Connects to the fleet: MTASTS_ECONFIG without "fleet", MTASTS_ESTORE
 * (logged) when PostgreSQL cannot be used. */
int	sync_open(struct mtasts_ctx *ctx, struct pg **pg);
/* Cuts and moves this host's results into PostgreSQL. */
int	sync_push(struct mtasts_ctx *ctx, struct pg *pg,
	    struct mtasts_sync_stats *stats);
/* Publishes the policies fetched or checked here since the last time. */
int	sync_publish(struct mtasts_ctx *ctx, struct pg *pg,
	    struct mtasts_sync_stats *stats);
/*
 * Keeps in due (a string vector of n) only the domains this host holds
 * the fleet's refresh lease of; the others are freed. Without a fleet,
 * or when PostgreSQL fails (logged), due is left whole: refreshing
 * twice is better than not at all.
 */
void	sync_leases(struct mtasts_ctx *ctx, char **due, size_t *n);
/* After a refresh: publishes what it fetched (a failure is logged; the
 * next sync publishes it). */
void	sync_refreshed(struct mtasts_ctx *ctx);

#endif
