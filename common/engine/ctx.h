/*
 * ctx.h - the engine context shared by resolve.c and the CLI-facing
 * helpers: configuration, logger, and the lazily made store, resolver,
 * HTTPS client and event loop.
 */
#ifndef MTASTS_CTX_H
#define MTASTS_CTX_H

#include "mtasts.h"
#include "util/ev.h"
#include "util/log.h"
#include "conf/config.h"
#include "net/dns.h"
#include "net/fetch.h"
#include "net/net.h"
#include "store/store.h"

struct req;

struct mtasts_ctx {
	struct config	*conf;		/* read once at open */
	struct logger	 log;		/* the caller's callback */
	struct store	*store;		/* NULL: working uncached */
	int		 store_tried;	/* store_open() was attempted */
	struct ev	*ev;		/* made by the first async call */
	const struct net_ops *net;	/* the network: set by the first
					   need (or a test); NULL till then */
	int		 net_tried;	/* net_ops_real() was asked */
	time_t		(*now)(void);	/* the clock: time() unless a test
					   sets another */
	struct dns	*dns;		/* made by the first DNS need */
	struct fetch	*fetch;		/* made by the first fetch */
	struct req	*inflight;	/* async requests, one per domain */
	size_t		 ninflight;
	void		(*abort_inflight)(struct mtasts_ctx *);
					/* set by resolve.c with the first
					   request: answers them all with an
					   error (so that ctx.c needs no
					   resolve.c) */
};

/* Lazy getters: NULL when the module could not be made (logged). The
 * handles of ctx_dns() and ctx_fetch() are used through ctx->net, which
 * is set whenever they are not NULL. */
struct store	*ctx_store(struct mtasts_ctx *ctx);
const struct net_ops *ctx_net(struct mtasts_ctx *ctx);
struct ev	*ctx_ev(struct mtasts_ctx *ctx);
struct dns	*ctx_dns(struct mtasts_ctx *ctx);
struct fetch	*ctx_fetch(struct mtasts_ctx *ctx);

/* Tests: use net (a scripted network) and clock instead of the real
 * ones; before the first lookup. clock may be NULL: time(). */
void		 ctx_set_net(struct mtasts_ctx *ctx,
		    const struct net_ops *net, time_t (*clock)(void));
/* The context's clock. */
time_t		 ctx_now(const struct mtasts_ctx *ctx);

#endif
