/*
 * pg.c - the fleet's PostgreSQL store (pg.h): connection, schema and
 * migrations, and the statements the synchroniser, the fleet refresh
 * and the fleet report need.
 *
 * The connection string is the administrator's (TLS, password or
 * certificate auth, as libpq takes them); connect_timeout 10 s,
 * statement_timeout 30 s and application_name "mtasts" are defaults it
 * may override. The schema is versioned in table fleet_schema; each
 * step of pg_migrations runs in one transaction under an advisory lock,
 * so hosts that start together migrate once; a schema newer than this
 * code is refused. Never edit a step that has shipped: add one.
 *
 * Policy revisions come from one sequence, taken under a transaction
 * advisory lock, so that they commit in order and a reader that saw
 * revision r has seen every revision below it. Batches of results are
 * keyed by (host, store, batch number): a batch pushed again (the host
 * died before it marked it sent) adds nothing. Times of policies are
 * the fetching host's unix times; leases, claims and last syncs use the
 * server's clock, so hosts' clocks need not agree on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/pg.h"

#define PG_LOCK_MIGRATE	"8461001"	/* advisory lock keys */
#define PG_LOCK_REV	"8461002"

struct pg {
	PGconn			*conn;
	char			*host;
	const struct logger	*lg;
};

/* buffer of a text[] / bigint[] literal */
struct pg_arr {
	char	*s;
	size_t	 len, cap;
	int	 nomem;
};

static const char *const pg_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE fleet_policies ("
	" domain text PRIMARY KEY, id text NOT NULL, text text NOT NULL,"
	" fetched bigint NOT NULL, expires bigint NOT NULL,"
	" checked bigint NOT NULL, host text NOT NULL, rev bigint NOT NULL);"
	"CREATE SEQUENCE fleet_policy_rev;"
	"CREATE INDEX fleet_policies_rev ON fleet_policies (rev);"
	"CREATE TABLE fleet_leases ("
	" domain text PRIMARY KEY, host text NOT NULL,"
	" until timestamptz NOT NULL);"
	"CREATE TABLE fleet_hosts ("
	" host text NOT NULL, store_id text NOT NULL,"
	" last_sync timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (host, store_id));"
	"CREATE TABLE fleet_batches ("
	" host text NOT NULL, store_id text NOT NULL, batch bigint NOT NULL,"
	" sessions bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (host, store_id, batch));"
	"CREATE TABLE fleet_tlsrpt ("
	" day bigint NOT NULL, domain text NOT NULL,"
	" policy_type text NOT NULL, result text NOT NULL,"
	" mx text NOT NULL, receiving_ip text NOT NULL,"
	" sending_ip text NOT NULL, detail text NOT NULL,"
	" count bigint NOT NULL,"
	" PRIMARY KEY (day, domain, policy_type, result, mx, receiving_ip,"
	" sending_ip, detail));"
	"CREATE TABLE fleet_reports ("
	" domain text NOT NULL, day bigint NOT NULL, host text NOT NULL,"
	" claimed timestamptz NOT NULL, done boolean NOT NULL DEFAULT false,"
	" PRIMARY KEY (domain, day));",
};
#define PG_NMIGRATIONS	(sizeof(pg_migrations) / sizeof(pg_migrations[0]))

static int	pg_fault(struct pg *, PGresult *, const char *);
static PGresult	*pg_run(struct pg *, const char *, int, const char *const *);
static int	pg_cmd(struct pg *, const char *, int, const char *const *,
		    const char *);
static int	pg_script(struct pg *, const char *, const char *);
static int	pg_migrate(struct pg *);
static int	pg_migrate_step(struct pg *, int *);
static int	pg_version(struct pg *, int *);
static int	pg_publish_one(struct pg *, const struct store_policy *);
static void	pg_arr_add(struct pg_arr *, const char *);
static void	pg_arr_end(struct pg_arr *);
static void	pg_notice(void *, const char *);

int
pg_open(const char *conninfo, const char *host, const struct logger *lg,
    struct pg **out)
{
	static const char *const keys[] = { "connect_timeout", "options",
	    "application_name", "dbname", NULL };
	const char	*vals[5] = { "10", "-c statement_timeout=30000",
	    "mtasts", conninfo, NULL };
	struct pg	*pg;
	int		 rc;

	*out = NULL;
	if (conninfo == NULL || host == NULL || *host == '\0')
		return MTASTS_EINVAL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL ||
	    (pg->host = strdup(host)) == NULL) {
		free(pg);
		return MTASTS_ENOMEM;
	}
	pg->lg = lg;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		log_err(lg, "fleet: cannot connect to PostgreSQL: %s",
		    pg->conn != NULL ? PQerrorMessage(pg->conn) :
		    "out of memory");
		rc = MTASTS_ESTORE;
		goto fail;
	}
	PQsetNoticeProcessor(pg->conn, pg_notice, pg);
	if ((rc = pg_migrate(pg)) != MTASTS_OK)
		goto fail;
	*out = pg;
	return MTASTS_OK;
fail:
	pg_close(pg);
	return rc;
}

void
pg_close(struct pg *pg)
{
	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->host);
	free(pg);
}

/* Server notices (CREATE ... IF NOT EXISTS) are not news. */
static void
pg_notice(void *arg, const char *msg)
{
	struct pg	*pg = arg;

	log_debug(pg->lg, "fleet: PostgreSQL: %s", msg);
}

/* Logs what failed (libpq's message ends with a newline: cut). */
static int
pg_fault(struct pg *pg, PGresult *res, const char *what)
{
	const char	*msg;
	size_t		 len;

	msg = res != NULL ? PQresultErrorMessage(res) : "";
	if (*msg == '\0')
		msg = PQerrorMessage(pg->conn);
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	log_err(pg->lg, "fleet: PostgreSQL: %s: %.*s", what, (int)len, msg);
	PQclear(res);
	return MTASTS_ESTORE;
}

static PGresult *
pg_run(struct pg *pg, const char *sql, int n, const char *const *params)
{
	return PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
}

/* A statement without rows: MTASTS_OK or MTASTS_ESTORE (logged). */
static int
pg_cmd(struct pg *pg, const char *sql, int n, const char *const *params,
    const char *what)
{
	PGresult	*res;

	res = pg_run(pg, sql, n, params);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, what);
	PQclear(res);
	return MTASTS_OK;
}

/* Several statements without parameters (a migration step). */
static int
pg_script(struct pg *pg, const char *sql, const char *what)
{
	PGresult	*res;

	res = PQexec(pg->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fault(pg, res, what);
	PQclear(res);
	return MTASTS_OK;
}

static void
pg_rollback(struct pg *pg)
{
	PQclear(PQexec(pg->conn, "ROLLBACK"));
}

static int
pg_migrate(struct pg *pg)
{
	int	version = 0, rc;

	for (;;) {
		if ((rc = pg_migrate_step(pg, &version)) != MTASTS_OK)
			return rc;
		if (version == (int)PG_NMIGRATIONS)
			return MTASTS_OK;
	}
}

/* One step, or none when the schema is current; *version is after it. */
static int
pg_migrate_step(struct pg *pg, int *version)
{
	char		 v[16];
	const char	*p[1] = { v };
	int		 rc;

	if ((rc = pg_cmd(pg, "BEGIN", 0, NULL, "migrate")) != MTASTS_OK)
		return rc;
	if ((rc = pg_cmd(pg, "SELECT pg_advisory_xact_lock(" PG_LOCK_MIGRATE
	    ")", 0, NULL, "migrate lock")) != MTASTS_OK ||
	    (rc = pg_cmd(pg, "CREATE TABLE IF NOT EXISTS fleet_schema"
	    " (version integer NOT NULL)", 0, NULL, "schema")) != MTASTS_OK ||
	    (rc = pg_version(pg, version)) != MTASTS_OK)
		goto fail;
	if (*version > (int)PG_NMIGRATIONS) {
		log_err(pg->lg, "fleet: PostgreSQL schema version %d is newer "
		    "than this program's (%d); refusing to use it", *version,
		    (int)PG_NMIGRATIONS);
		rc = MTASTS_ESTORE;
		goto fail;
	}
	if (*version < (int)PG_NMIGRATIONS) {
		snprintf(v, sizeof(v), "%d", *version + 1);
		if ((rc = pg_script(pg, pg_migrations[*version],
		    "migrate")) != MTASTS_OK ||
		    (rc = pg_cmd(pg, "DELETE FROM fleet_schema", 0, NULL,
		    "migrate")) != MTASTS_OK ||
		    (rc = pg_cmd(pg, "INSERT INTO fleet_schema VALUES ($1)",
		    1, p, "migrate")) != MTASTS_OK)
			goto fail;
		log_info(pg->lg, "fleet: PostgreSQL schema upgraded to "
		    "version %d", *version + 1);
		(*version)++;
	}
	return pg_cmd(pg, "COMMIT", 0, NULL, "migrate");
fail:
	pg_rollback(pg);
	return rc;
}

static int
pg_version(struct pg *pg, int *version)
{
	PGresult	*res;

	res = pg_run(pg, "SELECT max(version) FROM fleet_schema", 0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, "schema version");
	*version = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
	    atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return MTASTS_OK;
}

int
pg_policy_publish(struct pg *pg, const struct store_policy *v, size_t n)
{
	size_t	i;
	int	rc;

	if (n == 0)
		return MTASTS_OK;
	if ((rc = pg_cmd(pg, "BEGIN", 0, NULL, "publish")) != MTASTS_OK)
		return rc;
	if ((rc = pg_cmd(pg, "SELECT pg_advisory_xact_lock(" PG_LOCK_REV ")",
	    0, NULL, "publish lock")) != MTASTS_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if ((rc = pg_publish_one(pg, &v[i])) != MTASTS_OK)
			goto fail;
	return pg_cmd(pg, "COMMIT", 0, NULL, "publish");
fail:
	pg_rollback(pg);
	return rc;
}

/* Newer wins: by fetched time, then id; the same policy by checked. */
static int
pg_publish_one(struct pg *pg, const struct store_policy *p)
{
	char		 f[24], e[24], c[24];
	const char	*par[7] = { p->domain, p->id, p->text, f, e, c,
	    pg->host };

	snprintf(f, sizeof(f), "%lld", (long long)p->fetched);
	snprintf(e, sizeof(e), "%lld", (long long)p->expires);
	snprintf(c, sizeof(c), "%lld", (long long)p->checked);
	return pg_cmd(pg, "INSERT INTO fleet_policies AS o (domain, id, text,"
	    " fetched, expires, checked, host, rev) VALUES ($1, $2, $3, $4,"
	    " $5, $6, $7, nextval('fleet_policy_rev'))"
	    " ON CONFLICT (domain) DO UPDATE SET id = excluded.id,"
	    " text = excluded.text, fetched = excluded.fetched,"
	    " expires = excluded.expires, checked = excluded.checked,"
	    " host = excluded.host, rev = excluded.rev"
	    " WHERE (excluded.fetched, excluded.id) > (o.fetched, o.id)"
	    " OR ((excluded.fetched, excluded.id) = (o.fetched, o.id)"
	    " AND excluded.checked > o.checked)", 7, par, "publish");
}

int
pg_policy_pull(struct pg *pg, long long since,
    int (*cb)(void *arg, const struct store_policy *p), void *arg,
    long long *last)
{
	struct store_policy	 p;
	PGresult		*res;
	char			 s[24];
	const char		*par[1] = { s };
	int			 i, n;

	*last = since;
	snprintf(s, sizeof(s), "%lld", since);
	res = pg_run(pg, "SELECT domain, id, text, fetched, expires, checked,"
	    " rev FROM fleet_policies WHERE rev > $1 ORDER BY rev", 1, par);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, "pull");
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		if (snprintf(p.domain, sizeof(p.domain), "%s",
		    PQgetvalue(res, i, 0)) >= (int)sizeof(p.domain) ||
		    snprintf(p.id, sizeof(p.id), "%s", PQgetvalue(res, i, 1))
		    >= (int)sizeof(p.id))
			continue;	/* not a row we wrote */
		p.text = PQgetvalue(res, i, 2);
		p.fetched = (time_t)strtoll(PQgetvalue(res, i, 3), NULL, 10);
		p.expires = (time_t)strtoll(PQgetvalue(res, i, 4), NULL, 10);
		p.checked = (time_t)strtoll(PQgetvalue(res, i, 5), NULL, 10);
		if (cb(arg, &p) != 0)
			break;
		*last = strtoll(PQgetvalue(res, i, 6), NULL, 10);
	}
	PQclear(res);
	return MTASTS_OK;
}

/*
 * Array literals for unnest(): {"a","b"} with '"' and '\' escaped; a
 * NULL element is never passed.
 */
static void
pg_arr_put(struct pg_arr *a, const char *s, size_t len)
{
	char	*ns;
	size_t	 cap;

	if (a->nomem)
		return;
	if (a->len + len + 1 > a->cap) {
		cap = (a->cap + len + 1) * 2;
		if ((ns = realloc(a->s, cap)) == NULL) {
			a->nomem = 1;
			return;
		}
		a->s = ns;
		a->cap = cap;
	}
	memcpy(a->s + a->len, s, len);
	a->len += len;
	a->s[a->len] = '\0';
}

static void
pg_arr_add(struct pg_arr *a, const char *s)
{
	const char	*e;

	pg_arr_put(a, a->len == 0 ? "{\"" : ",\"", 2);
	for (; *s != '\0'; s = e) {
		e = s + strcspn(s, "\"\\");
		pg_arr_put(a, s, (size_t)(e - s));
		if (*e != '\0') {
			pg_arr_put(a, "\\", 1);
			pg_arr_put(a, e++, 1);
		}
	}
	pg_arr_put(a, "\"", 1);
}

static void
pg_arr_end(struct pg_arr *a)
{
	pg_arr_put(a, a->len == 0 ? "{}" : "}", a->len == 0 ? 2 : 1);
}

int
pg_lease(struct pg *pg, char *const *domains, size_t n, unsigned ttl,
    unsigned char *won)
{
	struct pg_arr	 a;
	PGresult	*res;
	char		 t[16];
	const char	*par[3];
	size_t		 i;
	int		 j, rc = MTASTS_ENOMEM;

	memset(won, 0, n);
	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++)
		pg_arr_add(&a, domains[i]);
	pg_arr_end(&a);
	if (a.nomem)
		goto done;
	snprintf(t, sizeof(t), "%u", ttl);
	par[0] = a.s;
	par[1] = pg->host;
	par[2] = t;
	res = pg_run(pg, "INSERT INTO fleet_leases AS o (domain, host, until)"
	    " SELECT d, $2, now() + $3 * interval '1 second'"
	    " FROM unnest($1::text[]) AS d ORDER BY d"
	    " ON CONFLICT (domain) DO UPDATE SET host = excluded.host,"
	    " until = excluded.until"
	    " WHERE o.until <= now() OR o.host = excluded.host"
	    " RETURNING domain", 3, par);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_fault(pg, res, "lease");
		goto done;
	}
	for (j = 0; j < PQntuples(res); j++)
		for (i = 0; i < n; i++)
			if (strcmp(domains[i], PQgetvalue(res, j, 0)) == 0)
				won[i] = 1;
	PQclear(res);
	rc = MTASTS_OK;
done:
	free(a.s);
	return rc;
}

/* The columns of a batch as arrays: day, then the seven texts, count. */
static int
pg_batch_arrays(const struct store_tlsrpt_row *rows, size_t n,
    struct pg_arr a[9], unsigned long long *sessions)
{
	const char	*f[7];
	char		 num[24];
	size_t		 i, k;

	*sessions = 0;
	for (i = 0; i < n; i++) {
		f[0] = rows[i].domain;
		f[1] = rows[i].policy_type;
		f[2] = rows[i].result;
		f[3] = rows[i].mx ? rows[i].mx : "";
		f[4] = rows[i].receiving_ip ? rows[i].receiving_ip : "";
		f[5] = rows[i].sending_ip ? rows[i].sending_ip : "";
		f[6] = rows[i].detail ? rows[i].detail : "";
		snprintf(num, sizeof(num), "%lld", rows[i].day);
		pg_arr_add(&a[0], num);
		for (k = 0; k < 7; k++)
			pg_arr_add(&a[k + 1], f[k]);
		snprintf(num, sizeof(num), "%llu", rows[i].count);
		pg_arr_add(&a[8], num);
		*sessions += rows[i].count;
	}
	for (k = 0; k < 9; k++) {
		pg_arr_end(&a[k]);
		if (a[k].nomem)
			return MTASTS_ENOMEM;
	}
	return MTASTS_OK;
}

/* Claims (host, store, batch); *dup when it was pushed before. */
static int
pg_batch_claim(struct pg *pg, const char *store_id, const char *b,
    const char *sessions, int *dup)
{
	PGresult	*res;
	const char	*par[4] = { pg->host, store_id, b, sessions };

	res = pg_run(pg, "INSERT INTO fleet_batches (host, store_id, batch,"
	    " sessions) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4,
	    par);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fault(pg, res, "batch");
	*dup = strcmp(PQcmdTuples(res), "1") != 0;
	PQclear(res);
	return MTASTS_OK;
}

int
pg_batch_push(struct pg *pg, const char *store_id, long long batch,
    const struct store_tlsrpt_row *rows, size_t n, int *dup)
{
	struct pg_arr		 a[9];
	unsigned long long	 sessions;
	char			 b[24], s[24];
	const char		*par[9];
	size_t			 k;
	int			 rc;

	*dup = 0;
	memset(a, 0, sizeof(a));
	if ((rc = pg_batch_arrays(rows, n, a, &sessions)) != MTASTS_OK)
		goto done;
	snprintf(b, sizeof(b), "%lld", batch);
	snprintf(s, sizeof(s), "%llu", sessions);
	for (k = 0; k < 9; k++)
		par[k] = a[k].s;
	if ((rc = pg_cmd(pg, "BEGIN", 0, NULL, "batch")) != MTASTS_OK)
		goto done;
	if ((rc = pg_batch_claim(pg, store_id, b, s, dup)) != MTASTS_OK)
		goto fail;
	if (!*dup && (rc = pg_cmd(pg, "INSERT INTO fleet_tlsrpt AS o (day,"
	    " domain, policy_type, result, mx, receiving_ip, sending_ip,"
	    " detail, count) SELECT * FROM unnest($1::bigint[], $2::text[],"
	    " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
	    " $8::text[], $9::bigint[])"
	    " ON CONFLICT (day, domain, policy_type, result, mx, receiving_ip,"
	    " sending_ip, detail) DO UPDATE SET count = o.count +"
	    " excluded.count", 9, par, "batch rows")) != MTASTS_OK)
		goto fail;
	rc = pg_cmd(pg, "COMMIT", 0, NULL, "batch");
	goto done;
fail:
	pg_rollback(pg);
done:
	for (k = 0; k < 9; k++)
		free(a[k].s);
	return rc;
}

int
pg_tlsrpt_day(struct pg *pg, long long day,
    int (*cb)(void *arg, const struct store_tlsrpt_row *r), void *arg)
{
	struct store_tlsrpt_row	 r;
	PGresult		*res;
	char			 d[24];
	const char		*par[1] = { d };
	int			 i;

	snprintf(d, sizeof(d), "%lld", day);
	res = pg_run(pg, "SELECT domain, policy_type, result, mx,"
	    " receiving_ip, sending_ip, detail, count FROM fleet_tlsrpt"
	    " WHERE day = $1 ORDER BY domain COLLATE \"C\", policy_type"
	    " COLLATE \"C\", result COLLATE \"C\", mx, receiving_ip,"
	    " sending_ip, detail", 1, par);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, "tlsrpt day");
	for (i = 0; i < PQntuples(res); i++) {
		r.day = day;
		r.domain = PQgetvalue(res, i, 0);
		r.policy_type = PQgetvalue(res, i, 1);
		r.result = PQgetvalue(res, i, 2);
		r.mx = PQgetvalue(res, i, 3);
		r.receiving_ip = PQgetvalue(res, i, 4);
		r.sending_ip = PQgetvalue(res, i, 5);
		r.detail = PQgetvalue(res, i, 6);
		r.count = strtoull(PQgetvalue(res, i, 7), NULL, 10);
		if (cb(arg, &r) != 0)
			break;
	}
	PQclear(res);
	return MTASTS_OK;
}

int
pg_host_seen(struct pg *pg, const char *store_id)
{
	const char	*par[2] = { pg->host, store_id };

	return pg_cmd(pg, "INSERT INTO fleet_hosts (host, store_id,"
	    " last_sync) VALUES ($1, $2, now()) ON CONFLICT (host, store_id)"
	    " DO UPDATE SET last_sync = excluded.last_sync", 2, par,
	    "host seen");
}

int
pg_hosts(struct pg *pg, int (*cb)(void *arg, const struct pg_host *h),
    void *arg)
{
	struct pg_host	 h;
	PGresult	*res;
	int		 i;

	res = pg_run(pg, "SELECT h.host, h.store_id,"
	    " extract(epoch FROM h.last_sync)::bigint,"
	    " count(b.batch), coalesce(sum(b.sessions), 0)"
	    " FROM fleet_hosts h LEFT JOIN fleet_batches b"
	    " ON b.host = h.host AND b.store_id = h.store_id"
	    " GROUP BY h.host, h.store_id, h.last_sync"
	    " ORDER BY h.host, h.store_id", 0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, "hosts");
	for (i = 0; i < PQntuples(res); i++) {
		h.host = PQgetvalue(res, i, 0);
		h.store_id = PQgetvalue(res, i, 1);
		h.last_sync = (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10);
		h.batches = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		h.sessions = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		if (cb(arg, &h) != 0)
			break;
	}
	PQclear(res);
	return MTASTS_OK;
}

int
pg_report_claim(struct pg *pg, const char *domain, long long day,
    unsigned ttl, char *holder, size_t size)
{
	PGresult	*res;
	char		 d[24], t[16];
	const char	*par[4] = { domain, d, pg->host, t };
	int		 won;

	snprintf(d, sizeof(d), "%lld", day);
	snprintf(t, sizeof(t), "%u", ttl);
	res = pg_run(pg, "WITH c AS (INSERT INTO fleet_reports AS o (domain,"
	    " day, host, claimed) VALUES ($1, $2, $3, now())"
	    " ON CONFLICT (domain, day) DO UPDATE SET host = excluded.host,"
	    " claimed = excluded.claimed WHERE NOT o.done AND (o.host ="
	    " excluded.host OR o.claimed < now() - $4 * interval '1 second')"
	    " RETURNING host)"
	    " SELECT 1, host FROM c UNION ALL SELECT 0, host FROM"
	    " fleet_reports WHERE domain = $1 AND day = $2 ORDER BY 1 DESC",
	    4, par);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fault(pg, res, "report claim");
	won = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	snprintf(holder, size, "%s", PQntuples(res) > 0 ?
	    PQgetvalue(res, 0, 1) : "");
	PQclear(res);
	return won;
}

int
pg_report_done(struct pg *pg, const char *domain, long long day)
{
	char		 d[24];
	const char	*par[3] = { domain, d, pg->host };

	snprintf(d, sizeof(d), "%lld", day);
	return pg_cmd(pg, "UPDATE fleet_reports SET done = true"
	    " WHERE domain = $1 AND day = $2 AND host = $3", 3, par,
	    "report done");
}
