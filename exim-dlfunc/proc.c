/*
 * proc.c - the engine context of one Exim process and the answer it
 * last gave.
 *
 * Exim dlopen()s mtasts.so once per process and keeps it; every delivery
 * is a new process, forked from a queue runner or the daemon, and each
 * transport run is forked again from the delivery process. So:
 *  - one context per process, opened by the first call that needs it;
 *  - an open SQLite connection must not cross a fork: the context is
 *    closed in the parent just before a fork (pthread_atfork) made while
 *    no call of ours runs, as when Exim forks a transport. Exim also
 *    forks inside our calls (log_write() creating a log file as the
 *    Exim user): then the context stays, and a child that inherited one
 *    (a pid mismatch) abandons it, never using or closing it, and opens
 *    its own;
 *  - the last answer is kept for PROC_MEMO_SECONDS: the router's
 *    address_data (asked twice), the transport's TLS options and the
 *    events of one delivery then cost one store read between them, and a
 *    transport process inherits the router's answer without reading.
 * Log lines go to Exim's main log through log_write(); engine debug
 * lines go to Exim's debug output when Exim runs with -d.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DLFUNC_IMPL
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <local_scan.h>
#pragma GCC diagnostic pop

#include "exim.h"

static int	 proc_open(const char *);
static void	 proc_drop(void);
static void	 proc_prefork(void);
static void	 proc_engine_log(void *, enum mtasts_loglevel, const char *);
static int	 proc_memo_hit(const char *, const char *);

static struct mtasts_ctx	*ctx;		/* this process's context */
static pid_t			 ctx_pid;	/* who opened it */
static char			 ctx_conf[1024];/* with which file ("") */
static char			 last_conf[1024];/* of the last call with one */
static int			 ctx_quiet;	/* closing: no log lines */
static int			 atfork_set;
static int			 busy;		/* inside one of our calls */
static char			 last_error[MTASTS_DIAG_MSG + 64];
static int			 config_logged;

static struct {
	int			 valid;
	char			 conf[sizeof(ctx_conf)];
	char			 domain[MTASTS_NAME_MAX + 1];
	time_t			 at;
	struct mtasts_answer	 ans;
} memo;

int
proc_answer(const char *conf, const char *domain,
    const struct mtasts_answer **ans)
{
	int	 rc;

	if (conf == NULL)
		conf = last_conf;
	else
		snprintf(last_conf, sizeof(last_conf), "%s", conf);
	if (proc_memo_hit(conf, domain)) {
		*ans = &memo.ans;
		return MTASTS_OK;
	}
	busy++;
	if ((rc = proc_open(conf)) != MTASTS_OK) {
		busy--;
		return rc;
	}
	if (memo.valid)
		mtasts_answer_clear(&memo.ans);
	memo.valid = 0;
	rc = mtasts_resolve(ctx, domain, &memo.ans);
	busy--;
	if (rc != MTASTS_OK) {
		snprintf(last_error, sizeof(last_error), "%s: %s", domain,
		    mtasts_strerror(rc));
		return rc;
	}
	memo.valid = 1;
	memo.at = time(NULL);
	snprintf(memo.conf, sizeof(memo.conf), "%s", conf);
	snprintf(memo.domain, sizeof(memo.domain), "%s", domain);
	*ans = &memo.ans;
	return MTASTS_OK;
}

const char *
proc_expand(const char *s)
{
	uschar	*out;

	busy++;
	out = expand_string(US s);
	busy--;
	return out != NULL ? CS out : NULL;
}

const char *
proc_sender(void)
{
	return sender_address != NULL ? CS sender_address : "";
}

int
proc_record(const struct mtasts_tlsrpt_result *res)
{
	int	 rc;

	busy++;
	if ((rc = proc_open(last_conf)) == MTASTS_OK)
		rc = mtasts_tlsrpt_record(ctx, res);
	busy--;
	return rc;
}

const char *
proc_error(void)
{
	return last_error[0] != '\0' ? last_error : "unknown error";
}

void
proc_log(enum xlog where, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_write(0, where == XLOG_PANIC ? LOG_MAIN | LOG_PANIC : LOG_MAIN,
	    "mtasts: %s", buf);
}

/* The kept answer, when it is for this domain, file and still young. */
static int
proc_memo_hit(const char *conf, const char *domain)
{
	time_t	 now = time(NULL);

	if (!memo.valid || strcmp(memo.conf, conf) != 0 ||
	    strcasecmp(memo.domain, domain) != 0)
		return 0;
	return now >= memo.at && now - memo.at < PROC_MEMO_SECONDS;
}

/* The context for conf, opened now when this process has none. */
static int
proc_open(const char *conf)
{
	struct mtasts_diag	 diag;
	enum mtasts_loglevel	 level;
	int			 rc;

	if (ctx != NULL && ctx_pid != getpid())
		ctx = NULL;		/* inherited: abandon, never touch */
	if (ctx != NULL && strcmp(ctx_conf, conf) == 0)
		return MTASTS_OK;
	proc_drop();
	if (!atfork_set && pthread_atfork(proc_prefork, NULL, NULL) == 0)
		atfork_set = 1;
	level = debug_selector != 0 ? MTASTS_LOG_DEBUG : MTASTS_LOG_WARN;
	rc = mtasts_ctx_open(conf[0] != '\0' ? conf : NULL, proc_engine_log,
	    NULL, level, &ctx, &diag);
	if (rc != MTASTS_OK) {
		ctx = NULL;
		snprintf(last_error, sizeof(last_error),
		    "configuration %s: %s%s%s", conf[0] != '\0' ? conf :
		    MTASTS_DEFAULT_CONF, mtasts_strerror(rc),
		    diag.error.msg[0] != '\0' ? ": " : "", diag.error.msg);
		if (!config_logged++)
			proc_log(XLOG_PANIC, "%s", last_error);
		return rc;
	}
	ctx_pid = getpid();
	snprintf(ctx_conf, sizeof(ctx_conf), "%s", conf);
	return MTASTS_OK;
}

/* Closes this process's own context (an inherited one is left alone). */
static void
proc_drop(void)
{
	if (ctx != NULL && ctx_pid == getpid()) {
		ctx_quiet = 1;
		mtasts_ctx_close(ctx);
		ctx_quiet = 0;
	}
	ctx = NULL;
	ctx_conf[0] = '\0';
}

/* Before fork(): no SQLite connection or resolver crosses it, unless
 * the fork comes from within our own call (see the top). */
static void
proc_prefork(void)
{
	if (!busy)
		proc_drop();
}

static void
proc_engine_log(void *arg, enum mtasts_loglevel level, const char *msg)
{
	if (ctx_quiet)
		return;
	if (level == MTASTS_LOG_DEBUG) {
		if (debug_selector != 0)
			debug_printf("mtasts: %s\n", msg);
		return;
	}
	log_write(0, LOG_MAIN, "mtasts: %s", msg);
}
