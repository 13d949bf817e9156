/*
 * test_tlsrpt.c - TLS-RPT: recording results into the store (exact
 * counts, normalised keys, cost), the schema migration, the report JSON
 * against the RFC 8460 section 4.4 schema (the RFC's own example as a
 * golden file), reading what real reporters send (Google's and
 * Microsoft's shapes, quirks, gzip, whole messages), and the pieces of
 * delivery (base64, state files).
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "engine/ctx.h"
#include "util/gz.h"
#include "util/mime.h"
#include "rfc/report.h"
#include "tlsrpt/rstate.h"
#include "store/store.h"
#include "engine/tlsrpt.h"
#include "store/tlsrpt_spool.h"

#define DATA	"tests/unit/data/tlsrpt/"

struct fixture {
	char			 dir[64];
	char			 conf[128];
	char			 db[128];
	struct mtasts_ctx	*ctx;
};

struct tally {
	unsigned long long	 total;
	unsigned		 rows;
	char			 seen[4096];
};

static int	setup(void **);
static int	teardown(void **);
static char	*slurp(const char *, size_t *);
static struct mtasts_report *parse_file(const char *,
		    struct mtasts_diag *);
static int	has_warning(const struct mtasts_diag *, const char *);
static int	tally_row(void *, const struct store_tlsrpt_row *);
static void	record(struct mtasts_ctx *, const char *,
		    enum mtasts_policy_type, const char *, const char *, const char *,
		    enum mtasts_result, const char *);
static void	check_schema(json_t *);
static void	check_keys(json_t *, const char *const *, const char *const *);
static void	spool_write(const char *, const char *);
static int	spool_leftovers(const struct fixture *);

static int
setup(void **state)
{
	struct fixture	*f;
	FILE		*fp;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_tlsrpt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/mtasts.conf", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	assert_non_null(fp = fopen(f->conf, "w"));
	fprintf(fp, "store %s\nreport_dir %s/reports\n"
	    "report_submitter mx.sender.example\n", f->db, f->dir);
	fclose(fp);
	assert_int_equal(mtasts_ctx_open(f->conf, NULL, NULL, MTASTS_LOG_ERR,
	    &f->ctx, NULL), MTASTS_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	mtasts_ctx_close(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp = fopen(path, "r");
	char	*buf;
	long	 n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static struct mtasts_report *
parse_file(const char *path, struct mtasts_diag *diag)
{
	struct mtasts_report	*r = NULL;
	size_t			 len;
	char			*buf = slurp(path, &len);

	assert_int_equal(mtasts_report_parse(buf, len, &r, diag), MTASTS_OK);
	free(buf);
	return r;
}

static int
has_warning(const struct mtasts_diag *d, const char *part)
{
	unsigned	i;

	for (i = 0; i < d->nwarn; i++)
		if (strstr(d->warn[i].msg, part) != NULL)
			return 1;
	return 0;
}

static void
record(struct mtasts_ctx *ctx, const char *domain, enum mtasts_policy_type t,
    const char *mx, const char *rip, const char *sip, enum mtasts_result res,
    const char *detail)
{
	struct mtasts_tlsrpt_result	r;

	memset(&r, 0, sizeof(r));
	r.domain = domain;
	r.policy_type = t;
	r.mx_host = mx;
	r.receiving_ip = rip;
	r.sending_ip = sip;
	r.result = res;
	r.detail = detail;
	assert_int_equal(mtasts_tlsrpt_record(ctx, &r), MTASTS_OK);
}

static int
tally_row(void *arg, const struct store_tlsrpt_row *r)
{
	struct tally	*t = arg;
	size_t		 len = strlen(t->seen);

	t->total += r->count;
	t->rows++;
	snprintf(t->seen + len, sizeof(t->seen) - len,
	    "%s|%s|%s|%s|%s|%s|%s=%llu\n", r->domain, r->policy_type,
	    r->result, r->mx, r->receiving_ip, r->sending_ip, r->detail,
	    r->count);
	return 0;
}

/* ------------------------------------------------------------ names */

static void
test_result_names(void **state)
{
	static const char *const want[] = {
		"success", "starttls-not-supported",
		"certificate-host-mismatch", "certificate-expired",
		"certificate-not-trusted", "validation-failure",
		"tlsa-invalid", "dnssec-invalid", "dane-required",
		"sts-policy-fetch-error", "sts-policy-invalid",
		"sts-webpki-invalid" };
	unsigned	i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(mtasts_result_name(i), want[i]);
	assert_string_equal(mtasts_result_name(99), "unknown");
	assert_string_equal(tlsrpt_policy_type_name(MTASTS_POLICY_STS),
	    "sts");
	assert_string_equal(tlsrpt_policy_type_name(MTASTS_POLICY_TLSA),
	    "tlsa");
	assert_string_equal(tlsrpt_policy_type_name(
	    MTASTS_POLICY_NONE_FOUND), "no-policy-found");
	assert_int_equal(tlsrpt_fetch_result(FETCH_ETLS),
	    MTASTS_RESULT_STS_WEBPKI_INVALID);
	assert_int_equal(tlsrpt_fetch_result(FETCH_ETOOBIG),
	    MTASTS_RESULT_STS_POLICY_INVALID);
	assert_int_equal(tlsrpt_fetch_result(FETCH_EHTTP),
	    MTASTS_RESULT_STS_POLICY_FETCH_ERROR);
	assert_int_equal(tlsrpt_fetch_result(FETCH_ETIMEOUT),
	    MTASTS_RESULT_STS_POLICY_FETCH_ERROR);
}

/* ------------------------------------------------------------ recording */

/* A day of results gives exact counters, one row per distinct key. */
static void
test_record_counts(void **state)
{
	struct fixture	*f = *state;
	struct tally	 t;
	int		 i;

	for (i = 0; i < 7; i++)
		record(f->ctx, "Example.ORG.", MTASTS_POLICY_STS,
		    "MX1.example.org", "192.0.2.1", "198.51.100.7",
		    MTASTS_RESULT_SUCCESS, NULL);
	for (i = 0; i < 3; i++)
		record(f->ctx, "example.org", MTASTS_POLICY_STS,
		    "mx2.example.org.", "2001:db8:0::1", "198.51.100.7",
		    MTASTS_RESULT_CERT_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED");
	record(f->ctx, "example.org", MTASTS_POLICY_STS, NULL, NULL, NULL,
	    MTASTS_RESULT_STS_POLICY_FETCH_ERROR, "HTTP status 404");
	record(f->ctx, "other.example", MTASTS_POLICY_NONE_FOUND,
	    "mx.other.example", "not-an-ip", "192.0.2.9",
	    MTASTS_RESULT_SUCCESS, NULL);
	tlsrpt_note_fetch_failure(f->ctx, "example.org",
	    MTASTS_RESULT_STS_WEBPKI_INVALID, "certificate expired");

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(f->ctx->store,
	    (long long)(time(NULL) / 86400), tally_row, &t), MTASTS_OK);
	assert_int_equal(t.total, 13);
	assert_int_equal(t.rows, 5);
	/* normalised: lower case, no trailing dot, canonical IPv6 */
	assert_non_null(strstr(t.seen, "example.org|sts|success|"
	    "mx1.example.org|192.0.2.1|198.51.100.7|=7\n"));
	assert_non_null(strstr(t.seen, "example.org|sts|certificate-expired|"
	    "mx2.example.org|2001:db8::1|198.51.100.7|"
	    "X509_V_ERR_CERT_HAS_EXPIRED=3\n"));
	assert_non_null(strstr(t.seen, "example.org|sts|"
	    "sts-policy-fetch-error||||HTTP status 404=1\n"));
	assert_non_null(strstr(t.seen, "example.org|sts|sts-webpki-invalid"
	    "||||certificate expired=1\n"));
	/* a receiving IP that is not one is left out */
	assert_non_null(strstr(t.seen, "other.example|no-policy-found|"
	    "success|mx.other.example||192.0.2.9|=1\n"));
	/* another day is another counter */
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(f->ctx->store,
	    (long long)(time(NULL) / 86400) - 1, tally_row, &t), MTASTS_OK);
	assert_int_equal(t.rows, 0);
}

static void
test_record_bad_args(void **state)
{
	struct fixture			*f = *state;
	struct mtasts_tlsrpt_result	 r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_EINVAL);
	r.domain = "bad domain!";
	assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_EINVAL);
	r.domain = "example.org";
	r.result = 42;
	assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_EINVAL);
	r.result = MTASTS_RESULT_SUCCESS;
	r.policy_type = 7;
	assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_EINVAL);
	assert_int_equal(mtasts_tlsrpt_record(NULL, &r), MTASTS_EINVAL);
}

/* No store (disabled): an error to log, never a crash. */
static void
test_record_no_store(void **state)
{
	struct fixture			*f = *state;
	struct mtasts_ctx		*ctx;
	struct mtasts_tlsrpt_result	 r;
	FILE				*fp;

	assert_non_null(fp = fopen(f->conf, "w"));
	fprintf(fp, "store \"\"\n");
	fclose(fp);
	if (mtasts_ctx_open(f->conf, NULL, NULL, MTASTS_LOG_ERR, &ctx,
	    NULL) != MTASTS_OK) {
		assert_non_null(fp = fopen(f->conf, "w"));
		fprintf(fp, "store /nonexistent/dir/store.db\n");
		fclose(fp);
		assert_int_equal(mtasts_ctx_open(f->conf, NULL, NULL,
		    MTASTS_LOG_ERR, &ctx, NULL), MTASTS_OK);
	}
	memset(&r, 0, sizeof(r));
	r.domain = "example.org";
	assert_int_equal(mtasts_tlsrpt_record(ctx, &r), MTASTS_ESTORE);
	mtasts_ctx_close(ctx);
}

/* The cost on the delivery path: one spool append on a warm store. */
static void
test_record_speed(void **state)
{
	struct fixture			*f = *state;
	struct mtasts_tlsrpt_result	 r;
	struct timespec			 t0, t1;
	char				 mx[32];
	double				 us;
	int				 i, n = 5000;

	memset(&r, 0, sizeof(r));
	r.domain = "example.org";
	r.receiving_ip = "192.0.2.1";
	r.sending_ip = "198.51.100.7";
	r.mx_host = mx;
	snprintf(mx, sizeof(mx), "mx0.example.org");
	assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		snprintf(mx, sizeof(mx), "mx%d.example.org", i % 8);
		r.result = i % 10 == 0 ? MTASTS_RESULT_CERT_EXPIRED :
		    MTASTS_RESULT_SUCCESS;
		assert_int_equal(mtasts_tlsrpt_record(f->ctx, &r), MTASTS_OK);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / n;
	print_message("mtasts_tlsrpt_record: %.1f us per result (warm "
	    "store, %d results)\n", us, n);
	/* target 50 us; the bound leaves room for sanitizers and slow CI */
	assert_true(us < 500.0);
}

/* ------------------------------------------------------------ spool */

static void
spool_write(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "a"));
	fputs(text, fp);
	fclose(fp);
}

static int
spool_leftovers(const struct fixture *f)
{
	char	 cmd[256];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -q 'store.db.tlsrpt'",
	    f->dir);
	return system(cmd) == 0;
}

/* Recorded results are lines in the spool until read, then exact rows. */
static void
test_spool_fold_counts(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = ctx_store(f->ctx);
	struct tally	 t;
	struct stat	 sb;
	const char	*spool;
	long long	 today = (long long)(time(NULL) / 86400);
	char		 line[TLSRPT_SPOOL_LINE_MAX];
	int		 i;

	record(f->ctx, "example.org", MTASTS_POLICY_STS, "mx1.example.org",
	    "192.0.2.1", NULL, MTASTS_RESULT_SUCCESS, NULL);
	assert_non_null(spool = store_tlsrpt_spool(st));
	assert_int_equal(stat(spool, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0660);
	for (i = 0; i < 4; i++)
		record(f->ctx, "example.org", MTASTS_POLICY_STS,
		    "mx1.example.org", "192.0.2.1", NULL,
		    MTASTS_RESULT_SUCCESS, NULL);
	/* another day, and a detail with the separators escaped */
	assert_true(tlsrpt_spool_line(store_tlsrpt_spool_tag(st),
	    &(struct store_tlsrpt_row){
	    .day = today - 3, .domain = "example.org", .policy_type = "sts",
	    .result = "validation-failure", .detail = "a\tb\\c\nd" },
	    line, sizeof(line)) > 0);
	spool_write(spool, line);
	spool_write(spool, line);
	assert_int_equal(tlsrpt_spool_line(store_tlsrpt_spool_tag(st),
	    &(struct store_tlsrpt_row){
	    .day = 1, .domain = "example.org", .policy_type = "sts",
	    .result = "success" }, line, 20), -1);
	/* nothing is in the table before the fold */
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, today, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.total, 5);
	assert_int_equal(t.rows, 1);
	assert_non_null(strstr(t.seen, "example.org|sts|success|"
	    "mx1.example.org|192.0.2.1||=5\n"));
	assert_false(spool_leftovers(f));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, today - 3, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.total, 2);
	assert_non_null(strstr(t.seen, "|a\tb\\c\nd=2\n"));
	/* folded once: reading again counts nothing twice */
	record(f->ctx, "example.org", MTASTS_POLICY_STS, "mx1.example.org",
	    "192.0.2.1", NULL, MTASTS_RESULT_SUCCESS, NULL);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, today, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.total, 6);
	/* purge folds first: old spooled days go too */
	assert_true(tlsrpt_spool_line(store_tlsrpt_spool_tag(st),
	    &(struct store_tlsrpt_row){
	    .day = today - 9, .domain = "old.example", .policy_type = "sts",
	    .result = "success" }, line, sizeof(line)) > 0);
	spool_write(spool, line);
	assert_int_equal(store_tlsrpt_purge(st, today - 1), MTASTS_OK);
	assert_false(spool_leftovers(f));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, today - 9, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.rows, 0);
}

/* A line that does not parse is skipped; the others are counted. */
static void
test_spool_malformed(void **state)
{
	static const char *const bad[] = {
		"garbage\n",
		"2\t-\t20000\texample.org\tsts\tsuccess\t\t\t\t\n",
		"1\t-\tx20000\texample.org\tsts\tsuccess\t\t\t\t\n",
		"1\t-\t-5\texample.org\tsts\tsuccess\t\t\t\t\n",
		"1\t-\t20000\t\tsts\tsuccess\t\t\t\t\n",
		"1\t-\t20000\texample.org\tSTS!\tsuccess\t\t\t\t\n",
		"1\t-\t20000\texample.org\tsts\tsuccess\t\t\t\n",
		"1\t-\t20000\texample.org\tsts\tsuccess\t\t\t\t\t\n",
		"1\t-\t20000\texample.org\tsts\tsuccess\t\t\t\tbad\\q\n",
		NULL };
	struct fixture	*f = *state;
	struct store	*st = ctx_store(f->ctx);
	struct store_tlsrpt_row r;
	struct tally	 t;
	const char	*spool, *tag;
	char		 buf[256];
	int		 i;

	assert_non_null(spool = store_tlsrpt_spool(st));
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		if (tlsrpt_spool_parse(buf, strlen(buf), &tag, &r) == 0)
			fail_msg("line %d parsed", i);
		spool_write(spool, bad[i]);
		spool_write(spool, "1\t-\t20000\texample.org\tsts\tsuccess"
		    "\tmx.example.org\t\t\t\n");
	}
	/* a last line cut short (no LF) is malformed too */
	spool_write(spool, "1\t-\t20000\texample.org\tsts\tsuccess\t\t\t");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, 20000, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.total, 9);
	assert_int_equal(t.rows, 1);
	assert_false(spool_leftovers(f));
}

/* Ten processes appending 500 results each at once lose none. */
static void
test_spool_concurrent(void **state)
{
	struct fixture			*f = *state;
	struct mtasts_tlsrpt_result	 r;
	struct mtasts_ctx		*ctx;
	struct tally			 t;
	pid_t				 pid[10];
	int				 i, j, status, bad;

	memset(&r, 0, sizeof(r));
	r.domain = "example.org";
	r.mx_host = "mx.example.org";
	for (i = 0; i < 10; i++) {
		assert_true((pid[i] = fork()) != -1);
		if (pid[i] != 0)
			continue;
		bad = mtasts_ctx_open(f->conf, NULL, NULL, MTASTS_LOG_ERR,
		    &ctx, NULL) != MTASTS_OK;
		for (j = 0; !bad && j < 500; j++) {
			r.result = j % 2 ? MTASTS_RESULT_SUCCESS :
			    MTASTS_RESULT_CERT_EXPIRED;
			bad = mtasts_tlsrpt_record(ctx, &r) != MTASTS_OK;
			/* a reader folding meanwhile loses nothing either */
			if (i == 0 && j % 100 == 50)
				bad = store_tlsrpt_fold(ctx_store(ctx)) !=
				    MTASTS_OK;
		}
		if (!bad)
			mtasts_ctx_close(ctx);
		_exit(bad);
	}
	for (i = 0; i < 10; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(ctx_store(f->ctx),
	    (long long)(time(NULL) / 86400), tally_row, &t), MTASTS_OK);
	assert_int_equal(t.total, 5000);
	assert_int_equal(t.rows, 2);
	assert_non_null(strstr(t.seen,
	    "example.org|sts|success|mx.example.org|||=2500"));
	assert_false(spool_leftovers(f));
}

/* No spool, an empty one, or a fold's leftover: folding is harmless. */
static void
test_spool_empty(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = ctx_store(f->ctx);
	struct tally	 t;
	const char	*spool;
	char		 path[256];

	assert_non_null(spool = store_tlsrpt_spool(st));
	assert_int_equal(access(spool, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_tlsrpt_fold(st), MTASTS_OK);
	spool_write(spool, "");
	assert_int_equal(store_tlsrpt_fold(st), MTASTS_OK);
	assert_false(spool_leftovers(f));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, 20000, tally_row, &t),
	    MTASTS_OK);
	assert_int_equal(t.rows, 0);
	/* a file a failed fold left behind is taken by the next one */
	snprintf(path, sizeof(path), "%s.fold-1-2.3", spool);
	spool_write(path, "1\t-\t20000\texample.org\tsts\tsuccess"
	    "\t\t\t\t\n");
	/* lines of a store file since deleted and created again: dropped */
	spool_write(spool, "1\tfeed-1.2\t20000\texample.org\tsts\tsuccess"
	    "\t\t\t\t\n");
	assert_int_equal(store_tlsrpt_fold(st), MTASTS_OK);
	assert_false(spool_leftovers(f));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_tlsrpt_day(st, 20000, tally_row, &t),
	    MTASTS_OK);
	/* "-": a file system without birth times, where any tag matches */
	assert_int_equal(t.total,
	    strcmp(store_tlsrpt_spool_tag(st), "-") == 0 ? 2 : 1);
}

/* A version 1 database (policy cache only) is upgraded in place. */
static void
test_migration(void **state)
{
	struct fixture		*f = *state;
	struct store_policy	 p;
	struct store		*st;
	sqlite3			*db;
	char			 path[160];

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE policies ("
	    " domain TEXT PRIMARY KEY NOT NULL, id TEXT NOT NULL, text TEXT,"
	    " fetched INTEGER NOT NULL, expires INTEGER NOT NULL,"
	    " checked INTEGER NOT NULL, failed INTEGER NOT NULL DEFAULT 0,"
	    " failed_id TEXT NOT NULL DEFAULT '');"
	    "CREATE TABLE leases (domain TEXT PRIMARY KEY NOT NULL,"
	    " until INTEGER NOT NULL, owner INTEGER NOT NULL);"
	    "INSERT INTO policies VALUES ('kept.example', 'id1', 'x', 1, 2,"
	    " 3, 0, '');"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, 1000, NULL, &st), MTASTS_OK);
	assert_int_equal(store_get(st, "kept.example", &p), MTASTS_OK);
	assert_string_equal(p.id, "id1");
	store_policy_clear(&p);
	assert_int_equal(store_tlsrpt_add(st, &(struct store_tlsrpt_row){
	    .day = 1, .domain = "kept.example", .policy_type = "sts",
	    .result = "success", .count = 2 }), MTASTS_OK);
	assert_int_equal(store_tlsrpt_purge(st, 2), MTASTS_OK);
	store_close(st);
}

/* ------------------------------------------------------------ JSON */

static void
check_keys(json_t *o, const char *const *required,
    const char *const *optional)
{
	const char	*key;
	json_t		*v;
	size_t		 i;
	int		 ok;

	assert_true(json_is_object(o));
	for (i = 0; required[i] != NULL; i++) {
		if (json_object_get(o, required[i]) == NULL)
			fail_msg("required key %s missing", required[i]);
	}
	json_object_foreach(o, key, v) {
		ok = 0;
		for (i = 0; required[i] != NULL; i++)
			ok |= strcmp(key, required[i]) == 0;
		for (i = 0; optional[i] != NULL; i++)
			ok |= strcmp(key, optional[i]) == 0;
		if (!ok)
			fail_msg("key %s is not in the RFC 8460 schema", key);
	}
}

/* RFC 8460 section 4.4, member by member. */
static void
check_schema(json_t *root)
{
	static const char *const top[] = { "organization-name",
	    "date-range", "contact-info", "report-id", "policies", NULL };
	static const char *const range[] = { "start-datetime",
	    "end-datetime", NULL };
	static const char *const pol[] = { "policy", "summary", NULL };
	static const char *const pol_opt[] = { "failure-details", NULL };
	static const char *const policy[] = { "policy-type",
	    "policy-domain", NULL };
	static const char *const policy_opt[] = { "policy-string",
	    "mx-host", NULL };
	static const char *const sum[] = { "total-successful-session-count",
	    "total-failure-session-count", NULL };
	static const char *const fd[] = { "result-type",
	    "failed-session-count", NULL };
	static const char *const fd_opt[] = { "sending-mta-ip",
	    "receiving-mx-hostname", "receiving-mx-helo", "receiving-ip",
	    "additional-information", "failure-reason-code", NULL };
	static const char *const none[] = { NULL };
	json_t		*p, *d, *v;
	size_t		 i, j;
	const char	*s;

	check_keys(root, top, none);
	check_keys(json_object_get(root, "date-range"), range, none);
	s = json_string_value(json_object_get(json_object_get(root,
	    "date-range"), "start-datetime"));
	assert_non_null(s);
	assert_int_equal(strlen(s), 20);
	assert_int_equal(s[19], 'Z');
	assert_true(json_is_array(json_object_get(root, "policies")));
	json_array_foreach(json_object_get(root, "policies"), i, p) {
		check_keys(p, pol, pol_opt);
		check_keys(json_object_get(p, "policy"), policy, policy_opt);
		v = json_object_get(json_object_get(p, "policy"), "mx-host");
		assert_true(v == NULL || json_is_array(v));
		v = json_object_get(json_object_get(p, "policy"),
		    "policy-string");
		assert_true(v == NULL || json_is_array(v));
		check_keys(json_object_get(p, "summary"), sum, none);
		assert_true(json_is_integer(json_object_get(json_object_get(p,
		    "summary"), "total-failure-session-count")));
		json_array_foreach(json_object_get(p, "failure-details"), j,
		    d) {
			check_keys(d, fd, fd_opt);
			assert_true(json_is_integer(json_object_get(d,
			    "failed-session-count")));
		}
	}
}

/* The RFC's own example: read with its two quirks, written as golden. */
static void
test_rfc_example(void **state)
{
	struct mtasts_report		*r;
	struct mtasts_report_policy	*p;
	struct mtasts_diag		 diag;
	json_error_t			 jerr;
	json_t				*root;
	char				*out, *want;
	size_t				 len;

	(void)state;
	r = parse_file(DATA "rfc8460-example.json", &diag);
	assert_string_equal(r->org, "Company-X");
	assert_string_equal(r->report_id,
	    "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
	assert_int_equal(r->start, 1459468800);
	assert_int_equal(r->end, 1459468800 + 86399);
	assert_int_equal(r->npolicies, 1);
	p = &r->policies[0];
	assert_string_equal(p->type, "sts");
	assert_int_equal(p->nstrings, 4);
	assert_int_equal(p->nmx, 1);
	assert_int_equal(p->success, 5326);
	assert_int_equal(p->failure, 303);
	assert_int_equal(p->ndetails, 3);
	assert_string_equal(p->details[2].reason_code,
	    "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
	assert_true(has_warning(&diag, "mx-host is a string"));
	assert_true(has_warning(&diag, "failure-error-code"));
	out = mtasts_report_json(r);
	assert_non_null(out);
	want = slurp(DATA "rfc8460-example.out.json", &len);
	want[strcspn(want, "\0")] = '\0';
	if (len > 0 && want[len - 1] == '\n')
		want[len - 1] = '\0';
	assert_string_equal(out, want);
	root = json_loads(out, 0, &jerr);
	assert_non_null(root);
	check_schema(root);
	json_decref(root);
	free(want);
	free(out);
	mtasts_report_free(r);
}

/* A built report model: every RFC key, policies an array even of one. */
static void
test_json_schema_built(void **state)
{
	struct mtasts_report		 r;
	struct mtasts_report_policy	*p;
	struct mtasts_report_failure	*d;
	json_error_t			 jerr;
	json_t				*root;
	char				*out;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.org = "Org";
	r.contact = "postmaster@mx.sender.example";
	r.report_id = "20261124.0011@mx.sender.example";
	r.start = 1763942400;
	r.end = r.start + 86399;
	assert_non_null(p = report_add_policy(&r));
	p->type = "no-policy-found";
	p->domain = "example.org";
	p->success = 2;
	p->failure = 1;
	assert_non_null(d = report_add_failure(p));
	d->result_type = "starttls-not-supported";
	d->mx_host = "mx.example.org";
	d->count = 1;
	out = mtasts_report_json(&r);
	assert_non_null(out);
	root = json_loads(out, 0, &jerr);
	assert_non_null(root);
	check_schema(root);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    root, "date-range"), "end-datetime")), "2025-11-24T23:59:59Z");
	assert_int_equal(json_array_size(json_object_get(root, "policies")),
	    1);
	/* no policy-string or mx-host without a policy */
	assert_null(json_object_get(json_object_get(json_array_get(
	    json_object_get(root, "policies"), 0), "policy"), "mx-host"));
	json_decref(root);
	free(out);
	free(p->details);
	free(r.policies);
}

static void
test_google_shape(void **state)
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;

	(void)state;
	r = parse_file(DATA "google.json", &diag);
	assert_string_equal(r->org, "Google Inc.");
	assert_int_equal(r->npolicies, 1);
	assert_int_equal(r->policies[0].nmx, 0);
	assert_int_equal(r->policies[0].nstrings, 5);
	assert_int_equal(r->policies[0].success, 412);
	assert_int_equal(r->policies[0].ndetails, 0);
	assert_true(has_warning(&diag, "no mx-host"));
	mtasts_report_free(r);
}

static void
test_microsoft_shape(void **state)
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;

	(void)state;
	r = parse_file(DATA "microsoft.json", &diag);
	assert_int_equal(diag.nwarn, 0);
	assert_int_equal(r->npolicies, 2);
	assert_int_equal(r->policies[0].failure, 4);
	assert_int_equal(r->policies[0].ndetails, 2);
	assert_string_equal(r->policies[0].details[0].receiving_ip,
	    "198.51.100.25");
	assert_string_equal(r->policies[1].type, "no-policy-found");
	mtasts_report_free(r);
}

static void
test_quirks(void **state)
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;

	(void)state;
	r = parse_file(DATA "quirks.json", &diag);
	assert_int_equal(r->start, 1795392000);	/* 2026-11-23 UTC */
	assert_int_equal(r->end, 1795392000 + 86399);
	assert_int_equal(r->npolicies, 1);
	assert_int_equal(r->policies[0].success, 10);
	assert_int_equal(r->policies[0].failure, 5);	/* as given */
	assert_true(has_warning(&diag, "no time zone"));
	assert_true(has_warning(&diag, "policies is an object"));
	assert_true(has_warning(&diag, "summary counts 5 failures, the "
	    "details 3"));
	mtasts_report_free(r);
}

/*
 * Every string of a report is hostile: the model keeps it as sent (the
 * printer escapes it), a NUL becomes U+FFFD, counts above INT64_MAX are
 * capped and their sums saturate instead of wrapping; the JSON writer
 * escapes what it writes. The text printer's exact output for this file
 * is tests/unit/data/tlsrpt/hostile.out, checked by cli_offline.sh.
 */
static void
test_hostile(void **state)
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;
	json_t			*back;
	char			*json;
	const struct mtasts_report_policy *p;

	(void)state;
	r = parse_file(DATA "hostile.json", &diag);
	assert_string_equal(r->org, "Evil\r\nInjected: yes");
	assert_string_equal(r->contact, "\x1b[31mred\x1b[0m\x07 \xc2\x85 "
	    "\xe2\x80\xaegnp.exe \\x41 \xc3\xa9");
	assert_string_equal(r->report_id, "id\xef\xbf\xbdhidden\x7f");
	p = &r->policies[0];
	assert_string_equal(p->domain, "victim.example\b\b\b\bevil");
	assert_int_equal(p->success, INT64_MAX);
	assert_int_equal(p->failure, INT64_MAX);
	assert_int_equal(p->ndetails, 3);
	assert_int_equal(p->details[2].count, INT64_MAX);
	assert_true(has_warning(&diag, "total-failure-session-count is "
	    "implausibly large; capped at 9223372036854775807"));
	assert_true(has_warning(&diag, "failed-session-count is implausibly "
	    "large"));
	/* the details' sum saturates: it equals the capped summary */
	assert_false(has_warning(&diag, "the summary counts"));

	json = mtasts_report_json(r);
	assert_non_null(json);
	assert_null(strchr(json, '\x1b'));
	assert_null(strchr(json, '\r'));
	back = json_loads(json, 0, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back,
	    "organization-name")), r->org);
	assert_string_equal(json_string_value(json_object_get(back,
	    "report-id")), r->report_id);
	json_decref(back);
	free(json);
	mtasts_report_free(r);
}

static void
test_not_a_report(void **state)
{
	static const char *const bad[] = { "", "hello", "[1,2]",
	    "{\"organization-name\": \"x\"}", "{\"policies\": 3}",
	    "\x1f\x8b\x08\x00garbage" };
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mtasts_report_parse(bad[i], strlen(bad[i]),
		    &r, &diag), MTASTS_ESYNTAX);
		assert_null(r);
		assert_true(diag.error.msg[0] != '\0');
	}
}

/* gzip, and a whole message with the gzip in base64 */
static void
test_gzip_and_mail(void **state)
{
	struct mtasts_report	*r;
	struct mtasts_diag	 diag;
	char			*json, *gz, *b64, *msg, *back;
	size_t			 len, gzlen, blen;

	(void)state;
	json = slurp(DATA "microsoft.json", &len);
	assert_int_equal(gz_compress(json, len, &gz, &gzlen), MTASTS_OK);
	assert_int_equal(gz_decompress(gz, gzlen, len, &back, &blen),
	    MTASTS_OK);
	assert_memory_equal(back, json, len);
	free(back);
	assert_int_equal(gz_decompress(gz, gzlen, len - 1, &back, &blen),
	    MTASTS_ETOOBIG);
	assert_int_equal(gz_decompress(gz, gzlen / 2, len, &back, &blen),
	    MTASTS_ESYNTAX);
	assert_int_equal(mtasts_report_parse(gz, gzlen, &r, &diag),
	    MTASTS_OK);
	assert_int_equal(r->policies[0].failure, 4);
	mtasts_report_free(r);

	b64 = mime_base64(gz, gzlen);
	assert_non_null(b64);
	assert_true(asprintf(&msg, "From: <tlsrpt-noreply@microsoft.com>\r\n"
	    "Subject: Report Domain: example.org Submitter: microsoft.com "
	    "Report-ID: <1@microsoft.com>\r\n"
	    "TLS-Report-Domain: example.org\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"b1\"\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain\r\n\r\n"
	    "Content-Type: application/tlsrpt+json\r\n"
	    "not the report: a body line that looks like a header\r\n\r\n"
	    "--b1\r\nContent-Type: application/tlsrpt+gzip;\r\n"
	    "\tname=\"x.json.gz\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
	    b64) > 0);
	assert_int_equal(mtasts_report_parse(msg, strlen(msg), &r, &diag),
	    MTASTS_OK);
	assert_string_equal(r->org, "Microsoft Corporation");
	mtasts_report_free(r);
	free(msg);
	/* a message without a report part */
	msg = "Subject: hi\r\n\r\nhello\r\n";
	assert_int_equal(mtasts_report_parse(msg, strlen(msg), &r, &diag),
	    MTASTS_ESYNTAX);
	free(b64);
	free(gz);
	free(json);
}

static void
test_base64(void **state)
{
	char	*e, *d;
	size_t	 n;

	(void)state;
	e = mime_base64("foobar", 6);
	assert_string_equal(e, "Zm9vYmFy\r\n");
	free(e);
	e = mime_base64("fo", 2);
	assert_string_equal(e, "Zm8=\r\n");
	assert_int_equal(mime_unbase64(e, strlen(e), &d, &n), MTASTS_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(d, "fo", 2);
	free(d);
	free(e);
	assert_int_equal(mime_unbase64("!!", 2, &d, &n), MTASTS_ESYNTAX);
}

static void
test_datetime(void **state)
{
	time_t	t;
	int	nozone;

	(void)state;
	assert_int_equal(report_parse_datetime("2016-04-01T00:00:00Z", &t,
	    &nozone), 0);
	assert_int_equal(t, 1459468800);
	assert_int_equal(nozone, 0);
	assert_int_equal(report_parse_datetime("2016-04-01T02:00:00+02:00",
	    &t, &nozone), 0);
	assert_int_equal(t, 1459468800);
	assert_int_equal(report_parse_datetime("2016-04-01T00:00:00.123Z",
	    &t, &nozone), 0);
	assert_int_equal(report_parse_datetime("2016-04-01T00:00:00", &t,
	    &nozone), 0);
	assert_int_equal(nozone, 1);
	assert_int_equal(report_parse_datetime("2016-04-01", &t, &nozone),
	    -1);
	assert_int_equal(report_parse_datetime("2016-04-01T00:00:00Zjunk",
	    &t, &nozone), -1);
}

static void
test_rstate(void **state)
{
	struct fixture	*f = *state;
	struct rstate	 st, back;
	char		 path[160];
	FILE		*fp;

	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/x.state", f->dir);
	st.domain = strdup("example.org");
	st.report_id = strdup("id@x");
	st.day = 86400;
	st.built = 90000;
	assert_int_equal(rstate_add_rua(&st, "mailto:a@example.org"),
	    MTASTS_OK);
	assert_int_equal(rstate_add_rua(&st, "https://r.example.org/x y"),
	    MTASTS_OK);
	st.rua[1].status = RSTATE_SENT;
	st.rua[1].attempts = 2;
	st.rua[1].last = 12345;
	assert_int_equal(rstate_save(path, &st), MTASTS_OK);
	assert_int_equal(rstate_load(path, &back), MTASTS_OK);
	assert_string_equal(back.domain, "example.org");
	assert_int_equal(back.day, 86400);
	assert_int_equal(back.built, 90000);
	assert_int_equal(back.nrua, 2);
	assert_string_equal(back.rua[1].uri, "https://r.example.org/x y");
	assert_int_equal(back.rua[1].status, RSTATE_SENT);
	assert_int_equal(back.rua[1].attempts, 2);
	assert_int_equal(back.rua[1].last, 12345);
	rstate_clear(&back);
	rstate_clear(&st);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "something else\n");
	fclose(fp);
	assert_int_equal(rstate_load(path, &back), MTASTS_ESYNTAX);
}

/* Build with no results that day: nothing, and no DNS needed. */
static void
test_build_empty_day(void **state)
{
	struct fixture	*f = *state;
	unsigned	 n = 99;
	char		 dir[160];
	struct stat	 sb;

	assert_int_equal(mtasts_report_build(f->ctx, 86400 * 3, &n),
	    MTASTS_OK);
	assert_int_equal(n, 0);
	snprintf(dir, sizeof(dir), "%s/reports", f->dir);
	assert_int_equal(stat(dir, &sb), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_names),
		cmocka_unit_test_setup_teardown(test_record_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_bad_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_no_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_speed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spool_fold_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spool_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spool_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spool_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup,
		    teardown),
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_json_schema_built),
		cmocka_unit_test(test_google_shape),
		cmocka_unit_test(test_microsoft_shape),
		cmocka_unit_test(test_quirks),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_not_a_report),
		cmocka_unit_test(test_gzip_and_mail),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test_setup_teardown(test_rstate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_empty_day, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
