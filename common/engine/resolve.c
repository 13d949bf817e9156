/*
 * resolve.c - the RFC 8461 section 5 engine: which policy rules a
 * recipient domain now, from the cache or the network.
 *
 * One decision procedure, written as steps over a struct req, serves the
 * synchronous API (each step's I/O done in place) and the asynchronous
 * one (each step's I/O started on the event loop, the next step run from
 * its callback):
 *
 *	req_begin	override, cache: answer now, or look up the TXT id
 *	req_on_txt	same id and fresh: answer from the cache; else take the
 *			fetch lease and resolve mta-sts.<domain>
 *	req_on_addrs	fetch the policy from those addresses
 *	req_on_fetch	parse, store, answer
 *
 * Rules (RFC 8461 3.3 and 5.1): an unexpired cached policy still rules
 * when DNS or the fetch fails and when the TXT record disappears; a policy
 * is fetched only for a new id or an empty cache, and again with the same
 * id once past half its max_age, so that it never lapses; an id whose
 * fetch failed is not fetched again within retry_interval; a process
 * fetches only while it holds the domain's lease in the store, so that
 * concurrent processes wait for one fetch instead of all fetching. With
 * no usable policy the domain is treated as having none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/strv.h"
#include "engine/ctx.h"
#include "engine/resolve.h"
#include "engine/tlsrpt.h"

#define WAIT_POLL_MS	50	/* polling the store for another's fetch */

enum req_step {
	STEP_DONE,		/* ans is final */
	STEP_TXT,		/* look up _mta-sts.<domain> TXT */
	STEP_ADDRS,		/* look up mta-sts.<domain> addresses */
	STEP_FETCH,		/* fetch the policy */
	STEP_WAIT		/* another process holds the fetch lease */
};

struct waiter {
	mtasts_resolve_cb	*cb;
	void			*arg;
	struct waiter		*next;
};

struct req {
	struct mtasts_ctx	*ctx;
	char			 domain[MTASTS_NAME_MAX + 1];
	time_t			 now;		/* when the request began */
	enum req_step		 step;
	struct store_policy	 row;		/* the store's row */
	int			 have_row;
	struct mtasts_policy	*cached;	/* row's policy if unexpired */
	char			 id[MTASTS_ID_MAX + 1]; /* id in DNS now */
	int			 leased;	/* we hold the fetch lease */
	int			 force;		/* check the TXT id now */
	char			**addrs;	/* of mta-sts.<domain> */
	size_t			 naddrs;
	unsigned long long	 wait_until;	/* STEP_WAIT deadline, ms */
	struct mtasts_answer	 ans;
	/* asynchronous requests only */
	struct waiter		*waiters;
	struct ev_timer		 timer;
	struct req		*next;		/* ctx->inflight list */
};

static void	 resolve_abort_all(struct mtasts_ctx *);
static int	 req_new(struct mtasts_ctx *, const char *, struct req **);
static void	 req_free(struct req *);
static void	 req_begin(struct req *);
static void	 req_on_txt(struct req *, int, char **, size_t);
static void	 req_on_addrs(struct req *, int, char **, size_t);
static void	 req_on_fetch(struct req *, int, struct fetch_result *);
static void	 req_poll_lease(struct req *);
static void	 req_take_lease(struct req *);
static int	 req_use_others(struct req *);
static void	 req_done(struct req *);
static void	 req_fallback(struct req *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 req_fail_fetch(struct req *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 answer_cached(struct req *, enum mtasts_source,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	 answer_none(struct req *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static unsigned	 lease_ttl(const struct config *);
static int	 half_past(const struct req *);
static struct mtasts_policy *policy_dup(const struct mtasts_policy *);
static void	 run_sync(struct req *);
static void	 run_async(struct req *);
static void	 async_on_txt(void *, int, char **, size_t);
static void	 async_on_addrs(void *, int, char **, size_t);
static void	 async_on_fetch(void *, int, struct fetch_result *);
static void	 async_on_wait(void *);
static void	 async_finish(struct req *);

/*
 * The synchronous API.
 */
int
mtasts_resolve(struct mtasts_ctx *ctx, const char *domain,
    struct mtasts_answer *ans)
{
	return resolve_sync(ctx, domain, 0, ans);
}

int
resolve_sync(struct mtasts_ctx *ctx, const char *domain, int force,
    struct mtasts_answer *ans)
{
	struct req	*r;
	int		 rc;

	memset(ans, 0, sizeof(*ans));
	if ((rc = req_new(ctx, domain, &r)) != MTASTS_OK)
		return rc;
	r->force = force;
	req_begin(r);
	run_sync(r);
	*ans = r->ans;
	memset(&r->ans, 0, sizeof(r->ans));
	req_free(r);
	return MTASTS_OK;
}

void
mtasts_answer_clear(struct mtasts_answer *ans)
{
	if (ans == NULL)
		return;
	mtasts_policy_free(ans->policy);
	memset(ans, 0, sizeof(*ans));
}

static void
run_sync(struct req *r)
{
	struct fetch_result	 res;
	char			 name[MTASTS_NAME_MAX + 16];
	char			**v = NULL;
	size_t			 n = 0;
	int			 rc;

	while (r->step != STEP_DONE) {
		switch (r->step) {
		case STEP_TXT:
			snprintf(name, sizeof(name), "_mta-sts.%s", r->domain);
			rc = ctx_dns(r->ctx) == NULL ? MTASTS_EDNS :
			    r->ctx->net->dns_txt(r->ctx->dns, name, &v, &n);
			req_on_txt(r, rc, v, n);
			strv_free(v, n);
			v = NULL;
			n = 0;
			break;
		case STEP_ADDRS:
			snprintf(name, sizeof(name), "mta-sts.%s", r->domain);
			rc = ctx_dns(r->ctx) == NULL ? MTASTS_EDNS :
			    r->ctx->net->dns_addrs(r->ctx->dns, name, &v, &n);
			req_on_addrs(r, rc, v, n);
			strv_free(v, n);
			v = NULL;
			n = 0;
			break;
		case STEP_FETCH:
			memset(&res, 0, sizeof(res));
			if (ctx_fetch(r->ctx) == NULL) {
				rc = MTASTS_EFETCH;
				res.fail = FETCH_ECONNECT;
				snprintf(res.err, sizeof(res.err),
				    "no HTTPS client");
			} else
				rc = r->ctx->net->fetch_policy(r->ctx->fetch,
				    r->domain, r->addrs, r->naddrs, &res);
			req_on_fetch(r, rc, &res);
			fetch_result_clear(&res);
			break;
		case STEP_WAIT:
			usleep(WAIT_POLL_MS * 1000);
			req_poll_lease(r);
			break;
		case STEP_DONE:
			break;
		}
	}
}

/*
 * The steps.
 */
static int
req_new(struct mtasts_ctx *ctx, const char *domain, struct req **out)
{
	struct req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MTASTS_ENOMEM;
	if (mtasts_name_normalize(domain, 0, r->domain) != MTASTS_OK) {
		free(r);
		return MTASTS_EINVAL;
	}
	r->ctx = ctx;
	r->now = ctx_now(r->ctx);
	*out = r;
	return MTASTS_OK;
}

static void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	store_policy_clear(&r->row);
	mtasts_policy_free(r->cached);
	strv_free(r->addrs, r->naddrs);
	mtasts_answer_clear(&r->ans);
	free(r);
}

static void
req_begin(struct req *r)
{
	struct mtasts_ctx		*ctx = r->ctx;
	const struct config_override	*o;
	struct store			*st;

	o = config_override(ctx->conf, r->domain);
	if (o != NULL && o->mode == MTASTS_MODE_NONE) {
		answer_none(r, 0, "mode none forced by configuration");
		r->ans.source = MTASTS_SRC_OVERRIDE;
		req_done(r);
		return;
	}
	if ((st = ctx_store(ctx)) != NULL &&
	    store_get(st, r->domain, &r->row) == MTASTS_OK) {
		r->have_row = 1;
		if (r->row.text != NULL && r->row.expires > r->now &&
		    mtasts_policy_parse(r->row.text, strlen(r->row.text),
		    &r->cached, NULL) != MTASTS_OK) {
			log_warn(&ctx->log, "%s: cached policy does not parse;"
			    " ignored", r->domain);
			r->cached = NULL;
		}
	}
	if (r->cached != NULL && !r->force && ctx->conf->check_interval > 0 &&
	    r->now - r->row.checked < (time_t)ctx->conf->check_interval &&
	    r->now >= r->row.checked) {
		answer_cached(r, MTASTS_SRC_CACHE, "cached, TXT id checked "
		    "%llds ago", (long long)(r->now - r->row.checked));
		return;
	}
	r->step = STEP_TXT;
}

static void
req_on_txt(struct req *r, int err, char **txt, size_t n)
{
	struct mtasts_sts_record	 rec;
	struct mtasts_diag		 diag;
	const struct config		*conf = r->ctx->conf;
	int				 rc;

	if (err == MTASTS_ENOTFOUND) {
		req_fallback(r, 0, "no _mta-sts.%s TXT record", r->domain);
		return;
	}
	if (err != MTASTS_OK) {
		req_fallback(r, 1, "DNS lookup of _mta-sts.%s failed: %s",
		    r->domain, mtasts_strerror(err));
		return;
	}
	rc = mtasts_sts_record_parse((const char *const *)txt, n, &rec,
	    &diag);
	if (rc != MTASTS_OK) {
		req_fallback(r, 0, "_mta-sts.%s TXT: %s", r->domain,
		    diag.error.msg[0] ? diag.error.msg : mtasts_strerror(rc));
		return;
	}
	memcpy(r->id, rec.id, sizeof(r->id));
	if (r->cached != NULL && strcmp(r->row.id, r->id) == 0) {
		if (!half_past(r)) {
			if (r->ctx->store != NULL)
				store_touch(r->ctx->store, r->domain, r->now);
			answer_cached(r, MTASTS_SRC_CACHE, "cached, id %s "
			    "unchanged in DNS", r->id);
			return;
		}
		log_info(&r->ctx->log, "%s: policy id %s past half its "
		    "max_age; refreshing", r->domain, r->id);
	}
	if (r->have_row && r->row.failed != 0 &&
	    strcmp(r->row.failed_id, r->id) == 0 &&
	    r->now - r->row.failed < (time_t)conf->retry_interval &&
	    r->now >= r->row.failed) {
		req_fallback(r, 1, "fetch of policy id %s failed %llds ago; "
		    "not retried for %us", r->id,
		    (long long)(r->now - r->row.failed), conf->retry_interval);
		return;
	}
	req_take_lease(r);
}

/*
 * Takes the domain's fetch lease (or goes without when there is no
 * store), else waits for the process that holds it.
 */
static void
req_take_lease(struct req *r)
{
	int	rc;

	if (r->ctx->store == NULL) {
		r->step = STEP_ADDRS;
		return;
	}
	rc = store_lease(r->ctx->store, r->domain, ctx_now(r->ctx),
	    lease_ttl(r->ctx->conf));
	if (rc == 0) {
		if (r->step != STEP_WAIT) {
			log_debug(&r->ctx->log, "%s: another process is "
			    "fetching; waiting for it", r->domain);
			r->wait_until = ev_now_ms() +
			    lease_ttl(r->ctx->conf) * 1000ULL;
		}
		r->step = STEP_WAIT;
		return;
	}
	/* a broken store must not stop the fetch */
	r->leased = rc == 1;
	r->step = STEP_ADDRS;
	/* the previous holder may have finished since we last looked */
	if (r->leased)
		req_use_others(r);
}

/*
 * Has another process fetched (or failed to fetch) r->id since we read
 * the store? Then use its result instead of fetching again. Returns 1
 * when r is answered.
 */
static int
req_use_others(struct req *r)
{
	struct store_policy	 row;
	struct mtasts_policy	*pol = NULL;
	int			 newer;

	memset(&row, 0, sizeof(row));
	if (store_get(r->ctx->store, r->domain, &row) != MTASTS_OK)
		return 0;
	newer = !r->have_row || row.fetched > r->row.fetched ||
	    r->row.text == NULL;
	if (newer && row.text != NULL && strcmp(row.id, r->id) == 0 &&
	    row.expires > r->now && mtasts_policy_parse(row.text,
	    strlen(row.text), &pol, NULL) == MTASTS_OK) {
		store_policy_clear(&r->row);
		r->row = row;
		r->have_row = 1;
		mtasts_policy_free(r->cached);
		r->cached = pol;
		answer_cached(r, MTASTS_SRC_NETWORK, "fetched by another "
		    "process just now, id %s", r->id);
		return 1;
	}
	if (row.failed != 0 && strcmp(row.failed_id, r->id) == 0 &&
	    row.failed > (r->have_row ? r->row.failed : 0)) {
		store_policy_clear(&row);
		req_fallback(r, 1, "policy fetch for id %s by another "
		    "process failed", r->id);
		return 1;
	}
	store_policy_clear(&row);
	return 0;
}

/*
 * STEP_WAIT: has the lease holder stored its result? If the lease is
 * free again without one, fetch ourselves.
 */
static void
req_poll_lease(struct req *r)
{
	if (req_use_others(r))
		return;
	if (ev_now_ms() >= r->wait_until) {
		req_fallback(r, 1, "timed out waiting for another process "
		    "to fetch the policy");
		return;
	}
	req_take_lease(r);
}

static void
req_on_addrs(struct req *r, int err, char **addrs, size_t n)
{
	if (err != MTASTS_OK || n == 0) {
		tlsrpt_note_fetch_failure(r->ctx, r->domain,
		    MTASTS_RESULT_STS_POLICY_FETCH_ERROR, "policy host does "
		    "not resolve");
		req_fail_fetch(r, 1, "cannot resolve mta-sts.%s: %s",
		    r->domain, err == MTASTS_ENOTFOUND ? "no address" :
		    mtasts_strerror(err));
		return;
	}
	if (strv_dup(addrs, n, &r->addrs) != MTASTS_OK) {
		req_fail_fetch(r, 1, "out of memory");
		return;
	}
	r->naddrs = n;
	r->step = STEP_FETCH;
}

static void
req_on_fetch(struct req *r, int err, struct fetch_result *res)
{
	struct mtasts_policy	*pol = NULL;
	struct mtasts_diag	 diag;
	struct store_policy	 row;
	int			 rc;

	if (err != MTASTS_OK) {
		tlsrpt_note_fetch_failure(r->ctx, r->domain,
		    tlsrpt_fetch_result(res->fail), res->err);
		req_fail_fetch(r, 1, "policy fetch from mta-sts.%s failed: %s",
		    r->domain, res->err[0] ? res->err : mtasts_strerror(err));
		return;
	}
	rc = mtasts_policy_parse(res->body, res->len, &pol, &diag);
	if (rc != MTASTS_OK) {
		tlsrpt_note_fetch_failure(r->ctx, r->domain,
		    MTASTS_RESULT_STS_POLICY_INVALID, diag.error.msg);
		req_fail_fetch(r, 0, "policy of %s is invalid: %s", r->domain,
		    diag.error.msg);
		return;
	}
	memset(&row, 0, sizeof(row));
	memcpy(row.domain, r->domain, sizeof(row.domain));
	memcpy(row.id, r->id, sizeof(row.id));
	row.text = res->body;
	row.fetched = r->now;
	row.expires = r->now + (time_t)pol->max_age;
	row.checked = r->now;
	if (r->ctx->store != NULL && r->leased) {
		/* one commit for the policy and the lease's end */
		if (store_put_release(r->ctx->store, &row) != MTASTS_OK)
			store_release(r->ctx->store, r->domain);
		r->leased = 0;
	} else if (r->ctx->store != NULL)
		store_put(r->ctx->store, &row);
	store_policy_clear(&r->row);
	memcpy(&r->row, &row, sizeof(row));
	r->row.text = NULL;
	r->have_row = 1;
	mtasts_policy_free(r->cached);
	r->cached = pol;
	answer_cached(r, MTASTS_SRC_NETWORK, "fetched policy id %s", r->id);
}

/*
 * The fetch of r->id failed: remember it for the retry rule, then fall
 * back.
 */
static void
req_fail_fetch(struct req *r, int temp, const char *fmt, ...)
{
	char	why[MTASTS_DIAG_MSG];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r->ctx->store != NULL)
		store_fail(r->ctx->store, r->domain, r->id, r->now);
	req_fallback(r, temp, "%s", why);
}

/*
 * No new policy could be had: an unexpired cached one still rules,
 * otherwise there is no policy. temp says the cause may pass (DNS
 * failure, fetch failure), as opposed to a definite absence.
 */
static void
req_fallback(struct req *r, int temp, const char *fmt, ...)
{
	char	why[MTASTS_DIAG_MSG];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r->cached != NULL)
		answer_cached(r, MTASTS_SRC_STALE, "%s; cached policy id %s "
		    "applies until it expires", why, r->row.id);
	else
		answer_none(r, temp, "%s", why);
}

static void
answer_cached(struct req *r, enum mtasts_source src, const char *fmt, ...)
{
	struct mtasts_answer	*a = &r->ans;
	va_list			 ap;

	mtasts_answer_clear(a);
	a->policy = r->cached;
	r->cached = NULL;
	a->mode = a->policy->mode;
	memcpy(a->id, r->row.id, sizeof(a->id));
	a->source = src;
	a->fetched = r->row.fetched;
	a->expires = r->row.expires;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	req_done(r);
}

static void
answer_none(struct req *r, int temp, const char *fmt, ...)
{
	struct mtasts_answer	*a = &r->ans;
	va_list			 ap;

	mtasts_answer_clear(a);
	a->mode = MTASTS_MODE_NONE;
	a->source = MTASTS_SRC_NONE;
	a->temperror = temp;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	req_done(r);
}

/*
 * Final touches shared by every answer: a forced mode, log-only, the
 * lease, one log line.
 */
static void
req_done(struct req *r)
{
	struct mtasts_answer		*a = &r->ans;
	const struct config_override	*o;
	size_t				 len;

	r->step = STEP_DONE;
	o = config_override(r->ctx->conf, r->domain);
	if (o != NULL && o->mode != MTASTS_MODE_NONE && o->mode != a->mode) {
		len = strlen(a->why);
		snprintf(a->why + len, sizeof(a->why) - len, "; mode %s "
		    "forced by configuration (policy says %s)",
		    mtasts_mode_name(o->mode), a->policy == NULL ? "nothing" :
		    mtasts_mode_name(a->policy->mode));
		a->mode = o->mode;
		a->source = a->policy == NULL ? MTASTS_SRC_OVERRIDE :
		    a->source;
	}
	a->log_only = r->ctx->conf->log_only;
	if (r->leased) {
		store_release(r->ctx->store, r->domain);
		r->leased = 0;
	}
	/* a plain cache answer is the common case: not worth a log line */
	log_msg(&r->ctx->log, a->source == MTASTS_SRC_CACHE ? MTASTS_LOG_DEBUG :
	    MTASTS_LOG_INFO, "%s: mode %s from %s: %s", r->domain,
	    mtasts_mode_name(a->mode), mtasts_source_name(a->source), a->why);
}

static unsigned
lease_ttl(const struct config *conf)
{
	return (2 * conf->dns_timeout + conf->fetch_timeout) / 1000 + 2;
}

/* Is the cached policy past half its max_age (due for a refresh)? */
static int
half_past(const struct req *r)
{
	time_t	age = r->now - r->row.fetched;

	return age > (r->row.expires - r->row.fetched) / 2;
}

static struct mtasts_policy *
policy_dup(const struct mtasts_policy *p)
{
	struct mtasts_policy	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->mode = p->mode;
	d->max_age = p->max_age;
	if (strv_dup(p->mx, p->nmx, &d->mx) != MTASTS_OK) {
		free(d);
		return NULL;
	}
	d->nmx = p->nmx;
	return d;
}

/*
 * The asynchronous API: one struct req per domain in flight; later
 * requests for the same domain wait on it.
 */
int
mtasts_resolve_async(struct mtasts_ctx *ctx, const char *domain,
    mtasts_resolve_cb *cb, void *arg)
{
	return resolve_async(ctx, domain, 0, cb, arg);
}

int
resolve_async(struct mtasts_ctx *ctx, const char *domain, int force,
    mtasts_resolve_cb *cb, void *arg)
{
	struct mtasts_answer	 ans;
	struct waiter		*w;
	struct req		*r;
	char			 norm[MTASTS_NAME_MAX + 1];
	int			 rc;

	if (mtasts_name_normalize(domain, 0, norm) != MTASTS_OK)
		return MTASTS_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return MTASTS_ENOMEM;
	w->cb = cb;
	w->arg = arg;
	for (r = ctx->inflight; r != NULL; r = r->next)
		if (strcmp(r->domain, norm) == 0) {
			w->next = r->waiters;
			r->waiters = w;
			return MTASTS_OK;
		}
	if ((rc = req_new(ctx, norm, &r)) != MTASTS_OK) {
		free(w);
		return rc;
	}
	r->waiters = w;
	r->force = force;
	req_begin(r);
	if (r->step == STEP_DONE) {
		/* answered from the cache at once */
		ans = r->ans;
		memset(&r->ans, 0, sizeof(r->ans));
		req_free(r);
		free(w);
		cb(arg, MTASTS_OK, &ans);
		return MTASTS_OK;
	}
	if (ctx_ev(ctx) == NULL) {
		run_sync(r);
		async_finish(r);
		return MTASTS_OK;
	}
	r->next = ctx->inflight;
	ctx->inflight = r;
	ctx->ninflight++;
	ctx->abort_inflight = resolve_abort_all;
	run_async(r);
	return MTASTS_OK;
}

int
mtasts_async_fd(struct mtasts_ctx *ctx)
{
	if (ctx_ev(ctx) == NULL)
		return -1;
	return ev_fd(ctx->ev);
}

int
mtasts_async_process(struct mtasts_ctx *ctx)
{
	if (ctx->ev == NULL)
		return MTASTS_OK;
	return ev_process(ctx->ev);
}

size_t
mtasts_async_pending(const struct mtasts_ctx *ctx)
{
	return ctx->ninflight;
}

/*
 * Starts the I/O of r's current step. A step that cannot start is
 * answered at once with a failure, which moves r on.
 */
static void
run_async(struct req *r)
{
	struct mtasts_ctx	*ctx = r->ctx;
	struct fetch_result	 res;
	char			 name[MTASTS_NAME_MAX + 16];

	for (;;) {
		switch (r->step) {
		case STEP_DONE:
			async_finish(r);
			return;
		case STEP_TXT:
			snprintf(name, sizeof(name), "_mta-sts.%s", r->domain);
			if (ctx_dns(ctx) != NULL && ctx->net->dns_txt_async(
			    ctx->dns, name, async_on_txt, r) == MTASTS_OK)
				return;
			req_on_txt(r, MTASTS_EDNS, NULL, 0);
			break;
		case STEP_ADDRS:
			snprintf(name, sizeof(name), "mta-sts.%s", r->domain);
			if (ctx_dns(ctx) != NULL && ctx->net->dns_addrs_async(
			    ctx->dns, name, async_on_addrs, r) == MTASTS_OK)
				return;
			req_on_addrs(r, MTASTS_EDNS, NULL, 0);
			break;
		case STEP_FETCH:
			if (ctx_fetch(ctx) != NULL &&
			    ctx->net->fetch_policy_async(ctx->fetch,
			    r->domain, r->addrs, r->naddrs, async_on_fetch,
			    r) == MTASTS_OK)
				return;
			memset(&res, 0, sizeof(res));
			snprintf(res.err, sizeof(res.err), "cannot start the "
			    "HTTPS fetch");
			req_on_fetch(r, MTASTS_EFETCH, &res);
			break;
		case STEP_WAIT:
			if (ev_timer_set(ctx->ev, &r->timer, WAIT_POLL_MS,
			    async_on_wait, r) == MTASTS_OK)
				return;
			req_fallback(r, 1, "cannot wait for another process");
			break;
		}
	}
}

static void
async_on_txt(void *arg, int err, char **v, size_t n)
{
	struct req	*r = arg;

	if (err == DNS_ECANCELED)
		return;	/* the context closes: resolve_abort_all() answers */
	req_on_txt(r, err, v, n);
	run_async(r);
}

static void
async_on_addrs(void *arg, int err, char **v, size_t n)
{
	struct req	*r = arg;

	if (err == DNS_ECANCELED)
		return;	/* the context closes: resolve_abort_all() answers */
	req_on_addrs(r, err, v, n);
	run_async(r);
}

static void
async_on_fetch(void *arg, int err, struct fetch_result *res)
{
	struct req	*r = arg;

	req_on_fetch(r, err, res);
	run_async(r);
}

static void
async_on_wait(void *arg)
{
	struct req	*r = arg;

	req_poll_lease(r);
	run_async(r);
}

/*
 * Hands each waiter its own copy of the answer, then frees r.
 */
static void
async_finish(struct req *r)
{
	struct mtasts_ctx	*ctx = r->ctx;
	struct mtasts_answer	 ans;
	struct waiter		*w;
	struct req		**pp;
	int			 err;

	for (pp = &ctx->inflight; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			ctx->ninflight--;
			break;
		}
	if (ctx->ev != NULL)
		ev_timer_del(ctx->ev, &r->timer);
	while ((w = r->waiters) != NULL) {
		r->waiters = w->next;
		ans = r->ans;
		err = MTASTS_OK;
		if (r->waiters == NULL)
			memset(&r->ans, 0, sizeof(r->ans));
		else if (ans.policy != NULL &&
		    (ans.policy = policy_dup(ans.policy)) == NULL)
			err = MTASTS_ENOMEM;
		w->cb(w->arg, err, &ans);
		free(w);
	}
	req_free(r);
}

/*
 * Closing the context with requests in flight: each waiter is told
 * MTASTS_ETIMEOUT with an empty answer. Their DNS and HTTPS work is
 * cancelled when the context frees those modules.
 */
/* Answers every in-flight request with an error (mtasts_ctx_close()). */
static void
resolve_abort_all(struct mtasts_ctx *ctx)
{
	struct mtasts_answer	 ans;
	struct waiter		*w;
	struct req		*r;

	while ((r = ctx->inflight) != NULL) {
		ctx->inflight = r->next;
		ctx->ninflight--;
		if (ctx->ev != NULL)
			ev_timer_del(ctx->ev, &r->timer);
		if (r->leased)
			store_release(r->ctx->store, r->domain);
		while ((w = r->waiters) != NULL) {
			r->waiters = w->next;
			memset(&ans, 0, sizeof(ans));
			snprintf(ans.why, sizeof(ans.why), "engine closed");
			w->cb(w->arg, MTASTS_ETIMEOUT, &ans);
			free(w);
		}
		req_free(r);
	}
}
