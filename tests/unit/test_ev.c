/*
 * test_ev.c - the event loop: descriptor watches on pipes, timer order,
 * re-arming, removal during dispatch, and ev_fd() readability.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mtasts.h"
#include "util/ev.h"

struct rec {
	int	 log[16];
	int	 n;
};

static void
rec_add(struct rec *r, int v)
{
	if (r->n < 16)
		r->log[r->n++] = v;
}

/* Is fd readable within ms? */
static int
readable(int fd, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

struct pipe_ctx {
	struct ev	*ev;
	struct rec	 rec;
};

static void
on_read(void *arg, int fd, unsigned events)
{
	struct pipe_ctx	*pc = arg;
	char		 c;

	assert_true(events & EV_READ);
	assert_int_equal(read(fd, &c, 1), 1);
	rec_add(&pc->rec, fd);
}

static void
test_pipe_read(void **state)
{
	struct pipe_ctx	 pc = { 0 };
	int		 p[2];

	assert_int_equal(ev_new(&pc.ev), MTASTS_OK);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ev_watch(pc.ev, p[0], EV_READ, on_read, &pc),
	    MTASTS_OK);
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.rec.n, 0);
	assert_false(readable(ev_fd(pc.ev), 0));
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_true(readable(ev_fd(pc.ev), 1000));
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.rec.n, 1);
	assert_int_equal(pc.rec.log[0], p[0]);
	/* Removed: no more callbacks. */
	assert_int_equal(ev_watch(pc.ev, p[0], 0, NULL, NULL), MTASTS_OK);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_false(readable(ev_fd(pc.ev), 50));
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.rec.n, 1);
	close(p[0]);
	close(p[1]);
	ev_free(pc.ev);
}

static void
on_write(void *arg, int fd, unsigned events)
{
	struct pipe_ctx	*pc = arg;

	assert_true(events & EV_WRITE);
	assert_false(events & EV_READ);
	rec_add(&pc->rec, fd);
	/* Switch to read only. */
	assert_int_equal(ev_watch(pc->ev, fd, 0, NULL, NULL), MTASTS_OK);
}

static void
test_pipe_write_modify(void **state)
{
	struct pipe_ctx	 pc = { 0 };
	int		 p[2];

	assert_int_equal(ev_new(&pc.ev), MTASTS_OK);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ev_watch(pc.ev, p[1], EV_WRITE, on_write, &pc),
	    MTASTS_OK);
	assert_int_equal(ev_wait(pc.ev, 1000), MTASTS_OK);
	assert_int_equal(pc.rec.n, 1);
	assert_int_equal(pc.rec.log[0], p[1]);
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.rec.n, 1);
	/* Modify: watch read then write on the same fd (read side). */
	assert_int_equal(ev_watch(pc.ev, p[0], EV_WRITE, on_read, &pc),
	    MTASTS_OK);
	assert_int_equal(ev_watch(pc.ev, p[0], EV_READ, on_read, &pc),
	    MTASTS_OK);
	assert_int_equal(write(p[1], "z", 1), 1);
	assert_int_equal(ev_wait(pc.ev, 1000), MTASTS_OK);
	assert_int_equal(pc.rec.n, 2);
	assert_int_equal(pc.rec.log[1], p[0]);
	assert_int_equal(ev_watch(pc.ev, -1, EV_READ, on_read, &pc),
	    MTASTS_EINVAL);
	assert_int_equal(ev_watch(pc.ev, p[0], EV_READ, NULL, &pc),
	    MTASTS_EINVAL);
	close(p[0]);
	close(p[1]);
	ev_free(pc.ev);
}

/*
 * Two pipes ready in the same pass. Whichever callback runs first
 * removes the other's watch, closes that descriptor and opens a new
 * pipe that gets the same number and is watched: the stale event of
 * this pass must reach neither the removed watch nor the new one.
 */
struct pair_ctx {
	struct ev	*ev;
	int		 rd[2];		/* the two read ends */
	int		 np[2];		/* the new pipe */
	int		 ran;
	int		 ran_new;
	int		 reuse;		/* open a new pipe in the hole */
};

static void
on_new(void *arg, int fd, unsigned events)
{
	struct pair_ctx	*pc = arg;

	pc->ran_new++;
}

static void
on_pair(void *arg, int fd, unsigned events)
{
	struct pair_ctx	*pc = arg;
	int		 other;
	char		 c;

	pc->ran++;
	assert_int_equal(read(fd, &c, 1), 1);
	other = fd == pc->rd[0] ? pc->rd[1] : pc->rd[0];
	assert_int_equal(ev_watch(pc->ev, other, 0, NULL, NULL), MTASTS_OK);
	if (!pc->reuse)
		return;
	close(other);
	assert_int_equal(pipe(pc->np), 0);
	assert_int_equal(pc->np[0], other);
	assert_int_equal(ev_watch(pc->ev, pc->np[0], EV_READ, on_new, pc),
	    MTASTS_OK);
}

static void
pair_run(int reuse)
{
	struct pair_ctx	 pc = { .np = { -1, -1 }, .reuse = reuse };
	int		 a[2], b[2];

	assert_int_equal(ev_new(&pc.ev), MTASTS_OK);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pc.rd[0] = a[0];
	pc.rd[1] = b[0];
	assert_int_equal(ev_watch(pc.ev, a[0], EV_READ, on_pair, &pc),
	    MTASTS_OK);
	assert_int_equal(ev_watch(pc.ev, b[0], EV_READ, on_pair, &pc),
	    MTASTS_OK);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	/* Both are ready before the pass begins. */
	usleep(1000);
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.ran, 1);
	assert_int_equal(pc.ran_new, 0);
	assert_int_equal(ev_process(pc.ev), MTASTS_OK);
	assert_int_equal(pc.ran, 1);
	assert_int_equal(pc.ran_new, 0);
	if (reuse) {
		/* The new watch works. */
		assert_int_equal(write(pc.np[1], "x", 1), 1);
		assert_int_equal(ev_wait(pc.ev, 1000), MTASTS_OK);
		assert_int_equal(pc.ran_new, 1);
		close(pc.np[0]);
		close(pc.np[1]);
		close(pc.np[0] == a[0] ? b[0] : a[0]);
	} else {
		close(a[0]);
		close(b[0]);
	}
	close(a[1]);
	close(b[1]);
	ev_free(pc.ev);
}

static void
test_remove_other_during_dispatch(void **state)
{
	pair_run(0);
}

static void
test_fd_reuse_during_dispatch(void **state)
{
	pair_run(1);
}

struct tctx {
	struct ev	*ev;
	struct rec	 rec;
	struct ev_timer	 t[4];
	int		 id[4];
	int		 rearm;		/* re-arm count for t[0] */
	int		 del;		/* index to delete from t[0]'s cb */
};

static struct tctx *cur;

static void
on_timer(void *arg)
{
	int	i = *(int *)arg;

	rec_add(&cur->rec, i);
	if (i == 0 && cur->del >= 0)
		ev_timer_del(cur->ev, &cur->t[cur->del]);
	if (i == 0 && cur->rearm > 0) {
		cur->rearm--;
		assert_int_equal(ev_timer_set(cur->ev, &cur->t[0], 0,
		    on_timer, arg), MTASTS_OK);
	}
}

static void
tctx_init(struct tctx *tc)
{
	int	i;

	memset(tc, 0, sizeof(*tc));
	tc->del = -1;
	for (i = 0; i < 4; i++)
		tc->id[i] = i;
	assert_int_equal(ev_new(&tc->ev), MTASTS_OK);
	cur = tc;
}

static void
run_until(struct tctx *tc, int n, unsigned long long max_ms)
{
	unsigned long long	start = ev_now_ms();

	while (tc->rec.n < n && ev_now_ms() - start < max_ms)
		assert_int_equal(ev_wait(tc->ev, 50), MTASTS_OK);
}

static void
test_timer_order(void **state)
{
	struct tctx		tc;
	unsigned long long	start;

	tctx_init(&tc);
	start = ev_now_ms();
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[2], 60, on_timer,
	    &tc.id[2]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[1], 30, on_timer,
	    &tc.id[1]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[3], 90, on_timer,
	    &tc.id[3]), MTASTS_OK);
	assert_true(tc.t[1].deadline != 0);
	run_until(&tc, 3, 2000);
	assert_int_equal(tc.rec.n, 3);
	assert_int_equal(tc.rec.log[0], 1);
	assert_int_equal(tc.rec.log[1], 2);
	assert_int_equal(tc.rec.log[2], 3);
	assert_true(ev_now_ms() - start >= 90);
	assert_int_equal(tc.t[1].deadline, 0);
	ev_free(tc.ev);
}

/* Re-arming moves a timer; deleting stops it. */
static void
test_timer_rearm_del(void **state)
{
	struct tctx	tc;

	tctx_init(&tc);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[1], 20, on_timer,
	    &tc.id[1]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[2], 50, on_timer,
	    &tc.id[2]), MTASTS_OK);
	/* Move 1 after 2. */
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[1], 100, on_timer,
	    &tc.id[1]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[3], 10, on_timer,
	    &tc.id[3]), MTASTS_OK);
	ev_timer_del(tc.ev, &tc.t[3]);
	ev_timer_del(tc.ev, &tc.t[3]);		/* twice is harmless */
	run_until(&tc, 2, 2000);
	assert_int_equal(tc.rec.n, 2);
	assert_int_equal(tc.rec.log[0], 2);
	assert_int_equal(tc.rec.log[1], 1);
	/* Nothing else fires. */
	assert_int_equal(ev_wait(tc.ev, 100), MTASTS_OK);
	assert_int_equal(tc.rec.n, 2);
	ev_free(tc.ev);
}

/*
 * A callback deletes another expired timer of the same pass, and
 * re-arms itself with 0 ms: that runs in the next pass, not this one.
 */
static void
test_timer_del_during_dispatch(void **state)
{
	struct tctx	tc;

	tctx_init(&tc);
	tc.del = 1;
	tc.rearm = 1;
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[0], 0, on_timer,
	    &tc.id[0]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[1], 0, on_timer,
	    &tc.id[1]), MTASTS_OK);
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[2], 0, on_timer,
	    &tc.id[2]), MTASTS_OK);
	usleep(5000);
	assert_int_equal(ev_process(tc.ev), MTASTS_OK);
	assert_int_equal(tc.rec.n, 2);
	assert_int_equal(tc.rec.log[0], 0);
	assert_int_equal(tc.rec.log[1], 2);
	/* The re-armed one: ev_fd is readable, the next pass runs it. */
	tc.del = -1;
	assert_true(readable(ev_fd(tc.ev), 1000));
	assert_int_equal(ev_process(tc.ev), MTASTS_OK);
	assert_int_equal(tc.rec.n, 3);
	assert_int_equal(tc.rec.log[2], 0);
	assert_int_equal(ev_process(tc.ev), MTASTS_OK);
	assert_int_equal(tc.rec.n, 3);
	ev_free(tc.ev);
}

/* The outer loop's view: ev_fd turns readable when a timer expires. */
static void
test_fd_readable_on_timer(void **state)
{
	struct tctx		tc;
	unsigned long long	start;

	tctx_init(&tc);
	assert_false(readable(ev_fd(tc.ev), 0));
	start = ev_now_ms();
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[1], 80, on_timer,
	    &tc.id[1]), MTASTS_OK);
	assert_false(readable(ev_fd(tc.ev), 30));
	assert_true(readable(ev_fd(tc.ev), 2000));
	assert_true(ev_now_ms() - start >= 80);
	assert_int_equal(ev_process(tc.ev), MTASTS_OK);
	assert_int_equal(tc.rec.n, 1);
	/* Drained: no longer readable. */
	assert_false(readable(ev_fd(tc.ev), 0));
	/* A deleted timer leaves it quiet. */
	assert_int_equal(ev_timer_set(tc.ev, &tc.t[2], 30, on_timer,
	    &tc.id[2]), MTASTS_OK);
	ev_timer_del(tc.ev, &tc.t[2]);
	assert_false(readable(ev_fd(tc.ev), 100));
	ev_free(tc.ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_read),
		cmocka_unit_test(test_pipe_write_modify),
		cmocka_unit_test(test_remove_other_during_dispatch),
		cmocka_unit_test(test_fd_reuse_during_dispatch),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_rearm_del),
		cmocka_unit_test(test_timer_del_during_dispatch),
		cmocka_unit_test(test_fd_readable_on_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
