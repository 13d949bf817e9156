/*
 * report_send.c - "mtasts report send": deliver each built report to
 * every rua of its state file (RFC 8460 section 5).
 *
 * mailto: the report goes to the local MTA as
 *	sendmail -oi -f tlsrpt-noreply@SUBMITTER -- ADDRESS
 * with the message on standard input: multipart/report;
 * report-type="tlsrpt", the headers TLS-Report-Domain and
 * TLS-Report-Submitter, the subject "Report Domain: D Submitter: S
 * Report-ID: <ID>" (section 5.3), a short text/plain part and the
 * report as an application/tlsrpt+gzip attachment in base64. Exit
 * status 0 is success: from then on delivery is the MTA's job. A
 * sendmail that has not read the message and exited within
 * sendmail_timeout is killed with its process group: a failed try. The
 * envelope sender is what the adapters recognise to exempt report mail
 * from MTA-STS holds (section 3: reports must be delivered despite TLS
 * failures). DKIM signing is the MTA's (etc/tlsrpt-dkim.md).
 *
 * https: POST with Content-Type application/tlsrpt+gzip (post.c);
 * 200 or 201 is success.
 *
 * A failure is retried on later runs, after a back-off of 5 minutes
 * doubling to at most 4 hours, until 24 hours after the report was
 * built; then the rua is given up. A malformed rua is logged and
 * skipped for good.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/mime.h"
#include "net/post.h"
#include "engine/ctx.h"
#include "tlsrpt/rstate.h"

#define SEND_GIVEUP	86400		/* retry for up to 24 hours */
#define SEND_BACKOFF	300		/* first retry after 5 minutes */
#define SEND_BACKOFF_MAX 14400		/* at most 4 hours apart */
#define SEND_MAX_FILE	(64 * 1024 * 1024)

extern char **environ;

struct send_job {
	struct mtasts_ctx	*ctx;
	const struct rstate	*st;
	const char		*file;		/* attachment file name */
	const char		*gz;		/* the report */
	size_t			 gzlen;
	char			 sub[MTASTS_NAME_MAX + 1];
	char			 from[MTASTS_NAME_MAX + 32];
};

struct send_count {
	unsigned	sent, failed, pending;
};

static int	send_report(struct mtasts_ctx *, const char *, const char *,
		    unsigned, struct send_count *);
static int	send_rua(struct send_job *, struct rstate_rua *, time_t,
		    unsigned, struct send_count *);
static int	send_mail(struct send_job *, const char *, char *, size_t);
static int	send_mail_addr(const char *, char *, size_t);
static char	*send_message(struct send_job *, const char *);
static int	send_spawn(struct send_job *, const char *, const char *,
		    char *, size_t);
static int	send_start(struct send_job *, const char *, pid_t *, int *,
		    char *, size_t);
static int	send_blocking(int);
static size_t	send_write(int, const char *, size_t, uint64_t);
static int	send_wait(pid_t, uint64_t, int *);
static int	send_poll_ms(uint64_t);
static uint64_t	send_now_ms(void);
static int	send_read_file(const char *, char **, size_t *);
static int	send_due(const struct rstate_rua *, time_t);

int
mtasts_report_send(struct mtasts_ctx *ctx, unsigned flags, unsigned *nsent,
    unsigned *nfailed, unsigned *npending)
{
	struct send_count	  c;
	struct dirent		**ents = NULL;
	const char		 *dir;
	size_t			  len;
	int			  n, i, rc = MTASTS_OK, r;

	memset(&c, 0, sizeof(c));
	if (ctx == NULL)
		return MTASTS_EINVAL;
	dir = ctx->conf->report_dir;
	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		if (errno == ENOENT) {
			log_info(&ctx->log, "report: %s does not exist: "
			    "nothing to send", dir);
			n = 0;
		} else {
			log_err(&ctx->log, "report: %s: %s", dir,
			    strerror(errno));
			return MTASTS_EIO;
		}
	}
	for (i = 0; i < n; i++) {
		len = strlen(ents[i]->d_name);
		if (rc != MTASTS_ENOMEM && len > 6 &&
		    strcmp(ents[i]->d_name + len - 6, ".state") == 0 &&
		    (r = send_report(ctx, dir, ents[i]->d_name, flags, &c)) !=
		    MTASTS_OK)
			rc = r;
		free(ents[i]);
	}
	free(ents);
	if (nsent != NULL)
		*nsent = c.sent;
	if (nfailed != NULL)
		*nfailed = c.failed;
	if (npending != NULL)
		*npending = c.pending;
	return rc;
}

static int
send_report(struct mtasts_ctx *ctx, const char *dir, const char *name,
    unsigned flags, struct send_count *c)
{
	struct send_job	 job;
	struct rstate	 st;
	char		 spath[4096], gpath[4096], file[1024];
	char		*gz = NULL;
	size_t		 i, base = strlen(name) - 6;
	time_t		 now = time(NULL);
	int		 rc, dirty = 0, pending = 0;

	snprintf(spath, sizeof(spath), "%s/%s", dir, name);
	snprintf(file, sizeof(file), "%.*s.json.gz", (int)base, name);
	snprintf(gpath, sizeof(gpath), "%s/%s", dir, file);
	if ((rc = rstate_load(spath, &st)) != MTASTS_OK) {
		log_err(&ctx->log, "report: %s: unreadable state: %s", spath,
		    mtasts_strerror(rc));
		return rc;
	}
	for (i = 0; i < st.nrua; i++)
		pending |= st.rua[i].status == RSTATE_PENDING;
	if (!pending)
		goto done;
	memset(&job, 0, sizeof(job));
	if ((rc = send_read_file(gpath, &gz, &job.gzlen)) != MTASTS_OK) {
		log_err(&ctx->log, "report: cannot read %s: %s", gpath,
		    strerror(errno));
		goto done;
	}
	job.ctx = ctx;
	job.st = &st;
	job.file = file;
	job.gz = gz;
	snprintf(job.sub, sizeof(job.sub), "%.*s", (int)strcspn(name, "!"),
	    name);
	snprintf(job.from, sizeof(job.from), "%s@%s", MTASTS_REPORT_SENDER,
	    job.sub);
	for (i = 0; i < st.nrua; i++) {
		if (st.rua[i].status != RSTATE_PENDING)
			continue;
		if (send_rua(&job, &st.rua[i], now, flags, c) == MTASTS_ENOMEM)
			rc = MTASTS_ENOMEM;
		dirty = 1;
	}
	if (dirty && rstate_save(spath, &st) != MTASTS_OK) {
		log_err(&ctx->log, "report: cannot write %s: %s", spath,
		    strerror(errno));
		rc = MTASTS_EIO;
	}
done:
	free(gz);
	rstate_clear(&st);
	return rc;
}

/* May this pending rua be tried now? */
static int
send_due(const struct rstate_rua *rua, time_t now)
{
	time_t		wait = SEND_BACKOFF;
	unsigned	i;

	if (rua->attempts == 0)
		return 1;
	for (i = 1; i < rua->attempts && wait < SEND_BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > SEND_BACKOFF_MAX)
		wait = SEND_BACKOFF_MAX;
	return now - rua->last >= wait;
}

static int
send_rua(struct send_job *job, struct rstate_rua *rua, time_t now,
    unsigned flags, struct send_count *c)
{
	const struct rstate	*st = job->st;
	struct mtasts_ctx	*ctx = job->ctx;
	char			 err[MTASTS_DIAG_MSG];
	int			 rc;

	if (now - st->built >= SEND_GIVEUP) {
		log_warn(&ctx->log, "report %s for %s: not delivered to %s "
		    "within 24 hours (%u tries): given up", st->report_id,
		    st->domain, rua->uri, rua->attempts);
		rua->status = RSTATE_EXPIRED;
		c->failed++;
		return MTASTS_OK;
	}
	if (!(flags & MTASTS_SEND_NOW) && !send_due(rua, now)) {
		c->pending++;
		return MTASTS_OK;
	}
	err[0] = '\0';
	if (strncasecmp(rua->uri, "mailto:", 7) == 0)
		rc = send_mail(job, rua->uri, err, sizeof(err));
	else if (strncasecmp(rua->uri, "https:", 6) == 0)
		rc = post_https(ctx->conf, &ctx->log, ctx_net(ctx),
		    ctx_dns(ctx), rua->uri, job->gz, job->gzlen,
		    "application/tlsrpt+gzip", err, sizeof(err));
	else
		rc = MTASTS_EINVAL;
	if (rc == MTASTS_OK) {
		log_info(&ctx->log, "report %s for %s: delivered to %s",
		    st->report_id, st->domain, rua->uri);
		rua->status = RSTATE_SENT;
		c->sent++;
	} else if (rc == MTASTS_EINVAL) {
		log_warn(&ctx->log, "report %s for %s: malformed rua %s "
		    "skipped", st->report_id, st->domain, rua->uri);
		rua->status = RSTATE_BAD;
		c->failed++;
	} else {
		rua->attempts++;
		rua->last = now;
		log_warn(&ctx->log, "report %s for %s: delivery to %s failed "
		    "(try %u): %s; will retry", st->report_id, st->domain,
		    rua->uri, rua->attempts, err[0] ? err :
		    mtasts_strerror(rc));
		c->pending++;
	}
	return rc == MTASTS_ENOMEM ? rc : MTASTS_OK;
}

/*
 * mailto:ADDR[?hfields] (RFC 6068) to one address: percent-decoded,
 * local@domain, nothing a command line or a header could misread.
 */
static int
send_mail_addr(const char *uri, char *out, size_t size)
{
	const char	*p = uri + 7, *at;
	size_t		 n = 0;
	unsigned	 v;
	char		 norm[MTASTS_NAME_MAX + 1];

	for (; *p != '\0' && *p != '?' && n + 1 < size; p++) {
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1 &&
		    p[1] != '\0' && p[2] != '\0') {
			out[n++] = (char)v;
			p += 2;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	if (n == 0 || n + 1 >= size || out[0] == '-' ||
	    strpbrk(out, " \t\r\n<>,;:\"()[]\\") != NULL ||
	    (at = strrchr(out, '@')) == NULL || at == out ||
	    strchr(out, '@') != at ||
	    mtasts_name_normalize(at + 1, 0, norm) != MTASTS_OK)
		return MTASTS_EINVAL;
	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return MTASTS_EINVAL;
	return MTASTS_OK;
}

static int
send_mail(struct send_job *job, const char *uri, char *err, size_t errsize)
{
	char	 to[512], *msg;
	int	 rc;

	if (send_mail_addr(uri, to, sizeof(to)) != MTASTS_OK)
		return MTASTS_EINVAL;
	if ((msg = send_message(job, to)) == NULL)
		return MTASTS_ENOMEM;
	rc = send_spawn(job, to, msg, err, errsize);
	free(msg);
	return rc;
}

/* The RFC 8460 section 5.3 message, CRLF line ends. */
static char *
send_message(struct send_job *job, const char *to)
{
	const struct rstate	*st = job->st;
	unsigned char		 rnd[12];
	char			*b64, *msg = NULL, date[64], day[32];
	char			 bnd[64];
	struct tm		 tm;
	time_t			 now = time(NULL);

	if (getentropy(rnd, sizeof(rnd)) != 0)
		memset(rnd, 0, sizeof(rnd));
	snprintf(bnd, sizeof(bnd), "=_tlsrpt_%02x%02x%02x%02x%02x%02x%02x"
	    "%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7]);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	gmtime_r(&st->day, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if ((b64 = mime_base64(job->gz, job->gzlen)) == NULL)
		return NULL;
	if (asprintf(&msg,
	    "From: <%s>\r\n"
	    "To: <%s>\r\n"
	    "Date: %s\r\n"
	    "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n"
	    "Message-ID: <%02x%02x%02x%02x.%s>\r\n"
	    "TLS-Report-Domain: %s\r\n"
	    "TLS-Report-Submitter: %s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a TLS report (RFC 8460) in MIME format.\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "This is an aggregate TLS report from %s for %s,\r\n"
	    "UTC day %s.\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename=\"%s\"\r\n"
	    "\r\n"
	    "%s"
	    "\r\n"
	    "--%s--\r\n",
	    job->from, to, date, st->domain, job->sub, st->report_id,
	    rnd[8], rnd[9], rnd[10], rnd[11], st->report_id,
	    st->domain, job->sub, bnd, bnd, job->sub, st->domain, day, bnd,
	    job->file, b64, bnd) == -1)
		msg = NULL;
	free(b64);
	return msg;
}

/*
 * Runs sendmail with the message on a socket as its standard input (a
 * socket, so that an early exit of sendmail gives EPIPE, not SIGPIPE),
 * in a process group of its own. Writing the message and waiting for
 * the exit share one deadline, sendmail_timeout from the start; past it
 * the whole group is killed and the try has failed (MTASTS_ETIMEOUT).
 * err gets the reason of any failure.
 */
static int
send_spawn(struct send_job *job, const char *to, const char *msg,
    char *err, size_t errsize)
{
	struct mtasts_ctx	*ctx = job->ctx;
	const char		*sm = ctx->conf->sendmail;
	size_t			 len = strlen(msg), off;
	uint64_t		 deadline;
	pid_t			 pid;
	int			 fd, status, rc;

	if ((rc = send_start(job, to, &pid, &fd, err, errsize)) != MTASTS_OK)
		return rc;
	deadline = send_now_ms() + ctx->conf->sendmail_timeout;
	off = send_write(fd, msg, len, deadline);
	close(fd);
	rc = send_wait(pid, deadline, &status);
	if (rc == MTASTS_ETIMEOUT)
		snprintf(err, errsize, "%s did not %s within %ums "
		    "(sendmail_timeout): killed", sm, off < len ? "read the "
		    "message" : "exit", ctx->conf->sendmail_timeout);
	else if (rc != MTASTS_OK)
		snprintf(err, errsize, "waiting for %s: %s", sm,
		    strerror(errno));
	else if (off < len)
		snprintf(err, errsize, "%s did not read the message", sm);
	else if (WIFSIGNALED(status))
		snprintf(err, errsize, "%s was killed by signal %d", sm,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(err, errsize, "%s exited with status %d", sm,
		    WEXITSTATUS(status));
	else
		return MTASTS_OK;
	return rc == MTASTS_OK ? MTASTS_EIO : rc;
}

/* Starts sendmail in a new process group; *fd writes its stdin. */
static int
send_start(struct send_job *job, const char *to, pid_t *pid, int *fd,
    char *err, size_t errsize)
{
	const char			*sm = job->ctx->conf->sendmail;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	char				*argv[7];
	int				 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sv) == -1) {
		snprintf(err, errsize, "socketpair: %s", strerror(errno));
		return MTASTS_EIO;
	}
	argv[0] = (char *)(uintptr_t)sm;
	argv[1] = "-oi";
	argv[2] = "-f";
	argv[3] = job->from;
	argv[4] = "--";
	argv[5] = (char *)(uintptr_t)to;
	argv[6] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* sendmail reads a blocking stdin; our end stays non-blocking */
	if ((rc = send_blocking(sv[1])) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, sv[1],
	    STDIN_FILENO)) == 0 &&
	    (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP)) ==
	    0 && (rc = posix_spawnattr_setpgroup(&attr, 0)) == 0)
		rc = posix_spawn(pid, sm, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		snprintf(err, errsize, "cannot run %s: %s", sm, strerror(rc));
		close(sv[0]);
		return MTASTS_EIO;
	}
	*fd = sv[0];
	return MTASTS_OK;
}

/* Clears O_NONBLOCK: 0, or an errno value. */
static int
send_blocking(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return errno;
	return 0;
}

/* Writes what the reader takes before the deadline; returns how much. */
static size_t
send_write(int fd, const char *msg, size_t len, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	size_t		off = 0;
	ssize_t		w;
	int		n;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (off < len && (now = send_now_ms()) < deadline) {
		n = poll(&pfd, 1, send_poll_ms(deadline - now));
		if (n == -1 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		w = send(fd, msg + off, len - off, MSG_NOSIGNAL);
		if (w == -1 && (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (w <= 0)
			break;		/* sendmail closed its stdin */
		off += (size_t)w;
	}
	return off;
}

/*
 * Waits for pid until the deadline, looking every few milliseconds; past
 * it kills its process group and reaps it: MTASTS_ETIMEOUT.
 */
static int
send_wait(pid_t pid, uint64_t deadline, int *status)
{
	struct timespec	ts;
	long		step = 1;	/* ms, doubling to 50 */
	pid_t		r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return MTASTS_OK;
		if (r == -1 && errno != EINTR)
			return MTASTS_EIO;
		if (send_now_ms() >= deadline)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		if (step < 50)
			step *= 2;
	}
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);	/* if the group could not be made */
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return MTASTS_ETIMEOUT;
}

/* A poll(2) timeout for a wait of ms milliseconds. */
static int
send_poll_ms(uint64_t ms)
{
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint64_t
send_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
send_read_file(const char *path, char **buf, size_t *len)
{
	FILE	*fp;
	char	*b;
	long	 size;

	*buf = NULL;
	if ((fp = fopen(path, "re")) == NULL)
		return MTASTS_EIO;
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    size > SEND_MAX_FILE || fseek(fp, 0, SEEK_SET) != 0 ||
	    (b = malloc((size_t)size + 1)) == NULL) {
		fclose(fp);
		return MTASTS_EIO;
	}
	if (fread(b, 1, (size_t)size, fp) != (size_t)size) {
		free(b);
		fclose(fp);
		return MTASTS_EIO;
	}
	fclose(fp);
	*buf = b;
	*len = (size_t)size;
	return MTASTS_OK;
}
