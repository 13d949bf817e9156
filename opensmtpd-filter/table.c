/*
 * table.c - the routing table of policy domains (see table.h): a sorted
 * array of domains in memory, written as an smtpd "db:" list table.
 */
#include <sys/stat.h>

#include <db_185.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "table.h"

#define TABLE_VALUE	"<set>"

struct table {
	char	 *path;
	char	**dom;		/* sorted, lower case */
	size_t	  n;
	size_t	  cap;
	time_t	  written;	/* mtime given at the last write */
};

static int	 table_find(const struct table *, const char *, size_t *);
static int	 table_insert(struct table *, const char *);
static void	 table_load(struct table *);
static int	 table_dump(struct table *, const char *);
static int	 table_touch(struct table *, const char *);

/* Binary search: 1 and the index when found, 0 and the insert point. */
static int
table_find(const struct table *t, const char *domain, size_t *at)
{
	size_t	lo = 0, hi = t->n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(domain, t->dom[mid])) == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return 0;
}

static int
table_insert(struct table *t, const char *domain)
{
	char	**v;
	size_t	  at;

	if (table_find(t, domain, &at))
		return 0;
	if (t->n == t->cap) {
		v = reallocarray(t->dom, t->cap ? t->cap * 2 : 16, sizeof(*v));
		if (v == NULL)
			return -1;
		t->dom = v;
		t->cap = t->cap ? t->cap * 2 : 16;
	}
	memmove(t->dom + at + 1, t->dom + at, (t->n - at) * sizeof(*t->dom));
	if ((t->dom[at] = strdup(domain)) == NULL) {
		memmove(t->dom + at, t->dom + at + 1,
		    (t->n - at) * sizeof(*t->dom));
		return -1;
	}
	t->n++;
	return 1;
}

/* Reads the keys of an existing table; a bad file leaves it empty. */
static void
table_load(struct table *t)
{
	DB	*db;
	DBT	 k, v;
	char	 key[256];
	int	 rc;

	if ((db = dbopen(t->path, O_RDONLY, 0, DB_HASH, NULL)) == NULL) {
		if (errno != ENOENT)
			filter_log(MTASTS_LOG_WARN, "table %s: cannot read (%s);"
			    " starting empty", t->path, strerror(errno));
		return;
	}
	for (rc = db->seq(db, &k, &v, R_FIRST); rc == 0;
	    rc = db->seq(db, &k, &v, R_NEXT)) {
		if (k.size == 0 || k.size >= sizeof(key))
			continue;
		memcpy(key, k.data, k.size);
		key[k.size] = '\0';
		if (table_insert(t, key) == -1)
			break;
	}
	if (rc == -1)
		filter_log(MTASTS_LOG_WARN, "table %s: read error, %zu domains"
		    " kept", t->path, t->n);
	db->close(db);
}

struct table *
table_open(const char *path)
{
	struct table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->path = strdup(path)) == NULL) {
		free(t);
		return NULL;
	}
	table_load(t);
	return t;
}

void
table_close(struct table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->dom[i]);
	free(t->dom);
	free(t->path);
	free(t);
}

/* Writes every domain into a new db file at tmp. */
static int
table_dump(struct table *t, const char *tmp)
{
	DB	*db;
	DBT	 k, v;
	size_t	 i;
	int	 rc = 0;

	(void)unlink(tmp);
	db = dbopen(tmp, O_CREAT | O_EXCL | O_RDWR, 0644, DB_HASH, NULL);
	if (db == NULL)
		return -1;
	for (i = 0; i < t->n && rc == 0; i++) {
		k.data = t->dom[i];
		k.size = strlen(t->dom[i]) + 1;
		v.data = (void *)(uintptr_t)TABLE_VALUE;
		v.size = sizeof(TABLE_VALUE);
		rc = db->put(db, &k, &v, 0);
	}
	if (rc == 0)
		rc = db->sync(db, 0);
	if (db->close(db) != 0)
		rc = -1;
	return rc == 0 ? 0 : -1;
}

/*
 * Gives tmp an mtime at least a second newer than the file it replaces
 * (and than our last write), so that smtpd sees a new mtime.
 */
static int
table_touch(struct table *t, const char *tmp)
{
	struct timespec	ts[2];
	struct stat	sb;
	time_t		when = time(NULL);

	if (stat(t->path, &sb) == 0 && sb.st_mtime >= when)
		when = sb.st_mtime + 1;
	if (t->written >= when)
		when = t->written + 1;
	ts[0].tv_sec = ts[1].tv_sec = when;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, tmp, ts, 0) == -1)
		return -1;
	t->written = when;
	return 0;
}

int
table_write(struct table *t)
{
	char	tmp[4096];
	int	n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		goto fail;
	if (table_dump(t, tmp) == -1 || table_touch(t, tmp) == -1 ||
	    rename(tmp, t->path) == -1)
		goto fail;
	filter_log(MTASTS_LOG_DEBUG, "table %s: written, %zu domains",
	    t->path, t->n);
	return 0;
fail:
	filter_log(MTASTS_LOG_ERR, "table %s: cannot write: %s", t->path,
	    strerror(errno));
	(void)unlink(tmp);
	return -1;
}

int
table_has(const struct table *t, const char *domain)
{
	size_t	at;

	return table_find(t, domain, &at);
}

int
table_add(struct table *t, const char *domain)
{
	size_t	at;

	switch (table_insert(t, domain)) {
	case 0:
		return 0;
	case 1:
		break;
	default:
		return -1;
	}
	if (table_write(t) == 0)
		return 0;
	/* not on disk: forget it, so that the next message tries again */
	if (table_find(t, domain, &at)) {
		free(t->dom[at]);
		memmove(t->dom + at, t->dom + at + 1,
		    (t->n - at - 1) * sizeof(*t->dom));
		t->n--;
	}
	return -1;
}

int
table_del(struct table *t, const char *domain)
{
	size_t	at;

	if (!table_find(t, domain, &at))
		return 0;
	free(t->dom[at]);
	memmove(t->dom + at, t->dom + at + 1,
	    (t->n - at - 1) * sizeof(*t->dom));
	t->n--;
	return table_write(t);
}

size_t
table_count(const struct table *t)
{
	return t->n;
}

const char *
table_domain(const struct table *t, size_t i)
{
	return i < t->n ? t->dom[i] : NULL;
}
