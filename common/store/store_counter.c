/*
 * store_counter.c - the cumulative counters of "mtasts metrics"
 * (schema version 3): TLS-RPT results by domain, policy type, mode,
 * result type and whether enforce refused them, added when the spool is
 * folded (store_tlsrpt.c), and successful policy fetches, added in the
 * transaction that stores the policy (store_policy.c). They are never
 * purged, so that Prometheus sees counters that only go up. Beside them
 * the set of domains that have a label of their own, which only grows.
 * Nothing here runs on the delivery path.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

static const char *
counter_text(sqlite3_stmt *s, int col)
{
	const unsigned char	*v = sqlite3_column_text(s, col);

	return v != NULL ? (const char *)v : "";
}

int
store_writable(const struct store *st)
{
	return st != NULL && !st->readonly;
}

int
store_counter_add(struct store *st, const struct store_counter_row *r)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (r->name == NULL || !store_name_ok(r->domain) ||
	    r->result == NULL || r->count == 0)
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "counter")) != MTASTS_OK)
		return rc;
	s = store_stmt(st, SQL_COUNTER_ADD);
	sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->policy_type ? r->policy_type : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->mode ? r->mode : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->result, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, r->deferred != 0);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)r->count);
	return store_run(st, SQL_COUNTER_ADD, "counter add");
}

int
store_counter_list(struct store *st,
    int (*cb)(void *arg, const struct store_counter_row *r), void *arg)
{
	struct store_counter_row r;
	sqlite3_stmt		*s = NULL;
	int			 rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT name, domain, policy_type,"
	    " mode, result, deferred, count FROM counters ORDER BY name,"
	    " domain, policy_type, mode, result, deferred", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "counter list");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.name = counter_text(s, 0);
		r.domain = counter_text(s, 1);
		r.policy_type = counter_text(s, 2);
		r.mode = counter_text(s, 3);
		r.result = counter_text(s, 4);
		r.deferred = sqlite3_column_int(s, 5);
		r.count = (unsigned long long)sqlite3_column_int64(s, 6);
		if ((stop = cb(arg, &r)) != 0)
			break;
	}
	if (stop != 0 || rc == SQLITE_DONE)
		rc = MTASTS_OK;
	else
		rc = store_fault(st, rc, "counter list");
	sqlite3_finalize(s);
	return rc;
}

int
store_metric_domains(struct store *st, struct store_metric_domain **out,
    size_t *n)
{
	struct store_metric_domain	*v = NULL, *nv;
	sqlite3_stmt			*s = NULL;
	size_t				 cap = 0;
	int				 rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(st->db, "SELECT domain, base_success,"
	    " base_failure FROM metric_domains ORDER BY added, domain", -1, &s,
	    NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "metric domains");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = MTASTS_ENOMEM;
				goto fail;
			}
			v = nv;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		strncpy(v[*n].domain, counter_text(s, 0), MTASTS_NAME_MAX);
		v[*n].base_success = (unsigned long long)
		    sqlite3_column_int64(s, 1);
		v[*n].base_failure = (unsigned long long)
		    sqlite3_column_int64(s, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		rc = store_fault(st, rc, "metric domains");
		goto fail;
	}
	sqlite3_finalize(s);
	*out = v;
	return MTASTS_OK;
fail:
	sqlite3_finalize(s);
	free(v);
	*n = 0;
	return rc;
}

int
store_metric_domain_add(struct store *st, const struct store_metric_domain *d,
    time_t now)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	if (!store_name_ok(d->domain))
		return MTASTS_EINVAL;
	if ((rc = store_write_allowed(st, "metric domain")) != MTASTS_OK)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO metric_domains"
	    " (domain, added, base_success, base_failure)"
	    " VALUES (?1, ?2, ?3, ?4)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "metric domain");
	sqlite3_bind_text(s, 1, d->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)d->base_success);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)d->base_failure);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fault(st, rc, "metric domain");
	return MTASTS_OK;
}

int
store_tlsrpt_backlog(struct store *st, unsigned long long *lines)
{
	return tlsrpt_spool_backlog(st->spool, lines);
}
