/*
 * store_tlsrpt.c - the TLS-RPT counters (RFC 8460): one row per UTC day
 * and result key, added to by store_tlsrpt_add() and by the fold of the
 * spool that mtasts_tlsrpt_record() appends to (tlsrpt_spool.c reads
 * it, the callbacks here write it, one transaction per spool file), read
 * a day at a time for reports and purged by day. The fold also adds
 * each result to the cumulative counters of the metrics
 * (store_counter.c), in the same transaction. Reporting fails open:
 * a read-only store leaves the spool for a process that can write.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/tlsrpt_spool.h"

static const char *store_text(sqlite3_stmt *s, int col);
static int	store_fold_begin(void *arg);
static int	store_fold_add(void *arg, const struct store_tlsrpt_row *r);
static int	store_fold_commit(void *arg);
static void	store_fold_rollback(void *arg);

static const char *
store_text(sqlite3_stmt *s, int col)
{
	const unsigned char	*v = sqlite3_column_text(s, col);

	return v != NULL ? (const char *)v : "";
}

/*
 * The spool that mtasts_tlsrpt_record() appends to; NULL when the store
 * cannot be written (said once), as store_tlsrpt_add() would fail.
 */
const char *
store_tlsrpt_spool(struct store *st)
{
	if (store_write_allowed(st, "tlsrpt") != MTASTS_OK)
		return NULL;
	return st->spool;
}

/* The tag of the spool lines of this database file: */
const char *
store_tlsrpt_spool_tag(struct store *st)
{
	return st->spool_tag;
}

/*
 * Moves the spooled results into the counters (tlsrpt_spool.c reads the
 * lines, the callbacks below write them, one transaction per spool
 * file). A read-only store leaves the spool for a process that can.
 */
int
store_tlsrpt_fold(struct store *st)
{
	struct tlsrpt_spool_sink	sink;

	if (st->readonly)
		return MTASTS_OK;
	sink.begin = store_fold_begin;
	sink.add = store_fold_add;
	sink.commit = store_fold_commit;
	sink.rollback = store_fold_rollback;
	sink.arg = st;
	return tlsrpt_spool_fold(st->spool, st->spool_tag, st->lg, &sink);
}

static int
store_fold_begin(void *arg)
{
	struct store	*st = arg;

	return store_exec_stmt(st, SQL_BEGIN, "tlsrpt fold");
}

/* The day's counter of r's key and the cumulative one of the metrics. */
static int
store_fold_add(void *arg, const struct store_tlsrpt_row *r)
{
	struct store_counter_row	c;
	int				rc;

	/* a row the store refuses is skipped as a malformed line is */
	if ((rc = store_tlsrpt_add(arg, r)) == MTASTS_EINVAL)
		return MTASTS_OK;
	if (rc != MTASTS_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.name = "session";
	c.domain = r->domain;
	c.policy_type = r->policy_type;
	c.mode = r->mode != NULL ? r->mode : "unknown";
	c.result = r->result;
	c.deferred = r->deferred;
	c.count = r->count;
	return store_counter_add(arg, &c);
}

static int
store_fold_commit(void *arg)
{
	struct store	*st = arg;

	return store_exec_stmt(st, SQL_COMMIT, "tlsrpt fold");
}

static void
store_fold_rollback(void *arg)
{
	struct store	*st = arg;

	store_rollback(st, "tlsrpt fold rollback");
}

/* One UPSERT in autocommit: the cost of a result on the delivery path. */
int
store_tlsrpt_add(struct store *st, const struct store_tlsrpt_row *r)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (!store_name_ok(r->domain) || r->policy_type == NULL ||
	    r->result == NULL || r->count == 0)
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "tlsrpt")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_TLSRPT_ADD);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)r->day);
	sqlite3_bind_text(s, 2, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->policy_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->mx ? r->mx : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->receiving_ip ? r->receiving_ip : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->sending_ip ? r->sending_ip : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 8, r->detail ? r->detail : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)r->count);
	return store_run(st, SQL_TLSRPT_ADD, "tlsrpt add");
}

/*
 * The rows of one day in key order (so a domain's rows are together);
 * a statement of its own, as store_list().
 */
int
store_tlsrpt_day(struct store *st, long long day,
    int (*cb)(void *arg, const struct store_tlsrpt_row *r), void *arg)
{
	struct store_tlsrpt_row	 r;
	sqlite3_stmt		*s = NULL;
	int			 rc, stop = 0;

	if ((rc = store_tlsrpt_fold(st)) != MTASTS_OK)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "SELECT domain, policy_type, result,"
	    " mx, receiving_ip, sending_ip, detail, count FROM tlsrpt"
	    " WHERE day = ?1 ORDER BY domain, policy_type, result, mx,"
	    " receiving_ip, sending_ip, detail", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "tlsrpt day");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)day);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.day = day;
		r.domain = store_text(s, 0);
		r.policy_type = store_text(s, 1);
		r.result = store_text(s, 2);
		r.mx = store_text(s, 3);
		r.receiving_ip = store_text(s, 4);
		r.sending_ip = store_text(s, 5);
		r.detail = store_text(s, 6);
		r.count = (unsigned long long)sqlite3_column_int64(s, 7);
		if ((stop = cb(arg, &r)) != 0)
			break;
	}
	if (stop != 0 || rc == SQLITE_DONE)
		rc = MTASTS_OK;
	else
		rc = store_fault(st, rc, "tlsrpt day");
	sqlite3_finalize(s);
	return rc;
}

/* Drops the counters of the days before day. */
int
store_tlsrpt_purge(struct store *st, long long day)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	if ((rc = store_write_allowed(st, "tlsrpt purge")) != MTASTS_OK ||
	    (rc = store_tlsrpt_fold(st)) != MTASTS_OK)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM tlsrpt WHERE day < ?1",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "tlsrpt purge");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)day);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fault(st, rc, "tlsrpt purge");
	return MTASTS_OK;
}
