/*
 * refresh.c - proactive refresh while smtpd runs. Every pass asks the
 * engine to refresh the cached domains that are due
 * (mtasts_refresh_async(): the same rule as "mtasts refresh", so that
 * neither lets a policy lapse nor fetches what the other would not), and
 * then resolves each domain of the routing table as a delivery would, so
 * that a domain whose policy went to mode none (or expired, or was
 * withdrawn) leaves the table; enforce and testing domains stay (the
 * relay applies the mode), and so does a domain whose lookup failed.
 */
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "table.h"

#define REFRESH_MAX	256	/* domains started per pass */

static struct event	ev_refresh;
static struct timeval	tv_refresh;
static int		refresh_armed;
static size_t		refresh_inflight;
static unsigned		refresh_done, refresh_failed;

static void	refresh_on_timer(int, short, void *);
static void	refresh_on_due(void *, const char *, int,
		    struct mtasts_answer *);
static void	refresh_table(void);
static void	refresh_on_table(void *, int, struct mtasts_answer *);
static void	refresh_sync(const char *, int, struct mtasts_answer *);
static void	refresh_finish(void);

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

static void
refresh_on_timer(int fd, short what, void *arg)
{
	unsigned	n = 0;
	int		rc;

	if (refresh_inflight > 0) {
		filter_log(MTASTS_LOG_DEBUG, "refresh: %zu domains of the "
		    "last pass still in flight; pass skipped",
		    refresh_inflight);
		evtimer_add(&ev_refresh, &tv_refresh);
		return;
	}
	refresh_done = refresh_failed = 0;
	/* counted before the calls: a callback may run within them */
	refresh_inflight = 1;
	rc = mtasts_refresh_async(filter.ctx, 0, REFRESH_MAX,
	    refresh_on_due, NULL, &n);
	if (rc != MTASTS_OK)
		filter_log(MTASTS_LOG_WARN, "refresh: %s", mtasts_strerror(rc));
	refresh_inflight += n;
	refresh_table();
	refresh_finish();
	evtimer_add(&ev_refresh, &tv_refresh);
}

/* A due domain was refreshed by the engine. */
static void
refresh_on_due(void *arg, const char *domain, int err,
    struct mtasts_answer *ans)
{
	refresh_done++;
	if (err != MTASTS_OK || ans->source == MTASTS_SRC_STALE ||
	    ans->temperror)
		refresh_failed++;
	refresh_sync(domain, err, ans);
	refresh_finish();
}

/* The routing table may shrink under us: copy its domains first. */
static void
refresh_table(void)
{
	char	**dom;
	size_t	  i, n;

	n = table_count(filter.table);
	if (n > REFRESH_MAX)
		n = REFRESH_MAX;
	if (n == 0 || (dom = calloc(n, sizeof(*dom))) == NULL)
		return;
	for (i = 0; i < n; i++)
		dom[i] = strdup(table_domain(filter.table, i));
	for (i = 0; i < n; i++) {
		if (dom[i] == NULL)
			continue;
		refresh_inflight++;
		/* the callback frees dom[i] */
		if (mtasts_resolve_async(filter.ctx, dom[i], refresh_on_table,
		    dom[i]) != MTASTS_OK) {
			refresh_inflight--;
			free(dom[i]);
		}
	}
	free(dom);
}

static void
refresh_on_table(void *arg, int err, struct mtasts_answer *ans)
{
	char	*domain = arg;

	refresh_sync(domain, err, ans);
	free(domain);
	refresh_finish();
}

/* A routed domain without a policy in force leaves the table. */
static void
refresh_sync(const char *domain, int err, struct mtasts_answer *ans)
{
	if (err == MTASTS_OK && ans->mode == MTASTS_MODE_NONE &&
	    !ans->temperror)
		rcpt_table_sync(domain, 0);
	mtasts_answer_clear(ans);	/* the callee owns it (mtasts.h) */
}

/* One answer (or the pass's own start) is done: the last one logs. */
static void
refresh_finish(void)
{
	if (--refresh_inflight > 0)
		return;
	filter_log(MTASTS_LOG_INFO, "refresh: pass done: %u due domains "
	    "refreshed, %u failed", refresh_done - refresh_failed,
	    refresh_failed);
}
