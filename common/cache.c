/*
 * cache.c - the administrator's view of the policy cache, and the
 * proactive refresh that keeps cached policies from lapsing.
 *
 * The CLI and the adapters reach the store only through these; SQL stays
 * in store.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"

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
	size_t		 n;		/* domains due */
	size_t		 cap;
	char		**due;
};

static int	cache_entry(void *, const struct store_policy *);
static int	refresh_collect(void *, const struct store_policy *);
static int	refresh_due(const struct refresh_arg *,
		    const struct store_policy *);

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
	if (ctx_store(ctx) == NULL)
		return MTASTS_ESTORE;
	memset(&ra, 0, sizeof(ra));
	ra.ctx = ctx;
	ra.now = time(NULL);
	ra.all = all;
	/* collect first: resolving writes to the store we are reading */
	rc = store_list(ctx->store, refresh_collect, &ra);
	for (i = 0; i < ra.n; i++) {
		if (rc == MTASTS_OK) {
			(*nchecked)++;
			if (resolve_sync(ctx, ra.due[i], 1, &ans) != MTASTS_OK ||
			    ans.source == MTASTS_SRC_STALE ||
			    ans.temperror)
				(*nfailed)++;
			mtasts_answer_clear(&ans);
		}
		free(ra.due[i]);
	}
	free(ra.due);
	return rc;
}

static int
refresh_collect(void *arg, const struct store_policy *p)
{
	struct refresh_arg	*ra = arg;
	char			**v;

	if (!refresh_due(ra, p))
		return 0;
	if (ra->n == ra->cap) {
		ra->cap = ra->cap ? ra->cap * 2 : 64;
		if ((v = realloc(ra->due, ra->cap * sizeof(*v))) == NULL)
			return 1;
		ra->due = v;
	}
	if ((ra->due[ra->n] = strdup(p->domain)) == NULL)
		return 1;
	ra->n++;
	return 0;
}

/*
 * Due: an unexpired policy whose TXT id check is due, or that is past
 * half its max_age. Expired policies and failure-only rows are left to
 * the next delivery that needs them.
 */
static int
refresh_due(const struct refresh_arg *ra, const struct store_policy *p)
{
	const struct config	*conf = ra->ctx->conf;

	if (p->text == NULL || p->expires <= ra->now)
		return 0;
	if (ra->all)
		return 1;
	if (ra->now - p->checked >= (time_t)conf->check_interval)
		return 1;
	return ra->now - p->fetched > (p->expires - p->fetched) / 2;
}
