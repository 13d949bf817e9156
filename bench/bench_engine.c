/*
 * bench_engine.c - figures for the resolution engine (libmtasts) on the
 * lab's bulk domains bNNNN.bench.test (labgen.py bulk).
 *
 *	bench_engine CONF N seq		cold, one domain at a time through
 *					mtasts_resolve(); the store must be
 *					empty
 *	bench_engine CONF N async J	cold, J in flight through
 *					mtasts_resolve_async() and a poll
 *					loop; the store must be empty
 *	bench_engine CONF N warm R	R rounds of mtasts_resolve() over the
 *					N domains on a warm store (CONF sets a
 *					large check_interval, so each is a
 *					pure cache answer)
 *
 * Each prints "key value" lines (times in microseconds or milliseconds
 * as the key says, memory in KiB) for bench/run.sh, and the resident
 * memory of this process, which holds the engine, at the end. Answers
 * that are not enforce (or, warm, not from the cache) are counted as
 * errors and the first few are shown on stderr. BENCH_SMAPS=FILE saves
 * /proc/self/smaps there at the end; BENCH_LOG=1 shows the engine's log
 * (debug) on stderr with times.
 */
#include <sys/resource.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "bench_util.h"

struct slot {
	double		 t0;
	size_t		 idx;
	int		 busy;
};

static struct mtasts_ctx *ctx;
static size_t	 nerr, ndone;
static double	*lat;
static double	 t_start;	/* for the BENCH_LOG times */

static void	 check(size_t, int, const struct mtasts_answer *,
		    enum mtasts_source);
static int	 run_seq(size_t);
static int	 run_async(size_t, size_t);
static int	 run_warm(size_t, size_t);
static void	 on_answer(void *, int, struct mtasts_answer *);
static void	 print_mem(void);
static void	 log_line(void *, enum mtasts_loglevel, const char *);
static void	 save_smaps(void);

static void
check(size_t i, int rc, const struct mtasts_answer *ans,
    enum mtasts_source want)
{
	char	d[64];

	if (rc == MTASTS_OK && ans->mode == MTASTS_MODE_ENFORCE &&
	    ans->source == want)
		return;
	if (nerr++ < 5) {
		bench_domain(i, d, sizeof(d));
		fprintf(stderr, "bench_engine: %s: rc %d mode %s source %s: "
		    "%s\n", d, rc, mtasts_mode_name(ans->mode),
		    mtasts_source_name(ans->source), ans->why);
	}
}

static int
run_seq(size_t n)
{
	struct mtasts_answer	 ans;
	char			 d[64];
	double			 t0, t1, start;
	size_t			 i;
	int			 rc;

	start = now_us();
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		t0 = now_us();
		rc = mtasts_resolve(ctx, d, &ans);
		t1 = now_us();
		lat[i] = t1 - t0;
		check(i, rc, &ans, MTASTS_SRC_NETWORK);
		mtasts_answer_clear(&ans);
	}
	printf("cold_seq_total_ms %.1f\n", (now_us() - start) / 1e3);
	printf("cold_seq_p50_us %.0f\n", quantile(lat, n, 0.50));
	printf("cold_seq_p99_us %.0f\n", quantile(lat, n, 0.99));
	return 0;
}

static void
on_answer(void *arg, int err, struct mtasts_answer *ans)
{
	struct slot	*s = arg;

	lat[s->idx] = now_us() - s->t0;
	if (getenv("BENCH_LOG") != NULL)
		fprintf(stderr, "%10.3f done %zu after %.3f ms\n",
		    (now_us() - t_start) / 1e3, s->idx, lat[s->idx] / 1e3);
	check(s->idx, err, ans, MTASTS_SRC_NETWORK);
	mtasts_answer_clear(ans);
	s->busy = 0;
	ndone++;
}

static int
run_async(size_t n, size_t j)
{
	struct slot	*slots;
	struct pollfd	 pfd;
	char		 d[64];
	double		 start;
	size_t		 next = 0, k;
	int		 fd, rc;

	if ((slots = calloc(j, sizeof(*slots))) == NULL)
		return -1;
	if ((fd = mtasts_async_fd(ctx)) < 0) {
		fprintf(stderr, "bench_engine: no async fd\n");
		free(slots);
		return -1;
	}
	start = now_us();
	while (ndone < n) {
		for (k = 0; k < j && next < n; k++) {
			if (slots[k].busy)
				continue;
			slots[k].busy = 1;
			slots[k].idx = next;
			slots[k].t0 = now_us();
			bench_domain(next++, d, sizeof(d));
			if (getenv("BENCH_LOG") != NULL)
				fprintf(stderr, "%10.3f start %s\n",
				    (slots[k].t0 - t_start) / 1e3, d);
			rc = mtasts_resolve_async(ctx, d, on_answer,
			    &slots[k]);
			if (rc != MTASTS_OK) {
				fprintf(stderr, "bench_engine: %s: %s\n", d,
				    mtasts_strerror(rc));
				slots[k].busy = 0;
				nerr++;
				ndone++;
			}
		}
		if (ndone >= n)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) < 0)
			break;
		mtasts_async_process(ctx);
	}
	printf("cold_async_total_ms %.1f\n", (now_us() - start) / 1e3);
	printf("cold_async_p50_us %.0f\n", quantile(lat, n, 0.50));
	printf("cold_async_p99_us %.0f\n", quantile(lat, n, 0.99));
	free(slots);
	return 0;
}

static int
run_warm(size_t n, size_t rounds)
{
	struct mtasts_answer	 ans;
	char			 d[64];
	double			*v, t0, start, total;
	size_t			 i, r, m = 0;
	int			 rc;

	if ((v = calloc(n * rounds, sizeof(*v))) == NULL)
		return -1;
	/* one untimed pass: the process's own first touch of each row */
	for (i = 0; i < n; i++) {
		bench_domain(i, d, sizeof(d));
		rc = mtasts_resolve(ctx, d, &ans);
		check(i, rc, &ans, MTASTS_SRC_CACHE);
		mtasts_answer_clear(&ans);
	}
	start = now_us();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++) {
			bench_domain(i, d, sizeof(d));
			t0 = now_us();
			rc = mtasts_resolve(ctx, d, &ans);
			v[m++] = now_us() - t0;
			check(i, rc, &ans, MTASTS_SRC_CACHE);
			mtasts_answer_clear(&ans);
		}
	total = now_us() - start;
	printf("warm_lookups %zu\n", m);
	printf("warm_per_s %.0f\n", (double)m / (total / 1e6));
	printf("warm_p50_us %.2f\n", quantile(v, m, 0.50));
	printf("warm_p99_us %.2f\n", quantile(v, m, 0.99));
	free(v);
	return 0;
}

/* With BENCH_SMAPS=FILE, a copy of /proc/self/smaps (where the memory
 * is, mapping by mapping) goes to FILE. */
static void
save_smaps(void)
{
	const char	*path = getenv("BENCH_SMAPS");
	FILE		*in, *out;
	char		 buf[4096];
	size_t		 n;

	if (path == NULL || (in = fopen("/proc/self/smaps", "r")) == NULL)
		return;
	if ((out = fopen(path, "w")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(in);
}

/* With BENCH_LOG set, the engine's log (debug and up) with the time in
 * ms since the start, on stderr: where a slow resolution spent it. */
static void
log_line(void *arg, enum mtasts_loglevel level, const char *msg)
{
	fprintf(stderr, "%10.3f %s\n", (now_us() - t_start) / 1e3, msg);
}

static void
print_mem(void)
{
	struct rusage	ru;
	long		rss, hwm, anon;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("cpu_ms %.0f\n", (ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec +
		    ru.ru_stime.tv_usec) / 1e3);
	proc_mem(0, &rss, &hwm, &anon);
	printf("vmrss_kib %ld\n", rss);
	printf("vmhwm_kib %ld\n", hwm);
	printf("rssanon_kib %ld\n", anon);
	save_smaps();
}

int
main(int argc, char **argv)
{
	struct mtasts_diag	 diag;
	size_t			 n;
	int			 rc;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_engine CONF N seq|async J|"
		    "warm R\n");
		return 2;
	}
	t_start = now_us();
	n = strtoul(argv[2], NULL, 10);
	if (n == 0 || (lat = calloc(n, sizeof(*lat))) == NULL)
		return 2;
	memset(&diag, 0, sizeof(diag));
	rc = mtasts_ctx_open(argv[1], getenv("BENCH_LOG") ? log_line : NULL,
	    NULL, MTASTS_LOG_DEBUG, &ctx, &diag);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "bench_engine: %s: %s\n", argv[1],
		    diag.error.msg[0] ? diag.error.msg : mtasts_strerror(rc));
		return 1;
	}
	if (strcmp(argv[3], "seq") == 0)
		rc = run_seq(n);
	else if (strcmp(argv[3], "async") == 0 && argc == 5)
		rc = run_async(n, strtoul(argv[4], NULL, 10));
	else if (strcmp(argv[3], "warm") == 0 && argc == 5)
		rc = run_warm(n, strtoul(argv[4], NULL, 10));
	else {
		fprintf(stderr, "bench_engine: unknown mode %s\n", argv[3]);
		rc = -1;
	}
	print_mem();
	printf("errors %zu\n", nerr);
	mtasts_ctx_close(ctx);
	free(lat);
	return rc == 0 ? 0 : 1;
}
