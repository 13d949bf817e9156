/*
 * store_policy.c - the policy cache (RFC 8461 section 5.1) and the fetch
 * leases: one row per policy domain, read on every delivery with a kept
 * statement, written when a policy is fetched, its TXT id checked or a
 * fetch failed. A lease keeps concurrent processes from fetching the
 * same domain at once. A fetched policy is stored in the transaction
 * that also counts the fetch for the metrics (store_counter.c). Every
 * write fails with MTASTS_ESTORE on a read-only store (store.c says so
 * once).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

static int	store_row(struct store *st, sqlite3_stmt *s,
		    struct store_policy *out);
static int	store_copy(char *dst, size_t size, sqlite3_stmt *s, int col);
static int	store_count_fetch(struct store *st, const char *domain);

int
store_get(struct store *st, const char *domain, struct store_policy *out)
{
	sqlite3_stmt	*s;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if (!store_name_ok(domain))
		return MTASTS_EINVAL;
	s = store_stmt(st, SQL_GET);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = MTASTS_ENOTFOUND;
	else if (rc == SQLITE_ROW)
		rc = store_row(st, s, out);
	else
		rc = store_fault(st, rc, "get");
	sqlite3_reset(s);
	return rc;
}

/* Copies the current row of a policies SELECT into out. */
static int
store_row(struct store *st, sqlite3_stmt *s, struct store_policy *out)
{
	const unsigned char	*text;

	memset(out, 0, sizeof(*out));
	if (store_copy(out->domain, sizeof(out->domain), s, 0) != 0 ||
	    store_copy(out->id, sizeof(out->id), s, 1) != 0 ||
	    store_copy(out->failed_id, sizeof(out->failed_id), s, 7) != 0) {
		log_err(st->lg, "store %s: a row has an overlong field",
		    st->path);
		return MTASTS_ESTORE;
	}
	if ((text = sqlite3_column_text(s, 2)) != NULL &&
	    (out->text = strdup((const char *)text)) == NULL)
		return MTASTS_ENOMEM;
	out->fetched = (time_t)sqlite3_column_int64(s, 3);
	out->expires = (time_t)sqlite3_column_int64(s, 4);
	out->checked = (time_t)sqlite3_column_int64(s, 5);
	out->failed = (time_t)sqlite3_column_int64(s, 6);
	return MTASTS_OK;
}

static int
store_copy(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const unsigned char	*v = sqlite3_column_text(s, col);
	size_t			 n = (size_t)sqlite3_column_bytes(s, col);

	if (v == NULL) {
		*dst = '\0';
		return 0;
	}
	if (n >= size)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

void
store_policy_clear(struct store_policy *p)
{
	if (p == NULL)
		return;
	free(p->text);
	memset(p, 0, sizeof(*p));
}

/* Binds p to SQL_PUT; MTASTS_EINVAL for a row that cannot be stored. */
static int
store_bind_put(struct store *st, const struct store_policy *p)
{
	sqlite3_stmt	*s;

	if (!store_name_ok(p->domain) ||
	    strnlen(p->id, sizeof(p->id)) > MTASTS_ID_MAX ||
	    strnlen(p->failed_id, sizeof(p->failed_id)) > MTASTS_ID_MAX)
		return MTASTS_EINVAL;
	s = store_stmt(st, SQL_PUT);
	sqlite3_bind_text(s, 1, p->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->id, -1, SQLITE_STATIC);
	if (p->text != NULL)
		sqlite3_bind_text(s, 3, p->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)p->fetched);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)p->expires);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)p->checked);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)p->failed);
	sqlite3_bind_text(s, 8, p->failed_id, -1, SQLITE_STATIC);
	return MTASTS_OK;
}

int
store_put(struct store *st, const struct store_policy *p)
{
	int	rc;

	if ((rc = store_write_allowed(st, "put")) != MTASTS_OK ||
	    (rc = store_bind_put(st, p)) != MTASTS_OK)
		return rc;
	return store_run(st, SQL_PUT, "put");
}

/* One successful fetch of domain, for the metrics. */
static int
store_count_fetch(struct store *st, const char *domain)
{
	struct store_counter_row	c;

	memset(&c, 0, sizeof(c));
	c.name = "fetch";
	c.domain = domain;
	c.result = "success";
	c.count = 1;
	return store_counter_add(st, &c);
}

/*
 * store_put() and store_release() in one transaction: a fetched policy
 * is stored and its lease dropped with one commit instead of two, and
 * the fetch is counted for the metrics in the same commit.
 */
int
store_put_release(struct store *st, const struct store_policy *p)
{
	sqlite3_stmt	*s;
	int		 rc;

	if ((rc = store_write_allowed(st, "put")) != MTASTS_OK)
		return rc;
	if ((rc = store_exec_stmt(st, SQL_BEGIN, "put")) != MTASTS_OK)
		return rc;
	if ((rc = store_bind_put(st, p)) != MTASTS_OK ||
	    (rc = store_run(st, SQL_PUT, "put")) != MTASTS_OK)
		goto fail;
	s = store_stmt(st, SQL_RELEASE);
	sqlite3_bind_text(s, 1, p->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, st->owner);
	if ((rc = store_run(st, SQL_RELEASE, "release")) != MTASTS_OK ||
	    (rc = store_count_fetch(st, p->domain)) != MTASTS_OK)
		goto fail;
	if ((rc = store_exec_stmt(st, SQL_COMMIT, "put")) != MTASTS_OK)
		goto fail;
	return MTASTS_OK;
fail:
	store_rollback(st, "put rollback");
	return rc;
}

int
store_touch(struct store *st, const char *domain, time_t when)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (!store_name_ok(domain))
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "touch")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_TOUCH);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)when);
	if ((rc = store_run(st, SQL_TOUCH, "touch")) != MTASTS_OK)
		return rc;
	return sqlite3_changes(st->db) > 0 ? MTASTS_OK : MTASTS_ENOTFOUND;
}

int
store_fail(struct store *st, const char *domain, const char *id,
    time_t when)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (!store_name_ok(domain) || id == NULL ||
	    strlen(id) > MTASTS_ID_MAX)
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "fail")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_FAIL);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)when);
	return store_run(st, SQL_FAIL, "fail");
}

int
store_forget(struct store *st, const char *domain)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (!store_name_ok(domain))
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "forget")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_FORGET);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if ((rc = store_run(st, SQL_FORGET, "forget")) != MTASTS_OK)
		return rc;
	return sqlite3_changes(st->db) > 0 ? MTASTS_OK : MTASTS_ENOTFOUND;
}

int
store_flush(struct store *st)
{
	int	rc;

	if ((rc = store_write_allowed(st, "flush")) != MTASTS_OK)
		return rc;
	if ((rc = store_exec_stmt(st, SQL_BEGIN, "flush")) != MTASTS_OK)
		return rc;
	if ((rc = store_exec_stmt(st, SQL_FLUSH_POLICIES, "flush")) !=
	    MTASTS_OK ||
	    (rc = store_exec_stmt(st, SQL_FLUSH_LEASES, "flush")) != MTASTS_OK)
		goto fail;
	if ((rc = store_exec_stmt(st, SQL_COMMIT, "flush")) != MTASTS_OK)
		goto fail;
	return MTASTS_OK;
fail:
	store_rollback(st, "flush rollback");
	return rc;
}

/*
 * A statement of its own, so that the callback may use the handle (even
 * list again). MTASTS_OK also when the callback stopped the walk.
 */
int
store_list(struct store *st,
    int (*cb)(void *arg, const struct store_policy *p), void *arg)
{
	struct store_policy	 p;
	sqlite3_stmt		*s = NULL;
	int			 rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT domain, id, text, fetched,"
	    " expires, checked, failed, failed_id FROM policies"
	    " ORDER BY domain", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "list");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = store_row(st, s, &p)) != MTASTS_OK)
			goto fail;
		stop = cb(arg, &p);
		store_policy_clear(&p);
		if (stop != 0)
			break;
	}
	if (stop != 0 || rc == SQLITE_DONE)
		rc = MTASTS_OK;
	else
		rc = store_fault(st, rc, "list");
fail:
	sqlite3_finalize(s);
	return rc;
}

/*
 * One statement under BEGIN IMMEDIATE: insert the lease, or take over
 * one that has expired. It changed a row only when we now hold it.
 */
int
store_lease(struct store *st, const char *domain, time_t now, unsigned ttl)
{
	sqlite3_stmt	*s;
	int		 rc, won;

	if (!store_name_ok(domain))
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "lease")) != MTASTS_OK)
		return rc;
	if ((rc = store_exec_stmt(st, SQL_BEGIN, "lease")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_LEASE);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)ttl);
	sqlite3_bind_int64(s, 4, st->owner);
	if ((rc = store_run(st, SQL_LEASE, "lease")) != MTASTS_OK)
		goto fail;
	won = sqlite3_changes(st->db) > 0;
	if ((rc = store_exec_stmt(st, SQL_COMMIT, "lease")) != MTASTS_OK)
		goto fail;
	return won;
fail:
	store_rollback(st, "lease rollback");
	return rc;
}

/* Drops the lease when this handle holds it; another's is left alone. */
int
store_release(struct store *st, const char *domain)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (!store_name_ok(domain))
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "release")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_RELEASE);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, st->owner);
	return store_run(st, SQL_RELEASE, "release");
}
