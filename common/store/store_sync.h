/*
 * store_sync.h - the SQLite side of a fleet sync (store_sync.c): result
 * batches waiting for PostgreSQL, the policies to publish, merging the
 * fleet's policies, and the sync watermarks.
 */
#ifndef MTASTS_STORE_SYNC_H
#define MTASTS_STORE_SYNC_H

#include <time.h>

#include "store/store.h"

#define STORE_SYNC_ID_MAX	64

/* This store's random id (made with the schema): a fleet names a
 * store by host and id, so a store made again never reuses a batch key. */
int	store_sync_id(struct store *st, char id[STORE_SYNC_ID_MAX + 1]);

/* A number kept under key ("policy_pushed", "policy_rev", "last_sync");
 * 0 when never set. */
int	store_sync_meta_get(struct store *st, const char *key,
	    long long *value);
int	store_sync_meta_set(struct store *st, const char *key,
	    long long value);

/*
 * Folds the spool, then cuts what the counters gained since the last
 * cut into a new batch, in one transaction. *batch is its number, 0
 * when there was nothing new. Batch numbers only grow.
 */
int	store_sync_cut(struct store *st, long long *batch);
/* The oldest batch not yet sent (0: none) and its rows; the strings are
 * valid during the call of cb only. */
int	store_sync_batch(struct store *st, long long after,
	    int (*cb)(void *arg, long long batch,
	    const struct store_tlsrpt_row *rows, size_t n), void *arg,
	    long long *batch);
/* PostgreSQL has committed the batch: drop it here. */
int	store_sync_sent(struct store *st, long long batch);

/* Calls cb for each cached policy (with text) fetched or checked at or
 * after since. */
int	store_sync_changed(struct store *st, time_t since,
	    int (*cb)(void *arg, const struct store_policy *p), void *arg);
/* Takes the fleet's p when it is newer than the cached row (fetched,
 * then id; the same policy when checked later). *taken says so. */
int	store_sync_merge(struct store *st, const struct store_policy *p,
	    int *taken);

/* What waits here for the next sync. */
struct store_sync_waiting {
	long long	 batches;	/* cut, not yet in PostgreSQL */
	long long	 batch_sessions; /* sessions in them */
	long long	 uncut_sessions; /* folded, not yet cut */
	long long	 spooled;	/* spool files not yet folded, bytes */
};
int	store_sync_waiting(struct store *st, struct store_sync_waiting *w);

#endif
