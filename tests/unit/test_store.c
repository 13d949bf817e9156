/*
 * test_store.c - the SQLite policy cache: every call, leases raced by
 * processes, and the faults (missing folder, corrupt file, locked,
 * read-only, newer schema) that must give MTASTS_ESTORE without a crash
 * or a hang, and the full disk (a real 1 MiB tmpfs filled up) on which
 * the cached policies must still be read.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#include <sqlite3.h>

#include "store/store.h"

#define NOBODY	65534
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

struct logcap {
	int	n;		/* lines logged */
	int	nerr;		/* at MTASTS_LOG_ERR */
	char	last[1024];	/* the last one */
	char	all[8192];	/* every line, '\n' after each */
};

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct logcap	 cap;
	struct logger	 lg;
};

static void	cap_log(void *arg, enum mtasts_loglevel level,
		    const char *msg);
static int	setup(void **state);
static int	teardown(void **state);
static double	now_s(void);
static void	policy_fill(struct store_policy *p, const char *domain,
		    const char *id, const char *text, time_t base);
static void	raw_exec(const char *path, const char *sql);
static void	write_file(const char *path, const void *buf, size_t len);
static int	as_nobody(void (*fn)(struct fixture *), struct fixture *f);
static int	on_tmpfs(void (*fn)(struct fixture *), struct fixture *f);
static void	disk_fill(const struct fixture *f);
static void	disk_free(const struct fixture *f);

static void
cap_log(void *arg, enum mtasts_loglevel level, const char *msg)
{
	struct logcap	*cap = arg;
	size_t		 len = strlen(cap->all);

	cap->n++;
	if (level == MTASTS_LOG_ERR)
		cap->nerr++;
	snprintf(cap->last, sizeof(cap->last), "%s", msg);
	snprintf(cap->all + len, sizeof(cap->all) - len, "%s\n", msg);
}

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mtasts.db", f->dir);
	f->lg.fn = cap_log;
	f->lg.arg = &f->cap;
	f->lg.level = MTASTS_LOG_DEBUG;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	chmod(f->dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
policy_fill(struct store_policy *p, const char *domain, const char *id,
    const char *text, time_t base)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->domain, sizeof(p->domain), "%s", domain);
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->text = (char *)text;
	p->fetched = base;
	p->expires = base + 86400;
	p->checked = base + 10;
	p->failed = base + 20;
	snprintf(p->failed_id, sizeof(p->failed_id), "%s", "oldid");
}

/* Runs SQL on a connection of its own (not through the store). */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/*
 * Root writes whatever the modes say, so permission faults are tested in
 * a child that became nobody. fn checks and _exit()s non-zero on a
 * failure (cmocka cannot assert across fork). Returns the exit status.
 */
static int
as_nobody(void (*fn)(struct fixture *), struct fixture *f)
{
	pid_t	pid;
	int	status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgid(NOBODY) == -1 || setuid(NOBODY) == -1))
			_exit(99);
		fn(f);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * Runs fn in a child with its own mount namespace, where a 1 MiB tmpfs
 * is mounted over the fixture's folder (gone with the child: nothing
 * leaks). fn _exit()s non-zero on a failure. Returns its exit status;
 * 77 when mounts cannot be made here (not root): the caller skips.
 */
static int
on_tmpfs(void (*fn)(struct fixture *), struct fixture *f)
{
	pid_t	pid;
	int	status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount("tmpfs", f->dir, "tmpfs", 0, "size=1m,mode=0755") ==
		    -1)
			_exit(77);
		fn(f);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Writes f->dir/fill until the file system says it is full. */
static void
disk_fill(const struct fixture *f)
{
	char	path[160], buf[4096];
	int	fd;

	snprintf(path, sizeof(path), "%s/fill", f->dir);
	memset(buf, 0x5a, sizeof(buf));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1)
		_exit(90);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	if (errno != ENOSPC)
		_exit(91);
	/* the last partial page too */
	while (write(fd, buf, 1) > 0)
		;
	close(fd);
}

static void
disk_free(const struct fixture *f)
{
	char	path[160];

	snprintf(path, sizeof(path), "%s/fill", f->dir);
	if (unlink(path) == -1)
		_exit(92);
}

static void
test_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;
	const char		*text = "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n";

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "20240101T000000", text, 1700000000);
	in.failed = (time_t)4102444800LL;	/* past 2038 */
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	assert_string_equal(out.domain, "example.com");
	assert_string_equal(out.id, "20240101T000000");
	assert_string_equal(out.text, text);
	assert_int_equal(out.fetched, 1700000000);
	assert_int_equal(out.expires, 1700000000 + 86400);
	assert_int_equal(out.checked, 1700000010);
	assert_true(out.failed == (time_t)4102444800LL);
	assert_string_equal(out.failed_id, "oldid");
	store_policy_clear(&out);
	assert_null(out.text);

	/* Longest id and domain fit. */
	memset(&in, 0, sizeof(in));
	memset(in.domain, 'a', MTASTS_NAME_MAX);
	memset(in.id, '7', MTASTS_ID_MAX);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_get(st, in.domain, &out), MTASTS_OK);
	assert_string_equal(out.id, in.id);
	assert_null(out.text);
	store_policy_clear(&out);
	store_close(st);
	assert_int_equal(f->cap.nerr, 0);
}

static void
test_file_mode(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct stat	 sb;
	mode_t		 old;

	old = umask(027);
	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0660);
	store_close(st);

	/* An existing file keeps its mode. */
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	store_close(st);
}

static void
test_schema(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	sqlite3		*db;
	sqlite3_stmt	*s;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	store_close(st);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 4);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
test_get_missing(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 out;
	char			 big[MTASTS_NAME_MAX + 2];

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	assert_int_equal(store_get(st, "nowhere.example", &out),
	    MTASTS_ENOTFOUND);
	assert_null(out.text);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_get(st, big, &out), MTASTS_EINVAL);
	assert_int_equal(store_get(st, "", &out), MTASTS_EINVAL);
	store_close(st);
}

static void
test_put_replaces(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "one", "first", 100);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	policy_fill(&in, "example.com", "two", NULL, 200);
	in.failed = 0;
	in.failed_id[0] = '\0';
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	assert_string_equal(out.id, "two");
	assert_null(out.text);
	assert_int_equal(out.fetched, 200);
	assert_int_equal(out.failed, 0);
	assert_string_equal(out.failed_id, "");
	store_policy_clear(&out);
	store_close(st);
}

static void
test_touch(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "one", "body", 100);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_touch(st, "example.com", 5000), MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	assert_int_equal(out.checked, 5000);
	assert_int_equal(out.fetched, 100);
	assert_int_equal(out.expires, 100 + 86400);
	assert_string_equal(out.text, "body");
	assert_string_equal(out.id, "one");
	store_policy_clear(&out);
	assert_int_equal(store_touch(st, "other.example", 5000),
	    MTASTS_ENOTFOUND);
	assert_int_equal(store_get(st, "other.example", &out),
	    MTASTS_ENOTFOUND);
	store_close(st);
}

static void
test_fail(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	/* No row: one is made, without text. */
	assert_int_equal(store_fail(st, "new.example", "id1", 777), MTASTS_OK);
	assert_int_equal(store_get(st, "new.example", &out), MTASTS_OK);
	assert_null(out.text);
	assert_string_equal(out.id, "");
	assert_int_equal(out.failed, 777);
	assert_string_equal(out.failed_id, "id1");
	assert_int_equal(out.expires, 0);
	store_policy_clear(&out);

	/* A cached policy keeps its text and id. */
	policy_fill(&in, "example.com", "good", "body", 100);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_fail(st, "example.com", "newer", 900),
	    MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	assert_string_equal(out.text, "body");
	assert_string_equal(out.id, "good");
	assert_int_equal(out.failed, 900);
	assert_string_equal(out.failed_id, "newer");
	assert_int_equal(out.checked, 110);
	store_policy_clear(&out);
	assert_int_equal(store_fail(st, "example.com",
	    "123456789012345678901234567890123", 1), MTASTS_EINVAL);
	store_close(st);
}

static void
test_forget_flush(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "a.example", "1", "x", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	policy_fill(&in, "b.example", "1", "x", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_forget(st, "a.example"), MTASTS_OK);
	assert_int_equal(store_get(st, "a.example", &out), MTASTS_ENOTFOUND);
	assert_int_equal(store_get(st, "b.example", &out), MTASTS_OK);
	store_policy_clear(&out);
	assert_int_equal(store_forget(st, "a.example"), MTASTS_ENOTFOUND);

	assert_int_equal(store_lease(st, "c.example", 1000, 60), 1);
	assert_int_equal(store_flush(st), MTASTS_OK);
	assert_int_equal(store_get(st, "b.example", &out), MTASTS_ENOTFOUND);
	store_close(st);
	/* Leases went too: another handle gets c.example at once. */
	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	assert_int_equal(store_lease(st, "c.example", 1000, 60), 1);
	store_close(st);
}

struct listed {
	int	n;
	int	stop_at;
	char	names[8][MTASTS_NAME_MAX + 1];
};

static int
list_cb(void *arg, const struct store_policy *p)
{
	struct listed	*l = arg;

	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", p->domain);
	l->n++;
	return l->n == l->stop_at ? 42 : 0;
}

static void
test_list(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in;
	struct listed		 l;
	const char		*names[] = { "m.example", "a.example",
	    "z.example", "b.example" };
	size_t			 i;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(st, list_cb, &l), MTASTS_OK);
	assert_int_equal(l.n, 0);
	for (i = 0; i < 4; i++) {
		policy_fill(&in, names[i], "1", "x", 1);
		assert_int_equal(store_put(st, &in), MTASTS_OK);
	}
	assert_int_equal(store_list(st, list_cb, &l), MTASTS_OK);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.names[0], "a.example");
	assert_string_equal(l.names[1], "b.example");
	assert_string_equal(l.names[2], "m.example");
	assert_string_equal(l.names[3], "z.example");
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	assert_int_equal(store_list(st, list_cb, &l), MTASTS_OK);
	assert_int_equal(l.n, 2);
	store_close(st);
}

static void
test_lease(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &a), MTASTS_OK);
	assert_int_equal(store_open(f->path, 1000, &f->lg, &b), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1000, 30), 1);
	assert_int_equal(store_lease(b, "example.com", 1000, 30), 0);
	assert_int_equal(store_lease(b, "example.com", 1029, 30), 0);
	/* Not held by a again either: one fetch per lease. */
	assert_int_equal(store_lease(a, "example.com", 1010, 30), 0);
	/* Another domain is free. */
	assert_int_equal(store_lease(b, "example.net", 1000, 30), 1);
	/* Expired: b takes it over. */
	assert_int_equal(store_lease(b, "example.com", 1030, 30), 1);
	/* a's release must not drop b's lease. */
	assert_int_equal(store_release(a, "example.com"), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1031, 30), 0);
	/* b releases: a gets it at once. */
	assert_int_equal(store_release(b, "example.com"), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1032, 30), 1);
	store_close(a);
	store_close(b);
	assert_int_equal(f->cap.nerr, 0);
}

/*
 * A fetched policy is stored and the lease dropped in one commit; a
 * lease held by another handle is left alone, and the row is still
 * written.
 */
static void
test_put_release(void **state)
{
	struct fixture		*f = *state;
	struct store		*a, *b;
	struct store_policy	 in, out;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &a), MTASTS_OK);
	assert_int_equal(store_open(f->path, 1000, &f->lg, &b), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1000, 30), 1);
	policy_fill(&in, "example.com", "20240101T000000",
	    "version: STSv1\nmode: testing\nmx: mx.example.com\n"
	    "max_age: 86400\n", 1000);
	assert_int_equal(store_put_release(a, &in), MTASTS_OK);
	assert_int_equal(store_get(b, "example.com", &out), MTASTS_OK);
	assert_string_equal(out.id, "20240101T000000");
	assert_string_equal(out.text, in.text);
	store_policy_clear(&out);
	/* released: b leases it at once, well inside a's 30 s */
	assert_int_equal(store_lease(b, "example.com", 1001, 30), 1);
	/* a's put_release must not drop b's lease */
	policy_fill(&in, "example.com", "20240102T000000",
	    "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
	    "max_age: 86400\n", 1002);
	assert_int_equal(store_put_release(a, &in), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1003, 30), 0);
	assert_int_equal(store_get(a, "example.com", &out), MTASTS_OK);
	assert_string_equal(out.id, "20240102T000000");
	store_policy_clear(&out);
	/* a bad row changes nothing, and the transaction is closed */
	in.domain[0] = '\0';
	assert_int_equal(store_put_release(b, &in), MTASTS_EINVAL);
	assert_int_equal(store_release(b, "example.com"), MTASTS_OK);
	assert_int_equal(store_lease(a, "example.com", 1004, 30), 1);
	store_close(a);
	store_close(b);
	assert_int_equal(f->cap.nerr, 0);
}

#define RACERS	20

static void
test_lease_race(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	pid_t		 pids[RACERS];
	int		 go[2], i, status, won = 0, lost = 0;
	char		 c;

	/* No database yet: they race to create it too. */
	assert_int_equal(pipe(go), 0);
	for (i = 0; i < RACERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] != 0)
			continue;
		close(go[1]);
		/* Everyone starts when the parent closes the pipe. */
		if (read(go[0], &c, 1) != 0)
			_exit(4);
		if (store_open(f->path, 10000, &f->lg, &st) != MTASTS_OK) {
			fprintf(stderr, "racer: %s", f->cap.all);
			_exit(3);
		}
		switch (store_lease(st, "cold.example", time(NULL), 60)) {
		case 1:
			_exit(1);
		case 0:
			_exit(0);
		}
		fprintf(stderr, "racer: %s", f->cap.all);
		_exit(2);
	}
	close(go[0]);
	usleep(200000);
	close(go[1]);
	for (i = 0; i < RACERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 1)
			won++;
		else if (WEXITSTATUS(status) == 0)
			lost++;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, RACERS - 1);
}

static void
test_missing_folder(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = (struct store *)1;
	char		 path[256];

	snprintf(path, sizeof(path), "%s/no/such/mtasts.db", f->dir);
	assert_int_equal(store_open(path, 200, &f->lg, &st), MTASTS_ESTORE);
	assert_null(st);
	assert_non_null(strstr(f->cap.last, path));
	assert_non_null(strstr(f->cap.last, "No such file"));
}

static void
test_corrupt(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	char		 junk[4096];
	size_t		 i;
	size_t		 sizes[] = { 4096, 512, 100, 17 };

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		f->cap.last[0] = '\0';
		write_file(f->path, junk, sizes[i]);
		assert_int_equal(store_open(f->path, 200, &f->lg, &st),
		    MTASTS_ESTORE);
		assert_non_null(strstr(f->cap.last, f->path));
		assert_non_null(strstr(f->cap.last, "not a database"));
	}
}

/* A database whose pages are damaged after a valid header. */
static void
test_corrupt_pages(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;
	char			 junk[8192];
	int			 fd, rc;

	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "1", "x", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	store_close(st);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 100), sizeof(junk));
	close(fd);
	rc = store_open(f->path, 200, &f->lg, &st);
	if (rc == MTASTS_OK) {
		rc = store_get(st, "example.com", &out);
		store_policy_clear(&out);
		store_close(st);
	}
	assert_int_equal(rc, MTASTS_ESTORE);
	assert_non_null(strstr(f->cap.last, f->path));
}

static void
test_newer_schema(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;

	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	store_close(st);
	raw_exec(f->path, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->path, 200, &f->lg, &st),
	    MTASTS_ESTORE);
	assert_non_null(strstr(f->cap.last, "schema version 99 is newer"));
	assert_non_null(strstr(f->cap.last, f->path));
}

/* An empty file (another process just created it) becomes a store. */
static void
test_empty_file(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 out;

	write_file(f->path, "", 0);
	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_ENOTFOUND);
	store_close(st);
}

/*
 * Another process holds the write lock: writes wait busy_ms at most;
 * WAL readers are not blocked.
 */
static void
test_locked_write(void **state)
{
	struct fixture		*f = *state;
	struct store		*st, *st2;
	struct store_policy	 in, out;
	sqlite3			*db;
	double			 t;

	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "1", "x", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE; DELETE FROM "
	    "policies", NULL, NULL, NULL), SQLITE_OK);

	t = now_s();
	assert_int_equal(store_put(st, &in), MTASTS_ESTORE);
	assert_int_equal(store_touch(st, "example.com", 5), MTASTS_ESTORE);
	assert_int_equal(store_fail(st, "example.com", "2", 5),
	    MTASTS_ESTORE);
	assert_int_equal(store_lease(st, "example.com", 5, 5),
	    MTASTS_ESTORE);
	t = now_s() - t;
	assert_true(t < 4 * 2.0);
	assert_true(t >= 4 * 0.15);	/* it did wait */
	assert_non_null(strstr(f->cap.last, "locked"));
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	store_policy_clear(&out);

	/* Opening while another process writes does not wait. */
	t = now_s();
	assert_int_equal(store_open(f->path, 200, &f->lg, &st2), MTASTS_OK);
	assert_true(now_s() - t < 0.1);
	assert_int_equal(store_get(st2, "example.com", &out), MTASTS_OK);
	store_policy_clear(&out);
	store_close(st2);

	/* The lock goes away: writes work again on the same handle. */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	assert_int_equal(store_lease(st, "example.com", 5, 5), 1);
	store_close(st);
}

/*
 * Another process holds an exclusive lock that keeps readers out too
 * (locking_mode=EXCLUSIVE, taken while nobody else had the file open):
 * open returns within busy_ms.
 */
static void
test_locked_exclusive(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;
	sqlite3			*db;
	double			 t;

	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "1", "x", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	store_close(st);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE;"
	    "BEGIN EXCLUSIVE; DELETE FROM policies", NULL, NULL, NULL),
	    SQLITE_OK);

	t = now_s();
	assert_int_equal(store_open(f->path, 200, &f->lg, &st),
	    MTASTS_ESTORE);
	t = now_s() - t;
	assert_true(t < 2.0);
	assert_non_null(strstr(f->cap.last, f->path));

	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	assert_int_equal(store_get(st, "example.com", &out), MTASTS_OK);
	store_policy_clear(&out);
	store_close(st);
}

static void
ro_file_child(struct fixture *f)
{
	struct store		*st;
	struct store_policy	 in, out;

	if (store_open(f->path, 200, &f->lg, &st) != MTASTS_OK)
		_exit(10);
	if (f->cap.nerr != 0 || strstr(f->cap.all, "read-only") == NULL)
		_exit(15);		/* a warning, not an error */
	if (getenv("TEST_STORE_VERBOSE") != NULL)
		fprintf(stderr, "%s", f->cap.all);
	if (store_get(st, "example.com", &out) != MTASTS_OK ||
	    out.text == NULL || strcmp(out.text, "body") != 0)
		_exit(11);
	store_policy_clear(&out);
	f->cap.nerr = 0;
	policy_fill(&in, "example.net", "1", "x", 1);
	if (store_put(st, &in) != MTASTS_ESTORE ||
	    store_put(st, &in) != MTASTS_ESTORE ||
	    store_touch(st, "example.com", 1) != MTASTS_ESTORE ||
	    store_fail(st, "example.com", "x", 1) != MTASTS_ESTORE ||
	    store_lease(st, "example.com", 1, 1) != MTASTS_ESTORE ||
	    store_forget(st, "example.com") != MTASTS_ESTORE ||
	    store_flush(st) != MTASTS_ESTORE)
		_exit(12);
	if (f->cap.nerr != 1)		/* one line, not one per call */
		_exit(13);
	if (store_get(st, "example.com", &out) != MTASTS_OK)
		_exit(14);
	store_policy_clear(&out);
	store_close(st);
}

static void
ro_setup(struct fixture *f)
{
	struct store		*st;
	struct store_policy	 in;

	assert_int_equal(store_open(f->path, 200, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "1", "body", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	store_close(st);
}

/* The file is read-only, its folder writable (-wal, -shm can be made). */
static void
test_readonly_file(void **state)
{
	struct fixture	*f = *state;

	ro_setup(f);
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(chmod(f->path, 0444), 0);
	assert_int_equal(as_nobody(ro_file_child, f), 0);
}

/* The file is writable, its folder is not. */
static void
test_readonly_folder(void **state)
{
	struct fixture	*f = *state;

	ro_setup(f);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(chmod(f->dir, 0555), 0);
	assert_int_equal(as_nobody(ro_file_child, f), 0);
}

/* Both read-only: a store made by root, read by the MTA user. */
static void
test_readonly_both(void **state)
{
	struct fixture	*f = *state;

	ro_setup(f);
	assert_int_equal(chmod(f->path, 0444), 0);
	assert_int_equal(chmod(f->dir, 0555), 0);
	assert_int_equal(as_nobody(ro_file_child, f), 0);
}

static void
denied_child(struct fixture *f)
{
	struct store	*st;

	if (store_open(f->path, 200, &f->lg, &st) != MTASTS_ESTORE)
		_exit(20);
	if (strstr(f->cap.last, f->path) == NULL)
		_exit(21);
}

/* No file, and a folder the user cannot write: nothing to read. */
static void
test_readonly_no_file(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(chmod(f->dir, 0555), 0);
	assert_int_equal(as_nobody(denied_child, f), 0);
}

/*
 * The policy was cached and every process closed the store (so SQLite
 * removed its -shm file); then the disk filled up. SQLite cannot make
 * the -shm file again, so read-write and read-only opens fail with
 * "disk I/O error": the store must still open, read the policy, and
 * refuse writes cleanly.
 */
static void
full_open_child(struct fixture *f)
{
	struct store		*st;
	struct store_policy	 in, out;

	if (store_open(f->path, 200, &f->lg, &st) != MTASTS_OK)
		_exit(10);
	policy_fill(&in, "enforce.test", "1", "mode: enforce", 1);
	if (store_put(st, &in) != MTASTS_OK)
		_exit(11);
	store_close(st);
	disk_fill(f);
	memset(&f->cap, 0, sizeof(f->cap));
	if (store_open(f->path, 200, &f->lg, &st) != MTASTS_OK)
		_exit(12);
	if (getenv("TEST_STORE_VERBOSE") != NULL)
		fprintf(stderr, "%s", f->cap.all);
	if (f->cap.nerr != 0 || strstr(f->cap.all, "immutable") == NULL ||
	    strstr(f->cap.all, "I/O error") == NULL)
		_exit(13);		/* a warning naming mode and cause */
	if (store_get(st, "enforce.test", &out) != MTASTS_OK ||
	    out.text == NULL || strcmp(out.text, "mode: enforce") != 0)
		_exit(14);
	store_policy_clear(&out);
	policy_fill(&in, "other.test", "1", "x", 1);
	if (store_put(st, &in) != MTASTS_ESTORE ||
	    store_touch(st, "enforce.test", 5) != MTASTS_ESTORE ||
	    store_lease(st, "enforce.test", 5, 5) != MTASTS_ESTORE ||
	    store_tlsrpt_spool(st) != NULL)
		_exit(15);
	if (f->cap.nerr != 1)		/* said once */
		_exit(16);
	if (store_get(st, "enforce.test", &out) != MTASTS_OK)
		_exit(17);
	store_policy_clear(&out);
	store_close(st);
}

static void
test_full_disk_open(void **state)
{
	int	rc;

	rc = on_tmpfs(full_open_child, *state);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

/*
 * The store is open (its -shm file exists) when the disk fills up:
 * writes fail with SQLITE_FULL, logged once, and reads go on; once
 * there is room again, writes work on the same handle.
 */
static void
full_midrun_child(struct fixture *f)
{
	struct store		*st;
	struct store_policy	 in, out;
	char			 id[8];
	int			 i, rc = MTASTS_OK;

	if (store_open(f->path, 200, &f->lg, &st) != MTASTS_OK)
		_exit(20);
	policy_fill(&in, "enforce.test", "1", "mode: enforce", 1);
	if (store_put(st, &in) != MTASTS_OK)
		_exit(21);
	disk_fill(f);
	memset(&f->cap, 0, sizeof(f->cap));
	/* the WAL may still hold a few pages: write until it is full */
	for (i = 0; i < 2000 && rc == MTASTS_OK; i++) {
		snprintf(id, sizeof(id), "%u", (unsigned)i % 10000);
		policy_fill(&in, "enforce.test", id, "mode: enforce", 1);
		rc = store_put(st, &in);
	}
	if (rc != MTASTS_ESTORE)
		_exit(22);
	if (store_touch(st, "enforce.test", 5) != MTASTS_ESTORE ||
	    store_lease(st, "enforce.test", 5, 5) != MTASTS_ESTORE ||
	    store_put_release(st, &in) != MTASTS_ESTORE ||
	    store_flush(st) != MTASTS_ESTORE)
		_exit(23);
	if (getenv("TEST_STORE_VERBOSE") != NULL)
		fprintf(stderr, "%s", f->cap.all);
	if (f->cap.nerr != 1 || strstr(f->cap.all, "full") == NULL)
		_exit(24);		/* said once, with the cause */
	if (store_get(st, "enforce.test", &out) != MTASTS_OK ||
	    out.text == NULL || strcmp(out.text, "mode: enforce") != 0)
		_exit(25);
	store_policy_clear(&out);
	disk_free(f);
	policy_fill(&in, "other.test", "1", "x", 1);
	if (store_put(st, &in) != MTASTS_OK ||
	    store_lease(st, "enforce.test", 5, 5) != 1 ||
	    store_get(st, "other.test", &out) != MTASTS_OK)
		_exit(26);
	store_policy_clear(&out);
	store_close(st);
}

static void
test_full_disk_midrun(void **state)
{
	int	rc;

	rc = on_tmpfs(full_midrun_child, *state);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

/*
 * Many warm store_get() calls on one handle (its statement is kept and
 * reused) give the same row each time, also after a write in between.
 * What a call costs is a figure, in bench/bench_store.c.
 */
static void
test_get_repeated(void **state)
{
	struct fixture		*f = *state;
	struct store		*st;
	struct store_policy	 in, out;
	int			 i;

	assert_int_equal(store_open(f->path, 1000, &f->lg, &st), MTASTS_OK);
	policy_fill(&in, "example.com", "20240101", "version: STSv1\n"
	    "mode: enforce\nmx: mx.example.com\nmax_age: 86400\n", 1);
	assert_int_equal(store_put(st, &in), MTASTS_OK);
	for (i = 0; i < 1000; i++) {
		if (i == 500) {
			assert_int_equal(store_touch(st, "example.com", 77),
			    MTASTS_OK);
		}
		assert_int_equal(store_get(st, "example.com", &out),
		    MTASTS_OK);
		assert_string_equal(out.id, "20240101");
		assert_string_equal(out.text, in.text);
		assert_int_equal(out.checked, i < 500 ? in.checked : 77);
		store_policy_clear(&out);
	}
	assert_int_equal(f->cap.nerr, 0);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_roundtrip),
		T(test_file_mode),
		T(test_schema),
		T(test_get_missing),
		T(test_put_replaces),
		T(test_touch),
		T(test_fail),
		T(test_forget_flush),
		T(test_list),
		T(test_lease),
		T(test_put_release),
		T(test_lease_race),
		T(test_missing_folder),
		T(test_corrupt),
		T(test_corrupt_pages),
		T(test_newer_schema),
		T(test_empty_file),
		T(test_locked_write),
		T(test_locked_exclusive),
		T(test_readonly_file),
		T(test_readonly_folder),
		T(test_readonly_both),
		T(test_readonly_no_file),
		T(test_full_disk_open),
		T(test_full_disk_midrun),
		T(test_get_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
