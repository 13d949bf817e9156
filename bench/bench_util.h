/*
 * bench_util.h - small helpers shared by the bench programs: a monotonic
 * clock in microseconds, percentiles of a sample array, the bench domain
 * names and the resident memory of a process. Header-only (static).
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-th quantile (0..1) of n samples; sorts v. */
static inline double
quantile(double *v, size_t n, double q)
{
	size_t	i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* The i-th (0-based) bench domain of labgen.py bulk. */
static inline void
bench_domain(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "b%04zu.bench.test", i + 1);
}

/* VmRSS, VmHWM and RssAnon (the heap, not the mapped libraries) of
 * pid (0: this process) in KiB; -1 when unknown. */
static inline void
proc_mem(long pid, long *rss, long *hwm, long *anon)
{
	char	 path[64], line[256];
	FILE	*f;

	*rss = *hwm = *anon = -1;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			*anon = atol(line + 8);
	}
	fclose(f);
}

#endif /* BENCH_UTIL_H */
