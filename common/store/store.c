/*
 * store.c - opens and closes the store: one SQLite database shared by
 * every process of the MTA, its schema and versions, and the kept
 * statements with the helpers that run them (store_int.h). What the
 * store keeps is in store_policy.c (the policy cache, fetch leases) and
 * store_tlsrpt.c (the TLS-RPT counters) and store_counter.c (the
 * cumulative counters of "mtasts metrics").
 *
 * The database is in WAL mode (readers never wait for the writer) with
 * synchronous=NORMAL. Every connection has a busy timeout, so no call
 * waits longer than the busy_ms given to store_open(). The schema is
 * versioned with PRAGMA user_version: store_migrations[i] takes version
 * i to i + 1, each step in its own BEGIN IMMEDIATE transaction, and a
 * database newer than this code is refused. Statements used on every
 * delivery are prepared once and kept on the handle.
 *
 * A cached policy must keep ruling when the file cannot be written (RFC
 * 8461 section 5.1): a full disk, an I/O error, a read-only file or
 * folder. So store_open() tries read-write, then read-only, then
 * immutable read-only (SQLite then needs no -shm file, which a full disk
 * or a folder nobody may write keeps it from making), each attempt
 * being the whole set-up (connection, WAL, schema, statements), and
 * logs which mode it took and why. Only a lock (busy_ms ran out) or
 * want of memory ends the attempts early: an immutable read past
 * another process's lock could see a half-written file. In the two
 * read-only modes reads work and writes fail with MTASTS_ESTORE and one
 * log line per handle. A write that fails later (SQLITE_FULL mid-run)
 * leaves reads working; it is logged once until a write succeeds again.
 *
 * A new database file is created with mode 0660 (whatever the umask), so
 * that a group shared by the MTA and the administrator can write it; its
 * folder must be writable by the MTA user, since SQLite creates the -wal
 * and -shm files beside it. When root creates it (Exim's routers run as
 * root, its transports as the Exim user), the file is given to the owner
 * and group of its folder, so that the MTA user can still open it; SQLite
 * itself gives the -wal and -shm files the database file's owner.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/fs.h"
#include "store/store.h"
#include "store/store_int.h"

/*
 * The schema, one migration per version. Never edit a step that has
 * shipped: add one.
 */
static const char *const store_migrations[] = {
	/* 0 -> 1: the policy cache and the fetch leases. */
	"CREATE TABLE policies ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" id TEXT NOT NULL,"
	" text TEXT,"
	" fetched INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" checked INTEGER NOT NULL,"
	" failed INTEGER NOT NULL DEFAULT 0,"
	" failed_id TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE leases ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" until INTEGER NOT NULL,"
	" owner INTEGER NOT NULL);",
	/*
	 * 1 -> 2: TLS-RPT counters, one row per UTC day and result key.
	 * Absent fields are '' so that the key is a plain primary key.
	 */
	"CREATE TABLE tlsrpt ("
	" day INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" policy_type TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" mx TEXT NOT NULL DEFAULT '',"
	" receiving_ip TEXT NOT NULL DEFAULT '',"
	" sending_ip TEXT NOT NULL DEFAULT '',"
	" detail TEXT NOT NULL DEFAULT '',"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (day, domain, policy_type, result, mx, receiving_ip,"
	" sending_ip, detail)) WITHOUT ROWID;",
	/*
	 * 2 -> 3: fleets (store_sync.c). tlsrpt.synced is the part of a
	 * counter already cut into a batch; a batch waits in sync_rows
	 * until PostgreSQL has committed it. sync_meta keeps this store's
	 * random id and the sync watermarks.
	 */
	"ALTER TABLE tlsrpt ADD COLUMN synced INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE sync_meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value TEXT NOT NULL);"
	"INSERT INTO sync_meta VALUES ('store_id', lower(hex(randomblob(16))));"
	"CREATE TABLE sync_batches ("
	" batch INTEGER PRIMARY KEY AUTOINCREMENT,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE sync_rows ("
	" batch INTEGER NOT NULL,"
	" day INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" policy_type TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" mx TEXT NOT NULL,"
	" receiving_ip TEXT NOT NULL,"
	" sending_ip TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (batch, day, domain, policy_type, result, mx,"
	" receiving_ip, sending_ip, detail)) WITHOUT ROWID;",
	/*
	 * 3 -> 4: cumulative counters for "mtasts metrics" (never purged,
	 * so that Prometheus counters never go down), and the domains
	 * that have their own label there (a set that only grows, to at
	 * most the --top asked, so that domain="other" never goes down).
	 */
	"CREATE TABLE counters ("
	" name TEXT NOT NULL,"
	" domain TEXT NOT NULL,"
	" policy_type TEXT NOT NULL DEFAULT '',"
	" mode TEXT NOT NULL DEFAULT '',"
	" result TEXT NOT NULL,"
	" deferred INTEGER NOT NULL DEFAULT 0,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (name, domain, policy_type, mode, result, deferred))"
	" WITHOUT ROWID;"
	"CREATE TABLE metric_domains ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" added INTEGER NOT NULL,"
	" base_success INTEGER NOT NULL,"
	" base_failure INTEGER NOT NULL) WITHOUT ROWID;"
};
#define STORE_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

static const char *const store_sql_text[SQL_COUNT] = {
	[SQL_GET] = "SELECT domain, id, text, fetched, expires, checked,"
	    " failed, failed_id FROM policies WHERE domain = ?1",
	[SQL_PUT] = "INSERT OR REPLACE INTO policies (domain, id, text,"
	    " fetched, expires, checked, failed, failed_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SQL_TOUCH] = "UPDATE policies SET checked = ?2 WHERE domain = ?1",
	[SQL_FAIL] = "INSERT INTO policies (domain, id, text, fetched,"
	    " expires, checked, failed, failed_id)"
	    " VALUES (?1, '', NULL, 0, 0, 0, ?3, ?2)"
	    " ON CONFLICT (domain) DO UPDATE SET failed = excluded.failed,"
	    " failed_id = excluded.failed_id",
	[SQL_FORGET] = "DELETE FROM policies WHERE domain = ?1",
	[SQL_FLUSH_POLICIES] = "DELETE FROM policies",
	[SQL_FLUSH_LEASES] = "DELETE FROM leases",
	[SQL_LEASE] = "INSERT INTO leases (domain, until, owner)"
	    " VALUES (?1, ?2 + ?3, ?4)"
	    " ON CONFLICT (domain) DO UPDATE SET until = excluded.until,"
	    " owner = excluded.owner WHERE leases.until <= ?2",
	[SQL_RELEASE] = "DELETE FROM leases WHERE domain = ?1 AND owner = ?2",
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_TLSRPT_ADD] = "INSERT INTO tlsrpt (day, domain, policy_type,"
	    " result, mx, receiving_ip, sending_ip, detail, count)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
	[SQL_COUNTER_ADD] = "INSERT INTO counters (name, domain, policy_type,"
	    " mode, result, deferred, count)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	    " ON CONFLICT DO UPDATE SET count = count + excluded.count",
};

/* The ways store_open() tries, in this order. */
enum store_mode {
	STORE_RW,		/* read-write */
	STORE_RO,		/* read-only */
	STORE_IMMUTABLE,	/* read-only, no -shm, no locks */
	STORE_NMODES
};

static const char *const store_mode_name[STORE_NMODES] = {
	[STORE_RW] = "read-write",
	[STORE_RO] = "read-only",
	[STORE_IMMUTABLE] = "immutable read-only",
};

static int	store_create_file(const char *path, const struct logger *lg);
static int	store_attempt(struct store *st, enum store_mode mode,
		    unsigned busy_ms);
static void	store_disconnect(struct store *st);
static int	store_fallback(int rc, int sqlite_rc);
static void	store_say_mode(struct store *st, enum store_mode mode,
		    char why[][STORE_WHY_MAX]);
static void	store_say_failed(struct store *st, enum store_mode last,
		    char why[][STORE_WHY_MAX]);
static int	store_connect(struct store *st, int flags,
		    unsigned busy_ms);
static int	store_connect_path(struct store *st, const char *name,
		    int flags, unsigned busy_ms);
static int	store_connect_immutable(struct store *st, unsigned busy_ms);
static int	store_pragmas(struct store *st, unsigned busy_ms);
static int	store_journal(struct store *st, int *wal);
static int	store_wal(struct store *st, unsigned busy_ms);
static int	store_version(struct store *st, int *version);
static int	store_migrate(struct store *st);
static int	store_migrate_step(struct store *st, int from);
static int	store_prepare(struct store *st);
static int	store_exec(struct store *st, const char *sql);
static void	store_spool_tag(struct store *st);

int
store_open(const char *path, unsigned busy_ms, const struct logger *lg,
    struct store **out)
{
	char		 why[STORE_NMODES][STORE_WHY_MAX];
	struct store	*st = NULL;
	enum store_mode	 mode;
	int		 rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return MTASTS_EINVAL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL ||
	    asprintf(&st->spool, "%s.tlsrpt", path) == -1) {
		if (st != NULL)
			st->spool = NULL;
		rc = MTASTS_ENOMEM;
		goto fail;
	}
	st->lg = lg;
	if (busy_ms > INT_MAX)
		busy_ms = INT_MAX;
	if ((rc = store_create_file(path, lg)) != MTASTS_OK)
		goto fail;
	store_spool_tag(st);
	for (mode = STORE_RW; mode < STORE_NMODES; mode++) {
		rc = store_attempt(st, mode, busy_ms);
		memcpy(why[mode], st->why, sizeof(why[mode]));
		if (rc == MTASTS_OK || !store_fallback(rc, st->last_rc))
			break;
	}
	if (rc != MTASTS_OK) {
		store_say_failed(st, mode < STORE_NMODES ? mode :
		    STORE_NMODES - 1, why);
		goto fail;
	}
	store_say_mode(st, mode, why);
	sqlite3_randomness(sizeof(st->owner), &st->owner);
	*out = st;
	return MTASTS_OK;
fail:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_disconnect(st);
	free(st->path);
	free(st->spool);
	free(st);
}

/*
 * Creates a missing database file with FS_SHARED_MODE, owned by the
 * folder's owner when root creates it; an existing one is left as it is.
 * SQLite's own -wal and -shm files copy its mode and owner.
 */
static int
store_create_file(const char *path, const struct logger *lg)
{
	int	fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    FS_SHARED_MODE);
	if (fd == -1) {
		if (errno == EEXIST)
			return MTASTS_OK;
		log_err(lg, "store %s: cannot create: %s", path,
		    strerror(errno));
		return MTASTS_ESTORE;
	}
	fs_share_new_file(fd, path, lg);
	close(fd);
	return MTASTS_OK;
}

/*
 * One way of opening, set up in full: connection, WAL, schema and the
 * kept statements. On failure everything is closed again; st->why and
 * st->last_rc say why.
 */
static int
store_attempt(struct store *st, enum store_mode mode, unsigned busy_ms)
{
	int	rc;

	st->quiet = 1;
	st->readonly = mode != STORE_RW;
	st->last_rc = SQLITE_OK;
	st->why[0] = '\0';
	if (mode == STORE_IMMUTABLE)
		rc = store_connect_immutable(st, busy_ms);
	else
		rc = store_connect(st, mode == STORE_RW ?
		    SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, busy_ms);
	if (rc == MTASTS_OK && (rc = store_migrate(st)) == MTASTS_OK)
		rc = store_prepare(st);
	st->quiet = 0;
	if (rc != MTASTS_OK)
		store_disconnect(st);
	return rc;
}

static void
store_disconnect(struct store *st)
{
	int	i;

	for (i = 0; i < SQL_COUNT; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	sqlite3_close_v2(st->db);
	st->db = NULL;
}

/*
 * May the next, more restricted, way be tried after a failure? Any
 * fault of the file or its folder says yes (full, I/O error, read-only,
 * cannot open, a failing WAL set-up or first write); a lock or want of
 * memory says no.
 */
static int
store_fallback(int rc, int sqlite_rc)
{
	if (rc == MTASTS_ENOMEM)
		return 0;
	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
		return 0;
	}
	return 1;
}

/* Says which way the store was opened, and why not a better one. */
static void
store_say_mode(struct store *st, enum store_mode mode,
    char why[][STORE_WHY_MAX])
{
	if (mode == STORE_RW && st->readonly)
		log_warn(st->lg, "store %s: the file is read-only; opened "
		    "read-only: cached policies are used, new ones are not "
		    "cached", st->path);
	else if (mode == STORE_RO)
		log_warn(st->lg, "store %s: cannot be opened read-write (%s);"
		    " opened read-only: cached policies are used, new ones "
		    "are not cached", st->path, why[STORE_RW]);
	else if (mode == STORE_IMMUTABLE)
		log_warn(st->lg, "store %s: cannot be opened read-write (%s) "
		    "nor read-only (%s); opened immutable read-only: cached "
		    "policies as of the last checkpoint are used, new ones are"
		    " not cached", st->path, why[STORE_RW], why[STORE_RO]);
	st->ro_logged = 0;
}

/* Every way tried up to last failed: one line with each reason. */
static void
store_say_failed(struct store *st, enum store_mode last,
    char why[][STORE_WHY_MAX])
{
	char		 msg[STORE_NMODES * (STORE_WHY_MAX + 32)];
	size_t		 len = 0;
	enum store_mode	 m;

	msg[0] = '\0';
	for (m = STORE_RW; m <= last; m++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    "%s%s: %s", m > STORE_RW ? "; " : "", store_mode_name[m],
		    why[m][0] != '\0' ? why[m] : "failed");
	log_err(st->lg, "store %s: cannot be opened: %s", st->path, msg);
}

/*
 * Opens the connection with flags and sets it up; on failure the
 * connection is closed again and st->last_rc says why.
 */
static int
store_connect(struct store *st, int flags, unsigned busy_ms)
{
	return store_connect_path(st, st->path, flags, busy_ms);
}

static int
store_connect_path(struct store *st, const char *name, int flags,
    unsigned busy_ms)
{
	int	rc;

	flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_EXRESCODE;
	rc = sqlite3_open_v2(name, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		store_fault(st, rc, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, (int)busy_ms);
	if (sqlite3_db_readonly(st->db, "main") == 1)
		st->readonly = 1;
	if (store_pragmas(st, busy_ms) != MTASTS_OK)
		goto fail;
	return MTASTS_OK;
fail:
	sqlite3_close_v2(st->db);
	st->db = NULL;
	return MTASTS_ESTORE;
}

/*
 * A WAL database whose -shm file cannot be made (a folder we cannot
 * write, a full disk) can only be read as immutable: we then see it as
 * of its last checkpoint, which is what a file nobody can write to
 * holds anyway.
 */
static int
store_connect_immutable(struct store *st, unsigned busy_ms)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*uri, *p;
	const unsigned char	*c;
	int			 rc;

	if ((uri = malloc(strlen(st->path) * 3 + 32)) == NULL)
		return MTASTS_ENOMEM;
	p = uri + sprintf(uri, "file:");
	for (c = (const unsigned char *)st->path; *c != '\0'; c++) {
		if (*c == '%' || *c == '?' || *c == '#' || *c <= ' ' ||
		    *c >= 0x7f) {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 0xf];
		} else
			*p++ = (char)*c;
	}
	strcpy(p, "?immutable=1");
	rc = store_connect_path(st, uri,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_ms);
	free(uri);
	return rc;
}

/*
 * WAL (set once: it is kept in the file) and synchronous=NORMAL. Reading
 * the journal mode is the first read, so a file that is not a database
 * fails here.
 */
static int
store_pragmas(struct store *st, unsigned busy_ms)
{
	int	rc, wal;

	if ((rc = store_journal(st, &wal)) != MTASTS_OK)
		return rc;
	if (!wal && !st->readonly && (rc = store_wal(st, busy_ms)) !=
	    MTASTS_OK)
		return rc;
	return store_exec(st, "PRAGMA synchronous=NORMAL");
}

/* Is the database in WAL mode? */
static int
store_journal(struct store *st, int *wal)
{
	sqlite3_stmt	*s = NULL;
	const char	*mode;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(s, 0);
		*wal = mode != NULL && strcmp(mode, "wal") == 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "journal mode");
	return MTASTS_OK;
}

/*
 * Switching to WAL needs the file to itself, and SQLite does not wait
 * for that: processes that open a new database together retry until
 * one of them has switched it, for busy_ms at most. Past that the
 * rollback journal works too, only with less concurrency.
 */
static int
store_wal(struct store *st, unsigned busy_ms)
{
	struct timespec	 t0, t;
	int		 rc, wal;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL,
		    NULL, NULL);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED)
			return store_fault(st, rc, "journal mode WAL");
		if ((rc = store_journal(st, &wal)) != MTASTS_OK)
			return rc;
		if (wal)
			return MTASTS_OK;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 >= (long)busy_ms) {
			log_warn(st->lg, "store %s: cannot switch to WAL mode "
			    "now: %s", st->path, sqlite3_errmsg(st->db));
			return MTASTS_OK;
		}
		sqlite3_sleep(5);
	}
}

static int
store_version(struct store *st, int *version)
{
	sqlite3_stmt	*s = NULL;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, "schema version");
	return MTASTS_OK;
}

/* Brings the schema to STORE_VERSION, or refuses a newer one. */
static int
store_migrate(struct store *st)
{
	int	version, rc;

	for (;;) {
		if ((rc = store_version(st, &version)) != MTASTS_OK)
			return rc;
		if (version == STORE_VERSION)
			return MTASTS_OK;
		if (version > STORE_VERSION || version < 0) {
			snprintf(st->why, sizeof(st->why), "schema version %d "
			    "is newer than this program's (%d); refusing to "
			    "use it", version, STORE_VERSION);
			return MTASTS_ESTORE;
		}
		if (st->readonly) {
			snprintf(st->why, sizeof(st->why), "schema version %d "
			    "needs an upgrade to %d, but the file is opened "
			    "read-only", version, STORE_VERSION);
			return MTASTS_ESTORE;
		}
		if ((rc = store_migrate_step(st, version)) != MTASTS_OK)
			return rc;
	}
}

/*
 * One migration in one transaction. Another process may have done it
 * first: the version is read again under the write lock.
 */
static int
store_migrate_step(struct store *st, int from)
{
	char	 sql[64];
	int	 now, rc;

	if ((rc = store_exec(st, "BEGIN IMMEDIATE")) != MTASTS_OK)
		return rc;
	if ((rc = store_version(st, &now)) != MTASTS_OK)
		goto fail;
	if (now != from) {
		rc = store_exec(st, "COMMIT");
		return rc;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", from + 1);
	if ((rc = store_exec(st, store_migrations[from])) != MTASTS_OK ||
	    (rc = store_exec(st, sql)) != MTASTS_OK ||
	    (rc = store_exec(st, "COMMIT")) != MTASTS_OK)
		goto fail;
	if (from > 0)
		log_info(st->lg, "store %s: schema upgraded to version %d",
		    st->path, from + 1);
	return MTASTS_OK;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int
store_prepare(struct store *st)
{
	int	i, rc;

	for (i = 0; i < SQL_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, store_sql_text[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return store_fault(st, rc, "prepare");
	}
	return MTASTS_OK;
}

static int
store_exec(struct store *st, const char *sql)
{
	int	rc;

	rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fault(st, rc, sql);
	return MTASTS_OK;
}
/*
 * Logs a failed SQLite call with the path and SQLite's message. A write
 * refused because the file is read-only is said once per handle.
 */
int
store_fault(struct store *st, int rc, const char *what)
{
	st->last_rc = rc;
	if (st->quiet) {
		snprintf(st->why, sizeof(st->why), "%s: %s", what,
		    st->db != NULL ? sqlite3_errmsg(st->db) :
		    sqlite3_errstr(rc));
		log_debug(st->lg, "store %s: %s", st->path, st->why);
		return MTASTS_ESTORE;
	}
	if ((rc & 0xff) == SQLITE_READONLY) {
		st->readonly = 1;
		if (st->ro_logged)
			return MTASTS_ESTORE;
		st->ro_logged = 1;
	}
	if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR) {
		if (st->wfail_logged) {
			log_debug(st->lg, "store %s: %s: %s", st->path, what,
			    sqlite3_errstr(rc));
			return MTASTS_ESTORE;
		}
		st->wfail_logged = 1;
		log_err(st->lg, "store %s: %s: %s; reads go on, writes "
		    "fail until it is fixed", st->path, what,
		    st->db != NULL ? sqlite3_errmsg(st->db) :
		    sqlite3_errstr(rc));
		return MTASTS_ESTORE;
	}
	log_err(st->lg, "store %s: %s: %s", st->path, what,
	    st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return MTASTS_ESTORE;
}

int
store_write_allowed(struct store *st, const char *what)
{
	if (!st->readonly)
		return MTASTS_OK;
	if (!st->ro_logged) {
		st->ro_logged = 1;
		log_err(st->lg, "store %s: %s: the database is read-only; "
		    "further writes fail silently", st->path, what);
	}
	return MTASTS_ESTORE;
}

sqlite3_stmt *
store_stmt(struct store *st, enum store_sql which)
{
	sqlite3_stmt	*s = st->stmt[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Runs a statement without parameters and rows (BEGIN, COMMIT...). */
int
store_exec_stmt(struct store *st, enum store_sql which, const char *what)
{
	store_stmt(st, which);
	return store_run(st, which, what);
}

/* Steps a bound statement that returns no row; resets it. */
int
store_run(struct store *st, enum store_sql which, const char *what)
{
	sqlite3_stmt	*s = st->stmt[which];
	int		 rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fault(st, rc, what);
	/* a change is on disk: the next failed write is news again */
	if (which != SQL_ROLLBACK && sqlite3_get_autocommit(st->db))
		st->wfail_logged = 0;
	return MTASTS_OK;
}

/*
 * Ends a failed transaction. SQLite may have rolled it back itself (it
 * does on SQLITE_FULL, for one): then there is nothing to end.
 */
void
store_rollback(struct store *st, const char *what)
{
	if (!sqlite3_get_autocommit(st->db))
		store_exec_stmt(st, SQL_ROLLBACK, what);
}

int
store_name_ok(const char *domain)
{
	return domain != NULL && *domain != '\0' &&
	    strlen(domain) <= MTASTS_NAME_MAX;
}

/*
 * The database file's inode and birth time: a file deleted and created
 * again gets another, so that its spool lines are not folded into the
 * new one. "-" (any) where the file system keeps no birth time.
 */
static void
store_spool_tag(struct store *st)
{
	struct statx	sx;

	if (statx(AT_FDCWD, st->path, 0, STATX_INO | STATX_BTIME, &sx) ==
	    0 && (sx.stx_mask & STATX_BTIME) != 0)
		snprintf(st->spool_tag, sizeof(st->spool_tag),
		    "%llx-%llx.%x", (unsigned long long)sx.stx_ino,
		    (unsigned long long)sx.stx_btime.tv_sec,
		    (unsigned)sx.stx_btime.tv_nsec);
	else
		strcpy(st->spool_tag, "-");
}
