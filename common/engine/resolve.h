/*
 * resolve.h - the RFC 8461 section 5 engine (resolve.c) as the rest of
 * the engine calls it: the public mtasts_resolve() and
 * mtasts_resolve_async() with the refresh's "check the TXT id now".
 */
#ifndef MTASTS_RESOLVE_H
#define MTASTS_RESOLVE_H

#include "mtasts.h"

/* mtasts_resolve(), with force set the TXT id is checked now whatever
 * the check interval says. */
int	resolve_sync(struct mtasts_ctx *ctx, const char *domain, int force,
	    struct mtasts_answer *ans);
/* mtasts_resolve_async(), with force as for resolve_sync(). */
int	resolve_async(struct mtasts_ctx *ctx, const char *domain, int force,
	    mtasts_resolve_cb *cb, void *arg);

#endif
