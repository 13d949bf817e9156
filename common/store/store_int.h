/*
 * store_int.h - what the store's files share: the handle, its kept
 * statements and the helpers that run them and say what failed.
 * store.c opens and closes the handle; store_policy.c keeps the policy
 * cache and the leases, store_tlsrpt.c the TLS-RPT counters. Only the
 * store's own files include this; the rest of the core sees store.h.
 */
#ifndef MTASTS_STORE_INT_H
#define MTASTS_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

#include "store/tlsrpt_spool.h"


/* Statements kept on the handle; the index names them. */
enum store_sql {
	SQL_GET,
	SQL_PUT,
	SQL_TOUCH,
	SQL_FAIL,
	SQL_FORGET,
	SQL_FLUSH_POLICIES,
	SQL_FLUSH_LEASES,
	SQL_LEASE,
	SQL_RELEASE,
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_TLSRPT_ADD,
	SQL_COUNTER_ADD,
	SQL_COUNT
};

#define STORE_WHY_MAX	512

struct store {
	sqlite3			*db;
	sqlite3_stmt		*stmt[SQL_COUNT];
	char			*path;
	char			*spool;		/* path + ".tlsrpt" */
	char			 spool_tag[64];	/* this database file */
	const struct logger	*lg;
	int			 readonly;	/* no write access */
	int			 ro_logged;	/* "read-only" said once */
	int			 wfail_logged;	/* a failed write said, none
						   has succeeded since */
	int			 last_rc;	/* of the last failed call */
	int			 quiet;		/* opening: keep failures */
	char			 why[STORE_WHY_MAX]; /* the last kept failure */
	sqlite3_int64		 owner;		/* this handle's lease token */
};

/*
 * Logs a failed SQLite call with the path and SQLite's message (a write
 * refused because the file is read-only, once per handle) and returns
 * MTASTS_ESTORE.
 */
int	store_fault(struct store *st, int rc, const char *what);
/* MTASTS_OK, or MTASTS_ESTORE (said once) when the store is read-only. */
int	store_write_allowed(struct store *st, const char *what);
/* A kept statement, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(struct store *st, enum store_sql which);
/* Steps a bound statement that returns no row; resets it. */
int	store_run(struct store *st, enum store_sql which, const char *what);
/* Runs a kept statement without parameters and rows (BEGIN, COMMIT...). */
int	store_exec_stmt(struct store *st, enum store_sql which,
	    const char *what);
/* Ends a failed transaction, if SQLite has not already. */
void	store_rollback(struct store *st, const char *what);
/* Is domain a name a row may have (not empty, not too long)? */
int	store_name_ok(const char *domain);

#endif
