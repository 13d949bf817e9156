/*
 * store_sync.c - the SQLite side of a fleet sync (store_sync.h).
 *
 * Results: the counters (store_tlsrpt.c) keep, per row, the part
 * already cut into a batch (tlsrpt.synced). store_sync_cut() moves what
 * each counter gained since (count - synced) into sync_rows under a new
 * batch number, in one transaction, so a crash leaves either the whole
 * batch or none. A batch stays until store_sync_sent(), which the
 * synchroniser calls only after PostgreSQL committed it; PostgreSQL
 * keys batches by (host, store id, number), so one pushed twice counts
 * once. Batch numbers come from AUTOINCREMENT and never repeat.
 *
 * Policies: store_sync_changed() lists the rows fetched or checked
 * since the last publish; store_sync_merge() takes a fleet row only when
 * it is newer, in one statement, so a policy this host fetched meanwhile
 * is never replaced by an older one. Delivery processes keep reading and
 * writing the same rows: every statement waits at most busy_ms.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sync.h"

static int	sync_exec(struct store *, const char *, const char *);
static int	sync_one_int(struct store *, const char *, long long *);
static long long sync_spooled(struct store *);

int
store_sync_id(struct store *st, char id[STORE_SYNC_ID_MAX + 1])
{
	sqlite3_stmt		*s = NULL;
	const unsigned char	*v;
	int			 rc;

	id[0] = '\0';
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM sync_meta"
	    " WHERE key = 'store_id'", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW &&
	    (v = sqlite3_column_text(s, 0)) != NULL)
		snprintf(id, STORE_SYNC_ID_MAX + 1, "%s", (const char *)v);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_fault(st, rc, "sync id");
	return id[0] != '\0' ? MTASTS_OK : MTASTS_ESTORE;
}

int
store_sync_meta_get(struct store *st, const char *key, long long *value)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	*value = 0;
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM sync_meta"
	    " WHERE key = ?1", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			*value = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fault(st, rc, "sync meta");
	return MTASTS_OK;
}

int
store_sync_meta_set(struct store *st, const char *key, long long value)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	if ((rc = store_write_allowed(st, "sync meta")) != MTASTS_OK)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO sync_meta"
	    " (key, value) VALUES (?1, ?2)", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, value);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fault(st, rc, "sync meta");
	return MTASTS_OK;
}

static int
sync_exec(struct store *st, const char *sql, const char *what)
{
	int	rc;

	if ((rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return store_fault(st, rc, what);
	return MTASTS_OK;
}

/* The one integer a query returns (0 when no row). */
static int
sync_one_int(struct store *st, const char *sql, long long *out)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	*out = 0;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fault(st, rc, sql);
	return MTASTS_OK;
}

int
store_sync_cut(struct store *st, long long *batch)
{
	long long	 n;
	int		 rc;

	*batch = 0;
	if ((rc = store_write_allowed(st, "sync cut")) != MTASTS_OK ||
	    (rc = store_tlsrpt_fold(st)) != MTASTS_OK)
		return rc;
	if ((rc = sync_exec(st, "BEGIN IMMEDIATE", "sync cut")) != MTASTS_OK)
		return rc;
	if ((rc = sync_one_int(st, "SELECT count(*) FROM tlsrpt"
	    " WHERE count > synced", &n)) != MTASTS_OK)
		goto fail;
	if (n == 0)
		return sync_exec(st, "COMMIT", "sync cut");
	if ((rc = sync_exec(st, "INSERT INTO sync_batches (created)"
	    " VALUES (strftime('%s', 'now'))", "sync cut")) != MTASTS_OK)
		goto fail;
	*batch = sqlite3_last_insert_rowid(st->db);
	if ((rc = sync_exec(st, "INSERT INTO sync_rows SELECT"
	    " (SELECT max(batch) FROM sync_batches), day, domain,"
	    " policy_type, result, mx, receiving_ip, sending_ip, detail,"
	    " count - synced FROM tlsrpt WHERE count > synced;"
	    "UPDATE tlsrpt SET synced = count WHERE count > synced",
	    "sync cut")) != MTASTS_OK ||
	    (rc = sync_exec(st, "COMMIT", "sync cut")) != MTASTS_OK)
		goto fail;
	return MTASTS_OK;
fail:
	*batch = 0;
	store_rollback(st, "sync cut rollback");
	return rc;
}

/* Frees the copies sync_batch_rows() made. */
static void
sync_rows_free(struct store_tlsrpt_row *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].domain);
		free((char *)v[i].policy_type);
		free((char *)v[i].result);
		free((char *)v[i].mx);
		free((char *)v[i].receiving_ip);
		free((char *)v[i].sending_ip);
		free((char *)v[i].detail);
	}
	free(v);
}

static char *
sync_col(sqlite3_stmt *s, int col)
{
	const unsigned char	*v = sqlite3_column_text(s, col);

	return strdup(v != NULL ? (const char *)v : "");
}

/* Copies the current row of sync_rows into r; -1 when out of memory. */
static int
sync_row(sqlite3_stmt *s, struct store_tlsrpt_row *r)
{
	r->day = sqlite3_column_int64(s, 0);
	r->domain = sync_col(s, 1);
	r->policy_type = sync_col(s, 2);
	r->result = sync_col(s, 3);
	r->mx = sync_col(s, 4);
	r->receiving_ip = sync_col(s, 5);
	r->sending_ip = sync_col(s, 6);
	r->detail = sync_col(s, 7);
	r->count = (unsigned long long)sqlite3_column_int64(s, 8);
	return r->domain == NULL || r->policy_type == NULL ||
	    r->result == NULL || r->mx == NULL || r->receiving_ip == NULL ||
	    r->sending_ip == NULL || r->detail == NULL ? -1 : 0;
}

/* The rows of one batch, copied, handed to cb. */
static int
sync_batch_rows(struct store *st, long long batch,
    int (*cb)(void *, long long, const struct store_tlsrpt_row *, size_t),
    void *arg)
{
	struct store_tlsrpt_row	*v = NULL, *nv;
	sqlite3_stmt		*s = NULL;
	size_t			 n = 0;
	int			 rc;

	rc = sqlite3_prepare_v2(st->db, "SELECT day, domain, policy_type,"
	    " result, mx, receiving_ip, sending_ip, detail, count"
	    " FROM sync_rows WHERE batch = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "sync batch");
	sqlite3_bind_int64(s, 1, batch);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			rc = MTASTS_ENOMEM;
			goto done;
		}
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		if (sync_row(s, &v[n++]) != 0) {
			rc = MTASTS_ENOMEM;
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = store_fault(st, rc, "sync batch");
		goto done;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = cb(arg, batch, v, n);
done:
	sqlite3_finalize(s);
	sync_rows_free(v, n);
	return rc;
}

int
store_sync_batch(struct store *st, long long after,
    int (*cb)(void *arg, long long batch,
    const struct store_tlsrpt_row *rows, size_t n), void *arg,
    long long *batch)
{
	char	sql[128];
	int	rc;

	snprintf(sql, sizeof(sql), "SELECT min(batch) FROM sync_batches"
	    " WHERE batch > %lld", after);
	if ((rc = sync_one_int(st, sql, batch)) != MTASTS_OK || *batch == 0)
		return rc;
	return sync_batch_rows(st, *batch, cb, arg);
}

int
store_sync_sent(struct store *st, long long batch)
{
	char	sql[160];
	int	rc;

	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE;"
	    "DELETE FROM sync_rows WHERE batch = %lld;"
	    "DELETE FROM sync_batches WHERE batch = %lld;COMMIT", batch,
	    batch);
	if ((rc = sync_exec(st, sql, "sync sent")) != MTASTS_OK)
		store_rollback(st, "sync sent rollback");
	return rc;
}

int
store_sync_changed(struct store *st, time_t since,
    int (*cb)(void *arg, const struct store_policy *p), void *arg)
{
	struct store_policy	 p;
	sqlite3_stmt		*s = NULL;
	const unsigned char	*v;
	int			 rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT domain, id, text, fetched,"
	    " expires, checked FROM policies WHERE text IS NOT NULL"
	    " AND max(fetched, checked) >= ?1 ORDER BY domain", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "sync changed");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		v = sqlite3_column_text(s, 0);
		snprintf(p.domain, sizeof(p.domain), "%s", v ? (const char *)v :
		    "");
		v = sqlite3_column_text(s, 1);
		snprintf(p.id, sizeof(p.id), "%s", v ? (const char *)v : "");
		p.text = (char *)sqlite3_column_text(s, 2);
		p.fetched = (time_t)sqlite3_column_int64(s, 3);
		p.expires = (time_t)sqlite3_column_int64(s, 4);
		p.checked = (time_t)sqlite3_column_int64(s, 5);
		if (p.text != NULL && p.id[0] != '\0')
			stop = cb(arg, &p);
	}
	if (stop || rc == SQLITE_DONE)
		rc = MTASTS_OK;
	else
		rc = store_fault(st, rc, "sync changed");
	sqlite3_finalize(s);
	return rc;
}

/*
 * One UPSERT: a new row, or the fleet's newer policy over ours. The
 * failure back-off of our row is kept.
 */
int
store_sync_merge(struct store *st, const struct store_policy *p,
    int *taken)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	*taken = 0;
	if (!store_name_ok(p->domain) || p->text == NULL)
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "sync merge")) != MTASTS_OK)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO policies AS o (domain,"
	    " id, text, fetched, expires, checked) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6) ON CONFLICT (domain) DO UPDATE SET id = excluded.id,"
	    " text = excluded.text, fetched = excluded.fetched,"
	    " expires = excluded.expires, checked = max(o.checked,"
	    " excluded.checked)"
	    " WHERE o.text IS NULL OR excluded.fetched > o.fetched"
	    " OR (excluded.fetched = o.fetched AND excluded.id > o.id)"
	    " OR (excluded.fetched = o.fetched AND excluded.id = o.id"
	    " AND excluded.checked > o.checked)", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, p->domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, p->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, p->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)p->fetched);
		sqlite3_bind_int64(s, 5, (sqlite3_int64)p->expires);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)p->checked);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fault(st, rc, "sync merge");
	*taken = sqlite3_changes(st->db) > 0;
	return MTASTS_OK;
}

int
store_sync_waiting(struct store *st, struct store_sync_waiting *w)
{
	int	rc;

	memset(w, 0, sizeof(*w));
	if ((rc = sync_one_int(st, "SELECT count(*) FROM sync_batches",
	    &w->batches)) != MTASTS_OK ||
	    (rc = sync_one_int(st, "SELECT coalesce(sum(count), 0)"
	    " FROM sync_rows", &w->batch_sessions)) != MTASTS_OK ||
	    (rc = sync_one_int(st, "SELECT coalesce(sum(count - synced), 0)"
	    " FROM tlsrpt", &w->uncut_sessions)) != MTASTS_OK)
		return rc;
	w->spooled = sync_spooled(st);
	return MTASTS_OK;
}

/* Bytes in the spool and in folds left behind, not yet in the counters. */
static long long
sync_spooled(struct store *st)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;
	char		*dup, *dir, path[4096];
	const char	*base;
	long long	 total = 0;

	if (stat(st->spool, &sb) == 0)
		total += (long long)sb.st_size;
	if ((dup = strdup(st->spool)) == NULL)
		return total;
	dir = dirname(dup);
	base = strrchr(st->spool, '/') ? strrchr(st->spool, '/') + 1 :
	    st->spool;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, base, strlen(base)) == 0 &&
			    strncmp(de->d_name + strlen(base), ".fold-", 6) ==
			    0 && snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) < (int)sizeof(path) &&
			    stat(path, &sb) == 0)
				total += (long long)sb.st_size;
		closedir(d);
	}
	free(dup);
	return total;
}
