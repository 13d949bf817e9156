/*
 * ev.h - the engine's own small event loop: one epoll descriptor that an
 * outer loop (libevent in the filter) watches, file descriptor watches
 * and timers inside it. Linux only (epoll, timerfd).
 */
#ifndef MTASTS_EV_H
#define MTASTS_EV_H

#define EV_READ		0x1
#define EV_WRITE	0x2

struct ev;
typedef void ev_fd_cb(void *arg, int fd, unsigned events);
typedef void ev_timer_cb(void *arg);

/* A timer; the caller owns the memory, zero it before first use. */
struct ev_timer {
	struct ev_timer	*next;		/* ev's list, ordered by deadline */
	unsigned long long deadline;	/* monotonic ms; 0: not armed */
	ev_timer_cb	*cb;
	void		*arg;
	unsigned long long seq;		/* ev's own: arming order, so that a
					   timer re-armed during dispatch
					   waits for the next pass */
};

int	ev_new(struct ev **out);
void	ev_free(struct ev *ev);
/* The descriptor that is readable when something is ready. */
int	ev_fd(const struct ev *ev);
/* Watch fd for events (EV_READ|EV_WRITE); events 0 removes it. */
int	ev_watch(struct ev *ev, int fd, unsigned events, ev_fd_cb *cb,
	    void *arg);
/* Arms t to call cb(arg) after ms milliseconds (re-arming moves it). */
int	ev_timer_set(struct ev *ev, struct ev_timer *t, unsigned ms,
	    ev_timer_cb *cb, void *arg);
void	ev_timer_del(struct ev *ev, struct ev_timer *t);
/*
 * Dispatches what is ready and what expired, without blocking. Callbacks
 * may add, change or remove any watch or timer (their own included): an
 * event for a watch removed earlier in the same pass is dropped, and a
 * timer armed by a callback runs in a later pass at the earliest, except
 * one armed by a descriptor callback, which runs in this pass when due.
 */
int	ev_process(struct ev *ev);
/* Blocks up to ms (or until the next timer) then dispatches. */
int	ev_wait(struct ev *ev, int ms);
/* Monotonic clock in milliseconds. */
unsigned long long ev_now_ms(void);

#endif
