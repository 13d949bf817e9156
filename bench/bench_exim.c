/*
 * bench_exim.c - what mtasts.so adds to one Exim delivery attempt, warm
 * cache.
 *
 * Exim delivers each message in a new process, so the figure that
 * matters is the first call in a fresh process: open the context (read
 * mtasts.conf), open the store, read the domain's row, decide the MX.
 * This program does exactly what mtasts.so does per delivery, through
 * the same public API:
 *	fresh	fork() and exec() this program again (as Exim execs a new
 *		delivery process); in it: mtasts_ctx_open(),
 *		mtasts_resolve(), mtasts_answer_mx(); timed in the child.
 *		Also the whole exec'd process, start to exit, which includes
 *		loading the shared libraries mtasts.so needs (libcurl,
 *		libunbound, OpenSSL, SQLite...).
 *	warm	the same resolve and MX decision again in one process
 *		(mtasts.so also keeps its last answer for 10 s, so most of
 *		its calls in one delivery cost nothing at all)
 * Usage: bench_exim [-n N] CONF DOMAIN MX   (-C: the child, internal)
 * CONF should set a check_interval longer than the run (a warm call is
 * then one store read, no DNS). The first resolve warms the cache and
 * may use the network. Prints median and 90th percentile in
 * microseconds, and the targets (fresh < 1000 us, warm < 50 us).
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtasts.h"

static double	 now_us(void);
static int	 once(struct mtasts_ctx *, const char *, const char *);
static int	 child(const char *, const char *, const char *);
static double	 fresh(const char *, const char *, const char *,
		    const char *, double *);
static int	 cmp(const void *, const void *);
static void	 show(const char *, double *, int, double);

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One decision: resolve the domain and judge the MX; 0 on success. */
static int
once(struct mtasts_ctx *ctx, const char *domain, const char *mx)
{
	struct mtasts_answer	 ans;

	if (mtasts_resolve(ctx, domain, &ans) != MTASTS_OK)
		return -1;
	(void)mtasts_answer_mx(&ans, mx);
	mtasts_answer_clear(&ans);
	return 0;
}

/* In the exec'd child: the first decision, written to fd 3. */
static int
child(const char *conf, const char *domain, const char *mx)
{
	struct mtasts_ctx	*ctx;
	double			 t, us = -1;

	t = now_us();
	if (mtasts_ctx_open(conf, NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) == MTASTS_OK) {
		if (once(ctx, domain, mx) == 0)
			us = now_us() - t;
		mtasts_ctx_close(ctx);
	}
	return write(3, &us, sizeof(us)) == sizeof(us) ? 0 : 1;
}

/* A new process's first decision, in microseconds, and its whole life
 * in *total; -1 on failure. */
static double
fresh(const char *self, const char *conf, const char *domain,
    const char *mx, double *total)
{
	double	 t, us = -1;
	int	 fd[2], st;
	pid_t	 pid;

	t = now_us();
	if (pipe(fd) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], 3) == -1)
			_exit(1);
		execl(self, self, "-C", conf, domain, mx, (char *)NULL);
		_exit(1);
	}
	close(fd[1]);
	if (read(fd[0], &us, sizeof(us)) != sizeof(us))
		us = -1;
	close(fd[0]);
	waitpid(pid, &st, 0);
	*total = now_us() - t;
	return us;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
show(const char *what, double *v, int n, double target)
{
	double	 med, p90;

	qsort(v, n, sizeof(*v), cmp);
	med = v[n / 2];
	p90 = v[n * 9 / 10];
	printf("%-6s n=%d median %.1f us, p90 %.1f us (target < %.0f us: "
	    "%s)\n", what, n, med, p90, target, med < target ? "met" :
	    "MISSED");
}

int
main(int argc, char *argv[])
{
	struct mtasts_ctx	*ctx;
	struct mtasts_answer	 ans;
	double			*v, *w, t;
	const char		*self = argv[0];
	int			 c, i, n = 200, is_child = 0;

	while ((c = getopt(argc, argv, "Cn:")) != -1)
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'C')
			is_child = 1;
	argc -= optind;
	argv += optind;
	if (is_child && argc == 3)
		return child(argv[0], argv[1], argv[2]);
	if (argc != 3 || n < 10) {
		fprintf(stderr, "usage: bench_exim [-n N] CONF DOMAIN MX\n");
		return 2;
	}
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (w = calloc(n, sizeof(*w))) == NULL)
		return 1;
	if (mtasts_ctx_open(argv[0], NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) != MTASTS_OK) {
		fprintf(stderr, "bench_exim: cannot open %s\n", argv[0]);
		return 1;
	}
	if (mtasts_resolve(ctx, argv[1], &ans) != MTASTS_OK ||
	    ans.policy == NULL) {
		fprintf(stderr, "bench_exim: no policy for %s\n", argv[1]);
		return 1;
	}
	printf("%s: mode %s from %s\n", argv[1], mtasts_mode_name(ans.mode),
	    mtasts_source_name(ans.source));
	mtasts_answer_clear(&ans);
	/* no open context may cross fork(): children start clean, as a
	   new Exim delivery process does */
	mtasts_ctx_close(ctx);
	for (i = 0; i < n; i++)
		if ((v[i] = fresh(self, argv[0], argv[1], argv[2],
		    &w[i])) < 0) {
			fprintf(stderr, "bench_exim: fresh run failed\n");
			return 1;
		}
	show("fresh", v, n, 1000);
	show("exec", w, n, 1e9);
	if (mtasts_ctx_open(argv[0], NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) != MTASTS_OK || once(ctx, argv[1], argv[2]) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		t = now_us();
		if (once(ctx, argv[1], argv[2]) != 0)
			return 1;
		v[i] = now_us() - t;
	}
	show("warm", v, n, 50);
	mtasts_ctx_close(ctx);
	free(v);
	free(w);
	return 0;
}
