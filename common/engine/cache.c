/*
 * cache.c - the administrator's view of the policy cache, and the
 * proactive refresh that keeps cached policies from lapsing.
 *
 * The refresh rule lives here once (cache_due()): "mtasts refresh"
 * (mtasts_refresh(), blocking) and the filter's timer
 * (mtasts_refresh_async()) pick the same domains with it and resolve
 * each with its TXT id checked now. The CLI and the adapters reach the
 * store only through these; SQL stays in store/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/strv.h"
#include "engine/cache.h"
#include "engine/ctx.h"
#include "engine/resolve.h"
#include "engine/sync.h"

struct list_arg {
	const char	*domain;	/* only this one, or NULL */
	mtasts_cache_cb	*cb;
	void		*arg;
	int		 found;
};

struct refresh_arg {
	struct mtasts_ctx *ctx;
	time_t		 now;
	int		 all;
	size_t		 max;		/* collect at most, 0: no limit */
	int		 err;		/* MTASTS_ENOMEM while collecting */
	size_t		 n;		/* domains due */
	size_t		 cap;		/* room in due */
	char		**due;		/* a string vector (strv.h) */
};

/* One domain of mtasts_refresh_async() in flight. */
struct refresh_one {
	mtasts_refresh_cb	*cb;
	void			*arg;
	char			 domain[MTASTS_NAME_MAX + 1];
};

static int	cache_entry(void *, const struct store_policy *);
static int	refresh_list(struct mtasts_ctx *, int, size_t,
		    struct refresh_arg *);
static void	refresh_list_free(struct refresh_arg *);
static int	refresh_collect(void *, const struct store_policy *);
static void	refresh_on_answer(void *, int, struct mtasts_answer *);

int
mtasts_cache_list(struct mtasts_ctx *ctx, const char *domain,
    mtasts_cache_cb *cb, void *arg)
{
	struct list_arg	la;
	char		norm[MTASTS_NAME_MAX + 1];
	int		rc;

	if (ctx_store(ctx) == NULL)
		return MTASTS_ESTORE;
	memset(&la, 0, sizeof(la));
	if (domain != NULL) {
		if (mtasts_name_normalize(domain, 0, norm) != MTASTS_OK)
			return MTASTS_EINVAL;
		la.domain = norm;
	}
	la.cb = cb;
	la.arg = arg;
	if ((rc = store_list(ctx->store, cache_entry, &la)) != MTASTS_OK)
		return rc;
	if (domain != NULL && !la.found)
		return MTASTS_ENOTFOUND;
	return MTASTS_OK;
}

static int
cache_entry(void *arg, const struct store_policy *p)
{
	struct list_arg			*la = arg;
	struct mtasts_cache_entry	 e;
	struct mtasts_policy		*pol = NULL;
	int				 stop;

	if (la->domain != NULL && strcmp(la->domain, p->domain) != 0)
		return 0;
	la->found = 1;
	memset(&e, 0, sizeof(e));
	e.domain = p->domain;
	e.id = p->id;
	e.text = p->text;
	e.fetched = p->fetched;
	e.expires = p->expires;
	e.checked = p->checked;
	e.failed = p->failed;
	e.failed_id = p->failed_id;
	if (p->text != NULL && mtasts_policy_parse(p->text, strlen(p->text),
	    &pol, NULL) == MTASTS_OK) {
		e.mode = pol->mode;
		e.max_age = pol->max_age;
	}
	stop = la->cb(la->arg, &e);
	mtasts_policy_free(pol);
	return stop;
}

int
mtasts_cache_forget(struct mtasts_ctx *ctx, const char *domain)
{
	char	norm[MTASTS_NAME_MAX + 1];

	if (mtasts_name_normalize(domain, 0, norm) != MTASTS_OK)
		return MTASTS_EINVAL;
	if (ctx_store(ctx) == NULL)
		return MTASTS_ESTORE;
	return store_forget(ctx->store, norm);
}

int
mtasts_cache_flush(struct mtasts_ctx *ctx)
{
	if (ctx_store(ctx) == NULL)
		return MTASTS_ESTORE;
	return store_flush(ctx->store);
}

int
mtasts_refresh(struct mtasts_ctx *ctx, int all, unsigned *nchecked,
    unsigned *nfailed)
{
	struct refresh_arg	 ra;
	struct mtasts_answer	 ans;
	size_t			 i;
	int			 rc;

	*nchecked = *nfailed = 0;
	if ((rc = refresh_list(ctx, all, 0, &ra)) != MTASTS_OK)
		return rc;
	/* a fleet: each due domain is refreshed by the host that leases it */
	sync_leases(ctx, ra.due, &ra.n);
	for (i = 0; i < ra.n; i++) {
		(*nchecked)++;
		if (resolve_sync(ctx, ra.due[i], 1, &ans) != MTASTS_OK ||
		    ans.source == MTASTS_SRC_STALE || ans.temperror)
			(*nfailed)++;
		mtasts_answer_clear(&ans);
	}
	if (ra.n > 0)
		sync_refreshed(ctx);
	refresh_list_free(&ra);
	return MTASTS_OK;
}

int
mtasts_refresh_async(struct mtasts_ctx *ctx, int all, size_t max,
    mtasts_refresh_cb *cb, void *arg, unsigned *nstarted)
{
	struct refresh_arg	 ra;
	struct refresh_one	*o;
	size_t			 i;
	int			 rc;

	if (nstarted != NULL)
		*nstarted = 0;
	if ((rc = refresh_list(ctx, all, max, &ra)) != MTASTS_OK)
		return rc;
	for (i = 0; i < ra.n; i++) {
		if ((o = calloc(1, sizeof(*o))) == NULL) {
			rc = MTASTS_ENOMEM;
			break;
		}
		o->cb = cb;
		o->arg = arg;
		/* due[i] came from the store: normalised, within the cap */
		snprintf(o->domain, sizeof(o->domain), "%s", ra.due[i]);
		if (resolve_async(ctx, o->domain, 1, refresh_on_answer, o) !=
		    MTASTS_OK) {
			free(o);
			continue;
		}
		if (nstarted != NULL)
			(*nstarted)++;
	}
	refresh_list_free(&ra);
	return rc;
}

/* Hands one refreshed domain's answer to the caller; cb owns ans. */
static void
refresh_on_answer(void *arg, int err, struct mtasts_answer *ans)
{
	struct refresh_one	*o = arg;

	o->cb(o->arg, o->domain, err, ans);
	free(o);
}

/*
 * The domains due now, copied out of the store first: resolving writes
 * to the store we are reading.
 */
static int
refresh_list(struct mtasts_ctx *ctx, int all, size_t max,
    struct refresh_arg *ra)
{
	int	rc;

	memset(ra, 0, sizeof(*ra));
	if (ctx_store(ctx) == NULL)
		return MTASTS_ESTORE;
	ra->ctx = ctx;
	ra->now = time(NULL);
	ra->all = all;
	ra->max = max;
	rc = store_list(ctx->store, refresh_collect, ra);
	if (rc == MTASTS_OK)
		rc = ra->err;
	if (rc != MTASTS_OK)
		refresh_list_free(ra);
	return rc;
}

static void
refresh_list_free(struct refresh_arg *ra)
{
	strv_free(ra->due, ra->n);
	ra->due = NULL;
	ra->n = ra->cap = 0;
}

static int
refresh_collect(void *arg, const struct store_policy *p)
{
	static const char *const why[] = {
		[CACHE_DUE_ALL] = "every cached policy asked for",
		[CACHE_DUE_CHECK] = "TXT id check due",
		[CACHE_DUE_HALF] = "past half its max_age"
	};
	struct refresh_arg	*ra = arg;
	enum cache_due		 due;

	due = cache_due(p, ra->now, ra->ctx->conf->check_interval, ra->all);
	if (due == CACHE_NOT_DUE)
		return 0;
	if (ra->max > 0 && ra->n == ra->max)
		return 1;
	if (strv_push(&ra->due, &ra->n, &ra->cap, strdup(p->domain)) !=
	    MTASTS_OK)
		goto nomem;
	log_debug(&ra->ctx->log, "%s: refresh: %s", p->domain, why[due]);
	return 0;
nomem:
	ra->err = MTASTS_ENOMEM;
	return 1;
}

/*
 * The refresh rule. Due: an unexpired policy (every one with all), whose
 * TXT id check is due as the engine sees it (check_interval passed or
 * 0, or a check time in the future), or that is past half its max_age
 * (the engine then fetches it again with the same id). Expired policies
 * and failure-only rows are left to the next delivery that needs them;
 * an id in its retry_interval back-off is the engine's to skip.
 */
enum cache_due
cache_due(const struct store_policy *p, time_t now, unsigned check_interval,
    int all)
{
	if (p->text == NULL || p->expires <= now)
		return CACHE_NOT_DUE;
	if (all)
		return CACHE_DUE_ALL;
	if (check_interval == 0 || now < p->checked ||
	    now - p->checked >= (time_t)check_interval)
		return CACHE_DUE_CHECK;
	if (now - p->fetched > (p->expires - p->fetched) / 2)
		return CACHE_DUE_HALF;
	return CACHE_NOT_DUE;
}
