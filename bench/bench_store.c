/*
 * bench_store.c - what a warm store_get() costs, beside its floor: the
 * same SELECT of the same row through SQLite alone (one prepared
 * statement, the row's columns read, the text copied as store_get()
 * copies it), on the same database file in the same run.
 *
 *	bench_store [N [REPS]]
 *
 * Makes a store in a fresh folder under TMPDIR (or /tmp), puts one
 * enforce policy, then REPS times (3) each, alternating: N (100000)
 * store_get() calls, and N floor SELECTs. Prints "key value" lines:
 * the median per-call time of each in microseconds and their ratio.
 * Moved here from tests/unit/test_store.c, where a bound on time was
 * an assertion that a loaded machine could fail. A figure, not a test:
 * the exit status is 1 only when the run could not be done.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "bench_util.h"

#define REPS_MAX	100

static const char	 bench_text[] = "version: STSv1\nmode: enforce\n"
			     "mx: mx.example.com\nmax_age: 86400\n";

static int	bench_setup(const char *dir, char *path, size_t len,
		    struct store **st);
static double	bench_ours(struct store *st, long n);
static double	bench_floor(const char *path, long n);

/* A store with one row; path is its file. */
static int
bench_setup(const char *dir, char *path, size_t len, struct store **st)
{
	struct store_policy	p;

	snprintf(path, len, "%s/store.db", dir);
	if (store_open(path, 1000, NULL, st) != MTASTS_OK)
		return -1;
	memset(&p, 0, sizeof(p));
	snprintf(p.domain, sizeof(p.domain), "example.com");
	snprintf(p.id, sizeof(p.id), "20240101");
	p.text = (char *)bench_text;
	p.fetched = 1;
	p.expires = 1 + 86400;
	p.checked = 1;
	return store_put(*st, &p) == MTASTS_OK ? 0 : -1;
}

/* Microseconds per warm store_get(); -1 on a wrong answer. */
static double
bench_ours(struct store *st, long n)
{
	struct store_policy	out;
	double			t;
	long			i;

	t = now_us();
	for (i = 0; i < n; i++) {
		if (store_get(st, "example.com", &out) != MTASTS_OK ||
		    out.text == NULL)
			return -1;
		store_policy_clear(&out);
	}
	return (now_us() - t) / (double)n;
}

/* The same through SQLite alone, on a connection of its own. */
static double
bench_floor(const char *path, long n)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	char		*copy;
	double		 t = -1;
	long		 i;
	volatile long long sink = 0;	/* the columns are really read */

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "SELECT domain, id, text, fetched, "
	    "expires, checked, failed, failed_id FROM policies WHERE "
	    "domain = ?1", -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK)
		goto done;
	t = now_us();
	for (i = 0; i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, "example.com", -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW ||
		    (copy = strdup((const char *)sqlite3_column_text(s, 2)))
		    == NULL) {
			t = -1;
			goto done;
		}
		sink += sqlite3_column_bytes(s, 0) +
		    sqlite3_column_bytes(s, 1) + sqlite3_column_bytes(s, 7) +
		    sqlite3_column_int64(s, 3) + sqlite3_column_int64(s, 4) +
		    sqlite3_column_int64(s, 5) + sqlite3_column_int64(s, 6);
		free(copy);
	}
	t = (now_us() - t) / (double)n;
done:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return t;
}

int
main(int argc, char *argv[])
{
	double		 ours[REPS_MAX], floor_[REPS_MAX], o, f;
	char		 dir[256], path[300];
	const char	*tmp = getenv("TMPDIR");
	struct store	*st = NULL;
	long		 n = argc > 1 ? atol(argv[1]) : 100000;
	int		 r, reps = argc > 2 ? atoi(argv[2]) : 3, status = 1;

	if (n < 1 || reps < 1 || reps > REPS_MAX) {
		fprintf(stderr, "usage: bench_store [N [REPS (1-%d)]]\n",
		    REPS_MAX);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/bench_store.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (bench_setup(dir, path, sizeof(path), &st) == -1) {
		fprintf(stderr, "bench_store: cannot set up %s\n", path);
		goto done;
	}
	for (r = 0; r < reps; r++) {
		if ((ours[r] = bench_ours(st, n)) < 0 ||
		    (floor_[r] = bench_floor(path, n)) < 0) {
			fprintf(stderr, "bench_store: a read failed\n");
			goto done;
		}
	}
	o = quantile(ours, (size_t)reps, 0.5);
	f = quantile(floor_, (size_t)reps, 0.5);
	printf("store_get_warm_us %.3f\n", o);
	printf("sqlite_select_floor_us %.3f\n", f);
	printf("store_get_over_floor %.2f\n", f > 0 ? o / f : 0);
	printf("calls %ld reps %d\n", n, reps);
	status = 0;
done:
	store_close(st);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return status;
}
