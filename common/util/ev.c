/*
 * ev.c - the engine's small event loop on epoll and one timerfd.
 *
 * One epoll descriptor holds the watched descriptors and a timerfd that
 * is armed at the earliest timer deadline (CLOCK_MONOTONIC), so an
 * outer loop needs to watch only ev_fd(). Watches live in a table
 * indexed by descriptor; each epoll registration carries the
 * descriptor and a generation number, so an event for a watch that a
 * callback removed (or replaced) during the same dispatch is dropped.
 * Timers are the caller's structs on a list sorted by deadline; a timer
 * armed during a dispatch pass runs at the earliest in the next pass.
 */
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtasts.h"
#include "util/ev.h"

#define EV_BATCH	64

struct ev_watch {
	ev_fd_cb	*cb;
	void		*arg;
	unsigned	 events;	/* 0: not watched */
	uint32_t	 gen;		/* bumped on every add and remove */
};

struct ev {
	int		 epfd;
	int		 tfd;
	struct ev_watch	*watch;		/* indexed by descriptor */
	size_t		 nwatch;
	struct ev_timer	*timers;	/* sorted by deadline, then seq */
	unsigned long long seq;		/* arming counter */
};

static int	ev_grow(struct ev *, int);
static uint32_t	ev_epoll_events(unsigned);
static void	ev_timer_unlink(struct ev *, struct ev_timer *);
static void	ev_timer_rearm(struct ev *);
static int	ev_dispatch(struct ev *, int);
static void	ev_run_fd(struct ev *, const struct epoll_event *);
static void	ev_run_timers(struct ev *);

int
ev_new(struct ev **out)
{
	struct ev		*ev;
	struct epoll_event	 e;

	*out = NULL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return MTASTS_ENOMEM;
	ev->tfd = -1;
	if ((ev->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail;
	ev->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ev->tfd == -1)
		goto fail;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.u64 = UINT64_MAX;	/* the timerfd's mark */
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->tfd, &e) == -1)
		goto fail;
	*out = ev;
	return MTASTS_OK;
fail:
	ev_free(ev);
	return MTASTS_EIO;
}

void
ev_free(struct ev *ev)
{
	if (ev == NULL)
		return;
	if (ev->tfd != -1)
		close(ev->tfd);
	if (ev->epfd != -1)
		close(ev->epfd);
	free(ev->watch);
	free(ev);
}

int
ev_fd(const struct ev *ev)
{
	return ev->epfd;
}

unsigned long long
ev_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ev_grow(struct ev *ev, int fd)
{
	struct ev_watch	*w;
	size_t		 n;

	if ((size_t)fd < ev->nwatch)
		return MTASTS_OK;
	n = ev->nwatch ? ev->nwatch : 64;
	while (n <= (size_t)fd)
		n *= 2;
	if ((w = realloc(ev->watch, n * sizeof(*w))) == NULL)
		return MTASTS_ENOMEM;
	memset(w + ev->nwatch, 0, (n - ev->nwatch) * sizeof(*w));
	ev->watch = w;
	ev->nwatch = n;
	return MTASTS_OK;
}

static uint32_t
ev_epoll_events(unsigned events)
{
	uint32_t	e = 0;

	if (events & EV_READ)
		e |= EPOLLIN;
	if (events & EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

int
ev_watch(struct ev *ev, int fd, unsigned events, ev_fd_cb *cb, void *arg)
{
	struct ev_watch		*w;
	struct epoll_event	 e;
	int			 op, r;

	if (fd < 0 || fd == ev->tfd || fd == ev->epfd ||
	    (events & ~(unsigned)(EV_READ | EV_WRITE)) != 0 ||
	    (events != 0 && cb == NULL))
		return MTASTS_EINVAL;
	if ((r = ev_grow(ev, fd)) != MTASTS_OK)
		return r;
	w = &ev->watch[fd];
	if (events == 0) {
		if (w->events != 0)
			/* The descriptor may be closed already: fine. */
			(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->events = 0;
		w->cb = NULL;
		w->arg = NULL;
		w->gen++;
		return MTASTS_OK;
	}
	op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op == EPOLL_CTL_ADD)
		w->gen++;
	memset(&e, 0, sizeof(e));
	e.events = ev_epoll_events(events);
	e.data.u64 = ((uint64_t)w->gen << 32) | (uint32_t)fd;
	if (epoll_ctl(ev->epfd, op, fd, &e) == -1) {
		/* A descriptor closed and reused behind our back. */
		if (op == EPOLL_CTL_MOD && errno == ENOENT)
			r = epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e);
		else if (op == EPOLL_CTL_ADD && errno == EEXIST)
			r = epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &e);
		else
			r = -1;
		if (r == -1)
			return errno == ENOMEM ? MTASTS_ENOMEM : MTASTS_EIO;
	}
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	return MTASTS_OK;
}

static void
ev_timer_unlink(struct ev *ev, struct ev_timer *t)
{
	struct ev_timer	**pp;

	for (pp = &ev->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->next = NULL;
	t->deadline = 0;
}

/* Arms the timerfd at the head's deadline, or disarms it. */
static void
ev_timer_rearm(struct ev *ev)
{
	struct itimerspec	its;
	unsigned long long	d;

	memset(&its, 0, sizeof(its));
	if (ev->timers != NULL) {
		d = ev->timers->deadline;
		its.it_value.tv_sec = d / 1000;
		its.it_value.tv_nsec = (d % 1000) * 1000000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	(void)timerfd_settime(ev->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int
ev_timer_set(struct ev *ev, struct ev_timer *t, unsigned ms,
    ev_timer_cb *cb, void *arg)
{
	struct ev_timer	**pp;

	if (cb == NULL)
		return MTASTS_EINVAL;
	if (t->deadline != 0)
		ev_timer_unlink(ev, t);
	t->deadline = ev_now_ms() + ms;
	t->cb = cb;
	t->arg = arg;
	t->seq = ++ev->seq;
	for (pp = &ev->timers; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->deadline > t->deadline)
			break;
	t->next = *pp;
	*pp = t;
	if (ev->timers == t)
		ev_timer_rearm(ev);
	return MTASTS_OK;
}

void
ev_timer_del(struct ev *ev, struct ev_timer *t)
{
	int	head;

	if (t->deadline == 0)
		return;
	head = ev->timers == t;
	ev_timer_unlink(ev, t);
	if (head)
		ev_timer_rearm(ev);
}

static void
ev_run_fd(struct ev *ev, const struct epoll_event *e)
{
	struct ev_watch	*w;
	unsigned	 events = 0;
	int		 fd = (int)(uint32_t)e->data.u64;

	if ((size_t)fd >= ev->nwatch)
		return;
	w = &ev->watch[fd];
	/* Removed or replaced by an earlier callback of this pass. */
	if (w->events == 0 || w->gen != (uint32_t)(e->data.u64 >> 32))
		return;
	if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		events |= EV_READ;
	if (e->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		events |= EV_WRITE;
	events &= w->events;
	if (events != 0)
		w->cb(w->arg, fd, events);
}

/*
 * Runs the timers that expired when the pass began; those armed by a
 * callback of this pass (a larger seq) wait for the next one.
 */
static void
ev_run_timers(struct ev *ev)
{
	struct ev_timer		*t;
	unsigned long long	 now, seq;
	uint64_t		 n;

	while (read(ev->tfd, &n, sizeof(n)) > 0)
		;
	now = ev_now_ms();
	seq = ev->seq;
	while ((t = ev->timers) != NULL && t->deadline <= now &&
	    t->seq <= seq) {
		ev->timers = t->next;
		t->next = NULL;
		t->deadline = 0;
		t->cb(t->arg);
	}
	ev_timer_rearm(ev);
}

static int
ev_dispatch(struct ev *ev, int ms)
{
	struct epoll_event	ev_ready[EV_BATCH];
	int			i, n;

	n = epoll_wait(ev->epfd, ev_ready, EV_BATCH, ms);
	if (n == -1 && errno != EINTR)
		return MTASTS_EIO;
	for (i = 0; i < n; i++)
		if (ev_ready[i].data.u64 != UINT64_MAX)
			ev_run_fd(ev, &ev_ready[i]);
	ev_run_timers(ev);
	return MTASTS_OK;
}

int
ev_process(struct ev *ev)
{
	return ev_dispatch(ev, 0);
}

int
ev_wait(struct ev *ev, int ms)
{
	return ev_dispatch(ev, ms);
}
