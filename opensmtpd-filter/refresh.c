/*
 * refresh.c - proactive refresh while smtpd runs: every pass resolves
 * again (asynchronously, through mtasts_resolve_async()) each cached
 * domain past half its max_age, which makes the engine fetch it anew
 * before it expires, and each domain of the routing table, so that a
 * domain that left enforce mode leaves the table.
 *
 * The public API's mtasts_refresh() blocks, which a filter must not do;
 * this is the asynchronous equivalent built on the public calls.
 */
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "table.h"

#define REFRESH_MAX	256	/* domains started per pass */

struct due {
	char	**dom;
	size_t	  n;
};

static struct event	ev_refresh;
static struct timeval	tv_refresh;
static int		refresh_armed;
static size_t		refresh_inflight;

static void	refresh_on_timer(int, short, void *);
static int	refresh_on_entry(void *, const struct mtasts_cache_entry *);
static void	refresh_one(const char *);
static void	refresh_on_policy(void *, int, struct mtasts_answer *);

int
refresh_start(unsigned secs)
{
	tv_refresh.tv_sec = secs;
	tv_refresh.tv_usec = 0;
	evtimer_set(&ev_refresh, refresh_on_timer, NULL);
	refresh_armed = 1;
	return evtimer_add(&ev_refresh, &tv_refresh);
}

void
refresh_stop(void)
{
	if (refresh_armed)
		evtimer_del(&ev_refresh);
	refresh_armed = 0;
}

/* Collects a cached domain that is past half its max_age. */
static int
refresh_on_entry(void *arg, const struct mtasts_cache_entry *e)
{
	struct due	*d = arg;
	time_t		 now = time(NULL);
	char		*s;

	if (d->n >= REFRESH_MAX)
		return 1;
	if (e->text == NULL || now < e->fetched + (time_t)e->max_age / 2)
		return 0;
	if ((s = strdup(e->domain)) == NULL)
		return 1;
	d->dom[d->n++] = s;
	return 0;
}

static void
refresh_on_timer(int fd, short what, void *arg)
{
	struct due	d;
	size_t		i;

	memset(&d, 0, sizeof(d));
	if ((d.dom = calloc(REFRESH_MAX, sizeof(*d.dom))) != NULL)
		(void)mtasts_cache_list(filter.ctx, NULL, refresh_on_entry,
		    &d);
	/* the routing table may shrink under us: copy its domains first */
	for (i = 0; d.dom != NULL && i < table_count(filter.table) &&
	    d.n < REFRESH_MAX; i++)
		if ((d.dom[d.n] = strdup(table_domain(filter.table, i))))
			d.n++;
	for (i = 0; i < d.n; i++) {
		refresh_one(d.dom[i]);
		free(d.dom[i]);
	}
	free(d.dom);
	filter_log(MTASTS_LOG_DEBUG, "refresh: %zu domains checked", d.n);
	evtimer_add(&ev_refresh, &tv_refresh);
}

static void
refresh_one(const char *domain)
{
	char	*dup;

	if (refresh_inflight >= REFRESH_MAX || (dup = strdup(domain)) == NULL)
		return;
	refresh_inflight++;
	if (mtasts_resolve_async(filter.ctx, dup, refresh_on_policy, dup) !=
	    MTASTS_OK) {
		refresh_inflight--;
		free(dup);
	}
}

/* A routed domain that is no longer under enforce leaves the table. */
static void
refresh_on_policy(void *arg, int err, struct mtasts_answer *ans)
{
	char	*domain = arg;

	refresh_inflight--;
	if (err == MTASTS_OK && (ans->mode != MTASTS_MODE_ENFORCE ||
	    ans->log_only) && !ans->temperror)
		rcpt_table_sync(domain, 0);
	if (err == MTASTS_OK)
		mtasts_answer_clear(ans);
	free(domain);
}
