/*
 * main.c - filter-mtasts(8): an smtpd(8) filter that keeps the routing
 * table of MTA-STS (RFC 8461) policy domains, which smtpd hands to
 * mtasts-relay(8), and records TLS-RPT results of the domains without a
 * policy. Options, the engine context, the libevent
 * loop over smtpd's pipe and the engine's descriptor, and the log.
 *
 * Answers to smtpd are buffered (proto.c): the first line queued in a
 * loop iteration makes ev_flush active, which libevent runs after the
 * callbacks already active in that iteration, so each batch of input
 * and of engine callbacks is answered with one write(2).
 *
 * The loop ends only when smtpd closes our stdin (or stdout): bad input,
 * store and resolver failures are logged and survived, because smtpd
 * shuts down when its filter exits.
 */
#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "filter.h"
#include "proto.h"
#include "table.h"

#define DEFAULT_TABLE	"/var/lib/mtasts/enforce.db"
#define DEFAULT_REFRESH	600	/* seconds between refresh passes */

struct filter	filter;

static enum mtasts_loglevel	log_level = MTASTS_LOG_INFO;
static int			log_syslog;
static char			inbuf[PROTO_LINE_MAX + 1];
static size_t			inlen;
static int			indiscard;	/* inside an overlong line */
static struct event		ev_stdin, ev_engine, ev_flush;

static void	 usage(void) __attribute__((noreturn));
static void	 main_log_cb(void *, enum mtasts_loglevel, const char *);
static void	 main_on_stdin(int, short, void *);
static void	 main_on_engine(int, short, void *);
static void	 main_on_pending(void);
static void	 main_on_flush(int, short, void *);
static void	 main_lines(void);
static void	 main_line(char *);

static void
usage(void)
{
	fprintf(stderr, "usage: filter-mtasts [-ISv] [-c conf] [-r seconds]"
	    " [-t table]\n");
	exit(2);
}

void
filter_log(enum mtasts_loglevel level, const char *fmt, ...)
{
	static const char	*const names[] = { "error", "warning", "info",
				    "debug" };
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	char			 msg[2048];
	va_list			 ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(prio[level], "%s", msg);
	else
		fprintf(stderr, "filter-mtasts: %s: %s\n", names[level], msg);
}

static void
main_log_cb(void *arg, enum mtasts_loglevel level, const char *msg)
{
	filter_log(level, "engine: %s", msg);
}

void
filter_stop(void)
{
	event_base_loopbreak(filter.base);
}

/* One line from smtpd: dispatch it, or log why it is ignored. */
static void
main_line(char *line)
{
	struct proto_line	l;

	proto_parse(line, &l);
	switch (l.kind) {
	case PROTO_BAD:
		filter_log(MTASTS_LOG_WARN, "ignored input line (%s)", l.why);
		break;
	case PROTO_CONFIG:
	case PROTO_CONFIG_READY:
		break;
	case PROTO_FILTER:
		if (l.incoming && strcmp(l.event, "rcpt-to") == 0)
			rcpt_on_filter(&l);
		else
			filter_log(MTASTS_LOG_WARN, "ignored %s filter event "
			    "%s: not registered", l.incoming ? "smtp-in" :
			    "smtp-out", l.event);
		break;
	case PROTO_REPORT:
		if (!l.incoming)
			smtpout_on_report(&l);
		else if (strcmp(l.event, "link-disconnect") == 0)
			rcpt_on_disconnect(l.reqid);
		else if (strcmp(l.event, "tx-mail") == 0)
			rcpt_on_mail(&l);
		break;
	}
}

/* Splits inbuf into lines; an overlong line is dropped whole. */
static void
main_lines(void)
{
	char	*start = inbuf, *nl;
	size_t	 left;

	while ((nl = memchr(start, '\n', inlen - (size_t)(start - inbuf)))) {
		*nl = '\0';
		if (indiscard)
			indiscard = 0;
		else if (memchr(start, '\0', (size_t)(nl - start)) != NULL)
			filter_log(MTASTS_LOG_WARN, "ignored input line "
			    "(NUL byte)");
		else
			main_line(start);
		start = nl + 1;
	}
	left = inlen - (size_t)(start - inbuf);
	if (left == sizeof(inbuf) - 1) {
		if (!indiscard)
			filter_log(MTASTS_LOG_WARN, "ignored input line "
			    "(longer than %d bytes)", PROTO_LINE_MAX);
		indiscard = 1;
		left = 0;
	}
	memmove(inbuf, start, left);
	inlen = left;
}

static void
main_on_stdin(int fd, short what, void *arg)
{
	ssize_t	n;

	n = read(fd, inbuf + inlen, sizeof(inbuf) - 1 - inlen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (n == -1)
			filter_log(MTASTS_LOG_ERR, "reading from smtpd: %s",
			    strerror(errno));
		filter_stop();
		return;
	}
	inlen += (size_t)n;
	main_lines();
}

static void
main_on_engine(int fd, short what, void *arg)
{
	int	rc;

	if ((rc = mtasts_async_process(filter.ctx)) != MTASTS_OK)
		filter_log(MTASTS_LOG_WARN, "engine: %s", mtasts_strerror(rc));
}

/* The first line was queued: write it (and what follows) this iteration. */
static void
main_on_pending(void)
{
	event_active(&ev_flush, EV_TIMEOUT, 1);
}

static void
main_on_flush(int fd, short what, void *arg)
{
	if (proto_flush() == -1)
		filter_stop();
}

int
main(int argc, char *argv[])
{
	struct mtasts_diag	 diag;
	const char		*conf = NULL, *tpath = DEFAULT_TABLE;
	unsigned		 refresh = DEFAULT_REFRESH;
	int			 ch, init = 0, fd, rc;
	char			*end;

	while ((ch = getopt(argc, argv, "c:Ir:St:v")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'I':
			init = 1;
			break;
		case 'r':
			refresh = (unsigned)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0')
				usage();
			break;
		case 'S':
			log_syslog = 1;
			openlog("filter-mtasts", LOG_PID, LOG_MAIL);
			break;
		case 't':
			tpath = optarg;
			break;
		case 'v':
			log_level = MTASTS_LOG_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	if ((filter.table = table_open(tpath)) == NULL) {
		filter_log(MTASTS_LOG_ERR, "out of memory");
		return 1;
	}
	if (init)
		return table_write(filter.table) == 0 ? 0 : 1;

	memset(&diag, 0, sizeof(diag));
	rc = mtasts_ctx_open(conf, main_log_cb, NULL, log_level, &filter.ctx,
	    &diag);
	if (rc != MTASTS_OK) {
		/* smtpd cannot start without its filter: say why, plainly */
		filter_log(MTASTS_LOG_ERR, "%s: line %u: %s", conf ? conf :
		    MTASTS_DEFAULT_CONF, diag.error.line, diag.error.msg[0] ?
		    diag.error.msg : mtasts_strerror(rc));
		return 1;
	}
	if ((filter.base = event_init()) == NULL) {
		filter_log(MTASTS_LOG_ERR, "cannot start libevent");
		return 1;
	}
	event_set(&ev_stdin, STDIN_FILENO, EV_READ | EV_PERSIST,
	    main_on_stdin, NULL);
	event_add(&ev_stdin, NULL);
	if ((fd = mtasts_async_fd(filter.ctx)) == -1) {
		filter_log(MTASTS_LOG_ERR, "engine: no event descriptor");
		return 1;
	}
	event_set(&ev_engine, fd, EV_READ | EV_PERSIST, main_on_engine, NULL);
	event_add(&ev_engine, NULL);
	event_set(&ev_flush, -1, 0, main_on_flush, NULL);
	proto_on_pending(main_on_pending);
	if (refresh > 0)
		refresh_start(refresh);

	if (proto_register() == -1)
		return 0;
	filter_log(MTASTS_LOG_INFO, "started; routing table %s", tpath);
	event_dispatch();

	proto_flush();
	filter_log(MTASTS_LOG_INFO, "smtpd closed the pipe; exiting");
	refresh_stop();
	event_del(&ev_engine);
	event_del(&ev_stdin);
	/* answers what is in flight (rcpt.c, smtpout.c) before they go */
	filter.closing = 1;
	mtasts_ctx_close(filter.ctx);
	smtpout_close();
	rcpt_close();
	table_close(filter.table);
	return 0;
}
