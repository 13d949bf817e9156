/*
 * ctx.c - open and close an engine context; make its parts on demand.
 *
 * Opening reads the configuration only. The store is opened by the first
 * call that needs it; libunbound and libcurl are set up only when a
 * network lookup is needed, so that a warm-cache answer in a fresh Exim
 * delivery process costs one configuration read and one store read.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/diag.h"
#include "engine/ctx.h"

int
mtasts_ctx_open(const char *conf, mtasts_log_fn *log, void *logarg,
    enum mtasts_loglevel loglevel, struct mtasts_ctx **out,
    struct mtasts_diag *diag)
{
	struct mtasts_ctx	*ctx;
	int			 rc;

	diag_init(diag);
	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return MTASTS_ENOMEM;
	ctx->log.fn = log;
	ctx->log.arg = logarg;
	ctx->log.level = loglevel;
	if (conf == NULL && access(MTASTS_DEFAULT_CONF, F_OK) == 0)
		conf = MTASTS_DEFAULT_CONF;
	if ((rc = config_load(conf, &ctx->conf, diag)) != MTASTS_OK) {
		free(ctx);
		return rc;
	}
	*out = ctx;
	return MTASTS_OK;
}

void
mtasts_ctx_close(struct mtasts_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/*
	 * In-flight async requests are answered with an error first: DNS
	 * lookups by dns_free() (which refuses new ones meanwhile; the
	 * engine's own requests wait), then the resolutions. A callback of
	 * the latter may make a new resolver: freed at the end.
	 */
	if (ctx->dns != NULL)
		ctx->net->dns_free(ctx->dns);
	ctx->dns = NULL;
	while (ctx->inflight != NULL)
		ctx->abort_inflight(ctx);
	if (ctx->dns != NULL)
		ctx->net->dns_free(ctx->dns);
	if (ctx->fetch != NULL)
		ctx->net->fetch_free(ctx->fetch);
	ev_free(ctx->ev);
	store_close(ctx->store);
	config_free(ctx->conf);
	free(ctx);
}

struct store *
ctx_store(struct mtasts_ctx *ctx)
{
	if (!ctx->store_tried) {
		ctx->store_tried = 1;
		if (ctx->conf->store == NULL || ctx->conf->store[0] == '\0')
			log_debug(&ctx->log, "cache disabled by configuration");
		else if (store_open(ctx->conf->store, ctx->conf->store_timeout,
		    &ctx->log, &ctx->store) != MTASTS_OK) {
			log_warn(&ctx->log, "cache %s unusable; working "
			    "uncached", ctx->conf->store);
			ctx->store = NULL;
		}
	}
	return ctx->store;
}

struct ev *
ctx_ev(struct mtasts_ctx *ctx)
{
	if (ctx->ev == NULL && ev_new(&ctx->ev) != MTASTS_OK) {
		log_err(&ctx->log, "cannot create the event loop");
		ctx->ev = NULL;
	}
	return ctx->ev;
}

const struct net_ops *
ctx_net(struct mtasts_ctx *ctx)
{
	if (ctx->net == NULL && !ctx->net_tried) {
		ctx->net_tried = 1;
		ctx->net = net_ops_real(&ctx->log);
	}
	return ctx->net;
}

struct dns *
ctx_dns(struct mtasts_ctx *ctx)
{
	if (ctx->dns == NULL && (ctx_net(ctx) == NULL ||
	    ctx->net->dns_new(ctx->conf, &ctx->log, ctx_ev(ctx),
	    &ctx->dns) != MTASTS_OK)) {
		log_err(&ctx->log, "cannot set up the DNS resolver");
		ctx->dns = NULL;
	}
	return ctx->dns;
}

struct fetch *
ctx_fetch(struct mtasts_ctx *ctx)
{
	if (ctx->fetch == NULL && (ctx_net(ctx) == NULL ||
	    ctx->net->fetch_new(ctx->conf, &ctx->log, ctx_ev(ctx),
	    &ctx->fetch) != MTASTS_OK)) {
		log_err(&ctx->log, "cannot set up the HTTPS client");
		ctx->fetch = NULL;
	}
	return ctx->fetch;
}

void
ctx_set_net(struct mtasts_ctx *ctx, const struct net_ops *net,
    time_t (*clock)(void))
{
	ctx->net = net;
	ctx->net_tried = 1;
	ctx->now = clock;
}

time_t
ctx_now(const struct mtasts_ctx *ctx)
{
	return ctx->now != NULL ? ctx->now() : time(NULL);
}
